"""The language each reader gets: their own choice, the switcher's, the browser's, English;
the switcher for visitors and for the signed-in; bad input of every kind falls back."""

import re

import flask_migrate
import pytest
from sqlalchemy import func, select, text

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp import create_app, filters, languages
from webapp.extensions import db as _db
from webapp.models import AuditEntry

LANG_RE = re.compile(r'<html lang="([^"]+)"')


def _lang(response) -> str:
    return LANG_RE.search(response.get_data(as_text=True)).group(1)


def _switched(client, code: str):
    return client.get(f"/language/{code}?next=/events")


@pytest.fixture
def member(make, db):
    user = make.user(name="Søren Østergaard")
    db.session.commit()
    return user


# --------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(("header", "expected"), [
    ("el-GR,el;q=0.9,en;q=0.5", "el"),
    ("fr-BE", "fr"),
    ("de-DE,fr;q=0.3", "fr"),
    ("de-DE", "en"),
    ("", "en"),
    # Malformed or hostile: never an error, English.
    ("*;q=oops,,,;;", "en"),
    ("el;q=-1", "en"),
    ("x" * 5000, "en"),
])
def test_the_browsers_language_among_the_offered_ones(client, header, expected):
    response = client.get("/events", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert _lang(response) == expected


def test_the_switchers_choice_beats_the_browsers_and_is_kept(client):
    switched = _switched(client, "el")
    assert switched.status_code == 302 and switched.headers["Location"] == "/events"
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith(f"{languages.COOKIE}=el;") and "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    assert _lang(client.get("/events", headers={"Accept-Language": "fr"})) == "el"


def test_a_signed_in_persons_own_choice_beats_the_switchers_cookie(client, member, db,
                                                                  login_as):
    member.locale = "fr"
    db.session.commit()
    _switched(client, "el")
    login_as(member)
    assert _lang(client.get("/account/registrations", headers={"Accept-Language": "el"})) == "fr"


def test_as_my_browser_says_follows_the_browser(client, member, login_as):
    assert member.locale is None
    login_as(member)
    assert _lang(client.get("/account/registrations", headers={"Accept-Language": "el"})) == "el"


@pytest.mark.parametrize("stored", ["de", "xx-YY", "", "el;DROP"])
def test_a_stored_or_cookie_language_not_offered_counts_as_none(client, member, db, login_as,
                                                               stored):
    member.locale = stored[:10]
    db.session.commit()
    client.set_cookie(languages.COOKIE, stored)
    login_as(member)
    response = client.get("/account/registrations", headers={"Accept-Language": "fr"})
    assert response.status_code == 200 and _lang(response) == "fr"


def test_the_api_reads_the_callers_accept_language(client):
    client.set_cookie(languages.COOKIE, "el")
    with client.application.test_request_context(
            "/api/v1/events", headers={"Accept-Language": "fr"}):
        from flask import request

        request.blueprint  # noqa: B018 - the API's blueprint, as a call sees it
        assert languages.select() == "fr"


# --------------------------------------------------------------------------- the switcher


def test_every_page_offers_each_language_named_in_itself(client):
    page = client.get("/events").get_data(as_text=True)
    switcher = page.split('data-testid="language-choices"')[1].split("</ul>")[0]
    assert 'href="/language/fr?next=/events?"' in switcher
    assert 'lang="el" hreflang="el"' in switcher
    assert "Français" in switcher and "Ελληνικά" in switcher and "English" in switcher
    assert 'aria-current="true"' in switcher.split("English")[0].rsplit("<a", 1)[1]
    # A visitor's page carries no form for it: it stays a page any visitor can be served.
    assert "csrf_token" not in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_the_switcher_goes_back_only_to_this_site(client, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("code", ["de", "xx", "e", "el" * 20, "<script>"])
def test_a_language_not_offered_is_refused_with_a_message_and_no_cookie(client, code):
    response = client.get(f"/language/{code}", query_string={"next": "/events"})
    assert response.status_code == 302
    assert languages.COOKIE not in response.headers.get("Set-Cookie", "")
    page = client.get("/events").get_data(as_text=True)
    assert "Choose a language from the list." in page
    assert _lang(client.get("/events")) == "en"


def test_signed_in_the_switch_becomes_their_own_choice_audited(client, member, db, login_as):
    login_as(member)
    token = csrf_token(client, "/account/registrations")
    response = client.post("/language", data={"language": "el", "next": "/account/profile",
                                              "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/account/profile"
    assert f"{languages.COOKIE}=el;" in response.headers["Set-Cookie"]
    db.session.refresh(member)
    assert member.locale == "el"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "account.updated")).one()
    assert entry.details["changes"] == {"locale": [None, "el"]}
    # Another browser of theirs, which never switched, reads Greek too.
    assert _lang(client.get("/account/registrations", headers={"Accept-Language": "fr"})) == "el"


def test_signed_in_a_language_not_offered_changes_nothing(client, member, db, login_as):
    login_as(member)
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    token = csrf_token(client, "/account/registrations")
    response = client.post("/language", data={"language": "de", "next": "/account/profile",
                                              "csrf_token": token})
    assert response.status_code == 302
    assert languages.COOKIE not in response.headers.get("Set-Cookie", "")
    db.session.refresh(member)
    assert member.locale is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    assert "Choose a language from the list." in client.get(
        "/account/profile").get_data(as_text=True)


def test_signed_in_the_switch_without_its_token_is_refused(client, member, db, login_as):
    login_as(member)
    response = client.post("/language", data={"language": "el"})
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.locale is None


def test_the_profile_offers_as_my_browser_says_and_each_language(client, member, login_as):
    page = login_as(member).get("/account/profile").get_data(as_text=True)
    select_html = page.split('id="locale"')[1].split("</select>")[0]
    assert '<option selected value="">As my browser says</option>' in select_html or (
        '<option value="">As my browser says</option>' in select_html
        and " selected" not in select_html)
    assert '<option lang="el" value="el">Ελληνικά</option>' in select_html


# --------------------------------------------------------------------------- caches


def test_pages_vary_with_the_language_and_a_switch_is_a_fresh_page(client):
    english = client.get("/events")
    assert {"Accept-Language", "Cookie"} <= set(english.vary)
    assert english.headers.get("ETag")
    _switched(client, "fr")
    again = client.get("/events", headers={"If-None-Match": english.headers["ETag"]})
    assert again.status_code == 200 and _lang(again) == "fr"
    assert again.headers["ETag"] != english.headers["ETag"]
    greek = client.get("/events", headers={"If-None-Match": again.headers["ETag"],
                                            "Accept-Language": "el"})
    # The cookie still says French: the switcher's choice beats the browser's.
    assert greek.status_code == 304


def test_signed_in_pages_vary_with_the_language_too(client, member, login_as):
    login_as(member)
    page = client.get("/account/registrations", headers={"Accept-Language": "el"})
    assert {"Accept-Language", "Cookie"} <= set(page.vary) and _lang(page) == "el"
    page = client.get("/account/registrations", headers={"Accept-Language": "fr"})
    assert _lang(page) == "fr"


# --------------------------------------------------------------------------- away from a browser


def test_signing_in_keeps_what_the_browser_reads_for_mail(client, member, db):
    client.set_cookie(languages.COOKIE, "el")
    response = client.post("/login", data={"email": member.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.locale, member.browser_locale) == (None, "el")
    assert languages.of_user(member) == "el"


def test_a_persons_language_away_from_the_browser(app, member):
    with app.app_context():
        assert languages.of_user(member) == "en"
        assert languages.of_user(member, fallback="fr") == "fr"
        member.browser_locale = "el"
        assert languages.of_user(member, fallback="fr") == "el"
        member.locale = "fr"
        assert languages.of_user(member) == "fr"
        member.locale, member.browser_locale = "de", "xx"
        assert languages.of_user(member) == "en"


# --------------------------------------------------------------------------- catalogues


def test_catalogues_are_compiled_once_and_again_when_newer(app, tmp_path, monkeypatch):
    catalogue = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
                         'msgid "Webinars"\nmsgstr "Webinaires"\n', encoding="utf-8")
    monkeypatch.setattr(languages, "CATALOGUES", tmp_path)
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    languages.compile_catalogues(app)
    compiled = tmp_path / "instance" / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"
    first = compiled.stat().st_mtime_ns
    languages.compile_catalogues(app)
    assert compiled.stat().st_mtime_ns == first  # not newer: left alone
    from babel.support import Translations

    with compiled.open("rb") as handle:
        assert Translations(handle).gettext("Webinars") == "Webinaires"


@pytest.mark.sqlite
def test_only_english_chosen_by_default_forgets_it(tmp_path):
    """0022: an "en" its owner never chose becomes unknown (as the browser says); one
    chosen on the profile stays; events get English as their main language."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0021_list_indexes")
        with _db.engine.begin() as conn:
            for user_id in (1, 2):
                conn.execute(text(
                    "INSERT INTO users (id, email, name, phone, timezone, locale, active, "
                    "session_version, calendar_feed_version, application_alerts, created_at, "
                    f"search_key) VALUES ({user_id}, 'u{user_id}@example.org', 'U', '', "
                    "NULL, 'en', true, 1, 1, 'immediate', CURRENT_TIMESTAMP, 'u')"))
            conn.execute(text(
                "INSERT INTO audit_entries (created_at, actor_id, action, subject_type, "
                "subject_id, reason, details) VALUES (CURRENT_TIMESTAMP, 2, "
                "'account.updated', 'user', 2, '', "
                "'{\"changes\": {\"locale\": [\"fr\", \"en\"]}}')"))
        flask_migrate.upgrade()
        with _db.engine.connect() as conn:
            chosen = dict(conn.execute(text("SELECT id, locale FROM users")).all())
        assert chosen == {1: None, 2: "en"}
        _db.engine.dispose()


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("language", "average", "share"), [
    ("en", "4.5", "85%"),
    ("fr", "4,5", "85\xa0%"),
    ("el", "4,5", "85%"),
])
def test_numbers_are_written_as_the_readers_language_writes_them(app, language, average,
                                                                 share):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        assert filters.decimal(4.5, 1) == average
        assert filters.percent(0.85) == share
        assert filters.decimal(1234) == {"en": "1,234", "fr": "1\u202f234",
                                         "el": "1.234"}[language]


# --------------------------------------------------------------------------- ten languages


def test_the_switcher_offers_the_ten_languages_each_named_in_itself(client):
    page = client.get("/events").get_data(as_text=True)
    switcher = page.split('data-testid="language-choices"')[1].split("</ul>")[0]
    for tag, name in (("en", "English"), ("da", "Dansk"), ("el", "Ελληνικά"),
                      ("es", "Español"), ("fi", "Suomi"), ("fr", "Français"),
                      ("it", "Italiano"), ("nl", "Nederlands"), ("pl", "Polski"),
                      ("pt-PT", "Português (Portugal)")):
        assert f'lang="{tag}" hreflang="{tag}"' in switcher and name in switcher, tag


@pytest.mark.parametrize(("header", "tag"), [
    ("pt-PT", "pt-PT"), ("pt", "pt-PT"), ("pt-BR,pt;q=0.8", "pt-PT"),
    ("nl-BE", "nl"), ("es-MX", "es"), ("fi-FI", "fi"), ("pl", "pl"), ("de-DE", "en"),
])
def test_another_region_of_an_offered_language_reads_that_language(client, header, tag):
    assert _lang(client.get("/events", headers={"Accept-Language": header})) == tag


def test_the_switcher_sets_a_language_with_a_region(client):
    assert _lang(_switched(client, "pt_PT") and client.get("/events")) == "pt-PT"


def test_polish_counts_take_its_three_plural_forms(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context(), force_locale("pl"):
        said = [ngettext("%(num)d new application", "%(num)d new applications", n)
                for n in (1, 2, 5, 22, 25)]
    assert len({text.split(" ", 1)[1] for text in said}) == 3
    assert said[1].split(" ", 1)[1] == said[3].split(" ", 1)[1]  # 2 and 22
    assert said[2].split(" ", 1)[1] == said[4].split(" ", 1)[1]  # 5 and 25

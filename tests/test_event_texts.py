"""Events in several languages (webapp/services/event_texts.py): organizers give an
event's and its sessions' texts in the other offered languages; readers get theirs where
given and the main language otherwise, marked with `lang`; the API shows every language;
search finds a title in any; kept pages change with a translation; the migration."""

from __future__ import annotations

import re
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import func, inspect, select, text

from tests.api import token_for
from tests.conftest import count_queries, csrf_token
from tests.factories import at
from webapp import create_app
from webapp.extensions import db as _db
from webapp.inputs import ValidationError
from webapp.inputs.events import EventIn, EventTextIn, SessionTextIn
from webapp.models import AuditEntry, Event, EventText, SessionText
from webapp.services import event_texts, events

NOW = at(2027, 1, 10, 12)
GREEK = {"title": "Αποστολή στη Σιγκαπούρη", "summary": "Εβδομάδα αστικών λύσεων.",
         "description": "Μια εβδομάδα στη Σιγκαπούρη."}
FRENCH = {"title": "Mission à Singapour", "summary": "Une semaine de solutions urbaines.",
          "description": ""}


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Nord", short_name="SCN")


@pytest.fixture
def admin(make):
    return make.admin(name="Annelies Admin")


@pytest.fixture
def mission(make, cluster):
    event = make.event(slug="the-mission", title="Mission to Singapore",
                       summary="Urban solutions week.", description="A week in Singapore.",
                       organizers=[cluster], starts_at=at(2027, 3, 1, 2))
    make.session(event, title="Harbour visit", description="By boat.")
    return event


def translate(event, **texts) -> None:
    event_texts.replace(event, {code: EventTextIn.from_values(**values)
                                for code, values in texts.items()})
    _db.session.flush()


def translate_session(item, **texts) -> None:
    event_texts.replace_session(item, {code: SessionTextIn.from_values(**values)
                                       for code, values in texts.items()})
    _db.session.flush()


def post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def event_form(cluster, **overrides) -> dict:
    data = dict(
        kind="outbound_mission", title="Smart mobility mission to Boston", slug="",
        summary="Meet Boston's mobility scene.", description="", target_country="US",
        target_city="Boston", venue="", online_url="", timezone="America/New_York",
        starts_local="2027-10-12T09:00", ends_local="2027-10-15T18:00",
        registration_opens_local="", registration_closes_local="", capacity="20",
        requires_approval="y", organizer_ids=[str(cluster.id)], host_ids=[], language="en",
    )
    data.update(overrides)
    return data


def html_of(client, path: str, language: str) -> str:
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- organizers


def test_a_new_event_is_written_first_in_the_organizers_language(db, login_as, admin):
    page = login_as(admin).get("/admin/events/new", headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    # French first: fieldsets for English and Greek, each named in itself.
    assert re.search(r'<option[^>]*selected[^>]*value="fr"|<option[^>]*value="fr"[^>]*selected',
                     html)
    assert 'data-language="en"' in html and 'data-language="el"' in html
    assert 'data-language="fr"' not in html
    assert '<span lang="el">Ελληνικά</span>' in html


def test_an_organizer_gives_french_and_greek_texts_and_sees_them_again(
        db, login_as, admin, cluster):
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster, texts_fr_title="Mission mobilité intelligente à Boston",
        texts_fr_summary="La mobilité de Boston.", texts_el_title="Αποστολή στη Βοστώνη",
        texts_el_description="Μια εβδομάδα."))
    assert response.status_code == 302, response.get_data(as_text=True)
    event = db.session.scalar(select(Event).where(Event.title.startswith("Smart mobility")))
    assert event.language == "en"
    assert event_texts.given(event) == {
        "en": {"title": "Smart mobility mission to Boston",
               "summary": "Meet Boston's mobility scene.", "description": ""},
        "el": {"title": "Αποστολή στη Βοστώνη", "summary": "", "description": "Μια εβδομάδα."},
        "fr": {"title": "Mission mobilité intelligente à Boston",
               "summary": "La mobilité de Boston.", "description": ""},
    }
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.created"))
    assert created.details["changes"]["texts.el.title"] == [None, "Αποστολή στη Βοστώνη"]

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    greek_title = re.search(r'<input[^>]*name="texts_el_title"[^>]*>', page).group(0)
    assert 'lang="el"' in greek_title and 'value="Αποστολή στη Βοστώνη"' in greek_title
    assert 'name="texts_en_title"' not in page  # the main language's are the fields above
    assert '<option lang="el" value="el">Ελληνικά</option>' in page

    # Emptying a language's fields removes its texts; changing one is audited.
    form = event_form(cluster, texts_fr_title="Mission à Boston", texts_el_title="")
    assert post(client, f"/admin/events/{event.id}", form).status_code == 302
    db.session.expire_all()
    assert set(event_texts.given(event)) == {"en", "fr"}
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.updated"))
    assert updated.details["changes"]["texts.fr.title"] == [
        "Mission mobilité intelligente à Boston", "Mission à Boston"]
    assert updated.details["changes"]["texts.el.title"] == ["Αποστολή στη Βοστώνη", None]
    assert count(EventText) == 1


def test_a_session_takes_its_texts_in_the_other_languages(db, login_as, admin, mission):
    client = login_as(admin)
    item = mission.sessions[0]
    path = f"/admin/events/{mission.id}/sessions/{item.id}"
    page = client.get(path).get_data(as_text=True)
    assert 'name="session-texts_fr_title"' in page
    assert 'name="session-texts_en_title"' not in page
    data = {"session-title": "Harbour visit", "session-kind": "visit",
            "session-starts_local": item.starts_at.astimezone(mission.zone).strftime(
                "%Y-%m-%dT%H:%M"),
            "session-ends_local": item.ends_at.astimezone(mission.zone).strftime(
                "%Y-%m-%dT%H:%M"),
            "session-texts_el_title": "Επίσκεψη στο λιμάνι",
            "session-csrf_token": csrf_token(client, "/")}
    assert client.post(path, data=data).status_code == 302
    db.session.expire_all()
    assert event_texts.session_given(item) == {
        "en": {"title": "Harbour visit", "description": ""},
        "el": {"title": "Επίσκεψη στο λιμάνι", "description": ""}}


def test_a_translation_without_a_title_is_refused_and_nothing_is_written(
        db, login_as, admin, cluster):
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster, texts_fr_title="Mission à Boston", texts_el_summary="Μόνο περίληψη."))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="texts_el_title-error"' in html
    assert "Give the title in this language too" in html
    assert count(Event) == 0 and count(EventText) == 0 and count(AuditEntry) == 0


def test_texts_in_the_main_language_or_in_one_not_offered_are_refused(
        db, login_as, admin, cluster, mission):
    client = login_as(admin)
    before = mission.updated_at
    response = post(client, f"/admin/events/{mission.id}", event_form(
        cluster, language="fr", texts_fr_title="Mission à Boston"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="language-error"' in html
    assert "is the event&#39;s main language" in html
    assert count(EventText) == 0
    db.session.expire_all()
    assert mission.language == "en" and mission.title == "Mission to Singapore"
    assert mission.updated_at == before

    assert post(client, f"/admin/events/{mission.id}", event_form(
        cluster, language="de")).status_code == 400
    with pytest.raises(ValidationError) as refusal:
        EventIn.from_values(**{**_values(cluster), "texts": {"de": {"title": "Mission"}}})
    assert "Choose one of the languages offered." in str(refusal.value)


def _values(cluster) -> dict:
    return dict(kind="workshop", title="Workshop", target_country="BE",
                timezone="Europe/Brussels", starts_local="2027-05-03T09:00",
                ends_local="2027-05-03T17:00", organizer_ids=[cluster.id])


def test_a_copy_keeps_the_texts_of_every_language(db, admin, mission):
    translate(mission, el=GREEK)
    translate_session(mission.sessions[0], fr={"title": "Visite du port"})
    copy = events.clone(admin, mission, 365)
    db.session.flush()
    assert event_texts.given(copy)["el"]["title"] == GREEK["title"]
    assert event_texts.session_given(copy.sessions[0])["fr"]["title"] == "Visite du port"


# --------------------------------------------------------------------------- readers


def test_a_reader_gets_their_language_text_by_text_and_the_main_one_otherwise(
        app, db, mission):
    translate(mission, fr=FRENCH)
    texts = event_texts.shown(mission, "fr")
    assert (texts.title, texts.title.lang, texts.lang) == ("Mission à Singapour", "fr", "fr")
    # The French description was left empty: the main one, in its language.
    assert (texts.description, texts.description.lang) == ("A week in Singapore.", "en")
    english = event_texts.shown(mission, "el")
    assert (english.title, english.lang, english.title.translated) == (
        "Mission to Singapore", "en", False)


def test_a_greek_visitor_sees_the_greek_title_marked_on_the_list_and_the_page(
        client, db, mission):
    translate(mission, el=GREEK)
    translate_session(mission.sessions[0], el={"title": "Επίσκεψη στο λιμάνι"})
    db.session.commit()
    listed = html_of(client, "/events", "el")
    assert f'<span lang="el">{GREEK["title"]}</span>' in listed
    assert f'<p class="card-text" lang="el">{GREEK["summary"]}</p>' in listed
    page = html_of(client, "/events/the-mission", "el")
    assert f'<h1 class="h2" lang="el">{GREEK["title"]}</h1>' in page
    assert f'<div class="event-description" lang="el"><p>{GREEK["description"]}' in page
    assert '<div class="fw-semibold" lang="el">Επίσκεψη στο λιμάνι</div>' in page
    # The session's description is not translated: English, marked as such.
    assert '<div class="small text-body-secondary" lang="en">By boat.</div>' in page
    assert "Mission to Singapore" not in page


def test_a_french_visitor_of_an_event_without_french_texts_reads_it_marked_english(
        client, db, mission):
    translate(mission, el=GREEK)
    db.session.commit()
    listed = html_of(client, "/events", "fr")
    assert '<span lang="en">Mission to Singapore</span>' in listed
    page = html_of(client, "/events/the-mission", "fr")
    assert '<h1 class="h2" lang="en">Mission to Singapore</h1>' in page
    assert '<div class="fw-semibold" lang="en">Harbour visit</div>' in page
    # An English reader of an English page: nothing to mark.
    english = html_of(client, "/events/the-mission", "en")
    assert '<h1 class="h2">Mission to Singapore</h1>' in english


def test_my_registrations_and_the_desk_show_the_readers_language(
        db, make, login_as, cluster, mission):
    translate(mission, fr=FRENCH)
    member = make.user(make.organization(cluster), locale="fr")
    make.registration(mission, member)
    manager = make.manager(cluster, locale="fr")
    db.session.commit()
    mine = login_as(member).get("/account/registrations").get_data(as_text=True)
    assert '<span lang="fr">Mission à Singapour</span>' in mine
    desk = login_as(manager).get("/desk/").get_data(as_text=True)
    assert '<span lang="fr">Mission à Singapour</span>' in desk


def test_the_pages_of_ones_own_registration_and_the_door_show_the_readers_language(
        db, make, login_as, cluster, mission):
    """Applying, one's registration and its answers, the desk's registration page, the
    badges and the check-in pages name the event in the reader's language."""
    translate(mission, fr=FRENCH)
    member = make.user(make.organization(cluster), locale="fr")
    registration = make.registration(mission, member)
    manager = make.manager(cluster, locale="fr")
    db.session.commit()
    title = f'<span lang="fr">{FRENCH["title"]}</span>'
    client = login_as(member)
    page = client.get(f"/account/registrations/{registration.id}").get_data(as_text=True)
    assert title in page and f"<title>{FRENCH['title']}" in page
    assert "Mission to Singapore" not in page
    client = login_as(manager)
    for path in (f"/desk/registrations/{registration.id}", f"/events/{mission.id}/badges",
                 f"/events/{mission.id}/checkin"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert FRENCH["title"] in response.get_data(as_text=True), path
        assert "Mission to Singapore" not in response.get_data(as_text=True), path


def test_a_search_finds_an_event_by_its_title_in_any_language(client, db, mission):
    translate(mission, el=GREEK, fr=FRENCH)
    db.session.commit()
    assert "the-mission" in html_of(client, "/events?q=Σιγκαπούρη", "en")
    assert "the-mission" in html_of(client, "/events?q=singapour", "en")
    assert "the-mission" not in html_of(client, "/events?q=Βοστώνη", "en")


def test_the_list_runs_as_many_statements_with_many_translated_events_as_with_few(
        app, client, db, make, cluster):
    def add(n: int) -> None:
        for _ in range(n):
            event = make.event(organizers=[cluster])
            translate(event, el={"title": f"Αποστολή {event.id}"})
            make.session(event)
        db.session.commit()

    def statements(path: str) -> int:
        client.get(path, headers={"Accept-Language": "el"})
        app.extensions["public_pages"].clear()
        with count_queries() as found:
            assert client.get(path, headers={"Accept-Language": "el"}).status_code == 200
        return len(found)

    add(2)
    few = statements("/events")
    add(10)
    assert statements("/events") == few
    assert "Αποστολή" in html_of(client, "/events", "el")


# --------------------------------------------------------------------------- kept pages


@pytest.fixture
def frozen_now():
    from freezegun import freeze_time

    with freeze_time(NOW) as clock:
        yield clock


def test_a_kept_public_page_changes_when_a_translation_changes(
        app, db, make, cluster, frozen_now):
    visitor = app.test_client()
    event = make.event(slug="kept", title="Kept mission", organizers=[cluster],
                       starts_at=at(2027, 3, 1))
    item = make.session(event, title="Harbour visit")
    translate(event, el={"title": "Πρώτος τίτλος"})
    translate_session(item, el={"title": "Πρώτη επίσκεψη"})
    db.session.commit()
    greek = {"Accept-Language": "el"}

    first = visitor.get("/events/kept", headers=greek)
    etag = first.headers["ETag"]
    assert visitor.get("/events/kept", headers={**greek, "If-None-Match": etag}
                       ).status_code == 304
    frozen_now.tick(timedelta(seconds=1))
    text_row = db.session.scalar(select(EventText))
    text_row.title = "Δεύτερος τίτλος"  # the translation alone: the event's row unchanged
    db.session.commit()
    page = visitor.get("/events/kept", headers={**greek, "If-None-Match": etag})
    assert page.status_code == 200
    assert "Δεύτερος τίτλος" in page.get_data(as_text=True)

    etag = page.headers["ETag"]
    frozen_now.tick(timedelta(seconds=1))
    db.session.scalar(select(SessionText)).title = "Δεύτερη επίσκεψη"
    db.session.commit()
    page = visitor.get("/events/kept", headers={**greek, "If-None-Match": etag})
    assert page.status_code == 200
    assert "Δεύτερη επίσκεψη" in page.get_data(as_text=True)


# --------------------------------------------------------------------------- the API


def test_the_api_shows_the_main_language_and_every_given_one(
        db, make, call, cluster, mission):
    translate(mission, el=GREEK, fr=FRENCH)
    translate_session(mission.sessions[0], fr={"title": "Visite du port"})
    token = token_for(make.user(make.organization(cluster)))

    listed = call("GET", "/api/v1/events", token).json["items"]
    item = next(e for e in listed if e["slug"] == "the-mission")
    assert item["language"] == "en"
    assert item["title"] == "Mission to Singapore"
    assert item["texts"] == {
        "en": {"title": "Mission to Singapore", "summary": "Urban solutions week."},
        "el": {"title": GREEK["title"], "summary": GREEK["summary"]},
        "fr": {"title": FRENCH["title"], "summary": FRENCH["summary"]}}

    detail = call("GET", f"/api/v1/events/{mission.id}", token).json
    assert detail["texts"]["el"] == GREEK
    assert detail["texts"]["en"]["description"] == "A week in Singapore."
    assert detail["sessions"][0]["texts"] == {
        "en": {"title": "Harbour visit", "description": "By boat."},
        "fr": {"title": "Visite du port", "description": ""}}

    document = call("GET", "/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert "texts" in schemas["EventSummary"]["properties"]
    assert "language" in schemas["EventDetail"]["properties"]
    assert "texts" in schemas["AgendaSession"]["properties"]


# --------------------------------------------------------------------------- migration


@pytest.mark.sqlite
def test_the_migration_adds_and_drops_the_tables_of_texts_on_sqlite(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'texts.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0023_event_texts")
        tables = set(inspect(_db.engine).get_table_names())
        assert {"event_texts", "session_texts"} <= tables
        with _db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (kind, title, slug, search_key, summary, description, "
                "target_country, target_city, venue, online_url, recording_url, timezone, "
                "starts_at, ends_at, requires_approval, status, calendar_sequence, "
                "created_at, updated_at) VALUES ('workshop', 'W', 'w', 'w', '', '', 'BE', "
                "'', '', '', '', 'UTC', '2027-01-01 09:00:00', '2027-01-01 10:00:00', 1, "
                "'draft', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"))
            conn.execute(text("INSERT INTO event_texts (event_id, language, title) "
                              "SELECT id, 'fr', 'Atelier' FROM events"))
            row = conn.execute(text("SELECT t.summary, t.description, e.language FROM "
                                    "event_texts t JOIN events e ON e.id = t.event_id")).one()
            assert tuple(row) == ("", "", "en")  # the defaults, and the event's main language
            conn.execute(text("DELETE FROM events"))
            assert conn.execute(text("SELECT count(*) FROM event_texts")).scalar() == 0
        flask_migrate.downgrade(revision="0022_languages")
        tables = set(inspect(_db.engine).get_table_names())
        assert not {"event_texts", "session_texts"} & tables
        flask_migrate.upgrade()
        assert {"event_texts", "session_texts"} <= set(inspect(_db.engine).get_table_names())
        _db.engine.dispose()

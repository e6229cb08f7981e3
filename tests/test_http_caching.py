"""HTTP caching (webapp/http_cache.py): visitors' public pages are kept per data version
and revalidated by ETag, fresh right after any commit on any worker; pages for a
signed-in user or with a CSRF token are kept by no cache and never answered 304."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import Factory, at
from webapp.extensions import db as _db
from webapp.http_cache import PRIVATE_CACHE_CONTROL, page_cache
from webapp.inputs.events import SessionIn
from webapp.models import Event, EventKind, EventStatus, Partner
from webapp.services import events as event_service

NOW = at(2027, 1, 10, 12)
VISITOR_PAGES = ["/", "/events", "/events?when=past", "/events/the-mission"]


@pytest.fixture
def mission(make, frozen):
    cluster, beachhead = make.partner(name="Smart City Nord"), make.beachhead()
    event = make.event(slug="the-mission", title="Mission to Singapore", organizers=[cluster],
                       hosts=[beachhead], starts_at=at(2027, 3, 1))
    make.event(slug="a-past-one", title="Last year's mission", organizers=[cluster],
               starts_at=at(2026, 3, 1))
    return event


@pytest.fixture
def visitor(app, db):
    return app.test_client()


def _validated(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response, response.headers["ETag"]


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_a_visitors_page_is_revalidated_with_a_304(visitor, mission, path):
    response, etag = _validated(visitor, path)
    assert response.headers["Cache-Control"] == "no-cache"
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf_token"' not in response.get_data(as_text=True)
    again = visitor.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    other = visitor.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.data == response.data


def test_an_edit_through_the_admin_gives_a_fresh_page_and_a_new_validator(
        client, visitor, make, mission, login_as):
    pages = {path: _validated(visitor, path) for path in VISITOR_PAGES}
    admin = login_as(make.admin())
    token = csrf_token(admin, "/")
    form = dict(
        kind="outbound_mission", title="Mission to Singapore and Jakarta", slug="the-mission",
        summary="", description="", target_country="SG", target_city="Singapore",
        venue="", online_url="", timezone="Asia/Singapore", starts_local="2027-03-01T08:00",
        ends_local="2027-03-04T08:00", registration_opens_local="",
        registration_closes_local="", capacity="20", requires_approval="y",
        organizer_ids=[str(p.id) for p in mission.organizers], host_ids=[],
        csrf_token=token)
    assert admin.post(f"/admin/events/{mission.id}", data=form).status_code == 302
    for path in ("/", "/events", "/events/the-mission"):
        old = pages[path][1]
        response = visitor.get(path, headers={"If-None-Match": old})
        assert response.status_code == 200, path
        assert "Mission to Singapore and Jakarta" in response.get_data(as_text=True)
        assert response.headers["ETag"] != old
    # The past events do not show it: the same page, still valid.
    assert visitor.get("/events?when=past", headers={
        "If-None-Match": pages["/events?when=past"][1]}).status_code == 304


def test_publishing_lists_the_event_at_once(client, visitor, make, mission, login_as):
    draft = make.event(slug="the-webinar", title="Doing business in Boston",
                       kind=EventKind.WEBINAR, status=EventStatus.DRAFT,
                       organizers=mission.organizers, starts_at=at(2027, 2, 1))
    listed, etag = _validated(visitor, "/events")
    assert "Doing business in Boston" not in listed.get_data(as_text=True)
    assert visitor.get("/events/the-webinar").status_code == 404
    admin = login_as(make.admin())
    response = admin.post(f"/admin/events/{draft.id}/publish",
                          data={"csrf_token": csrf_token(admin, "/")})
    assert response.status_code == 302
    fresh = visitor.get("/events", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert "Doing business in Boston" in fresh.get_data(as_text=True)
    assert visitor.get("/events/the-webinar").status_code == 200


def test_an_agenda_change_and_a_partner_renamed_show_at_once(visitor, db, make, mission):
    _, etag = _validated(visitor, "/events/the-mission")
    admin = make.admin()
    event_service.add_session(admin, mission, SessionIn.from_values(
        title="Visit to the port authority", starts_local=mission.starts_at.replace(
            tzinfo=None) + timedelta(hours=10), ends_local=mission.starts_at.replace(
            tzinfo=None) + timedelta(hours=11)))
    db.session.commit()
    page = visitor.get("/events/the-mission", headers={"If-None-Match": etag})
    assert page.status_code == 200
    assert "Visit to the port authority" in page.get_data(as_text=True)
    host = db.session.scalar(select(Partner).where(Partner.id == mission.hosts[0].id))
    _, listed = _validated(visitor, "/events")
    host.short_name = "IPI-SG"
    db.session.commit()
    page = visitor.get("/events", headers={"If-None-Match": listed})
    assert page.status_code == 200
    assert "IPI-SG" in page.get_data(as_text=True)


def test_the_clock_moves_an_event_to_the_past_when_it_ends(visitor, make, frozen):
    make.event(slug="ends-soon", title="Ending soon", starts_at=NOW - timedelta(days=1),
               duration=timedelta(days=1, hours=1))
    listed, etag = _validated(visitor, "/events")
    assert "Ending soon" in listed.get_data(as_text=True)
    frozen.tick(timedelta(hours=2))
    page = visitor.get("/events", headers={"If-None-Match": etag})
    assert page.status_code == 200
    assert "Ending soon" not in page.get_data(as_text=True)
    assert "Ending soon" in visitor.get("/events?when=past").get_data(as_text=True)


def test_a_visitor_with_a_message_waiting_sees_it(visitor, mission):
    _validated(visitor, "/events")
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "You have been signed out.")]
    page = visitor.get("/events")
    assert "You have been signed out." in page.get_data(as_text=True)
    assert "ETag" not in page.headers
    assert "You have been signed out." not in visitor.get("/events").get_data(as_text=True)


def test_forms_for_visitors_carry_each_their_own_token_and_are_never_stored(
        app, db, make, frozen):
    make.event(slug="open-webinar", title="Open webinar", kind=EventKind.WEBINAR,
               requires_approval=False, starts_at=at(2027, 2, 1))
    for path in ("/login", "/login?next=/events", "/events/open-webinar"):
        tokens = set()
        for _ in range(3):
            response = app.test_client().get(path)
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
            assert "ETag" not in response.headers
            assert "stand-in" not in response.get_data(as_text=True)
            tokens.add(re.search(r'name="csrf_token"[^>]* value="([^"]+)"|value="([^"]+)"'
                                 r'[^>]* name="csrf_token"|name="csrf_token" type="hidden" '
                                 r'value="([^"]+)"', response.get_data(as_text=True)).group(0))
            assert "session=" in response.headers["Set-Cookie"]
        assert len(tokens) == 3, path
    # The token a kept sign-in page hands out works.
    visitor = app.test_client()
    token = csrf_token(visitor, "/login")
    user = make.user(email="kept@example.org", password="correct horse battery")
    _db.session.flush()
    response = visitor.post("/login", data={"email": user.email, "password": "wrong",
                                            "csrf_token": token})
    assert response.status_code == 200
    assert "The email or password is not right." in response.get_data(as_text=True)


# --------------------------------------------------------------------------- several workers


def test_a_commit_on_one_worker_is_seen_at_once_on_the_other(two_workers):
    first, second = two_workers
    with freeze_time(NOW):
        make = Factory()
        cluster = make.partner(name="Smart City Nord")
        make.event(slug="the-mission", title="Mission to Singapore", organizers=[cluster],
                   starts_at=at(2027, 3, 1))
        admin = make.admin(email="admin@example.org")
        _db.session.commit()
        event_id = _db.session.scalar(select(Event.id).where(Event.slug == "the-mission"))
        cluster_id = cluster.id
        visitors = [first.test_client(), second.test_client()]
        etags = {}
        for n, visitor in enumerate(visitors):
            for path in ("/events", "/events/the-mission"):
                etags[n, path] = _validated(visitor, path)[1]
        assert len(page_cache(first)) == len(page_cache(second)) == 2
        # Edited through the first worker's admin page.
        editor = first.test_client()
        with editor.session_transaction() as session:
            session["_user_id"] = admin.get_id()
            session["_fresh"] = True
        token = csrf_token(editor, "/")
        assert editor.post(f"/admin/events/{event_id}/close",
                           data={"csrf_token": token}).status_code == 302
        for n, visitor in enumerate(visitors):
            page = visitor.get("/events/the-mission",
                               headers={"If-None-Match": etags[n, "/events/the-mission"]})
            assert page.status_code == 200
            assert "Registration has closed." in page.get_data(as_text=True)
        # A partner renamed by a command (a transaction of its own, as `flask` runs it).
        _db.session.rollback()
        _db.session.get(Partner, cluster_id).name = "Smart City North"
        _db.session.commit()
        for n, visitor in enumerate(visitors):
            page = visitor.get("/events/the-mission")
            assert "Smart City North" in page.get_data(as_text=True), n


# --------------------------------------------------------------------------- signed in


def _html_pages(app: Flask) -> list[str]:
    """Every page without arguments that answers GET, but signing out and the API."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static" \
                or rule.rule.startswith("/api") or rule.endpoint.startswith("health"):
            continue
        paths.append(rule.rule)
    return sorted(paths)


@pytest.fixture
def people(make):
    cluster, beachhead = make.partner(), make.beachhead()
    return {
        "member": make.user(make.organization(cluster)),
        "manager": make.manager(cluster),
        "host": make.host(beachhead),
        "admin": make.admin(),
    }


@pytest.mark.parametrize("role", ["member", "manager", "host", "admin"])
def test_every_page_a_signed_in_user_sees_is_private_and_never_304(
        app, client, login_as, people, mission, role):
    login_as(people[role])
    pages = [*_html_pages(app), "/events/the-mission", "/events/a-past-one"]
    seen = 0
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen += 1
        cache_control = response.headers.get("Cache-Control", "")
        assert "private" in cache_control or "no-store" in cache_control, path
        assert "ETag" not in response.headers, path
        for validator in ("*", '"anything"'):
            again = client.get(path, headers={"If-None-Match": validator})
            assert again.status_code != 304, path
    assert seen >= 5


def test_the_same_page_is_kept_for_visitors_but_not_shown_to_a_member(
        client, visitor, login_as, people, mission):
    _, etag = _validated(visitor, "/events/the-mission")
    login_as(people["member"])
    page = client.get("/events/the-mission", headers={"If-None-Match": etag})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == PRIVATE_CACHE_CONTROL
    assert people["member"].name in page.get_data(as_text=True)
    assert 'name="csrf_token"' in page.get_data(as_text=True)

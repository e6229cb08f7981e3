"""A signed-in user's list pages kept while the database is unchanged
(webapp/http_cache.py, `kept_for_user`): served again without rendering only to the same
user, with their own CSRF token, never across a commit anywhere, a role taken away, a
message waiting, the clock or a one-time token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import select

from tests.backends import BACKENDS
from tests.conftest import CSRF_RE, IsolatedClient, count_queries, csrf_token, login
from tests.factories import Factory, at
from webapp import confirmations, http_cache
from webapp.extensions import db as _db
from webapp.extensions import login_manager
from webapp.models import Registration, RoleGrant
from webapp.models import RegistrationStatus as S

NOW = at(2027, 1, 10, 12)
LISTS = ["/desk/", "/account/registrations", "/admin/users", "/admin/events",
         "/admin/audit", "/organizations", "/agreements/"]


@pytest.fixture
def desk(make, frozen):
    """Two clusters' managers, an admin, and a mission with an applicant from each."""
    alpha, bravo = make.partner(short_name="Alpha"), make.partner(short_name="Bravo")
    mission = make.event(organizers=[make.partner(short_name="Org")], title="Boston mission",
                         starts_at=at(2027, 3, 1))
    anna = make.user(make.organization(alpha, name="Anna Sensors"), name="Anna Ahlers")
    bert = make.user(make.organization(bravo, name="Bert Mobility"), name="Bert Brown")
    return dict(
        alpha=alpha, mission=mission, anna=anna,
        manager_a=make.manager(alpha, name="Maria Alpha"),
        manager_b=make.manager(bravo, name="Mark Bravo"), admin=make.admin(),
        anna_reg=make.registration(mission, anna), bert_reg=make.registration(mission, bert),
    )


def _kept(client, path):
    """The page rendered, then asked for again: (first, second, statements of the second).
    A visit comes before them: opening the desk marks its new applications seen."""
    client.get(path)
    first = client.get(path)
    with count_queries() as statements:
        second = client.get(path)
    return first, second, statements


def _reads(statements: list[str]) -> list[str]:
    """The statements that read something (SQLite's BEGIN aside)."""
    return [statement for statement in statements if statement.strip() != "BEGIN"]


def _row(html: str, registration_id: int) -> str:
    """The desk's row of one application."""
    return re.search(f'<tr data-registration="{registration_id}">.*?</tr>', html,
                     re.S).group(0)


def _without_token(html: str) -> str:
    return CSRF_RE.sub("", html)


def test_each_answer_carries_the_users_own_working_csrf_token(login_as, db, desk):
    client = login_as(desk["manager_a"])
    pages = [client.get("/desk/").get_data(as_text=True) for _ in range(3)]
    assert all(http_cache.TOKEN_STAND_IN not in html for html in pages)
    tokens = [CSRF_RE.search(html) for html in pages]
    assert all(tokens)
    # The token of a kept page decides an application.
    token = tokens[-1].group(1) or tokens[-1].group(2)
    response = client.post(f"/desk/registrations/{desk['anna_reg'].id}/decide",
                           data={"decision": "approve", "expected_status": "submitted",
                                 "reason": "", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(Registration.status).where(
        Registration.id == desk["anna_reg"].id)) == S.APPROVED


def test_a_decision_shows_at_once_on_the_kept_desk(login_as, desk):
    client = login_as(desk["manager_a"])
    _, before, _ = _kept(client, "/desk/")
    assert "Submitted" in _row(before.get_data(as_text=True), desk["anna_reg"].id)
    client.post(f"/desk/registrations/{desk['anna_reg'].id}/decide",
                data={"decision": "approve", "expected_status": "submitted", "reason": "",
                      "csrf_token": csrf_token(client, "/desk/")})
    after = client.get("/desk/").get_data(as_text=True)
    assert "Approved" in _row(after, desk["anna_reg"].id)


def test_a_role_taken_away_is_refused_before_any_kept_page(login_as, db, desk):
    client = login_as(desk["manager_a"])
    _kept(client, "/desk/")
    db.session.execute(RoleGrant.__table__.delete().where(
        RoleGrant.user_id == desk["manager_a"].id))
    db.session.flush()
    assert client.get("/desk/").status_code == 403


def test_signed_out_the_kept_page_is_not_served(login_as, desk):
    client = login_as(desk["manager_a"])
    _kept(client, "/desk/")
    with client.session_transaction() as session:
        session.clear()
    response = client.get("/desk/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_message_waiting_is_shown_not_a_kept_page(login_as, desk):
    client = login_as(desk["manager_a"])
    _kept(client, "/desk/")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Something to read")]
    assert "Something to read" in client.get("/desk/").get_data(as_text=True)
    assert "Something to read" not in client.get("/desk/").get_data(as_text=True)


def test_the_events_clock_renders_the_page_again(login_as, make, desk, frozen):
    """My registrations moves an event to the past the moment it ends."""
    ends = desk["mission"].ends_at
    frozen.move_to(ends - timedelta(seconds=1))
    client = login_as(desk["anna"])
    before = client.get("/account/registrations").get_data(as_text=True)
    client.get("/account/registrations")
    frozen.move_to(ends + timedelta(seconds=1))
    after = client.get("/account/registrations").get_data(as_text=True)
    assert before != after


def test_a_page_with_a_one_time_token_is_never_kept(app, desk):
    @http_cache.kept_for_user
    def confirming():
        return confirmations.token_for("reject", 1)

    tokens = set()
    for _ in range(3):
        with app.test_request_context("/desk/"):
            g._login_user = desk["manager_a"]  # signed in, the session untouched
            tokens.add(app.make_response(confirming()).get_data(as_text=True))
    assert len(tokens) == 3
    assert len(http_cache.user_page_cache(app)) == 0


# --------------------------------------------------------------------------- real commits


@pytest.fixture(params=BACKENDS)
def committed(request, open_app):
    """The desk's scene committed for real (a page is kept only from committed data):
    (app, scene, frozen clock)."""
    app = open_app(request.param)
    app.test_client_class = IsolatedClient
    with freeze_time(NOW) as clock:
        make = Factory()
        alpha, bravo = make.partner(short_name="Alpha"), make.partner(short_name="Bravo")
        mission = make.event(organizers=[make.partner(short_name="Org")],
                             title="Boston mission", starts_at=at(2027, 3, 1))
        anna = make.user(make.organization(alpha), name="Anna Ahlers")
        bert = make.user(make.organization(bravo), name="Bert Brown")
        scene = dict(manager_a=make.manager(alpha), manager_b=make.manager(bravo),
                     admin=make.admin())
        make.registration(mission, anna)
        make.registration(mission, bert)
        _db.session.commit()
        yield app, scene, clock


def _signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_lists_asked_for_again_are_served_kept(committed):
    app, scene, _ = committed
    for path in LISTS:
        client = _signed_in(app, scene["admin"] if path.startswith("/admin")
                            else scene["manager_a"])
        first, second, statements = _kept(client, path)
        assert first.status_code == second.status_code == 200, path
        assert _without_token(second.get_data(as_text=True)) == _without_token(
            first.get_data(as_text=True)), path
        # The database's state alone: neither the user nor the page is read again.
        assert len(_reads(statements)) == 1, (path, statements)
        assert "users" not in _reads(statements)[0], statements
        assert second.headers["Cache-Control"] == http_cache.PRIVATE_CACHE_CONTROL
        assert "ETag" not in second.headers


def test_another_user_never_gets_the_page_kept_for_someone_else(committed):
    app, scene, _ = committed
    maria, mark = _signed_in(app, scene["manager_a"]), _signed_in(app, scene["manager_b"])
    for _ in range(2):
        alpha = maria.get("/desk/").get_data(as_text=True)
        bravo = mark.get("/desk/").get_data(as_text=True)
        assert "Anna Ahlers" in alpha and "Bert Brown" not in alpha
        assert "Bert Brown" in bravo and "Anna Ahlers" not in bravo
    assert len(http_cache.user_page_cache(app)) == 2


def test_another_browser_with_the_same_cookie_is_checked_as_flask_login_does(committed):
    """Session protection: a session used from another browser is marked not fresh before
    anything is served to it; from then on its pages are kept for it (not fresh)."""
    app, scene, _ = committed
    client = app.test_client()
    browser = {"User-Agent": "Firefox", "REMOTE_ADDR": "192.0.2.1"}
    with app.test_request_context("/", headers={"User-Agent": "Firefox"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        identifier = login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session.update(_user_id=scene["manager_a"].get_id(), _fresh=True, _id=identifier)
    ua = {"User-Agent": browser["User-Agent"]}
    addr = {"REMOTE_ADDR": browser["REMOTE_ADDR"]}
    for _ in range(2):
        client.get("/desk/", headers=ua, environ_base=addr)
    with count_queries() as same_browser:
        client.get("/desk/", headers=ua, environ_base=addr)
    assert len(_reads(same_browser)) == 1
    with count_queries() as other_browser:
        client.get("/desk/", headers={"User-Agent": "Curl"}, environ_base=addr)
    assert len(other_browser) > 1
    with client.session_transaction() as session:
        assert session["_fresh"] is False


def test_a_kept_page_lives_a_minute_at_most(committed):
    app, scene, clock = committed
    client = _signed_in(app, scene["manager_a"])
    _kept(client, "/desk/")
    clock.tick(timedelta(seconds=http_cache.USER_PAGE_SECONDS - 1))
    with count_queries() as kept:
        client.get("/desk/")
    clock.tick(timedelta(seconds=2))
    with count_queries() as rendered:
        client.get("/desk/")
    assert len(rendered) > len(kept) + 2



def test_a_commit_on_one_worker_renders_the_kept_desk_again_on_the_other(two_workers):
    first, second = two_workers
    with freeze_time(NOW):
        make = Factory()
        cluster = make.partner(short_name="Alpha")
        mission = make.event(organizers=[cluster], title="Boston mission",
                             starts_at=at(2027, 3, 1))
        manager = make.manager(cluster)
        anna = make.user(make.organization(cluster), name="Anna Ahlers")
        reg = make.registration(mission, anna)
        _db.session.commit()
        reg_id = reg.id
        readers = [first.test_client(), second.test_client()]
        for reader in readers:
            login(reader, manager)
            for _ in range(2):
                assert "Submitted" in reader.get("/desk/").get_data(as_text=True)
        assert len(http_cache.user_page_cache(first)) == 1
        assert len(http_cache.user_page_cache(second)) == 1
        # Decided on the first worker.
        token = csrf_token(readers[0], "/desk/")
        assert readers[0].post(f"/desk/registrations/{reg_id}/decide", data={
            "decision": "approve", "expected_status": "submitted", "reason": "",
            "csrf_token": token}).status_code == 302
        for reader in readers:
            assert "Approved" in _row(reader.get("/desk/").get_data(as_text=True), reg_id)
        # Changed by a command's transaction of its own: seen at once too.
        _db.session.rollback()
        _db.session.get(Registration, reg_id).status = S.WAITLISTED
        _db.session.commit()
        for reader in readers:
            assert "Waiting list" in _row(reader.get("/desk/").get_data(as_text=True),
                                          reg_id)


@pytest.mark.redis
def test_an_api_list_is_kept_while_redis_counts_and_a_decision_shows_at_once(on_rq):
    """With Redis counting the token's requests, a repeated list call reads only the token
    and the database's state; a decision made through the API is in the next answer."""
    from tests.api import bearer, token_for

    make = Factory()
    cluster = make.partner(short_name="Alpha")
    mission = make.event(organizers=[cluster], title="Boston mission")
    manager = make.manager(cluster)
    reg = make.registration(mission, make.user(make.organization(cluster)))
    secret = token_for(manager)
    reg_id = reg.id
    client = on_rq.test_client()
    client.get("/api/v1/registrations", headers=bearer(secret))  # notes the token's use
    first = client.get("/api/v1/registrations", headers=bearer(secret))
    with count_queries() as kept:
        second = client.get("/api/v1/registrations", headers=bearer(secret))
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json()
    assert [r["status"] for r in second.get_json()["items"]] == ["submitted"]
    # The database's state, then the token and its owner (checked and counted each time).
    assert len(_reads(kept)) == 2, kept
    decided = client.post(f"/api/v1/registrations/{reg_id}/decision", headers=bearer(secret),
                          json={"decision": "approve", "expected_status": "submitted"})
    assert decided.status_code == 200
    after = client.get("/api/v1/registrations", headers=bearer(secret)).get_json()
    assert [r["status"] for r in after["items"]] == ["approved"]

"""The access matrix through the API: for each role's token, each operation and objects
inside and outside its scope, the expected status (404 outside the scope, as for an
unknown id; 403 for what the role may see but not do; 401 without a usable token).
Every write here is refused, so walking the matrix changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.matrix import ROLES, Case, statuses
from tests.test_access import world  # noqa: F401 - the pages' matrix world, shared
from webapp.extensions import db as _db
from webapp.models import Attendance, Registration, User, utcnow
from webapp.services import api_tokens

MEMBERS_403 = dict(member=403, other_member=403)


def api(default, **by_role):
    return statuses(default, **{"anonymous": 401, **by_role})


def desk(default, **by_role):
    return api(default, **{**MEMBERS_403, **by_role})


def _reg(key):
    return lambda w: f"/api/v1/registrations/{w[key]}"


def _body(value):
    return lambda w: value


CASES = [
    Case("api.openapi", "document", "GET", lambda w: "/api/v1/openapi.json", statuses(200)),
    Case("api.events", "list", "GET", lambda w: "/api/v1/events", api(200)),
    Case("api.event", "published", "GET", lambda w: f"/api/v1/events/{w['event']}", api(200)),
    Case("api.event", "draft", "GET", lambda w: f"/api/v1/events/{w['draft']}",
         api(404, organizer=200, admin=200)),
    Case("api.event", "unknown", "GET", lambda w: "/api/v1/events/999999", api(404)),
    Case("api.event_calendar", "published", "GET",
         lambda w: f"/api/v1/events/{w['event']}/calendar.ics", api(200)),
    Case("api.event_calendar", "draft", "GET",
         lambda w: f"/api/v1/events/{w['draft']}/calendar.ics",
         api(404, organizer=200, admin=200)),
    Case("api.me", "me", "GET", lambda w: "/api/v1/me", api(200)),
    Case("api.my_registrations", "mine", "GET", lambda w: "/api/v1/me/registrations",
         api(200)),
    Case("api.registrations_list", "list", "GET", lambda w: "/api/v1/registrations",
         desk(200)),
    Case("api.registration", "approved, cluster A, hosted", "GET", _reg("own_reg"),
         desk(200, manager_b=404, other_host=404)),
    Case("api.registration", "submitted, cluster B", "GET", _reg("other_reg"),
         desk(404, manager_b=200, organizer=200, admin=200)),
    Case("api.registration", "unknown", "GET", lambda w: "/api/v1/registrations/999999",
         desk(404)),
    # The member's application is approved already: deciders get 409, nothing changes.
    Case("api.decide", "stale approval, cluster A", "POST",
         lambda w: f"{_reg('own_reg')(w)}/decision",
         desk(409, manager_b=404, host=403, other_host=404),
         data=_body({"decision": "approve", "expected_status": "submitted"})),
    Case("api.decide", "stale waitlisting, cluster B", "POST",
         lambda w: f"{_reg('other_reg')(w)}/decision",
         desk(404, manager_b=409, organizer=409, admin=409),
         data=_body({"decision": "waitlist", "expected_status": "waitlisted"})),
    Case("api.apply", "mission without consent", "POST",
         lambda w: f"/api/v1/events/{w['event']}/registrations", api(422, member=409),
         data=_body({})),
    Case("api.apply", "draft", "POST", lambda w: f"/api/v1/events/{w['draft']}/registrations",
         api(404, organizer=409, admin=409), data=_body({"profile_consent": True})),
    Case("api.withdraw", "someone else's", "POST",
         lambda w: f"{_reg('other_reg')(w)}/withdraw", api(404), data=_body({})),
    Case("api.event_delegation", "published", "GET",
         lambda w: f"/api/v1/events/{w['event']}/delegation",
         api(200, **MEMBERS_403, other_host=403)),
    Case("api.event_delegation", "draft", "GET",
         lambda w: f"/api/v1/events/{w['draft']}/delegation",
         api(404, organizer=200, admin=200)),
    Case("api.registration_badge", "approved, cluster A", "GET",
         lambda w: f"{_reg('own_reg')(w)}/badge.pdf",
         api(404, member=200, manager_a=200, organizer=200, admin=200)),
    Case("api.registration_badge", "submitted, cluster B", "GET",
         lambda w: f"{_reg('other_reg')(w)}/badge.pdf", api(404)),
    Case("api.check_in", "unknown code", "POST",
         lambda w: f"/api/v1/events/{w['event']}/checkins",
         api(403, organizer=422, host=422, admin=422), data=_body({"token": "NOPE-NOPE"})),
    Case("api.check_in", "draft", "POST", lambda w: f"/api/v1/events/{w['draft']}/checkins",
         api(404, organizer=422, admin=422), data=_body({"token": "NOPE-NOPE"})),
]


def _snapshot(own_reg: int, other_reg: int) -> tuple:
    """What a refused write could have changed: the two registrations, the check-ins."""
    return (_db.session.get(Registration, own_reg, populate_existing=True).status,
            _db.session.get(Registration, other_reg, populate_existing=True).status,
            _db.session.scalar(select(func.count()).select_from(Attendance)))


@pytest.fixture(scope="module")
def api_world(app, request):
    """The pages' world, with a token per role (read-write), and an admin's read-only,
    revoked and expired tokens; its ids by the names the cases use."""
    shared = request.getfixturevalue("world")
    with app.app_context():
        def token(role, name="matrix", **kw):
            return api_tokens.create(_db.session.get(User, shared.user_ids[role]), name, **kw)

        tokens = {role: token(role, read_only=False).secret for role in shared.user_ids}
        read_only = token("admin", "read", read_only=True).secret
        revoked = token("admin", "revoked", read_only=False)
        revoked.token.revoked_at = utcnow()
        expired = token("admin", "old", read_only=False)
        expired.token.expires_on = (utcnow() - timedelta(days=1)).date()
        _db.session.commit()
        result = dict(event=shared.ids["event"], draft=shared.ids["draft"],
                      own_reg=shared.own_reg, other_reg=shared.other_reg, tokens=tokens,
                      read_only=read_only, revoked=revoked.secret, expired=expired.secret,
                      before=_snapshot(shared.own_reg, shared.other_reg))
        _db.session.remove()
    return result


@pytest.fixture
def api_client(app, api_world, monkeypatch):
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 100_000)
    return app.test_client()


def _open(api_client, case: Case, api_world: dict, secret: str | None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    kwargs = {"json": case.data(api_world)} if case.method == "POST" else {}
    return api_client.open(case.path(api_world), method=case.method, headers=headers, **kwargs)


def test_every_operation_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("api.")}
    assert endpoints == {case.endpoint for case in CASES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_api_access(api_client, api_world, case, role):
    secret = None if role == "anonymous" else api_world["tokens"][role]
    response = _open(api_client, case, api_world, secret)
    assert response.status_code == case.expected[role], (
        f"{role} {case.method} {case.path(api_world)}: {response.status_code}",
        response.data[:300])
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("kind", ["revoked", "expired"])
@pytest.mark.parametrize("case", [c for c in CASES if c.endpoint != "api.openapi"],
                         ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_unusable_tokens_get_401_everywhere(api_client, api_world, case, kind):
    response = _open(api_client, case, api_world, api_world[kind])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("case", [c for c in CASES if c.method == "POST"],
                         ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_a_read_only_token_writes_nothing_anywhere(api_client, api_world, case):
    assert _open(api_client, case, api_world, api_world["read_only"]).status_code == 403


def test_walking_the_matrix_changed_nothing(app, api_world):
    with app.app_context():
        assert _snapshot(api_world["own_reg"], api_world["other_reg"]) == api_world["before"]
        _db.session.remove()

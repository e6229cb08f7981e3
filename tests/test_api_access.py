"""The access matrix through the API: for each role's token, each operation and objects
inside and outside its scope, the expected status (404 outside the scope, as for an
unknown id; 403 for what the role may see but not do; 401 without a usable token).
Every write here is refused, so walking the matrix changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import Factory
from tests.matrix import ROLES, statuses
from webapp.extensions import db as _db
from webapp.models import ApiToken, EventStatus, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens

MEMBERS_403 = dict(member=403, other_member=403)


@dataclass(frozen=True)
class Case:
    endpoint: str
    label: str
    method: str
    path: Callable[[dict], str]
    expected: dict[str, Any]
    body: Any = None


def api(default, **by_role):
    return statuses(default, **{"anonymous": 401, **by_role})


def desk(default, **by_role):
    return api(default, **{**MEMBERS_403, **by_role})


def _reg(key):
    return lambda w: f"/api/v1/registrations/{w[key]}"


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
         body={"decision": "approve", "expected_status": "submitted"}),
    Case("api.decide", "stale waitlisting, cluster B", "POST",
         lambda w: f"{_reg('other_reg')(w)}/decision",
         desk(404, manager_b=409, organizer=409, admin=409),
         body={"decision": "waitlist", "expected_status": "waitlisted"}),
    Case("api.apply", "mission without consent", "POST",
         lambda w: f"/api/v1/events/{w['event']}/registrations", api(422, member=409),
         body={}),
    Case("api.apply", "draft", "POST", lambda w: f"/api/v1/events/{w['draft']}/registrations",
         api(404, organizer=409, admin=409), body={"profile_consent": True}),
    Case("api.withdraw", "someone else's", "POST",
         lambda w: f"{_reg('other_reg')(w)}/withdraw", api(404), body={}),
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
         api(403, organizer=422, host=422, admin=422), body={"token": "NOPE-NOPE"}),
    Case("api.check_in", "draft", "POST", lambda w: f"/api/v1/events/{w['draft']}/checkins",
         api(404, organizer=422, admin=422), body={"token": "NOPE-NOPE"}),
]


@pytest.fixture(scope="module")
def world(app):
    """Built once per module and committed; removed at the end of the module."""
    with app.app_context():
        make = Factory()
        cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
        beachhead, other_beachhead = make.beachhead(), make.beachhead()
        event = make.event(organizers=[organizing], hosts=[beachhead])
        draft = make.event(organizers=[organizing], hosts=[beachhead], status=EventStatus.DRAFT)
        users = {
            "member": make.user(make.organization(cluster_a)),
            "other_member": make.user(make.organization(cluster_a)),
            "manager_a": make.manager(cluster_a),
            "manager_b": make.manager(cluster_b),
            "organizer": make.manager(organizing),
            "host": make.host(beachhead),
            "other_host": make.host(other_beachhead),
            "admin": make.admin(),
        }
        own = make.registration(event, users["member"], S.SUBMITTED, S.APPROVED,
                                actor=users["manager_a"])
        other = make.registration(event, make.user(make.organization(cluster_b)), S.SUBMITTED)
        tokens = {role: api_tokens.create(user, "matrix", read_only=False).secret
                  for role, user in users.items()}
        read_only = api_tokens.create(users["admin"], "read", read_only=True).secret
        revoked = api_tokens.create(users["admin"], "revoked", read_only=False)
        revoked.token.revoked_at = utcnow()
        expired = api_tokens.create(users["admin"], "old", read_only=False)
        _db.session.flush()
        expired.token.expires_on = (utcnow() - timedelta(days=1)).date()
        _db.session.commit()
        result = dict(event=event.id, draft=draft.id, own_reg=own.id, other_reg=other.id,
                      tokens=tokens, read_only=read_only, revoked=revoked.secret,
                      expired=expired.secret, own_status=S.APPROVED, other_status=S.SUBMITTED)
        _db.session.remove()
    yield result
    with app.app_context(), _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def api_client(app, world, monkeypatch):
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 100_000)
    return app.test_client()


def _open(api_client, case: Case, world: dict, secret: str | None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    kwargs = {"json": case.body} if case.method == "POST" else {}
    return api_client.open(case.path(world), method=case.method, headers=headers, **kwargs)


def test_every_operation_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("api.")}
    assert endpoints == {case.endpoint for case in CASES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_api_access(api_client, world, case, role):
    secret = None if role == "anonymous" else world["tokens"][role]
    response = _open(api_client, case, world, secret)
    assert response.status_code == case.expected[role], (
        f"{role} {case.method} {case.path(world)}: {response.status_code} {response.data[:300]}")
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("kind", ["revoked", "expired"])
@pytest.mark.parametrize("case", [c for c in CASES if c.endpoint != "api.openapi"],
                         ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_unusable_tokens_get_401_everywhere(api_client, world, case, kind):
    response = _open(api_client, case, world, world[kind])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("case", [c for c in CASES if c.method == "POST"],
                         ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_a_read_only_token_writes_nothing_anywhere(api_client, world, case):
    assert _open(api_client, case, world, world["read_only"]).status_code == 403


def test_walking_the_matrix_changed_nothing(app, world):
    from webapp.models import Attendance, Registration

    with app.app_context():
        assert _db.session.get(Registration, world["own_reg"]).status == world["own_status"]
        assert _db.session.get(Registration, world["other_reg"]).status == world["other_status"]
        assert _db.session.query(Attendance).count() == 0
        assert _db.session.query(ApiToken).count() == 11
        _db.session.remove()

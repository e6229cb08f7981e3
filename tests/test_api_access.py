"""The access matrix through the API: for each role's token, each operation and objects
inside and outside its scope, the expected status (404 outside the scope, as for an
unknown id; 403 for what the role may see but not do; 401 without a usable token).
Every write here is refused, so walking the matrix changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factory
from tests.matrix import ROLES, Case, statuses
from tests.test_access import world  # noqa: F401 - the pages' matrix world, shared
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import JoinIn, MatchmakingIn, MeetingRequestIn, OpportunityIn
from webapp.models import (
    Attendance,
    MeetingRequest,
    Opportunity,
    Participant,
    Partner,
    Registration,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens, matchmaking, meeting_requests

MEMBERS_403 = dict(member=403, other_member=403)


def api(default, **by_role):
    return statuses(default, **{"anonymous": 401, **by_role})


def desk(default, **by_role):
    return api(default, **{**MEMBERS_403, **by_role})


def _reg(key):
    return lambda w: f"/api/v1/registrations/{w[key]}"


def _body(value):
    return lambda w: value


def _participant(key, rest=""):
    return lambda w: f"/api/v1/participants/{w[key]}{rest}"


def _request(key, rest=""):
    return lambda w: f"/api/v1/meeting-requests/{w[key]}{rest}"


def _market(key, rest):
    return lambda w: f"/api/v1/events/{w[key]}/marketplace/{rest}"


# The marketplace: its participants (the member, one of the event's other
# participants who joined: browsers see it) and its organizers; admins organize all.
BROWSERS = dict(member=200, organizer=200, admin=200)
# Who sees the cluster B participant: the marketplace, its cluster's managers.
SEE_B = dict(BROWSERS, manager_b=200)
# Who may change the cluster B participant's profile (organizers): a bad value is 422
# there; those who only see it get 403.
EDIT_B = dict(member=403, manager_b=403, organizer=422, admin=422)
NOT_A_SLOT = ["2020-01-01T09:00:00+00:00"]


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
    # Matchmaking (the world's matchmaking event: see `_build_market`).
    Case("api.marketplace_participants", "published", "GET",
         _market("market", "participants"), api(403, **BROWSERS)),
    # The draft has no matchmaking: nobody browses a marketplace there, its organizers
    # neither (they see the event: 403).
    Case("api.marketplace_participants", "draft", "GET", _market("draft", "participants"),
         api(404, organizer=403, admin=403)),
    Case("api.marketplace_suggestions", "published", "GET", _market("market", "suggestions"),
         api(403, **BROWSERS)),
    Case("api.marketplace_suggestions", "unknown", "GET",
         lambda w: "/api/v1/events/999999/marketplace/suggestions", api(404)),
    # Only the member's registration is approved: they joined already (409).
    Case("api.marketplace_join", "published", "POST", _market("market", "join"),
         api(403, member=409), data=_body({"participant_type": "sme", "consent": True})),
    Case("api.marketplace_join", "draft", "POST", _market("draft", "join"),
         api(404, organizer=403, admin=403),
         data=_body({"participant_type": "sme", "consent": True})),
    Case("api.marketplace_leave", "draft", "POST", _market("draft", "leave"), api(404),
         data=_body({})),
    Case("api.participant", "cluster B's", "GET", _participant("p_b"), api(404, **SEE_B)),
    Case("api.participant", "the member's", "GET", _participant("p_member"),
         api(404, **BROWSERS, manager_a=200)),
    Case("api.participant", "a host region's stakeholder", "GET", _participant("p_stake"),
         api(404, **BROWSERS, host=200)),
    Case("api.participant", "unknown", "GET", lambda w: "/api/v1/participants/999999",
         api(404)),
    # An agenda: the participant's own and the event's organizers'; those who see the
    # participant otherwise get 403.
    Case("api.participant_agenda", "the member's", "GET", _participant("p_member", "/agenda"),
         api(404, member=200, manager_a=403, organizer=200, admin=200)),
    Case("api.participant_agenda", "cluster B's", "GET", _participant("p_b", "/agenda"),
         api(404, member=403, manager_b=403, organizer=200, admin=200)),
    Case("api.participant_agenda", "unknown", "GET",
         lambda w: "/api/v1/participants/999999/agenda", api(404)),
    Case("api.participant_profile", "cluster B's, unknown type", "PUT",
         _participant("p_b", "/profile"), api(404, **EDIT_B),
         data=_body({"participant_type": "no_such_type"})),
    Case("api.participant_unavailable_slots", "cluster B's, not a slot", "PUT",
         _participant("p_b", "/unavailable-slots"), api(404, **EDIT_B),
         data=_body({"slots": NOT_A_SLOT})),
    Case("api.opportunity_add", "cluster B's, unknown type", "POST",
         _participant("p_b", "/opportunities"), api(404, **EDIT_B),
         data=_body({"opportunity_type": "barter", "title": "Swap"})),
    Case("api.opportunity_update", "cluster B's, unknown type", "PUT",
         lambda w: f"/api/v1/opportunities/{w['opp_b']}", api(404, **EDIT_B),
         data=_body({"opportunity_type": "barter", "title": "Swap"})),
    Case("api.opportunity_remove", "unknown", "DELETE",
         lambda w: "/api/v1/opportunities/999999", api(404), data=_body({})),
    Case("api.meeting_requests_list", "list", "GET", lambda w: "/api/v1/meeting-requests",
         api(200)),
    Case("api.meeting_request", "member to cluster B", "GET", _request("r_member_b"),
         api(404, **SEE_B, manager_a=200)),
    Case("api.meeting_request", "stakeholder to cluster B", "GET", _request("r_stake_b"),
         api(404, organizer=200, admin=200, manager_b=200, host=200)),
    Case("api.meeting_request", "unknown", "GET", lambda w: "/api/v1/meeting-requests/999999",
         api(404)),
    # The member asks cluster B's participant for a time that is no slot (422); those
    # who see the receiver without taking part may not ask (403); others do not see it.
    Case("api.meeting_request_new", "not a slot", "POST",
         lambda w: "/api/v1/meeting-requests", api(422, manager_b=403, organizer=403,
                                                   admin=403),
         data=lambda w: {"receiver_id": w["p_b"], "preferred_slots": NOT_A_SLOT}),
    # Cluster B's participant was asked: nobody here answers for them.
    Case("api.meeting_request_accept", "member to cluster B", "POST",
         _request("r_member_b", "/accept"),
         api(404, member=403, manager_a=403, manager_b=403, organizer=403, admin=403),
         data=_body({})),
    # Only its sides choose an accepted meeting's time: this one is not accepted (409).
    Case("api.meeting_request_slot", "member to cluster B", "POST",
         _request("r_member_b", "/slot"),
         api(404, member=409, manager_a=403, manager_b=403, organizer=403, admin=403),
         data=_body({"starts_at": "2020-01-01T09:00:00+00:00"})),
    # The slots its meeting could take: its two sides' (the member asked: none to choose
    # yet); those who see it otherwise may not.
    Case("api.meeting_request_slots", "member to cluster B", "GET",
         _request("r_member_b", "/slots"),
         api(404, member=200, manager_a=403, manager_b=403, organizer=403, admin=403)),
    Case("api.meeting_request_slots", "unknown", "GET",
         lambda w: "/api/v1/meeting-requests/999999/slots", api(404)),
    Case("api.meeting_request_decline", "member to cluster B", "POST",
         _request("r_member_b", "/decline"),
         api(404, member=403, manager_a=403, manager_b=403, organizer=403, admin=403),
         data=_body({"reason": "Not now."})),
    # Declined already: its sides and organizers are told so (409), followers may not.
    Case("api.meeting_request_cancel", "declined, member to stakeholder", "POST",
         _request("r_declined", "/cancel"),
         api(404, member=409, organizer=409, admin=409, manager_a=403, host=403),
         data=_body({"reason": "Plans changed."})),
]


def _snapshot(own_reg: int, other_reg: int) -> tuple:
    """What a refused write could have changed: the two registrations, the check-ins, the
    participants, their opportunities and the meeting requests."""
    rows = lambda *columns: tuple(_db.session.execute(  # noqa: E731
        select(*columns).order_by(columns[0])).all())
    return (_db.session.get(Registration, own_reg, populate_existing=True).status,
            _db.session.get(Registration, other_reg, populate_existing=True).status,
            _db.session.scalar(select(func.count()).select_from(Attendance)),
            rows(Participant.id, Participant.participant_type_id, Participant.sectors,
                 Participant.consent_withdrawn_at),
            rows(Opportunity.id, Opportunity.title, Opportunity.opportunity_type_id),
            rows(MeetingRequest.id, MeetingRequest.status, MeetingRequest.updated_at))


def _build_market(shared) -> dict[str, int]:
    """A published mission of the world's organizers, hosted by its beachhead, with
    matchmaking: the member (cluster A), an applicant of cluster B and a host-region
    stakeholder joined it; the member asked cluster B's participant (requested), the
    stakeholder did too, and the member's request to the stakeholder was declined."""
    make = Factory()
    partner = lambda name: _db.session.get(Partner, shared.ids[name])  # noqa: E731
    user = lambda role: _db.session.get(User, shared.user_ids[role])  # noqa: E731
    organizer = user("organizer")
    event = make.event(organizers=[partner("organizing")], hosts=[partner("beachhead")])
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=organizer)

    def joined(person, kind):
        reg = make.registration(event, person, S.SUBMITTED, S.APPROVED)
        return matchmaking.join(reg.id, JoinIn.from_values(participant_type=kind,
                                                           consent=True), actor=person)

    member = joined(user("member"), "sme")
    b = joined(make.user(make.organization(partner("cluster_b"))), "sme")
    stakeholder = joined(make.user(make.organization(name="Port Authority")),
                         "host_stakeholder")
    offer = matchmaking.add_opportunity(b.id, OpportunityIn.from_values(
        opportunity_type="offer", title="Harbour sensors"), actor=organizer)

    def ask(frm, to):
        return meeting_requests.request(frm.id, MeetingRequestIn.from_values(
            receiver_id=to.id), actor=frm.registration.user)

    declined = ask(member, stakeholder)
    meeting_requests.decline(declined.id, actor=stakeholder.registration.user,
                             reason="Not our field.")
    return dict(market=event.id, p_member=member.id, p_b=b.id, p_stake=stakeholder.id,
                opp_b=offer.id, r_member_b=ask(member, b).id,
                r_stake_b=ask(stakeholder, b).id, r_declined=declined.id)


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
        market = _build_market(shared)
        _db.session.commit()
        result = dict(**market, event=shared.ids["event"], draft=shared.ids["draft"],
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
    kwargs = {"json": case.data(api_world)} if case.method != "GET" else {}
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


@pytest.mark.parametrize("case", [c for c in CASES if c.method != "GET"],
                         ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_a_read_only_token_writes_nothing_anywhere(api_client, api_world, case):
    assert _open(api_client, case, api_world, api_world["read_only"]).status_code == 403


def test_walking_the_matrix_changed_nothing(app, api_world):
    with app.app_context():
        assert _snapshot(api_world["own_reg"], api_world["other_reg"]) == api_world["before"]
        _db.session.remove()

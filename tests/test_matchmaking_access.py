"""The access policy over matchmaking objects (webapp/access.py): who sees an event's
marketplace, a participant, a meeting request, and who answers or cancels one, for every
role; and the scoped query of requests agrees with the object rule for each of them."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from tests import test_meeting_requests
from tests.test_meeting_requests import ask, build_market
from webapp import access
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import JoinIn
from webapp.models import Event
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, meeting_requests

NOW = test_meeting_requests.NOW  # the frozen clock's time

ROLES = ["requester", "receiver", "bystander", "outsider", "stakeholder", "member",
         "requesters_manager", "other_manager", "organizer", "host", "other_host", "admin",
         "anonymous"]


@pytest.fixture
def world(make, frozen):
    """Two participants of one cluster with a request between them, a third one who
    looks on, a host-region stakeholder with a request of their own, and a participant
    of another event."""
    market = build_market(make, people=3)
    event = _db.session.get(Event, market.event_id)
    beachhead, other_beachhead = make.beachhead(), make.beachhead()
    event.hosts = [beachhead]
    stakeholder_user = make.user(make.organization(None), name="Stake Holder")
    reg = make.registration(event, stakeholder_user, S.SUBMITTED, S.APPROVED)
    stakeholder = matchmaking.join(reg.id, JoinIn.from_values(
        participant_type="host_stakeholder", consent=True), actor=stakeholder_user)
    elsewhere = build_market(make, people=1)
    cluster_id = market.people[0].registration.responsible_partner_id
    users = {
        "requester": market.user(0), "receiver": market.user(1), "bystander": market.user(2),
        "outsider": elsewhere.user(0), "stakeholder": stakeholder_user,
        "member": make.user(make.organization()),
        "requesters_manager": make.manager(market.people[0].registration.responsible_partner),
        "other_manager": make.manager(make.partner()),
        "organizer": market.organizer, "host": make.host(beachhead),
        "other_host": make.host(other_beachhead), "admin": make.admin(),
        "anonymous": AnonymousUserMixin(),
    }
    assert cluster_id is not None
    request = ask(market, 0, 1)
    stakeholders_request = meeting_requests_request(market, stakeholder)
    return dict(market=market, event=event, users=users, request=request,
                stakeholder=stakeholder, stakeholders_request=stakeholders_request)


def meeting_requests_request(market, receiver):
    from webapp.inputs.matchmaking import MeetingRequestIn
    from webapp.services import meeting_requests

    return meeting_requests.request(market.people[2].id, MeetingRequestIn.from_values(
        receiver_id=receiver.id), actor=market.user(2))


def allowed(world, action, target) -> set[str]:
    return {role for role, user in world["users"].items() if access.can(user, action, target)}


def test_the_marketplace_is_its_participants_and_its_organizers(world):
    assert allowed(world, "matchmaking.marketplace", world["event"]) == {
        "requester", "receiver", "bystander", "stakeholder", "organizer", "admin"}
    assert allowed(world, "matchmaking.manage", world["event"]) == {"organizer", "admin"}


def test_an_event_never_given_matchmaking_has_no_marketplace_even_for_its_organizers(
        world, make):
    organizing = world["event"].organizers[0]
    plain = make.event(organizers=[organizing])
    assert allowed(world, "matchmaking.manage", plain) == {"organizer", "admin"}
    assert allowed(world, "matchmaking.marketplace", plain) == set()


def test_a_participant_is_seen_in_their_event_and_by_those_who_follow_them(world):
    requester = world["market"].people[0]
    assert allowed(world, "participant.view", requester) == {
        "requester", "receiver", "bystander", "stakeholder", "requesters_manager",
        "organizer", "admin"}
    assert allowed(world, "participant.view", world["stakeholder"]) == {
        "requester", "receiver", "bystander", "stakeholder", "organizer", "host", "admin"}
    assert allowed(world, "participant.edit", requester) == {"requester", "organizer", "admin"}
    assert allowed(world, "participant.request_meeting", requester) == {
        "receiver", "bystander", "stakeholder"}


def test_a_meeting_request_is_seen_by_its_sides_and_those_who_follow_them(world):
    request = world["request"]
    assert allowed(world, "meeting_request.view", request) == {
        "requester", "receiver", "requesters_manager", "organizer", "admin"}
    assert allowed(world, "meeting_request.view", world["stakeholders_request"]) == {
        "bystander", "stakeholder", "requesters_manager", "organizer", "host", "admin"}
    assert allowed(world, "meeting_request.answer", request) == {"receiver"}
    assert allowed(world, "meeting_request.cancel", request) == {
        "requester", "receiver", "organizer", "admin"}


def test_joining_is_for_the_approved_registrant_while_matchmaking_is_on(world, make):
    registration = world["market"].people[0].registration
    assert allowed(world, "matchmaking.join", registration) == {"requester"}
    matchmaking.switch_off(world["event"].id, actor=None)
    assert allowed(world, "matchmaking.join", registration) == set()
    assert allowed(world, "matchmaking.marketplace", world["event"]) == {"organizer", "admin"}


def test_the_scoped_requests_match_the_view_rule_for_every_role(world):
    requests = [world["request"], world["stakeholders_request"]]
    for role, user in world["users"].items():
        listed = set(_db.session.scalars(access.meeting_requests_visible_to(user,
                                                                            world["event"])))
        expected = {r for r in requests if access.can(user, "meeting_request.view", r)}
        assert listed == expected, role


def test_a_withdrawn_consent_takes_the_participant_out_of_everyone_elses_view(world):
    receiver = world["market"].people[1]
    matchmaking.withdraw_consent(receiver.id, actor=world["users"]["receiver"])
    assert allowed(world, "participant.view", receiver) == {
        "receiver", "requesters_manager", "organizer", "admin"}
    assert allowed(world, "participant.request_meeting", receiver) == set()


def test_contact_details_show_to_the_other_side_only_while_their_meeting_stands(world):
    requester, request = world["market"].people[0], world["request"]
    users = world["users"]
    # Before an answer: the participant, and those who see a delegate's details anyway.
    assert allowed(world, "participant.contact", requester) == {
        "requester", "requesters_manager", "organizer", "admin"}
    meeting_requests.accept(request.id, actor=users["receiver"])
    assert allowed(world, "participant.contact", requester) == {
        "requester", "receiver", "requesters_manager", "organizer", "admin"}
    assert allowed(world, "participant.contact", world["market"].people[1]) >= {
        "requester", "receiver"}
    meeting_requests.cancel(request.id, actor=users["requester"], reason="Plans changed")
    assert "receiver" not in allowed(world, "participant.contact", requester)


def test_hosts_see_a_delegates_contact_details_only_once_the_delegate_agreed(world):
    requester = world["market"].people[0]
    assert "host" not in allowed(world, "participant.contact", requester)
    requester.registration.contact_consent_at = NOW
    _db.session.flush()
    assert "host" in allowed(world, "participant.contact", requester)
    assert "other_host" not in allowed(world, "participant.contact", requester)

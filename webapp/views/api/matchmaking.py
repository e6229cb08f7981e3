"""Matchmaking in the API: an event's marketplace (its search, your suggested matches,
joining and leaving it), participants' profiles, their opportunities and unavailable
slots, meeting requests with their meetings' time and place and the slots free for
them, and participants' agendas, under the same scopes and through the same services as
the pages.

Refusals: an event, participant, opportunity or request outside what you may see is 404,
as an unknown id; one you see but your roles do not let you change is 403; a refusal of
the domain is 409 with its stable `code` (422, pointing at the field, where it is about
a value of the body: an unknown type, a time that is not a meeting slot), and nothing
changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ... import access
from ...extensions import db
from ...inputs.matchmaking import AcceptIn, SlotChoiceIn
from ...models import Event, MeetingRequest, Opportunity, Participant, Registration, User
from ...models import MeetingRequestStatus as M
from ...problems import ApiProblem
from ...services import agenda, marketplace, matchmaking, meeting_requests
from ...services.errors import DomainError
from . import keyset, present, schemas
from .events import visible_event
from .registry import operation

# The domain's refusals that are about one value of the body: where it is.
FIELD_REFUSALS = {
    "matchmaking.type_unknown": "/participant_type",
    "matchmaking.opportunity_type_unknown": "/opportunity_type",
    "matchmaking.consent_needed": "/consent",
}


def _me() -> User:
    return current_user._get_current_object()


@contextmanager
def _refusals(*, slots: str = "/slots") -> Iterator[None]:
    """A refusal of the domain inside as its problem: 422 at the field of the body it is
    about (`slots`: the field of meeting slots), else 409."""
    try:
        yield
    except DomainError as refusal:
        pointer = FIELD_REFUSALS.get(refusal.code) or (
            slots if refusal.code == "matchmaking.not_a_slot" else None)
        if pointer is None:
            raise ApiProblem.refusing(409, refusal) from None
        raise ApiProblem.refusing(422, refusal, errors=[
            {"pointer": pointer, "detail": refusal.message}]) from None


def _own_participant(event_id: int) -> Participant | None:
    """The token owner's participation in the event's matchmaking (None: they take none)."""
    return db.session.scalar(select(Participant).join(Participant.registration).where(
        Participant.event_id == event_id, Registration.user_id == current_user.id))


# --------------------------------------------------------------------------- the marketplace


def _marketplace(event_id: int) -> Event:
    event = visible_event(event_id)
    if not access.can(current_user, "matchmaking.marketplace", event):
        raise ApiProblem(403, "The marketplace is for the event's participants who joined it "
                              "(POST /events/{event_id}/marketplace/join) and its organizers.")
    return event


@operation("GET", "/events/{event_id}/marketplace/participants", tag="matchmaking",
           summary="Search the event's marketplace", response=schemas.MarketplacePage,
           problems=(403, 404), kept=True)
def marketplace_participants(path: schemas.EventPath, query: schemas.MarketplaceQuery):
    """The event's participants who joined its marketplace, yourself aside, as its page
    lists them: by organization name in the language Accept-Language asks for. Every
    filter given must match; with `type` each participant is listed with their
    opportunities of that type only. Contact details are on a participant's own
    resource, once you have an accepted meeting with them."""
    event = _marketplace(path.event_id)
    found = marketplace.search(
        _me(), event, text=query.q or "", opportunity_type=query.type, sector=query.sector,
        country=query.country, participant_type=query.participant_type, page=query.page,
        limit=query.per_page)
    next_url = None
    if found.has_next:
        args = {name: value for name, value in request.args.items() if name != "page"}
        next_url = url_for(request.endpoint, **request.view_args, **args,
                           page=query.page + 1, _external=True)
    return schemas.MarketplacePage.model_validate({
        "items": [present.marketplace_participant_fields(listing.participant,
                                                         listing.opportunities)
                  for listing in found.items],
        "page": found.page, "per_page": found.per_page, "total": found.total,
        "next": next_url})


@operation("GET", "/events/{event_id}/marketplace/suggestions", tag="matchmaking",
           summary="Your suggested matches in the event's marketplace",
           response=schemas.Suggestions, problems=(403, 404), kept=True)
def marketplace_suggestions(path: schemas.EventPath):
    """The participants best matched to you, each with its score and its reasons as data:
    their offers that meet your requests and the other way round (with both titles), the
    tags and sectors you share. Left out: those your type may not ask, and those you have
    an open request with. Empty for those who browse without taking part (organizers)."""
    event = _marketplace(path.event_id)
    mine = _own_participant(event.id)
    found = marketplace.suggestions(mine) if mine is not None else []
    return schemas.Suggestions.model_validate(
        {"items": [present.suggestion_fields(suggestion) for suggestion in found]})


@operation("POST", "/events/{event_id}/marketplace/join", tag="matchmaking",
           summary="Join the event's marketplace", response=schemas.ParticipantDetail,
           status=201, write=True, problems=(403, 404, 409))
def marketplace_join(path: schemas.EventPath, body: schemas.JoinIn):
    """With your approved registration, while the event's matchmaking is on: others of
    the marketplace see your profile and opportunities from now on (the consent is
    stored with its time and text version). After leaving, join again the same way."""
    me = _me()
    event = visible_event(path.event_id)
    reg = db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.user_id == me.id))
    if reg is None or not access.can(me, "matchmaking.join", reg):
        raise ApiProblem(403, "The event's marketplace takes its approved registrants, while "
                              "its matchmaking is on.")
    with _refusals():
        participant = matchmaking.join(reg.id, body, actor=me)
    return _detail(_participant(participant.id)), 201


@operation("POST", "/events/{event_id}/marketplace/leave", tag="matchmaking",
           summary="Leave the event's marketplace (withdraw your consent)",
           response=schemas.ParticipantDetail, write=True, problems=(404,))
def marketplace_leave(path: schemas.EventPath, body: schemas.EmptyIn):
    """At once: nobody else sees you any more, and your open requests and accepted
    meetings are cancelled, the other sides told. Send an empty object."""
    me = _me()
    event = visible_event(path.event_id)
    participant = _own_participant(event.id)
    if participant is None:
        raise ApiProblem(404, "You take no part in this event's marketplace.")
    matchmaking.withdraw_consent(participant.id, actor=me)
    return _detail(_participant(participant.id))


# --------------------------------------------------------------------------- participants


def _participant(participant_id: int, action: str | None = None) -> Participant:
    """The participant, with what their resource shows, if the token's owner may see them
    (404 otherwise) and may perform `action` on them (403 otherwise)."""
    participant = db.session.scalar(
        select(Participant).where(Participant.id == participant_id).options(
            joinedload(Participant.registration).joinedload(Registration.user)
            .joinedload(User.organization),
            joinedload(Participant.event), joinedload(Participant.participant_type),
            selectinload(Participant.opportunities).joinedload(Opportunity.opportunity_type),
            selectinload(Participant.unavailable))
        .execution_options(populate_existing=True))
    if participant is None or not access.can(current_user, "participant.view", participant):
        raise ApiProblem(404, f"No participant {participant_id}, or not one you may see.")
    if action is not None and not access.can(current_user, action, participant):
        raise ApiProblem(403, "Only the participant and the event's organizers change a "
                              "participant's profile.")
    return participant


def _detail(participant: Participant) -> schemas.ParticipantDetail:
    """The participant's resource, with their contact details where the policy shows
    them (`participant.contact`), as their page does."""
    me = _me()
    contact = access.can(me, "participant.contact", participant)
    return present.participant_detail(me, participant, contact=contact)


def _opportunity_participant(opportunity_id: int) -> Participant:
    participant_id = db.session.scalar(select(Opportunity.participant_id).where(
        Opportunity.id == opportunity_id))
    if participant_id is None:
        raise ApiProblem(404, f"No opportunity {opportunity_id}, or not one you may see.")
    return _participant(participant_id, "participant.edit")


def _participant_changed(participant_id: int, step, body) -> schemas.ParticipantDetail:
    """`step` (a service's) with `body` on a participant the token's owner may edit: the
    participant as it is then."""
    me = _me()
    found = _participant(participant_id, "participant.edit")
    with _refusals():
        step(found.id, body, actor=me)
    return _detail(_participant(found.id))


@operation("GET", "/participants/{participant_id}", tag="matchmaking",
           summary="A participant's profile and opportunities",
           response=schemas.ParticipantDetail, problems=(404,))
def participant(path: schemas.ParticipantPath):
    """Yours; another of your event's marketplace; and those you follow (the event's
    organizers, their cluster's managers, the hosts for the host region's
    stakeholders). Contact details as the participant's page shows them (see `contact`);
    null otherwise."""
    return _detail(_participant(path.participant_id))


@operation("GET", "/participants/{participant_id}/agenda", tag="matchmaking",
           summary="A participant's agenda of meetings", response=schemas.Agenda,
           problems=(403, 404))
def participant_agenda(path: schemas.ParticipantPath):
    """Yours, and for the event's organizers any of its participants' (those who see the
    participant otherwise: 403). As the agenda's page shows it: the accepted meetings
    whose time and place are shown to their participants (the schedule is published, or
    the meeting is locked) in time order, then those not scheduled yet; each with the
    other side's organization and contact person, whose email and phone as the
    participant's page shows them (`participant.contact`)."""
    me = _me()
    found = _participant(path.participant_id)
    if not access.can(me, "participant.agenda", found):
        raise ApiProblem(403, "A participant's agenda is theirs and the event's organizers'.")
    return present.agenda(me, agenda.agenda_of(found, me))


@operation("PUT", "/participants/{participant_id}/profile", tag="matchmaking",
           summary="Change a participant's profile", response=schemas.ParticipantDetail,
           write=True, problems=(403, 404, 409))
def participant_profile(path: schemas.ParticipantPath, body: schemas.ProfileIn):
    """Their type and tags (sectors, technologies: one per line or comma separated), by
    the participant or the event's organizers."""
    return _participant_changed(path.participant_id, matchmaking.update_profile, body)


@operation("PUT", "/participants/{participant_id}/unavailable-slots", tag="matchmaking",
           summary="Set the slots a participant cannot meet in",
           response=schemas.ParticipantDetail, write=True, problems=(403, 404, 409))
def participant_unavailable_slots(path: schemas.ParticipantPath,
                                  body: schemas.UnavailableSlotsIn):
    """All of them, replacing the earlier ones: each the start of one of the event's
    meeting slots (`available_slots` and `unavailable_slots` of the participant)."""
    return _participant_changed(path.participant_id, matchmaking.set_unavailable, body)


@operation("POST", "/participants/{participant_id}/opportunities", tag="matchmaking",
           summary="Publish an opportunity", response=schemas.OpportunityOut, status=201,
           write=True, problems=(403, 404, 409))
def opportunity_add(path: schemas.ParticipantPath, body: schemas.OpportunityIn):
    """An offer, a request or one of the organizers' own types (`opportunity_type`, a
    key), with its tags one per line."""
    me = _me()
    found = _participant(path.participant_id, "participant.edit")
    with _refusals():
        item = matchmaking.add_opportunity(found.id, body, actor=me)
    return present.opportunity(item), 201


@operation("PUT", "/opportunities/{opportunity_id}", tag="matchmaking",
           summary="Change an opportunity", response=schemas.OpportunityOut, write=True,
           problems=(403, 404, 409))
def opportunity_update(path: schemas.OpportunityPath, body: schemas.OpportunityIn):
    me = _me()
    _opportunity_participant(path.opportunity_id)
    with _refusals():
        item = matchmaking.update_opportunity(path.opportunity_id, body, actor=me)
    return present.opportunity(item)


@operation("DELETE", "/opportunities/{opportunity_id}", tag="matchmaking",
           summary="Remove an opportunity", response=schemas.ParticipantDetail, write=True,
           problems=(403, 404))
def opportunity_remove(path: schemas.OpportunityPath, body: schemas.EmptyIn):
    """Answers with its participant as they are now. Send an empty object."""
    me = _me()
    found = _opportunity_participant(path.opportunity_id)
    matchmaking.remove_opportunity(path.opportunity_id, actor=me)
    return _detail(_participant(found.id))


# --------------------------------------------------------------------------- meeting requests


def _sides():
    return [joinedload(side).joinedload(Participant.registration).joinedload(Registration.user)
            .joinedload(User.organization) for side in (MeetingRequest.requester,
                                                        MeetingRequest.receiver)] + [
        joinedload(side).joinedload(Participant.participant_type)
        for side in (MeetingRequest.requester, MeetingRequest.receiver)]


def _loaded():
    """What a meeting request's resource shows, loaded with it (a page: a fixed number of
    queries)."""
    return (joinedload(MeetingRequest.event).selectinload(Event.organizers), *_sides())


def _visible_request(request_id: int, action: str | None = None) -> MeetingRequest:
    found = db.session.scalar(access.meeting_requests_visible_to(current_user).where(
        MeetingRequest.id == request_id).options(*_loaded()))
    if found is None:
        raise ApiProblem(404, f"No meeting request {request_id}, or not one you may see.")
    if action is not None and not access.can(current_user, action, found):
        raise ApiProblem(403, "Only the participant who was asked answers a request; its "
                              "two sides and the event's organizers cancel it.")
    return found


@operation("GET", "/meeting-requests", tag="matchmaking",
           summary="The meeting requests you may see", response=schemas.MeetingRequestPage,
           kept=True)
def meeting_requests_list(query: schemas.MeetingRequestQuery):
    """Yours (sent and received), and those you follow: every request of the events you
    organize, your clusters' participants', and as a host your region's stakeholders'.
    Newest first. The other side's contact details only on your own accepted ones."""
    scope = access.meeting_requests_visible_to(current_user)
    if query.event is not None:
        scope = scope.where(MeetingRequest.event_id == query.event)
    if query.status is not None:
        scope = scope.where(MeetingRequest.status == query.status)
    found = keyset.page(scope.options(*_loaded()),
                        (keyset.Key(MeetingRequest.id, descending=True),),
                        cursor=query.cursor, per_page=query.per_page, page_number=query.page,
                        count=query.count)
    me = _me()
    placements = present.meeting_placements(found.rows)
    return schemas.MeetingRequestPage.model_validate({
        "items": [present.meeting_request_fields(me, req, placements) for req in found.rows],
        **found.fields()})


@operation("GET", "/meeting-requests/{request_id}", tag="matchmaking",
           summary="One meeting request", response=schemas.MeetingRequestOut,
           problems=(404,))
def meeting_request(path: schemas.MeetingRequestPath):
    return present.meeting_request(_me(), _visible_request(path.request_id))


@operation("GET", "/meeting-requests/{request_id}/slots", tag="matchmaking",
           summary="The slots a meeting request's meeting could take now",
           response=schemas.MeetingSlots, problems=(403, 404))
def meeting_request_slots(path: schemas.MeetingRequestPath):
    """For its two sides, as its page offers them: the slots when both are free and a
    meeting point too (none without meeting points), the requester's preferred ones first.
    To the participant asked while it is requested, to accept with (`action`: `accept`);
    to either side of an accepted meeting that has no place they see yet, while the
    schedule is not final (`slot`); otherwise none. A slot may be taken by the time you
    choose it: the write then says so (409)."""
    me = _me()
    found = _visible_request(path.request_id)
    answers = access.can(me, "meeting_request.answer", found)
    if not answers and not access.can(me, "meeting_request.place", found):
        raise ApiProblem(403, "Only the meeting's two sides choose its time.")
    action = ("accept" if answers and found.status == M.REQUESTED
              else "slot" if meeting_requests.may_choose_slot(found, me) else None)
    return present.meeting_slots(
        action, meeting_requests.free_slots(found) if action is not None else [])


@operation("POST", "/meeting-requests", tag="matchmaking",
           summary="Ask another participant for a meeting",
           response=schemas.MeetingRequestOut, status=201, write=True, problems=(403, 409))
def meeting_request_new(body: schemas.MeetingRequestIn):
    """You ask as your participation in the receiver's event: `accepted` at once where
    the event's request mode is instant, else `requested` until they answer or it
    expires. A receiver you may not see is 422; asking yourself, someone your type may
    not ask, outside the request window, in a slot they blocked, or a second open
    request between you two is 409 with its code."""
    me = _me()
    receiver = db.session.get(Participant, body.receiver_id)
    if receiver is None or not access.can(me, "participant.view", receiver):
        detail = f"No participant {body.receiver_id}, or not one you may see."
        raise ApiProblem(422, detail, errors=[{"pointer": "/receiver_id", "detail": detail}])
    mine = _own_participant(receiver.event_id)
    if mine is None:
        raise ApiProblem(403, "Only the event's participants ask each other for meetings: "
                              "join its marketplace first.")
    with _refusals(slots="/preferred_slots"):
        made = meeting_requests.request(mine.id, body, actor=me)
    return present.meeting_request(me, _visible_request(made.id)), 201


def _answered(request_id: int, action: str, move, **reason) -> schemas.MeetingRequestOut:
    """`move` (a service's step) on a request the token's owner may see and may `action`."""
    me = _me()
    _visible_request(request_id, action)
    with _refusals():
        move(request_id, actor=me, **reason)
    return present.meeting_request(me, _visible_request(request_id))


@operation("POST", "/meeting-requests/{request_id}/accept", tag="matchmaking",
           summary="Accept a meeting request", response=schemas.MeetingRequestOut,
           write=True, problems=(403, 404, 409))
def meeting_request_accept(path: schemas.MeetingRequestPath, body: AcceptIn):
    """By the participant who was asked, while it is requested; both sides then see each
    other's contact details. With `starts_at`, a slot when both sides are free and a
    meeting point too, the meeting is placed there (locked) at the first free meeting
    point; a slot no longer free is 409 with its code (`schedule.slot_blocked`,
    `schedule.side_busy`, `schedule.no_free_point`), one that is not the event's 422, and
    the request stays requested. Without it (`{}`), the organizers place the meeting."""
    me = _me()
    _visible_request(path.request_id, "meeting_request.answer")
    with _refusals(slots="/starts_at"):
        meeting_requests.accept(path.request_id, actor=me, starts_at=body.starts_at)
    return present.meeting_request(me, _visible_request(path.request_id))


@operation("POST", "/meeting-requests/{request_id}/slot", tag="matchmaking",
           summary="Choose the time of an accepted meeting",
           response=schemas.MeetingRequestOut, write=True, problems=(403, 404, 409))
def meeting_request_slot(path: schemas.MeetingRequestPath, body: SlotChoiceIn):
    """By either side of an accepted meeting that has no place they see yet, while the
    schedule is not final: placed (locked) at `starts_at`, a slot when both are free, at
    the first free meeting point; both are mailed. A slot no longer free is 409 with its
    code, one that is not the event's 422; a meeting placed already is 409
    (`meeting_request.placed_already`)."""
    _visible_request(path.request_id, "meeting_request.place")
    with _refusals(slots="/starts_at"):
        meeting_requests.choose_slot(path.request_id, actor=_me(), starts_at=body.starts_at)
    return present.meeting_request(_me(), _visible_request(path.request_id))


@operation("POST", "/meeting-requests/{request_id}/decline", tag="matchmaking",
           summary="Decline a meeting request", response=schemas.MeetingRequestOut,
           write=True, problems=(403, 404, 409))
def meeting_request_decline(path: schemas.MeetingRequestPath, body: schemas.ReasonIn):
    """By the participant who was asked, while it is requested, saying why: the other
    side receives it."""
    return _answered(path.request_id, "meeting_request.answer", meeting_requests.decline,
                     reason=body.reason)


@operation("POST", "/meeting-requests/{request_id}/cancel", tag="matchmaking",
           summary="Cancel a meeting request or an accepted meeting",
           response=schemas.MeetingRequestOut, write=True, problems=(403, 404, 409))
def meeting_request_cancel(path: schemas.MeetingRequestPath, body: schemas.ReasonIn):
    """By either side or the event's organizers, while it is requested or accepted,
    saying why: the other side receives it."""
    return _answered(path.request_id, "meeting_request.cancel", meeting_requests.cancel,
                     reason=body.reason)

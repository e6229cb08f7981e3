"""The meeting request state machine: the only code that changes a request's status.

    (new)     -> requested | accepted (the event's request mode is "instant")
    requested -> accepted | declined | expired | cancelled
    accepted  -> cancelled

A participant asks another of the same event's marketplace for a meeting, with a short
message and, optionally, preferred slots. Refused, with nothing changed: a request to
oneself, to a participant of another event, to or from someone not (or no longer) in the
marketplace, one the event's matrix of participant types forbids, one outside the
request window, for a slot that is not one or that the receiver blocked, and a second
open one for a pair (the database also refuses it: a partial unique index).

The receiver accepts or declines (with a reason); an unanswered request expires after
the event's limit (`expire_due`, run by `flask tick`); either side cancels (with a
reason), and so do the event's organizers. A registration withdrawn or cancelled, a
consent withdrawn and the event cancelled end the participant's open requests and
meetings (`end_for_registration`, `end_for_participants`, `end_for_event`).

Every move writes an AuditEntry and queues a mail to both sides, each in their language
(services.meeting_mail), in the caller's unit of work; nothing here commits. Each move
locks the request's two participants first (services.locking.lock_participants, in the
order of their ids), then reads the request afresh and checks the move against its
status then: of many accepts and cancels of one request at once, each sees the outcome
of the one before it.

A meeting's time and place. As they accept, the receiver may pick one of the free common
slots (`free_slots`: neither side blocked it or meets someone else then, and a meeting
point is free; the requester's preferred ones first), or leave it to the organizers'
"schedule all". A picked slot places the meeting there at the first free meeting point,
locked (services.meeting_schedule.place), in the same step as the accept: when the slot
is no longer free, the accept is refused with the slot's reason and nothing changes (the
request stays requested). In the instant request mode the request is accepted as it is
sent, with no slot: the organizers place it, or its sides pick a slot afterwards.
Afterwards, either side may pick a free common slot for their accepted meeting
(`choose_slot`, the same rule and the same placing) while it has no place they see: not
placed yet, or placed only in the organizers' unpublished draft; and never in a final
schedule. A meeting whose place they see is the organizers' to move. Placing a meeting
locks the event's schedule after the pair, so that placements in one event queue one
behind another, and writes an AuditEntry ("meeting.placed"); the accept's mail says the
time and place, and a slot picked later is mailed to both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..extensions import db
from ..inputs.matchmaking import MeetingRequestIn
from ..models import (
    OPEN_REQUEST_STATUSES,
    AuditEntry,
    Meeting,
    MeetingRequest,
    Participant,
    Registration,
    RegistrationStatus,
    RequestMode,
    ScheduleState,
    UnavailableSlot,
    User,
    utcnow,
)
from ..models import MeetingRequestStatus as M
from ..models.matchmaking import CANCEL_CAUSES
from . import matchmaking_settings, meeting_mail, meeting_schedule
from .errors import MatchmakingRefused
from .locking import lock_participants

TRANSITIONS: dict[M | None, frozenset[M]] = {
    None: frozenset({M.REQUESTED, M.ACCEPTED}),
    M.REQUESTED: frozenset({M.ACCEPTED, M.DECLINED, M.EXPIRED, M.CANCELLED}),
    M.ACCEPTED: frozenset({M.CANCELLED}),
    M.DECLINED: frozenset(),
    M.EXPIRED: frozenset(),
    M.CANCELLED: frozenset(),
}


def can_transition(from_status: M | None, to_status: M) -> bool:
    return to_status in TRANSITIONS[from_status]


def _move(req: MeetingRequest, to_status: M, *, actor: User | None, action: str,
          reason: str = "", cause: str | None = None, now: datetime | None = None,
          mail: bool = True) -> AuditEntry:
    from_status = req.status
    if not can_transition(from_status, to_status):
        raise MatchmakingRefused("meeting_request.no_longer_open", status=from_status)
    now = now or utcnow()
    req.status = to_status
    req.updated_at = now
    if to_status in (M.ACCEPTED, M.DECLINED):
        req.decided_at = now
    if to_status in (M.DECLINED, M.CANCELLED):
        req.reason = reason
        req.cause = cause
    if from_status == M.ACCEPTED:  # a meeting called off frees its slot and table
        meeting_schedule.unplace_request(req.id)
    if req.id is None:
        db.session.add(req)
        db.session.flush()
    entry = AuditEntry(
        created_at=now, actor=actor, action=action, event_id=req.event_id,
        subject_type="meeting_request", subject_id=req.id,
        from_status=from_status and from_status.value, to_status=to_status.value,
        reason=reason, details={"cause": cause} if cause else {},
    )
    db.session.add(entry)
    if mail:
        meeting_mail.transitioned(req, from_status, to_status)
    return entry


def _in_marketplace(participant: Participant) -> bool:
    return (participant.consents
            and participant.registration.status == RegistrationStatus.APPROVED)


def open_between(first_id: int, second_id: int) -> MeetingRequest | None:
    return db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.between(first_id, second_id),
        MeetingRequest.status.in_(OPEN_REQUEST_STATUSES)))


def own_participant(event_id: int, user: User) -> Participant | None:
    """`user`'s participant in the event's matchmaking, while their registration is
    approved (None: they take no part)."""
    return db.session.scalar(
        select(Participant).join(Participant.registration).where(
            Participant.event_id == event_id, Registration.user_id == user.id,
            Registration.status == RegistrationStatus.APPROVED))


def requester_in(event_id: int, user: User) -> Participant:
    """The participant `user` asks for meetings as at the event: refused when they take
    no part in its marketplace."""
    participant = own_participant(event_id, user)
    if participant is None or not participant.consents:
        raise MatchmakingRefused("meeting_request.own_consent_needed")
    return participant


def offered_slots(receiver: Participant) -> list[tuple[datetime, datetime]]:
    """The meeting slots (start, end) one may prefer when asking `receiver`: the event's,
    but those the receiver blocked."""
    matchmaking = matchmaking_settings.of_event(receiver.event_id)
    if matchmaking is None:
        return []
    blocked = set(db.session.scalars(select(UnavailableSlot.starts_at).where(
        UnavailableSlot.participant_id == receiver.id)))
    length = timedelta(minutes=matchmaking.meeting_minutes)
    return [(start, start + length) for start in matchmaking.slot_starts()
            if start not in blocked]


def history(request_id: int) -> list[AuditEntry]:
    """A request's moves, the first first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "meeting_request",
                                 AuditEntry.subject_id == request_id)
        .order_by(AuditEntry.created_at, AuditEntry.id)))


def request(requester_id: int, data: MeetingRequestIn, *, actor: User | None
            ) -> MeetingRequest:
    """`requester_id` (a participant) asks `data.receiver_id` for a meeting; accepted at
    once when the event's request mode is instant."""
    if requester_id == data.receiver_id:
        raise MatchmakingRefused("meeting_request.to_oneself")
    locked = lock_participants([requester_id, data.receiver_id])
    requester, receiver = locked.get(requester_id), locked.get(data.receiver_id)
    if requester is None or not _in_marketplace(requester):
        raise MatchmakingRefused("meeting_request.own_consent_needed")
    if receiver is None:
        raise MatchmakingRefused("meeting_request.not_in_marketplace")
    if receiver.event_id != requester.event_id:
        raise MatchmakingRefused("meeting_request.other_event")
    if not _in_marketplace(receiver):
        raise MatchmakingRefused("meeting_request.not_in_marketplace")
    matchmaking = matchmaking_settings.enabled(requester.event_id)
    now = utcnow()
    if not matchmaking.requests_open(now):
        raise MatchmakingRefused("meeting_request.window_closed")
    if not matchmaking.allows(requester.participant_type_id, receiver.participant_type_id):
        raise MatchmakingRefused("meeting_request.type_not_allowed")
    slots = sorted(set(data.preferred_slots))
    if not set(slots) <= set(matchmaking.slot_starts()):
        raise MatchmakingRefused("matchmaking.not_a_slot")
    if slots and db.session.scalar(select(UnavailableSlot.id).where(
            UnavailableSlot.participant_id == receiver.id,
            UnavailableSlot.starts_at.in_(slots)).limit(1)) is not None:
        raise MatchmakingRefused("meeting_request.slot_blocked")
    if open_between(requester.id, receiver.id) is not None:
        raise MatchmakingRefused("meeting_request.already_open")
    instant = matchmaking.request_mode == RequestMode.INSTANT
    low, high = sorted((requester.id, receiver.id))
    req = MeetingRequest(
        event_id=requester.event_id, requester=requester, receiver=receiver,
        pair_low=low, pair_high=high, message=data.message,
        preferred_slots=[slot.isoformat() for slot in slots], created_at=now,
        expires_at=None if instant else now + timedelta(hours=matchmaking.request_expiry_hours),
    )
    if instant:
        _move(req, M.ACCEPTED, actor=actor, action="meeting_request.accepted_at_once", now=now)
    else:
        _move(req, M.REQUESTED, actor=actor, action="meeting_request.requested", now=now)
    return req


def _locked_request(request_id: int) -> MeetingRequest:
    """Lock the request's pair, then read it as it is now."""
    pair = db.session.execute(select(MeetingRequest.requester_id, MeetingRequest.receiver_id)
                              .where(MeetingRequest.id == request_id)).one()
    lock_participants(pair)
    return db.session.execute(
        select(MeetingRequest).where(MeetingRequest.id == request_id)
        .execution_options(populate_existing=True)).scalar_one()


def _check_actor(actor: User, req: MeetingRequest, rule: str, refusal: str) -> None:
    if not access.can(actor, rule, req):
        raise MatchmakingRefused(refusal)


def accept(request_id: int, *, actor: User, starts_at: datetime | None = None
           ) -> MeetingRequest:
    """The receiver accepts: both sides now see each other's contact details. With
    `starts_at`, a free common slot (`free_slots`), the meeting is placed there in the
    same step; a slot no longer free refuses the accept, nothing changed."""
    req = _locked_request(request_id)
    _check_actor(actor, req, "meeting_request.answer", "meeting_request.receiver_only")
    now = utcnow()
    if req.status == M.REQUESTED and req.expires_at is not None and now >= req.expires_at:
        # Past its time, not yet expired by tick: as good as expired.
        raise MatchmakingRefused("meeting_request.no_longer_open", status=M.EXPIRED)
    if req.status == M.REQUESTED and not _in_marketplace(req.requester):
        # Its registration was reopened meanwhile: no meeting until it is approved again.
        raise MatchmakingRefused("meeting_request.not_in_marketplace")
    if starts_at is None:
        _move(req, M.ACCEPTED, actor=actor, action="meeting_request.accepted", now=now)
        return req
    from_status = req.status
    # The slot is judged against the request accepted; refused, the savepoint takes the
    # accept back with it.
    with db.session.begin_nested():
        _move(req, M.ACCEPTED, actor=actor, action="meeting_request.accepted", now=now,
              mail=False)
        meeting = _place(req, starts_at, actor=actor, while_final=True)
    meeting_mail.transitioned(req, from_status, M.ACCEPTED, meeting=meeting)
    return req


def _place(req: MeetingRequest, starts_at: datetime, *, actor: User, while_final: bool
           ) -> Meeting:
    """The meeting of `req` at `starts_at`, at its first free meeting point, locked there,
    and audited."""
    meeting = meeting_schedule.place(req, starts_at, lock=True, while_final=while_final)
    db.session.add(AuditEntry(
        actor=actor, action="meeting.placed", event_id=req.event_id, subject_type="meeting",
        subject_id=meeting.id, details={"request_id": req.id,
                                        "starts_at": meeting.starts_at.isoformat(),
                                        "point_id": meeting.point_id}))
    db.session.flush()
    return meeting


def choose_slot(request_id: int, *, actor: User, starts_at: datetime) -> Meeting:
    """Either side of an accepted meeting with no place they see yet puts it at
    `starts_at`, a free common slot, while the schedule is not final (see the module's
    text); both sides are mailed."""
    req = _locked_request(request_id)
    _check_actor(actor, req, "meeting_request.place", "meeting_request.sides_place")
    if req.status != M.ACCEPTED:
        raise MatchmakingRefused("schedule.not_accepted")
    settings = matchmaking_settings.of_event(req.event_id, layout=True)
    if settings is not None and settings.schedule_state == ScheduleState.FINAL:
        raise MatchmakingRefused("schedule.final")
    current = meeting_of(req)
    if (settings is not None and current is not None
            and meeting_schedule.shown_to_participants(current, settings)):
        raise MatchmakingRefused("meeting_request.placed_already")
    meeting = _place(req, starts_at, actor=actor, while_final=False)
    meeting_mail.placed(req, meeting)
    return meeting


def meeting_of(req: MeetingRequest) -> Meeting | None:
    """The meeting of an accepted request (None: it has none yet)."""
    return db.session.scalar(select(Meeting).where(Meeting.request_id == req.id)
                             .options(selectinload(Meeting.point)))


@dataclass(frozen=True)
class SlotChoice:
    """A slot the meeting of a request could take now; `preferred`: the requester asked
    for it."""

    starts_at: datetime
    ends_at: datetime
    preferred: bool


def free_slots(req: MeetingRequest) -> list[SlotChoice]:
    """The free common slots of the meeting of `req` as they are now (neither side
    blocked it or meets someone else then, and a meeting point is free), the requester's
    preferred ones first, each group in time order; none without matchmaking or meeting
    points."""
    settings = matchmaking_settings.of_event(req.event_id, layout=True)
    if settings is None or not settings.enabled or not settings.points:
        return []
    preferred = {datetime.fromisoformat(slot) for slot in req.preferred_slots or []}
    length = timedelta(minutes=settings.meeting_minutes)
    found = [SlotChoice(target.starts_at, target.starts_at + length,
                        target.starts_at in preferred)
             for target in meeting_schedule.targets(req, settings) if target.refusal is None]
    return sorted(found, key=lambda choice: (not choice.preferred, choice.starts_at))


def may_choose_slot(req: MeetingRequest, user: User) -> bool:
    """Whether `user` may pick a slot for the meeting of `req` now (`choose_slot`'s rule,
    for the page: a side, an accepted request, a meeting with no place they see, a
    schedule not final)."""
    if req.status != M.ACCEPTED or not access.can(user, "meeting_request.place", req):
        return False
    settings = matchmaking_settings.of_event(req.event_id, layout=True)
    if settings is None or not settings.enabled or (
            settings.schedule_state == ScheduleState.FINAL):
        return False
    current = meeting_of(req)
    return current is None or not meeting_schedule.shown_to_participants(current, settings)


def decline(request_id: int, *, actor: User, reason: str) -> MeetingRequest:
    """The receiver declines, saying why."""
    req = _locked_request(request_id)
    _check_actor(actor, req, "meeting_request.answer", "meeting_request.receiver_only")
    _move(req, M.DECLINED, actor=actor, action="meeting_request.declined", reason=reason)
    return req


def cancel(request_id: int, *, actor: User, reason: str) -> MeetingRequest:
    """Either side (or an organizer) cancels an open request or an accepted meeting."""
    req = _locked_request(request_id)
    _check_actor(actor, req, "meeting_request.cancel", "meeting_request.sides_only")
    _record_canceller(req, actor)
    _move(req, M.CANCELLED, actor=actor, action="meeting_request.cancelled", reason=reason)
    return req


def _record_canceller(req: MeetingRequest, actor: User | None) -> None:
    side = next((p for p in (req.requester, req.receiver)
                 if actor is not None and p.registration.user_id == actor.id), None)
    req.cancelled_by_participant = side
    req.cancelled_by_user = actor if side is None else None


def expire_due(now: datetime | None = None) -> int:
    """Expire the requests left unanswered past their time; returns how many."""
    now = now or utcnow()
    due = select(MeetingRequest).where(MeetingRequest.status == M.REQUESTED,
                                       MeetingRequest.expires_at <= now)
    pairs = db.session.execute(select(MeetingRequest.requester_id, MeetingRequest.receiver_id)
                               .where(MeetingRequest.id.in_(due.with_only_columns(
                                   MeetingRequest.id)))).all()
    if not pairs:
        return 0
    lock_participants([side for pair in pairs for side in pair])
    expired = 0
    for req in db.session.scalars(due.order_by(MeetingRequest.id)
                                  .execution_options(populate_existing=True)).all():
        _move(req, M.EXPIRED, actor=None, action="meeting_request.expired", now=now)
        expired += 1
    return expired


def end_for_participants(participant_ids: Iterable[int], *, cause: str,
                         actor: User | None) -> int:
    """Cancel every open request and accepted meeting of these participants (their
    registration ended, or the event was cancelled), telling both sides why (`cause`).
    Returns how many."""
    return cancel_open_of(list(lock_participants(participant_ids)), cause=cause, actor=actor)


def cancel_open_of(participant_ids: list[int], *, cause: str, actor: User | None) -> int:
    """`end_for_participants` for participants the caller has locked already."""
    if cause not in CANCEL_CAUSES:
        raise ValueError(f"unknown cause {cause!r}")
    if not participant_ids:
        return 0
    open_ones = db.session.scalars(
        select(MeetingRequest).where(
            MeetingRequest.status.in_(OPEN_REQUEST_STATUSES),
            or_(MeetingRequest.requester_id.in_(participant_ids),
                MeetingRequest.receiver_id.in_(participant_ids)))
        .order_by(MeetingRequest.id).execution_options(populate_existing=True)).all()
    now = utcnow()
    leaving = set(participant_ids) if cause != "event_cancelled" else set()
    for req in open_ones:
        # The side whose leaving ends it (none when the whole event is cancelled), and who
        # made it leave.
        req.cancelled_by_participant_id = (req.requester_id if req.requester_id in leaving
                                           else req.receiver_id if req.receiver_id in leaving
                                           else None)
        req.cancelled_by_user = actor
        _move(req, M.CANCELLED, actor=actor, action="meeting_request.cancelled", cause=cause,
              now=now)
    return len(open_ones)


def end_for_registration(registration_id: int, *, cause: str, actor: User | None) -> int:
    """A registration withdrawn or cancelled: its participant's requests end."""
    participant_id = db.session.scalar(select(Participant.id).where(
        Participant.registration_id == registration_id))
    if participant_id is None:
        return 0
    return end_for_participants([participant_id], cause=cause, actor=actor)


def end_for_event(event_id: int, *, actor: User | None) -> int:
    """The event is cancelled: every open request and meeting of it ends."""
    ids = db.session.scalars(select(Participant.id).where(
        Participant.event_id == event_id)).all()
    return end_for_participants(ids, cause="event_cancelled", actor=actor) if ids else 0

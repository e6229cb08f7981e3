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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from .. import access
from ..extensions import db
from ..inputs.matchmaking import MeetingRequestIn
from ..models import (
    OPEN_REQUEST_STATUSES,
    AuditEntry,
    Matchmaking,
    MeetingRequest,
    Participant,
    Registration,
    RegistrationStatus,
    RequestMode,
    UnavailableSlot,
    User,
    utcnow,
)
from ..models import MeetingRequestStatus as M
from ..models.matchmaking import CANCEL_CAUSES
from . import meeting_mail, meeting_schedule
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
          reason: str = "", cause: str | None = None, now: datetime | None = None
          ) -> AuditEntry:
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
    meeting_mail.transitioned(req, from_status, to_status)
    return entry


def _in_marketplace(participant: Participant) -> bool:
    return (participant.consents
            and participant.registration.status == RegistrationStatus.APPROVED)


def open_between(first_id: int, second_id: int) -> MeetingRequest | None:
    low, high = sorted((first_id, second_id))
    return db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.pair_low == low, MeetingRequest.pair_high == high,
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
    matchmaking = db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == receiver.event_id))
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
    matchmaking = db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == requester.event_id))
    now = utcnow()
    if matchmaking is None or not matchmaking.enabled:
        raise MatchmakingRefused("matchmaking.not_enabled")
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


def accept(request_id: int, *, actor: User) -> MeetingRequest:
    """The receiver accepts: both sides now see each other's contact details."""
    req = _locked_request(request_id)
    _check_actor(actor, req, "meeting_request.answer", "meeting_request.receiver_only")
    now = utcnow()
    if req.status == M.REQUESTED and req.expires_at is not None and now >= req.expires_at:
        # Past its time, not yet expired by tick: as good as expired.
        raise MatchmakingRefused("meeting_request.no_longer_open", status=M.EXPIRED)
    if req.status == M.REQUESTED and not _in_marketplace(req.requester):
        # Its registration was reopened meanwhile: no meeting until it is approved again.
        raise MatchmakingRefused("meeting_request.not_in_marketplace")
    _move(req, M.ACCEPTED, actor=actor, action="meeting_request.accepted", now=now)
    return req


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

"""What placed meetings led to: held or no-show, each side's rating, the follow-up months
later and the agreement it reached, and the organizers' figures per event.

**Held.** While the event's check-in is open (services.checkin's window), a meeting is
held when a side's badge is scanned at its meeting point (`scan_at_point`: the holder's
meeting there in the current slot, else the nearest one in time), or once both sides
have tapped "we met" (`tap_met`, from the slot's start). It is recorded once, with how
and by whom, and audited. A placed meeting whose slot has ended without being held is a
no-show (`is_no_show`): derived, so a scan later in the window still counts.

**Ratings.** Once the slot has ended, each side rates the meeting (`rate`), with a
comment only the organizers read; a side may change its rating until its follow-up
question has been sent.

**Follow-up.** FOLLOW_UP_AFTER (config `MEETING_FOLLOW_UP_AFTER`, 182 days by default)
after the slot, `tick` mails each side of a meeting that took place (held, or rated by a
side as anything but "did not take place") a signed link to one question
(`queue_due_follow_ups`); one found more than FOLLOW_UP_LATE_LIMIT late is left alone.
Like the mission surveys, the follow-up row is the claim (unique per meeting and side,
inserted ON CONFLICT DO NOTHING in the transaction that queues its mail, written aside),
so overlapping ticks send it once. "Cooperation agreement reached" offers to record the
agreement (`record_agreement`, through services.agreements): a collaboration agreement
between the two organizations, from the meeting's event, followed by a member cluster
responsible for one side; it then counts in the KPIs like any signed agreement.

Every write locks the meeting's row first (PostgreSQL; SQLite: the unit's write step),
so two scans, two taps or a tap and a scan at once record the meeting held once. Services
flush; the caller's unit commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from .. import unit
from ..extensions import db
from ..inputs.agreements import AgreementIn
from ..inputs.meeting_outcomes import FollowUpIn, MeetingAgreementIn, MeetingRatingIn
from ..localtime import format_stamp
from ..models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Event,
    EventStatus,
    FollowUpAnswer,
    HeldHow,
    Meeting,
    MeetingFollowUp,
    MeetingHeld,
    MeetingPoint,
    MeetingRating,
    MeetingRatingAnswer,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingTap,
    Participant,
    Registration,
    User,
    utcnow,
)
from . import (
    agreements,
    audit,
    checkin,
    matchmaking_settings,
    names,
    notifications,
    registration_mail,
    tokens,
)
from .errors import DomainError

PURPOSE = "meeting_follow_up"
FOLLOW_UP_AFTER = timedelta(days=182)
FOLLOW_UP_LATE_LIMIT = timedelta(days=30)
LINK_VALID_FOR = timedelta(days=60)


class MeetingRefused(DomainError):
    """A scan, a tap, a rating or a follow-up the meeting's state refuses."""


def follow_up_after() -> timedelta:
    return current_app.config.get("MEETING_FOLLOW_UP_AFTER", FOLLOW_UP_AFTER)


# --------------------------------------------------------------------------- a meeting


def _meeting(meeting_id: int, *, lock: bool = False) -> Meeting:
    """The meeting with its request's sides (its row locked on PostgreSQL with `lock`)."""
    query = select(Meeting).where(Meeting.id == meeting_id).options(
        joinedload(Meeting.request).joinedload(MeetingRequest.requester)
        .joinedload(Participant.registration),
        joinedload(Meeting.request).joinedload(MeetingRequest.receiver)
        .joinedload(Participant.registration))
    if lock:
        query = query.with_for_update(of=Meeting).execution_options(populate_existing=True)
    meeting = db.session.scalars(query).unique().one_or_none()
    if meeting is None:
        raise MeetingRefused("meeting.not_placed")
    return meeting


def slot_ends(meeting: Meeting) -> datetime:
    minutes = matchmaking_settings.of_event(meeting.event_id).meeting_minutes
    return meeting.starts_at + timedelta(minutes=minutes)


def sides(meeting: Meeting) -> tuple[Participant, Participant]:
    return meeting.request.requester, meeting.request.receiver


def side_of(meeting: Meeting, user: User | None) -> Participant | None:
    """`user`'s side of the meeting, if they are one."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return next((side for side in sides(meeting) if side.registration.user_id == user.id),
                None)


def _placed(meeting: Meeting) -> None:
    if meeting.starts_at is None or meeting.request.status != MeetingRequestStatus.ACCEPTED:
        raise MeetingRefused("meeting.not_placed")


def _as_side(meeting_id: int, actor: User) -> tuple[Meeting, Participant]:
    """Begin the write step and lock the meeting for `actor`'s side to act on it (tap,
    rate): refused unless they are a side of a placed meeting."""
    unit.write_step()
    meeting = _meeting(meeting_id, lock=True)
    side = side_of(meeting, actor)
    if side is None:
        raise MeetingRefused("meeting.sides_only")
    _placed(meeting)
    return meeting, side


def held_of(meeting_id: int) -> MeetingHeld | None:
    return db.session.scalar(select(MeetingHeld).where(MeetingHeld.meeting_id == meeting_id))


def is_no_show(meeting: Meeting, now: datetime | None = None) -> bool:
    """A placed meeting whose slot has ended without being held."""
    return (meeting.starts_at is not None and slot_ends(meeting) <= (now or utcnow())
            and held_of(meeting.id) is None)


def _mark_held(meeting: Meeting, how: HeldHow, actor: User | None, now: datetime,
               scanned: Participant | None = None) -> tuple[MeetingHeld, bool]:
    """The meeting held (its row locked by the caller): the record, and whether it is new."""
    found = held_of(meeting.id)
    if found is not None:
        return found, False
    held = MeetingHeld(meeting_id=meeting.id, held_at=now, how=how, marked_by=actor,
                       scanned_participant=scanned)
    db.session.add(held)
    db.session.flush()
    audit.record(actor, "meeting.held", meeting, event_id=meeting.event_id,
                 changes={"held": [None, how.value],
                          **({"scanned": [None, scanned.id]} if scanned else {})})
    return held, True


# --------------------------------------------------------------------------- held


@dataclass(frozen=True)
class Scan:
    """What a scan at a meeting point found: the meeting, its record, whether the scan
    recorded it (False: it was held already) and whose badge it was."""

    meeting: Meeting
    held: MeetingHeld
    new: bool
    participant: Participant


def points_of(event_id: int) -> list[MeetingPoint]:
    settings = matchmaking_settings.of_event(event_id)
    return list(settings.points) if settings is not None else []


def scan_at_point(event_id: int, point_id: int | None, typed: str, *, actor: User | None,
                  now: datetime | None = None) -> Scan:
    """A badge scanned at meeting point `point_id` of the event: its holder's meeting
    there in the slot under way (else the one nearest in time) is held. Refuses, writing
    nothing, a point of another event, a badge that is not the event's (checkin's
    refusals), a scan outside the check-in window, a holder without a meeting there."""
    now = now or utcnow()
    unit.write_step()
    event = db.session.get(Event, event_id)
    point = db.session.get(MeetingPoint, point_id) if point_id else None
    settings = matchmaking_settings.of_event(event_id)
    if point is None or settings is None or point.matchmaking_id != settings.id:
        raise MeetingRefused("meeting.point_unknown")
    registration = checkin.find_badge(typed)
    checkin.admissible(registration, event)
    checkin.check_open(event, now)
    participant = db.session.scalar(select(Participant).where(
        Participant.registration_id == registration.id))
    if participant is None:
        raise MeetingRefused("meeting.not_participant", name=registration.user.name)
    there = db.session.execute(
        select(Meeting.id, Meeting.starts_at).join(MeetingRequest)
        .where(Meeting.point_id == point.id, Meeting.starts_at.is_not(None),
               MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
               or_(MeetingRequest.requester_id == participant.id,
                   MeetingRequest.receiver_id == participant.id))).all()
    window = checkin.window(event)
    there = [row for row in there if window.holds(row.starts_at)]
    if not there:
        raise MeetingRefused("meeting.none_at_point", name=registration.user.name,
                             point=point.name)
    length = timedelta(minutes=settings.meeting_minutes)
    current = [row for row in there if row.starts_at <= now < row.starts_at + length]
    chosen = current[0] if current else min(
        there, key=lambda row: (abs(row.starts_at - now), row.starts_at))
    meeting = _meeting(chosen.id, lock=True)
    held, new = _mark_held(meeting, HeldHow.TABLE_SCAN, actor, now, participant)
    return Scan(meeting, held, new, participant)


def tap_met(meeting_id: int, *, actor: User, now: datetime | None = None
            ) -> MeetingHeld | None:
    """`actor`'s side says "we met": from the slot's start until check-in closes. Once
    both sides have, the meeting is held (its record returned; None while one waits)."""
    now = now or utcnow()
    meeting, side = _as_side(meeting_id, actor)
    event = db.session.get(Event, meeting.event_id)
    if now < meeting.starts_at:
        raise MeetingRefused("meeting.not_started",
                             at=format_stamp(meeting.starts_at, event.timezone))
    window = checkin.window(event)
    if now > window.closes_at:
        raise MeetingRefused("meeting.marking_closed",
                             at=format_stamp(window.closes_at, event.timezone))
    tapped = set(db.session.scalars(select(MeetingTap.participant_id).where(
        MeetingTap.meeting_id == meeting.id)))
    if side.id not in tapped:
        db.session.add(MeetingTap(meeting_id=meeting.id, participant_id=side.id,
                                  tapped_at=now))
        db.session.flush()
        audit.record(actor, "meeting.we_met", meeting, event_id=meeting.event_id,
                     changes={"side": [None, side.id]})
        tapped.add(side.id)
    if {s.id for s in sides(meeting)} <= tapped:
        return _mark_held(meeting, HeldHow.BOTH_MET, actor, now)[0]
    return held_of(meeting.id)


# --------------------------------------------------------------------------- ratings


def rating_of(meeting_id: int, participant_id: int) -> MeetingRating | None:
    return db.session.scalar(select(MeetingRating).where(
        MeetingRating.meeting_id == meeting_id, MeetingRating.participant_id == participant_id))


def follow_up_of(meeting_id: int, participant_id: int) -> MeetingFollowUp | None:
    return db.session.scalar(select(MeetingFollowUp).where(
        MeetingFollowUp.meeting_id == meeting_id,
        MeetingFollowUp.participant_id == participant_id))


def rate(meeting_id: int, rating: MeetingRatingIn, *, actor: User,
         now: datetime | None = None) -> MeetingRating:
    """`actor`'s side rates the meeting once its slot has ended, or changes its rating
    until its follow-up has been sent. Refused, nothing written, for someone who is not a
    side, a meeting not placed, before the slot's end, after the follow-up."""
    now = now or utcnow()
    meeting, side = _as_side(meeting_id, actor)
    ends = slot_ends(meeting)
    if now < ends:
        event = db.session.get(Event, meeting.event_id)
        raise MeetingRefused("meeting.rating_too_early", at=format_stamp(ends, event.timezone))
    if follow_up_of(meeting.id, side.id) is not None:
        raise MeetingRefused("meeting.rating_closed")
    found = rating_of(meeting.id, side.id)
    if found is None:
        found = MeetingRating(meeting_id=meeting.id, participant_id=side.id,
                              answer=rating.answer, comment=rating.comment, rated_at=now,
                              updated_at=now)
        db.session.add(found)
        db.session.flush()
        audit.record(actor, "meeting.rated", meeting, event_id=meeting.event_id,
                     changes={"rating": [None, rating.answer.value]})
        return found
    found.comment = rating.comment  # the organizers' to read, not the log's
    changes = audit.diff(found, {"answer": rating.answer})
    if changes:
        audit.record(actor, "meeting.rated", meeting, event_id=meeting.event_id,
                     changes={"rating": changes["answer"]})
    db.session.flush()
    return found


# --------------------------------------------------------------------------- a side's view


@dataclass(frozen=True)
class Outcome:
    """What the meeting's page shows of its outcome to `viewer` at `now`."""

    meeting: Meeting
    side: Participant | None  # the viewer's side, if they are one
    held: MeetingHeld | None
    no_show: bool
    tapped: bool  # the viewer's side tapped "we met"
    other_tapped: bool
    can_tap: bool
    rating: MeetingRating | None  # the viewer's side's
    can_rate: bool
    rating_opens_at: datetime
    ratings: list[MeetingRating] = field(default_factory=list)  # both, for followers


def outcome_of(meeting: Meeting, viewer: User | None, now: datetime | None = None,
               *, followed: bool = False) -> Outcome:
    now = now or utcnow()
    side = side_of(meeting, viewer)
    held = held_of(meeting.id)
    ends = slot_ends(meeting)
    taps = set(db.session.scalars(select(MeetingTap.participant_id).where(
        MeetingTap.meeting_id == meeting.id)))
    window = checkin.window(db.session.get(Event, meeting.event_id))
    tapped = side is not None and side.id in taps
    rating = rating_of(meeting.id, side.id) if side is not None else None
    can_rate = (side is not None and now >= ends
                and follow_up_of(meeting.id, side.id) is None)
    ratings = (list(db.session.scalars(select(MeetingRating).where(
        MeetingRating.meeting_id == meeting.id).order_by(MeetingRating.id)))
        if followed else [])
    return Outcome(
        meeting=meeting, side=side, held=held, no_show=held is None and ends <= now,
        tapped=tapped, other_tapped=bool(taps - ({side.id} if side else set())),
        can_tap=(side is not None and held is None and not tapped
                 and meeting.starts_at <= now <= window.closes_at),
        rating=rating, can_rate=can_rate, rating_opens_at=ends, ratings=ratings)


def meeting_of_request(request_id: int) -> Meeting | None:
    """The placed meeting of an accepted request, if it has one."""
    return db.session.scalar(select(Meeting).where(Meeting.request_id == request_id,
                                                   Meeting.starts_at.is_not(None)))


# --------------------------------------------------------------------------- follow-ups


def _took_place():
    """The condition on a Meeting that it took place: held, or rated by a side as
    anything but "did not take place"."""
    held = select(MeetingHeld.id).where(MeetingHeld.meeting_id == Meeting.id).exists()
    rated = select(MeetingRating.id).where(
        MeetingRating.meeting_id == Meeting.id,
        MeetingRating.answer != MeetingRatingAnswer.DID_NOT_TAKE_PLACE).exists()
    return or_(held, rated)


def _due(now: datetime) -> tuple:
    after = follow_up_after()
    return (Meeting.starts_at <= now - after,
            Meeting.starts_at > now - after - FOLLOW_UP_LATE_LIMIT,
            MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
            Event.status != EventStatus.CANCELLED, _took_place())


def due_events(now: datetime) -> list[int]:
    """The events with a follow-up due at `now` (a side not asked yet)."""
    asked_both = (select(func.count(MeetingFollowUp.id))
                  .where(MeetingFollowUp.meeting_id == Meeting.id).scalar_subquery() >= 2)
    return sorted(db.session.scalars(
        select(Meeting.event_id).join(MeetingRequest).join(Event, Event.id == Meeting.event_id)
        .where(*_due(now), ~asked_both).distinct()))


def queue_due_follow_ups(now: datetime) -> int:
    """Claim and queue every follow-up due at `now`: each event's claims and mail in a
    transaction of their own (`unit.aside("claim")`), before the unit writes; safe to
    run in several processes at once. The number queued."""
    return sum(_queue_event(event_id, now) for event_id in due_events(now))


def _queue_event(event_id: int, now: datetime) -> int:
    queued = 0
    with unit.aside("claim"):
        meetings = db.session.scalars(
            select(Meeting).join(MeetingRequest).join(Event, Event.id == Meeting.event_id)
            .where(Meeting.event_id == event_id, *_due(now))
            .options(joinedload(Meeting.request).joinedload(MeetingRequest.requester)
                     .joinedload(Participant.registration).joinedload(Registration.user),
                     joinedload(Meeting.request).joinedload(MeetingRequest.receiver)
                     .joinedload(Participant.registration).joinedload(Registration.user))
            .order_by(Meeting.id)).unique().all()
        for meeting in meetings:  # in id order, sides in order: no deadlock between ticks
            for side in sides(meeting):
                user = side.registration.user
                if user.erased_at is not None or not user.active:
                    continue
                follow_up_id = claim(meeting, side, now)
                if follow_up_id is None:
                    continue  # asked already, or another tick has it
                follow_up = db.session.get(MeetingFollowUp, follow_up_id)
                message = _queue_mail(follow_up, meeting, side)
                db.session.flush()
                follow_up.outbox_message_id = message.id
                queued += 1
    return queued


def claim(meeting: Meeting, side: Participant, now: datetime) -> int | None:
    """Insert the side's follow-up row unless it exists: its id, or None. The row alone,
    no mail: `tick` queues the mail of those it claims; history recorded afterwards (the
    demo's) mails nobody."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(MeetingFollowUp)
                 .values(meeting_id=meeting.id, participant_id=side.id,
                         due_at=meeting.starts_at + follow_up_after(), sent_at=now)
                 .on_conflict_do_nothing(index_elements=["meeting_id", "participant_id"])
                 .returning(MeetingFollowUp.id))
    return db.session.execute(statement).scalar_one_or_none()


def link_token(follow_up: MeetingFollowUp) -> str:
    return tokens.make(PURPOSE, {"follow_up": follow_up.id})


def closes_at(follow_up: MeetingFollowUp) -> datetime:
    return follow_up.sent_at + LINK_VALID_FOR


def _queue_mail(follow_up: MeetingFollowUp, meeting: Meeting, side: Participant):
    user, event = side.registration.user, db.session.get(Event, meeting.event_id)
    other_name = names.participant_label(meeting.request.other_side(side), known=True)

    def subject() -> str:  # in the recipient's language
        return _("Your meeting with %(other)s at %(event)s: what came of it?",
                 other=other_name, event=notifications.event_title(event))

    link = notifications.absolute_url("meeting_outcomes.follow_up",
                                      token=link_token(follow_up))
    return notifications.queue(
        user, subject, "meeting_follow_up", event=event, meeting=meeting,
        other_name=other_name, link=link, closes_at=closes_at(follow_up),
        recipient_zone=registration_mail.recipient_zone(user, event))


class FollowUpClosed(DomainError):
    """The follow-up link has expired."""


def open_follow_up(token: str, now: datetime | None = None) -> MeetingFollowUp:
    """The follow-up a link names: raises TokenInvalid (tampered, unknown) or
    FollowUpClosed (expired, unanswered). Changes nothing."""
    payload = tokens.verify(PURPOSE, token)
    follow_up_id = payload.get("follow_up") if isinstance(payload, dict) else None
    follow_up = (db.session.get(MeetingFollowUp, follow_up_id, populate_existing=True)
                 if isinstance(follow_up_id, int) else None)
    if follow_up is None:
        raise tokens.TokenInvalid("link.invalid")
    if follow_up.answered_at is None and (now or utcnow()) > closes_at(follow_up):
        raise FollowUpClosed("meeting_follow_up.closed")
    return follow_up


def answer_follow_up(token: str, answer: FollowUpIn,
                     now: datetime | None = None) -> MeetingFollowUp:
    """Store the side's answer (once), audited in its name."""
    now = now or utcnow()
    unit.write_step()
    follow_up = open_follow_up(token, now)
    _meeting(follow_up.meeting_id, lock=True)
    db.session.refresh(follow_up)
    if follow_up.answered_at is not None:
        raise MeetingRefused("meeting_follow_up.already_answered")
    follow_up.answer, follow_up.answered_at = answer.answer, now
    db.session.flush()
    audit.record(follow_up.participant.registration.user, "meeting.followed_up",
                 follow_up.meeting, event_id=follow_up.meeting.event_id,
                 changes={"follow_up": [None, answer.answer.value]})
    return follow_up


def recorded_agreement(meeting_id: int) -> Agreement | None:
    """The agreement a side recorded from the meeting, if any."""
    return db.session.scalar(
        select(Agreement).join(MeetingFollowUp, MeetingFollowUp.agreement_id == Agreement.id)
        .where(MeetingFollowUp.meeting_id == meeting_id).limit(1))


def record_agreement(token: str, details: MeetingAgreementIn,
                     now: datetime | None = None) -> Agreement:
    """The agreement the meeting reached, recorded by the side the link names: a signed
    collaboration agreement between the two organizations, from the meeting's event,
    followed by the member cluster responsible for this side (else the other's). Refused
    unless the answer is "agreement reached", or when a side recorded it already; the
    parties' fit is services.agreements' to judge."""
    now = now or utcnow()
    unit.write_step()
    follow_up = open_follow_up(token, now)
    meeting = _meeting(follow_up.meeting_id, lock=True)
    db.session.refresh(follow_up)
    if follow_up.answer != FollowUpAnswer.AGREEMENT_REACHED:
        raise MeetingRefused("meeting_follow_up.no_agreement_reached")
    if recorded_agreement(meeting.id) is not None:
        raise MeetingRefused("meeting_follow_up.agreement_recorded")
    side = follow_up.participant
    other = meeting.request.other_side(side)
    responsible = next((reg.responsible_partner for reg in (side.registration,
                                                           other.registration)
                        if reg.responsible_partner is not None
                        and reg.responsible_partner.is_member), None)
    if responsible is None:
        raise MeetingRefused("meeting_follow_up.no_member_cluster")
    parties = [f"organization:{p.registration.user.organization_id}" for p in (side, other)
               if p.registration.user.organization_id is not None]
    user = side.registration.user
    agreement = agreements.create(user, AgreementIn.from_values(
        kind=AgreementKind.COLLABORATION, type=details.type, status=AgreementStatus.SIGNED,
        title=details.title, description=details.description,
        responsible_partner_id=responsible.id, parties=parties, signed_on=details.signed_on,
        origin_event_id=meeting.event_id))
    follow_up.agreement_id = agreement.id
    db.session.flush()
    audit.record(user, "meeting.agreement_recorded", meeting, event_id=meeting.event_id,
                 changes={"agreement": [None, agreement.id]})
    return agreement


# --------------------------------------------------------------------------- the figures


@dataclass
class Figures:
    """An event's matchmaking in numbers, for its organizers."""

    requests: dict[str, int]  # by status
    scheduled: int
    held: int
    no_shows: int
    held_by: dict[str, int]  # by how
    ratings: dict[str, int]  # by answer
    follow_ups_sent: int
    follow_ups: dict[str, int]  # by answer (answered ones)
    agreements: int
    comments: list[tuple]  # (meeting id, side's name, answer, comment, rated at)

    @property
    def requests_sent(self) -> int:
        return sum(self.requests.values())


def figures(event_id: int, now: datetime | None = None) -> Figures:
    """The event's figures in six statements, whatever its number of meetings."""
    now = now or utcnow()
    settings = matchmaking_settings.of_event(event_id)
    minutes = settings.meeting_minutes if settings is not None else 0
    requests = dict(db.session.execute(
        select(MeetingRequest.status, func.count()).where(MeetingRequest.event_id == event_id)
        .group_by(MeetingRequest.status)).all())
    placed = and_(Meeting.starts_at.is_not(None),
                  MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
    ended = Meeting.starts_at <= now - timedelta(minutes=minutes)
    scheduled, held, no_shows, by_scan, by_taps = db.session.execute(
        select(func.count(case((placed, 1))),
               func.count(case((and_(placed, MeetingHeld.id.is_not(None)), 1))),
               func.count(case((and_(placed, ended, MeetingHeld.id.is_(None)), 1))),
               func.count(case((and_(placed, MeetingHeld.how == HeldHow.TABLE_SCAN), 1))),
               func.count(case((and_(placed, MeetingHeld.how == HeldHow.BOTH_MET), 1))))
        .select_from(Meeting).join(MeetingRequest)
        .outerjoin(MeetingHeld, MeetingHeld.meeting_id == Meeting.id)
        .where(Meeting.event_id == event_id)).one()
    ratings = dict(db.session.execute(
        select(MeetingRating.answer, func.count()).join(Meeting)
        .where(Meeting.event_id == event_id).group_by(MeetingRating.answer)).all())
    follow_rows = db.session.execute(
        select(MeetingFollowUp.answer, func.count(),
               func.count(func.distinct(MeetingFollowUp.agreement_id))).join(Meeting)
        .where(Meeting.event_id == event_id).group_by(MeetingFollowUp.answer)).all()
    comments = db.session.execute(
        select(Meeting.id, User.name, MeetingRating.answer, MeetingRating.comment,
               MeetingRating.updated_at)
        .select_from(MeetingRating).join(Meeting)
        .join(Participant, Participant.id == MeetingRating.participant_id)
        .join(Registration, Registration.id == Participant.registration_id)
        .join(User, User.id == Registration.user_id)
        .where(Meeting.event_id == event_id, MeetingRating.comment != "")
        .order_by(MeetingRating.updated_at.desc(), MeetingRating.id.desc())).all()
    return Figures(
        requests={status.value: n for status, n in requests.items()},
        scheduled=scheduled, held=held, no_shows=no_shows,
        held_by={HeldHow.TABLE_SCAN.value: by_scan, HeldHow.BOTH_MET.value: by_taps},
        ratings={answer.value: n for answer, n in ratings.items()},
        follow_ups_sent=sum(n for _a, n, _g in follow_rows),
        follow_ups={answer.value: n for answer, n, _g in follow_rows if answer is not None},
        agreements=sum(g for _a, _n, g in follow_rows),
        comments=[tuple(row) for row in comments])

"""Placing an event's accepted meetings in its slots and at its meeting points.

`schedule_all` reads the event's *board* (its slots, meeting points, accepted meetings,
the slots their participants blocked, the locked meetings) and asks the solver
(services.scheduling) with no lock held: the solver may take its whole time limit. Then,
in the unit's write step, it reads the board again. If it changed meanwhile (a request
accepted or cancelled, a slot blocked, a meeting locked or moved, a block or point
added), nothing is written and the run says so (`schedule.changed_meanwhile`): the
organizer runs it again. Otherwise every unlocked meeting takes its new place (or none),
its calendar sequence raised when its time or place changed, and the run is recorded with
what the solver reported.

A meeting's sides hold one `MeetingSeat` each, unique per participant and slot, and a
meeting point holds one meeting per slot: the database refuses a double booking, whoever
writes at the same moment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    AuditEntry,
    Event,
    Matchmaking,
    Meeting,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingSeat,
    ScheduleRun,
    ScheduleState,
    UnavailableSlot,
    User,
    utcnow,
)
from ..unit import reading
from . import scheduling
from .errors import MatchmakingRefused


@dataclass(frozen=True)
class Board:
    """What the solver reads of an event, with what maps its answer back: the slots'
    starts (UTC) by index, and the accepted requests by id (a meeting's key)."""

    problem: scheduling.Problem
    starts: tuple[datetime, ...]
    requests: dict[int, MeetingRequest]

    def fingerprint(self) -> tuple:
        """What the board is made of, to tell whether it changed between two reads."""
        problem = self.problem
        return (self.starts, tuple(problem.points), tuple(problem.meetings),
                tuple(sorted((p, tuple(sorted(s))) for p, s in problem.blocked.items())),
                tuple(sorted(problem.placed_now.items())))


def _matchmaking(event_id: int) -> Matchmaking:
    settings = db.session.scalar(
        select(Matchmaking).where(Matchmaking.event_id == event_id)
        .options(selectinload(Matchmaking.blocks), selectinload(Matchmaking.points)))
    if settings is None or not settings.enabled:
        raise MatchmakingRefused("matchmaking.not_enabled")
    return settings


def board(event_id: int) -> Board:
    """The event's board as it is now: each slot with its day in the event's zone and its
    place in that day; the meeting points by id; each accepted request as a meeting,
    locked where its meeting is locked (a lock on a slot or point that no longer exists
    is no lock), and where the unlocked ones are now; the slots each of their
    participants blocked."""
    settings = _matchmaking(event_id)
    event = db.session.get(Event, event_id)
    starts = tuple(settings.slot_starts())
    index = {start: i for i, start in enumerate(starts)}
    days: dict = {}
    slots = []
    for start in starts:
        day = days.setdefault(start.astimezone(event.zone).date(), [len(days), 0])
        slots.append(scheduling.Slot(day[0], day[1]))
        day[1] += 1
    points = tuple(point.id for point in settings.points)
    requests = {r.id: r for r in db.session.scalars(
        select(MeetingRequest).where(MeetingRequest.event_id == event_id,
                                     MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
        .order_by(MeetingRequest.id))}
    meetings = {m.request_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.event_id == event_id))}
    wanted = []
    placed_now = {}
    for request_id, request in requests.items():
        meeting = meetings.get(request_id)
        locked = None
        if (meeting is not None and meeting.starts_at in index
                and meeting.point_id in points):
            where = (index[meeting.starts_at], meeting.point_id)
            if meeting.locked:
                locked = where
            else:
                placed_now[request_id] = where
        wanted.append(scheduling.Meeting(request_id, (request.requester_id, request.receiver_id),
                                         locked))
    sides = {side for meeting in wanted for side in meeting.sides}
    blocked: dict[int, set[int]] = defaultdict(set)
    for participant_id, start in db.session.execute(
            select(UnavailableSlot.participant_id, UnavailableSlot.starts_at)
            .where(UnavailableSlot.participant_id.in_(sides))):
        if start in index:
            blocked[participant_id].add(index[start])
    problem = scheduling.Problem(
        slots=slots, points=points, meetings=wanted,
        blocked={p: frozenset(s) for p, s in blocked.items()}, placed_now=placed_now)
    return Board(problem, starts, requests)


def schedule_all(event_id: int, *, actor: User | None,
                 seconds: float = scheduling.DEFAULT_SECONDS) -> ScheduleRun:
    """Place every accepted meeting of the event that is not locked (see the module's
    text); the run, with what the solver reported, is returned and recorded."""
    with reading():
        read = board(event_id)
        try:
            schedule = scheduling.solve(read.problem, seconds=seconds)
        except scheduling.LockedConflict as conflict:
            raise MatchmakingRefused("schedule.locked_conflict") from conflict
    settings = _matchmaking(event_id)  # the write step begins here
    if settings.schedule_state == ScheduleState.FINAL:
        raise MatchmakingRefused("schedule.final")
    if board(event_id).fingerprint() != read.fingerprint():
        raise MatchmakingRefused("schedule.changed_meanwhile")
    run = ScheduleRun(
        matchmaking_id=settings.id, requested_by=actor, seconds_limit=round(seconds),
        finished_at=utcnow(), placed=len(schedule.placed), most=schedule.most,
        meetings_outcome=schedule.meetings_outcome.value, idle=schedule.idle,
        idle_bound=schedule.idle_bound, idle_outcome=schedule.idle_outcome.value,
        seconds=round(schedule.seconds, 3),
        unplaced={str(key): why.value for key, why in schedule.unplaced.items()})
    db.session.add(run)
    moved = _place(event_id, read, schedule)
    db.session.flush()
    db.session.add(AuditEntry(
        actor=actor, action="schedule.run", event_id=event_id, subject_type="schedule_run",
        subject_id=run.id, details={"placed": run.placed, "most": run.most, "moved": moved,
                 "meetings_outcome": run.meetings_outcome, "idle": run.idle,
                 "idle_bound": run.idle_bound}))
    db.session.flush()
    return run


def unplace(meetings) -> None:
    """The placed ones of `meetings` taken out of the schedule: their slot, point and
    seats freed, their lock lifted, their calendar sequence raised."""
    for meeting in meetings:
        if meeting.starts_at is None:
            continue
        meeting.starts_at = meeting.point_id = None
        meeting.seats.clear()
        meeting.locked = False
        meeting.sequence += 1


def unplace_request(request_id: int) -> None:
    """A meeting called off (its request cancelled): its slot and table are free again."""
    unplace(db.session.scalars(select(Meeting).where(Meeting.request_id == request_id)
                               .options(selectinload(Meeting.seats))))


def unplace_at_point(point_id: int) -> None:
    """Before a meeting point is removed: its meetings wait for another place."""
    unplace(db.session.scalars(select(Meeting).where(Meeting.point_id == point_id)
                               .options(selectinload(Meeting.seats))))
    db.session.flush()


def _place(event_id: int, read: Board, schedule: scheduling.Schedule) -> int:
    """Every unlocked meeting at its place in `schedule` (none: it waits unplaced); the
    number of meetings whose time or place changed. Those that move are taken out first,
    so that two meetings trading places never hold one seat or point together."""
    meetings = {m.request_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.event_id == event_id)
        .options(selectinload(Meeting.seats)))}
    moving = []
    # No longer accepted: their slots and points are free again.
    unplace(m for request_id, m in meetings.items() if request_id not in read.requests)
    for request_id, request in read.requests.items():
        meeting = meetings.get(request_id)
        if meeting is None:
            meeting = Meeting(event_id=event_id, request_id=request_id)
            db.session.add(meeting)
        elif meeting.locked:
            continue
        slot, point = schedule.placed.get(request_id, (None, None))
        target = (None if slot is None else read.starts[slot], point)
        if (meeting.starts_at, meeting.point_id) == target:
            continue
        meeting.starts_at = meeting.point_id = None
        meeting.seats.clear()
        moving.append((meeting, request, target))
    db.session.flush()
    for meeting, request, (starts_at, point_id) in moving:
        meeting.starts_at, meeting.point_id = starts_at, point_id
        if starts_at is not None:
            meeting.seats = [MeetingSeat(participant_id=side, starts_at=starts_at)
                             for side in (request.requester_id, request.receiver_id)]
        meeting.sequence += 1
    db.session.flush()
    return len(moving)

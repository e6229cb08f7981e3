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
from ..unit import reading, write_step
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


def _matchmaking(event_id: int, *, lock: bool = False) -> Matchmaking:
    """The event's matchmaking with its blocks and points; `lock`: begin the write step
    and lock it, so that whoever changes the event's schedule waits for the one before
    (on SQLite the write step alone does it)."""
    query = (select(Matchmaking).where(Matchmaking.event_id == event_id)
             .options(selectinload(Matchmaking.blocks), selectinload(Matchmaking.points)))
    if lock:
        write_step()
        query = query.with_for_update(of=Matchmaking).execution_options(
            populate_existing=True)
    settings = db.session.scalar(query)
    if settings is None or not settings.enabled:
        raise MatchmakingRefused("matchmaking.not_enabled")
    return settings


def shown_to_participants(meeting: Meeting, settings: Matchmaking) -> bool:
    """Whether the meeting's sides see its time and place: once the schedule is
    published (preliminary or final), or where the meeting is locked (its place is
    settled: chosen when it was accepted, or fixed by the organizers)."""
    return meeting.starts_at is not None and (
        meeting.locked or settings.schedule_state != ScheduleState.DRAFT)


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
    settings = _matchmaking(event_id, lock=True)  # the write step begins here
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
    event_id = db.session.scalar(select(Meeting.event_id).where(
        Meeting.request_id == request_id))
    if event_id is None:
        return
    _lock(event_id)
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


# --------------------------------------------------------------------------- one meeting


def _lock(event_id: int) -> None:
    """Begin the write step and lock the event's schedule (see `_matchmaking`)."""
    write_step()
    db.session.execute(select(Matchmaking.id).where(Matchmaking.event_id == event_id)
                       .with_for_update())


@dataclass(frozen=True)
class Target:
    """A slot one meeting could be put in: the code placing it there is refused with
    (None: it fits), and the meeting points free then, in the order they are handed out."""

    starts_at: datetime
    refusal: str | None
    free_points: tuple[int, ...]


def targets(request: MeetingRequest, settings: Matchmaking) -> list[Target]:
    """Every slot of the event for the meeting of `request`, each saying whether the
    meeting fits there (neither side blocked it or meets someone else then, and a meeting
    point is free) and why not. A fixed number of queries, however many meetings."""
    sides = (request.requester_id, request.receiver_id)
    own = db.session.scalar(select(Meeting.id).where(Meeting.request_id == request.id))
    blocked = set(db.session.scalars(select(UnavailableSlot.starts_at).where(
        UnavailableSlot.participant_id.in_(sides))))
    busy = set(db.session.scalars(select(MeetingSeat.starts_at).where(
        MeetingSeat.participant_id.in_(sides), MeetingSeat.meeting_id != own)))
    taken: dict[datetime, set[int]] = defaultdict(set)
    for point_id, start in db.session.execute(
            select(Meeting.point_id, Meeting.starts_at).where(
                Meeting.event_id == request.event_id, Meeting.starts_at.is_not(None),
                Meeting.id != own)):
        taken[start].add(point_id)
    points = [point.id for point in settings.points]
    found = []
    for start in settings.slot_starts():
        free = tuple(p for p in points if p not in taken[start])
        refusal = ("schedule.slot_blocked" if start in blocked
                   else "schedule.side_busy" if start in busy
                   else "schedule.no_free_point" if not free else None)
        found.append(Target(start, refusal, free))
    return found


def place(request: MeetingRequest, starts_at: datetime, point_id: int | None = None, *,
          lock: bool = True, while_final: bool = False) -> Meeting:
    """Put the meeting of `request` (accepted; its pair locked by the caller) at
    `starts_at`, a slot of its event, and at `point_id`, a meeting point of its event
    (None: the first free one), `lock`ed there so that "schedule all" keeps it. Refused,
    with nothing changed: a request not accepted, a time that is not one of the event's
    slots, a point of another event, a slot either side blocked or meets someone else in,
    a point taken then (or none free), and a final schedule unless `while_final` (a
    participant choosing a free slot as they accept changes nobody else's meetings).
    Returns the meeting, its calendar sequence raised when its time or place changed."""
    settings = _matchmaking(request.event_id, lock=True)
    if settings.schedule_state == ScheduleState.FINAL and not while_final:
        raise MatchmakingRefused("schedule.final")
    if request.status != MeetingRequestStatus.ACCEPTED:
        raise MatchmakingRefused("schedule.not_accepted")
    if point_id is not None and point_id not in {p.id for p in settings.points}:
        raise MatchmakingRefused("schedule.not_a_point")
    target = next((t for t in targets(request, settings) if t.starts_at == starts_at), None)
    if target is None:
        raise MatchmakingRefused("matchmaking.not_a_slot")
    if target.refusal == "schedule.no_free_point" and point_id is not None:
        raise MatchmakingRefused("schedule.point_taken")
    if target.refusal is not None:
        raise MatchmakingRefused(target.refusal)
    if point_id is None:
        point_id = target.free_points[0]
    elif point_id not in target.free_points:
        raise MatchmakingRefused("schedule.point_taken")
    meeting = db.session.scalar(select(Meeting).where(Meeting.request_id == request.id)
                                .options(selectinload(Meeting.seats)))
    if meeting is None:
        meeting = Meeting(event_id=request.event_id, request_id=request.id)
        db.session.add(meeting)
    if (meeting.starts_at, meeting.point_id) != (starts_at, point_id):
        meeting.starts_at = meeting.point_id = None
        meeting.locked = False
        meeting.seats.clear()
        db.session.flush()
        meeting.starts_at, meeting.point_id = starts_at, point_id
        meeting.seats = [MeetingSeat(participant_id=side, starts_at=starts_at)
                         for side in (request.requester_id, request.receiver_id)]
        meeting.sequence += 1
    meeting.locked = lock
    db.session.flush()
    return meeting

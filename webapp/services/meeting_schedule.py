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

Organizers run "schedule all" in the background (`request_run`, `start`, `run_job`: a
ScheduleRun row records its start, its end and its report or the code of its error; a
second request while one runs joins it), move a meeting by hand (`move`, through
`place`, which locks it there), lock and unlock meetings in place, publish a preliminary
then a final schedule and reopen a final one (`publish`, `reopen`). Once the schedule is
published, every change an organizer's action makes to a meeting's time or place
(schedule all, a move, a removed meeting point) goes through `_changed`, which mails both
sides (services.meeting_mail) after the commit; the sides' own placing as they accept is
mailed by services.meeting_requests.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import selectinload

from .. import unit
from ..extensions import db
from ..models import (
    AuditEntry,
    Event,
    Matchmaking,
    Meeting,
    MeetingPoint,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingSeat,
    Participant,
    Registration,
    ScheduleRun,
    ScheduleState,
    UnavailableSlot,
    User,
    utcnow,
)
from ..unit import reading, write_step
from . import audit, jobs, matchmaking_settings, meeting_mail, scheduling
from .errors import MatchmakingRefused

log = logging.getLogger(__name__)


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


def settings_of(event_id: int) -> Matchmaking:
    """The event's matchmaking with its layout (blocks and meeting points), as the
    schedule's pages and services all read it; refused when it is off."""
    return matchmaking_settings.enabled(event_id, layout=True)


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
    settings = settings_of(event_id)
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
                 seconds: float = scheduling.DEFAULT_SECONDS,
                 run_id: int | None = None, deterministic: bool = False,
                 in_write_step: bool = False) -> ScheduleRun:
    """Place every accepted meeting of the event that is not locked (see the module's
    text); the run, with what the solver reported, is returned and recorded (in the row
    `run_id` when the run was asked for beforehand: `request_run`). `deterministic`: the
    same data gets the same schedule on any machine (scheduling.solve; the demo's).
    `in_write_step`: the caller has written already and holds the write step (a command
    building data, as the demo loader does): the board is read and solved inside it,
    others waiting meanwhile, rather than in a read phase of its own."""
    with nullcontext() if in_write_step else reading():
        read = board(event_id)
        try:
            schedule = scheduling.solve(read.problem, seconds=seconds,
                                        deterministic=deterministic)
        except scheduling.LockedConflict as conflict:
            raise MatchmakingRefused("schedule.locked_conflict") from conflict
        except scheduling.NoAnswer as nothing:
            raise MatchmakingRefused("schedule.no_answer") from nothing
    settings = _locked(event_id)  # the write step begins here
    if settings.schedule_state == ScheduleState.FINAL:
        raise MatchmakingRefused("schedule.final")
    if board(event_id).fingerprint() != read.fingerprint():
        raise MatchmakingRefused("schedule.changed_meanwhile")
    run = db.session.get(ScheduleRun, run_id) if run_id is not None else None
    if run is None:
        run = ScheduleRun(matchmaking_id=settings.id, requested_by=actor,
                          seconds_limit=round(seconds))
        db.session.add(run)
    for name, value in dict(
            finished_at=utcnow(), placed=len(schedule.placed), most=schedule.most,
            meetings_outcome=schedule.meetings_outcome.value, idle=schedule.idle,
            idle_bound=schedule.idle_bound, idle_outcome=schedule.idle_outcome.value,
            seconds=round(schedule.seconds, 3), error=None,
            unplaced={str(key): why.value for key, why in schedule.unplaced.items()}).items():
        setattr(run, name, value)
    moved = _place(event_id, read, schedule, settings)
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
    """Before a meeting point is removed: its meetings wait for another place (their
    sides told so once the schedule is published)."""
    point = db.session.get(MeetingPoint, point_id)
    at_point = list(db.session.scalars(select(Meeting).where(Meeting.point_id == point_id)
                                       .options(selectinload(Meeting.seats))))
    unplace(at_point)
    db.session.flush()
    if point is not None:
        _changed(at_point, point.matchmaking)


def _changed(meetings: list[Meeting], settings: Matchmaking) -> None:
    """The one place an organizer's change to meetings' time or place (schedule all, a
    move, a removed meeting point) goes through once made: while the schedule is
    published, both sides of each are mailed (after the commit, as all mail)."""
    if meetings and settings.schedule_state != ScheduleState.DRAFT:
        meeting_mail.schedule_changed(meetings)


def _place(event_id: int, read: Board, schedule: scheduling.Schedule,
           settings: Matchmaking) -> int:
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
    _changed([meeting for meeting, _request, _target in moving], settings)
    return len(moving)


# --------------------------------------------------------------------------- one meeting


def _lock(event_id: int) -> None:
    """Begin the write step and lock the event's schedule (see `_locked`), reading
    nothing more."""
    write_step()
    db.session.execute(select(Matchmaking.id).where(Matchmaking.event_id == event_id)
                       .with_for_update())


def _locked(event_id: int) -> Matchmaking:
    """`settings_of`, locked: the write step begins here, and whoever changes the event's
    schedule waits for the one before (on SQLite the write step alone does it)."""
    return matchmaking_settings.enabled(event_id, layout=True, lock=True)


@dataclass(frozen=True)
class Target:
    """A slot one meeting could be put in: the code placing it there is refused with
    (None: it fits), and the meeting points free then, in the order they are handed out."""

    starts_at: datetime
    refusal: str | None
    free_points: tuple[int, ...]


def targets(request: MeetingRequest, settings: Matchmaking) -> list[Target]:
    """Every slot of the event for the meeting of `request`, each saying whether the
    meeting fits there (it has not begun, neither side blocked it or meets someone else
    then, and a meeting point is free) and why not. A fixed number of queries, however
    many meetings."""
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
    now = utcnow()
    found = []
    for start in settings.slot_starts():
        free = tuple(p for p in points if p not in taken[start])
        refusal = ("schedule.slot_past" if start <= now
                   else "schedule.slot_blocked" if start in blocked
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
    settings = _locked(request.event_id)
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


# --------------------------------------------------------------------------- the organizers

# A run that has not finished this long after its time limit has died with its process.
STALE_AFTER = timedelta(minutes=5)
# What a run records when it failed for no reason of the domain; the pages word it.
RUN_FAILED = "run_failed"


def is_stale(run: ScheduleRun, now: datetime | None = None) -> bool:
    return (run.finished_at is None
            and (now or utcnow()) - run.started_at
            > timedelta(seconds=run.seconds_limit) + STALE_AFTER)


def running(settings: Matchmaking) -> ScheduleRun | None:
    """The run of the event's schedule under way (not finished, not stale), if any."""
    run = db.session.scalars(
        select(ScheduleRun).where(ScheduleRun.matchmaking_id == settings.id,
                                  ScheduleRun.finished_at.is_(None))
        .order_by(ScheduleRun.id.desc()).limit(1)).first()
    return run if run is not None and not is_stale(run) else None


def request_run(event_id: int, *, actor: User | None,
                seconds: int = round(scheduling.DEFAULT_SECONDS)) -> tuple[ScheduleRun, bool]:
    """A "schedule all" of the event asked for: the one under way, joined (True), or a new
    one (False) for the caller to `start` once its unit commits. Refused while the
    schedule is final."""
    settings = _locked(event_id)
    if settings.schedule_state == ScheduleState.FINAL:
        raise MatchmakingRefused("schedule.final")
    under_way = running(settings)
    if under_way is not None:
        return under_way, True
    run = ScheduleRun(matchmaking_id=settings.id, requested_by=actor, seconds_limit=seconds,
                      started_at=utcnow())
    db.session.add(run)
    db.session.flush()
    return run, False


def start(run_id: int):
    """Run it in the background once the current unit has committed (a worker with
    REDIS_URL, a thread of this process otherwise; see services.jobs)."""
    return jobs.run_aside(run_job, run_id)


@unit.job
def run_job(run_id: int) -> None:
    """The background "schedule all" of a run asked for: its report, or the code of why
    it could not finish, recorded on its row."""
    with reading():
        run = db.session.get(ScheduleRun, run_id)
        if run is None or run.finished_at is not None:
            return
        event_id, seconds = run.matchmaking.event_id, run.seconds_limit
        actor = run.requested_by
    _note(run_id, started_at=utcnow())
    try:
        schedule_all(event_id, actor=actor, seconds=seconds, run_id=run_id)
    except MatchmakingRefused as refusal:
        unit.discard()
        _note(run_id, error=refusal.code, finished_at=utcnow())
    except Exception:
        log.exception("schedule run %s failed", run_id)
        unit.discard()
        _note(run_id, error=RUN_FAILED, finished_at=utcnow())


def _note(run_id: int, **values) -> None:
    """A run's start or failure, in a transaction of its own: the page polling it sees it
    at once, and it stays whatever the run's own unit does."""
    with unit.aside("batch_progress") as session:
        session.execute(sa_update(ScheduleRun).where(ScheduleRun.id == run_id).values(**values))


def last_run(settings: Matchmaking) -> ScheduleRun | None:
    """The latest run of the event's schedule that finished (with its report or error)."""
    return db.session.scalars(
        select(ScheduleRun).where(ScheduleRun.matchmaking_id == settings.id,
                                  ScheduleRun.finished_at.is_not(None))
        .options(selectinload(ScheduleRun.requested_by))
        .order_by(ScheduleRun.finished_at.desc(), ScheduleRun.id.desc()).limit(1)).first()


def accepted_request(event_id: int, request_id: int) -> MeetingRequest | None:
    """The event's accepted request `request_id` (a meeting of the schedule), or None."""
    return db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.id == request_id, MeetingRequest.event_id == event_id,
        MeetingRequest.status == MeetingRequestStatus.ACCEPTED))


def meeting_of(request: MeetingRequest) -> Meeting | None:
    return db.session.scalar(select(Meeting).where(Meeting.request_id == request.id)
                             .options(selectinload(Meeting.seats)))


def move(event_id: int, request_id: int, starts_at: datetime, point_id: int, *,
         actor: User | None) -> Meeting | None:
    """An organizer puts the meeting of the event's accepted request `request_id` at
    `starts_at` and `point_id` (see `place`, whose refusals apply), locked there;
    audited, and mailed once the schedule is published. None: no such meeting."""
    settings = _locked(event_id)
    request = accepted_request(event_id, request_id)
    if request is None:
        return None
    meeting = meeting_of(request)
    before = (None, None) if meeting is None else (meeting.starts_at, meeting.point_id)
    meeting = place(request, starts_at, point_id)
    if (meeting.starts_at, meeting.point_id) != before:
        audit.record(actor, "schedule.moved", meeting, event_id=event_id, changes={
            "starts_at": [audit.plain(before[0]), audit.plain(meeting.starts_at)],
            "point_id": [before[1], meeting.point_id]})
        _changed([meeting], settings)
    return meeting


def set_locked(event_id: int, request_id: int, locked: bool, *,
               actor: User | None) -> Meeting | None:
    """Lock the placed meeting of the event's accepted request `request_id` where it is
    ("schedule all" keeps it there), or unlock it; None: no such meeting. Its time and
    place do not change."""
    _locked(event_id)
    request = accepted_request(event_id, request_id)
    if request is None:
        return None
    meeting = meeting_of(request)
    if locked and (meeting is None or meeting.starts_at is None):
        raise MatchmakingRefused("schedule.not_placed")
    if meeting is None:
        return None  # never placed: nothing to unlock
    if meeting.locked != locked:
        meeting.locked = locked
        audit.record(actor, "schedule.locked" if locked else "schedule.unlocked", meeting,
                     event_id=event_id, changes={"locked": [not locked, locked]})
        db.session.flush()
    return meeting


def publish(event_id: int, state: ScheduleState, *, actor: User | None) -> Matchmaking:
    """Publish the schedule as preliminary or final: its participants see their meetings'
    times and places, and each with a placed meeting is mailed once. A final schedule is
    not published as preliminary (reopen it first); publishing it as it is changes
    nothing."""
    if state == ScheduleState.DRAFT:
        raise ValueError("a schedule is not published as a draft")
    settings = _locked(event_id)
    if settings.schedule_state == ScheduleState.FINAL and state != ScheduleState.FINAL:
        raise MatchmakingRefused("schedule.final")
    if settings.schedule_state == state:
        return settings
    before = settings.schedule_state
    settings.schedule_state, settings.schedule_published_at = state, utcnow()
    audit.record(actor, "schedule.published", settings, event_id=event_id,
                 changes={"schedule_state": [before.value, state.value]})
    db.session.flush()
    meeting_mail.schedule_published(_placed(event_id), final=state == ScheduleState.FINAL)
    return settings


def reopen(event_id: int, *, actor: User | None) -> Matchmaking:
    """A final schedule unlocked: preliminary again (still shown to the participants), so
    that "schedule all" and moves work again. Nothing to do unless it is final."""
    settings = _locked(event_id)
    if settings.schedule_state != ScheduleState.FINAL:
        return settings
    settings.schedule_state = ScheduleState.PRELIMINARY
    audit.record(actor, "schedule.reopened", settings, event_id=event_id,
                 changes={"schedule_state": [ScheduleState.FINAL.value,
                                             ScheduleState.PRELIMINARY.value]})
    db.session.flush()
    return settings


def _placed(event_id: int) -> list[Meeting]:
    """The event's placed meetings with their sides (for the mail)."""
    side = selectinload(MeetingRequest.requester)
    other = selectinload(MeetingRequest.receiver)
    return list(db.session.scalars(
        select(Meeting).where(Meeting.event_id == event_id, Meeting.starts_at.is_not(None))
        .options(selectinload(Meeting.request).options(side, other))
        .order_by(Meeting.starts_at, Meeting.id)))


@dataclass(frozen=True)
class Overview:
    """The organizers' view of an event's schedule: its slots by day (in the event's
    zone), its meeting points, each placed meeting by (slot, point), the accepted meetings
    waiting for a place with the reason the last run gave, and the runs."""

    settings: Matchmaking
    days: list[tuple[date, list[datetime]]]
    points: list[MeetingPoint]
    placed: dict[tuple[datetime, int], Meeting]
    waiting: list[tuple[MeetingRequest, str | None]]
    meetings: int
    locked: int
    last_run: ScheduleRun | None
    running: ScheduleRun | None
    requests: list[MeetingRequest]  # every accepted one, with its sides, read once


def overview(event_id: int) -> Overview:
    """The event's schedule as its organizers see it, in a fixed number of queries
    however many meetings it holds."""
    settings = settings_of(event_id)
    zone = settings.event.zone
    days: dict[date, list[datetime]] = {}
    for start in settings.slot_starts():
        days.setdefault(start.astimezone(zone).date(), []).append(start)
    side = (selectinload(Participant.registration).selectinload(Registration.user)
            .selectinload(User.organization))
    requests = list(db.session.scalars(
        select(MeetingRequest).where(MeetingRequest.event_id == event_id,
                                     MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
        .options(selectinload(MeetingRequest.requester).options(side),
                 selectinload(MeetingRequest.receiver).options(side))
        .order_by(MeetingRequest.id)))
    meetings = {m.request_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.event_id == event_id))}
    last = last_run(settings)
    reasons = last.unplaced if last is not None and last.unplaced else {}
    placed: dict[tuple[datetime, int], Meeting] = {}
    waiting = []
    for request in requests:
        meeting = meetings.get(request.id)
        if meeting is not None and meeting.starts_at is not None:
            placed[(meeting.starts_at, meeting.point_id)] = meeting
        else:
            waiting.append((request, reasons.get(str(request.id))))
    return Overview(settings, sorted(days.items()), list(settings.points), placed, waiting,
                    len(requests), sum(1 for m in placed.values() if m.locked), last,
                    running(settings), requests)

"""Scheduling an event's accepted meetings from its data (webapp/services/meeting_schedule.py):
"schedule all" places them without double booking, keeps locked meetings, respects the
slots people blocked, records its run, writes nothing when the data changed while it
worked; the database itself refuses a participant or a meeting point twice in a slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests import test_meeting_requests
from tests.test_meeting_requests import ask, build_market
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn, UnavailableSlotsIn
from webapp.models import (
    AuditEntry,
    Matchmaking,
    Meeting,
    MeetingSeat,
    ScheduleRun,
    ScheduleState,
)
from webapp.services import matchmaking, meeting_requests, meeting_schedule, scheduling
from webapp.services.errors import MatchmakingRefused

NOW = test_meeting_requests.NOW  # the frozen clock's time
SECONDS = 10


@pytest.fixture
def market(make, frozen):
    """Four participants, two tables, three slots on the event's first morning, and
    three accepted meetings: 0 with 1, 0 with 2, 1 with 3."""
    market = build_market(make, people=4)
    for name in ("Table 1", "Table 2"):
        matchmaking.add_point(market.event_id, MeetingPointIn.from_values(name=name),
                              actor=market.organizer)
    for frm, to in ((0, 1), (0, 2), (1, 3)):
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))
    return market


def meetings(event_id: int) -> list[Meeting]:
    return list(_db.session.scalars(select(Meeting).where(Meeting.event_id == event_id)
                                    .order_by(Meeting.request_id)))


def slot_starts(event_id: int):
    return _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == event_id)).slot_starts()


def test_schedule_all_places_every_meeting_without_double_booking(market):
    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    placed = meetings(market.event_id)
    assert len(placed) == 3 and all(m.starts_at is not None for m in placed)
    seats = [(seat.participant_id, seat.starts_at) for m in placed for seat in m.seats]
    assert len(seats) == 6 == len(set(seats))
    assert len({(m.point_id, m.starts_at) for m in placed}) == 3
    assert {m.starts_at for m in placed} <= set(slot_starts(market.event_id))
    assert (run.placed, run.most, run.meetings_outcome) == (3, 3, "optimal")
    assert (run.idle, run.idle_bound, run.idle_outcome) == (0, 0, "optimal")
    assert run.unplaced == {} and run.requested_by == market.organizer
    assert all(m.sequence == 1 for m in placed)
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "schedule.run"))
    assert entry.subject_id == run.id and entry.details["moved"] == 3


def test_running_again_moves_nothing_that_need_not_move(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    before = [(m.starts_at, m.point_id, m.sequence) for m in meetings(market.event_id)]

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    assert run.placed == 3
    assert [(m.starts_at, m.point_id, m.sequence) for m in meetings(market.event_id)] == before


def test_a_locked_meeting_keeps_its_place_and_blocked_slots_stay_free(market):
    starts = slot_starts(market.event_id)
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    meeting_schedule.unplace(meetings(market.event_id))
    _db.session.flush()
    first = meetings(market.event_id)[0]  # participant 0 with participant 1
    point = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id)).points[1].id
    first.starts_at, first.point_id, first.locked = starts[2], point, True
    first.seats = [MeetingSeat(participant_id=side, starts_at=starts[2])
                   for side in (first.request.requester_id, first.request.receiver_id)]
    _db.session.flush()
    # Participant 2 cannot meet in the first slot.
    matchmaking.set_unavailable(market.people[2].id, UnavailableSlotsIn.from_values(
        slots=[starts[0]]), actor=market.user(2))

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    assert run.placed == 3
    placed = {m.request_id: m for m in meetings(market.event_id)}
    assert (placed[first.request_id].starts_at, placed[first.request_id].point_id) == (
        starts[2], point)
    with_two = next(m for m in placed.values()
                    if market.people[2].id in (m.request.requester_id, m.request.receiver_id))
    assert with_two.starts_at != starts[0]


def test_a_cancelled_meeting_frees_its_slot_and_table_at_once(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    cancelled = meetings(market.event_id)[2]
    sequence = cancelled.sequence

    meeting_requests.cancel(cancelled.request_id, actor=market.user(3), reason="Ill")

    _db.session.refresh(cancelled)
    assert (cancelled.starts_at, cancelled.point_id, cancelled.seats) == (None, None, [])
    assert cancelled.sequence == sequence + 1  # its calendar entry is withdrawn
    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)
    assert run.placed == 2


def test_with_too_few_tables_the_run_says_which_meetings_wait_and_why(make, frozen):
    market = build_market(make, people=6)
    matchmaking.add_point(market.event_id, MeetingPointIn.from_values(name="The one table"),
                          actor=market.organizer)
    for frm, to in ((0, 1), (2, 3), (4, 5), (0, 2)):
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    # Three slots and one table: three meetings at most, proven.
    assert (run.placed, run.most, run.meetings_outcome) == (3, 3, "optimal")
    assert list(run.unplaced.values()) == [scheduling.Unplaced.NO_FREE_POINT.value]


def test_nothing_is_written_when_the_meetings_changed_while_the_solver_worked(
        market, monkeypatch):
    solve = scheduling.solve

    def solve_while_someone_accepts(problem, **options):
        meeting_requests.accept(ask(market, 2, 3).id, actor=market.user(3))
        return solve(problem, **options)

    monkeypatch.setattr(scheduling, "solve", solve_while_someone_accepts)

    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                      seconds=SECONDS)

    assert refused.value.code == "schedule.changed_meanwhile"
    assert _db.session.scalar(select(func.count()).select_from(ScheduleRun)) == 0
    assert all(m.starts_at is None for m in meetings(market.event_id))


def test_a_final_schedule_is_not_scheduled_again(market):
    settings = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id))
    settings.schedule_state = ScheduleState.FINAL
    _db.session.flush()

    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                      seconds=SECONDS)

    assert refused.value.code == "schedule.final"


def test_removing_a_table_sends_its_meetings_back_to_wait(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    table = meetings(market.event_id)[0].point_id
    at_table = [m.request_id for m in meetings(market.event_id) if m.point_id == table]

    matchmaking.remove_point(market.event_id, table, actor=market.organizer)

    waiting = [m for m in meetings(market.event_id) if m.request_id in at_table]
    assert waiting and all(m.starts_at is None and m.seats == [] for m in waiting)


def test_the_database_refuses_a_participant_twice_in_one_slot(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    seat = meetings(market.event_id)[0].seats[0]
    other = next(m for m in meetings(market.event_id) if m.id != seat.meeting_id)
    start = slot_starts(market.event_id)[0] + timedelta(days=365)

    with pytest.raises(IntegrityError), _db.session.begin_nested():
        _db.session.add_all([MeetingSeat(meeting=other, participant_id=seat.participant_id,
                                         starts_at=start),
                             MeetingSeat(meeting=other, participant_id=seat.participant_id,
                                         starts_at=start)])
        _db.session.flush()


def test_the_database_refuses_a_table_twice_in_one_slot(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    first, second = meetings(market.event_id)[:2]
    meeting_schedule.unplace([second])
    _db.session.flush()

    with pytest.raises(IntegrityError), _db.session.begin_nested():
        second.starts_at, second.point_id = first.starts_at, first.point_id
        _db.session.flush()


"""The scheduler (webapp/services/scheduling.py) against a brute-force search on small
random instances: the same most meetings, the same fewest idle slots, and a schedule that
double-books nobody and no meeting point, respects blocked slots and locked meetings, and
says why each meeting it leaves out has no place."""

from __future__ import annotations

import itertools
import random

import pytest

from tests.processes import loaded_at_start
from webapp.services.scheduling import (
    LockedConflict,
    Meeting,
    NoAnswer,
    Outcome,
    Problem,
    Schedule,
    Slot,
    Unplaced,
    idle_slots,
    solve,
)


def random_problem(rng: random.Random) -> Problem:
    """Up to 6 meetings among up to 5 participants, over one or two days of up to three
    slots, with one or two meeting points, some blocked slots and sometimes a locked
    meeting."""
    days, per_day = rng.randint(1, 2), rng.randint(1, 3)
    slots = [Slot(day, position) for day in range(days) for position in range(per_day)]
    people = list(range(1, rng.randint(3, 5) + 1))
    points = [10 + p for p in range(rng.randint(1, 2))]
    pairs = [tuple(rng.sample(people, 2)) for _ in range(rng.randint(2, 6))]
    blocked = {person: frozenset(s for s in range(len(slots)) if rng.random() < 0.25)
               for person in people}
    meetings = [Meeting(key, pair) for key, pair in enumerate(pairs, start=100)]
    if rng.random() < 0.3:
        first = meetings[0]
        free = Problem(slots, points, meetings, blocked).free_slots(first)
        if free:
            meetings[0] = Meeting(first.key, first.sides, (rng.choice(free), points[-1]))
    return Problem(slots, points, meetings, blocked)


def brute_force(problem: Problem) -> tuple[int, int]:
    """The most meetings any schedule places, and the fewest idle slots among those that
    place that many: every choice of slot (or none) for every unlocked meeting."""
    locked = {m.key: m.locked[0] for m in problem.meetings if m.locked is not None}
    free = [m for m in problem.meetings if m.locked is None]
    best = (-1, 0)
    for choice in itertools.product(*[[None, *problem.free_slots(m)] for m in free]):
        placed = dict(locked)
        placed.update({m.key: slot for m, slot in zip(free, choice, strict=True)
                       if slot is not None})
        if not valid(problem, placed):
            continue
        score = (len(placed), -idle_slots(problem, placed))
        best = max(best, score)
    return best[0], -best[1]


def valid(problem: Problem, placed: dict[int, int]) -> bool:
    sides = {m.key: m.sides for m in problem.meetings}
    per_slot: dict[int, int] = {}
    busy: set[tuple[int, int]] = set()
    for key, slot in placed.items():
        per_slot[slot] = per_slot.get(slot, 0) + 1
        for side in sides[key]:
            if (side, slot) in busy:
                return False
            busy.add((side, slot))
    return all(count <= len(problem.points) for count in per_slot.values())


def assert_sound(problem: Problem, schedule: Schedule) -> None:
    """Nobody and no point twice in a slot, no blocked slot used, locked meetings where
    they were locked, every meeting placed or explained, and each explanation true."""
    by_key = {m.key: m for m in problem.meetings}
    assert set(schedule.placed) | set(schedule.unplaced) == set(by_key)
    assert not set(schedule.placed) & set(schedule.unplaced)
    points_taken, busy = set(), set()
    for key, (slot, point) in schedule.placed.items():
        meeting = by_key[key]
        assert point in problem.points
        assert (slot, point) not in points_taken, f"point {point} twice in slot {slot}"
        points_taken.add((slot, point))
        assert slot in problem.free_slots(meeting), f"meeting {key} in a blocked slot"
        if meeting.locked is not None:
            assert (slot, point) == meeting.locked
        for side in meeting.sides:
            assert (side, slot) not in busy, f"participant {side} twice in slot {slot}"
            busy.add((side, slot))
    for key, why in schedule.unplaced.items():
        both_free = [s for s in problem.free_slots(by_key[key])
                     if all((side, s) not in busy for side in by_key[key].sides)]
        if why == Unplaced.NO_COMMON_FREE_SLOT:
            assert both_free == []
        else:
            assert both_free and all(
                sum(1 for slot, _p in schedule.placed.values() if slot == s)
                == len(problem.points) for s in both_free)


@pytest.mark.parametrize("seed", range(40))
def test_the_scheduler_places_the_most_meetings_with_the_fewest_idle_slots(seed):
    problem = random_problem(random.Random(seed))

    schedule = solve(problem, seconds=20, seed=seed)

    most, fewest_idle = brute_force(problem)
    assert len(schedule.placed) == most == schedule.most
    assert schedule.meetings_outcome == Outcome.OPTIMAL
    assert schedule.idle == fewest_idle == schedule.idle_bound
    assert schedule.idle_outcome == Outcome.OPTIMAL
    assert_sound(problem, schedule)


def test_a_day_with_a_wait_is_rearranged_into_back_to_back_meetings():
    # Ann (1) meets Bo (2) and Cy (3); three slots in one day, one table; Cy blocked the
    # middle one. At 0 and 2 Ann would wait a slot: Bo's meeting goes in the middle.
    problem = Problem(slots=[Slot(0, 0), Slot(0, 1), Slot(0, 2)], points=[7],
                      meetings=[Meeting(1, (1, 2)), Meeting(2, (1, 3))],
                      blocked={3: frozenset({1})})

    schedule = solve(problem, seconds=10)

    assert schedule.placed[1][0] == 1 and schedule.placed[2][0] in (0, 2)
    assert schedule.idle == 0


def test_each_meeting_left_out_says_whether_a_slot_or_a_table_was_missing():
    slots = [Slot(0, 0)]
    problem = Problem(slots=slots, points=[1], meetings=[
        Meeting(1, (1, 2)),
        Meeting(2, (3, 4)),  # a free slot for both, but its one table is taken
        Meeting(3, (5, 6)),  # 6 blocked the only slot
    ], blocked={6: frozenset({0})})

    schedule = solve(problem, seconds=10)

    assert len(schedule.placed) == 1 and schedule.meetings_outcome == Outcome.OPTIMAL
    left_out = {key for key in (1, 2) if key not in schedule.placed}
    assert schedule.unplaced == {**dict.fromkeys(left_out, Unplaced.NO_FREE_POINT),
                                 3: Unplaced.NO_COMMON_FREE_SLOT}


def test_locked_meetings_that_cannot_stand_together_are_refused():
    slots, points = [Slot(0, 0), Slot(0, 1)], [1, 2]
    same_person = Problem(slots, points, [Meeting(1, (1, 2), (0, 1)),
                                          Meeting(2, (1, 3), (0, 2))])
    same_table = Problem(slots, points, [Meeting(1, (1, 2), (0, 1)),
                                         Meeting(2, (3, 4), (0, 1))])
    blocked = Problem(slots, points, [Meeting(1, (1, 2), (1, 1))], {2: frozenset({1})})
    for problem in (same_person, same_table, blocked):
        with pytest.raises(LockedConflict):
            solve(problem, seconds=5)


def test_only_locked_meetings_make_a_schedule_without_the_solver_choosing():
    problem = Problem([Slot(0, 0), Slot(0, 1)], [5], [Meeting(1, (1, 2), (1, 5))])

    schedule = solve(problem, seconds=5)

    assert schedule.placed == {1: (1, 5)} and schedule.unplaced == {}
    assert schedule.most == 1 and schedule.idle == 0


def test_the_app_starts_without_loading_the_solver():
    assert loaded_at_start("ortools", "pandas") == []


def test_among_schedules_as_good_the_one_that_moves_nothing_is_chosen():
    # Two meetings and two slots of one day, one table: either order is as good, and the
    # one in place now stays, each on its table.
    problem = Problem(slots=[Slot(0, 0), Slot(0, 1)], points=[1, 2],
                      meetings=[Meeting(1, (1, 2)), Meeting(2, (3, 4))],
                      placed_now={1: (1, 2), 2: (0, 2)})

    for seed in range(5):
        schedule = solve(problem, seconds=5, seed=seed)
        assert schedule.placed == {1: (1, 2), 2: (0, 2)}
        assert schedule.idle == schedule.idle_bound == 0


def test_a_deterministic_solve_gives_the_same_schedule_however_busy_the_machine():
    # Too big to finish within its limit: on the clock the answer would depend on the
    # machine's speed and load; in the solver's deterministic time it does not.
    rng = random.Random(7)
    people = range(60)
    meetings = [Meeting(key, tuple(rng.sample(people, 2))) for key in range(240)]
    problem = Problem(slots=[Slot(day, n) for day in range(2) for n in range(8)],
                      points=list(range(12)), meetings=meetings)

    first = solve(problem, seconds=0.5, deterministic=True)
    second = solve(problem, seconds=0.5, deterministic=True)

    assert first.placed == second.placed
    assert (first.idle, first.idle_bound) == (second.idle, second.idle_bound)
    assert first.idle_outcome == "feasible"  # the limit, not the proof, ended it


def test_a_time_limit_too_short_for_any_schedule_says_so():
    rng = random.Random(7)
    meetings = [Meeting(key, tuple(rng.sample(range(60), 2))) for key in range(240)]
    problem = Problem(slots=[Slot(0, n) for n in range(16)], points=list(range(12)),
                      meetings=meetings)

    with pytest.raises(NoAnswer):
        solve(problem, seconds=0.001, deterministic=True)

"""The schedule of an event's accepted meetings: the slot and the meeting point of each.

`solve` works on plain values (a `Problem`) and knows nothing of the database or of
requests. It asks OR-Tools' CP-SAT solver twice:

1. **The most meetings.** Each accepted meeting is placed at most once; nobody is in two
   meetings in one slot, nor in a slot they blocked; a slot holds no more meetings than it
   has meeting points; locked meetings stay where they are. The solver proves the number
   maximal (past its time limit it gives the best found and its bound).
2. **The fewest idle slots.** With that many meetings, as few slots as possible in which
   a participant waits between their first and their last meeting of a day. Within the
   time limit; the best found is reported with the solver's lower bound.

Meeting points hold one meeting at a time and are otherwise alike, so the solver only
decides how many meetings each slot holds; the points are handed out afterwards, in the
order they are given, locked meetings keeping theirs. A meeting left out says why: its two
sides have no slot in which both are free, or every slot in which both are free has all
its meeting points taken.
"""

from __future__ import annotations

import enum
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_SECONDS = 60.0


class Unplaced(enum.StrEnum):
    NO_COMMON_FREE_SLOT = "no_common_free_slot"
    NO_FREE_POINT = "no_free_point"


class Outcome(enum.StrEnum):
    OPTIMAL = "optimal"  # proven: no better schedule exists
    FEASIBLE = "feasible"  # the best found within the time limit, with its bound


@dataclass(frozen=True)
class Slot:
    """A meeting slot: the day it falls on (its index among the event's days) and its
    place among that day's slots."""

    day: int
    position: int


@dataclass(frozen=True)
class Meeting:
    """An accepted meeting to place: its key, its two participants, and where it is
    locked (slot index, meeting point), if it is."""

    key: int
    sides: tuple[int, int]
    locked: tuple[int, int] | None = None


@dataclass(frozen=True)
class Problem:
    slots: Sequence[Slot]  # in the order of time
    points: Sequence[int]  # the meeting points' keys, in the order they are handed out
    meetings: Sequence[Meeting]
    # The slots (indexes into `slots`) each participant blocked.
    blocked: Mapping[int, frozenset[int]] = field(default_factory=dict)
    # Where unlocked meetings are now (slot index, meeting point): among schedules as
    # good, the one that moves the fewest of them, and the fewest off their point.
    placed_now: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    def free_slots(self, meeting: Meeting) -> list[int]:
        """The slots in which neither side of `meeting` is blocked."""
        first, second = (self.blocked.get(side, frozenset()) for side in meeting.sides)
        return [s for s in range(len(self.slots)) if s not in first and s not in second]


@dataclass
class Schedule:
    placed: dict[int, tuple[int, int]]  # meeting key -> (slot index, meeting point)
    unplaced: dict[int, Unplaced]  # meeting key -> why it has no place
    most: int  # no schedule places more meetings than this
    meetings_outcome: Outcome
    idle: int  # slots in which someone waits between two of their meetings of a day
    idle_bound: int  # no schedule of `len(placed)` meetings has fewer
    idle_outcome: Outcome
    seconds: float


class NoAnswer(RuntimeError):
    """The time limit ran out before the solver found any schedule: allow it more."""


class LockedConflict(ValueError):
    """Locked meetings that cannot all stand: a participant twice in one slot or in a
    slot they blocked, a meeting point twice in one slot, or a point or slot unknown."""


def idle_slots(problem: Problem, placed: Mapping[int, int]) -> int:
    """The slots in which participants wait between their first and last meeting of a day,
    for meetings placed in the given slots (meeting key -> slot index)."""
    by_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    sides = {meeting.key: meeting.sides for meeting in problem.meetings}
    for key, slot in placed.items():
        for side in sides[key]:
            by_day[side, problem.slots[slot].day].append(problem.slots[slot].position)
    return sum(max(positions) - min(positions) + 1 - len(positions)
               for positions in by_day.values())


def _check_locked(problem: Problem) -> None:
    taken: set[tuple[int, int]] = set()
    busy: set[tuple[int, int]] = set()
    for meeting in problem.meetings:
        if meeting.locked is None:
            continue
        slot, point = meeting.locked
        if not 0 <= slot < len(problem.slots) or point not in problem.points:
            raise LockedConflict(f"meeting {meeting.key} is locked at an unknown slot or point")
        if slot not in problem.free_slots(meeting):
            raise LockedConflict(f"meeting {meeting.key} is locked in a blocked slot")
        if (slot, point) in taken:
            raise LockedConflict(f"meeting {meeting.key} shares its locked point and slot")
        taken.add((slot, point))
        for side in meeting.sides:
            if (side, slot) in busy:
                raise LockedConflict(f"meeting {meeting.key}: participant {side} is locked "
                                     "in two meetings of one slot")
            busy.add((side, slot))


def solve(problem: Problem, *, seconds: float = DEFAULT_SECONDS, workers: int = 0,
          seed: int = 0, deterministic: bool = False) -> Schedule:
    """The schedule of `problem`'s meetings: the most meetings, then the fewest idle
    slots, each step within `seconds` (`workers`: the solver's threads, 0 for as many as
    the machine has). `deterministic`: one thread, and `seconds` counted in the solver's
    own deterministic time rather than on the clock, so that the same problem gets the
    same schedule on any machine under any load (the demo's). Raises LockedConflict when
    the locked meetings cannot all stand."""
    # Imported here: the solver is only needed when an organizer schedules, and it is big.
    from ortools.sat.python import cp_model

    _check_locked(problem)
    started = time.monotonic()
    model = cp_model.CpModel()
    free_points = defaultdict(lambda: len(problem.points))
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    per_meeting: dict[int, list] = defaultdict(list)
    per_side_slot: dict[tuple[int, int], list] = defaultdict(list)
    per_slot: dict[int, list] = defaultdict(list)
    for meeting in problem.meetings:
        if meeting.locked is not None:
            slot = meeting.locked[0]
            free_points[slot] -= 1
            for side in meeting.sides:
                per_side_slot[side, slot].append(1)
            continue
        for slot in problem.free_slots(meeting):
            var = model.new_bool_var(f"m{meeting.key}s{slot}")
            x[meeting.key, slot] = var
            per_meeting[meeting.key].append(var)
            per_slot[slot].append(var)
            for side in meeting.sides:
                per_side_slot[side, slot].append(var)
    for variables in per_meeting.values():
        model.add_at_most_one(variables)
    for terms in per_side_slot.values():
        if len(terms) > 1:
            model.add(sum(terms) <= 1)
    for slot, variables in per_slot.items():
        model.add(sum(variables) <= free_points[slot])
    locked = sum(1 for meeting in problem.meetings if meeting.locked is not None)
    if not x:  # nothing to choose: the locked meetings are the schedule
        return _schedule(problem, {}, most=locked, meetings_outcome=Outcome.OPTIMAL,
                         idle_bound=None, idle_outcome=Outcome.OPTIMAL, started=started)
    placed_count = sum(x.values())

    solver = cp_model.CpSolver()
    solver.parameters.random_seed = seed
    if deterministic:
        solver.parameters.num_workers = 1
        solver.parameters.max_deterministic_time = seconds
    else:
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = seconds
    model.maximize(placed_count)
    for key, (slot, _point) in problem.placed_now.items():
        if (key, slot) in x:
            model.add_hint(x[key, slot], 1)
    status = solver.solve(model)
    if status == cp_model.UNKNOWN:
        raise NoAnswer(f"no schedule within {seconds} s")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise LockedConflict(f"the solver found no schedule: {solver.status_name(status)}")
    best = round(solver.objective_value)
    most = round(solver.best_objective_bound) + locked
    meetings_outcome = Outcome.OPTIMAL if status == cp_model.OPTIMAL else Outcome.FEASIBLE
    first_answer = {key: slot for (key, slot), var in x.items() if solver.value(var)}

    # Step 2: as many meetings, the fewest idle slots, then the fewest meetings moved:
    # one objective, idle slots weighing more than all the moves together.
    model.clear_objective()
    model.add(placed_count == best)
    model.clear_hints()
    for (key, slot) in first_answer.items():
        model.add_hint(x[key, slot], 1)
    idle_terms = _idle_terms(model, problem, per_side_slot)
    staying = [x[key, slot] for key, (slot, _point) in problem.placed_now.items()
               if (key, slot) in x]
    weight = len(staying) + 1
    model.minimize(weight * sum(idle_terms) - sum(staying))
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {key: slot for (key, slot), var in x.items() if solver.value(var)}
        # objective = weight * idle - staying, with 0 <= staying < weight.
        idle_bound = max(0, math.ceil(solver.best_objective_bound / weight))
        idle_outcome = Outcome.OPTIMAL if status == cp_model.OPTIMAL else Outcome.FEASIBLE
    else:  # no better answer within the limit: keep the first one
        chosen, idle_bound, idle_outcome = first_answer, 0, Outcome.FEASIBLE
    return _schedule(problem, chosen, most=most, meetings_outcome=meetings_outcome,
                     idle_bound=idle_bound, idle_outcome=idle_outcome, started=started)


def _schedule(problem: Problem, chosen: dict[int, int], *, most: int,
              meetings_outcome: Outcome, idle_bound: int | None, idle_outcome: Outcome,
              started: float) -> Schedule:
    """The schedule of the meetings `chosen` (key -> slot) and the locked ones."""
    chosen.update({m.key: m.locked[0] for m in problem.meetings if m.locked is not None})
    idle = idle_slots(problem, chosen)
    return Schedule(
        placed=_hand_out_points(problem, chosen), unplaced=_why_unplaced(problem, chosen),
        most=most, meetings_outcome=meetings_outcome, idle=idle,
        idle_bound=idle if idle_bound is None else idle_bound, idle_outcome=idle_outcome,
        seconds=time.monotonic() - started)


def _idle_terms(model, problem: Problem, per_side_slot: Mapping[tuple[int, int], list]
                ) -> list:
    """For each participant and each slot of a day in which they may meet, a boolean that
    is 1 when they wait in that slot: no meeting in it, one earlier that day and one later.
    "Earlier" and "later" are kept exact by chains of booleans along the day (a meeting
    at or before this slot; at or after it), which the solver's bound can reason with."""
    days: dict[int, list[int]] = defaultdict(list)
    for index, slot in enumerate(problem.slots):
        days[slot.day].append(index)
    terms = []
    for side in sorted({side for side, _slot in per_side_slot}):
        for slots in days.values():
            slots = sorted(slots, key=lambda s: problem.slots[s].position)
            used = [sum(per_side_slot.get((side, slot), [])) for slot in slots]
            if sum(1 for here in used if not isinstance(here, int) or here) < 2:
                continue  # at most one meeting possible that day: never waiting
            before, after = [], []
            for n, here in enumerate(used):
                now = model.new_bool_var(f"before{side}s{slots[n]}")
                earlier = before[-1] if before else 0
                model.add(now >= here)
                model.add(now >= earlier)
                model.add(now <= earlier + here)
                before.append(now)
            for n in reversed(range(len(used))):
                now = model.new_bool_var(f"after{side}s{slots[n]}")
                later = after[-1] if after else 0
                model.add(now >= used[n])
                model.add(now >= later)
                model.add(now <= later + used[n])
                after.append(now)
            after.reverse()
            for n, here in enumerate(used):
                waiting = model.new_bool_var(f"idle{side}s{slots[n]}")
                model.add(waiting >= before[n] + after[n] - 1 - here)
                terms.append(waiting)
    return terms


def _hand_out_points(problem: Problem, chosen: Mapping[int, int]
                     ) -> dict[int, tuple[int, int]]:
    """Each placed meeting's point: a locked meeting keeps its own, and so does one that
    stays in its slot while its point is free; the others take the free points of their
    slot in the order given, by meeting key."""
    taken: dict[int, set[int]] = defaultdict(set)
    placed: dict[int, tuple[int, int]] = {}
    for meeting in problem.meetings:
        if meeting.locked is not None:
            taken[meeting.locked[0]].add(meeting.locked[1])
            placed[meeting.key] = meeting.locked
    for key, (slot, point) in sorted(problem.placed_now.items()):
        if (key not in placed and chosen.get(key) == slot and point in problem.points
                and point not in taken[slot]):
            taken[slot].add(point)
            placed[key] = (slot, point)
    for key in sorted(k for k in chosen if k not in placed):
        slot = chosen[key]
        point = next(p for p in problem.points if p not in taken[slot])
        taken[slot].add(point)
        placed[key] = (slot, point)
    return placed


def _why_unplaced(problem: Problem, chosen: Mapping[int, int]) -> dict[int, Unplaced]:
    busy = set()
    for meeting in problem.meetings:
        if meeting.key in chosen:
            busy.update((side, chosen[meeting.key]) for side in meeting.sides)
    why = {}
    for meeting in problem.meetings:
        if meeting.key in chosen:
            continue
        both_free = [slot for slot in problem.free_slots(meeting)
                     if all((side, slot) not in busy for side in meeting.sides)]
        why[meeting.key] = (Unplaced.NO_FREE_POINT if both_free
                            else Unplaced.NO_COMMON_FREE_SLOT)
    return why

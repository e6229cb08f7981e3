"""The scheduler's "schedule all" at the size of a big brokerage event.

    .venv/bin/python bench/schedule.py                 # 60 s for each of the two steps
    .venv/bin/python bench/schedule.py --seconds 20

300 participants and 1,500 accepted meetings (each participant in about ten, drawn at
random with a fixed seed), over 2 days of 16 slots with 40 tables, each participant
blocking about one slot in ten. Printed per step of `services.scheduling.solve`: the
meetings placed against the solver's upper bound and whether that is proven, the idle
slots against their lower bound, the seconds to the answer, the process's peak memory
(resident set, which counts the solver's own memory, outside Python's allocator), and the
meetings left out by reason (no slot free for both sides, no table free). At
demo size (30 participants, 150 meetings, 2 x 16 slots, 4 tables) and at 10x it.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp.services.scheduling import Meeting, Problem, Slot, Unplaced, solve

DAYS, SLOTS_PER_DAY = 2, 16


def instance(participants: int, meetings: int, tables: int, seed: int = 7) -> Problem:
    rng = random.Random(seed)
    slots = [Slot(day, position) for day in range(DAYS) for position in range(SLOTS_PER_DAY)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < meetings:
        first, second = rng.sample(range(participants), 2)
        pairs.add((min(first, second), max(first, second)))
    blocked = {person: frozenset(s for s in range(len(slots)) if rng.random() < 0.1)
               for person in range(participants)}
    return Problem(slots=slots, points=list(range(tables)),
                   meetings=[Meeting(key, pair) for key, pair in enumerate(sorted(pairs))],
                   blocked=blocked)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="the time limit of each step (default 60)")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
          f"time limit {args.seconds:.0f} s per step; peak memory before: {peak_mib():.0f} MiB")
    print(f"{'size':<5} {'people':>6} {'meetings':>8} {'tables':>6} {'placed':>7} "
          f"{'bound':>6} {'count':>8} {'idle':>6} {'bound':>6} {'idle':>8} {'seconds':>8} "
          f"{'peak MiB':>8} {'no slot':>7} {'no table':>8}")
    for label, participants, meetings, tables in (("1x", 30, 150, 4), ("10x", 300, 1500, 40)):
        problem = instance(participants, meetings, tables)
        schedule = solve(problem, seconds=args.seconds)
        why = list(schedule.unplaced.values())
        print(f"{label:<5} {participants:>6} {meetings:>8} {tables:>6} "
              f"{len(schedule.placed):>7} {schedule.most:>6} "
              f"{schedule.meetings_outcome:>8} {schedule.idle:>6} {schedule.idle_bound:>6} "
              f"{schedule.idle_outcome:>8} {schedule.seconds:>8.1f} {peak_mib():>8.0f} "
              f"{why.count(Unplaced.NO_COMMON_FREE_SLOT):>7} "
              f"{why.count(Unplaced.NO_FREE_POINT):>8}",
              flush=True)


if __name__ == "__main__":
    main()

"""The call for applications under load: 150 sign-ins, 200 applications to a 50-seat
webinar and two managers approving the same 100 applications, all at one moment, through
gunicorn with four sync workers, on SQLite and on PostgreSQL, beside a bare Flask route.

    .venv/bin/python bench/call.py
    .venv/bin/python bench/call.py --runs 2 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_call

The load is the one tests/test_call_for_applications.py proves correct
(`tests.call.call_for_applications`): a fresh database each run (a throwaway SQLite file; the
PostgreSQL database named by --database, created here and dropped at the end), migrated
with `flask db upgrade`, the data committed, then gunicorn (production config, no Redis:
mail inline after each commit) and an SMTP server on loopback. Every browser opens its
form first; one barrier releases them all.

The same server also answers a bare route (`bench_app`: the product's app plus
/bench-bare, which returns "ok"): before the call, the same clients in the same shape
(150 clients with two requests, 200 with one, two with 100 in a row) hit it at one
moment, to show what gunicorn, the request hooks, the threads and the loopback cost alone.
Per run: requests per second (all answers over the time from the release to the last
one), the slowest answer, the count of each status, how many of the 100 approvals each
manager made, and the bare route's rate divided by the call's (how many times the call's
requests cost a bare one). Then whether every promise of the test held; the script exits
with 1 if one did not.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from bench import tables  # noqa: E402
from tests.call import (  # noqa: E402
    WORKERS,
    Browser,
    Burst,
    Call,
    Clock,
    at_once,
    broken_promises,
    call_for_applications,
    expected_mail,
    read_outcome,
    received_mail,
    served,
)
from tests.processes import scratch_database  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import csrf  # noqa: E402

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_call"
BARE_PATH = "/bench-bare"
BUDGET_SECONDS = 600  # a run, from the empty database to the last mail
SERVED_APP = "bench.call:bench_app()"


def bare() -> str:
    return "ok"


def bench_app() -> Flask:
    """What gunicorn serves here: the product's app (BEACHHEAD_CONFIG, as `wsgi:app`) and
    a bare route, so both are measured on the same workers."""
    app = create_app()
    app.add_url_rule(BARE_PATH, "bench_bare", csrf.exempt(bare), methods=["GET", "POST"])
    return app


def bare_call(base: str, call: Call, clock: Clock) -> Burst:
    """The call's shape against the bare route: a client per member signing in (two
    requests), per applicant (one), per manager (one per application in the queue)."""

    def client(who: str, count: int):
        browser = Browser(base, clock, who)
        return lambda: [browser.send("bare", "POST" if n == 0 or count != 2 else "GET",
                                     BARE_PATH) for n in range(count)]

    acts = [*(client(email, 2) for email in call.accounts),
            *(client(email, 1) for email in call.applicants),
            *(client(email, len(call.queue)) for email, _name in call.managers)]
    return at_once(acts, clock)


def run(url: str, label: str, run_number: int, logs: Path) -> tuple[tuple, list[str]]:
    clock = Clock(BUDGET_SECONDS)
    with served(url, logs, clock, app=SERVED_APP) as site:
        base = bare_call(site.base, site.call, clock)
        burst = call_for_applications(site.base, site.call, clock)
        outcome = read_outcome(url, site.call)
        mail = received_mail(site.box, sum(expected_mail(site.call, outcome).values()), clock)
    problems = broken_promises(site.call, burst, outcome, mail,
                               site.processes.output("gunicorn"))
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(burst.statuses().items()))
    won = Counter(a.who for a in burst.answers if a.kind == "decision" and a.status == 302)
    row = (label, run_number, len(burst.answers), f"{burst.per_second:.1f}",
           f"{burst.slowest * 1000:.0f}", statuses,
           " / ".join(str(won[email]) for email, _name in site.call.managers),
           f"{base.per_second:.0f}", f"{base.slowest * 1000:.0f}",
           f"{base.per_second / burst.per_second:.1f}")
    if base.failures or any(a.status != 200 for a in base.answers):
        problems.append(f"the bare route: {base.statuses()}, {len(base.failures)} gave up")
    return row, problems


COLUMNS = ("database", "run", "requests", "req/s", "slowest ms", "statuses", "approved by",
           "bare req/s", "bare slowest ms", "x bare")


def print_table(rows: list[tuple]) -> None:
    tables.print_table(COLUMNS, rows, left={0, 1, 5, 6})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE,
                        help="the PostgreSQL database to create, use and drop "
                             f"(default {DATABASE})")
    parser.add_argument("--runs", type=int, default=1, help="runs per database (default 1)")
    args = parser.parse_args()

    print(f"gunicorn, {WORKERS} sync workers; Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    rows, problems = [], []
    with tempfile.TemporaryDirectory(prefix="beachhead-call-") as folder:
        for number in range(1, args.runs + 1):
            logs = Path(folder) / f"sqlite-{number}"
            logs.mkdir()
            row, broken = run(f"sqlite:///{logs}/call.db", "SQLite", number, logs)
            rows.append(row)
            problems += [f"SQLite run {number}: {p}" for p in broken]
        name = args.database.rsplit("/", 1)[1]
        for number in range(1, args.runs + 1):
            logs = Path(folder) / f"postgresql-{number}"
            logs.mkdir()
            with scratch_database(args.database, name) as url:
                row, broken = run(url, "PostgreSQL", number, logs)
            rows.append(row)
            problems += [f"PostgreSQL run {number}: {p}" for p in broken]
    print_table(rows)
    for problem in problems:
        print(problem)
    print("Every run kept every promise of tests/test_call_for_applications.py."
          if not problems else "BROKEN PROMISES: see above.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The 200-way race: 200 members apply at the same moment to a 50-seat webinar that
confirms at once, through a real HTTP server on 127.0.0.1.

    .venv/bin/python bench/race.py                       # SQLite (a throwaway file)
    .venv/bin/python bench/race.py --postgres URL        # and PostgreSQL (a scratch database)

The setup is the one tests/test_races.py proves correct (tests/live.py): committed data,
werkzeug's threaded server, a real SMTP server on loopback taking the mail each request
sends after its commit, 200 client threads released by one barrier, each POSTing the
applying form as its own signed-in member. Per run: applications decided per second
(200 / the time from the release to the last response), the outcome counts, and the time
per application (mean, p95) as each client measured it. The same 200 clients POST to a
bare route first, to show what the server and the clients alone cost on this machine.
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

from bench import tables  # noqa: E402
from tests.live import (  # noqa: E402
    LOCKED,
    add_race_routes,
    apply_race,
    bare_race,
    committed_app,
    counts,
    instant_webinar,
    recorded_logs,
    serve,
    smtp_server,
)
from webapp.models import RegistrationStatus as S  # noqa: E402

APPLICANTS, SEATS = 200, 50
COLUMNS = ("database", "run", "decided/s", "approved", "waitlisted", "5xx", "locked",
           "mean ms", "p95 ms", "bare mean ms")


def run_on(url: str, label: str, runs: int, migrate: bool) -> list[tuple]:
    rows = []
    with committed_app(url, migrate=migrate) as app:
        add_race_routes(app)
        for run in range(1, runs + 1):
            webinar = instant_webinar(seats=SEATS, applicants=APPLICANTS)
            with recorded_logs() as logs, smtp_server(app), serve(app) as base_url:
                bare = bare_race(base_url, webinar)
                race = apply_race(base_url, webinar)
            outcome = counts(webinar.event_id)
            locked = sum(LOCKED in r.body for r in race.responses) + sum(
                LOCKED in line for line in logs)
            rows.append((
                label, run, f"{race.per_second:.0f}", outcome.get(S.APPROVED, 0),
                outcome.get(S.WAITLISTED, 0), len(race.server_errors()), locked,
                f"{race.mean_ms:.0f}", f"{race.p95_ms:.0f}", f"{bare.mean_ms:.0f}",
            ))
            others = Counter({s: n for s, n in outcome.items()
                              if s not in (S.APPROVED, S.WAITLISTED)})
            if others:
                print(f"  {label} run {run}: other outcomes {dict(others)}", file=sys.stderr)
    return rows


def print_table(rows: list[tuple]) -> None:
    tables.print_table(COLUMNS, rows, left={0, 1})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="also race on this PostgreSQL database (migrated here; the rows "
                             "made are deleted afterwards), e.g. "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/racetest")
    parser.add_argument("--runs", type=int, default=3, help="races per database (default 3)")
    args = parser.parse_args()

    print(f"{APPLICANTS} members, {SEATS} seats; Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="beachhead-race-") as folder:
        rows += run_on(f"sqlite:///{folder}/race.db", "SQLite", args.runs, migrate=True)
    if args.postgres:
        rows += run_on(args.postgres, "PostgreSQL", args.runs, migrate=True)
    print_table(rows)
    fair = all(r[3] == SEATS and r[4] == APPLICANTS - SEATS and r[5] == 0 and r[6] == 0
               for r in rows)
    print("Every race: exactly 50 approved, 150 waitlisted, no 5xx, no 'database is locked'."
          if fair else "UNFAIR OUTCOME: see the table.")
    return 0 if fair else 1


if __name__ == "__main__":
    sys.exit(main())

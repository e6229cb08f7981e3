"""The 200-way race: 200 members apply at the same moment to a 50-seat webinar that
confirms at once, through a real HTTP server on 127.0.0.1.

    .venv/bin/python bench/race.py                       # SQLite (a throwaway file)
    .venv/bin/python bench/race.py --postgres URL        # and PostgreSQL (a scratch database)
    .venv/bin/python bench/race.py --server werkzeug     # the tests' in-process server

The race is the one tests/test_races.py proves correct (tests/live.py): committed data,
200 client threads released by one barrier, each POSTing the applying form as its own
signed-in member. By default it is served as in production: gunicorn with the production
config (`--workers` sync workers, one per core: 2 by default, `--threads N` for gthread
workers of N threads instead), REDIS_URL set (`--redis`, a Redis
database the script empties before and after), so each application's mail is an RQ job
rather than an SMTP exchange inside the request; after the race an RQ worker (burst)
delivers it to a real SMTP server on loopback, and every member must have exactly one
mail. With `--server werkzeug` it is the tests' set-up: werkzeug's threaded server in
this process, no Redis, the mail sent in the request after its commit.

Per run: applications decided per second (200 / the time from the release to the last
response), the outcome counts, and the time per application (mean, p95) as each client
measured it. The same 200 clients POST to a bare route first, to show what the server and
the clients alone cost on this machine.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

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
from tests.processes import (  # noqa: E402
    BIN,
    Processes,
    free_port,
    production_env,
    wait_for,
)
from webapp import create_app  # noqa: E402
from webapp.models import RegistrationStatus as S  # noqa: E402
from webapp.services import jobs  # noqa: E402

APPLICANTS, SEATS = 200, 50
REDIS = "redis://127.0.0.1:6379/13"
# gunicorn as README's production section recommends (one sync worker per core on this
# 2-core machine): the fastest set-up measured, see bench/README.md.
WORKERS, THREADS = 2, 1
SERVED_APP = "bench.race:bench_app()"
COLUMNS = ("database", "run", "decided/s", "approved", "waitlisted", "5xx", "locked",
           "mailed once", "mean ms", "p95 ms", "bare mean ms")


def bench_app() -> Flask:
    """What gunicorn serves here: the product's app (BEACHHEAD_CONFIG, as `wsgi:app`)
    and the race's routes (a member signed in by id, a bare route)."""
    app = create_app()
    add_race_routes(app)
    return app


@contextmanager
def gunicorn(url: str, redis_url: str, mail_port: int, workers: int, threads: int,
             logs: Path):
    """gunicorn serving `bench_app()` on `url` with the production config; yields its base
    URL. Its log goes to `logs`; a worker that died fails the run."""
    processes = Processes(logs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(url, redis_url, mail_port, BASE_URL=base)
    try:
        processes.start("gunicorn", [
            str(BIN / "gunicorn"), "--workers", str(workers), *_worker_class(threads),
            "--backlog", "1024",
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", SERVED_APP], env)
        wait_for(lambda: _answers(base), "gunicorn", deadline=60, processes=processes)
        yield base, processes
        processes.check_running()
    finally:
        processes.stop_all()


def _worker_class(threads: int) -> list[str]:
    """gunicorn's options for `threads` threads a worker: sync workers for 1."""
    if threads <= 1:
        return ["--worker-class", "sync"]
    return ["--worker-class", "gthread", "--threads", str(threads)]


def _answers(base: str) -> bool:
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(base)
    try:
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=2)
        conn.request("GET", "/login")
        return conn.getresponse().status == 200
    except OSError:
        return False


def _empty_queue(redis_url: str) -> None:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()


def run_on(url: str, label: str, runs: int, migrate: bool, *, server: str, workers: int,
           threads: int, redis_url: str, folder: Path) -> list[tuple]:
    rows = []
    with committed_app(url, migrate=migrate) as app:
        add_race_routes(app)
        for run in range(1, runs + 1):
            webinar = instant_webinar(seats=SEATS, applicants=APPLICANTS)
            with recorded_logs() as logs, smtp_server(app) as received:
                if server == "werkzeug":
                    with serve(app) as base_url:
                        bare = bare_race(base_url, webinar)
                        race = apply_race(base_url, webinar)
                    server_log = ""
                else:
                    _empty_queue(redis_url)
                    run_logs = folder / f"{label}-{run}"
                    run_logs.mkdir()
                    with gunicorn(url, redis_url, app.config["MAIL_PORT"], workers, threads,
                                  run_logs) as (base_url, processes):
                        bare = bare_race(base_url, webinar)
                        race = apply_race(base_url, webinar)
                        server_log = processes.output("gunicorn")
                    # The mail the race queued, delivered by a worker once it is over.
                    app.config["REDIS_URL"] = redis_url
                    jobs.work(burst=True)
                    app.config["REDIS_URL"] = None
                    _empty_queue(redis_url)
                mailed = sum(received.get(email.lower(), 0) == 1 for email in webinar.emails)
            outcome = counts(webinar.event_id)
            locked = sum(LOCKED in r.body for r in race.responses) + sum(
                LOCKED in line for line in logs) + server_log.count(LOCKED)
            rows.append((
                label, run, f"{race.per_second:.0f}", outcome.get(S.APPROVED, 0),
                outcome.get(S.WAITLISTED, 0), len(race.server_errors()), locked, mailed,
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
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="gunicorn as in production (default), or the tests' werkzeug")
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help=f"gunicorn's workers ({WORKERS})")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"threads per worker (default {THREADS}: sync workers; more: gthread)")
    parser.add_argument("--redis", default=REDIS, metavar="URL",
                        help=f"the Redis database for the jobs, emptied (default {REDIS})")
    args = parser.parse_args()

    kind = f"gthread workers x {args.threads} threads" if args.threads > 1 else "sync workers"
    served = (f"gunicorn, {args.workers} {kind}, production config, mail by RQ"
              if args.server == "gunicorn" else "werkzeug threaded, mail in the request")
    print(f"{APPLICANTS} members, {SEATS} seats; {served}; Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    options = dict(server=args.server, workers=args.workers, threads=args.threads,
                   redis_url=args.redis)
    rows = []
    with tempfile.TemporaryDirectory(prefix="beachhead-race-") as folder:
        rows += run_on(f"sqlite:///{folder}/race.db", "SQLite", args.runs, migrate=True,
                       folder=Path(folder), **options)
        if args.postgres:
            rows += run_on(args.postgres, "PostgreSQL", args.runs, migrate=True,
                           folder=Path(folder), **options)
    print_table(rows)
    fair = all(r[3] == SEATS and r[4] == APPLICANTS - SEATS and r[5] == 0 and r[6] == 0
               and r[7] == APPLICANTS for r in rows)
    print("Every race: exactly 50 approved, 150 waitlisted, no 5xx, no 'database is locked', "
          "one mail to each member." if fair else "UNFAIR OUTCOME: see the table.")
    return 0 if fair else 1


if __name__ == "__main__":
    sys.exit(main())

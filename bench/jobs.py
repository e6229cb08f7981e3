"""Time a big tick: the reminders of 5,000 approved registrants across 50 webinars, all due
at once, queued by `flask tick` and delivered by RQ workers through a loopback SMTP server.

    .venv/bin/python bench/jobs.py
    .venv/bin/python bench/jobs.py --registrants 1000 --webinars 10 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_jobs \\
        --redis redis://127.0.0.1:6379/14

Needs PostgreSQL and Redis (the defaults are those of `.ci/run` on 127.0.0.1). The
database named by --database is dropped and created afresh, migrated and filled with the
webinars and their registrants; the Redis database is emptied. Each run starts from no
reminder sent, and:
- inline (no Redis): `tick` in this process claims, queues and sends every reminder itself;
- 1 and 2 workers: `flask worker` processes (production config) are started and idle
  first; then `tick` (in this process, REDIS_URL set) queues one reminder job per webinar.
  Timed: the tick itself (enqueue), until every reminder is claimed and its mail written
  (queued), and until the SMTP server has received every mail (delivered).
The machine's cores are shared: compare the ratio of one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from tests.factories import Factory  # noqa: E402
from tests.processes import Processes, mail_server, production_env, wait_for  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import (  # noqa: E402
    EventKind,
    OutboxMessage,
    ReminderDelivery,
    utcnow,
)
from webapp.models import RegistrationStatus as S  # noqa: E402

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_jobs"
REDIS = "redis://127.0.0.1:6379/14"


def fresh_database(url: str) -> None:
    import psycopg

    server, name = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(registrants: int, webinars: int):
    """The webinars, all starting at the same moment ten days ahead, and their approved
    registrants (history written directly, no mail); the instant their 24-hour reminders
    are due."""
    make = Factory()
    organizing, cluster = make.partner(), make.partner()
    organizer = make.manager(organizing)
    organization = make.organization(cluster)
    starts = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    per_webinar = registrants // webinars
    for w in range(webinars):
        event = make.event(kind=EventKind.WEBINAR, organizers=[organizing], starts_at=starts,
                           duration=timedelta(hours=1), title=f"Webinar {w + 1}",
                           online_url=f"https://meet.example.com/j/room-{w + 1}",
                           timezone="America/New_York")
        for _ in range(per_webinar):
            user = make.user(organization, password=None)
            make.registration(event, user, S.SUBMITTED, S.APPROVED, actor=organizer)
        db.session.commit()
    return starts - timedelta(hours=24), per_webinar * webinars


def reset() -> None:
    """No reminder sent yet, an empty outbox."""
    db.session.execute(delete(ReminderDelivery))
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def claimed() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(ReminderDelivery))


def run_inline(app, due_at, expected: int) -> dict:
    reset()
    with mail_server() as (port, box):
        app.config.update(REDIS_URL=None, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        started = perf_counter()
        output = app.test_cli_runner().invoke(args=["tick", "--now", due_at.isoformat()])
        ticked = perf_counter() - started
        assert output.exit_code == 0, output.output
        # Every mail went out within the tick; aiosmtpd may still be recording the last.
        wait_for(lambda: box.count() >= expected, "the mail", deadline=60)
        delivered = perf_counter() - started
    return {"enqueue": None, "queued": None, "delivered": max(ticked, delivered)}


def run_workers(app, due_at, expected: int, workers: int, database: str, redis_url: str,
                log_dir: Path) -> dict:
    import redis

    reset()
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    processes = Processes(log_dir)
    try:
        with mail_server() as (port, box):
            from rq import Worker

            env = production_env(database, redis_url, port)
            for n in range(workers):
                processes.worker(env, f"worker-{workers}-{n + 1}")
            wait_for(lambda: len(Worker.all(connection=connection)) == workers,
                     "the workers", processes=processes)
            app.config.update(REDIS_URL=redis_url)
            started = perf_counter()
            output = app.test_cli_runner().invoke(args=["tick", "--now", due_at.isoformat()])
            enqueued = perf_counter() - started
            assert output.exit_code == 0, output.output
            queued = None
            while box.count() < expected:
                if queued is None and claimed() >= expected:
                    queued = perf_counter() - started
                processes.check_running()
                if perf_counter() - started > 600:
                    raise AssertionError(f"only {box.count()} of {expected} mails in 600 s")
                time.sleep(0.1)
            delivered = perf_counter() - started
            if queued is None:
                queued = delivered
            assert box.count() == expected, f"{box.count()} mails for {expected} reminders"
    finally:
        processes.stop_all()
        connection.flushdb()
    return {"enqueue": enqueued, "queued": queued, "delivered": delivered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrants", type=int, default=5000)
    parser.add_argument("--webinars", type=int, default=50)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--redis", default=REDIS)
    args = parser.parse_args()

    import logging
    import tempfile

    logging.getLogger("webapp").setLevel(logging.ERROR)
    fresh_database(args.database)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.database)
    with app.app_context():
        upgrade()
        started = perf_counter()
        due_at, expected = seed(args.registrants, args.webinars)
        print(f"seeded {expected} approved registrants across {args.webinars} webinars "
              f"in {perf_counter() - started:.1f} s; reminders due {due_at:%Y-%m-%d %H:%M} UTC")
        with tempfile.TemporaryDirectory() as logs:
            results = {
                "inline (no Redis)": run_inline(app, due_at, expected),
                "1 worker": run_workers(app, due_at, expected, 1, args.database, args.redis,
                                        Path(logs)),
                "2 workers": run_workers(app, due_at, expected, 2, args.database, args.redis,
                                         Path(logs)),
            }
        db.session.remove()
        db.engine.dispose()

    print(f"\ntick: {expected} reminders (PostgreSQL, Redis + RQ, aiosmtpd on 127.0.0.1)")
    print(f"{'':<20}{'enqueue s':>10}{'queued s':>10}{'delivered s':>13}{'mails/s':>10}")
    for label, r in results.items():
        enqueue, queued = (f"{r[k]:.2f}" if r[k] is not None else "-"
                           for k in ("enqueue", "queued"))
        print(f"{label:<20}{enqueue:>10}{queued:>10}{r['delivered']:>13.2f}"
              f"{expected / r['delivered']:>10.0f}")
    one, two = results["1 worker"]["delivered"], results["2 workers"]["delivered"]
    print(f"\n2 workers vs 1: {one / two:.2f}x the delivery rate "
          f"({two:.1f} s instead of {one:.1f} s)")


if __name__ == "__main__":
    main()

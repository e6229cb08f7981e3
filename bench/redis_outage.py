"""The queue's drain rate after a Redis outage: 1,000 mails written while Redis is down,
then Redis back; against the normal rate of 1,000 mails measured in the same run.

    .venv/bin/python bench/redis_outage.py
    .venv/bin/python bench/redis_outage.py --mails 2000 --outage 30 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_outage

Needs PostgreSQL (the database named by --database is created afresh and dropped at the
end) and `redis-server` on the PATH: the bench runs a Redis of its own on a free port, so
it can stop and start it. One `flask worker` (production config, default reconnect waits
unless --reconnect-initial/--reconnect-max) sends to an SMTP server on loopback.

- normal: Redis up, the worker idle; the mails are written in one transaction, whose
  commit queues their delivery jobs (50 mails each). Timed from the commit to the last
  mail received.
- after the outage: Redis is stopped (the worker waits for it), the mails are written and
  committed (their jobs cannot be queued: they wait in the outbox), Redis stays away for
  --outage seconds and is started again, empty. Timed from Redis's start: until the first
  mail arrives (the worker noticing, by its reconnect waits, and queueing the mail due)
  and until the last; the drain rate counts from the first mail to the last, so the
  reconnect wait is shown apart from it.
The machine's cores are shared: compare the ratio of one run, not rates across runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.processes import (  # noqa: E402
    Processes,
    mail_server,
    production_env,
    scratch_database,
    wait_for,
)
from tests.test_faults_redis import PrivateRedis  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import OutboxMessage, OutboxStatus  # noqa: E402
from webapp.services import jobs, notifications  # noqa: E402

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_outage"


def write_mails(count: int, batch: str) -> None:
    """`count` mails in one transaction; their delivery jobs are handed on at its commit
    (to Redis, or, when it does not answer, left in the outbox)."""
    for n in range(count):
        notifications.queue(f"reader-{batch}-{n}@example.org", f"Mail {n} of {batch}",
                            "base", body="...")
    db.session.commit()
    jobs.run_committed()


def unsent() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status != OutboxStatus.SENT))


def received(box, batch: str) -> int:
    return len([m for m in list(box.messages) if f" of {batch}" in m["Subject"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--outage", type=float, default=15.0, help="seconds Redis is away")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reconnect-initial", default=None)
    parser.add_argument("--reconnect-max", default=None)
    args = parser.parse_args()

    redis = PrivateRedis()
    redis.start()
    logs = Path(tempfile.mkdtemp(prefix="bench-redis-outage-"))
    processes = Processes(logs)
    try:
        with scratch_database(args.database, args.database.rsplit("/", 1)[1]) as url, \
                mail_server() as (mail_port, box):
            app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis.url)
            with app.app_context():
                upgrade()
                extra = {}
                if args.reconnect_initial:
                    extra["WORKER_RECONNECT_INITIAL"] = args.reconnect_initial
                if args.reconnect_max:
                    extra["WORKER_RECONNECT_MAX"] = args.reconnect_max
                env = production_env(url, redis.url, mail_port, **extra)
                processes.worker(env, "bench-outage-worker")
                time.sleep(3)  # the worker is up and idle
                processes.check_running()

                write_mails(args.mails, "normal")
                written = perf_counter()
                wait_for(lambda: received(box, "normal") >= args.mails and unsent() == 0,
                         "the normal mails", deadline=600, processes=processes)
                normal = perf_counter() - written

                redis.stop()
                time.sleep(1)  # the worker notices
                write_mails(args.mails, "outage")
                assert received(box, "outage") == 0
                time.sleep(max(0.0, args.outage - 1))
                back = perf_counter()
                redis.start()
                wait_for(lambda: received(box, "outage") > 0, "the first mail after",
                         deadline=600, processes=processes)
                first = perf_counter() - back
                wait_for(lambda: received(box, "outage") >= args.mails and unsent() == 0,
                         "the mails after the outage", deadline=600, processes=processes)
                drained = perf_counter() - back
                processes.check_running()
                duplicates = len(box.messages) - len({m["Message-ID"] for m in box.messages})
                db.session.remove()
                db.engine.dispose()
    finally:
        processes.stop_all()
        redis.stop()

    normal_rate = args.mails / normal
    drain_rate = args.mails / max(drained - first, 1e-9)
    print(f"{args.mails} mails, one worker, outage {args.outage:.0f} s")
    print(f"{'':<24}{'seconds':>10}{'mails/s':>10}")
    print(f"{'normal':<24}{normal:>10.2f}{normal_rate:>10.1f}")
    print(f"{'after the outage':<24}{drained:>10.2f}{args.mails / drained:>10.1f}"
          "   (from Redis's start to the last mail)")
    print(f"{'  first mail after':<24}{first:>10.2f}{'':>10}   (reconnect wait and catch-up)")
    print(f"{'  drain':<24}{drained - first:>10.2f}{drain_rate:>10.1f}"
          "   (first mail to last)")
    print(f"drain rate / normal rate: {drain_rate / normal_rate:.2f}; "
          f"mails received twice: {duplicates}; the worker's log: {logs}")


if __name__ == "__main__":
    main()

"""Background jobs: on Redis + RQ when REDIS_URL is set, in this process otherwise.

This is the one place that knows which. A job is a plain module-level function taking
ids and ISO times (what RQ can pickle and a worker can import), run in an app context,
and decorated with `unit.job`: it is a unit of work of its own, committed once when it
returns and rolled back when it raises. `enqueue(func, *args)` runs it after the current
unit commits, because the worker reads the database, not the caller's session: a job
asked for inside a unit (a request, a command, another job) waits for that unit's commit
and vanishes with its rollback; outside any unit it waits for the session's transaction
when that has written, and goes at once otherwise. Waiting jobs are handed on by
`hand_on()`, which the unit calls after its commit.

With REDIS_URL a job goes to the RQ queue QUEUE_NAME, and `flask worker` runs it; a job
that raises is retried after each of RETRY_INTERVALS, then kept in RQ's failed-job
registry, which the admin page of failed jobs lists with a retry button. Without it the
job runs here, after the commit (the embedded default needs nothing but its database),
and a job that raises is logged, its work left for the next `flask tick`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import unit
from ..extensions import db

QUEUE_NAME = "beachhead"
# Seconds before each retry of a job that raised; then it is a failed job.
RETRY_INTERVALS = (10, 60, 300)
# How long RQ keeps a failed job for the admin page.
FAILED_KEPT = timedelta(days=30)
_WAITING = "jobs_waiting"
_COMMITTED = "jobs_committed"
_WROTE = "jobs_transaction_wrote"

log = logging.getLogger(__name__)


def in_background() -> bool:
    """Whether jobs go to Redis + RQ (REDIS_URL is set) rather than running inline."""
    return bool(current_app.config.get("REDIS_URL"))


def connection():
    """This app's Redis connection (one pool per process)."""
    from redis import Redis

    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    cached = app.extensions.get("beachhead_redis")
    if cached is None or cached[0] != url:
        cached = app.extensions["beachhead_redis"] = (url, Redis.from_url(url))
    return cached[1]


def queue():
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection())


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Have `func(*args)` run once the current unit (or, outside any, the current
    transaction) has committed: on the RQ queue with REDIS_URL, in this process without.
    A rollback drops it."""
    if (owner := unit.current()) is not None:
        # Whatever the unit commits on its way (a read ended, a claim set aside), the job
        # waits for the unit's own commit.
        owner.jobs.append((func, args))
        return
    session = db.session()
    if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        enqueue_on_commit(session, func, *args)
        return
    _hand_on(func, args)


def enqueue_on_commit(session: Session, func: Callable[..., Any], *args: Any) -> None:
    """`enqueue`, for a hook that holds the session in the middle of its transaction."""
    if (owner := unit.current()) is not None:
        owner.jobs.append((func, args))
        return
    session.info.setdefault(_WAITING, []).append((func, args))


def hand_on(waiting: list[tuple[Callable[..., Any], tuple]]) -> None:
    """Hand on jobs whose unit has committed, then those of committed transactions (jobs
    run inline may queue more). Never raises: what was committed stands, and the next
    tick picks up what is left."""
    session = db.session()
    waiting = [*waiting, *session.info.pop(_COMMITTED, [])]
    while waiting:
        for func, args in waiting:
            try:
                _hand_on(func, args)
            except Exception:
                # A job run inline has rolled its own unit back; only the log is left.
                log.exception("job %s%r could not be run or queued", _name(func), args)
        waiting = session.info.pop(_COMMITTED, [])


def run_committed() -> None:
    """Hand on the jobs of the transactions that have committed outside any unit."""
    hand_on(db.session().info.pop(_COMMITTED, []))


def _hand_on(func: Callable[..., Any], args: tuple) -> None:
    if not in_background():
        func(*args)
        return
    from rq import Retry

    queue().enqueue_call(
        func, args=args, retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
        failure_ttl=int(FAILED_KEPT.total_seconds()), result_ttl=3600,
        description=f"{_name(func)}{_shortened(repr(args))}",
    )


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit - 5]} ...)"


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__.removeprefix('webapp.services.')}.{func.__name__}"


def run_aside(func: Callable[..., Any], *args: Any) -> threading.Thread | None:
    """Run the job `func(*args)` away from the request that asked for it (work that takes
    longer than a request may), after the current unit commits: an RQ job with REDIS_URL;
    without, a thread of this process with its own app context and session. Outside any
    unit the thread starts now, and is returned for the caller to join."""
    if in_background():
        enqueue(func, *args)
        return None
    app = current_app._get_current_object()
    if unit.current() is not None:
        enqueue(_start_thread, app, func, args)
        return None
    return _start_thread(app, func, args)


def _start_thread(app: Flask, func: Callable[..., Any], args: tuple) -> threading.Thread:
    thread = threading.Thread(target=_run_in_app, args=(app, func, args),
                              name=f"job-{func.__name__}", daemon=True)
    thread.start()
    return thread


def _run_in_app(app: Flask, func: Callable[..., Any], args: tuple) -> None:
    """The thread: the job is its own unit (`unit.job`), which hands on what it queued."""
    with app.app_context():
        try:
            func(*args)
        except Exception:
            log.exception("job %s%r failed", _name(func), args)
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- the worker


def work(*, burst: bool = False) -> None:
    """Run an RQ worker on this app's queue, in this process and app context (no fork:
    each job gets a fresh database session). Each job is its own unit (`unit.job`), which
    commits or rolls back and hands on what it queued. With `burst`, stop once the queue
    is empty."""
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        def perform_job(self, job, queue, *args, **kwargs):
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()

    Worker([queue()], connection=connection()).work(burst=burst, with_scheduler=not burst)


# --------------------------------------------------------------------------- failed jobs


@dataclass(frozen=True)
class FailedJob:
    id: str
    description: str
    failed_at: datetime | None
    error: str  # the exception's last line
    attempts: int


class QueueUnreachable(RuntimeError):
    """Redis did not answer."""


def failed() -> list[FailedJob]:
    """The jobs RQ gave up on, most recent first (none without Redis); QueueUnreachable
    when Redis does not answer."""
    if not in_background():
        return []
    from redis import RedisError
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    try:
        registry = FailedJobRegistry(queue=queue())
        jobs = [j for j in Job.fetch_many(registry.get_job_ids(), connection=connection())
                if j]
    except RedisError as error:
        raise QueueUnreachable(str(error)) from error
    found = [FailedJob(j.id, j.description or j.func_name, _utc(j.ended_at),
                       last_line(_traceback(j)), _attempts(j)) for j in jobs]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda f: f.failed_at or oldest, reverse=True)


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _traceback(job) -> str:
    result = job.latest_result()
    return (result.exc_string or "") if result is not None else ""


def last_line(exc_info: str | None) -> str:
    """The error's last non-blank line (the exception itself), at most 300 characters."""
    lines = [line for line in (exc_info or "").splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _attempts(job) -> int:
    # RQ counts down `retries_left` from Retry(max=...); the first run is one more.
    left = job.retries_left or 0
    return 1 + len(RETRY_INTERVALS) - left


class UnknownJob(LookupError):
    pass


def retry(job_id: str) -> None:
    """Put a failed job back on the queue; UnknownJob when there is no such failed job,
    QueueUnreachable when Redis does not answer."""
    if not in_background():
        raise UnknownJob(job_id)
    from redis import RedisError
    from rq.registry import FailedJobRegistry

    try:
        registry = FailedJobRegistry(queue=queue())
        if job_id not in registry.get_job_ids():
            raise UnknownJob(job_id)
        registry.requeue(job_id)
    except RedisError as error:
        raise QueueUnreachable(str(error)) from error


# --------------------------------------------------------------------------- the hooks


@event.listens_for(Session, "after_flush")
def _mark_written(session: Session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    session.info.pop(_WROTE, None)
    if waiting := session.info.pop(_WAITING, None):
        session.info.setdefault(_COMMITTED, []).extend(waiting)


@event.listens_for(Session, "after_soft_rollback")
def _drop_waiting(session: Session, previous_transaction) -> None:
    # A savepoint's rollback leaves the enclosing transaction, and its jobs, standing.
    # Any other rollback ends the unit's hope of committing (it is abandoned or
    # discarded), so the jobs it asked for go with it.
    if not previous_transaction.nested:
        session.info.pop(_WAITING, None)
        session.info.pop(_WROTE, None)


def init_app(app: Flask) -> None:
    """Nothing to wire: the unit of work (webapp.unit) hands the jobs on after its commit."""

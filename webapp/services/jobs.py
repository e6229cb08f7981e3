"""Background jobs: on Redis + RQ when REDIS_URL is set, in this process otherwise.

This is the one place that knows which. A job is a plain module-level function taking
ids and ISO times (what RQ can pickle and a worker can import), run in an app context.
`enqueue(func, *args)` runs it after the current transaction commits, because the worker
reads the database, not the caller's session: when the transaction has written anything
the job waits for its commit and vanishes with its rollback; otherwise (no transaction,
or one that only read) it goes at once. Waiting jobs are handed
on by `run_committed()`, which runs after each request, at the end of `flask tick` and
after each job of the worker.

With REDIS_URL a job goes to the RQ queue QUEUE_NAME, and `flask worker` runs it; a job
that raises is retried after each of RETRY_INTERVALS, then kept in RQ's failed-job
registry, which the admin page of failed jobs lists with a retry button. Without it the
job runs here and now (the embedded default needs nothing but its database), and a job
that raises is logged, its work left for the next `flask tick`.
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
    """Have `func(*args)` run once the current transaction has committed: on the RQ
    queue with REDIS_URL, in this process without. A rollback drops it."""
    session = db.session()
    if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        enqueue_on_commit(session, func, *args)
        return
    _hand_on(func, args)


def enqueue_on_commit(session: Session, func: Callable[..., Any], *args: Any) -> None:
    """`enqueue`, for a hook that holds the session in the middle of its transaction."""
    session.info.setdefault(_WAITING, []).append((func, args))


def run_committed() -> None:
    """Hand on the jobs whose transaction has committed (jobs run inline may queue more).
    Never raises: what was committed stands, and the next tick picks up what is left."""
    session = db.session()
    while waiting := session.info.pop(_COMMITTED, None):
        for func, args in waiting:
            try:
                _hand_on(func, args)
            except Exception:
                db.session.rollback()
                log.exception("job %s%r could not be run or queued", _name(func), args)


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
    """Run `func(*args)` away from the request that asked for it (work that takes longer
    than a request may): an RQ job with REDIS_URL; without, a thread of this process with
    its own app context and session, which the caller may join."""
    if in_background():
        enqueue(func, *args)
        return None
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run_in_app, args=(app, func, args),
                              name=f"job-{func.__name__}", daemon=True)
    thread.start()
    return thread


def _run_in_app(app: Flask, func: Callable[..., Any], args: tuple) -> None:
    with app.app_context():
        try:
            func(*args)
            run_committed()
        except Exception:
            log.exception("job %s%r failed", _name(func), args)
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- the worker


def work(*, burst: bool = False) -> None:
    """Run an RQ worker on this app's queue, in this process and app context (no fork:
    each job gets a fresh database session). With `burst`, stop once the queue is empty."""
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        def perform_job(self, job, queue, *args, **kwargs):
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.rollback()
                run_committed()
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
    if not previous_transaction.nested:
        session.info.pop(_WAITING, None)
        session.info.pop(_WROTE, None)


def init_app(app: Flask) -> None:
    @app.after_request
    def run_after_commit(response):
        # Jobs of this request's committed transactions: queued, or run here (the mail it
        # wrote goes out now). Nothing here may fail the response.
        run_committed()
        return response

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

When Redis does not answer, nothing that asked for a job fails: the job is not queued
(the log says so once per process, until Redis answers again) and its work waits in the
database, where `flask tick` finds it (mail due in the outbox). A job someone watches
the progress of (`run_aside`: a badge batch, a download, a schedule) does not wait: it
runs in a thread of this process, as it would without Redis. The worker outlives the
outage: it waits for Redis with growing pauses (WORKER_RECONNECT_INITIAL up to
WORKER_RECONNECT_MAX), queues the mail that fell due meanwhile once Redis is back, and
writes its heartbeat to the database throughout, so the admin's jobs page and
/healthz/details can tell a worker waiting for Redis from one that is gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from redis import RedisError
from sqlalchemy import delete, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import unit
from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, WorkerHeartbeat, utcnow

QUEUE_NAME = "beachhead"
# Seconds before each retry of a job that raised; then it is a failed job.
RETRY_INTERVALS = (10, 60, 300)
# How long RQ keeps a failed job for the admin page.
FAILED_KEPT = timedelta(days=30)
_WAITING = "jobs_waiting"
_COMMITTED = "jobs_committed"
_WROTE = "jobs_transaction_wrote"
# What the worker queues once Redis is back (see after_outage).
_CATCH_UPS = "beachhead.jobs.catch_ups"
# The job's meta key of its last error's line (see _note_error).
_LAST_ERROR = "last_error"
# The jobs handed on by `run_aside`: while Redis does not answer, they run here.
_ASIDE: set[Callable[..., Any]] = set()

log = logging.getLogger(__name__)


def in_background() -> bool:
    """Whether jobs go to Redis + RQ (REDIS_URL is set) rather than running inline."""
    return bool(current_app.config.get("REDIS_URL"))


def connection():
    """This app's Redis connection (one pool per process). It waits REDIS_TIMEOUT at most
    for Redis to accept or answer, so an unreachable Redis costs a request that long, not
    the request."""
    from redis import Redis

    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    cached = app.extensions.get("beachhead_redis")
    if cached is None or cached[0] != url:
        timeout = app.config.get("REDIS_TIMEOUT", 2)
        cached = app.extensions["beachhead_redis"] = (url, Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout))
    return cached[1]


# --------------------------------------------------------------------------- Redis down

# What this process has found Redis failing for, since it last answered (see below).
_unanswered: set[str] = set()
_unanswered_lock = threading.Lock()


def redis_failed(what: str, error: Exception) -> None:
    """Note that Redis did not answer for `what` (a sentence on what happens instead).
    Logged once per process and `what` until Redis answers again, so an outage writes
    one line per fallback, not one per request."""
    with _unanswered_lock:
        if what in _unanswered:
            return
        _unanswered.add(what)
    log.warning("Redis does not answer (%s: %s): %s", type(error).__name__, error, what)


def redis_answered() -> None:
    """Redis answered: the next failure is logged again."""
    if not _unanswered:
        return
    with _unanswered_lock:
        was_down = bool(_unanswered)
        _unanswered.clear()
    if was_down:
        log.warning("Redis answers again")


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


def enqueue_batched_on_commit(session: Session, func: Callable[[list], Any], items: list,
                              *, batch: int) -> None:
    """`enqueue_on_commit` for a job that takes one list: the items join a job of `func`
    still waiting for the same commit until it holds `batch` of them, so a unit that
    flushes many times (a bulk decision) hands on one job per `batch`, not one per flush."""
    owner = unit.current()
    waiting = owner.jobs if owner is not None else session.info.setdefault(_WAITING, [])
    items = list(items)
    for queued, args in waiting:
        if not items:
            return
        if queued is func and len(args[0]) < batch:
            room = batch - len(args[0])
            args[0].extend(items[:room])
            items = items[room:]
    for start in range(0, len(items), batch):
        waiting.append((func, (items[start:start + batch],)))


def hand_on(waiting: list[tuple[Callable[..., Any], tuple]]) -> int:
    """Hand on jobs whose unit has committed, then those of committed transactions (jobs
    run inline may queue more); how many could not be queued because Redis did not
    answer. Never raises: what was committed stands, and the next tick picks up what is
    left."""
    session = db.session()
    waiting = [*waiting, *session.info.pop(_COMMITTED, [])]
    unqueued = 0
    while waiting:
        for func, args in waiting:
            try:
                _hand_on(func, args)
            except RedisError as error:
                if func in _ASIDE:
                    # Someone watches its progress: it runs here rather than wait.
                    redis_failed("work whose progress is shown runs in the web process",
                                 error)
                    _start_thread(current_app._get_current_object(), func, args)
                    continue
                # What the job would do waits in the database: the next tick queues
                # the mail due again, and the reminders and surveys due.
                unqueued += 1
                redis_failed("jobs are not queued; `flask tick` queues their work once "
                             "Redis is back", error)
            except Exception:
                # A job run inline has rolled its own unit back; only the log is left.
                log.exception("job %s%r could not be run or queued", _name(func), args)
        waiting = session.info.pop(_COMMITTED, [])
    return unqueued


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
    redis_answered()


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit - 5]} ...)"


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__.removeprefix('webapp.services.')}.{func.__name__}"


def run_aside(func: Callable[..., Any], *args: Any) -> threading.Thread | None:
    """Run the job `func(*args)` away from the request that asked for it (work that takes
    longer than a request may), after the current unit commits: an RQ job with REDIS_URL
    (a thread of this process while Redis does not answer); without, a thread of this
    process with its own app context and session. Outside any unit the thread starts
    now, and is returned for the caller to join."""
    if in_background():
        _ASIDE.add(func)
        enqueue(func, *args)
        return None
    app = current_app._get_current_object()
    if unit.current() is not None:
        enqueue(_start_thread, app, func, args)
        return None
    return _start_thread(app, func, args)


def write_progress(model: type, row_id: int, aside_kind: str, *, finished: bool = False,
                   **values: Any) -> None:
    """Write a background job's progress on its row (`model`, e.g. a badge batch or a
    download) in a transaction of its own (`unit.aside(aside_kind)`), so other servers
    see it at once; every step stamps `updated_at` (a job that stops advancing goes
    stale), the last one (`finished`) `finished_at` too."""
    now = utcnow()
    values["updated_at"] = now
    if finished:
        values["finished_at"] = now
    with unit.aside(aside_kind) as session:
        session.execute(sa.update(model).where(model.id == row_id).values(**values))


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


class Progress:
    """A background job's progress callback, `progress(done, total)`, that writes the
    count through `write` at most every WRITE_EVERY seconds, and always the last step (a
    page that polls twice a second sees no difference; a write per item would slow the
    job down)."""

    WRITE_EVERY = 0.2

    def __init__(self, write: Callable[[int, int], None]) -> None:
        self.write = write
        self.written_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - self.written_at >= self.WRITE_EVERY:
            self.write(done, total)
            self.written_at = now


# --------------------------------------------------------------------------- the worker


def work(*, burst: bool = False, reconnect_initial: float | None = None,
         reconnect_max: float | None = None) -> None:
    """Run an RQ worker on this app's queue, in this process and app context (no fork:
    each job gets a fresh database session). Each job is its own unit (`unit.job`), which
    commits or rolls back and hands on what it queued. With `burst`, stop once the queue
    is empty.

    It outlives Redis: when Redis stops answering, RQ's loop is left (or waits inside its
    heartbeat) while this process waits for Redis with growing pauses, then starts a new
    RQ worker and queues the mail that fell due meanwhile (whose own jobs could not be
    queued). Only a stop request (SIGTERM, SIGINT) ends it, or, with `burst`, an empty
    queue. Its heartbeat goes to the database every WORKER_HEARTBEAT_EVERY seconds."""
    from rq.exceptions import StopRequested

    _log_with_time()
    config = current_app.config
    waits = _Reconnect(
        config["WORKER_RECONNECT_INITIAL"] if reconnect_initial is None else reconnect_initial,
        config["WORKER_RECONNECT_MAX"] if reconnect_max is None else reconnect_max)
    beat = _Heartbeat(every=config["WORKER_HEARTBEAT_EVERY"])
    try:
        while True:
            try:
                if waits.until_redis_answers(beat):
                    _catch_up_after_outage()
                worker = _worker(beat, waits)
                stopped = _run(worker, burst)
            except StopRequested:
                break
            except RedisError as error:
                beat.redis_lost(error)
                continue
            if stopped or (burst and _queue_empty()):
                break
            # RQ left its loop on an error of its own (logged by RQ): start over, after
            # the first pause, rather than leave the queue without a worker.
            waits.pause(beat)
    finally:
        beat.stopped()


def _log_with_time() -> None:
    """The worker's own lines, timed like RQ's, on stderr (once per process)."""
    if not log.hasHandlers():  # nothing configured: the process is a bare `flask worker`
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _run(worker, burst: bool) -> bool:
    """One RQ worker's life; whether it ended because a stop was requested."""
    try:
        worker.work(burst=burst, with_scheduler=not burst,
                    logging_level=os.environ.get("RQ_LOGGING_LEVEL", "INFO"))
    except RedisError:
        # Its farewell to Redis (register_death) failed: it is gone all the same.
        if worker._shutdown_requested_date is not None:
            return True
        _unsubscribe(worker)
        raise
    return worker._shutdown_requested_date is not None


def _unsubscribe(worker) -> None:
    """Stop the RQ worker's command thread, which would otherwise outlive it."""
    with contextlib.suppress(RedisError):
        worker.unsubscribe()


def _queue_empty() -> bool:
    try:
        return queue().count == 0
    except RedisError:
        return False


def _worker(beat: _Heartbeat, waits: _Reconnect):
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        # RQ's own pauses inside its loop, for the short moment before ours take over.
        max_connection_wait_time = waits.longest

        def perform_job(self, job, queue, *args, **kwargs):
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()
                beat.job_done()

        def heartbeat(self, *args, **kwargs):
            # Ours first: it reaches the database while Redis does not answer. A Redis
            # lost while the worker waits for jobs is waited for here, with our pauses,
            # and RQ's loop goes on where it was once it answers.
            beat.beat()
            try:
                return super().heartbeat(*args, **kwargs)
            except RedisError as error:
                if self.get_state() == "busy":
                    raise
                beat.redis_lost(error)
                if waits.until_redis_answers(beat, lost=error):
                    _catch_up_after_outage()
                self._restart_scheduler()
                return super().heartbeat(*args, **kwargs)

        def _restart_scheduler(self) -> None:
            # RQ's scheduler (the retries' timer) dies with the connection; RQ would start
            # it again only at its next maintenance, minutes later.
            process = self.scheduler._process if self.scheduler else None
            if process is not None and not process.is_alive():
                self.scheduler.acquire_locks(auto_start=True)

    # A heartbeat at least every WORKER_HEARTBEAT_EVERY s while idle: RQ blocks on the
    # queue for worker_ttl - 15 s between two of its own.
    ttl = int(beat.every) + 15
    return Worker([queue()], connection=connection(), worker_ttl=max(ttl, 20),
                  exception_handlers=[_note_error])


def _note_error(job, exc_type, exc_value, tb) -> bool:
    """Keep the error's last line on the job: RQ stores an error only once the job has
    failed for good, and the jobs page shows why one waits for its retry."""
    job.meta[_LAST_ERROR] = f"{exc_type.__name__}: {exc_value}"[:300]
    with contextlib.suppress(RedisError):  # the page shows the retry without its error
        job.save_meta()
    return True  # RQ's own handling goes on


class _Reconnect:
    """The worker's pauses while Redis does not answer: from `first` seconds, doubled up
    to `longest`, back to `first` once it answers."""

    def __init__(self, first: float, longest: float) -> None:
        self.first = max(0.05, first)
        self.longest = max(self.first, longest)

    def pause(self, beat: _Heartbeat) -> None:
        beat.sleep(self.first)

    def until_redis_answers(self, beat: _Heartbeat, lost: Exception | None = None) -> bool:
        """Wait until Redis answers a PING; whether it had to wait (Redis was lost)."""
        wait, waited = self.first, lost is not None
        while True:
            try:
                connection().ping()
            except RedisError as error:
                beat.redis_lost(error)
                log.warning("Redis does not answer (%s); the worker tries again in %.1f s",
                            error, wait)
                beat.sleep(wait)
                wait = min(wait * 2, self.longest)
                waited = True
                continue
            if waited:
                log.warning("Redis answers again; the worker goes on")
            beat.redis_back()
            return waited


@dataclass(frozen=True)
class _CatchUp:
    what: str  # what it queues: "message(s) due"
    queue_due: Callable[[], int]  # queues it, says how many


def after_outage(app: Flask, what: str, queue_due: Callable[[], int]) -> None:
    """Have the worker call `queue_due()` once Redis answers again after an outage, to
    queue the `what` that fell due meanwhile: their jobs could not be queued. The service
    whose work waited in the database registers it (notifications: the mail due)."""
    app.extensions.setdefault(_CATCH_UPS, []).append(_CatchUp(what, queue_due))


def _catch_up_after_outage() -> None:
    """Queue what fell due while Redis was away, each in a reading unit of its own. Work
    that still has its job is claimed once all the same (mail: services.notifications),
    so a second job for it does nothing twice."""
    for catch_up in current_app.extensions.get(_CATCH_UPS, ()):
        try:
            with unit.of_work(f"worker: {catch_up.what} after a Redis outage",
                              writing=False):
                queued = catch_up.queue_due()
        except (RedisError, SQLAlchemyError) as error:
            log.warning("the %s could not be queued after the outage (%s); "
                        "the next `flask tick` queues them", catch_up.what, error)
            continue
        log.warning("queued %d %s after the Redis outage", queued, catch_up.what)


# --------------------------------------------------------------------------- heartbeats


@dataclass(frozen=True)
class Heartbeat:
    """A worker's last sign of life, as written to the database."""

    worker: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    state: str  # "working" or "reconnecting" (Redis does not answer)
    redis_error: str
    jobs_done: int


def last_heartbeat() -> Heartbeat | None:
    """The most recent heartbeat of any worker (None when no worker ever wrote one).
    Read from the database only, so it answers while Redis is down."""
    row = db.session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(1)).first()
    if row is None:
        return None
    return Heartbeat(row.worker, row.host, row.pid, row.started_at, row.beat_at, row.state,
                     row.redis_error, row.jobs_done)


# Rows of workers silent this long are dropped by the next heartbeat of any worker.
HEARTBEATS_KEPT = timedelta(days=7)


class _Heartbeat:
    """This worker process's heartbeat row, written aside (`unit.aside("heartbeat")`) at
    most every `every` seconds, and at once when its state changes. A database that does
    not answer costs a log line, never the worker."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.state = "working"
        self.error = ""
        self.jobs_done = 0
        self._written_at = float("-inf")
        self._written_state: tuple[str, str] | None = None

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = (self.state, self.error) != self._written_state
        if not (force or changed or now - self._written_at >= self.every):
            return
        try:
            self._write()
        except SQLAlchemyError as error:
            log.warning("the worker's heartbeat could not be written: %s",
                        str(getattr(error, "orig", None) or error).splitlines()[0])
            db.session.remove()
            return
        self._written_at, self._written_state = now, (self.state, self.error)

    def _write(self) -> None:
        with unit.aside("heartbeat") as session:
            now = utcnow()
            row = session.get(WorkerHeartbeat, self.name)
            if row is None:
                session.execute(delete(WorkerHeartbeat).where(
                    WorkerHeartbeat.beat_at < now - HEARTBEATS_KEPT))
                row = WorkerHeartbeat(worker=self.name, host=socket.gethostname(),
                                      pid=os.getpid(), started_at=now)
                session.add(row)
            row.beat_at, row.state = now, self.state
            row.redis_error, row.jobs_done = self.error[:1000], self.jobs_done

    def job_done(self) -> None:
        self.jobs_done += 1
        self.beat()

    def redis_lost(self, error: Exception) -> None:
        self.state, self.error = "reconnecting", f"{type(error).__name__}: {error}"
        self.beat()

    def redis_back(self) -> None:
        self.state, self.error = "working", ""
        self.beat()

    def stopped(self) -> None:
        self.state = "stopped"
        self.beat(force=True)

    def sleep(self, seconds: float) -> None:
        """Wait, beating meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, self.every))
            self.beat()


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


# --------------------------------------------------------------------------- what waits


@dataclass(frozen=True)
class Retrying:
    """A job or message that failed and is scheduled to run again."""

    kind: str  # "job" or "mail"
    id: str
    what: str
    next_at: datetime | None
    error: str  # the last error's last line
    attempts: int


@dataclass(frozen=True)
class Stall:
    """Work that waits longer than it should, and why (a code the page words)."""

    reason: str  # one of STALL_REASONS
    count: int  # messages or jobs waiting
    since: datetime | None  # how long: the oldest of them, or the last heartbeat
    detail: str = ""  # the last error line, when there is one


STALL_REASONS = (
    "queue_unreachable",  # Redis does not answer while mail waits
    "worker_reconnecting",  # the last worker heartbeat says it waits for Redis
    "worker_silent",  # no heartbeat for WORKER_SILENT_AFTER while work waits
    "mail_overdue",  # mail due for longer than JOB_STALLED_AFTER
    "jobs_overdue",  # a job queued for longer than JOB_STALLED_AFTER
)


@dataclass(frozen=True)
class Overview:
    """What the admin's jobs page shows: what waits, retries, stalls and failed."""

    in_background: bool
    unreachable: str | None  # Redis's error, when it does not answer
    heartbeat: Heartbeat | None
    mail_waiting: int  # pending messages, due or scheduled for a retry
    oldest_mail: datetime | None  # when the oldest of them was written
    jobs_queued: int | None  # None: unknown (inline, or Redis unreachable)
    oldest_job: datetime | None
    retrying: list[Retrying]
    stalls: list[Stall]
    failed: list[FailedJob]


# Rows of retrying work shown at most.
RETRYING_SHOWN = 100


def overview(now: datetime | None = None) -> Overview:
    """Everything the jobs page shows, read from the database and, when it answers,
    Redis: a Redis that does not answer is one of the things shown, never an error."""
    now = now or utcnow()
    config = current_app.config
    background = in_background()
    unreachable = None
    jobs_queued = oldest_job = None
    retrying_jobs: list[Retrying] = []
    failed_jobs: list[FailedJob] = []
    if background:
        try:
            jobs_queued, oldest_job = _queued()
            retrying_jobs = _scheduled_retries()
            failed_jobs = failed()
        except (QueueUnreachable, RedisError) as error:
            unreachable = str(error)
    mail_waiting, oldest_mail = _mail_waiting()
    heartbeat = last_heartbeat()
    stalls = _stalls(now, config, background=background, unreachable=unreachable,
                     heartbeat=heartbeat, mail_waiting=mail_waiting,
                     jobs_queued=jobs_queued, oldest_job=oldest_job)
    return Overview(background, unreachable, heartbeat, mail_waiting, oldest_mail,
                    jobs_queued, oldest_job, _mail_retrying() + retrying_jobs, stalls,
                    failed_jobs)


def _stalls(now: datetime, config, *, background: bool, unreachable: str | None,
            heartbeat: Heartbeat | None, mail_waiting: int, jobs_queued: int | None,
            oldest_job: datetime | None) -> list[Stall]:
    stalled_after = config["JOB_STALLED_AFTER"]
    stalls: list[Stall] = []
    overdue, overdue_since, overdue_error = _mail_overdue(now - stalled_after)
    work_waits = mail_waiting > 0 or bool(jobs_queued)
    if background and unreachable and mail_waiting:
        stalls.append(Stall("queue_unreachable", mail_waiting, None, last_line(unreachable)))
    if background and work_waits:
        if heartbeat is not None and heartbeat.state == "reconnecting":
            stalls.append(Stall("worker_reconnecting", mail_waiting + (jobs_queued or 0),
                                heartbeat.beat_at, last_line(heartbeat.redis_error)))
        elif (heartbeat is None or heartbeat.state == "stopped"
              or heartbeat.beat_at < now - config["WORKER_SILENT_AFTER"]):
            stalls.append(Stall("worker_silent", mail_waiting + (jobs_queued or 0),
                                heartbeat.beat_at if heartbeat else None))
    if overdue:
        stalls.append(Stall("mail_overdue", overdue, overdue_since, overdue_error))
    if oldest_job is not None and oldest_job < now - stalled_after:
        stalls.append(Stall("jobs_overdue", jobs_queued or 0, oldest_job))
    return stalls


def _pending():
    return OutboxMessage.status == OutboxStatus.PENDING


def _mail_waiting() -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        select(sa.func.count(), sa.func.min(OutboxMessage.created_at)).where(_pending())).one()
    return count, _utc(oldest) if oldest is not None else None


def _mail_overdue(due_before: datetime) -> tuple[int, datetime | None, str]:
    """Mail due since before `due_before` and still not sent: how many, since when, and
    the last error of the oldest (when it failed before)."""
    overdue = _pending() & (OutboxMessage.next_attempt_at < due_before)
    count, since = db.session.execute(
        select(sa.func.count(), sa.func.min(OutboxMessage.next_attempt_at)).where(overdue)).one()
    if not count:
        return 0, None, ""
    error = db.session.scalar(select(OutboxMessage.last_error).where(overdue)
                              .order_by(OutboxMessage.next_attempt_at).limit(1))
    return count, _utc(since), last_line(error)


def _mail_retrying() -> list[Retrying]:
    messages = db.session.scalars(
        select(OutboxMessage).where(_pending(), OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.next_attempt_at).limit(RETRYING_SHOWN)).all()
    return [Retrying("mail", str(m.id), m.to_address, m.next_attempt_at,
                     last_line(m.last_error), m.attempts) for m in messages]


def _queued() -> tuple[int, datetime | None]:
    """How many jobs wait in the queue, and since when the oldest."""
    from rq.job import Job

    work = queue()
    count = work.count
    first = work.get_job_ids(0, 0)
    job = Job.fetch_many(first, connection=connection())[0] if first else None
    return count, _utc(job.enqueued_at) if job is not None else None


def _scheduled_retries() -> list[Retrying]:
    """The jobs that failed and wait in RQ's schedule for their next attempt."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    registry = ScheduledJobRegistry(queue=queue())
    ids = registry.get_job_ids(0, RETRYING_SHOWN - 1)
    found = []
    for job in Job.fetch_many(ids, connection=connection()):
        if job is None:
            continue
        error = job.meta.get(_LAST_ERROR) or last_line(_traceback(job))
        found.append(Retrying("job", job.id, job.description or job.func_name,
                              _utc(registry.get_scheduled_time(job)), error,
                              _attempts(job) - 1))
    return found


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
    """The unit of work (webapp.unit) hands its jobs on here after its commit."""
    unit.hand_jobs_to(app, hand_on)

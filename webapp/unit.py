"""The unit of work: each request, CLI command and job begins, commits or rolls back once.

    request -> view -> form -> access -> service -> models -> commit -> outbox -> mail job

The owner (a request, `command` for the CLI, `job` for background work) opens the unit;
views and services change and flush, and never commit or roll back. The owner commits once
when the unit succeeded (a request: a response below 400) and rolls back otherwise; mail
and jobs are handed over only after that commit, to the queue that said it takes them
(`hand_jobs_to`, called by `services.jobs`), so a rolled-back unit hands over nothing. A
view that refuses what a service said (a form shown again with the service's message)
calls `discard()`: the unit rolls back there and writes nothing more.

Writing happens in the unit's *write step*, and only there. On SQLite a transaction that
read first cannot take the write lock once another writer has committed (SQLITE_BUSY,
which no busy timeout cures), so the write step ends any read transaction and begins its
own with BEGIN IMMEDIATE, right before the reads its write depends on; writers then queue
on the busy timeout. On PostgreSQL the step is only a marker (row locks do the rest).

- A request with an unsafe method (POST, PUT, PATCH, DELETE), a command and a job are
  *writing units*: every transaction they begin is a write step, except inside
  `reading()`, where slow work on what was read (password hashing) runs without the lock.
  A page rendered before anything was written ends the write step first, so rendering
  never holds the lock.
- A GET request is a reading unit; the few that write (a one-time link, a join link)
  begin their write step with `write_step()`.
- A write outside a write step raises `WriteOutsideWriteStep`, on both databases: the
  rule cannot be forgotten by a new write path.

What must outlive the unit whatever happens next (claims of outbox messages, reminders and
surveys, a batch's progress, throttle and rate-limit counts) goes through `aside(kind)`,
the one named helper with its own short transaction, for the ASIDE_KINDS only. It runs
before the unit writes or after its commit, never while the unit holds the write lock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask.signals import before_render_template
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from .extensions import db

# What may be written in a transaction of its own, outside the unit (see `aside`).
ASIDE_KINDS = frozenset({
    "outbox",          # claiming a message for sending, and its result
    "claim",           # a reminder, survey or digest claimed by one sender
    "batch_progress",  # a badge batch's progress, polled by the page that started it
    "download_progress",  # a download's progress and file, polled by its page
    "throttle",        # a counted sign-in, sign-up or reset attempt
    "rate_limit",      # an API token's request count
    "heartbeat",       # a worker's sign of life, read while Redis is down
})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE = "unit"
_TAKES_JOBS = "beachhead.unit.takes_jobs"
_BARE_WRITE = "write_step_outside_a_unit"

F = TypeVar("F", bound=Callable[..., Any])


class WriteOutsideWriteStep(RuntimeError):
    """A unit wrote outside its write step (a GET that writes must call write_step())."""


@dataclass
class Unit:
    """One request's, command's or job's unit of work (kept in the session's info)."""

    name: str
    writing: bool  # its transactions begin as write steps
    reading: int = 0  # depth of `reading()` blocks
    aside: str | None = None  # the kind of the aside transaction under way
    write_txn: bool = False  # the current transaction is a write step
    txn_open: bool = False  # the current transaction has a connection
    wrote: bool = False  # the current transaction has written
    discarded: bool = False
    ended: bool = False
    # The jobs it asked for (services.jobs), handed on after its commit, dropped otherwise.
    jobs: list = field(default_factory=list)
    unqueued: int = 0  # of those, how many Redis did not take (their work waits for tick)
    _next_write: bool = False


def current() -> Unit | None:
    """The session's unit of work, if one is open."""
    unit = db.session().info.get(_STATE)
    return unit if unit is not None and not unit.ended else None


def begin(name: str, *, writing: bool) -> Unit:
    """Open a unit on the current session (ending whatever transaction it had)."""
    session = db.session()
    if session.in_transaction():
        # Nothing is pending when a unit opens, except in tests that call a job or
        # command directly after building their data in the same session.
        session.commit()
    unit = session.info[_STATE] = Unit(name=name, writing=writing)
    return unit


def hand_jobs_to(app: Flask, take: Callable[[list], int]) -> None:
    """After each commit of `app`'s units, `take(jobs)` receives the jobs the unit queued
    (also after one that had none: jobs wait elsewhere too) and says how many it could not
    queue. The queue registers itself here, so the unit knows nothing of where jobs go."""
    app.extensions[_TAKES_JOBS] = take


def finish() -> None:
    """The owner's commit (or, for a discarded unit, its end), then the jobs it queued."""
    session = db.session()
    unit = session.info.get(_STATE)
    try:
        if unit is not None and unit.discarded:
            session.rollback()
        elif session.in_transaction() or session.new or session.dirty or session.deleted:
            session.commit()
        # Else it read nothing (a kept page): no transaction to begin only to end it.
    except BaseException:
        if unit is not None:
            unit.jobs.clear()
        raise
    finally:
        if unit is not None:
            unit.ended = True
    unqueued = current_app.extensions[_TAKES_JOBS](unit.jobs if unit is not None else [])
    if unit is not None:
        unit.unqueued = unqueued


def abandon() -> None:
    """The owner's rollback: nothing of the unit stays, nothing is handed over."""
    session = db.session()
    unit = session.info.get(_STATE)
    session.rollback()
    if unit is not None:
        unit.jobs.clear()
        unit.ended = True


def discard() -> None:
    """The unit failed in a way the page explains (a service refused): roll back now, so
    what is shown next reads the database as it was, and write nothing more."""
    session = db.session()
    session.rollback()
    unit = session.info.get(_STATE)
    if unit is not None:
        unit.jobs.clear()
        unit.discarded = True
        unit.writing = False


@contextmanager
def of_work(name: str, *, writing: bool = True) -> Iterator[Unit]:
    """A command's or job's unit: commit once when the block succeeds, else roll back."""
    unit = begin(name, writing=writing)
    try:
        yield unit
    except BaseException:
        abandon()
        raise
    finish()


def job(func: F) -> F:
    """A background job's unit of work (`services.jobs` runs it inline or on a worker)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        if current() is not None:
            return func(*args, **kwargs)  # called by a unit's own work: part of it
        with of_work(f"job {func.__module__}.{func.__name__}"):
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def command(func: F) -> F:
    """A CLI command's unit of work."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with of_work(f"command {func.__name__}"):
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


# --------------------------------------------------------------------------- write step


def _takes_write_lock(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _has_changes(session: Session) -> bool:
    return bool(session.new or session.deleted
                or any(session.is_modified(obj) for obj in session.dirty))


def _open(session: Session, unit: Unit | None, *, write: bool) -> None:
    """Give the session's transaction its connection: a write step or a plain read."""
    if unit is not None:
        unit._next_write = write
    options = {"sqlite_begin": "IMMEDIATE"} if write and _takes_write_lock(session) else {}
    session.connection(execution_options=options)


def _end_read(session: Session, unit: Unit | None) -> None:
    """End the current transaction, which must not have written."""
    if not session.in_transaction():
        return
    if _has_changes(session) or (unit is not None and unit.wrote):
        raise RuntimeError("the unit has written: its write step is already under way")
    session.commit()


def write_step() -> None:
    """Begin the unit's write step (SQLite: BEGIN IMMEDIATE) before the reads its write
    depends on; nothing if it is under way. Also for code outside any unit (tests, the
    demo loader): the lock is taken the same way."""
    session = db.session()
    unit = current()
    if unit.write_txn if unit is not None else session.info.get(_BARE_WRITE):
        return
    if session.in_nested_transaction():
        return  # a savepoint inside a transaction that already has its lock
    if unit is None and not _takes_write_lock(session):
        return
    if session.in_transaction():
        if _has_changes(session) or (unit is not None and unit.wrote):
            raise RuntimeError("write_step() must come before the unit writes")
        session.commit()
    _open(session, unit, write=True)
    if unit is None:
        session.info[_BARE_WRITE] = True


@contextmanager
def reading() -> Iterator[None]:
    """A read phase of a writing unit: what is read here holds no write lock, and the
    transaction ends with the block, so slow work on it (password hashing) locks nothing."""
    session = db.session()
    unit = current()
    if unit is None:
        yield
        return
    if unit.write_txn:
        _end_read(session, unit)
    unit.reading += 1
    try:
        yield
    finally:
        unit.reading -= 1
        if not unit.reading:
            _end_read(session, unit)


@contextmanager
def aside(kind: str) -> Iterator[Session]:
    """A short transaction of its own for what must outlive the unit (ASIDE_KINDS): it
    commits at the end of the block whatever the unit does later. Only before the unit
    writes or after its commit: never while the unit holds the write lock."""
    if kind not in ASIDE_KINDS:
        raise ValueError(f"{kind!r} is not written aside; the unit commits it")
    session = db.session()
    unit = current()
    if unit is not None and unit.aside:
        raise RuntimeError("an aside transaction cannot nest")
    _end_read(session, unit)
    if unit is not None:
        unit.aside = kind
    try:
        _open(session, unit, write=True)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if unit is not None:
            unit.aside = None


# --------------------------------------------------------------------------- the rule


def _writing_now(session: Session, unit: Unit) -> None:
    """Before a write: a write step is under way, begins now, or it is refused."""
    if unit.write_txn:
        return
    if unit.writing and not unit.reading and not unit.txn_open:
        _open(session, unit, write=True)
        return
    raise WriteOutsideWriteStep(
        f"{unit.name} wrote outside its write step: begin it with unit.write_step() "
        "before the reads the write depends on")


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    session = state.session
    unit = session.info.get(_STATE)
    if unit is None or unit.ended:
        return
    if state.is_insert or state.is_update or state.is_delete:
        _writing_now(session, unit)
        # A statement writes without a flush: the unit has written all the same.
        unit.wrote = True
    elif not unit.txn_open and unit.writing and not unit.reading:
        _open(session, unit, write=True)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    unit = session.info.get(_STATE)
    if unit is None or unit.ended or not _has_changes(session):
        return
    _writing_now(session, unit)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    unit = session.info.get(_STATE)
    if unit is not None:
        unit.wrote = True


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, transaction, connection) -> None:
    unit = session.info.get(_STATE)
    if unit is None or transaction.nested:
        return
    unit.txn_open = True
    unit.write_txn = unit._next_write
    unit._next_write = False


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_BARE_WRITE, None)
    unit = session.info.get(_STATE)
    if unit is None:
        return
    unit.txn_open = unit.write_txn = unit.wrote = False


def _before_render(sender, template, context, **extra) -> None:
    """A page about to be rendered by a writing unit that wrote nothing ends the write
    step: rendering never holds the lock. Mail is rendered as part of the write."""
    if (template.name or "").startswith("mail/"):
        return
    session = db.session()
    unit = current()
    if unit is None or not unit.write_txn or unit.wrote or _has_changes(session):
        return
    session.commit()
    unit.writing = False


# --------------------------------------------------------------------------- requests


def init_app(app: Flask) -> None:
    """Each request is a unit: begun before anything else, committed (below 400) or rolled
    back after everything else, then its mail and jobs handed over."""

    @app.before_request
    def begin_request_unit() -> None:
        begin(f"{request.method} {request.url_rule.rule if request.url_rule else request.path}",
              writing=request.method not in SAFE_METHODS)

    @app.after_request
    def end_request_unit(response):
        # Registered first, so it runs after every other after_request hook.
        if current() is not None:
            if response.status_code < 400:
                finish()
            else:
                abandon()
        return response

    @app.teardown_request
    def end_failed_unit(error: BaseException | None) -> None:
        if current() is not None:
            abandon()

    before_render_template.connect(_before_render, app)

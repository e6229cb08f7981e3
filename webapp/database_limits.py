"""How long the app waits on its database, and what counts as the database not answering.

On PostgreSQL a web request waits at most DATABASE_TIMEOUT seconds on each step: for a
new connection (`connect_timeout`), for a pooled one to answer (its ping), for a statement
(`statement_timeout`, enforced by the server) and for any round trip on the wire (a
deadline on psycopg's wait for the socket). The last one is what a stalled network needs:
the server's statement timeout never reaches a client whose packets go nowhere, and TCP's
own guards (keepalives, `tcp_user_timeout`, set too, for idle pooled connections and dead
peers) cannot tell a stalled peer that still acknowledges packets (a proxy, a NAT box, a
frozen server) from a slow one. Its turn at the pool, when other threads of its process
hold every connection, is a queue, not a step (POOL_QUEUE). A connection that missed its
deadline is closed, so the pool never hands it out again, and once the database failed a
request opens no new connection: it answers 503 at once (webapp.errors), instead of
waiting again.

The limit follows the unit of work that uses the connection, chosen when the connection is
made or checked out of the pool: a request waits DATABASE_TIMEOUT; a job or a CLI command
(the worker, tick, outbox) DATABASE_JOB_TIMEOUT; migrations, backups and restores
(`flask db ...`, `flask backup`, `flask restore`) DATABASE_MAINTENANCE_TIMEOUT, no limit by
default, since rewriting a large table or dumping the database takes what it takes (the
TCP guards still notice a dead network).

SQLite keeps its busy timeout (SQLITE_BUSY_TIMEOUT_MS, set in webapp/__init__.py): its
writers queue on the file lock, and a lock held longer than that is a 503 like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import click
from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

# Subcommands of `flask` that get the maintenance limit.
MAINTENANCE_COMMANDS = frozenset({"db", "backup", "restore"})
# A new connection's wait, in seconds, when its unit has no limit.
UNLIMITED_CONNECT_TIMEOUT = 30
_UNAVAILABLE = "database_unavailable"
_STATEMENT_TIMEOUT = "statement_timeout_ms"


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error` says the database does not answer (refused, dropped, timed out,
    locked beyond the busy timeout, no connection free in the pool), rather than that the
    code asked it something wrong."""
    return isinstance(error, (sa_exc.OperationalError, sa_exc.TimeoutError,
                              sa_exc.DisconnectionError))


def mark_unavailable() -> None:
    """Remember, for the rest of this request, that the database did not answer: the
    request opens no new connection and loads no signed-in user (its 503 page is rendered
    without one)."""
    if has_request_context():
        setattr(g, _UNAVAILABLE, True)


def unavailable_in_this_request() -> bool:
    return has_request_context() and getattr(g, _UNAVAILABLE, False)


@dataclass(frozen=True)
class Limits:
    """Seconds each kind of unit waits on the database (0: no limit)."""

    request: float
    job: float
    maintenance: float

    @classmethod
    def from_config(cls, app: Flask) -> Limits:
        return cls(request=float(app.config["DATABASE_TIMEOUT"]),
                   job=float(app.config["DATABASE_JOB_TIMEOUT"]),
                   maintenance=float(app.config["DATABASE_MAINTENANCE_TIMEOUT"]))

    def for_current_unit(self) -> float:
        if has_request_context():
            return self.request
        command = click.get_current_context(silent=True)
        if command is not None and MAINTENANCE_COMMANDS & set(command.command_path.split()[1:]):
            return self.maintenance
        return self.job


def _milliseconds(seconds: float) -> int:
    return max(0, math.ceil(seconds * 1000))


# How long a unit waits for its turn at its process's pool, at least. A unit that finds
# every connection taken waits behind the other threads of its process (a threaded server
# whose threads outnumber the pool's connections), not on a database that does not
# answer: those connections are busy, and if the database stalls they fail within
# DATABASE_TIMEOUT, which gives their places to the waiting. Waiting only DATABASE_TIMEOUT
# here answered 503 to a crowd the database was serving (200 applications at once to one
# process of 200 threads).
POOL_QUEUE = 30.0


def pool_options(app: Flask) -> dict:
    """The engine's pool on PostgreSQL: a unit waits its turn for a free connection
    (POOL_QUEUE, or DATABASE_TIMEOUT if longer), and a pooled one is pinged (within
    DATABASE_TIMEOUT) before it is used."""
    return {"pool_pre_ping": True,
            "pool_timeout": max(float(app.config["DATABASE_TIMEOUT"]), POOL_QUEUE)}


def guard(engine: Engine, app: Flask) -> None:
    """Put the limits on a PostgreSQL engine's connections (nothing for other databases)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    limits = Limits.from_config(app)
    connection_class = _guarded_connection_class()
    # A silent peer is given up within the request limit, whatever the unit: TCP notices
    # unacknowledged data (tcp_user_timeout) or a dead idle connection (keepalives).
    silent_peer_ms = _milliseconds(limits.request or 10)
    keepalive_idle = max(1, math.ceil(limits.request or 10))

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams):
        if unavailable_in_this_request():
            raise _unavailable_error("the database did not answer earlier in this request")
        seconds = limits.for_current_unit()
        statement_ms = _milliseconds(seconds)
        options = f"{cparams.get('options', '')} -c statement_timeout={statement_ms}"
        cparams.update(
            connect_timeout=max(2, math.ceil(seconds)) if seconds else UNLIMITED_CONNECT_TIMEOUT,
            keepalives=1, keepalives_idle=keepalive_idle, keepalives_interval=1,
            keepalives_count=3, tcp_user_timeout=silent_peer_ms, options=options.strip())
        try:
            connection = connection_class.connect(*cargs, **cparams)
        except Exception:
            mark_unavailable()
            raise
        connection.limits = limits
        record.info[_STATEMENT_TIMEOUT] = statement_ms
        return connection

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        # A connection made for one kind of unit, now used by another (an inline job
        # after a request, in the same process): give it the new unit's statement limit.
        wanted = _milliseconds(limits.for_current_unit())
        if record.info.get(_STATEMENT_TIMEOUT) != wanted:
            dbapi_connection.execute(f"SET statement_timeout = {wanted}")
            dbapi_connection.commit()
            record.info[_STATEMENT_TIMEOUT] = wanted


def _unavailable_error(message: str) -> Exception:
    import psycopg

    return psycopg.OperationalError(message)


_GUARDED: type | None = None


def _guarded_connection_class() -> type:
    """psycopg's Connection, with a deadline on every wait for the server (built once,
    on first use, so SQLite-only installations never import psycopg)."""
    global _GUARDED
    if _GUARDED is not None:
        return _GUARDED
    import psycopg
    from psycopg import errors

    # psycopg raises this (an OperationalError) when a wait's timeout expires.
    wait_timeout = getattr(errors, "_WaitTimeout", psycopg.OperationalError)

    class GuardedConnection(psycopg.Connection):
        """Every round trip ends within its unit's limit, or the connection is closed."""

        limits: Limits | None = None

        def wait(self, gen, interval=None, timeout=None):
            seconds = timeout
            if seconds is None and self.limits is not None:
                seconds = self.limits.for_current_unit() or None
            kwargs = {} if interval is None else {"interval": interval}
            try:
                return super().wait(gen, timeout=seconds, **kwargs)
            except wait_timeout:
                # Half a conversation is left on the wire: the connection cannot be used
                # again. Closed, it is invalidated by SQLAlchemy (is_disconnect), and the
                # server rolls back whatever its transaction had written.
                self.pgconn.finish()
                mark_unavailable()
                raise psycopg.OperationalError(
                    f"the database did not answer within {seconds:g} s") from None

    _GUARDED = GuardedConnection
    return _GUARDED

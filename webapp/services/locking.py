"""Write transactions that are safe under concurrency, and the lock a capacity decision
takes before it counts.

SQLite: a deferred transaction that read first and writes later cannot be upgraded once
another writer has committed (SQLITE_BUSY, which no busy timeout cures). So a step that
reads and then writes ends any read transaction first and opens its own with
BEGIN IMMEDIATE: writers queue on the busy timeout instead. Only those steps do this;
ordinary page views keep their cheap deferred reads.

PostgreSQL: a row lock on the event (`SELECT ... FOR UPDATE`) serialises the deciders
of one event; other events proceed in parallel.

`CAPACITY_LOCK = False` exists for the race tests only, to show the race it prevents.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Event


def begin_write() -> None:
    """Start the current unit of work as a write transaction (SQLite: BEGIN IMMEDIATE)."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite" or not current_app.config["CAPACITY_LOCK"]:
        return
    if session.in_transaction() and not session.in_nested_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() must start the unit of work: changes are pending")
        session.commit()
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def lock_event(event_id: int) -> Event:
    """Begin a write transaction and lock the event, once, before anything is counted."""
    begin_write()
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    if current_app.config["CAPACITY_LOCK"]:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one()

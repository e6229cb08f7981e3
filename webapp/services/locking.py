"""The lock a capacity decision takes before it counts.

PostgreSQL: `SELECT ... FOR UPDATE` on the event row serialises deciders per event.
SQLite ignores FOR UPDATE, so the deciding step opens its own write transaction with
BEGIN IMMEDIATE: writers queue on the busy timeout instead of reading a count that
another writer is about to change. The read transaction a request may already hold is
ended first, because a deferred transaction cannot safely be upgraded to a writer.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Event


def lock_event(event_id: int) -> Event:
    session = db.session()
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction() and not session.in_nested_transaction():
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("lock_event() must start the unit of work; flush happened first")
            session.commit()
        if not session.in_transaction():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    event = session.execute(
        select(Event).where(Event.id == event_id).with_for_update().execution_options(
            populate_existing=True
        )
    ).scalar_one()
    return event

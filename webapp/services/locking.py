"""The lock a capacity decision takes before it counts.

SQLite: the unit's write step (webapp.unit) holds the database's write lock, so deciders
queue one behind another. PostgreSQL: a row lock on the event (`SELECT ... FOR UPDATE`)
serialises the deciders of one event; other events proceed in parallel.

The race tests take the lock away (tests.live.without_capacity_lock) to show the race it
prevents.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Event
from ..unit import write_step


def lock_event(event_id: int) -> Event:
    """Begin the write step and lock the event, once, before anything is counted."""
    write_step()
    return db.session.execute(
        select(Event).where(Event.id == event_id)
        .execution_options(populate_existing=True).with_for_update()
    ).scalar_one()

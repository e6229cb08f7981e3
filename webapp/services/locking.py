"""The lock a capacity decision takes before it counts.

SQLite: the unit's write step (webapp.unit) holds the database's write lock, so deciders
queue one behind another. PostgreSQL: a row lock on the event (`SELECT ... FOR UPDATE`)
serialises the deciders of one event; other events proceed in parallel.

`CAPACITY_LOCK = False` exists for the race tests only, to show the race it prevents.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Event
from ..unit import write_step


def lock_event(event_id: int) -> Event:
    """Begin the write step and lock the event, once, before anything is counted."""
    write_step()
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    if current_app.config["CAPACITY_LOCK"]:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one()

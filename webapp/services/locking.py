"""The locks a decision takes before it counts: the event's for capacity, the
participants' for meeting requests.

SQLite: the unit's write step (webapp.unit) holds the database's write lock, so deciders
queue one behind another. PostgreSQL: a row lock on the event (`SELECT ... FOR UPDATE`)
serialises the deciders of one event; other events proceed in parallel.

The race tests take the lock away (tests.live.without_capacity_lock) to show the race it
prevents.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Event, Participant
from ..unit import write_step


def lock_event(event_id: int) -> Event:
    """Begin the write step and lock the event, once, before anything is counted."""
    write_step()
    return db.session.execute(
        select(Event).where(Event.id == event_id)
        .execution_options(populate_existing=True).with_for_update()
    ).scalar_one()


def lock_participants(participant_ids) -> dict[int, Participant]:
    """Begin the write step and lock the matchmaking participants `participant_ids`, in
    the order of their ids (so that two units locking overlapping pairs never wait on
    each other crosswise), before anything about their requests is read. A meeting
    request's move locks its pair; a registration leaving, every side of its requests."""
    write_step()
    ids = sorted(set(participant_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Participant).where(Participant.id.in_(ids)).order_by(Participant.id)
        .execution_options(populate_existing=True).with_for_update()
    ).scalars().all()
    return {participant.id: participant for participant in rows}

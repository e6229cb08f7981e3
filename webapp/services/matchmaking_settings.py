"""An event's matchmaking settings as every matchmaking service reads them: one query,
with or without the layout of its meetings (blocks and meeting points), locked or not,
and refused where matchmaking is off. It sits below services.matchmaking,
services.meeting_requests and services.meeting_schedule, which all read it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Matchmaking
from ..unit import write_step
from .errors import MatchmakingRefused


def of_event(event_id: int, *, layout: bool = False, lock: bool = False
             ) -> Matchmaking | None:
    """The event's matchmaking (None: never set up), switched on or off. `layout`: with
    its blocks and meeting points, in one more query each. `lock`: begin the unit's write
    step and lock the row, so that whoever changes the event's meetings waits for the one
    before (on SQLite the write step alone does it); its values are read afresh."""
    query = select(Matchmaking).where(Matchmaking.event_id == event_id)
    if layout:
        query = query.options(selectinload(Matchmaking.blocks),
                              selectinload(Matchmaking.points))
    if lock:
        write_step()
        query = query.with_for_update(of=Matchmaking).execution_options(
            populate_existing=True)
    return db.session.scalar(query)


def enabled(event_id: int, *, layout: bool = False, lock: bool = False) -> Matchmaking:
    """`of_event`, refused (`matchmaking.not_enabled`) where it is not switched on."""
    settings = of_event(event_id, layout=layout, lock=lock)
    if settings is None or not settings.enabled:
        raise MatchmakingRefused("matchmaking.not_enabled")
    return settings

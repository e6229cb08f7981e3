"""The organizers' schedule of meetings: "schedule all" with its time limit, a meeting
moved by hand to a slot and meeting point, and publishing the schedule."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from ..services.errors import N_
from . import Count, Id, Input

# The time limit an organizer may give "schedule all" (seconds).
SECONDS_RANGE = (5, 600)


class ScheduleRunIn(Input):
    """"Schedule all", with the time the solver may take to reduce the idle slots once it
    has placed the most meetings it can."""

    seconds: Count(*SECONDS_RANGE, title=N_("Time limit (seconds)")) = 60


class MeetingMoveIn(Input):
    """A meeting moved by hand: the slot (its start) and the meeting point it goes to."""

    starts_at: AwareDatetime
    point_id: Id


class PublishIn(Input):
    """The schedule published as preliminary (it may still change) or final."""

    state: Literal["preliminary", "final"]

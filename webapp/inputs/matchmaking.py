"""Matchmaking: the organizers' settings (the request window and mode, meeting blocks and
points, participant types and the matrix), a participant's opt-in, profile, opportunities
and unavailable slots, and meeting requests with their answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from ..models import MeetingPointKind, RequestMode
from ..services.errors import N_
from . import Accepted, Count, Id, Input, RequiredText, Text, refuse
from .events import LocalTime, wall_order

MAX_PREFERRED_SLOTS = 5
MAX_UNAVAILABLE_SLOTS = 200
CONSENT_NEEDED = N_("Agree to be shown in the event's marketplace to take part in it.")
WINDOW_IN_ORDER = N_("The request window must close after it opens.")
BLOCK_IN_ORDER = N_("A meeting block must end after it starts.")
REASON_NEEDED = N_("Say why: the other participant receives it.")

_KEY = r"[a-z][a-z0-9_]{0,39}"
Key = Annotated[str, StringConstraints(pattern=rf"^{_KEY}$"),
                Field(description="Lower-case letters, digits and _, starting with a letter.")]
# A cell of the request matrix as a checkbox posts it: "<requester key>:<receiver key>".
CELL_SEPARATOR = ":"
Cell = Annotated[str, StringConstraints(pattern=rf"^{_KEY}{CELL_SEPARATOR}{_KEY}$")]


class MatchmakingIn(Input):
    """An event's matchmaking switched on, or its settings changed. The request window is
    given in wall-clock times of the event's zone, as the event's own times are; the
    service turns them into instants (`services.events.to_utc`)."""

    requests_open_local: LocalTime | None = None
    requests_close_local: LocalTime | None = None
    meeting_minutes: Count(5, 240, title=N_("Meeting length (minutes)")) = 30
    break_minutes: Count(0, 120, title=N_("Break between meetings (minutes)")) = 10
    request_mode: RequestMode = RequestMode.RECEIVER_ACCEPTS
    request_expiry_hours: Count(1, 24 * 60, title=N_("Requests stay open (hours)")) = 72

    @model_validator(mode="after")
    def _window_in_order(self):
        if (self.requests_open_local is not None and self.requests_close_local is not None
                and not wall_order(self.requests_open_local, self.requests_close_local)):
            raise refuse("requests_close_local", WINDOW_IN_ORDER)
        return self


class MeetingBlockIn(Input):
    """A stretch of time in which meetings are held, in wall-clock times of the event's
    zone (the service turns them into instants)."""

    starts_local: LocalTime
    ends_local: LocalTime

    @model_validator(mode="after")
    def _in_order(self):
        if not wall_order(self.starts_local, self.ends_local):
            raise refuse("ends_local", BLOCK_IN_ORDER)
        return self


class MeetingPointIn(Input):
    """A table, a booth or an online room."""

    name: RequiredText(100, title=N_("Name"))
    kind: MeetingPointKind = MeetingPointKind.TABLE
    url: Text(500, title=N_("Address of the online room")) = ""


class ParticipantTypeIn(Input):
    """A participant type the organizers add to the defaults."""

    key: Key
    label: RequiredText(100, title=N_("Label"))


class MatrixIn(Input):
    """The request matrix, whole: the cells (requester type, receiver type) that may
    ask; every other pair of the event's types may not."""

    allowed: list[Cell] = Field(default_factory=list, max_length=100 * 100)

    def pairs(self) -> set[tuple[str, str]]:
        return {tuple(cell.split(CELL_SEPARATOR)) for cell in self.allowed}


class JoinIn(Input):
    """An approved registrant opts in to the event's marketplace."""

    participant_type: Key
    consent: Accepted(CONSENT_NEEDED, title=N_("Show me in the event's marketplace"))


class ProfileIn(Input):
    """A participant's profile for the event: their type, and tags, one per line."""

    long_texts = frozenset({"sectors", "technologies"})

    participant_type: Key
    sectors: Text(1000, title=N_("Sectors")) = ""
    technologies: Text(1000, title=N_("Technologies")) = ""


class OpportunityIn(Input):
    """An offer, a request (or an organizer's own type) with its tags, one per line."""

    long_texts = frozenset({"text", "tags"})

    opportunity_type: Key
    title: RequiredText(200, title=N_("Title"))
    text: Text(4000, title=N_("Description")) = ""
    tags: Text(1000, title=N_("Tags")) = ""


class MeetingRequestIn(Input):
    """A meeting asked of another participant, with a short message and, optionally,
    the slots preferred (their starts)."""

    long_texts = frozenset({"message"})

    receiver_id: Id
    message: Text(1000, title=N_("Message")) = ""
    preferred_slots: list[AwareDatetime] = Field(default_factory=list,
                                                 max_length=MAX_PREFERRED_SLOTS)


class AcceptIn(Input):
    """A meeting request accepted, with, optionally, the slot (its start) the meeting is
    to take: one where both sides are free and a meeting point too. Left out, the
    organizers' "schedule all" places it."""

    starts_at: AwareDatetime | None = None


class SlotChoiceIn(Input):
    """The slot (its start) chosen for an accepted meeting that has no place yet."""

    starts_at: AwareDatetime


class ReasonIn(Input):
    """Why a request is declined or a meeting cancelled: the other side receives it."""

    long_texts = frozenset({"reason"})

    reason: RequiredText(1000, title=N_("Reason"))

    required_messages = {"reason": REASON_NEEDED}


class UnavailableSlotsIn(Input):
    """The slots (their starts) in which a participant cannot meet: all of them."""

    slots: list[AwareDatetime] = Field(default_factory=list, max_length=MAX_UNAVAILABLE_SLOTS)

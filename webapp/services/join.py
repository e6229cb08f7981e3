"""Personal join links of online events: /join/<token> leads an approved registrant to
the meeting, and nobody else.

The token is the key (no sign-in: the link is opened from a mail or a calendar entry,
often on another device). What opening it does depends on the registration and the
time:
- an approved registration inside the window (30 minutes before the start until the
  end) is sent to the meeting address, and the first such open is its attendance;
- before the window it is told when to come back, after it it gets the recording;
- any other registration (withdrawn, rejected, still pending, cancelled) is refused
  without the meeting address.
Opens outside the window are never counted: mail scanners fetch every link of a mail
as it arrives, and would otherwise mark everyone present.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    AttendanceSource,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from . import attendance
from .errors import DomainError
from .notifications import absolute_url

# Participants open the room early to check their sound and camera.
OPENS_BEFORE = timedelta(minutes=30)


class UnknownJoinLink(DomainError):
    """No registration has this token (mistyped, tampered with or made up)."""


class Outcome(enum.StrEnum):
    REDIRECT = "redirect"  # to the meeting address
    NOT_YET = "not_yet"  # before the window: come back at `opens_at`
    ENDED = "ended"  # after the end: the recording, if there is one
    NOT_READY = "not_ready"  # inside the window, but no meeting address yet
    REFUSED = "refused"  # the registration does not hold a seat
    CANCELLED = "cancelled"  # the event (or the agenda session) will not take place


@dataclass(frozen=True)
class JoinAnswer:
    """What opening a join link leads to. `meeting_url` is set only for REDIRECT."""

    outcome: Outcome
    registration: Registration
    session: EventSession | None
    starts_at: datetime
    ends_at: datetime
    meeting_url: str = ""
    recording_url: str = ""
    recorded: bool = False  # this open recorded the attendance

    @property
    def event(self) -> Event:
        return self.registration.event

    @property
    def opens_at(self) -> datetime:
        return self.starts_at - OPENS_BEFORE


def link(registration: Registration, session: EventSession | None = None) -> str:
    """The registrant's personal join link (of `session`), absolute: it goes into mail
    and calendar entries as well as pages."""
    if session is None:
        return absolute_url("join.open_link", token=registration.join_token)
    return absolute_url("join.open_link", token=registration.join_token, session=session.id)


def online_sessions(event: Event) -> list[EventSession]:
    """The timed agenda sessions with a meeting of their own, in the order of the day."""
    return [s for s in event.agenda if s.online_url and not s.all_day]


def registration_for_token(token: str) -> Registration:
    """The registration whose join link carries `token`; UnknownJoinLink for any other."""
    # Tokens are URL-safe base 64 of a fixed length: anything longer is not ours, and
    # is not worth a query.
    if not token or len(token) > 64:
        raise UnknownJoinLink("join.link_invalid")
    registration = db.session.scalar(
        select(Registration).where(Registration.join_token == token).options(
            joinedload(Registration.event), joinedload(Registration.user)))
    if registration is None:
        raise UnknownJoinLink("join.link_invalid")
    return registration


def session_to_join(event: Event, session_id: int | None) -> EventSession | None:
    """The online agenda session `session_id` of `event` (None: the event as a whole)."""
    if session_id is None:
        return None
    found = db.session.get(EventSession, session_id)
    if found is None or found.event_id != event.id or found.all_day:
        raise UnknownJoinLink("session.not_on_agenda")
    return found


def window(event: Event, session: EventSession | None = None) -> tuple[datetime, datetime]:
    """When the link leads to the meeting: from OPENS_BEFORE the start (included) until
    the end (excluded: at the end the meeting is over), of the session for its link."""
    starts, ends = (session.starts_at, session.ends_at) if session else (
        event.starts_at, event.ends_at)
    assert starts is not None and ends is not None
    return starts - OPENS_BEFORE, ends


def meeting_url(event: Event, session: EventSession | None = None) -> str:
    """The session's own meeting address when it has one, else the event's."""
    return (session.online_url if session else "") or event.online_url


def open_link(token: str, now: datetime, session_id: int | None = None) -> JoinAnswer:
    """What opening the join link `token` at `now` leads to; records the attendance of
    the first open inside the window. The caller commits."""
    registration = registration_for_token(token)
    event = registration.event
    session = session_to_join(event, session_id)
    opens, ends = window(event, session)
    answer = dict(registration=registration, session=session,
                  starts_at=opens + OPENS_BEFORE, ends_at=ends)
    if registration.status != RegistrationStatus.APPROVED:
        return JoinAnswer(Outcome.REFUSED, **answer)
    if event.status == EventStatus.CANCELLED:
        return JoinAnswer(Outcome.CANCELLED, **answer)
    if now < opens:
        return JoinAnswer(Outcome.NOT_YET, **answer)
    if now >= ends:
        return JoinAnswer(Outcome.ENDED, recording_url=event.recording_url, **answer)
    url = meeting_url(event, session)
    if not url:
        return JoinAnswer(Outcome.NOT_READY, **answer)
    recorded = attendance.record(registration, session, at=now,
                                 source=AttendanceSource.JOIN_LINK).created
    return JoinAnswer(Outcome.REDIRECT, meeting_url=url, recorded=recorded, **answer)

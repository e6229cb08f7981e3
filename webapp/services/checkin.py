"""Check-in at the door: find the badge behind a scanned or typed code, and record that
its holder came to the event or one of its agenda sessions.

A badge scanned twice, or by two phones at the same moment, is recorded once
(`attendance.record`): the second scan gets the first one back, with when and by whom it
was recorded.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    AttendanceSource,
    Event,
    EventSession,
    Organization,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import attendance
from .attendance import Recorded
from .badges import BadgeCodeError, normalize_code
from .errors import DomainError


class BadgeRefused(DomainError):
    """The code names no badge that may be checked in here; the message says why."""


def find_badge(typed: str) -> Registration:
    """The registration whose badge `typed` (a code or a scanned URL) names, whatever its
    status. Raises BadgeRefused for what is not a code of ours or names no badge."""
    try:
        code = normalize_code(typed)
    except BadgeCodeError as error:
        raise BadgeRefused(str(error)) from None
    registration = db.session.scalar(
        select(Registration).where(Registration.badge_code == code).options(
            joinedload(Registration.user).joinedload(User.organization)
            .joinedload(Organization.home_cluster)))
    if registration is None:
        raise BadgeRefused("No badge has this code. It may be a badge of another system, "
                           "or it was mistyped.")
    return registration


def admissible(registration: Registration, event: Event) -> None:
    """Refuse a badge that is not for `event`, or whose registration is no longer approved."""
    if registration.event_id != event.id:
        raise BadgeRefused("This badge is for another event.")
    if registration.status != RegistrationStatus.APPROVED:
        raise BadgeRefused(
            f"This badge is not valid: the registration is {registration.status.value}.")


def session_of(event: Event, session_id: int | None) -> EventSession | None:
    """The agenda session `session_id` of `event` (None: the event as a whole)."""
    if session_id is None:
        return None
    found = db.session.get(EventSession, session_id)
    if found is None or found.event_id != event.id:
        raise BadgeRefused("This session is not on the event's agenda.")
    return found


def check_in(staff: User, registration: Registration, event: Event,
             session: EventSession | None = None) -> Recorded:
    """Record that the holder of `registration`'s badge came to `event` (or `session`).
    The caller has checked `event.checkin`; the transaction is the caller's to commit."""
    admissible(registration, event)
    return attendance.record(registration, session, at=utcnow(), by=staff,
                             source=AttendanceSource.CHECK_IN)

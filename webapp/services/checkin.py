"""Check-in at the door: find the badge behind a scanned or typed code, record that its
holder came to the event or one of its agenda sessions, and list who came.

Check-in is open from CHECKIN_OPENS_BEFORE (a day by default) before the event starts
until it ends, both instants included: delegates collect their badges the evening before,
and one scanned in the event's last minute still came. The event's start is its first
session's (no timed session may start before it; an all-day item is a day of the event).
Every way of checking in (the door's scanner, a badge's page, the API, and any later
one) goes through `check_in`, which refuses a badge outside the window and records
nothing. What counts as attendance (`counted`: the door's list here, the KPIs) leaves out
a check-in stored outside it, however it got there (an import, an event moved since);
a join link's attendance has its own window (services.join) and counts as recorded.

A badge scanned twice, or by two phones at the same moment, is recorded once
(`attendance.record`): the second scan gets the first one back, with when and by whom it
was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, DateTime, and_, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement

from .. import access
from ..extensions import db
from ..localtime import format_stamp
from ..models import (
    Attendance,
    AttendanceSource,
    Event,
    EventSession,
    Organization,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import attendance, exports
from .attendance import Recorded
from .badges import BadgeCodeError, normalize_code
from .errors import DomainError
from .names import by_cluster_then_surname, cluster_name, role_label


class BadgeRefused(DomainError):
    """The code names no badge that may be checked in here; the message says why."""


# --------------------------------------------------------------------------- the window


@dataclass(frozen=True)
class CheckinWindow:
    opens_at: datetime
    closes_at: datetime

    def holds(self, at: datetime) -> bool:
        return self.opens_at <= at <= self.closes_at


class CheckinClosed(BadgeRefused):
    """Check-in for the event is not open at the moment asked: `early` (it opens at
    `window.opens_at`) or over (it closed at `window.closes_at`)."""

    def __init__(self, event: Event, window: CheckinWindow, now: datetime) -> None:
        self.window = window
        self.early = now < window.opens_at
        if self.early:
            super().__init__("checkin.not_open_yet",
                             at=format_stamp(window.opens_at, event.timezone))
        else:
            super().__init__("checkin.closed", at=format_stamp(window.closes_at, event.timezone))


def opens_before() -> timedelta:
    return current_app.config["CHECKIN_OPENS_BEFORE"]


def window(event: Event) -> CheckinWindow:
    """When `event`'s badges may be checked in."""
    return CheckinWindow(event.starts_at - opens_before(), event.ends_at)


def check_open(event: Event, now: datetime) -> None:
    """Refuse (CheckinClosed) when check-in for `event` is not open at `now`."""
    found = window(event)
    if not found.holds(now):
        raise CheckinClosed(event, found, now)


class _Earlier(FunctionElement):
    """An instant column moved back by a fixed duration, in SQL: each database says it
    its own way, and a string of SQLite's own format compares right with the stored ones."""

    type = DateTime()
    inherit_cache = True


@compiles(_Earlier, "sqlite")
def _earlier_sqlite(element, compiler, **kw) -> str:
    instant, seconds = element.clauses
    return (f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(instant, **kw)}, "
            f"'-' || {compiler.process(seconds, **kw)} || ' seconds')")


@compiles(_Earlier, "postgresql")
def _earlier_postgresql(element, compiler, **kw) -> str:
    instant, seconds = element.clauses
    return (f"({compiler.process(instant, **kw)} - "
            f"make_interval(secs => {compiler.process(seconds, **kw)}))")


def counted() -> ColumnElement[bool]:
    """The attendances that count (a query joining Attendance with its registration's
    Event): a check-in inside its event's window (`window`, the same instants), and every
    join link opened (services.join records only those inside its own window)."""
    opens_at = _Earlier(Event.starts_at, literal(opens_before().total_seconds()))
    return or_(Attendance.source != AttendanceSource.CHECK_IN,
               and_(Attendance.recorded_at >= opens_at,
                    Attendance.recorded_at <= Event.ends_at))


# --------------------------------------------------------------------------- a badge


def find_badge(typed: str) -> Registration:
    """The registration whose badge `typed` (a code or a scanned URL) names, whatever its
    status. Raises BadgeRefused for what is not a code of ours or names no badge."""
    try:
        code = normalize_code(typed)
    except BadgeCodeError as error:
        raise BadgeRefused(error.code, **error.params) from None
    registration = db.session.scalar(
        select(Registration).where(Registration.badge_code == code).options(
            joinedload(Registration.user).joinedload(User.organization)
            .joinedload(Organization.home_cluster)))
    if registration is None:
        raise BadgeRefused("badge.unknown_code")
    return registration


def admissible(registration: Registration, event: Event) -> None:
    """Refuse a badge that is not for `event`, or whose registration is no longer approved."""
    if registration.event_id != event.id:
        raise BadgeRefused("badge.other_event")
    if registration.status != RegistrationStatus.APPROVED:
        raise BadgeRefused("badge.not_approved", status=registration.status)


def session_of(event: Event, session_id: int | None) -> EventSession | None:
    """The agenda session `session_id` of `event` (None: the event as a whole)."""
    if session_id is None:
        return None
    found = db.session.get(EventSession, session_id)
    if found is None or found.event_id != event.id:
        raise BadgeRefused("session.not_on_agenda")
    return found


def check_in(staff: User, registration: Registration, event: Event,
             session: EventSession | None = None, *, now: datetime | None = None) -> Recorded:
    """Record that the holder of `registration`'s badge came to `event` (or `session`) at
    `now` (this instant by default). Refuses, recording nothing, a badge that is not
    admissible (BadgeRefused: said first, since no later moment mends it) and any badge
    outside the event's window (CheckinClosed). The caller has checked `event.checkin`;
    the transaction is the caller's to commit."""
    now = now or utcnow()
    admissible(registration, event)
    check_open(event, now)
    return attendance.record(registration, session, at=now, by=staff,
                             source=AttendanceSource.CHECK_IN)


# --------------------------------------------------------------------------- the door's list


# The attendance list's words, in the language of whoever downloads it.
SOURCE_LABELS = {AttendanceSource.CHECK_IN: _l("badge scanned"),
                 AttendanceSource.JOIN_LINK: _l("join link opened")}


@dataclass(frozen=True)
class AttendanceRow:
    registration: Registration
    attendance: Attendance | None

    @property
    def present(self) -> bool:
        return self.attendance is not None


@dataclass(frozen=True)
class AttendanceReport:
    event: Event
    session: EventSession | None
    rows: list[AttendanceRow]

    @property
    def present(self) -> list[AttendanceRow]:
        return [row for row in self.rows if row.present]

    @property
    def missing(self) -> list[AttendanceRow]:
        return [row for row in self.rows if not row.present]

    @property
    def expected(self) -> int:
        return len(self.rows)


def attendance_of(event: Event, session: EventSession | None = None) -> AttendanceReport:
    """Every approved registration of `event` and whether it came (to `session`: an
    attendance that `counted`), by cluster then surname. Two statements, whatever the
    size of the delegation."""
    registrations = db.session.scalars(access.delegation_of(event).options(
        joinedload(Registration.user).joinedload(User.organization)
        .joinedload(Organization.home_cluster))).unique().all()
    query = (select(Attendance).join(Registration).join(Event, Event.id == Registration.event_id)
             .where(Registration.event_id == event.id, counted(),
                    attendance.of_session(session.id if session else None))
             .options(joinedload(Attendance.recorded_by)))
    by_registration = {a.registration_id: a for a in db.session.scalars(query)}
    ordered = sorted(registrations, key=by_cluster_then_surname)
    return AttendanceReport(event, session,
                            [AttendanceRow(reg, by_registration.get(reg.id)) for reg in ordered])


CSV_HEADER = (_l("Name"), _l("Organization"), _l("Cluster"), _l("Role"), _l("Present"),
              _l("Recorded at"), _l("Recorded by"), _l("How"))


def attendance_csv(report: AttendanceReport) -> bytes:
    rows: list[tuple[Any, ...]] = []
    for row in report.rows:
        reg, found = row.registration, row.attendance
        organization = reg.user.organization
        rows.append((
            reg.user.name, organization.name if organization else "", cluster_name(reg),
            role_label(reg.role), _("yes") if found else _("no"),
            format_stamp(found.recorded_at, report.event.timezone) if found else "",
            found.recorded_by.name if found and found.recorded_by else "",
            SOURCE_LABELS[found.source] if found else "",
        ))
    return exports.csv_bytes(CSV_HEADER, rows)

"""Check-in at the door: find the badge behind a scanned or typed code, record who came,
and the attendance of an event or one of its agenda sessions.

The database keeps one attendance per registration for the whole event and one per
registration and session (partial unique indexes), so a badge scanned twice, or by two
phones at the same moment, is recorded once: the second scan gets the first one back,
with when and by whom it was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..localtime import utc_offset_label
from ..models import (
    Attendance,
    Event,
    EventSession,
    Organization,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import exports, locking
from .badges import BadgeCodeError, normalize_code
from .errors import DomainError
from .names import alphabetical, role_label, surname_first


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


@dataclass(frozen=True)
class CheckIn:
    attendance: Attendance
    created: bool  # False: already checked in, nothing new recorded


def _existing(registration_id: int, session_id: int | None) -> Attendance | None:
    query = select(Attendance).where(Attendance.registration_id == registration_id).options(
        joinedload(Attendance.recorded_by))
    query = query.where(Attendance.session_id.is_(None) if session_id is None
                        else Attendance.session_id == session_id)
    return db.session.scalar(query)


def session_of(event: Event, session_id: int | None) -> EventSession | None:
    """The agenda session `session_id` of `event` (None: the event as a whole)."""
    if session_id is None:
        return None
    found = db.session.get(EventSession, session_id)
    if found is None or found.event_id != event.id:
        raise BadgeRefused("This session is not on the event's agenda.")
    return found


def check_in(staff: User, registration: Registration, event: Event,
             session: EventSession | None = None) -> CheckIn:
    """Record that the holder of `registration`'s badge came to `event` (or `session`).
    The caller has checked `event.checkin`; the transaction is the caller's to commit."""
    admissible(registration, event)
    session_id = session.id if session else None
    # SQLite: take the write lock before looking, so a second phone waits and then finds
    # the first one's row (PostgreSQL: the unique index settles it below).
    locking.begin_write()
    earlier = _existing(registration.id, session_id)
    if earlier is not None:
        return CheckIn(earlier, created=False)
    attendance = Attendance(registration_id=registration.id, session_id=session_id,
                            recorded_by_id=staff.id, recorded_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except IntegrityError:
        # Another phone recorded the same badge between our look and our write: theirs
        # stands, and this scan reports it.
        earlier = _existing(registration.id, session_id)
        if earlier is None:
            raise
        return CheckIn(earlier, created=False)
    return CheckIn(attendance, created=True)


# --------------------------------------------------------------------------- attendance


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
    """Every approved registration of `event` and whether it checked in (to `session`).
    Two statements, whatever the size of the delegation."""
    registrations = db.session.scalars(access.delegation_of(event).options(
        joinedload(Registration.user).joinedload(User.organization)
        .joinedload(Organization.home_cluster))).unique().all()
    query = select(Attendance).join(Registration).where(
        Registration.event_id == event.id).options(joinedload(Attendance.recorded_by))
    query = query.where(Attendance.session_id.is_(None) if session is None
                        else Attendance.session_id == session.id)
    by_registration = {a.registration_id: a for a in db.session.scalars(query)}
    rows = [AttendanceRow(reg, by_registration.get(reg.id)) for reg in registrations]
    rows.sort(key=lambda row: (_cluster_name(row.registration) == "",
                               alphabetical(_cluster_name(row.registration)),
                               surname_first(row.registration.user.name), row.registration.id))
    return AttendanceReport(event, session, rows)


def _cluster_name(reg: Registration) -> str:
    organization = reg.user.organization
    cluster = organization.home_cluster if organization else None
    return cluster.name if cluster else ""


CSV_HEADER = ("Name", "Organization", "Cluster", "Role", "Checked in", "Checked in at",
              "Checked in by")


def _local_time(at, event: Event) -> str:
    """"2019-07-09 09:14 UTC+8": the event's local time, with its offset."""
    local = at.astimezone(event.zone)
    return f"{local:%Y-%m-%d %H:%M} {utc_offset_label(local.utcoffset())}"


def attendance_csv(report: AttendanceReport) -> bytes:
    rows: list[tuple[Any, ...]] = []
    for row in report.rows:
        reg, attendance = row.registration, row.attendance
        organization = reg.user.organization
        rows.append((
            reg.user.name, organization.name if organization else "", _cluster_name(reg),
            role_label(reg.role), "yes" if attendance else "no",
            _local_time(attendance.recorded_at, report.event) if attendance else "",
            attendance.recorded_by.name if attendance and attendance.recorded_by else "",
        ))
    return exports.csv_bytes(CSV_HEADER, rows)

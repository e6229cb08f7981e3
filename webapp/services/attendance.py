"""Who came: the attendance rows, recorded once however they arrive, and the webinar
report read from them.

An attendance is recorded at the door (a badge scanned inside the event's check-in
window: `checkin`) or by opening a personal join link inside its window (`join`); each
of those services keeps its own window. The database keeps one per registration for the
whole event and one per registration and agenda session (partial unique indexes): a
badge scanned by two phones at once, or a link opened in two tabs, is recorded once, and
the second gets the first one back.

The door's list of who came is the check-in service's (`checkin.attendance_of`, which
counts only check-ins inside the window); here is the webinar report
(`webinar_report`): registered, approved and opened the join link, with the ratio, in
all and by cluster and by country, counted in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Attendance,
    AttendanceSource,
    Event,
    EventSession,
    Organization,
    Partner,
    Registration,
    RegistrationStatus,
    User,
)
from ..unit import write_step
from . import exports
from .names import alphabetical
from .places import country_name


@dataclass(frozen=True)
class Recorded:
    attendance: Attendance
    created: bool  # False: it was recorded before, nothing new written


def of_session(session_id: int | None):
    """Attendances of the whole event (None) or of one agenda session."""
    return (Attendance.session_id.is_(None) if session_id is None
            else Attendance.session_id == session_id)


def existing(registration_id: int, session_id: int | None) -> Attendance | None:
    """The attendance of a registration for the whole event (session None) or a session."""
    query = select(Attendance).where(Attendance.registration_id == registration_id).options(
        joinedload(Attendance.recorded_by))
    return db.session.scalar(query.where(of_session(session_id)))


def record(registration: Registration, session: EventSession | None, *, at: datetime,
           source: AttendanceSource, by: User | None = None) -> Recorded:
    """Record that `registration` came to its event (or to `session`), once: a second
    record gets the first one back. The caller has checked who may record it and
    commits."""
    session_id = session.id if session else None
    # SQLite: take the write lock before looking, so a second phone (or tab) waits and
    # then finds the first one's row (PostgreSQL: the unique index settles it below).
    write_step()
    earlier = existing(registration.id, session_id)
    if earlier is not None:
        return Recorded(earlier, created=False)
    attendance = Attendance(registration_id=registration.id, session_id=session_id,
                            recorded_at=at, recorded_by_id=by.id if by else None,
                            source=source)
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except IntegrityError:
        # Another scan or open recorded it between our look and our write: theirs
        # stands, and this one reports it.
        earlier = existing(registration.id, session_id)
        if earlier is None:
            raise
        return Recorded(earlier, created=False)
    return Recorded(attendance, created=True)


# --------------------------------------------------------------------------- webinars


@dataclass(frozen=True)
class ReportLine:
    """One line of the webinar report: a cluster, a country or the total."""

    label: str
    registered: int  # every registration made, withdrawn and rejected ones included
    approved: int
    opened: int  # approved registrations whose join link was opened inside its window

    @property
    def ratio(self) -> float | None:
        """Opened over approved; None when nobody was approved."""
        return self.opened / self.approved if self.approved else None


@dataclass(frozen=True)
class WebinarReport:
    event: Event
    total: ReportLine
    by_cluster: list[ReportLine]
    by_country: list[ReportLine]


def _counts(group_by: Any | None):
    """registered, approved, opened (and the group) of an event's registrations."""
    opened = (select(Attendance.registration_id)
              .where(Attendance.source == AttendanceSource.JOIN_LINK)
              .distinct().subquery())
    approved = Registration.status == RegistrationStatus.APPROVED
    columns = [func.count(Registration.id),
               func.count(case((approved, Registration.id))),
               func.count(case((approved & opened.c.registration_id.is_not(None),
                                Registration.id)))]
    query = (select(*columns, *([group_by] if group_by is not None else []))
             .select_from(Registration)
             .join(User, User.id == Registration.user_id)
             .outerjoin(Organization, Organization.id == User.organization_id)
             .outerjoin(Partner, Partner.id == Organization.home_cluster_id)
             .outerjoin(opened, opened.c.registration_id == Registration.id))
    return query.group_by(group_by) if group_by is not None else query


def webinar_report(event: Event) -> WebinarReport:
    """Who registered for `event`, was approved and opened the join link, in all and by
    the registrant's cluster and country: three aggregate statements."""
    def lines(column, label_of) -> list[ReportLine]:
        rows = db.session.execute(_counts(column).where(Registration.event_id == event.id))
        found = [ReportLine(label_of(group), registered, approved, opened)
                 for registered, approved, opened, group in rows]
        # Named groups alphabetically, the unnamed one ("no cluster") last.
        return sorted(found, key=lambda line: (line.label == "", alphabetical(line.label)))

    registered, approved, opened = db.session.execute(
        _counts(None).where(Registration.event_id == event.id)).one()
    return WebinarReport(
        event=event,
        total=ReportLine("", registered, approved, opened),
        by_cluster=lines(Partner.name, lambda name: name or ""),
        by_country=lines(Organization.country, lambda code: country_name(code) if code else ""),
    )


# In the language of whoever downloads the report.
REPORT_CSV_HEADER = (_l("Breakdown"), _l("Group"), _l("Registered"), _l("Approved"),
                     _l("Opened the join link"), _l("Opened / approved"))


def webinar_report_csv(report: WebinarReport) -> bytes:
    def row(breakdown: str, line: ReportLine, unnamed: str) -> tuple:
        ratio = "" if line.ratio is None else f"{line.ratio:.0%}"
        return (breakdown, line.label or unnamed, line.registered, line.approved,
                line.opened, ratio)

    rows = [row(_("Total"), report.total, report.event.title)]
    rows += [row(_("Cluster"), line, _("(no cluster)")) for line in report.by_cluster]
    rows += [row(_("Country"), line, _("(no country)")) for line in report.by_country]
    return exports.csv_bytes(REPORT_CSV_HEADER, rows)

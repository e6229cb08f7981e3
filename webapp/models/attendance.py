"""Who actually came: one attendance per registration for the whole event, and one per
registration and agenda session, enforced by the database (partial unique indexes), so
two phones scanning the same badge at the same moment record it once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import EventSession
from .registration import Registration
from .types import UTCDateTime, str_enum, utcnow
from .user import User


class AttendanceSource(enum.StrEnum):
    CHECK_IN = "check_in"  # a badge scanned or typed at the door
    JOIN_LINK = "join_link"  # a personal join link opened inside its window


class Attendance(db.Model):
    __tablename__ = "attendances"
    __table_args__ = (
        Index("uq_attendances_event", "registration_id", unique=True,
              sqlite_where=text("session_id IS NULL"),
              postgresql_where=text("session_id IS NULL")),
        Index("uq_attendances_session", "registration_id", "session_id", unique=True,
              sqlite_where=text("session_id IS NOT NULL"),
              postgresql_where=text("session_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    # None: checked in for the event as a whole (the door of the delegation's day).
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The staff member who scanned or typed the badge (None once their account is gone,
    # and for a join link, which the delegate opens themselves).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    session: Mapped[EventSession | None] = relationship()
    source: Mapped[AttendanceSource] = mapped_column(
        str_enum(AttendanceSource, "attendance_source"), default=AttendanceSource.CHECK_IN)

    recorded_by: Mapped[User | None] = relationship()

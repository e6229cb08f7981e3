"""Registrations: one per user and event, moved only by the registration service."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event
from .partner import Partner
from .types import UTCDateTime, str_enum, utcnow
from .user import User

if TYPE_CHECKING:
    from .audit import AuditEntry


class RegistrationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"

    @property
    def is_pending(self) -> bool:
        return self in (RegistrationStatus.SUBMITTED, RegistrationStatus.WAITLISTED)

    @property
    def is_final(self) -> bool:
        return self in (
            RegistrationStatus.REJECTED,
            RegistrationStatus.WITHDRAWN,
            RegistrationStatus.CANCELLED,
        )


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), index=True
    )
    # The home cluster of the applicant's organization when they applied; None means the
    # event's organizers decide.
    responsible_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    responsible_partner: Mapped[Partner | None] = relationship()
    history: Mapped[list[AuditEntry]] = relationship(
        order_by="AuditEntry.id", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"

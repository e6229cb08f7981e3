"""Invitations of the host region's stakeholders: the hosting beachhead invites a person
to an event's matchmaking through a one-time link.

The link itself is never stored: it is a signed token (services.tokens) naming the
invitation and the nonce of the latest link mailed for it, which is what the row keeps.
Sending the link again draws a new nonce, so the earlier link stops working; accepting
it marks the token used and records the registration it created.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event
from .registration import Registration
from .types import UTCDateTime, utcnow
from .user import User


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class StakeholderInvitation(db.Model):
    __tablename__ = "stakeholder_invitations"
    __table_args__ = (
        # An event's invitations, newest first (the hosts' list).
        Index("ix_stakeholder_invitations_event_created", "event_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # Whom it invites, until they accept: then their account says it ("" here).
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organization_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    # The language the mail is written in, as the host chose it.
    language: Mapped[str] = mapped_column(String(10))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the latest link was mailed, and until when it works.
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What identifies the latest link (inside its signed token), never the link itself.
    token_nonce: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    invited_by: Mapped[User | None] = relationship()
    registration: Mapped[Registration | None] = relationship()

    @property
    def invitee(self) -> tuple[str, str]:
        """The invited person's name and address: the invitation's own until accepted,
        then their account's ("" when the account is gone)."""
        if self.accepted_at is None:
            return self.name, self.email
        user = self.registration.user if self.registration is not None else None
        return (user.name, user.email) if user is not None else ("", "")

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def __repr__(self) -> str:
        return f"<StakeholderInvitation {self.id} to event {self.event_id}>"

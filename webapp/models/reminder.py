"""Reminders of online events: one row per registrant, offset and due moment, written
before the mail is queued, so the database decides who sends each reminder. A reminder
not sent says why (`skip_reason`), for the admins' page of skipped reminders."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .outbox import OutboxMessage
from .registration import Registration
from .types import UTCDateTime, str_enum, utcnow


class ReminderStatus(enum.StrEnum):
    CLAIMED = "claimed"  # taken by one sender; its mail is being written
    SENT = "sent"  # its mail is in the outbox (same transaction as the claim)
    SKIPPED = "skipped"  # not sent: its skip_reason says why


class ReminderSkip(enum.StrEnum):
    """Why a reminder was not sent."""

    STARTED = "started"  # the event had started when it was found: no longer useful
    SUPERSEDED = "superseded"  # a later reminder of the same registration was due too
    LATE = "late"  # found too late under the earlier rule (rows from before it changed)


class ReminderDelivery(db.Model):
    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        # The claim: a second sender's insert of the same reminder fails (or waits for the
        # first and then fails). The due moment is part of the key, so moving the event
        # makes a new reminder that the old one's row does not block.
        UniqueConstraint("registration_id", "offset_minutes", "due_at",
                         name="uq_reminder_deliveries_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    offset_minutes: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ReminderStatus] = mapped_column(
        str_enum(ReminderStatus, "reminder_status"), default=ReminderStatus.CLAIMED)
    skip_reason: Mapped[ReminderSkip | None] = mapped_column(
        str_enum(ReminderSkip, "reminder_skip"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()

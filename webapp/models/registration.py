"""Registrations: one per user and event, moved only by the registration service."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event, Question
from .partner import Partner
from .types import UTCDateTime, new_badge_code, new_join_token, str_enum, utcnow
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


class EventRole(enum.StrEnum):
    """What a person is at the event; badges and delegation lists show it."""

    DELEGATE = "delegate"
    SPEAKER = "speaker"
    ORGANIZER = "organizer"
    HOST = "host"
    STAFF = "staff"


# Registered directly by the organizers, outside capacity and quotas.
DIRECT_ROLES = frozenset({EventRole.HOST, EventRole.STAFF})


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        # The desk lists the newest applications first (migration 0021).
        Index("ix_registrations_applied_at", "applied_at", "id"),
        # A host's desk, the seat counts, the delegation list (migration 0021).
        Index("ix_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), index=True
    )
    role: Mapped[EventRole] = mapped_column(
        str_enum(EventRole, "event_role"), default=EventRole.DELEGATE
    )
    # The home cluster of the applicant's organization when they applied; None means the
    # event's organizers decide.
    responsible_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The waiting list is served in the order people joined it.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consents, each with the version of the text agreed to and when (None: not given).
    profile_consent_version: Mapped[str | None] = mapped_column(String(20))
    profile_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_consent_version: Mapped[str | None] = mapped_column(String(20))
    contact_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The invitation last mailed for this registration: its UID and SEQUENCE, so every
    # update and cancellation matches it (None: none sent yet).
    calendar_uid: Mapped[str | None] = mapped_column(String(200))
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the badge's QR code and its printed code carry: random, so it says nothing of
    # the person and cannot be guessed (see services.badges.new_badge_code).
    badge_code: Mapped[str] = mapped_column(String(16), unique=True, default=new_badge_code)
    # The key of the personal join link (/join/<token>) of an online event: whoever holds
    # the link may follow it, so it is random and long enough never to be guessed.
    join_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_join_token)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    responsible_partner: Mapped[Partner | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )
    history: Mapped[list[AuditEntry]] = relationship(
        order_by="AuditEntry.id", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"


class Answer(db.Model):
    """An applicant's answer to one of the event's questions."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    # A string, a list of strings (multiple choice) or a boolean (yes/no).
    value: Mapped[Any] = mapped_column(JSON)

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship(lazy="joined")


class DelegationMessage(db.Model):
    """A message the organizers (or a partner manager) wrote to an event's approved
    delegation, or to one partner's delegates; kept as the event's message log."""

    __tablename__ = "delegation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # None: the whole delegation; otherwise the delegates this partner is responsible for.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    event: Mapped[Event] = relationship()
    sender: Mapped[User | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
    recipients: Mapped[list[MessageRecipient]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )


class MessageRecipient(db.Model):
    """Who a delegation message went to (the approved delegates when it was sent)."""

    __tablename__ = "message_recipients"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("delegation_messages.id", ondelete="CASCADE"), primary_key=True
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    message: Mapped[DelegationMessage] = relationship(back_populates="recipients")
    registration: Mapped[Registration] = relationship()

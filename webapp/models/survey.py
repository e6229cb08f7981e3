"""Follow-up surveys of missions: one invitation per attended delegate and round, and
the answer to it. The invitation row is the claim (unique per registration and round),
written in the transaction that queues its mail, so the database decides who sends it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .agreement import Agreement
from .outbox import OutboxMessage
from .registration import Registration
from .types import UTCDateTime, str_enum, utcnow
from .user import User

# Upper bounds of the counts a delegate reports: beyond them it is a typing mistake.
MAX_MEETINGS = 500
MAX_LEADS = 1000
MAX_AGREEMENTS = 100
MAX_TEXT = 2000
MAX_PARTIES = 500


class SurveyRound(enum.StrEnum):
    FIRST = "first"  # a day after the mission: how it went
    SIX_MONTHS = "six_months"  # half a year later: what came of it


class SurveyInvitation(db.Model):
    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("registration_id", "round", name="uq_survey_invitations_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    round: Mapped[SurveyRound] = mapped_column(str_enum(SurveyRound, "survey_round"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the one reminder is due (sent_at + REMIND_AFTER), so the due ones are a plain
    # comparison on every database.
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set by whoever claims the reminder (sent, or skipped as late: reminder_skipped).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_skipped: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()
    response: Mapped[SurveyResponse | None] = relationship(
        back_populates="invitation", uselist=False)


class SurveyResponse(db.Model):
    """What a delegate reported. The agreements counts and `agreement_parties` are the
    delegate's word; the partner manager confirms them as Agreement records
    (`confirmations`)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_1_to_5"),
        CheckConstraint(f"b2b_meetings BETWEEN 0 AND {MAX_MEETINGS}", name="b2b_meetings_bounded"),
        CheckConstraint(f"leads BETWEEN 0 AND {MAX_LEADS}", name="leads_bounded"),
        CheckConstraint(f"agreements_in_negotiation BETWEEN 0 AND {MAX_AGREEMENTS}",
                        name="agreements_in_negotiation_bounded"),
        CheckConstraint(f"agreements_signed BETWEEN 0 AND {MAX_AGREEMENTS}",
                        name="agreements_signed_bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One answer per invitation: a second submission fails here.
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True)
    satisfaction: Mapped[int]
    b2b_meetings: Mapped[int] = mapped_column(default=0)
    leads: Mapped[int] = mapped_column(default=0)
    agreements_in_negotiation: Mapped[int] = mapped_column(default=0)
    agreements_signed: Mapped[int] = mapped_column(default=0)
    # With whom the agreements are (free text), for the partner manager to record them.
    agreement_parties: Mapped[str] = mapped_column(String(MAX_PARTIES), default="")
    # The second round's question: what came of the mission.
    outcome: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[SurveyInvitation] = relationship(back_populates="response")
    confirmations: Mapped[list[OutcomeConfirmation]] = relationship(
        back_populates="response", cascade="all, delete-orphan",
        order_by="OutcomeConfirmation.confirmed_at")


class OutcomeConfirmation(db.Model):
    """A partner manager's confirmation that an agreement a delegate reported is the
    Agreement record it names: the reported outcome, checked."""

    __tablename__ = "outcome_confirmations"
    __table_args__ = (UniqueConstraint("response_id", "agreement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[SurveyResponse] = relationship(back_populates="confirmations")
    agreement: Mapped[Agreement] = relationship()
    confirmed_by: Mapped[User | None] = relationship()

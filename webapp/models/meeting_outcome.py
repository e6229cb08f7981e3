"""What a placed meeting led to: whether it was held (a badge scanned at its table, or
both sides tapping "we met"), each side's rating after its slot, and each side's
follow-up months later, which may name the agreement it ended in.

A meeting is held once (`MeetingHeld`, unique per meeting): the first scan or the second
tap records it, later ones find it recorded. A placed meeting whose slot has ended
without being held is a no-show: derived, never stored, so a scan recorded late in the
check-in window still turns it into a held meeting. Ratings and follow-ups are one per
meeting and side (unique), the follow-up row being the claim of its mail, as survey
invitations are (services.meeting_outcomes).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .agreement import Agreement
from .matchmaking import Meeting, Participant
from .outbox import OutboxMessage
from .types import UTCDateTime, str_enum, utcnow
from .user import User

MAX_COMMENT = 2000


class HeldHow(enum.StrEnum):
    TABLE_SCAN = "table_scan"  # a side's badge scanned at the meeting's table
    BOTH_MET = "both_met"  # both sides tapped "we met"


class MeetingRatingAnswer(enum.StrEnum):
    DID_NOT_TAKE_PLACE = "did_not_take_place"
    INSUFFICIENT_INTEREST = "insufficient_interest"
    INFORMATIVE = "informative"  # informative, no cooperation planned
    COOPERATION_POSSIBLE = "cooperation_possible"


class FollowUpAnswer(enum.StrEnum):
    NO_FURTHER_CONTACT = "no_further_contact"
    IN_DISCUSSION = "in_discussion"
    NEGOTIATION_STARTED = "negotiation_started"
    AGREEMENT_REACHED = "agreement_reached"


class MeetingHeld(db.Model):
    """A meeting that took place: when, how it was known, and who marked it."""

    __tablename__ = "meetings_held"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            unique=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    how: Mapped[HeldHow] = mapped_column(str_enum(HeldHow, "held_how"))
    # Who scanned the badge, or the side whose tap completed the pair.
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The side whose badge was scanned (a table scan).
    scanned_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship()
    marked_by: Mapped[User | None] = relationship()
    scanned_participant: Mapped[Participant | None] = relationship()


class MeetingTap(db.Model):
    """A side's "we met": the meeting is held once both sides have tapped."""

    __tablename__ = "meeting_taps"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    tapped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingRating(db.Model):
    """A side's rating of a meeting after its slot; its comment is for the organizers."""

    __tablename__ = "meeting_ratings"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    answer: Mapped[MeetingRatingAnswer] = mapped_column(
        str_enum(MeetingRatingAnswer, "meeting_rating_answer"))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MeetingFollowUp(db.Model):
    """A side's follow-up question, months after the meeting: the row is the claim of its
    mail (unique per meeting and side), then holds the answer and, for an agreement
    reached, the agreement recorded from it."""

    __tablename__ = "meeting_follow_ups"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id",
                                       name="uq_meeting_follow_ups_once"),
                      Index("ix_meeting_follow_ups_agreement", "agreement_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[FollowUpAnswer | None] = mapped_column(
        str_enum(FollowUpAnswer, "follow_up_answer"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"))
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship()
    participant: Mapped[Participant] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()

"""Matchmaking on an event: its settings, the participants who opted in with their
profiles and opportunities, the meeting requests between them, and the schedule of the
accepted ones (their meetings, each in a slot at a meeting point).

A meeting request's status moves only through services.meeting_requests. The database
itself guarantees that two participants have at most one open request (requested or
accepted) between them, whichever of them asked: each request stores its pair as
(pair_low, pair_high), and a partial unique index covers the open ones. It also keeps a
meeting point to one meeting per slot, and each participant to one meeting per slot
(`MeetingSeat`), however many place meetings at once.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event
from .registration import Registration
from .types import UTCDateTime, str_enum, utcnow
from .user import User


class RequestMode(enum.StrEnum):
    RECEIVER_ACCEPTS = "receiver_accepts"  # the receiver accepts or declines
    INSTANT = "instant"  # a request is accepted at once


class MeetingPointKind(enum.StrEnum):
    TABLE = "table"
    BOOTH = "booth"
    ONLINE = "online"


class ScheduleState(enum.StrEnum):
    """How far an event's schedule of meetings is published."""

    DRAFT = "draft"  # seen by the organizers only
    PRELIMINARY = "preliminary"  # shown to the participants, may still change
    FINAL = "final"  # changes only once unlocked again


class MeetingRequestStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in OPEN_REQUEST_STATUSES


OPEN_REQUEST_STATUSES = frozenset({MeetingRequestStatus.REQUESTED,
                                   MeetingRequestStatus.ACCEPTED})
# The partial index's condition: the statuses of OPEN_REQUEST_STATUSES, as SQL.
OPEN_PAIR_WHERE = "status IN ('requested', 'accepted')"

# What ends a participant's requests without anyone cancelling them one by one.
CANCEL_CAUSES = ("registration_withdrawn", "registration_cancelled", "event_cancelled",
                 "consent_withdrawn")

# Participant types and opportunity types an event's matchmaking starts with.
DEFAULT_PARTICIPANT_TYPES = ("sme", "research", "government", "investor", "host_stakeholder")
DEFAULT_OPPORTUNITY_TYPES = ("offer", "request")


class Matchmaking(db.Model):
    """An event's matchmaking: one per event, switched on by its organizers."""

    __tablename__ = "matchmakings"
    __table_args__ = (
        CheckConstraint("meeting_minutes > 0", name="meeting_minutes_positive"),
        CheckConstraint("break_minutes >= 0", name="break_minutes_not_negative"),
        CheckConstraint("request_expiry_hours > 0", name="request_expiry_positive"),
        CheckConstraint("requests_close_at IS NULL OR requests_open_at IS NULL "
                        "OR requests_close_at > requests_open_at", name="window_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The window for meeting requests (UTC); None: open from / until any time.
    requests_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requests_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_minutes: Mapped[int] = mapped_column(default=30)
    break_minutes: Mapped[int] = mapped_column(default=10)
    request_mode: Mapped[RequestMode] = mapped_column(
        str_enum(RequestMode, "request_mode"), default=RequestMode.RECEIVER_ACCEPTS)
    # How long an unanswered request stays open.
    request_expiry_hours: Mapped[int] = mapped_column(default=72)
    schedule_state: Mapped[ScheduleState] = mapped_column(
        str_enum(ScheduleState, "schedule_state"), default=ScheduleState.DRAFT,
        server_default=ScheduleState.DRAFT.value)
    schedule_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    blocks: Mapped[list[MeetingBlock]] = relationship(
        back_populates="matchmaking", cascade="all, delete-orphan",
        order_by="MeetingBlock.starts_at")
    points: Mapped[list[MeetingPoint]] = relationship(
        back_populates="matchmaking", cascade="all, delete-orphan", order_by="MeetingPoint.id")
    participant_types: Mapped[list[ParticipantType]] = relationship(
        back_populates="matchmaking", cascade="all, delete-orphan",
        order_by="ParticipantType.position")
    opportunity_types: Mapped[list[OpportunityType]] = relationship(
        back_populates="matchmaking", cascade="all, delete-orphan",
        order_by="OpportunityType.position")
    rules: Mapped[list[RequestRule]] = relationship(
        back_populates="matchmaking", cascade="all, delete-orphan")

    def requests_open(self, now: datetime) -> bool:
        return (self.enabled
                and (self.requests_open_at is None or now >= self.requests_open_at)
                and (self.requests_close_at is None or now < self.requests_close_at))

    def slot_starts(self) -> list[datetime]:
        """The starts of the meeting slots: each block cut into meetings of the set
        length, a break after each."""
        step = timedelta(minutes=self.meeting_minutes + self.break_minutes)
        length = timedelta(minutes=self.meeting_minutes)
        starts = set()
        for block in self.blocks:
            start = block.starts_at
            while start + length <= block.ends_at:
                starts.add(start)
                start += step
        return sorted(starts)

    def allows(self, requester_type_id: int, receiver_type_id: int) -> bool:
        """Whether the matrix lets participants of one type ask those of another."""
        return any(rule.requester_type_id == requester_type_id
                   and rule.receiver_type_id == receiver_type_id for rule in self.rules)


class MeetingBlock(db.Model):
    """A stretch of time (UTC) in which meetings are held, cut into slots of the
    matchmaking's meeting length plus its break."""

    __tablename__ = "meeting_blocks"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matchmaking_id: Mapped[int] = mapped_column(
        ForeignKey("matchmakings.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    matchmaking: Mapped[Matchmaking] = relationship(back_populates="blocks")


class MeetingPoint(db.Model):
    """A table, a booth or an online room: one meeting at a time."""

    __tablename__ = "meeting_points"
    __table_args__ = (UniqueConstraint("matchmaking_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matchmaking_id: Mapped[int] = mapped_column(
        ForeignKey("matchmakings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[MeetingPointKind] = mapped_column(
        str_enum(MeetingPointKind, "meeting_point_kind"), default=MeetingPointKind.TABLE)
    url: Mapped[str | None] = mapped_column(String(500))

    matchmaking: Mapped[Matchmaking] = relationship(back_populates="points")


class _KindOfMatchmaking:
    """The columns of a kind an event's matchmaking defines (a participant type, an
    opportunity type): its key, an organizer's own label (the default kinds are labelled
    by their key's translation) and its place in lists."""

    id: Mapped[int] = mapped_column(primary_key=True)
    matchmaking_id: Mapped[int] = mapped_column(
        ForeignKey("matchmakings.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)


class ParticipantType(_KindOfMatchmaking, db.Model):
    """What a participant is (SME, research, government...): the request matrix's axes."""

    __tablename__ = "participant_types"
    __table_args__ = (UniqueConstraint("matchmaking_id", "key"),)

    matchmaking: Mapped[Matchmaking] = relationship(back_populates="participant_types")


class RequestRule(db.Model):
    """The matrix: a participant of the requester type may ask one of the receiver type
    for a meeting. A pair without a rule is forbidden."""

    __tablename__ = "request_rules"
    __table_args__ = (UniqueConstraint("requester_type_id", "receiver_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matchmaking_id: Mapped[int] = mapped_column(
        ForeignKey("matchmakings.id", ondelete="CASCADE"), index=True)
    requester_type_id: Mapped[int] = mapped_column(
        ForeignKey("participant_types.id", ondelete="CASCADE"), index=True)
    receiver_type_id: Mapped[int] = mapped_column(
        ForeignKey("participant_types.id", ondelete="CASCADE"), index=True)

    matchmaking: Mapped[Matchmaking] = relationship(back_populates="rules")


class OpportunityType(_KindOfMatchmaking, db.Model):
    """A kind of cooperation opportunity (default: offer, request)."""

    __tablename__ = "opportunity_types"
    __table_args__ = (UniqueConstraint("matchmaking_id", "key"),)

    matchmaking: Mapped[Matchmaking] = relationship(back_populates="opportunity_types")


class Participant(db.Model):
    """An approved registration that joined the event's marketplace. Seen by others only
    while its consent is given and not withdrawn (access.visible_participants)."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    participant_type_id: Mapped[int] = mapped_column(
        ForeignKey("participant_types.id", ondelete="RESTRICT"), index=True)
    # The marketplace's own consent: when, and the version of the text agreed to.
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Tags, one per line, as the participant wrote them (folded for search elsewhere).
    sectors: Mapped[str] = mapped_column(Text, default="")
    technologies: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration] = relationship()
    participant_type: Mapped[ParticipantType] = relationship()
    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="Opportunity.id")
    unavailable: Mapped[list[UnavailableSlot]] = relationship(
        back_populates="participant", cascade="all, delete-orphan",
        order_by="UnavailableSlot.starts_at")

    @property
    def user(self) -> User:
        return self.registration.user

    @property
    def consents(self) -> bool:
        return self.consent_given_at is not None and self.consent_withdrawn_at is None

    def __repr__(self) -> str:
        return f"<Participant {self.id} of registration {self.registration_id}>"


class Opportunity(db.Model):
    """An offer or a request (or an organizer's own type) a participant publishes."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    opportunity_type_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity_types.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="opportunities")
    opportunity_type: Mapped[OpportunityType] = relationship()


class MeetingRequest(db.Model):
    """One participant asks another for a meeting; moved only by
    services.meeting_requests."""

    __tablename__ = "meeting_requests"
    __table_args__ = (
        CheckConstraint("requester_id <> receiver_id", name="not_to_oneself"),
        CheckConstraint("pair_low < pair_high", name="pair_in_order"),
        # At most one open request per pair, whichever way it was asked.
        Index("uq_meeting_requests_open_pair", "pair_low", "pair_high", unique=True,
              sqlite_where=text(OPEN_PAIR_WHERE), postgresql_where=text(OPEN_PAIR_WHERE)),
        # What tick expires.
        Index("ix_meeting_requests_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    receiver_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    # The pair's participant ids, the lower first: what the open-pair index covers.
    pair_low: Mapped[int]
    pair_high: Mapped[int]
    message: Mapped[str] = mapped_column(Text, default="")
    # The slots the requester prefers: their starts, ISO 8601 in UTC.
    preferred_slots: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[MeetingRequestStatus] = mapped_column(
        str_enum(MeetingRequestStatus, "meeting_request_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was declined or cancelled, in the words of whoever did it.
    reason: Mapped[str] = mapped_column(Text, default="")
    # What ended it when nobody chose to (CANCEL_CAUSES): a registration withdrawn or
    # cancelled, the event cancelled, a consent withdrawn. Mail words it per reader.
    cause: Mapped[str | None] = mapped_column(String(30))
    # Who cancelled it: one of the two participants, or someone else (an organizer; None
    # and None: the system, when a registration or the event ended).
    cancelled_by_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"))
    cancelled_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    requester: Mapped[Participant] = relationship(foreign_keys=[requester_id])
    receiver: Mapped[Participant] = relationship(foreign_keys=[receiver_id])
    cancelled_by_participant: Mapped[Participant | None] = relationship(
        foreign_keys=[cancelled_by_participant_id])
    cancelled_by_user: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_user_id])

    def other_side(self, participant: Participant) -> Participant:
        return self.receiver if participant.id == self.requester_id else self.requester

    @classmethod
    def between(cls, first_id: int, second_id: int):
        """The condition "a request between these two participants", either way round."""
        low, high = sorted((first_id, second_id))
        return and_(cls.pair_low == low, cls.pair_high == high)

    def __repr__(self) -> str:
        return f"<MeetingRequest {self.id} {self.status}>"


class UnavailableSlot(db.Model):
    """A slot (its start, UTC) in which a participant cannot meet."""

    __tablename__ = "unavailable_slots"
    __table_args__ = (UniqueConstraint("participant_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)

    participant: Mapped[Participant] = relationship(back_populates="unavailable")


class Meeting(db.Model):
    """An accepted meeting request's place in the schedule: its slot (start, UTC) and
    meeting point, once it has them. The database keeps a meeting point to one meeting
    per slot; `MeetingSeat` keeps each participant to one."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("point_id", "starts_at"),
        CheckConstraint("(starts_at IS NULL) = (point_id IS NULL)", name="slot_with_point"),
        CheckConstraint("NOT locked OR starts_at IS NOT NULL", name="locked_when_placed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_requests.id", ondelete="CASCADE"), unique=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    point_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_points.id", ondelete="RESTRICT"))
    # Kept where it is by "schedule all".
    locked: Mapped[bool] = mapped_column(default=False)
    # Raised at each change of its time or place: the SEQUENCE of its calendar invitation.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    request: Mapped[MeetingRequest] = relationship()
    point: Mapped[MeetingPoint | None] = relationship()
    seats: Mapped[list[MeetingSeat]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Meeting {self.id} of request {self.request_id} at {self.starts_at}>"


class MeetingSeat(db.Model):
    """A side of a placed meeting in its slot: one row per participant and slot, so that
    nobody is booked twice at the same time, whoever places the meetings at once."""

    __tablename__ = "meeting_seats"
    __table_args__ = (UniqueConstraint("participant_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="seats")


class ScheduleRun(db.Model):
    """One "schedule all" of an event's meetings: who asked, when it ran, and what the
    solver reported (services.scheduling.Schedule)."""

    __tablename__ = "schedule_runs"
    __table_args__ = (Index("ix_schedule_runs_matchmaking_started",
                            "matchmaking_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matchmaking_id: Mapped[int] = mapped_column(
        ForeignKey("matchmakings.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds_limit: Mapped[int] = mapped_column(default=60)
    # Filled in when it finished: the meetings placed and their proven upper bound, the
    # idle slots and their lower bound, each with the solver's outcome (optimal or
    # feasible), and each meeting left out with its reason, by request id.
    placed: Mapped[int | None]
    most: Mapped[int | None]
    meetings_outcome: Mapped[str | None] = mapped_column(String(20))
    idle: Mapped[int | None]
    idle_bound: Mapped[int | None]
    idle_outcome: Mapped[str | None] = mapped_column(String(20))
    seconds: Mapped[float | None]
    unplaced: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A code (services' error codes) when it could not finish.
    error: Mapped[str | None] = mapped_column(String(60))

    matchmaking: Mapped[Matchmaking] = relationship()
    requested_by: Mapped[User | None] = relationship()

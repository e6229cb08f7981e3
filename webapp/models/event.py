"""Events (missions, webinars, workshops...) and their agenda sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .partner import Partner
from .search import KEY_LENGTH, Searchable, country_names, search_index
from .types import UTCDateTime, str_enum, utcnow

# A day and an hour before the start.
DEFAULT_REMINDER_OFFSETS = (1440, 60)


class EventKind(enum.StrEnum):
    OUTBOUND_MISSION = "outbound_mission"
    INBOUND_MISSION = "inbound_mission"
    FACT_FINDING_MISSION = "fact_finding_mission"
    WEBINAR = "webinar"
    WORKSHOP = "workshop"
    MATCHMAKING = "matchmaking"
    RECEPTION = "reception"

    @property
    def is_mission(self) -> bool:
        return self in MISSION_KINDS


MISSION_KINDS = frozenset(
    {EventKind.OUTBOUND_MISSION, EventKind.INBOUND_MISSION, EventKind.FACT_FINDING_MISSION}
)


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class SessionKind(enum.StrEnum):
    CONFERENCE = "conference"
    VISIT = "visit"
    WORKSHOP = "workshop"
    MATCHMAKING = "matchmaking"
    RECEPTION = "reception"
    WEBINAR = "webinar"
    OTHER = "other"


event_organizers = Table(
    "event_organizers",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)

event_hosts = Table(
    "event_hosts",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)


class Event(Searchable, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        search_index("events"),
        # The events of one status in date order: the API's list (migration 0021).
        Index("ix_events_status_starts_at", "status", "starts_at", "id"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "max_per_organization IS NULL OR max_per_organization >= 1",
            name="max_per_organization_positive",
        ),
        CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL "
            "OR registration_closes_at >= registration_opens_at",
            name="registration_window_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # Title, summary, city, venue and country folded for search (models/search.py).
    search_key: Mapped[str] = mapped_column(String(KEY_LENGTH), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    target_country: Mapped[str] = mapped_column(String(2))
    target_city: Mapped[str] = mapped_column(String(120), default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    # Never shown publicly; the webinar issue hands it out through personal join links.
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # Where the recording can be watched once the event is over (set after the end).
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    # When the registrants were told of the recording (once per event: a corrected link
    # is not mailed again; the join links always lead to the current one).
    recording_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    # The language its texts are written in first (others may be given besides): what a
    # reader sees where their own is not given, and what mail to someone whose language
    # is not known is written in.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None]
    # At most this many approved delegates from one organization (None: no cap).
    max_per_organization: Mapped[int | None]
    requires_approval: Mapped[bool] = mapped_column(default=True)
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.DRAFT, index=True
    )
    # Minutes before the start at which approved registrants of an online event are
    # reminded (services.reminders); an empty list switches reminders off.
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS),
        server_default=text("'[1440, 60]'"))
    # iCalendar SEQUENCE of the event's entries: bumped when its time or place changes.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organizers: Mapped[list[Partner]] = relationship(
        secondary=event_organizers, order_by=Partner.short_name
    )
    hosts: Mapped[list[Partner]] = relationship(secondary=event_hosts, order_by=Partner.short_name)
    questions: Mapped[list[Question]] = relationship(
        back_populates="event", cascade="all, delete-orphan",
        order_by="Question.position, Question.id",
    )
    quotas: Mapped[list[EventQuota]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="EventSession.position, EventSession.id",
    )
    # The texts in languages other than the main one (services/event_texts.py reads them,
    # a page of events at once).
    translations: Mapped[list[EventText]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True,
        order_by="EventText.language",
    )

    @property
    def agenda(self) -> list[EventSession]:
        """Sessions in the order of the day: by local day, all-day items first, then by time."""
        return sorted(
            self.sessions,
            key=lambda s: (s.sort_day, not s.all_day, s.starts_at or self.starts_at, s.position),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_online(self) -> bool:
        return self.kind == EventKind.WEBINAR

    @property
    def meets_in_person(self) -> bool:
        """Whether people come to a place: every kind but the webinar. Only then are
        there badges for the door, and hosts who receive the delegation, with whom the
        application's consents share the profile and contact details."""
        return not self.is_online

    @property
    def meets_online(self) -> bool:
        """Whether approved registrants get a personal join link: webinars, and any event
        or agenda session with a meeting address."""
        return self.is_online or bool(self.online_url) or any(
            s.online_url for s in self.sessions)

    def registration_is_open(self, now: datetime) -> bool:
        if self.status != EventStatus.PUBLISHED or now >= self.ends_at:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        return not (self.registration_closes_at and now >= self.registration_closes_at)

    def search_text(self):
        # Its titles in every language first: a long summary never cuts them off the key.
        return (self.title, *(t.title for t in self.translations), self.summary, self.target_city,
                self.venue, country_names(self.target_country))

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class EventSession(db.Model):
    """An item of an event's agenda: a visit, a conference day, B2B meetings, a reception."""

    __tablename__ = "event_sessions"
    __table_args__ = (
        # Timed sessions carry instants; all-day sessions carry local dates of the event's zone.
        CheckConstraint(
            "(all_day AND start_date IS NOT NULL AND end_date IS NOT NULL "
            "AND starts_at IS NULL AND ends_at IS NULL AND end_date >= start_date) OR "
            "(NOT all_day AND starts_at IS NOT NULL AND ends_at IS NOT NULL "
            "AND start_date IS NULL AND end_date IS NULL AND ends_at >= starts_at)",
            name="timed_or_all_day",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SessionKind] = mapped_column(
        str_enum(SessionKind, "session_kind"), default=SessionKind.OTHER
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    all_day: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    position: Mapped[int] = mapped_column(default=0)
    calendar_sequence: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="sessions")
    translations: Mapped[list[SessionText]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SessionText.language",
    )

    @property
    def sort_day(self) -> date:
        if self.all_day:
            assert self.start_date is not None
            return self.start_date
        assert self.starts_at is not None
        return self.starts_at.astimezone(self.event.zone).date()


class EventText(db.Model):
    """An event's title, summary and description in a language other than its main one
    (the main language's are the event's own columns)."""

    __tablename__ = "event_texts"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="translations")


class SessionText(db.Model):
    """An agenda session's title and description in a language other than its event's
    main one."""

    __tablename__ = "session_texts"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    session: Mapped[EventSession] = relationship(back_populates="translations")


class EventQuota(db.Model):
    """The seats of an event reserved for one partner's applicants."""

    __tablename__ = "event_quotas"
    __table_args__ = (CheckConstraint("seats >= 0", name="seats_not_negative"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    seats: Mapped[int]

    event: Mapped[Event] = relationship(back_populates="quotas")
    partner: Mapped[Partner] = relationship(lazy="joined")


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    COUNTRY = "country"


class Question(db.Model):
    """A question an event asks its applicants."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    label: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(String(500), default="")
    required: Mapped[bool] = mapped_column(default=False)
    # The options of a single or multiple choice question.
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)

    event: Mapped[Event] = relationship(back_populates="questions")

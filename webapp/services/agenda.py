"""Where people look for their meetings: a participant's agenda, and the organizers'
print-outs of the whole schedule (by meeting point and by slot, and a sign per table).

A participant's agenda lists their accepted meetings: those whose time and place they
may see (`meeting_schedule.shown_to_participants`: the schedule is published, or the
meeting is locked) in time order, the others as "not scheduled yet". Each shows the
other side's organization and contact person, whose email and phone only as
`participant.contact` allows the viewer. The organizers' schedule shows every placed
meeting, published or not.

Both are read in a fixed number of statements, however many meetings they hold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..extensions import db
from ..models import (
    Event,
    EventStatus,
    Matchmaking,
    Meeting,
    MeetingPoint,
    MeetingRequest,
    MeetingRequestStatus,
    Participant,
    Registration,
    RegistrationStatus,
    ScheduleState,
    User,
)
from . import matchmaking_settings, meeting_schedule, names


def organization_of(participant: Participant) -> str:
    """A participant as the other side of an agreed meeting and the organizers' print-outs
    name them."""
    return names.participant_label(participant, known=True)


def _with_people(side):
    """A request's side with what an agenda shows of them."""
    return (selectinload(side).selectinload(Participant.registration)
            .selectinload(Registration.user).selectinload(User.organization))


@dataclass(frozen=True)
class Contact:
    """The other side's contact person; email and phone empty unless the viewer may
    see them."""

    name: str
    email: str = ""
    phone: str = ""

    @property
    def shows_details(self) -> bool:
        return bool(self.email or self.phone)


@dataclass(frozen=True)
class Entry:
    """One accepted meeting on a participant's agenda."""

    request: MeetingRequest
    meeting: Meeting | None
    other: Participant
    organization: str
    contact: Contact
    # Whether its time and place are shown to its participants.
    shown: bool
    minutes: int

    @property
    def starts_at(self) -> datetime | None:
        return self.meeting.starts_at if self.shown and self.meeting else None

    @property
    def ends_at(self) -> datetime | None:
        start = self.starts_at
        return start + timedelta(minutes=self.minutes) if start else None

    @property
    def point(self) -> MeetingPoint | None:
        return self.meeting.point if self.shown and self.meeting else None


@dataclass
class Agenda:
    participant: Participant
    event: Event
    settings: Matchmaking | None
    scheduled: list[Entry] = field(default_factory=list)
    waiting: list[Entry] = field(default_factory=list)

    @property
    def state(self) -> ScheduleState:
        return self.settings.schedule_state if self.settings else ScheduleState.DRAFT

    @property
    def preliminary(self) -> bool:
        return self.state == ScheduleState.PRELIMINARY

    @property
    def published(self) -> bool:
        return self.state != ScheduleState.DRAFT

    def days(self) -> list[tuple[date, list[Entry]]]:
        """The scheduled meetings by local day of the event."""
        grouped: dict[date, list[Entry]] = {}
        for entry in self.scheduled:
            assert entry.starts_at is not None
            grouped.setdefault(entry.starts_at.astimezone(self.event.zone).date(),
                               []).append(entry)
        return list(grouped.items())


def agenda_of(participant: Participant, viewer: User | None,
              *, request_ids: list[int] | None = None) -> Agenda:
    """`participant`'s agenda as `viewer` may see it (the caller has checked
    `participant.agenda`, or that the viewer is a side of the meetings asked for);
    `request_ids`: only those requests' meetings."""
    event = participant.event
    settings = matchmaking_settings.of_event(event.id)
    query = (select(MeetingRequest).where(
        MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
        or_(MeetingRequest.requester_id == participant.id,
            MeetingRequest.receiver_id == participant.id))
        .options(_with_people(MeetingRequest.requester), _with_people(MeetingRequest.receiver))
        .order_by(MeetingRequest.id))
    if request_ids is not None:
        query = query.where(MeetingRequest.id.in_(request_ids))
    requests = list(db.session.scalars(query))
    meetings = {m.request_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.request_id.in_([r.id for r in requests]))
        .options(selectinload(Meeting.point)))} if requests else {}
    others = [r.other_side(participant) for r in requests]
    contacts = access.participants_whose_contact(viewer, others)
    minutes = settings.meeting_minutes if settings else 0
    agenda = Agenda(participant, event, settings)
    for request, other in zip(requests, others, strict=True):
        meeting = meetings.get(request.id)
        shown = (meeting is not None and settings is not None
                 and meeting_schedule.shown_to_participants(meeting, settings))
        user = other.registration.user
        contact = (Contact(user.name, user.email, user.phone or "") if other.id in contacts
                   else Contact(user.name))
        entry = Entry(request, meeting, other, organization_of(other), contact, shown, minutes)
        (agenda.scheduled if shown else agenda.waiting).append(entry)
    agenda.scheduled.sort(key=lambda e: (e.starts_at, e.request.id))
    return agenda


@dataclass(frozen=True)
class MeetingFile:
    """What one side's calendar file of a meeting says: its entry while it is shown to
    them (None: it is not, or no longer), else the other side's organization."""

    meeting: Meeting
    participant: Participant
    entry: Entry | None
    organization: str
    minutes: int


def meeting_file(meeting: Meeting, participant: Participant, viewer: User) -> MeetingFile:
    """`meeting` as `participant`, one of its sides, files it (`viewer` is they)."""
    found = agenda_of(participant, viewer, request_ids=[meeting.request_id])
    entry = next((e for e in found.scheduled if e.meeting is meeting), None)
    return MeetingFile(meeting, participant, entry,
                       organization_of(meeting.request.other_side(participant)),
                       found.settings.meeting_minutes if found.settings else 30)


def shown_meetings_of(user: User) -> list[tuple[Participant, Entry]]:
    """Every meeting shown to `user`, as which participant: what their calendar feed
    holds."""
    return [(participant, entry) for participant in participants_of(user)
            for entry in agenda_of(participant, user).scheduled]


def participants_of(user: User) -> list[Participant]:
    """The user's participations whose meetings go into their calendar: approved
    registrations of events that are neither drafts nor cancelled."""
    return list(db.session.scalars(
        select(Participant).join(Participant.registration).join(Participant.event).where(
            Registration.user_id == user.id,
            Registration.status == RegistrationStatus.APPROVED,
            Event.status.not_in((EventStatus.DRAFT, EventStatus.CANCELLED)))
        .order_by(Participant.id)))


# --------------------------------------------------------------------------- the organizers'


@dataclass(frozen=True)
class Booking:
    """A placed meeting as the print-outs show it: its two sides, each as their
    organization and person."""

    meeting: Meeting
    starts_at: datetime
    ends_at: datetime
    sides: tuple[tuple[str, str], tuple[str, str]]


@dataclass
class Schedule:
    event: Event
    settings: Matchmaking
    points: list[MeetingPoint]
    slots: list[datetime]
    bookings: dict[tuple[int, datetime], Booking]
    waiting: int

    def day_of(self, at: datetime) -> date:
        return at.astimezone(self.event.zone).date()

    def hours(self, start: datetime) -> str:
        """A slot's local start and end, "09:00–09:30" (its page names the zone)."""
        zone = self.event.zone
        end = start + timedelta(minutes=self.settings.meeting_minutes)
        return f"{start.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M}"

    def by_point(self, point: MeetingPoint) -> list[tuple[date, list[tuple[datetime,
                                                                           Booking | None]]]]:
        """Each day's slots at `point`, with the meeting held there (None: free)."""
        days: dict[date, list] = defaultdict(list)
        for start in self.slots:
            days[self.day_of(start)].append((start, self.bookings.get((point.id, start))))
        return list(days.items())

    def by_slot(self) -> list[tuple[datetime, list[tuple[MeetingPoint, Booking]]]]:
        """Each slot that holds meetings, with them in the order of the points."""
        rows = []
        for start in self.slots:
            held = [(p, self.bookings[(p.id, start)]) for p in self.points
                    if (p.id, start) in self.bookings]
            if held:
                rows.append((start, held))
        return rows

    @property
    def count(self) -> int:
        return len(self.bookings)


def _person(participant: Participant) -> tuple[str, str]:
    return organization_of(participant), participant.registration.user.name


def schedule_of(event: Event) -> Schedule | None:
    """The event's whole schedule (None: it has no matchmaking)."""
    settings = matchmaking_settings.of_event(event.id, layout=True)
    if settings is None:
        return None
    length = timedelta(minutes=settings.meeting_minutes)
    meetings = db.session.scalars(
        select(Meeting).join(Meeting.request).where(
            Meeting.event_id == event.id, Meeting.starts_at.is_not(None),
            MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
        .options(selectinload(Meeting.request).options(
            _with_people(MeetingRequest.requester), _with_people(MeetingRequest.receiver))))
    bookings = {}
    for meeting in meetings:
        assert meeting.starts_at is not None and meeting.point_id is not None
        request = meeting.request
        bookings[(meeting.point_id, meeting.starts_at)] = Booking(
            meeting, meeting.starts_at, meeting.starts_at + length,
            (_person(request.requester), _person(request.receiver)))
    placed = select(Meeting.request_id).where(Meeting.starts_at.is_not(None))
    waiting = db.session.scalar(select(func.count(MeetingRequest.id)).where(
        MeetingRequest.event_id == event.id,
        MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
        MeetingRequest.id.not_in(placed)))
    slots = sorted(set(settings.slot_starts()) | {start for _p, start in bookings})
    return Schedule(event, settings, list(settings.points), slots, bookings, waiting)

"""Running events: create, update, publish, close, cancel, clone; their agenda and quotas.

What an event, a session or a copy may be is stated by its input model
(webapp/inputs/events.py: fields, limits, local times and their order, the event's UTC
instants); here each change is checked against what the database knows (free slugs, the
partners and their kinds, whom the actor may organize with, the agenda, quotas and seats
already given) before anything is written (a refusal leaves the event as it was), and
is audited; the unit of work that called (a request, a command) commits it with
everything else it did. A session's local times become instants here, in its event's
zone.

Quotas: no quota may exceed the capacity, nor may all of them together: a quota is a
promise of seats, and promises the event cannot keep are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .. import access, localtime
from ..extensions import db
from ..inputs.events import EventIn, SessionIn
from ..localtime import local_dates
from ..models import (
    DEFAULT_REMINDER_OFFSETS,
    Attendance,
    Event,
    EventQuota,
    EventSession,
    EventStatus,
    Partner,
    PartnerKind,
    Question,
    Registration,
    RegistrationStatus,
    User,
)
from . import audit, event_texts, meeting_requests, questions, registration_mail, registrations
from .errors import InvalidTransition
from .fields import (
    EventCancelled,
    Problems,
    Refused,
    free_slug,
)
from .locking import lock_event

# What an event's status may become; a cancelled event is final.
STATUS_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.DRAFT: frozenset({EventStatus.PUBLISHED, EventStatus.CANCELLED}),
    EventStatus.PUBLISHED: frozenset({EventStatus.CLOSED, EventStatus.CANCELLED}),
    EventStatus.CLOSED: frozenset({EventStatus.PUBLISHED, EventStatus.CANCELLED}),
    EventStatus.CANCELLED: frozenset(),
}

# The registrations an event's cancellation ends; decided-against and withdrawn ones
# already ended and keep their own outcome.
OPEN_STATUSES = (
    RegistrationStatus.SUBMITTED, RegistrationStatus.WAITLISTED, RegistrationStatus.APPROVED,
)

# --------------------------------------------------------------------------- local time


def to_utc(local: datetime, zone: ZoneInfo, field: str) -> datetime:
    """The instant a wall-clock time of `zone` names, by the rules of `localtime`: inside
    the events' years, never a time the clocks skip, and a time they pass twice only with
    the UTC offset its author chose (an aware `local`), never a guess."""
    try:
        return localtime.instant_of(local, zone)
    except localtime.NotALocalTime as refusal:
        raise Refused("input.refused", field, reason=refusal.message) from None


def _shift(at: datetime | None, zone: ZoneInfo, days: int) -> datetime | None:
    """The same wall-clock time `days` later in the event's zone (DST-safe)."""
    if at is None:
        return None
    return (at.astimezone(zone) + timedelta(days=days)).astimezone(UTC)


# --------------------------------------------------------------------------- events


def _partners(ids: Iterable[int]) -> list[Partner]:
    ids = set(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Partner).where(Partner.id.in_(ids))))


def _event_values(details: EventIn) -> dict:
    """The event's column values (UTC), as the validated input states them."""
    values = details.model_dump(include={
        "kind", "title", "summary", "description", "target_country", "target_city",
        "venue", "online_url", "recording_url", "timezone", "capacity",
        "max_per_organization", "requires_approval"})
    values.update(starts_at=details.starts_at, ends_at=details.ends_at,
                  registration_opens_at=details.registration_opens_at,
                  registration_closes_at=details.registration_closes_at)
    if details.reminder_offsets is not None:
        values["reminder_offsets"] = list(details.reminder_offsets)
    if details.language is not None:
        values["language"] = details.language
    return values


def _event_slug(details: EventIn, own_id: int | None, problems: Problems) -> str | None:
    try:
        return free_slug(Event.slug, details.slug or details.title, own_id=own_id,
                         explicit=bool(details.slug))
    except Refused as refusal:
        problems.take(refusal)
        return None


def _event_partners(actor: User | None, details: EventIn,
                    problems: Problems) -> tuple[list[Partner], list[Partner]]:
    """The organizing and hosting partners: they exist, the actor keeps one of their own
    among the organizers, and hosts are beachheads."""
    organizers = _partners(details.organizer_ids)
    hosts = _partners(details.host_ids)
    if len(organizers) != len(details.organizer_ids):
        problems.add("organizer_ids", "event.organizer_needed")
    elif not access.can(actor, "event.organize_with", organizers):
        problems.add("organizer_ids", "event.keep_own_organizer")
    if len(hosts) != len(details.host_ids) or any(
        p.kind != PartnerKind.BEACHHEAD for p in hosts
    ):
        problems.add("host_ids", "event.hosts_are_beachheads")
    return organizers, hosts


def create(actor: User | None, details: EventIn) -> Event:
    """A new draft event (its reminders: the default ones unless `details` says)."""
    problems = Problems()
    values = {"reminder_offsets": list(DEFAULT_REMINDER_OFFSETS), **_event_values(details)}
    values["slug"] = _event_slug(details, None, problems)
    organizers, hosts = _event_partners(actor, details, problems)
    problems.raise_any()
    event = Event(status=EventStatus.DRAFT, **values)
    event.organizers = organizers
    event.hosts = hosts
    db.session.add(event)
    db.session.flush()
    changes = {k: [None, audit.plain(v)] for k, v in values.items() if v not in (None, "")}
    changes["organizers"] = [None, _names(organizers)]
    if hosts:
        changes["hosts"] = [None, _names(hosts)]
    if details.texts:
        changes.update(event_texts.replace(event, details.texts))
    audit.record(actor, "event.created", event, changes=changes, event_id=event.id)
    if event.kind.is_mission:
        questions.add_mission_defaults(actor, event)
    return event


def update(actor: User | None, event: Event, details: EventIn) -> Event:
    """The event as `details` describes it; its reminders stay unless `details` says."""
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    problems = Problems()
    values = _event_values(details)
    values["slug"] = _event_slug(details, event.id, problems)
    organizers, hosts = _event_partners(actor, details, problems)
    if not problems.errors:
        _check_agenda_fits(event, values, problems)
        _check_quotas_fit(
            {q.partner_id: q.seats for q in event.quotas}, values["capacity"], problems,
            field="capacity",
        )
        _check_capacity_holds_approved(event, values["capacity"], problems)
    problems.raise_any()
    changes = audit.diff(event, values)
    for name, old, new in (("organizers", event.organizers, organizers),
                           ("hosts", event.hosts, hosts)):
        if {p.id for p in old} != {p.id for p in new}:
            changes[name] = [_names(old), _names(new)]
            setattr(event, name, new)
    if details.texts is not None:
        changes.update(event_texts.replace(event, details.texts))
    if changes:
        audit.record(actor, "event.updated", event, changes=changes, event_id=event.id)
    _announce(event, changes)
    return event


def _announce(event: Event, changes: dict) -> None:
    """What registrants hear of a change: a moved event's new invitations, a recording
    published, seats freed for the waiting list."""
    if registration_mail.INVITATION_FIELDS & changes.keys():
        # Flushed first: writing the event row waits for any approval holding its lock,
        # so the registrants read next include it, and a later approval reads the change.
        event.calendar_sequence += 1
        db.session.flush()
        registration_mail.event_moved(event)
    if event.recording_url and "recording_url" in changes:
        registration_mail.recording_published(event)
    if "capacity" in changes or "max_per_organization" in changes:
        registrations.promote_waitlisted(event.id)


def _check_capacity_holds_approved(event: Event, capacity: int | None,
                                   problems: Problems) -> None:
    """Lowering the capacity below the seats already given would overbook the event."""
    if capacity is None:
        return
    approved = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.status == RegistrationStatus.APPROVED))
    if capacity < approved:
        problems.add("capacity", "event.capacity_below_approved", approved=approved)


def _names(partners: Iterable[Partner]) -> list[str]:
    return sorted(p.short_name for p in partners)


def _check_agenda_fits(event: Event, values: dict, problems: Problems) -> None:
    """New dates must still hold the agenda: sessions are moved first, then the event."""
    starts, ends = values["starts_at"], values["ends_at"]
    first_day, last_day = local_dates(starts, ends, values["timezone"])
    outside = [
        s for s in event.sessions
        if (s.all_day and (s.start_date < first_day or s.end_date > last_day))
        or (not s.all_day and (s.starts_at < starts or s.ends_at > ends))
    ]
    if outside:
        titles = ", ".join(s.title for s in outside)
        problems.add("starts_local", "event.sessions_outside", titles=titles)


def _check_quotas_fit(seats: dict[int, int], capacity: int | None, problems: Problems,
                      *, field: str | None) -> None:
    if capacity is None or not seats:
        return
    total = sum(seats.values())
    if total > capacity:
        problems.add(field, "quota.sum_over_capacity", total=total, capacity=capacity)


# --------------------------------------------------------------------------- status


def _change_status(actor: User | None, event_id: int, to: EventStatus) -> Event:
    event = lock_event(event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    if to not in STATUS_TRANSITIONS[event.status]:
        raise Refused("event.invalid_status_change", status=event.status, to=to)
    old = event.status
    event.status = to
    audit.record(actor, f"event.{to.value}", event,
                 changes={"status": [old.value, to.value]}, event_id=event.id)
    return event


def publish(actor: User | None, event_id: int) -> Event:
    """Visible to everyone; registration follows its window."""
    return _change_status(actor, event_id, EventStatus.PUBLISHED)


def close(actor: User | None, event_id: int) -> Event:
    """Still listed, no longer taking applications."""
    return _change_status(actor, event_id, EventStatus.CLOSED)


def open_registration_ids(event_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Registration.id)
        .where(Registration.event_id == event_id, Registration.status.in_(OPEN_STATUSES))
        .order_by(Registration.id)
    ))


def cancel(actor: User | None, event_id: int, reason: str = "") -> int:
    """Cancel the event, then each of its open registrations; returns how many.

    The status changes first, under the event's lock: `registrations.apply` checks the
    status under the same lock, so no application slips in afterwards. Each registration
    then moves through the state machine (with its audit entry), all in the caller's one
    unit: the event and its registrations are cancelled together or not at all.
    Cancelling a cancelled event cancels what is still open, and writes nothing else."""
    event = lock_event(event_id)
    if event.status != EventStatus.CANCELLED:
        old = event.status
        event.status = EventStatus.CANCELLED
        # A change of STATUS is a new revision of the event's calendar entries. The
        # invitations are cancelled one by one with their registrations below.
        event.calendar_sequence += 1
        audit.record(actor, "event.cancelled", event, reason=reason,
                     changes={"status": [old.value, EventStatus.CANCELLED.value]},
                     event_id=event.id)
    # Its meeting requests and meetings end first, all at once, told as the event's end.
    meeting_requests.end_for_event(event_id, actor=actor)
    cancelled = 0
    for registration_id in open_registration_ids(event_id):
        try:
            registrations.cancel(registration_id, actor=actor,
                                 reason=reason or "The event was cancelled.")
        except InvalidTransition:
            continue  # already ended (withdrawn by its member): that outcome stands
        cancelled += 1
    return cancelled


def clone(actor: User | None, source: Event, days: int) -> Event:
    """A draft copy `days` later (same local times), with its agenda and quotas; without
    registrations."""
    if not all(localtime.EVENT_DATES.holds(day + timedelta(days=days))
               for day in local_dates(source.starts_at, source.ends_at, source.timezone)):
        raise Refused("input.refused", "days", reason=localtime.EVENT_DATES.refusal())
    zone = source.zone
    copy = Event(
        kind=source.kind, language=source.language, title=source.title, summary=source.summary,
        description=source.description, target_country=source.target_country,
        target_city=source.target_city, venue=source.venue, online_url=source.online_url,
        timezone=source.timezone, capacity=source.capacity,
        max_per_organization=source.max_per_organization,
        requires_approval=source.requires_approval, status=EventStatus.DRAFT,
        reminder_offsets=list(source.reminder_offsets or ()),
        slug=free_slug(Event.slug, f"{source.slug}-copy", own_id=None, explicit=False),
        starts_at=_shift(source.starts_at, zone, days),
        ends_at=_shift(source.ends_at, zone, days),
        registration_opens_at=_shift(source.registration_opens_at, zone, days),
        registration_closes_at=_shift(source.registration_closes_at, zone, days),
    )
    copy.organizers = list(source.organizers)
    copy.hosts = list(source.hosts)
    for item in source.sessions:
        copy.sessions.append(EventSession(
            kind=item.kind, title=item.title, description=item.description, venue=item.venue,
            online_url=item.online_url, all_day=item.all_day, position=item.position,
            starts_at=_shift(item.starts_at, zone, days), ends_at=_shift(item.ends_at, zone, days),
            start_date=item.start_date and item.start_date + timedelta(days=days),
            end_date=item.end_date and item.end_date + timedelta(days=days),
        ))
    for quota in source.quotas:
        copy.quotas.append(EventQuota(partner_id=quota.partner_id, seats=quota.seats))
    for question in source.questions:
        copy.questions.append(Question(
            position=question.position, kind=question.kind, label=question.label,
            help_text=question.help_text, required=question.required,
            choices=list(question.choices)))
    event_texts.copy(source, copy)
    db.session.add(copy)
    db.session.flush()
    audit.record(
        actor, "event.cloned", copy, event_id=copy.id, reason=f"Copy of {source.slug}",
        changes={"slug": [source.slug, copy.slug],
                 "starts_at": [audit.plain(source.starts_at), audit.plain(copy.starts_at)]},
    )
    return copy


# --------------------------------------------------------------------------- agenda


def _session_values(event: Event, details: SessionIn, problems: Problems) -> dict:
    """The session's column values: an all-day session's days, or a timed session's
    instants in the event's zone, within the event."""
    values = details.model_dump(include={"kind", "title", "description", "venue",
                                         "online_url", "all_day"})
    values.update(starts_at=None, ends_at=None, start_date=details.start_date,
                  end_date=details.end_date)
    if details.all_day:
        _check_days_within(event, details, problems)
    else:
        values.update(start_date=None, end_date=None)
        values.update(_session_instants(event, details, problems))
    return values


def _check_days_within(event: Event, details: SessionIn, problems: Problems) -> None:
    first_day, last_day = local_dates(event.starts_at, event.ends_at, event.timezone)
    for field in ("start_date", "end_date"):
        if not first_day <= getattr(details, field) <= last_day:
            problems.add(field, "session.day_outside_event",
                         first=first_day.isoformat(), last=last_day.isoformat())


def _session_instants(event: Event, details: SessionIn, problems: Problems) -> dict:
    """starts_at and ends_at: the session's wall-clock times in the event's zone."""
    found: dict = {"starts_at": None, "ends_at": None}
    for column, field in (("starts_at", "starts_local"), ("ends_at", "ends_local")):
        try:
            found[column] = to_utc(getattr(details, field), event.zone, field)
        except Refused as refusal:
            problems.take(refusal)
    if found["starts_at"] and found["starts_at"] < event.starts_at:
        problems.add("starts_local", "session.starts_before_event")
    if found["ends_at"] and found["ends_at"] > event.ends_at:
        problems.add("ends_local", "session.ends_after_event")
    return found


def add_session(actor: User | None, event: Event, details: SessionIn) -> EventSession:
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    problems = Problems()
    values = _session_values(event, details, problems)
    problems.raise_any()
    position = max((s.position for s in event.sessions), default=0) + 1
    item = EventSession(event=event, position=position, **values)
    db.session.add(item)
    db.session.flush()
    changes = {k: [None, audit.plain(v)] for k, v in values.items() if v not in (None, "")}
    if details.texts:
        changes.update(event_texts.replace_session(item, details.texts))
    audit.record(actor, "event.session_added", item, event_id=event.id, changes=changes)
    return item


def update_session(actor: User | None, item: EventSession, details: SessionIn) -> None:
    event = item.event
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    problems = Problems()
    values = _session_values(event, details, problems)
    problems.raise_any()
    changes = audit.diff(item, values)
    if details.texts is not None:
        changes.update(event_texts.replace_session(item, details.texts))
    if changes:
        audit.record(actor, "event.session_updated", item, changes=changes, event_id=event.id)


def session_attendance_count(item: EventSession) -> int:
    """How many check-ins and joins were recorded at the session (deleted with it)."""
    return db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == item.id)) or 0


def delete_session(actor: User | None, item: EventSession) -> None:
    event = item.event
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    audit.record(actor, "event.session_deleted", item, event_id=event.id,
                 changes={"title": [item.title, None]})
    event.sessions.remove(item)


# --------------------------------------------------------------------------- quotas


def quota_partners(event: Event) -> list[Partner]:
    """Who may hold seats: the organizers and the partnership's member clusters."""
    members = db.session.scalars(
        select(Partner).where(Partner.kind == PartnerKind.CLUSTER, Partner.is_member)
    ).all()
    by_id = {p.id: p for p in [*event.organizers, *members]}
    return sorted(by_id.values(), key=lambda p: p.short_name.lower())


def quota_field(partner_id: int) -> str:
    return f"seats_{partner_id}"


def set_quotas(actor: User | None, event: Event, seats: dict[int, int | None]) -> None:
    """Each partner's reserved seats (None: no quota), as `QuotasIn.seats` states them."""
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()
    eligible = {p.id: p for p in quota_partners(event)}
    wanted = {pid: n for pid, n in seats.items() if n is not None}
    _check_quotas(event, eligible, wanted)
    changes = _apply_quotas(event, eligible, wanted)
    if changes:
        audit.record(actor, "event.quotas_updated", event, changes=changes, event_id=event.id)
        registrations.promote_waitlisted(event.id)


def _check_quotas(event: Event, eligible: dict[int, Partner], wanted: dict[int, int]) -> None:
    """Quotas go to eligible partners, and fit the capacity one by one and together."""
    problems = Problems()
    for pid, n in wanted.items():
        if pid not in eligible:
            problems.add(None, "quota.partner_not_eligible")
        elif event.capacity is not None and n > event.capacity:
            problems.add(quota_field(pid), "quota.over_capacity", capacity=event.capacity)
    if not problems.errors:
        _check_quotas_fit(wanted, event.capacity, problems, field=None)
    problems.raise_any()


def _apply_quotas(event: Event, eligible: dict[int, Partner], wanted: dict[int, int]) -> dict:
    """Writes the quotas `wanted`; returns what changed, by partner."""
    current = {q.partner_id: q for q in event.quotas}
    changes: dict = {}
    for pid in set(current) | set(wanted):
        old = current[pid].seats if pid in current else None
        new = wanted.get(pid)
        if old == new:
            continue
        changes[eligible[pid].short_name if pid in eligible else str(pid)] = [old, new]
        if new is None:
            event.quotas.remove(current[pid])
        elif pid in current:
            current[pid].seats = new
        else:
            event.quotas.append(EventQuota(partner_id=pid, seats=new))
    return changes

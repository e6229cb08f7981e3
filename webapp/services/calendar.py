"""Calendar files: an event's .ics, one session's .ics, a person's feed, mailed invitations.

What makes them work in Outlook, Google and Apple Calendar alike:
- times carry the TZID of the event's IANA zone and the file holds a VTIMEZONE for it,
  generated for the years the entries fall in, so clients without that zone in their own
  database (or with an older one) still read summer and winter times right;
- UIDs are stable (`event-<id>@<domain>`, `session-<id>@<domain>`) and SEQUENCE comes from
  the stored counters, so a changed or cancelled entry replaces the one a client holds;
- escaping, folding at 75 octets and CRLF are left to icalendar.

Every text a file holds (SUMMARY, DESCRIPTION, LOCATION's "Online") is written in the
language being rendered: the downloader's for a file, the recipient's for a mailed
invitation (written inside the mail's language), the owner's for their feed (which a
calendar server fetches without a browser: the view renders it in the owner's language).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import (
    Calendar,
    Timezone,
    vCalAddress,
    vDDDTypes,
    vInt,
    vText,
    vUri,
)
from icalendar import (
    Event as VEvent,
)
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from .. import access, languages
from ..extensions import db
from ..localtime import format_days, format_span
from ..models import (
    AuditEntry,
    Event,
    EventSession,
    EventStatus,
    Meeting,
    MeetingPointKind,
    Participant,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import audit, event_texts, join, tokens
from .notifications import absolute_url
from .places import place

if TYPE_CHECKING:
    from . import agenda

PRODID = "-//SmartCityTech//Beachhead//EN"
FEED_PURPOSE = "calendar-feed"


# --------------------------------------------------------------------------- identifiers


def _uid_domain() -> str:
    return current_app.config["CALENDAR_UID_DOMAIN"]


def event_uid(event: Event) -> str:
    return f"event-{event.id}@{_uid_domain()}"


def invitation_uid(registration: Registration) -> str:
    """The mailed invitation's own UID: not the event's, which the subscribed feed uses,
    so a client holding both shows two entries of their own, not a clash."""
    return f"registration-{registration.id}@{_uid_domain()}"


def session_uid(session: EventSession) -> str:
    return f"session-{session.id}@{_uid_domain()}"


def event_url(event: Event) -> str:
    return absolute_url("public.event_detail", slug=event.slug)


# --------------------------------------------------------------------------- texts


def _language() -> str:
    """The language the file is being written in (see the module's docstring)."""
    return str(get_locale() or languages.DEFAULT)


def _texts(event: Event) -> event_texts.EventTexts:
    return event_texts.shown(event, _language())


def _session_texts(session: EventSession) -> event_texts.SessionTexts:
    return event_texts.session_shown(session, _language())


def _labelled(label: str, value: str) -> str:
    return f"{label}: {value}"


# --------------------------------------------------------------------------- time zones


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The zone's rules for whole years around the entries: a year boundary on each side
    means every entry has both its summer and its winter observance defined before it,
    and whole years keep the cache small. Generating is slow, hence the cache; callers
    only read the component."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


class _Zones:
    """The zones a calendar uses and the years it needs them for."""

    def __init__(self) -> None:
        self._years: dict[str, tuple[int, int]] = {}

    def use(self, tzid: str, first: date, last: date) -> None:
        low, high = self._years.get(tzid, (first.year, last.year))
        self._years[tzid] = (min(low, first.year), max(high, last.year))

    def add_to(self, cal: Calendar) -> None:
        for tzid, (first, last) in sorted(self._years.items()):
            if tzid != "UTC":  # UTC times are written with Z and need no VTIMEZONE
                cal.add_component(_vtimezone(tzid, first, last))


# --------------------------------------------------------------------------- components


@dataclass(frozen=True)
class _Span:
    """When an entry happens: local times in the event's zone, or local dates (all-day)."""

    start: datetime | date
    end: datetime | date
    all_day: bool


def _event_span(event: Event) -> _Span:
    zone = event.zone
    return _Span(event.starts_at.astimezone(zone), event.ends_at.astimezone(zone), False)


def _session_span(session: EventSession) -> _Span:
    if session.all_day:
        assert session.start_date is not None and session.end_date is not None
        # iCalendar's DTEND of a DATE is exclusive: the day after the last day.
        return _Span(session.start_date, session.end_date + timedelta(days=1), True)
    assert session.starts_at is not None and session.ends_at is not None
    zone = session.event.zone
    return _Span(session.starts_at.astimezone(zone), session.ends_at.astimezone(zone), False)


def _location(event: Event, venue: str = "", where: str | None = None) -> str:
    """"Venue, City, Country"; `where` is the event's place when the caller has it already
    (naming the country goes through the locale data, which a feed would do per entry)."""
    if event.is_online and not (venue or event.venue):
        return _("Online")
    parts = [venue or event.venue, place(event) if where is None else where]
    return ", ".join(p for p in parts if p)


def _new_vevent(
    uid: str, summary: str, span: _Span, *, sequence: int, cancelled: bool, now: datetime,
    location: str, url: str, description: str, zones: _Zones, tzid: str,
) -> VEvent:
    # Typed values set directly: Component.add() would infer each type again, which is
    # most of the building cost in a feed of hundreds of entries.
    vevent = VEvent()
    vevent["UID"] = vText(uid)
    vevent["DTSTAMP"] = vDDDTypes(now)
    vevent["SEQUENCE"] = vInt(sequence)
    vevent["SUMMARY"] = vText(summary)
    vevent["DTSTART"] = vDDDTypes(span.start)
    vevent["DTEND"] = vDDDTypes(span.end)
    if span.all_day:
        # A whole day should not block the attendee's free/busy time.
        vevent["TRANSP"] = vText("TRANSPARENT")
    else:
        zones.use(tzid, span.start.date(), span.end.date())  # type: ignore[union-attr]
    if location:
        vevent["LOCATION"] = vText(location)
    vevent["URL"] = vUri(url)
    vevent["DESCRIPTION"] = vText(description)
    vevent["STATUS"] = vText("CANCELLED" if cancelled else "CONFIRMED")
    return vevent


def _join(*paragraphs: str) -> str:
    return "\n\n".join(p.strip() for p in paragraphs if p and p.strip())


def _event_components(
    event: Event, *, now: datetime, zones: _Zones, cancelled: bool = False
) -> list[VEvent]:
    """The entries of one event: each agenda session, or the event itself when it has none.

    A session's SEQUENCE adds the event's, because moving or cancelling the event changes
    every session entry too. Cancelled entries get one more, so clients that hold the
    confirmed version take the cancellation as newer.
    """
    cancelled = cancelled or event.status == EventStatus.CANCELLED
    bump = 1 if cancelled else 0
    url = event_url(event)
    texts = _texts(event)
    # The meeting address never goes into a file: online entries point at the event page
    # (each delegate's personal join link goes into their own invitation only).
    if not event.sessions:
        return [_new_vevent(
            event_uid(event), texts.title, _event_span(event),
            sequence=event.calendar_sequence + bump, cancelled=cancelled, now=now,
            location=_location(event), url=url,
            description=_join(texts.summary, texts.description, url),
            zones=zones, tzid=event.timezone,
        )]
    where = place(event)
    entries = []
    for s in event.agenda:
        session = _session_texts(s)
        entries.append(_new_vevent(
            session_uid(s), f"{session.title} · {texts.title}", _session_span(s),
            sequence=event.calendar_sequence + s.calendar_sequence + bump,
            cancelled=cancelled, now=now, location=_location(event, s.venue, where), url=url,
            description=_join(session.description, f"{texts.title}\n{url}"),
            zones=zones, tzid=event.timezone,
        ))
    return entries


def _calendar(name: str | None = None, method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        # Apple and Google show this as the subscribed calendar's name.
        cal.add("x-wr-calname", name)
    return cal


def _assemble(cal: Calendar, vevents: Iterable[VEvent], zones: _Zones) -> Calendar:
    # VTIMEZONEs first: some clients read the file top-down and need the zone before use.
    zones.add_to(cal)
    for vevent in vevents:
        cal.add_component(vevent)
    return cal


# --------------------------------------------------------------------------- public files


def event_calendar(event: Event, now: datetime | None = None) -> Calendar:
    """The public file of an event: no attendees, nothing personal."""
    now = now or utcnow()
    zones = _Zones()
    vevents = _event_components(event, now=now, zones=zones)
    return _assemble(_calendar(), vevents, zones)


def session_calendar(session: EventSession, now: datetime | None = None) -> Calendar:
    now = now or utcnow()
    event = session.event
    zones = _Zones()
    vevent = next(
        v for v in _event_components(event, now=now, zones=_Zones())
        if str(v["uid"]) == session_uid(session)
    )
    # Only this session's zone years, not the whole event's.
    span = _session_span(session)
    if not span.all_day:
        zones.use(event.timezone, span.start.date(), span.end.date())  # type: ignore[union-attr]
    return _assemble(_calendar(), [vevent], zones)


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()


# --------------------------------------------------------------------------- invitations


def _agenda_text(event: Event) -> str:
    lines = []
    for s in event.agenda:
        if s.all_day:
            when = format_days(s.start_date, s.end_date)  # type: ignore[arg-type]
        else:
            when = format_span(s.starts_at, s.ends_at, event.timezone)  # type: ignore[arg-type]
        place = f" ({s.venue})" if s.venue else ""
        lines.append(f"- {when}: {_session_texts(s).title}{place}")
    return f"{_('Agenda')}:\n" + "\n".join(lines) if lines else ""


def invitation(registration: Registration, method: str, *, sequence: int) -> str:
    """The iTIP message mailed to a delegate: one VEVENT for the event as a whole (iTIP
    allows one UID per message), its agenda in DESCRIPTION.

    `method` is REQUEST (new or updated) or CANCEL; the caller keeps the UID
    (registration.calendar_uid, else the event's UID) and passes the SEQUENCE it records,
    so every update and cancellation matches what the delegate's client holds.
    """
    method = method.upper()
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    event = registration.event
    user = registration.user
    now = utcnow()
    zones = _Zones()
    cancelled = method == "CANCEL"
    url = event_url(event)
    texts = _texts(event)
    description = _join(texts.summary, _agenda_text(event), url)
    if event.meets_online and not cancelled:
        # The delegate's own join link takes the event page's place: the entry is what
        # they click at the start. It is personal, and this file goes to them alone.
        url = join.link(registration)
        sessions = "\n".join(f"{_session_texts(s).title}: {join.link(registration, s)}"
                             for s in join.online_sessions(event))
        description = _join(texts.summary, _agenda_text(event),
                            _labelled(_("Join online"), url), sessions,
                            _labelled(_("Event page"), event_url(event)))
    vevent = _new_vevent(
        registration.calendar_uid or event_uid(event), texts.title, _event_span(event),
        sequence=sequence, cancelled=cancelled, now=now, location=_location(event), url=url,
        description=description, zones=zones, tzid=event.timezone,
    )
    organizer = vCalAddress(current_app.config["CALENDAR_ORGANIZER"])
    organizer.params["cn"] = vText(current_app.config["PARTNERSHIP_NAME"])
    vevent.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{user.email}")
    attendee.params["cn"] = vText(user.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    # Approval already settled attendance, and replies are not processed.
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    vevent.add("attendee", attendee)
    cal = _assemble(_calendar(method=method), [vevent], zones)
    return cal.to_ical().decode()


# --------------------------------------------------------------------------- personal feed


def feed_token(user: User) -> str:
    return tokens.make(FEED_PURPOSE, [user.id, user.calendar_feed_version])


def user_for_feed_token(token: str) -> User | None:
    """The owner of a feed link, or None when it is tampered with or was reset. Feed links
    do not expire: a subscription should keep working until its owner resets it."""
    try:
        user_id, version = tokens.verify(FEED_PURPOSE, token)
    except (tokens.TokenInvalid, TypeError, ValueError):  # bad signature or wrong shape
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if (user is None or not user.active or user.erased_at is not None
            or user.calendar_feed_version != version):
        return None
    return user


def reset_feed(user: User, actor: User | None) -> None:
    """Revoke the user's feed link; the caller commits."""
    old = user.calendar_feed_version
    user.calendar_feed_version = old + 1
    audit.record(actor, "calendar_feed.reset", user,
                 changes={"calendar_feed_version": [old, old + 1]})


_GONE = (RegistrationStatus.WITHDRAWN, RegistrationStatus.CANCELLED)


def feed_events(user: User, now: datetime) -> list[tuple[Event, bool]]:
    """(event, cancelled) for the user's feed.

    Approved registrations; the events of the partners they manage; everything for admins.
    An event that was in the feed stays until its end as cancelled when the event was
    cancelled or the registration withdrawn or cancelled, so subscribed clients remove it
    instead of keeping a stale entry.
    """

    active = Event.status != EventStatus.DRAFT
    options = (selectinload(Event.sessions),)
    scoped = set(db.session.scalars(access.calendar_event_ids_of(user)))

    # Registrations that ended after having been approved (so the entry was in the feed).
    was_approved = exists().where(
        AuditEntry.registration_id == Registration.id,
        AuditEntry.to_status == RegistrationStatus.APPROVED.value,
    )
    gone = select(Registration.event_id).where(
        Registration.user_id == user.id, Registration.status.in_(_GONE), was_approved
    )
    ended_registration = set(db.session.scalars(gone))

    result: list[tuple[Event, bool]] = []
    ids = scoped | ended_registration
    if not ids:
        return result
    events = db.session.scalars(
        select(Event).where(Event.id.in_(ids), active).options(*options)
        .order_by(Event.starts_at, Event.id)
    )
    for event in events:
        cancelled = event.status == EventStatus.CANCELLED or event.id not in scoped
        if cancelled and event.ends_at <= now:
            continue  # past its end a cancelled entry has done its job
        result.append((event, cancelled))
    return result


def feed_calendar(user: User, now: datetime | None = None,
                  meetings: Iterable[tuple[Participant, agenda.Entry]] = ()) -> Calendar:
    """The user's feed: their events (`feed_events`) and `meetings`, the meetings shown
    to them as their participations (`agenda.shown_meetings_of`)."""
    now = now or utcnow()
    zones = _Zones()
    vevents: list[VEvent] = []
    for event, cancelled in feed_events(user, now):
        vevents.extend(_event_components(event, now=now, zones=zones, cancelled=cancelled))
    # A meeting taken out of the schedule leaves the feed, and with it the subscribed
    # calendars.
    vevents.extend(_meeting_vevent(entry, participant, now=now, zones=zones)
                   for participant, entry in meetings)
    name = f"{current_app.config['PARTNERSHIP_NAME']} · {current_app.config['APP_NAME']}"
    cal = _assemble(_calendar(name=name), vevents, zones)
    # Clients that honour it poll hourly instead of daily.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"value": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def feed_urls(user: User) -> dict[str, str]:
    https = absolute_url("calendar.feed", token=feed_token(user))
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


# --------------------------------------------------------------------------- meetings


def meeting_uid(meeting: Meeting) -> str:
    """One UID per meeting: each side files it in their own calendar."""
    return f"meeting-{meeting.id}@{_uid_domain()}"


def agenda_url(participant: Participant) -> str:
    return absolute_url("agenda.participant", event_id=participant.event_id,
                        participant_id=participant.id)


def _meeting_summary(organization: str, event: Event) -> str:
    return f"{_('Meeting with %(organization)s', organization=organization)} · " \
           f"{_texts(event).title}"


def _meeting_location(point) -> str:
    """An online meeting point's link (its name when it has none), else its name."""
    if point.kind == MeetingPointKind.ONLINE and point.url:
        return point.url
    return point.name


def _meeting_vevent(entry: agenda.Entry, participant: Participant, *, now: datetime,
                    zones: _Zones) -> VEvent:
    """A meeting shown to `participant`, at its time and meeting point (the link, for
    an online one), with the other side's organization and contact person."""
    event = participant.event
    point = entry.point
    assert entry.starts_at is not None and entry.ends_at is not None and point is not None
    zone = event.zone
    contact = entry.contact
    person = "\n".join(line for line in (
        _labelled(_("Contact person"), contact.name),
        contact.email and _labelled(_("Email"), contact.email),
        contact.phone and _labelled(_("Phone"), contact.phone)) if line)
    place = _labelled(_("Meeting point"), point.name)
    if point.url:
        place += f"\n{point.url}"
    url = agenda_url(participant)
    return _new_vevent(
        meeting_uid(entry.meeting), _meeting_summary(entry.organization, event),  # type: ignore[arg-type]
        _Span(entry.starts_at.astimezone(zone), entry.ends_at.astimezone(zone), False),
        sequence=entry.meeting.sequence, cancelled=False, now=now,  # type: ignore[union-attr]
        location=_meeting_location(point), url=url,
        description=_join(f"{entry.organization}\n{person}", place,
                          f"{_texts(event).title}\n{url}"),
        zones=zones, tzid=event.timezone)


def meeting_calendar(found: agenda.MeetingFile, now: datetime | None = None) -> Calendar:
    """One meeting's file for one of its sides (`agenda.meeting_file`): at its time and
    place while these are shown to its participants; otherwise (taken out of the
    schedule, called off, or not shown) a cancellation (METHOD:CANCEL, STATUS:CANCELLED),
    so the entry a client holds goes away. SEQUENCE is the meeting's, which the schedule
    raises at each change of its time or place."""
    now = now or utcnow()
    zones = _Zones()
    participant = found.participant
    if found.entry is not None:
        return _assemble(_calendar(), [_meeting_vevent(found.entry, participant, now=now,
                                                       zones=zones)], zones)
    event = participant.event
    # Its time is no longer (or not yet) the participant's to see: the entry stands on
    # the event's start, which a cancellation only needs to name.
    start = event.starts_at.astimezone(event.zone)
    url = agenda_url(participant)
    vevent = _new_vevent(
        meeting_uid(found.meeting), _meeting_summary(found.organization, event),
        _Span(start, start + timedelta(minutes=found.minutes), False),
        sequence=found.meeting.sequence, cancelled=True, now=now, location="", url=url,
        description=_join(_("This meeting is not in the schedule."),
                          f"{_texts(event).title}\n{url}"),
        zones=zones, tzid=event.timezone)
    organizer = vCalAddress(current_app.config["CALENDAR_ORGANIZER"])
    organizer.params["cn"] = vText(current_app.config["PARTNERSHIP_NAME"])
    vevent.add("organizer", organizer)
    return _assemble(_calendar(method="CANCEL"), [vevent], zones)


# --------------------------------------------------------------------------- web calendars


def _plain_description(event: Event, text: str = "") -> str:
    return _join(text or _texts(event).summary, event_url(event))


def _utc_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(event: Event) -> str:
    """A link that opens Google Calendar's new-event form filled in with the event."""
    params: dict[str, Any] = {
        "action": "TEMPLATE",
        "text": _texts(event).title,
        "dates": f"{_utc_stamp(event.starts_at)}/{_utc_stamp(event.ends_at)}",
        "details": _plain_description(event),
        "location": _location(event),
        "ctz": event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(params)


def outlook_link(event: Event) -> str:
    """A link that opens Outlook.com's compose form filled in with the event."""
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": _texts(event).title,
        "startdt": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": event.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": _plain_description(event),
        "location": _location(event),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(params)

"""Reminders before online events: by default a day and an hour before the start, to
every approved registrant, with the start in their own zone and the event's, their
personal join link and the calendar entry.

Each reminder is sent exactly once, whoever runs `flask tick` and however many run at
once. A reminder is claimed by inserting its ReminderDelivery row, unique per
registration, offset and due moment, in the transaction that queues its mail: a second
sender's insert conflicts (on PostgreSQL it waits for the first transaction, then finds
the row; on SQLite the write transaction is taken before anything is read), so it skips
that reminder. The mail itself then leaves through the outbox, which claims each message
before sending it.

`queue_due(now)` does the whole round in this process (`flask tick` without Redis). With
Redis, `flask tick` finds the events with reminders due (`due_events`) and queues one
`remind` job per event, carrying the instant, so the workers share the round; a job that
runs twice (two ticks, a retry) finds its reminders claimed and queues nothing.

The due moment is part of the key: when an event moves, its reminders are due at new
moments, and those are new rows, sent in their turn; the rows of the old moments stay as
the record of what was sent.

Reminders catch up after an outage of any length (or for a registrant approved late):
one found after its moment is still sent while its event has not started, saying the
time actually left ("starts in 3 hours", not the 24 hours it was planned for). When
several of a registration's reminders are due at once, only the latest (the shortest
offset) is sent: the others are recorded as skipped, superseded. Once the event has
started, a reminder is no longer useful and is recorded as skipped, started; events that
ended up to RECORD_WINDOW ago are still looked at, so an outage that outlasted an event
leaves its record too. Each skip keeps its reason for the admins' page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, ngettext
from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from .. import unit
from ..extensions import db
from ..inputs.events import MAX_OFFSET_MINUTES, OffsetsRefused, reminder_minutes
from ..inputs.events import format_offsets as format_offsets  # the form's text, read back
from ..models import (
    DEFAULT_REMINDER_OFFSETS,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    ReminderDelivery,
    ReminderSkip,
    ReminderStatus,
    User,
)
from . import calendar, notifications, registration_mail
from .fields import Refused

# A reminder found within this of its moment is on time and says its own offset ("starts
# in 24 hours"); later, it says the time left, rounded down so it never promises more.
ON_TIME = timedelta(minutes=15)
# How long after an event's end its unsent reminders are still recorded as skipped.
RECORD_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Tally:
    """What one run did: reminders queued for sending (`late` of them after their
    moment) and reminders skipped (their event had started, or a later one superseded
    them)."""

    queued: int = 0
    skipped: int = 0
    late: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.queued + other.queued, self.skipped + other.skipped,
                     self.late + other.late)


# --------------------------------------------------------------------------- the offsets


def parse_offsets(text: str | Sequence[int], field: str = "reminder_offsets") -> list[int]:
    """The reminder offsets, in minutes, by the event input's rule
    (`inputs.events.reminder_minutes`), refused as a Refused beside `field`."""
    try:
        return reminder_minutes(text)
    except OffsetsRefused as refusal:
        raise Refused("input.refused", field, reason=str(refusal)) from None


def default_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


# --------------------------------------------------------------------------- due reminders


def queue_due(now: datetime) -> Tally:
    """Claim and queue every reminder due at `now` whose event has not started; record
    the others as skipped, with their reason.

    Each event's claims and their mail are written aside (`unit.aside("claim")`), one
    transaction per event, so it runs before the unit writes anything. Safe to run in
    several processes at once.
    """
    total = Tally()
    for event_id in _events_with_due_reminders(now):
        total += _queue_event(event_id, now)
    return total


def due_events(now: datetime) -> list[int]:
    """The ids of the events with a reminder due at `now` that nobody has claimed yet."""
    return _events_with_due_reminders(now)


@unit.job
def remind(event_id: int, now: str) -> Tally:
    """The job: claim and queue the reminders of one event due at `now` (ISO 8601)."""
    return _queue_event(event_id, datetime.fromisoformat(now))


def _events_with_due_reminders(now: datetime) -> list[int]:
    candidates = db.session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now - RECORD_WINDOW,
               Event.starts_at <= now + timedelta(minutes=MAX_OFFSET_MINUTES))
        .options(selectinload(Event.sessions))
        .order_by(Event.id)
    ).all()
    # The claims that follow end this read transaction first (unit.aside): SQLite could
    # not upgrade it to a write.
    return [e.id for e in candidates if e.meets_online and _unhandled(e, now)]


def _unhandled(event: Event, now: datetime) -> bool:
    """Whether some reminder of `event` due at `now` has no row yet: only then does the
    event need a write transaction (a tick every minute would otherwise take one for
    each event between its first reminder and its end)."""
    due_at = [_due_at(event, m) for m in event.reminder_offsets or ()
              if _due_at(event, m) <= now]
    if not due_at:
        return False
    registrants = db.session.scalar(
        select(func.count()).select_from(Registration).join(Registration.user)
        .where(*_reminded(event)))
    handled = db.session.scalar(
        select(func.count()).select_from(ReminderDelivery)
        .join(Registration, Registration.id == ReminderDelivery.registration_id)
        .join(Registration.user)
        .where(*_reminded(event), ReminderDelivery.due_at.in_(due_at)))
    return handled < registrants * len(due_at)


def _reminded(event: Event) -> tuple:
    """The conditions on a registration (joined with its user) to be reminded."""
    return (Registration.event_id == event.id,
            Registration.status == RegistrationStatus.APPROVED,
            User.erased_at.is_(None), User.active.is_(True))


def _due_at(event: Event, offset_minutes: int) -> datetime:
    return event.starts_at - timedelta(minutes=offset_minutes)


def _queue_event(event_id: int, now: datetime) -> Tally:
    """One event's claims and mail, in a write transaction of their own: a reminder is
    claimed exactly when its mail is in the outbox, whatever the unit does next."""
    with unit.aside("claim") as session:
        event = session.get(Event, event_id, populate_existing=True)
        if event is None or event.status != EventStatus.PUBLISHED or not event.meets_online:
            return Tally()
        return _claim_and_queue(event, now)


def _claim_and_queue(event: Event, now: datetime) -> Tally:
    # Longest offset first, whatever order the event stores them in: the last is the latest.
    due = [(m, _due_at(event, m)) for m in sorted(event.reminder_offsets or (), reverse=True)
           if _due_at(event, m) <= now]
    if not due:
        return Tally()
    registrants = db.session.scalars(
        select(Registration)
        .join(Registration.user)
        .where(*_reminded(event))
        .options(joinedload(Registration.user))
        .order_by(Registration.id)
    ).all()
    handled = {tuple(row) for row in db.session.execute(
        select(ReminderDelivery.registration_id, ReminderDelivery.offset_minutes,
               ReminderDelivery.due_at)
        .join(Registration, Registration.id == ReminderDelivery.registration_id)
        .where(Registration.event_id == event.id)
    )}
    tally = Tally()
    # Always the same order (registration, then the longest offset first), so two
    # senders on PostgreSQL wait for each other's rows without ever deadlocking.
    for reg in registrants:
        for offset, due_at in due:
            if (reg.id, offset, due_at) not in handled:
                tally += _handle(reg, offset, due_at, _skip_reason(event, offset, due, now),
                                 now)
    return tally


def _skip_reason(event: Event, offset: int, due: list[tuple[int, datetime]],
                 now: datetime) -> ReminderSkip | None:
    """Why this due reminder is not sent, or None to send it. `due` is every reminder of
    the event due at `now`, longest offset first: the last is the latest, whether or not
    it was sent already (a shorter one sent makes a longer one pointless)."""
    if event.starts_at <= now:
        return ReminderSkip.STARTED
    if offset != due[-1][0]:
        return ReminderSkip.SUPERSEDED
    return None


def _handle(reg: Registration, offset: int, due_at: datetime, skip: ReminderSkip | None,
            now: datetime) -> Tally:
    """Claim one reminder and, unless it is skipped, queue its mail in the same
    transaction. Nothing when another sender claimed it first."""
    status = ReminderStatus.SKIPPED if skip else ReminderStatus.CLAIMED
    delivery_id = _claim(reg.id, offset, due_at, status, skip, now)
    if delivery_id is None:
        return Tally()  # another sender has it
    if skip:
        return Tally(skipped=1)
    on_time = now - due_at <= ON_TIME
    message = _queue_mail(reg, offset if on_time else _minutes_left(reg.event, now),
                          exact=on_time)
    db.session.flush()
    delivery = db.session.get(ReminderDelivery, delivery_id)
    delivery.status = ReminderStatus.SENT
    delivery.outbox_message_id = message.id
    return Tally(queued=1, late=0 if on_time else 1)


def _minutes_left(event: Event, now: datetime) -> int:
    """Whole minutes until the start, rounded down (at least one)."""
    return max(1, int((event.starts_at - now).total_seconds() // 60))


def _claim(registration_id: int, offset: int, due_at: datetime, status: ReminderStatus,
           skip: ReminderSkip | None, now: datetime) -> int | None:
    """Insert the reminder's row unless it exists; its id, or None when it did."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = dict(registration_id=registration_id, offset_minutes=offset, due_at=due_at,
                  status=status, skip_reason=skip, claimed_at=now)
    statement = (insert(ReminderDelivery).values(**values)
                 .on_conflict_do_nothing(index_elements=["registration_id", "offset_minutes",
                                                          "due_at"])
                 .returning(ReminderDelivery.id))
    return db.session.execute(statement).scalar_one_or_none()


# --------------------------------------------------------------------------- the mail


def _queue_mail(reg: Registration, minutes: int, *, exact: bool):
    """The reminder mail, saying the event starts in `minutes`: an offset on time
    (`exact`: said in the unit it divides), the time left when late (rounded down)."""
    user, event = reg.user, reg.event
    zone = registration_mail.recipient_zone(user, event)
    count, measure = _in_words(minutes, exact=exact)
    # The subject, the lead and the calendar entry are written here, in the language
    # the mail is.
    language = notifications.reader_language(user, event)
    with force_locale(language):
        subject = _subject(event, count, measure)
        ics = _calendar_entry(reg)
        return notifications.queue(
            user, subject, "reminder", registration=reg, event=event,
            recipient_zone=zone, lead=_lead(event, count, measure), calendar=ics,
            calendar_method="REQUEST", language=language,
        )


def _in_words(minutes: int, *, exact: bool) -> tuple[int, str]:
    """`minutes` as a count of days (from two days on), hours or minutes. Exact: only in
    a unit that divides it (90 stays 90 minutes); otherwise rounded down (3 h 40 min is
    3 hours), so a reminder never says there is more time than there is."""
    if minutes >= 2 * 1440 and (not exact or minutes % 1440 == 0):
        return minutes // 1440, "days"
    if minutes >= 60 and (not exact or minutes % 60 == 0):
        return minutes // 60, "hours"
    return minutes, "minutes"


def _subject(event: Event, count: int, measure: str) -> str:
    title = notifications.event_title(event)
    if measure == "days":
        return ngettext("Starts in %(num)d day: %(event)s",
                        "Starts in %(num)d days: %(event)s", count, event=title)
    if measure == "hours":
        return ngettext("Starts in %(num)d hour: %(event)s",
                        "Starts in %(num)d hours: %(event)s", count, event=title)
    return ngettext("Starts in %(num)d minute: %(event)s",
                    "Starts in %(num)d minutes: %(event)s", count, event=title)


def _lead(event: Event, count: int, measure: str) -> str:
    """The mail's first sentence, with the same time left as its subject."""
    title = notifications.event_title(event)
    if measure == "days":
        return ngettext("A reminder: %(event)s starts in %(num)d day.",
                        "A reminder: %(event)s starts in %(num)d days.", count,
                        event=title)
    if measure == "hours":
        return ngettext("A reminder: %(event)s starts in %(num)d hour.",
                        "A reminder: %(event)s starts in %(num)d hours.", count,
                        event=title)
    return ngettext("A reminder: %(event)s starts in %(num)d minute.",
                    "A reminder: %(event)s starts in %(num)d minutes.", count,
                    event=title)


def _calendar_entry(reg: Registration) -> str:
    """The registrant's invitation as it stands: the same UID and SEQUENCE as the last
    one sent (approval or move), so clients keep the one entry they hold and do not add
    a second. A registrant never sent one (approved before invitations) gets the first."""
    if reg.calendar_uid is None:
        return registration_mail.next_invitation(reg, "REQUEST")
    return calendar.invitation(reg, "REQUEST", sequence=reg.calendar_sequence)


# --------------------------------------------------------------------------- the record


def skipped() -> Select:
    """The reminders not sent, with their registrant and event, latest decision first:
    what the admins' page lists after an outage."""
    return (select(ReminderDelivery)
            .where(ReminderDelivery.status == ReminderStatus.SKIPPED)
            .options(joinedload(ReminderDelivery.registration).options(
                joinedload(Registration.user), joinedload(Registration.event)))
            .order_by(ReminderDelivery.claimed_at.desc(), ReminderDelivery.id.desc()))

"""The mail a registration's transitions send, and the managers' daily digest.

Every message is an outbox row queued in the transaction of the transition that caused
it (`transitioned`, called by the state machine), so a decision and its mail commit or
roll back together; sending happens after the commit (services.notifications).

The applicant hears of every change to their registration. The deciders (the managers
of the responsible partner, or of the event's organizers when there is none) hear of
each new application to decide: at once, or in one digest a day (`queue_due_digests`,
run by `flask tick`), as each of them prefers.

Mail is written in the recipient's language and shows times in their zone as well as
the event's.

Invitations (iTIP): every approval mail carries the event as a calendar invitation
(METHOD:REQUEST), so the seat lands in the delegate's own calendar. The registration
keeps the UID and SEQUENCE it was last sent: a change of the event's time or place
(`event_moved`) re-sends REQUEST with the same UID and the next SEQUENCE, which clients
apply as an update of the entry instead of adding a second one; leaving an approved seat
(withdrawn, reopened, or cancelled, also when the whole event is cancelled) sends
METHOD:CANCEL the same way, which removes it. Only a registration that is approved holds
a live invitation, so each one is cancelled exactly once, and nobody who was never
invited is sent a cancellation.

A reopened decision is mailed to the applicant with its reason (and, when it held a
seat, what leaving it means); its deciders are not alerted as to a new application.

After an event, once its recording is online (`recording_published`), every approved
registrant hears of it once: thanks to those who came (a join link opened in its
window, or a badge scanned), "sorry we missed you" to the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..localtime import known_zone
from ..models import (
    AlertFrequency,
    Attendance,
    Event,
    Registration,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from ..models import RegistrationStatus as S
from ..unit import write_step
from . import calendar, notifications

PROMOTED = "registration.promoted"
# An application's `applied_at` is taken before its transaction waits for the event's
# lock, so it can commit a little after a digest was cut. Each digest covers only
# applications older than this margin; the newer ones go into the next digest.
DIGEST_SETTLE = timedelta(minutes=10)


def transitioned(
    reg: Registration, from_status: S | None, to_status: S, reason: str, action: str = ""
) -> None:
    """Queue the mails that the move from `from_status` to `to_status` calls for.

    `action` is the audit action of the move: it tells a promotion from the waiting list
    ("registration.promoted") from a manager approving a waitlisted application.
    """
    if reg.id is None:
        db.session.flush()  # the links in the mail need the registration's id
    template, subject = _applicant_mail(from_status, to_status, action)
    if reg.user.erased_at is None:
        _queue(reg.user, lambda: subject(reg.event), template, registration=reg,
               event=reg.event, reason=reason, decided=from_status not in (None, S.WITHDRAWN),
               was_approved=from_status == S.APPROVED,
               invitation=_invitation_method(reg, from_status, to_status))
    # A reopened decision is no news to its deciders: one of them put it back.
    if to_status == S.SUBMITTED and from_status in (None, S.WITHDRAWN):
        for manager in deciders(reg):
            if manager.application_alerts == AlertFrequency.IMMEDIATE:
                _queue(manager, lambda: _subject_to_decide(reg), "registration_to_decide",
                       registration=reg, event=reg.event)


def _applicant_mail(
    from_status: S | None, to_status: S, action: str
) -> tuple[str, Callable[[Event], str]]:
    """The template and the subject (a function of the event, called in the recipient's
    language) of the applicant's mail for this move."""
    on_arrival = from_status in (None, S.WITHDRAWN)  # an (instant) application's outcome
    if to_status == S.SUBMITTED and not on_arrival:
        return "registration_reopened", lambda e: _(
            "Your application is being reconsidered: %(event)s", event=_title(e))
    if to_status == S.SUBMITTED:
        return "registration_received", lambda e: _("Application received: %(event)s",
                                                     event=_title(e))
    if to_status == S.APPROVED and action == PROMOTED:
        return "registration_promoted", lambda e: _("A seat opened up, you're in: %(event)s",
                                                    event=_title(e))
    if to_status == S.APPROVED and on_arrival:
        return "registration_confirmed", lambda e: _("You're registered: %(event)s",
                                                     event=_title(e))
    if to_status == S.APPROVED:
        return "registration_approved", lambda e: _("Your application is approved: %(event)s",
                                                     event=_title(e))
    if to_status == S.WAITLISTED:
        return "registration_waitlisted", lambda e: _(
            "You're on the waiting list: %(event)s", event=_title(e))
    if to_status == S.REJECTED:
        return "registration_rejected", lambda e: _(
            "Your application was not accepted: %(event)s", event=_title(e))
    if to_status == S.CANCELLED:
        return "registration_cancelled", lambda e: _(
            "Your registration was cancelled: %(event)s", event=_title(e))
    if to_status == S.WITHDRAWN:
        return "registration_withdrawn", lambda e: _(
            "You have withdrawn your application: %(event)s", event=_title(e))
    raise ValueError(f"no mail for a move to {to_status}")


def _invitation_method(reg: Registration, from_status: S | None, to_status: S) -> str:
    """The iTIP METHOD this move's mail carries, or "" for none."""
    if to_status == S.APPROVED:
        return "REQUEST"
    # Only an approved registration holds a live invitation: a withdrawn one that applied
    # again and is cancelled while submitted had its CANCEL when it was withdrawn.
    if (to_status in (S.WITHDRAWN, S.CANCELLED, S.SUBMITTED) and from_status == S.APPROVED
            and reg.calendar_uid is not None):
        return "CANCEL"
    return ""


def _next_sequence(reg: Registration) -> int:
    """Record on `reg` the UID and SEQUENCE of its next invitation; return the SEQUENCE.

    The first one gets SEQUENCE 0; every later one (update or cancellation) the next
    number, since clients ignore a message whose SEQUENCE is not above the one they hold.
    """
    first = reg.calendar_uid is None
    if first:
        # Kept on the registration: every later update and cancellation must match it,
        # even if the way event UIDs are formed changes meanwhile.
        reg.calendar_uid = calendar.invitation_uid(reg)
    reg.calendar_sequence = 0 if first else reg.calendar_sequence + 1
    return reg.calendar_sequence


def _next_invitation(reg: Registration, method: str) -> str:
    """The invitation file for `reg`, recording the UID and SEQUENCE it carries."""
    return calendar.invitation(reg, method, sequence=_next_sequence(reg))


# What an invitation shows of an event: a change to one of these re-sends it.
INVITATION_FIELDS = frozenset({"starts_at", "ends_at", "timezone", "venue", "target_city",
                               "target_country"})


def event_moved(event: Event) -> int:
    """The event's time or place changed: send each approved registrant who holds an
    invitation its update (same UID, next SEQUENCE); return how many. Call it in the
    transaction that made the change, after flushing it."""
    holders = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == S.APPROVED,
               Registration.calendar_uid.is_not(None))
        .order_by(Registration.id)
    ).all()
    sent = 0
    for reg in holders:
        if reg.user.erased_at is not None:
            continue
        _queue(reg.user, lambda: _("Changed time or place: %(event)s", event=_title(event)),
               "registration_event_moved", registration=reg, event=event,
               invitation="REQUEST")
        sent += 1
    return sent


def recording_published(event: Event) -> int:
    """The event's recording is online: tell each approved registrant, once per event,
    with thanks for coming or sorry for missing them; return how many were told. Call it
    in the transaction that set the recording."""
    now = utcnow()
    # Claimed on the event's row: two saves at once (two organizers) mail it once.
    claimed = db.session.execute(
        update(Event).where(Event.id == event.id, Event.recording_mailed_at.is_(None))
        .values(recording_mailed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return 0
    attended = set(db.session.scalars(
        select(Attendance.registration_id).join(Registration)
        .where(Registration.event_id == event.id)))
    registrants = db.session.scalars(
        select(Registration).join(Registration.user)
        .where(Registration.event_id == event.id, Registration.status == S.APPROVED,
               User.erased_at.is_(None), User.active.is_(True))
        .options(joinedload(Registration.user)).order_by(Registration.id)
    ).all()
    for reg in registrants:
        if reg.id in attended:
            _queue(reg.user, lambda: _("Thank you for joining: the recording of %(event)s",
                                       event=_title(event)),
                   "recording_thanks", registration=reg, event=event)
        else:
            _queue(reg.user, lambda: _("Sorry we missed you: the recording of %(event)s",
                                       event=_title(event)),
                   "recording_missed", registration=reg, event=event)
    return len(registrants)


def _subject_to_decide(reg: Registration) -> str:
    return _("New application to decide: %(name)s for %(event)s",
             name=reg.user.name, event=_title(reg.event))


def _queue(recipient: User, subject: Callable[[], str], template: str, *, event: Event,
           invitation: str = "", **context) -> None:
    # Subject, bodies and the invitation in the recipient's language (the event's main
    # language while theirs is not known), times in their zone as well. The bodies and
    # the invitation are rendered at delivery: these mails are written while the event's
    # row is locked (an application's seat count, a decision), and rendering them there
    # would keep every other applicant waiting. The UID and SEQUENCE the invitation
    # carries are taken now, in the transaction.
    ics = (notifications.Later("invitation", registration=context["registration"],
                               method=invitation,
                               sequence=_next_sequence(context["registration"]))
           if invitation else "")
    notifications.queue(recipient, subject, template, event=event,
                        recipient_zone=recipient_zone(recipient, event), calendar=ics,
                        calendar_method=invitation, later=True, **context)


def _title(event: Event) -> str:
    """The event's title in the language the mail is being written in."""
    return notifications.event_title(event)


@notifications.builds("invitation")
def _invitation(registration: Registration, method: str, sequence: int) -> str:
    return calendar.invitation(registration, method, sequence=sequence)


def next_invitation(reg: Registration, method: str) -> str:
    """The registrant's next invitation file (see `_next_invitation`), for other mails
    that carry one."""
    return _next_invitation(reg, method)


def recipient_zone(user: User, event: Event | None = None) -> str:
    """The zone the user's mail shows times in: their own. While it is not known (their
    browser has not said it yet, or the account was erased), the zone of the event the
    mail is about, whose times the mail then shows once, in the event's own zone; UTC
    for mail about no one event."""
    return known_zone(user.timezone, event.timezone if event is not None else "UTC")


def _managers_of(partner_ids) -> list[User]:
    if not partner_ids:
        return []
    return db.session.scalars(
        select(User)
        .where(User.id.in_(select(RoleGrant.user_id).where(
            RoleGrant.role == Role.PARTNER_MANAGER, RoleGrant.partner_id.in_(partner_ids))))
        .where(User.active.is_(True), User.erased_at.is_(None))
        .order_by(User.id)
    ).all()


def deciders(reg: Registration) -> list[User]:
    """The managers alerted to decide `reg`: those of the partners that answer for it
    (`access.answering_partner_ids`). The applicant is never told of their own
    application."""
    return [m for m in _managers_of(access.answering_partner_ids(reg)) if m.id != reg.user_id]


# --------------------------------------------------------------------------- daily digest


def start_digests(user: User, now: datetime | None = None) -> None:
    """A manager switched to the daily digest: it covers applications from now on (the
    earlier ones were alerted one by one), the first one tomorrow. The caller's unit
    commits it."""
    user.digest_sent_at = (now or utcnow()) - DIGEST_SETTLE


def digest_due(user: User, now: datetime) -> bool:
    """Once a day, at the first tick after DIGEST_HOUR in the manager's own zone (UTC
    while it is not known: the digest spans many events, so no event's zone is theirs,
    and UTC is the zone their pages name until their browser says otherwise)."""
    zone = ZoneInfo(recipient_zone(user))
    local_now = now.astimezone(zone)
    if local_now.hour < current_app.config["DIGEST_HOUR"]:
        return False
    if user.digest_sent_at is None:
        return True
    # digest_sent_at is the cut of the last digest, sent DIGEST_SETTLE after it.
    last_sent = (user.digest_sent_at + DIGEST_SETTLE).astimezone(zone)
    return last_sent.date() < local_now.date()


def _digest_managers() -> list[int]:
    return db.session.scalars(
        select(User.id)
        .where(User.id.in_(select(RoleGrant.user_id).where(
            RoleGrant.role == Role.PARTNER_MANAGER)))
        .where(User.application_alerts == AlertFrequency.DAILY,
               User.active.is_(True), User.erased_at.is_(None))
        .order_by(User.id)
    ).all()


def _to_decide(user: User, since: datetime | None, until: datetime) -> list[Registration]:
    """The applications still waiting for `user`'s partners, made in (since, until]: the
    ones they answer for, as alerted one by one (`deciders`)."""
    query = (
        access.decidable_registrations(user, responsible=True)
        .join(Registration.event)
        .where(
            Registration.status == S.SUBMITTED,
            Registration.user_id != user.id,
            Registration.applied_at <= until,
        )
        .order_by(Event.starts_at, Event.id, Registration.applied_at, Registration.id)
    )
    if since is not None:
        query = query.where(Registration.applied_at > since)
    return db.session.scalars(query).all()


def queue_due_digests(now: datetime | None = None) -> int:
    """Queue today's digest for each manager whose time has come; return how many.

    Idempotent and safe to run in parallel: in the caller's unit of work (`flask tick`)
    each manager's row is locked before their digest is cut, and the unit commits the
    moved `digest_sent_at` with the queued mail, so a second run (or a concurrent one)
    finds it not due any more. A manager with nothing new gets no mail, but the day
    still counts as done.
    """
    now = now or utcnow()
    # SQLite: the write lock before the reads the cuts depend on (PostgreSQL: the rows').
    write_step()
    queued = 0
    for user_id in _digest_managers():
        user = db.session.scalars(
            select(User).where(User.id == user_id).with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if not digest_due(user, now):
            continue
        cut = now - DIGEST_SETTLE
        applications = _to_decide(user, user.digest_sent_at, cut)
        user.digest_sent_at = cut
        if applications:
            notifications.queue(user, _digest_subject(len(applications)),
                                "registration_digest", registrations=applications,
                                recipient_zone=recipient_zone(user))
            queued += 1
    return queued


def _digest_subject(count: int) -> Callable[[], str]:
    """The digest's subject, written in its reader's language when the mail is."""
    return lambda: ngettext("%(num)d new application to decide",
                            "%(num)d new applications to decide", count)

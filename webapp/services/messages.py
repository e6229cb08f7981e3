"""Messages to an event's approved delegation.

Organizers write to the whole delegation or to one partner's delegates; a partner
manager writes to one of their own clusters' delegates (`access.delegates_served_by`
decides who that is, so a tampered partner id reaches nobody and is refused). The
message, who it went to, one outbox mail per recipient and the audit entry are written
in the caller's unit of work: a message is in the log exactly when its mails are on
their way, which leave after its commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..models import DelegationMessage, Event, MessageRecipient, Partner, Registration, User
from ..unit import write_step
from . import audit, notifications
from .errors import DomainError

SENT = "delegation.message_sent"


class MessageRefused(DomainError):
    """A message that cannot go out as asked (the audience out of the sender's scope, or
    without anyone in it)."""


def send(sender: User, event: Event, *, partner_id: int | None, subject: str,
         body: str) -> DelegationMessage:
    """Write to the approved delegates of `event` (`partner_id` None: all of them, for
    organizers only); the caller commits, and the mails leave after the commit. The
    subject and body are as their model (webapp/inputs/delegation.py) accepted them."""
    event_id = event.id
    # The recipients are read and the message written in one write transaction, so a
    # delegate approved meanwhile is either in the list and mailed, or in neither.
    write_step()
    event = db.session.get(Event, event_id)
    recipients = _audience(sender, event, partner_id)
    message = DelegationMessage(event=event, sender=sender, partner_id=partner_id,
                                subject=subject, body=body)
    db.session.add(message)
    for reg in recipients:
        message.recipients.append(MessageRecipient(registration=reg))
        if reg.user.erased_at is None:
            _queue_mail(reg, message)
    entry = audit.record(sender, SENT, message, event_id=event.id)
    entry.details = {"partner_id": partner_id, "recipients": len(recipients)}
    return message


def _audience(sender: User, event: Event, partner_id: int | None) -> list[Registration]:
    if partner_id is None and not access.organizes(sender, event):
        raise MessageRefused("message.organizers_only")
    query = access.delegates_served_by(sender, event)
    if partner_id is not None:
        query = query.where(Registration.responsible_partner_id == partner_id)
    recipients = db.session.scalars(
        query.options(joinedload(Registration.user)).order_by(Registration.id)
    ).all()
    if not recipients:
        # Out of scope and empty look alike on purpose: neither says who else is there.
        raise MessageRefused("message.no_recipients")
    return recipients


def _queue_mail(reg: Registration, message: DelegationMessage) -> None:
    event = message.event
    # The sender's own words stay as written; the event's title is the reader's.
    notifications.queue(
        reg.user, lambda: f"[{notifications.event_title(event)}] {message.subject}",
        "delegation_message", message=message, event=event, registration=reg,
        sender_name=message.sender.name if message.sender else "",
    )


def audience_partners(user: Any, event: Event) -> list[tuple[int, str]]:
    """The partners `user` may address on their own: those responsible for delegates the
    user can reach, as (id, name), by name."""
    reachable = access.delegates_served_by(user, event).with_only_columns(
        Registration.responsible_partner_id)
    rows = db.session.execute(
        select(Partner.id, Partner.name).where(Partner.id.in_(reachable)).order_by(Partner.name)
    ).all()
    return [(pid, name) for pid, name in rows]


def log_for(user: Any, event: Event) -> list[tuple[DelegationMessage, int]]:
    """The event's messages `user` may read, newest first, each with its number of
    recipients: organizers see all of them; a partner manager those to the whole
    delegation, to their own clusters, and their own."""
    count = (
        select(func.count()).select_from(MessageRecipient)
        .where(MessageRecipient.message_id == DelegationMessage.id)
        .correlate(DelegationMessage).scalar_subquery()
    )
    query = (
        access.delegation_messages_visible_to(user, event)
        .add_columns(count)
        .options(joinedload(DelegationMessage.sender), joinedload(DelegationMessage.partner))
        .order_by(DelegationMessage.created_at.desc(), DelegationMessage.id.desc())
    )
    return [(message, n) for message, n in db.session.execute(query).all()]


def received_by(registration: Registration) -> list[DelegationMessage]:
    """The messages sent to this registration, newest first (its holder's page)."""
    return db.session.scalars(
        select(DelegationMessage)
        .join(MessageRecipient)
        .where(MessageRecipient.registration_id == registration.id)
        .options(joinedload(DelegationMessage.sender))
        .order_by(DelegationMessage.created_at.desc(), DelegationMessage.id.desc())
    ).all()

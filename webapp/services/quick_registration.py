"""Quick registration for public webinars: a visitor gives their name, email address,
organization and country, and confirms by the link mailed to that address.

A public webinar is a published webinar that needs no approval and asks no required
question: anyone may take a seat, so nothing has to be reviewed or answered first.

Nothing is written when the visitor sends the form but the mail (and the throttle's
count): everything they typed travels, signed, in the link (services.tokens), so an
address that never confirms leaves no account behind. Using the link (POST, from the
page it opens) proves the address; in one transaction it creates a light account
(verified, no password: it can set one later, or reset it like any other), a new
organization for it, and the registration, approved through the state machine, which
writes the audit entry and queues the usual confirmation with the invitation and the
personal join link.

Like sign-up, the form never tells whether an address has an account: the owner of a
taken address is mailed an invitation to sign in and register instead. The link itself
is only in its owner's mailbox, so its page may say plainly that the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import languages, localtime
from ..extensions import db
from ..inputs.quick_registration import QuickRegistrationIn
from ..models import Event, EventKind, Registration, User, normalize_email, utcnow
from . import accounts, applications, audit, notifications, organizations, registrations, tokens
from .errors import DomainError, NoSeat, RegistrationClosed

PURPOSE = "quick-registration"


class NotOffered(DomainError):
    """The event takes applications from accounts only."""


class AccountExists(DomainError):
    """The address already has an account: its owner signs in and registers."""


@dataclass(frozen=True)
class QuickRequest:
    """What a visitor asked for, as their link carries it."""

    event: Event
    name: str
    email: str
    organization: str
    country: str
    timezone: str | None  # None: as the person's browser will say
    privacy_version: str

    def payload(self) -> dict[str, Any]:
        return {"event": self.event.id, "name": self.name, "email": self.email,
                "organization": self.organization, "country": self.country,
                "timezone": self.timezone, "privacy": self.privacy_version}


def offered(event: Event) -> bool:
    """Whether `event` is a public webinar, which visitors may register for quickly."""
    return (event.kind == EventKind.WEBINAR and not event.requires_approval
            and not any(q.required for q in event.questions))


def refusal(event: Event, now: datetime | None = None) -> DomainError | None:
    """Why a visitor cannot register for `event` quickly now, or None."""
    if not offered(event):
        return NotOffered("registration.members_only")
    reason = applications.closed_reason(event, now)
    if reason:
        return RegistrationClosed(reason)
    if registrations.seats_left(event) == 0:
        return NoSeat("seat.capacity_reached", capacity=event.capacity)
    return None


def _max_age() -> int:
    return current_app.config["VERIFY_EMAIL_MAX_AGE"]


def request(event: Event, asked: QuickRegistrationIn, *, privacy_version: str) -> None:
    """Mail the link that confirms a quick registration, or, when the address has an
    account, an invitation to sign in and register. The mail goes with the unit's
    commit."""
    problem = refusal(event)
    if problem is not None:
        raise problem
    existing = accounts.find_by_email(asked.email)
    if existing is not None:
        if existing.is_active:
            notifications.queue(existing, lambda: _("You already have an account: %(event)s",
                                            event=event.title),
                                "quick_registration_account_exists", event=event)
        return
    wanted = QuickRequest(event, asked.name, normalize_email(asked.email), asked.organization,
                          asked.country, asked.timezone, privacy_version)
    token = tokens.make(PURPOSE, wanted.payload())
    notifications.queue(wanted.email, lambda: _("Confirm your registration: %(event)s",
                                        event=event.title),
                        "quick_registration_confirm", event=event, name=wanted.name,
                        token=token, their_time=localtime.viewer_span(
                            event.starts_at, event.ends_at, event.timezone, wanted.timezone))


def _from_payload(payload: Any) -> QuickRequest:
    fields = ("name", "email", "organization", "country", "privacy")
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), int) or not all(
            isinstance(payload.get(f), str) for f in fields) or not isinstance(
            payload.get("timezone"), str | None):
        raise tokens.TokenInvalid("link.invalid")
    event = db.session.get(Event, payload["event"])
    if event is None:
        raise tokens.TokenInvalid("link.event_gone")
    return QuickRequest(event, payload["name"], payload["email"], payload["organization"],
                        payload["country"], payload["timezone"], payload["privacy"])


def pending(token: str) -> QuickRequest:
    """The request a confirmation link carries, without using it up (for its page)."""
    return _from_payload(tokens.read(PURPOSE, token, _max_age()))


def check(wanted: QuickRequest) -> None:
    """Raise what confirming `wanted` now would be refused for (taken address, closed or
    full event)."""
    if accounts.find_by_email(wanted.email) is not None:
        raise AccountExists("account.exists_sign_in")
    problem = refusal(wanted.event)
    if problem is not None:
        raise problem


def confirmed_registration(token: str) -> Registration | None:
    """The registration an already used link made, if it still stands (a second press
    of the button, the back button): its signature is checked, its age is not."""
    wanted = _from_payload(tokens.verify(PURPOSE, token))
    return db.session.scalar(
        select(Registration).join(Registration.user)
        .where(Registration.event_id == wanted.event.id, User.email == wanted.email))


def confirm(token: str) -> Registration:
    """Use a confirmation link: the light account, its organization and the approved
    registration, in the unit's write step, under the event's lock."""
    wanted = pending(token)
    check(wanted)
    event_id = wanted.event.id

    def create_account(event: Event) -> User:
        # Under the event's lock: checked again, since the page was only a look.
        tokens.consume(PURPOSE, token, _max_age())
        check(wanted)
        return _light_account(wanted)

    return registrations.register_newcomer(event_id, create_account)


def _light_account(wanted: QuickRequest) -> User:
    now = utcnow()
    user = User(email=wanted.email, name=wanted.name, password_hash=None,
                timezone=wanted.timezone, browser_locale=languages.of_browser(),
                email_verified_at=now,
                privacy_version=wanted.privacy_version, privacy_accepted_at=now)
    db.session.add(user)
    audit.record(user, "user.signed_up", user,
                 changes={"privacy_version": [None, wanted.privacy_version],
                          "quick_registration": [None, wanted.event.slug]})
    audit.record(user, "user.email_verified", user)
    # A new record, never an existing one of the same name: nobody attaches themselves to
    # a company unasked. Its size is not asked; reviewers merge duplicates.
    user.organization = organizations.create(
        user, name=wanted.organization, country=wanted.country, size=None)
    return user

"""A member's side of applying: may they apply, the application with its company profile,
editing the answers, withdrawing.

The registration service owns the state machine. The applicant's input arrives validated
in its shape (webapp/inputs/applications.py); this module checks it against the event
(its questions through `questions.clean_answers`, a mission's consent) and every other
refusal it can before anything is written, so a refused application changes nothing, not
even the company profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import access
from ..extensions import db
from ..models import Event, EventStatus, Registration, RegistrationStatus, User, utcnow
from ..unit import write_step
from . import organizations, questions, registrations
from .errors import AlreadyRegistered, RegistrationClosed, RegistrationRefused

# The company profile fields an applicant may correct while applying.
PROFILE_FIELDS = ("name", "sector", "website", "profile")

class ConsentNeeded(RegistrationRefused):
    """A mission shares the company profile with its hosts: the applicant must agree."""

    default_code = "registration.consent_needed"


def consent_problem(event: Event, profile_consent: bool) -> str | None:
    """Why the consents do not do for `event` (a mission needs the profile's), or None."""
    if event.kind.is_mission and not profile_consent:
        return ConsentNeeded().message
    return None


def own_registration(user: User, event: Event) -> Registration | None:
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.user_id == user.id))


def closed_reason(event: Event, now: datetime | None = None) -> str | None:
    """Why nobody can apply to `event` now (the code of a RegistrationClosed), or None
    while its registration is open."""
    now = now or utcnow()
    if event.status == EventStatus.DRAFT:
        return "event.not_published"
    if event.status == EventStatus.CANCELLED:
        return "event.cancelled"
    if now >= event.ends_at:
        return "event.taken_place"
    if event.status == EventStatus.CLOSED or (
            event.registration_closes_at and now >= event.registration_closes_at):
        return "registration.closed"
    if event.registration_opens_at and now < event.registration_opens_at:
        return "registration.not_open_yet"
    if not event.registration_is_open(now):
        return "registration.not_open"
    return None


def refusal(user: User, event: Event, now: datetime | None = None) -> RegistrationRefused | None:
    """The error applying would raise for `user` now, or None when they may apply."""
    if not user.is_verified:
        return RegistrationRefused("registration.email_unconfirmed")
    reason = closed_reason(event, now)
    if reason:
        return RegistrationClosed(reason)
    existing = own_registration(user, event)
    if existing is not None and existing.status != RegistrationStatus.WITHDRAWN:
        return AlreadyRegistered("registration.already_applied_status",
                                 status=existing.status)
    return None


def may_edit_profile(user: User) -> bool:
    organization = user.organization
    return organization is not None and access.can(user, "organization.edit", organization)


def submit(
    user: User,
    event: Event,
    *,
    answers: Mapping[int, Any],
    profile: Mapping[str, str] | None = None,
    profile_consent: bool = False,
    contact_consent: bool = False,
) -> Registration:
    """Apply `user` to `event` (or apply again after withdrawing).

    `profile` holds corrections to the company profile; it is saved first, so the
    application and the mail about it show the corrected profile, and only when the
    policy lets the user edit their organization (otherwise it is ignored). Everything
    is checked before the profile is saved; a refusal the registration service finds
    later (the event closed in between) fails the unit of work, the correction with it:
    the applicant sees the form again with what they typed."""
    problem = refusal(user, event)
    if problem is not None:
        raise problem
    clean = questions.clean_answers(event, answers)
    if consent_problem(event, profile_consent):
        raise ConsentNeeded()
    if profile is not None and may_edit_profile(user):
        values = {name: (profile.get(name) or "").strip() for name in PROFILE_FIELDS}
        if not values["name"]:
            raise RegistrationRefused("organization.name_needed")
        # The write step before the profile is written (a writing unit is in it already;
        # on SQLite a read transaction could not be upgraded once another applicant
        # has committed).
        write_step()
        organizations.update_profile(user, user.organization, values)
    return registrations.apply(
        user, event.id, answers=clean, profile_consent=profile_consent,
        contact_consent=contact_consent, actor=user,
    )


def update_answers(user: User, registration: Registration,
                   answers: Mapping[int, Any]) -> Registration:
    """Change the answers of an undecided application; a cleared optional answer is
    cleared, not kept."""
    clean = questions.clean_answers(registration.event, answers, keep_empty=True)
    return registrations.update_answers(registration.id, clean, actor=user)


def can_withdraw(registration: Registration, now: datetime | None = None) -> bool:
    return (registrations.can_transition(registration.status, RegistrationStatus.WITHDRAWN)
            and (now or utcnow()) < registration.event.starts_at)


def withdraw(user: User, registration: Registration, reason: str = "") -> Registration:
    """Withdraw, up to the start of the event (the registration service refuses later)."""
    return registrations.withdraw(registration.id, actor=user, reason=reason)

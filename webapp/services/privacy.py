"""A person's rights over their data: a copy of it (export) and its erasure.

Export returns what the platform holds about one person and nothing about anyone else:
where another person acted on their records (a manager deciding an application), the
entry says "someone else" instead of naming them.

Erasure keeps the account row, anonymized, so registrations, decisions and cluster
statistics still add up: the name, email, phone, password, messages and free texts go;
registrations to events that have not started are withdrawn first, through the
registration state machine, so organizers see the seat freed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from werkzeug.security import check_password_hash

from .. import access
from ..extensions import db
from ..models import (
    ApiToken,
    AuditEntry,
    Event,
    MembershipRequest,
    MembershipStatus,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    ThrottleHit,
    User,
    utcnow,
)
from . import audit, registrations, surveys
from . import messages as delegation_messages
from .errors import DomainError

EXPORT_FORMAT = "beachhead-personal-data/1"
ERASED_NAME = "Deleted user"
ERASED_TEXT = "[erased]"
# Short names ("Al", "Li") also occur inside ordinary words; only longer ones are
# replaced in texts written about the person by others.
_MIN_NAME_LENGTH = 5
_WITHDRAWABLE = (RegistrationStatus.SUBMITTED, RegistrationStatus.WAITLISTED,
                 RegistrationStatus.APPROVED)


class ErasureRefused(DomainError):
    pass


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def erased_email(user: User) -> str:
    """Unique and lower-case like every email, and undeliverable (RFC 6761 `.invalid`)."""
    return f"deleted-{user.id}@invalid.invalid"


# --------------------------------------------------------------------------- export


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _actor_label(entry: AuditEntry, user: User) -> str:
    if entry.actor_id is None:
        return "the system"
    return "you" if entry.actor_id == user.id else "someone else"


def _history_item(entry: AuditEntry, user: User) -> dict[str, Any]:
    return {
        "at": _when(entry.created_at),
        "action": entry.action,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "reason": entry.reason,
        "by": _actor_label(entry, user),
    }


def export(user: User) -> dict[str, Any]:
    """Everything the platform holds about `user`, as JSON-ready data."""
    organization = user.organization
    regs = db.session.scalars(
        select(Registration).join(Registration.event)
        .where(Registration.user_id == user.id).order_by(Event.starts_at)
    ).all()
    reg_ids = {reg.id for reg in regs}
    requests = db.session.scalars(
        select(MembershipRequest).where(MembershipRequest.user_id == user.id)
        .order_by(MembershipRequest.id)
    ).all()
    request_ids = {r.id for r in requests}
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(or_(OutboxMessage.user_id == user.id, OutboxMessage.to_address == user.email))
        .order_by(OutboxMessage.id)
    ).all()
    about_account = db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "user",
                                 AuditEntry.subject_id == user.id).order_by(AuditEntry.id)
    ).all()
    made = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    ).all()

    def own(entry: AuditEntry) -> bool:
        return (
            entry.registration_id in reg_ids
            or (entry.subject_type == "user" and entry.subject_id == user.id)
            or (entry.subject_type == "membershiprequest" and entry.subject_id in request_ids)
        )

    def activity(entry: AuditEntry) -> dict[str, Any]:
        item = {
            "at": _when(entry.created_at),
            "action": entry.action,
            "subject_type": entry.subject_type,
            "subject_id": entry.subject_id,
            "event_id": entry.event_id,
        }
        # Notes on other people's records are about them; only their shape is listed.
        if own(entry):
            item.update(registration_id=entry.registration_id,
                        from_status=entry.from_status, to_status=entry.to_status,
                        reason=entry.reason, details=entry.details)
        elif entry.subject_type == "organization":
            item["changes"] = (entry.details or {}).get("changes", {})
        return item

    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "phone": user.phone,
            "timezone": user.timezone,
            "language": user.locale,
            "active": user.active,
            "email_verified_at": _when(user.email_verified_at),
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "consents": [
            {"document": "privacy notice", "version": user.privacy_version,
             "accepted_at": _when(user.privacy_accepted_at)}
        ] if user.privacy_version else [],
        "roles": [
            {"role": g.role.value, "partner": g.partner.name if g.partner else None}
            for g in user.grants
        ],
        # Never their secrets: only the digests are kept, and those are not exported.
        "api_tokens": [
            {"name": t.name, "read_only": t.read_only,
             "expires_on": t.expires_on.isoformat() if t.expires_on else None,
             "created_at": _when(t.created_at), "last_used_at": _when(t.last_used_at),
             "revoked_at": _when(t.revoked_at)}
            for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                        .order_by(ApiToken.id))
        ],
        "organization": None if organization is None else {
            "id": organization.id,
            "name": organization.name,
            "country": organization.country,
            "city": organization.city,
            "sector": organization.sector,
            "size": organization.size.value if organization.size else None,
            "helix": organization.helix.value,
            "website": organization.website,
            "profile": organization.profile,
            "home_cluster": organization.home_cluster.name if organization.home_cluster else None,
        },
        "registrations": [
            {
                "id": reg.id,
                "event": {"title": reg.event.title, "slug": reg.event.slug,
                          "starts_at": _when(reg.event.starts_at),
                          "ends_at": _when(reg.event.ends_at),
                          "timezone": reg.event.timezone},
                "status": reg.status.value,
                "role": reg.role.value,
                "applied_at": _when(reg.applied_at),
                "consents": {
                    "company_profile_to_hosts": {"version": reg.profile_consent_version,
                                                 "at": _when(reg.profile_consent_at)},
                    "contact_details_to_hosts": {"version": reg.contact_consent_version,
                                                 "at": _when(reg.contact_consent_at)},
                },
                "answers": [{"question": a.question.label, "answer": a.value}
                            for a in reg.answers],
                # What the organizers wrote to the delegation; who wrote it is theirs.
                "messages_received": [
                    {"subject": m.subject, "body": m.body, "sent_at": _when(m.created_at)}
                    for m in delegation_messages.received_by(reg)
                ],
                "decided_at": _when(reg.decided_at),
                "responsible_partner": (reg.responsible_partner.name
                                        if reg.responsible_partner else None),
                "history": [_history_item(e, user) for e in reg.history],
                "survey_answers": [
                    {"round": a.invitation.round.value, "answered_at": _when(a.answered_at),
                     "satisfaction": a.satisfaction, "b2b_meetings": a.b2b_meetings,
                     "leads": a.leads,
                     "agreements_in_negotiation": a.agreements_in_negotiation,
                     "agreements_signed": a.agreements_signed,
                     "agreement_parties": a.agreement_parties, "outcome": a.outcome,
                     "comment": a.comment}
                    for a in surveys.answers_of(reg)
                ],
            }
            for reg in regs
        ],
        "membership_requests": [
            {
                "organization": r.organization.name,
                "status": r.status.value,
                "message": r.message,
                "created_at": _when(r.created_at),
                "decided_at": _when(r.decided_at),
            }
            for r in requests
        ],
        "account_history": [_history_item(e, user) | {"details": e.details}
                            for e in about_account],
        "messages": [
            {
                "created_at": _when(m.created_at),
                "to": m.to_address,
                "subject": m.subject,
                "body": m.body_text,
                "status": m.status.value,
                "sent_at": _when(m.sent_at),
            }
            for m in messages
        ],
        "activity": [activity(e) for e in made],
    }


# --------------------------------------------------------------------------- erasure


class _Identity:
    """The strings that identify the person, and how to cut them out of others' texts."""

    def __init__(self, user: User) -> None:
        self.email = user.email
        self.name = user.name.strip()
        self.phone = user.phone.strip()
        patterns = [re.escape(self.email)]
        if len(self.name) >= _MIN_NAME_LENGTH:
            patterns.append(rf"(?<!\w){re.escape(self.name)}(?!\w)")
        if sum(c.isdigit() for c in self.phone) >= 5:
            patterns.append(re.escape(self.phone))
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE)

    @property
    def needles(self) -> list[str]:
        return [s for s in (self.email, self.name, self.phone) if s]

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._pattern.sub(ERASED_TEXT, value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


def upcoming_statuses(user: User) -> list[RegistrationStatus]:
    """The status of each application that erasing `user` withdraws (open, to an event
    that has not started): what the confirmation counts."""
    return list(db.session.scalars(_upcoming(user).with_only_columns(Registration.status)))


def _upcoming(user: User):
    return select(Registration.id).join(Registration.event).where(
        Registration.user_id == user.id,
        Registration.status.in_(_WITHDRAWABLE),
        Event.starts_at > utcnow(),
    )


def _withdraw_upcoming(user: User) -> int:
    upcoming = db.session.scalars(_upcoming(user)).all()
    for registration_id in upcoming:
        registrations.withdraw(registration_id, actor=user, reason="")
    return len(upcoming)


def _is_last_admin(user: User) -> bool:
    if not access.is_admin(user):
        return False
    others = db.session.scalar(
        select(RoleGrant.id).join(RoleGrant.user).where(
            RoleGrant.role == Role.ADMIN, RoleGrant.user_id != user.id,
            User.erased_at.is_(None), User.active.is_(True),
        ).limit(1)
    )
    return others is None


def _scrub_outbox(user: User, identity: _Identity) -> None:
    mine = or_(OutboxMessage.user_id == user.id, OutboxMessage.to_address == identity.email)
    for message in db.session.scalars(select(OutboxMessage).where(mine)):
        if message.status == OutboxStatus.PENDING:
            # Nobody is left to receive it.
            db.session.delete(message)
            continue
        message.to_address = erased_email(user)
        message.subject = ERASED_TEXT
        message.body_text = ""
        message.body_html = ""
        message.last_error = ""
    mentions = or_(*[
        column.contains(needle, autoescape=True)
        for needle in identity.needles
        for column in (OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
                       OutboxMessage.last_error)
    ])
    for message in db.session.scalars(select(OutboxMessage).where(~mine, mentions)):
        message.subject = identity.scrub(message.subject)
        message.body_text = identity.scrub(message.body_text)
        message.body_html = identity.scrub(message.body_html)
        message.last_error = identity.scrub(message.last_error)


def _scrub_audit(user: User, identity: _Identity) -> None:
    reg_ids = select(Registration.id).where(Registration.user_id == user.id)
    request_ids = select(MembershipRequest.id).where(MembershipRequest.user_id == user.id)
    entries = db.session.scalars(select(AuditEntry).where(or_(
        AuditEntry.actor_id == user.id,
        AuditEntry.registration_id.in_(reg_ids),
        (AuditEntry.subject_type == "user") & (AuditEntry.subject_id == user.id),
        (AuditEntry.subject_type == "membershiprequest") & AuditEntry.subject_id.in_(request_ids),
    )))
    own_regs = set(db.session.scalars(reg_ids))
    for entry in entries:
        if entry.actor_id == user.id and entry.registration_id in own_regs:
            entry.reason = ""
        else:
            entry.reason = identity.scrub(entry.reason)
        if not entry.details:
            continue
        details = identity.scrub(entry.details)
        if entry.subject_type == "user" and entry.subject_id == user.id and "changes" in details:
            # Every value of a change to the account itself is personal (a former phone
            # number, a first name alone), not only the current identity strings.
            details["changes"] = {field: [ERASED_TEXT, ERASED_TEXT]
                                  for field in details["changes"]}
        entry.details = details


def _scrub_membership_requests(user: User, identity: _Identity) -> None:
    for request in db.session.scalars(
        select(MembershipRequest).where(MembershipRequest.user_id == user.id)
    ):
        if request.status == MembershipStatus.PENDING:
            # Nobody should be asked to accept an account that no longer exists.
            db.session.delete(request)
        else:
            request.message = ""
    # What others wrote when asking to join may name the person ("Søren sent me").
    mentions = or_(*[MembershipRequest.message.contains(needle, autoescape=True)
                     for needle in identity.needles])
    for request in db.session.scalars(
        select(MembershipRequest).where(MembershipRequest.user_id != user.id, mentions)
    ):
        request.message = identity.scrub(request.message)


def erase(user: User, *, actor: User | None = None) -> User:
    """Anonymize `user` (see the module's docstring). The account can never sign in again:
    no password, inactive, and its session version moves so open sessions end."""
    if user.erased_at is not None:
        raise ErasureRefused("erasure.already_deleted")
    if _is_last_admin(user):
        raise ErasureRefused("erasure.last_admin")
    _withdraw_upcoming(user)
    identity = _Identity(user)
    _scrub_outbox(user, identity)
    _scrub_audit(user, identity)
    _scrub_membership_requests(user, identity)
    surveys.forget_free_text(user)
    db.session.execute(
        ThrottleHit.__table__.delete().where(
            ThrottleHit.key.contains(identity.email, autoescape=True))
    )
    user.grants.clear()
    # Its API tokens go (their rate windows with them): none can act any more.
    db.session.execute(ApiToken.__table__.delete().where(ApiToken.user_id == user.id))
    user.name = ERASED_NAME
    user.email = erased_email(user)
    user.phone = ""
    user.password_hash = None
    user.timezone = None  # nothing said of where they were
    user.locale = None
    user.browser_locale = None
    user.last_login_at = None
    user.active = False
    user.erased_at = utcnow()
    user.session_version += 1
    # The organization link stays: organizations are not personal data, and the
    # cluster statistics count the registrations through it.
    audit.record(actor or user, "account.erased", user)
    return user

"""Invitations of the host region's stakeholders to an event's matchmaking.

The event's hosting beachhead (or its organizers) invites a person of the host region:
the invitation is mailed, in the language the host chose, with a one-time link
(services.tokens: signed, expiring, used up once; the row keeps only the nonce of its
latest link). Accepting the link, with the button of its page, registers the person:

- their account: a new one, with the password they chose and their email verified by
  the link itself, or the account that already has the address (the link proves its
  owner reads that mailbox, as a password reset link does);
- a new organization of the host region for a new account (no home cluster: the
  partnership's KPIs count nobody of it), named and placed as the invitation says;
- an approved registration with the host role, outside capacity and quotas, as the
  organizers register hosts (`registrations.register_directly`), so they get a badge;
- a matchmaking participant of the host-region stakeholder type, whose consent to be
  shown in the marketplace is still to be given on the marketplace's join page.

A forged, expired, replaced, revoked or used link is refused with a coded error, and
nothing is written. Everything here flushes into the caller's unit of work and writes
its audit entry there; nothing commits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..access import HOST_STAKEHOLDER
from ..extensions import db
from ..inputs.stakeholders import StakeholderInvitationIn
from ..models import (
    EventRole,
    EventStatus,
    Matchmaking,
    Participant,
    ParticipantType,
    Registration,
    RegistrationStatus,
    StakeholderInvitation,
    User,
    normalize_email,
    utcnow,
)
from . import (
    accounts,
    audit,
    matchmaking,
    matchmaking_settings,
    notifications,
    organizations,
    registrations,
    tokens,
)
from .errors import DomainError
from .fields import Refused
from .locking import lock_event

# The purpose of the signed links (a token made for another purpose never passes).
PURPOSE = "stakeholder-invitation"
# How long a link works once sent; sending it again starts a new one.
VALID_FOR = timedelta(days=14)


class InvitationRefused(DomainError):
    """An invitation that cannot be sent, sent again or revoked."""


class InvitationLinkRefused(DomainError):
    """An invitation link that cannot be used: forged, expired, replaced, revoked, used."""


# --------------------------------------------------------------------------- the host's side


def of_event(event_id: int) -> Select[tuple[StakeholderInvitation]]:
    """The event's invitations, newest first, each with whoever sent it and the account
    of whoever accepted it."""
    return (select(StakeholderInvitation)
            .where(StakeholderInvitation.event_id == event_id)
            .options(selectinload(StakeholderInvitation.invited_by),
                     selectinload(StakeholderInvitation.registration)
                     .selectinload(Registration.user))
            .order_by(StakeholderInvitation.created_at.desc(), StakeholderInvitation.id.desc()))


def invite(event_id: int, data: StakeholderInvitationIn, *,
           actor: User | None) -> StakeholderInvitation:
    """Invite a person of the host region to the event's matchmaking and mail them the
    link. Refused while the event's matchmaking is off, for a cancelled event, and while
    the address has an invitation to the event waiting for an answer."""
    event = lock_event(event_id)
    _check_open(event)
    email = normalize_email(data.email)
    now = utcnow()
    waiting = db.session.scalars(select(StakeholderInvitation).where(
        StakeholderInvitation.event_id == event_id, StakeholderInvitation.email == email,
        StakeholderInvitation.accepted_at.is_(None),
        StakeholderInvitation.revoked_at.is_(None),
        StakeholderInvitation.expires_at > now)).first()
    if waiting is not None:
        raise Refused("stakeholder_invitation.pending", "email", email=email)
    invitation = StakeholderInvitation(
        event=event, email=email, name=data.name, organization_name=data.organization,
        country=data.country, language=data.language, invited_by=actor, created_at=now)
    db.session.add(invitation)
    _mail_link(invitation)
    # Who was invited stays with the invitation only (cleared once an account holds it,
    # so erasing that account leaves nothing of them here).
    audit.record(actor, "stakeholder_invitation.sent", invitation, event_id=event_id,
                 changes={"organization": [None, data.organization],
                          "country": [None, data.country], "language": [None, data.language]})
    return invitation


def resend(invitation_id: int, *, actor: User | None) -> StakeholderInvitation:
    """Mail a new link (an expired invitation too); the earlier link no longer works."""
    invitation = _locked(invitation_id)
    _check_open(invitation.event)
    _check_waiting(invitation)
    audit.record(actor, "stakeholder_invitation.resent", invitation,
                 event_id=invitation.event_id)
    _mail_link(invitation)
    return invitation


def revoke(invitation_id: int, *, actor: User | None) -> StakeholderInvitation:
    """Withdraw an invitation not yet accepted: its link no longer works."""
    invitation = _locked(invitation_id)
    _check_waiting(invitation)
    invitation.revoked_at = utcnow()
    audit.record(actor, "stakeholder_invitation.revoked", invitation,
                 event_id=invitation.event_id,
                 changes={"revoked_at": [None, audit.plain(invitation.revoked_at)]})
    return invitation


def _locked(invitation_id: int) -> StakeholderInvitation:
    """The invitation read afresh under its event's lock."""
    event_id = db.session.scalar(select(StakeholderInvitation.event_id).where(
        StakeholderInvitation.id == invitation_id))
    lock_event(event_id)
    return db.session.get(StakeholderInvitation, invitation_id, populate_existing=True)


def _check_open(event) -> None:
    if event.status == EventStatus.CANCELLED:
        raise InvitationRefused("event.cancelled")
    matchmaking_settings.enabled(event.id)


def _check_waiting(invitation: StakeholderInvitation) -> None:
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationRefused("stakeholder_invitation.closed")


def _mail_link(invitation: StakeholderInvitation) -> None:
    """A new link, valid from now, mailed in the invitation's language."""
    now = utcnow()
    nonce = secrets.token_hex(16)
    invitation.token_nonce, invitation.sent_at = nonce, now
    invitation.expires_at = now + VALID_FOR
    db.session.flush()  # a new invitation's id, which its link names
    token = tokens.make(PURPOSE, {"invitation": invitation.id, "nonce": nonce})
    event = invitation.event
    notifications.queue(
        invitation.email,
        lambda: _("Invitation to meet the delegation at %(event)s",
                  event=notifications.event_title(event)),
        "stakeholder_invitation", language=invitation.language, invitation=invitation,
        event=event, token=token)


# --------------------------------------------------------------------------- the link


def invitation_for(token: str) -> StakeholderInvitation:
    """The invitation a link is for, without using it up (for its page); refused as the
    link's use would be."""
    return _check_link(token)


def existing_account(invitation: StakeholderInvitation) -> User | None:
    """The account that already has the invited address, if any."""
    return accounts.find_by_email(invitation.email)


def accept(token: str, *, password_hash: str | None,
           privacy_version: str) -> StakeholderInvitation:
    """Use the link: the account (made with `password_hash` when the address has none),
    its organization, the approved host registration and the matchmaking participant;
    the invitation, accepted, names the registration. The link is used up in this unit,
    so a failure later leaves it usable."""
    invitation = invitation_for(token)
    lock_event(invitation.event_id)
    payload = _consumed(token)
    invitation = db.session.get(StakeholderInvitation, invitation.id, populate_existing=True)
    invitation = _check_link(token, payload, invitation)
    user = existing_account(invitation)
    if user is None:
        if password_hash is None:
            raise InvitationLinkRefused("stakeholder_invitation.invalid")
        user = _new_account(invitation, password_hash, privacy_version)
    elif not user.is_active:
        raise InvitationLinkRefused("stakeholder_invitation.account_closed")
    elif user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record(user, "user.email_verified", user)
    reg = _host_registration(invitation, user)
    participant = _stakeholder_participant(reg)
    invitation.accepted_at, invitation.registration = utcnow(), reg
    # From now on the account says who they are (and forgets it when it is erased).
    invitation.email = invitation.name = ""
    audit.record(user, "stakeholder_invitation.accepted", invitation,
                 event_id=invitation.event_id,
                 changes={"registration_id": [None, reg.id],
                          "participant_id": [None, participant and participant.id]})
    return invitation


def _max_age() -> int:
    return int(VALID_FOR.total_seconds())


def _consumed(token: str) -> Any:
    """The link's payload, the link used up; a second use racing this one is refused by
    the used tokens' primary key."""
    try:
        return tokens.consume(PURPOSE, token, _max_age())
    except DomainError as error:
        raise _link_refusal(error) from None
    except IntegrityError:
        raise InvitationLinkRefused("stakeholder_invitation.used") from None


def _link_refusal(error: DomainError) -> InvitationLinkRefused:
    code = {"link.expired": "stakeholder_invitation.expired",
            "link.used": "stakeholder_invitation.used"}.get(error.code,
                                                            "stakeholder_invitation.invalid")
    return InvitationLinkRefused(code)


def _check_link(token: str, payload: Any = None,
                invitation: StakeholderInvitation | None = None) -> StakeholderInvitation:
    """The invitation a valid link is for; InvitationLinkRefused for any other link."""
    if payload is None:
        try:
            payload = tokens.read(PURPOSE, token, _max_age())
        except DomainError as error:
            raise _link_refusal(error) from None
    if (not isinstance(payload, dict) or not isinstance(payload.get("invitation"), int)
            or not isinstance(payload.get("nonce"), str)):
        raise InvitationLinkRefused("stakeholder_invitation.invalid")
    if invitation is None:
        invitation = db.session.get(StakeholderInvitation, payload["invitation"])
    if invitation is None:
        raise InvitationLinkRefused("stakeholder_invitation.invalid")
    if invitation.accepted_at is not None:
        raise InvitationLinkRefused("stakeholder_invitation.used")
    if invitation.revoked_at is not None:
        raise InvitationLinkRefused("stakeholder_invitation.revoked")
    if not secrets.compare_digest(invitation.token_nonce, payload["nonce"]):
        raise InvitationLinkRefused("stakeholder_invitation.replaced")
    if invitation.expires_at <= utcnow():
        raise InvitationLinkRefused("stakeholder_invitation.expired")
    if invitation.event.status == EventStatus.CANCELLED:
        raise InvitationLinkRefused("stakeholder_invitation.event_cancelled")
    return invitation


def _new_account(invitation: StakeholderInvitation, password_hash: str,
                 privacy_version: str) -> User:
    """The invited person's account, its address verified by the link, with a new
    organization of the host region (no home cluster)."""
    now = utcnow()
    user = User(email=invitation.email, name=invitation.name, password_hash=password_hash,
                email_verified_at=now, privacy_version=privacy_version,
                privacy_accepted_at=now, locale=invitation.language)
    db.session.add(user)
    audit.record(user, "user.signed_up", user,
                 changes={"privacy_version": [None, privacy_version]})
    user.organization = organizations.create(
        user, name=invitation.organization_name, country=invitation.country,
        home_cluster=None)
    return user


def _host_registration(invitation: StakeholderInvitation, user: User) -> Registration:
    """An approved host registration outside capacity; an approved registration the
    person already has is kept as it is."""
    reg = db.session.scalar(select(Registration).where(
        Registration.event_id == invitation.event_id, Registration.user_id == user.id))
    if reg is not None and reg.status == RegistrationStatus.APPROVED:
        return reg
    return registrations.register_directly(user, invitation.event_id, EventRole.HOST,
                                           actor=invitation.invited_by or user)


def _stakeholder_participant(reg: Registration) -> Participant | None:
    """The registration's participant in the event's matchmaking, of the host-region
    stakeholder type, its consent not given yet (None: the event has no such type)."""
    existing = matchmaking.participant_of(reg.id)
    if existing is not None:
        return existing
    kind = db.session.scalar(select(ParticipantType).join(ParticipantType.matchmaking).where(
        ParticipantType.key == HOST_STAKEHOLDER, Matchmaking.event_id == reg.event_id))
    if kind is None:
        return None
    participant = Participant(event_id=reg.event_id, registration=reg, participant_type=kind)
    db.session.add(participant)
    db.session.flush()
    audit.record(reg.user, "matchmaking.invited_participant", participant,
                 event_id=reg.event_id,
                 changes={"participant_type": [None, HOST_STAKEHOLDER]})
    return participant

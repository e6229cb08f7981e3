"""Accounts as admins run them: deactivating and reactivating, granting and removing roles.
Each change is audited (subject: the user) and written in the caller's unit of work,
which commits it once: a grant or its removal is one unit, and nothing here holds the
write lock beyond it."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..inputs.partners import GrantIn
from ..models import Partner, PartnerKind, Registration, RegistrationStatus, Role, RoleGrant, User
from . import accounts, audit
from .fields import Refused


def check_deactivation(actor: User, user: User) -> None:
    """Raise the refusal `deactivate` would meet, so a confirmation page can say it first."""
    if user.id == actor.id:
        raise Refused("account.own_deactivation")


def deactivate(actor: User, user: User, reason: str = "") -> None:
    """The account can no longer sign in, and its open sessions end now. Its API tokens
    are refused while it stays so (not revoked), and its registrations are left as they
    are: nothing is withdrawn, nobody is mailed."""
    check_deactivation(actor, user)
    if not user.active:
        return
    user.active = False
    # Sessions carry the version they were opened with; moving it ends them all.
    user.session_version += 1
    audit.record(actor, "user.deactivated", user, reason=reason,
                 changes={"active": [True, False]})


def pending_applications(user: User) -> int:
    """How many of the account's applications still await a decision."""
    return db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.user_id == user.id,
        Registration.status.in_([s for s in RegistrationStatus if s.is_pending])))


def reactivate(actor: User, user: User) -> None:
    if user.active:
        return
    user.active = True
    audit.record(actor, "user.reactivated", user, changes={"active": [False, True]})


def _grant_label(role: Role, partner: Partner | None) -> str:
    return role.value if partner is None else f"{role.value} ({partner.short_name})"


def add_grant(actor: User, user: User, wanted: GrantIn) -> RoleGrant:
    """The role `wanted` (its partner, when it has one, must exist; a host's must be a
    beachhead), unless the account holds it already."""
    role = wanted.role
    partner = db.session.get(Partner, wanted.partner_id) if wanted.partner_id else None
    if wanted.partner_id and partner is None:
        raise Refused("role.partner_needed", "partner_id")
    if role == Role.BEACHHEAD_HOST and partner.kind != PartnerKind.BEACHHEAD:
        raise Refused("role.hosts_of_beachheads", "partner_id")
    partner_id = partner.id if partner else None
    if any(g.role == role and g.partner_id == partner_id for g in user.grants):
        raise Refused("role.already_held", "role")
    grant = accounts.grant(user, role, partner)
    db.session.flush()  # the grant's id, for the caller
    audit.record(actor, "user.granted", user,
                 changes={"grants": [None, _grant_label(role, partner)]})
    return grant


def check_grant_removal(actor: User, grant: RoleGrant) -> None:
    """Raise the refusal `remove_grant` would meet. An admin keeps their own admin role,
    so the one removing another's is still there: Beachhead never runs out of admins."""
    if grant.user_id == actor.id and grant.role == Role.ADMIN:
        raise Refused("role.own_admin")


def remove_grant(actor: User, grant: RoleGrant) -> None:
    user = grant.user
    check_grant_removal(actor, grant)
    audit.record(actor, "user.grant_removed", user,
                 changes={"grants": [_grant_label(grant.role, grant.partner), None]})
    user.grants.remove(grant)

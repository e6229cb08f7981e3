"""Organizations: their profile, who belongs to them, review by their home cluster."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import MembershipRequest, MembershipStatus, Organization, User
from . import audit
from .errors import DomainError


class AlreadyRequested(DomainError):
    pass


def request_membership(
    user: User, organization: Organization, message: str = ""
) -> MembershipRequest:
    """`user` asks to join `organization`; a member or a manager of its home cluster
    decides. The caller commits (with the mail it queues)."""
    pending = db.session.scalar(
        select(MembershipRequest).where(
            MembershipRequest.user_id == user.id,
            MembershipRequest.organization_id == organization.id,
            MembershipRequest.status == MembershipStatus.PENDING,
        )
    )
    if pending is not None:
        raise AlreadyRequested("You have already asked to join this organization.")
    request = MembershipRequest(user=user, organization=organization, message=message)
    db.session.add(request)
    audit.record(user, "membership.requested", organization)
    return request


def create(actor: User | None, **fields) -> Organization:
    """A new organization, usable at once; it waits in its home cluster's review inbox.
    The caller commits."""
    organization = Organization(**fields)
    db.session.add(organization)
    db.session.flush()
    audit.record(actor, "organization.created", organization,
                 changes={k: [None, audit.plain(v)] for k, v in fields.items()
                          if k != "home_cluster"})
    return organization

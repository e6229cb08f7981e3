"""Organizations: their profile, who belongs to them, review by their home cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from .. import access, collation
from ..extensions import db
from ..models import (
    Agreement,
    AgreementParty,
    MembershipRequest,
    MembershipStatus,
    Organization,
    Partner,
    PartnerKind,
    Registration,
    User,
    search,
    utcnow,
)
from ..unit import reading, write_step
from . import audit, logos, notifications
from .errors import CODES, DomainError
from .fields import Refused


class AlreadyRequested(DomainError):
    pass


class AlreadyDecided(DomainError):
    pass


class OwnRequest(DomainError):
    pass


class MergeRefused(DomainError):
    pass


# Profile fields a merge copies from the duplicate when the surviving record has none.
_FILLABLE = ("city", "sector", "website", "profile")


# The English sentences (the tests read them on pages).
NOT_FOUND_TO_JOIN = CODES["organization.not_found_to_join"].template
SEVERAL_TO_JOIN = CODES["organization.several_to_join"].template


def to_join(name_or_domain: str) -> Organization:
    """The organization a newcomer asks to join, found only by its whole name (case and
    accents aside) or by its web domain ("limfjord-sensing.dk", also as "@..." or an
    email address at it): a part of a name finds nothing, so the directory cannot be
    read through this field. The sign-up that asks is throttled per client."""
    typed = search.typed(name_or_domain)
    domain = _domain(typed)
    if domain:
        candidates = db.session.scalars(select(Organization).where(
            Organization.website.contains(domain, autoescape=True))).all()
        found = [o for o in candidates if _web_domain(o.website) == domain]
    else:
        candidates = db.session.scalars(select(Organization).where(
            search.matches(Organization.search_key, typed))).all()
        found = [o for o in candidates if search.fold(o.name) == search.fold(typed)]
    if not found:
        raise Refused("organization.not_found_to_join", "join_organization")
    if len(found) > 1:
        raise Refused("organization.several_to_join", "join_organization")
    return found[0]


_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")


def _domain(typed: str) -> str | None:
    """"limfjord-sensing.dk" from what was typed, if it is a domain, "@" one or an
    address at one; None for a name."""
    text = typed.lower().rpartition("@")[2].removeprefix("www.")
    return text if _DOMAIN.fullmatch(text) else None


def _web_domain(website: str) -> str | None:
    host = urlsplit(website or "").hostname
    return host.removeprefix("www.") if host else None


def verified_members(organization: Organization) -> list[User]:
    """The people who speak for an organization: its verified, active accounts."""
    return list(db.session.scalars(collation.ordered(
        select(User).where(
            User.organization_id == organization.id,
            User.email_verified_at.is_not(None),
            User.active.is_(True),
            User.erased_at.is_(None),
        ), User)
    ))


def request_membership(
    user: User, organization: Organization, message: str = ""
) -> MembershipRequest:
    """`user` asks to join `organization`; a member or a manager of its home cluster
    decides. The organization's verified members are told by mail. The caller commits
    (with the mail it queues)."""
    pending = db.session.scalar(
        select(MembershipRequest).where(
            MembershipRequest.user_id == user.id,
            MembershipRequest.organization_id == organization.id,
            MembershipRequest.status == MembershipStatus.PENDING,
        )
    )
    if pending is not None:
        raise AlreadyRequested("membership.already_requested")
    request = MembershipRequest(user=user, organization=organization, message=message)
    db.session.add(request)
    audit.record(user, "membership.requested", organization)
    for member in verified_members(organization):
        if member.id == user.id:
            continue
        # The mail names nobody: the requester's details stay on the page behind sign-in.
        notifications.queue(
            member, lambda: _("Someone asked to join %(organization)s",
                              organization=organization.name),
            "membership_requested", organization=organization,
        )
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


def update_profile(actor: User, organization: Organization, values: dict[str, Any]) -> dict:
    """Change an organization's profile (`values` as `inputs.organizations.OrganizationIn`
    states them); returns what changed (nothing is written, not even an audit entry, when
    nothing did). A home cluster must be one of the clusters."""
    # Read-then-write: the diff is read under the write lock (SQLite: BEGIN IMMEDIATE), so
    # no other writer's profile change falls between what is compared and what is written.
    # A writing request's transaction already is its write step; this says so where a
    # caller might not be one.
    write_step()
    cluster_id = values.get("home_cluster_id")
    if cluster_id is not None:
        cluster = db.session.get(Partner, cluster_id)
        if cluster is None or cluster.kind != PartnerKind.CLUSTER:
            raise Refused("field.cluster_unknown", "home_cluster_id")
    changes = audit.diff(organization, values)
    if changes:
        audit.record(actor, "organization.updated", organization, changes=changes)
    return changes


def replace_logo(actor: User, organization: Organization, data: bytes) -> str:
    """Validate and re-encode `data` as the organization's logo. The files follow the
    unit's outcome: the previous one goes once the unit commits, so a failed unit never
    leaves the page without a logo; the new one goes if the unit rolls back."""
    folder = current_app.config["UPLOAD_FOLDER"]
    with reading():
        # Re-encoding is slow: it holds no write lock (it reads nothing the write uses).
        filename = logos.store(data, folder, max_bytes=current_app.config["MAX_LOGO_BYTES"])
    _remove_logo_when(db.session(), _STORED, folder, filename)
    old = organization.logo_filename
    organization.logo_filename = filename
    audit.record(actor, "organization.logo_replaced", organization,
                 changes={"logo_filename": [old or None, filename]})
    if old:
        _remove_logo_when(db.session(), _REPLACED, folder, old)
    return filename


# Logo files whose fate the unit's outcome decides, kept in the session's info: those it
# replaced go when it commits, those it stored go when it rolls back.
_REPLACED = "logos_replaced"
_STORED = "logos_stored"


def _remove_logo_when(session: Session, outcome: str, folder: str, filename: str) -> None:
    session.info.setdefault(outcome, []).append((folder, filename))


def _remove_logos(session: Session, outcome: str) -> None:
    for folder, filename in session.info.pop(outcome, ()):
        logos.remove(folder, filename)


@event.listens_for(Session, "after_commit")
def _remove_replaced_logos(session: Session) -> None:
    session.info.pop(_STORED, None)
    _remove_logos(session, _REPLACED)


@event.listens_for(Session, "after_soft_rollback")
def _remove_stored_logos(session: Session, previous_transaction) -> None:
    # A savepoint's rollback leaves the enclosing transaction, and its logos, standing.
    if previous_transaction.nested:
        return
    session.info.pop(_REPLACED, None)
    _remove_logos(session, _STORED)


def mark_reviewed(actor: User, organization: Organization) -> bool:
    """Clear a new organization from the review inbox; False when it already was."""
    if organization.reviewed_at is not None:
        return False
    organization.reviewed_at = utcnow()
    audit.record(actor, "organization.reviewed", organization)
    return True


def _already_decided(request: MembershipRequest) -> AlreadyDecided:
    when = request.decided_at.strftime("%Y-%m-%d %H:%M UTC") if request.decided_at else ""
    if request.decided_by is None:
        return AlreadyDecided("membership.already_decided_by_someone",
                              status=request.status, when=when)
    return AlreadyDecided("membership.already_decided", status=request.status,
                          who=request.decided_by.name, when=when)


def decide_membership(actor: User, request: MembershipRequest, accept: bool) -> MembershipRequest:
    """Accept or refuse a join request; the requester is told by mail either way.

    The status moves with a conditional UPDATE, so when two members decide at the same
    moment exactly one wins and the other is told who decided first."""
    if request.user_id == actor.id:
        raise OwnRequest("membership.own_request")
    to_status = MembershipStatus.ACCEPTED if accept else MembershipStatus.REFUSED
    now = utcnow()
    moved = db.session.execute(
        update(MembershipRequest)
        .where(MembershipRequest.id == request.id,
               MembershipRequest.status == MembershipStatus.PENDING)
        .values(status=to_status, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(request)
    if moved != 1:
        raise _already_decided(request)
    requester, organization = request.user, request.organization
    changes: dict[str, list] = {"status": [MembershipStatus.PENDING.value, to_status.value]}
    if accept and requester.organization_id != organization.id:
        changes["organization_id"] = [requester.organization_id, organization.id]
        requester.organization_id = organization.id
    audit.record(actor, f"membership.{to_status.value}", request, changes=changes)
    # The subject is read in the requester's language: a sentence per outcome.
    if accept:
        def subject() -> str:
            return _("Your request to join %(organization)s was accepted",
                     organization=organization.name)
    else:
        def subject() -> str:
            return _("Your request to join %(organization)s was refused",
                     organization=organization.name)
    notifications.queue(requester, subject, f"membership_{to_status.value}",
                        organization=organization)
    return request


def merge_candidates(actor: User, duplicate: Organization):
    """The organizations `actor` may merge `duplicate` into (a query)."""
    return access.merge_targets_for(actor, duplicate)


@dataclass(frozen=True)
class MergeMoves:
    """What merging a duplicate moves: its members (erased accounts aside), their
    registrations, its pending join requests and its agreements."""

    members: int
    registrations: int
    requests: int
    agreements: int


def merge_moves(duplicate: Organization) -> MergeMoves:
    """What `merge` would move out of `duplicate`, for its confirmation page."""
    people = select(User.id).where(User.organization_id == duplicate.id,
                                   User.erased_at.is_(None))
    return MergeMoves(
        members=db.session.scalar(select(func.count()).select_from(people.subquery())),
        registrations=db.session.scalar(select(func.count()).select_from(Registration)
                                        .where(Registration.user_id.in_(people))),
        requests=db.session.scalar(select(func.count()).select_from(MembershipRequest).where(
            MembershipRequest.organization_id == duplicate.id,
            MembershipRequest.status == MembershipStatus.PENDING)),
        agreements=db.session.scalar(select(func.count(func.distinct(
            AgreementParty.agreement_id))).where(
            AgreementParty.organization_id == duplicate.id)),
    )


def _move_agreement_parties(duplicate: Organization, into: Organization) -> list[int]:
    """The duplicate's side of its agreements becomes `into`'s; an agreement that had both
    lists `into` once. Refused when the two were its only parties: it would be left with
    one. Returns the agreements' ids."""
    own = select(AgreementParty.agreement_id).where(AgreementParty.organization_id == into.id)
    shared = list(db.session.scalars(select(AgreementParty.agreement_id).where(
        AgreementParty.organization_id == duplicate.id, AgreementParty.agreement_id.in_(own))))
    for agreement_id in shared:
        if db.session.scalar(select(func.count()).select_from(AgreementParty).where(
                AgreementParty.agreement_id == agreement_id)) <= 2:
            title = db.session.get(Agreement, agreement_id).title
            raise MergeRefused("merge.only_parties", title=title)
    db.session.execute(delete(AgreementParty).where(
        AgreementParty.organization_id == duplicate.id, AgreementParty.agreement_id.in_(shared)
    ).execution_options(synchronize_session=False))
    moved = list(db.session.scalars(select(AgreementParty.agreement_id).where(
        AgreementParty.organization_id == duplicate.id)))
    db.session.execute(update(AgreementParty).where(
        AgreementParty.organization_id == duplicate.id).values(organization_id=into.id)
        .execution_options(synchronize_session=False))
    return sorted(set(moved) | set(shared))


def merge(actor: User, duplicate: Organization, into: Organization) -> Organization:
    """Fold `duplicate` into `into` and delete it: its people and join requests move;
    registrations belong to people, so they follow them without being touched (and the
    one-registration-per-event rule cannot be broken). `into` keeps its own profile and
    takes the duplicate's values only where it has none."""
    if duplicate.id == into.id:
        raise MergeRefused("merge.into_itself")
    if not access.can(actor, "organization.merge", (duplicate, into)):
        raise MergeRefused("merge.admin_only")
    # First: it may refuse the merge, before anything is written.
    agreement_ids = _move_agreement_parties(duplicate, into)
    user_ids = list(db.session.scalars(
        select(User.id).where(User.organization_id == duplicate.id)))
    db.session.execute(
        update(User).where(User.organization_id == duplicate.id)
        .values(organization_id=into.id).execution_options(synchronize_session=False)
    )
    # A person who already waits for an answer from `into` needs no second request.
    already_waiting = select(MembershipRequest.user_id).where(
        MembershipRequest.organization_id == into.id,
        MembershipRequest.status == MembershipStatus.PENDING,
    )
    db.session.execute(
        delete(MembershipRequest).where(
            MembershipRequest.organization_id == duplicate.id,
            MembershipRequest.status == MembershipStatus.PENDING,
            MembershipRequest.user_id.in_(already_waiting),
        ).execution_options(synchronize_session=False)
    )
    request_ids = list(db.session.scalars(
        select(MembershipRequest.id).where(
            MembershipRequest.organization_id == duplicate.id)))
    db.session.execute(
        update(MembershipRequest).where(MembershipRequest.organization_id == duplicate.id)
        .values(organization_id=into.id).execution_options(synchronize_session=False)
    )
    filled = {f: getattr(duplicate, f) for f in _FILLABLE
              if not getattr(into, f) and getattr(duplicate, f)}
    if duplicate.logo_filename:
        if into.logo_filename:
            # Its file goes once the merge is committed; until then it is still shown.
            _remove_logo_when(db.session(), _REPLACED, current_app.config["UPLOAD_FOLDER"],
                              duplicate.logo_filename)
        else:
            filled["logo_filename"] = duplicate.logo_filename
    changes = audit.diff(into, filled)
    entry = audit.record(actor, "organization.merged", into, changes=changes)
    entry.details = {
        **entry.details,
        "duplicate_id": duplicate.id,
        "duplicate_name": duplicate.name,
        "into_id": into.id,
        "moved_user_ids": user_ids,
        "moved_request_ids": request_ids,
        "moved_agreement_ids": agreement_ids,
    }
    db.session.delete(duplicate)
    return into

"""Partners: the clusters, beachheads and networks the platform works with (admins only).
The input (webapp/inputs/partners.py) states what a partner's values may be; here each
change is checked against the other partners before anything is written, and audited;
the caller's unit of work commits it."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..inputs.partners import PartnerIn
from ..models import Partner, PartnerKind, Role, RoleGrant, User, event_hosts
from . import audit
from .fields import Problems, Refused, free_slug


def _values(details: PartnerIn, partner: Partner | None) -> dict:
    """The partner's column values; refuses a name or slug another partner has, and a
    beachhead that hosts something becoming another kind."""
    problems = Problems()
    own_id = partner.id if partner else None
    if db.session.scalar(select(Partner.id).where(
        func.lower(Partner.name) == details.name.lower(), Partner.id != (own_id or -1),
    )) is not None:
        problems.add("name", "partner.name_taken")
    values = details.model_dump(exclude={"slug"})
    try:
        values["slug"] = free_slug(Partner.slug, details.slug or details.short_name,
                                   own_id=own_id, explicit=bool(details.slug), max_length=80)
    except Refused as refusal:
        problems.take(refusal)
    if partner is not None and partner.kind == PartnerKind.BEACHHEAD and (
        details.kind != PartnerKind.BEACHHEAD
    ) and _hosts_anything(partner):
        problems.add("kind", "partner.beachhead_in_use")
    problems.raise_any()
    return values


def _hosts_anything(partner: Partner) -> bool:
    hosted = db.session.scalar(
        select(func.count()).select_from(event_hosts).where(event_hosts.c.partner_id == partner.id)
    )
    hosts = db.session.scalar(select(func.count(RoleGrant.id)).where(
        RoleGrant.partner_id == partner.id, RoleGrant.role == Role.BEACHHEAD_HOST))
    return bool(hosted or hosts)


def create(actor: User | None, details: PartnerIn) -> Partner:
    values = _values(details, None)
    partner = Partner(**values)
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "partner.created", partner,
                 changes={k: [None, audit.plain(v)] for k, v in values.items()
                          if v not in (None, "")})
    return partner


def update(actor: User | None, partner: Partner, details: PartnerIn) -> Partner:
    values = _values(details, partner)
    changes = audit.diff(partner, values)
    if changes:
        audit.record(actor, "partner.updated", partner, changes=changes)
    return partner

"""Partners: the clusters, beachheads and networks the platform works with (admins only).
Each change is checked completely before anything is written, and audited; the caller's
unit of work commits it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Partner, PartnerKind, Role, RoleGrant, User, event_hosts
from . import audit
from .fields import Problems, Refused, check_territory, check_web_address, free_slug


@dataclass
class PartnerDetails:
    name: str
    short_name: str
    kind: PartnerKind
    country: str
    is_member: bool = False
    slug: str = ""
    region: str = ""
    city: str = ""
    website: str = ""
    description: str = ""


def _values(details: PartnerDetails, partner: Partner | None) -> dict:
    problems = Problems()
    name = (details.name or "").strip()
    short_name = (details.short_name or "").strip()
    if not name:
        problems.add("name", "Enter the partner's name.")
    elif db.session.scalar(select(Partner.id).where(
        func.lower(Partner.name) == name.lower(),
        Partner.id != (partner.id if partner else -1),
    )) is not None:
        problems.add("name", "Another partner already has this name.")
    if not short_name:
        problems.add("short_name", "Enter a short name.")
    values = dict(
        name=name, short_name=short_name, kind=PartnerKind(details.kind),
        is_member=bool(details.is_member), region=(details.region or "").strip(),
        city=(details.city or "").strip(), description=(details.description or "").strip(),
    )
    for field, check in (("country", check_territory), ("website", check_web_address)):
        try:
            values[field] = check(getattr(details, field), field)
        except Refused as refusal:
            problems.take(refusal)
    if name or details.slug:
        try:
            values["slug"] = free_slug(Partner.slug, details.slug or short_name or name,
                                       own_id=partner.id if partner else None,
                                       explicit=bool(details.slug), max_length=80)
        except Refused as refusal:
            problems.take(refusal)
    if partner is not None and partner.kind == PartnerKind.BEACHHEAD and (
        values["kind"] != PartnerKind.BEACHHEAD
    ) and _hosts_anything(partner):
        problems.add("kind", "This beachhead hosts events or has hosts; it stays a beachhead "
                             "until those are moved.")
    problems.raise_any()
    return values


def _hosts_anything(partner: Partner) -> bool:
    hosted = db.session.scalar(
        select(func.count()).select_from(event_hosts).where(event_hosts.c.partner_id == partner.id)
    )
    hosts = db.session.scalar(select(func.count(RoleGrant.id)).where(
        RoleGrant.partner_id == partner.id, RoleGrant.role == Role.BEACHHEAD_HOST))
    return bool(hosted or hosts)


def create(actor: User | None, details: PartnerDetails) -> Partner:
    values = _values(details, None)
    partner = Partner(**values)
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "partner.created", partner,
                 changes={k: [None, audit.plain(v)] for k, v in values.items()
                          if v not in (None, "")})
    return partner


def update(actor: User | None, partner: Partner, details: PartnerDetails) -> Partner:
    values = _values(details, partner)
    changes = audit.diff(partner, values)
    if changes:
        audit.record(actor, "partner.updated", partner, changes=changes)
    return partner

"""Agreements: record and correct the partnership and collaboration agreements.

Who may record one for which cluster is the policy's (`access`); this module checks the
agreement itself, completely, before anything is written, then audits it (the caller's
unit of work commits).

The rules, from the partnership's own definitions:
- a **partnership agreement** binds the partnership, through one of its member clusters,
  to a fellow cluster, partnership or beachhead: at least one party is a member partner
  and at least one is a partner outside the partnership;
- a **collaboration agreement** binds an EU organization to one of a target region: at
  least one party is in the EU (a member state, or a European network such as EC2I) and
  at least one outside it. The target regions are wherever the partnership goes beyond
  the EU (Singapore, the USA and India today), so a new region needs no code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..ids import parse_id
from ..models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Event,
    Helix,
    Organization,
    Partner,
    User,
)
from . import audit
from .fields import MAX_ID, Problems, Refused, check_territory

# The member states, and "EU" for networks that are European rather than national.
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "EU",
})


def _get(model, object_id: int | None):
    if object_id is None or not 0 < object_id <= MAX_ID:
        return None
    return db.session.get(model, object_id)


def partner_named(partner_id: int | None) -> Partner | None:
    return _get(Partner, partner_id)


def in_eu(country: str) -> bool:
    return country.upper() in EU_COUNTRIES


@dataclass(frozen=True)
class PartyRef:
    """A party as a form names it: ("partner", id) or ("organization", id)."""

    kind: str
    id: int

    @classmethod
    def parse(cls, value: str) -> PartyRef | None:
        """ "partner:3" or "organization:12"; None for anything else."""
        kind, _, number = (value or "").partition(":")
        party_id = parse_id(number)
        if kind not in ("partner", "organization") or party_id is None:
            return None
        return cls(kind, party_id)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class NewOrganization:
    """An organization recorded with the agreement (a target region's company, city or
    institute): no account, no home cluster."""

    name: str = ""
    country: str = ""
    helix: Helix = Helix.INDUSTRY


@dataclass
class AgreementDetails:
    kind: AgreementKind | str
    type: AgreementType | str
    status: AgreementStatus | str
    title: str
    responsible_partner_id: int | None
    parties: list[str] = field(default_factory=list)  # PartyRef keys
    new_organization: NewOrganization | None = None
    description: str = ""
    started_on: date | None = None
    signed_on: date | None = None
    ended_on: date | None = None
    origin_event_id: int | None = None


@dataclass
class _Checked:
    values: dict
    parties: list[Partner | Organization]
    new_organization: Organization | None


def _enum(cls, value, field_name: str, message: str, problems: Problems):
    try:
        return cls(value)
    except ValueError:
        problems.add(field_name, message)
        return None


def _check(details: AgreementDetails) -> _Checked:
    problems = Problems()
    kind = _enum(AgreementKind, details.kind, "kind", "Choose the kind of agreement.", problems)
    type_ = _enum(AgreementType, details.type, "type", "Choose the type of agreement.", problems)
    status = _enum(AgreementStatus, details.status, "status", "Choose a status.", problems)
    title = (details.title or "").strip()
    if not title:
        problems.add("title", "Enter a title.")
    elif len(title) > 200:
        problems.add("title", "Keep the title within 200 characters.")
    description = (details.description or "").strip()
    if len(description) > 2000:
        problems.add("description", "Keep the public description within 2,000 characters.")

    responsible = _get(Partner, details.responsible_partner_id)
    if responsible is None or not responsible.is_member:
        problems.add("responsible_partner_id", "Choose the member cluster responsible for it.")
    origin = None
    if details.origin_event_id:
        origin = _get(Event, details.origin_event_id)
        if origin is None:
            problems.add("origin_event_id", "Choose the event from the list.")

    _check_dates(details, status, problems)
    parties, new_org = _parties(details, problems)
    if kind is not None and len(parties) >= 2:
        _check_kind(kind, parties, problems)
    problems.raise_any()
    return _Checked(
        values=dict(kind=kind, type=type_, status=status, title=title, description=description,
                    started_on=details.started_on, signed_on=details.signed_on,
                    ended_on=details.ended_on, responsible_partner_id=responsible.id,
                    origin_event_id=origin.id if origin else None),
        parties=parties, new_organization=new_org,
    )


def _check_dates(details: AgreementDetails, status: AgreementStatus | None,
                 problems: Problems) -> None:
    started, signed, ended = details.started_on, details.signed_on, details.ended_on
    if status is not None and status.was_signed and signed is None:
        problems.add("signed_on", "Enter the date it was signed.")
    if status == AgreementStatus.IN_NEGOTIATION and signed is not None:
        problems.add("signed_on", "An agreement in negotiation has no signing date yet; "
                                  "change its status to signed.")
    if status == AgreementStatus.ENDED and ended is None:
        problems.add("ended_on", "Enter the date it ended.")
    if status != AgreementStatus.ENDED and ended is not None and status is not None:
        problems.add("ended_on", "Only an ended agreement has an end date.")
    if started and ended and ended < started:
        problems.add("ended_on", "The end date is before the start date.")
    if started and signed and signed < started:
        problems.add("signed_on", "The signing date is before the start date.")
    if signed and ended and ended < signed:
        problems.add("ended_on", "The end date is before the signing date.")


def _parties(details: AgreementDetails,
             problems: Problems) -> tuple[list[Partner | Organization], Organization | None]:
    refs = [PartyRef.parse(value) for value in details.parties]
    if any(ref is None for ref in refs):
        problems.add("parties", "Choose the parties from the list.")
        return [], None
    if len({ref.key for ref in refs}) < len(refs):
        problems.add("parties", "The same party is named twice: an agreement binds "
                                "different organizations.")
        return [], None
    found: list[Partner | Organization] = []
    for ref in refs:
        obj = _get(Partner if ref.kind == "partner" else Organization, ref.id)
        if obj is None:
            problems.add("parties", "Choose the parties from the list.")
            return [], None
        found.append(obj)
    new_org = None
    wanted = details.new_organization
    if wanted is not None and (wanted.name or "").strip():
        name = wanted.name.strip()
        try:
            country = check_territory(wanted.country, "new_organization_country")
        except Refused as refusal:
            problems.take(refusal)
            country = ""
        if len(name) > 200:
            problems.add("new_organization_name", "Keep the name within 200 characters.")
        if any(obj.name.casefold() == name.casefold() for obj in found):
            problems.add("new_organization_name", "This organization is already a party: "
                                                  "an agreement binds different organizations.")
        new_org = Organization(name=name, country=country, helix=Helix(wanted.helix))
        found.append(new_org)
    if len(found) < 2:
        problems.add("parties", "An agreement has at least two parties.")
    return found, new_org


def _check_kind(kind: AgreementKind, parties: list[Partner | Organization],
                problems: Problems) -> None:
    if kind == AgreementKind.COLLABORATION:
        countries = [party.country or "" for party in parties]
        if not (any(in_eu(c) for c in countries) and any(c and not in_eu(c) for c in countries)):
            problems.add("parties", "A collaboration agreement is between an EU organization "
                                    "and an organization of a target region (outside the EU).")
    else:
        partners = [party for party in parties if isinstance(party, Partner)]
        if not (any(p.is_member for p in partners) and any(not p.is_member for p in partners)):
            problems.add("parties", "A partnership agreement is between a member cluster of "
                                    "the partnership and a fellow cluster, partnership or "
                                    "beachhead (a partner outside the partnership).")


def _party_names(parties: list[Partner | Organization]) -> list[str]:
    return [party.name for party in parties]


def _set_parties(agreement: Agreement, parties: list[Partner | Organization]) -> None:
    agreement.parties = [
        AgreementParty(position=position,
                       partner=party if isinstance(party, Partner) else None,
                       organization=party if isinstance(party, Organization) else None)
        for position, party in enumerate(parties)
    ]


def _add_new_organization(actor: User | None, organization: Organization | None) -> None:
    if organization is None:
        return
    db.session.add(organization)
    db.session.flush()
    audit.record(actor, "organization.created", organization,
                 changes={"name": [None, organization.name],
                          "country": [None, organization.country]})


def create(actor: User | None, details: AgreementDetails) -> Agreement:
    checked = _check(details)
    _add_new_organization(actor, checked.new_organization)
    agreement = Agreement(**checked.values)
    _set_parties(agreement, checked.parties)
    db.session.add(agreement)
    db.session.flush()
    changes = {k: [None, audit.plain(v)] for k, v in checked.values.items()
               if v not in (None, "")}
    changes["parties"] = [None, _party_names(checked.parties)]
    audit.record(actor, "agreement.created", agreement, changes=changes)
    return agreement


def update(actor: User | None, agreement: Agreement, details: AgreementDetails) -> Agreement:
    checked = _check(details)
    _add_new_organization(actor, checked.new_organization)
    changes = audit.diff(agreement, checked.values)
    before = [party.name for party in agreement.parties]
    after = _party_names(checked.parties)
    if before != after:
        changes["parties"] = [before, after]
        _set_parties(agreement, checked.parties)
    if changes:
        audit.record(actor, "agreement.updated", agreement, changes=changes)
    return agreement


def party_key(party: AgreementParty) -> str:
    if party.partner_id is not None:
        return PartyRef("partner", party.partner_id).key
    return PartyRef("organization", party.organization_id).key


def party_choices() -> list[tuple[str, str]]:
    """Every partner and organization, by name, as (key, label) for a form."""
    partners = db.session.execute(
        select(Partner.id, Partner.name, Partner.country).order_by(Partner.name)).all()
    organizations = db.session.execute(
        select(Organization.id, Organization.name, Organization.country)
        .order_by(Organization.name)).all()
    return [*((PartyRef("partner", i).key, f"{name} ({country}, partner)")
              for i, name, country in partners),
            *((PartyRef("organization", i).key, f"{name} ({country})")
              for i, name, country in organizations)]

"""Agreements: record and correct the partnership and collaboration agreements.

Who may record one for which cluster is the policy's (`access`); what an agreement's
fields may hold and the rules between them (its dates, its parties named once and at
least two) are its input model's (webapp/inputs/agreements.py). This module checks what
needs the database (the clusters, organizations and events named, the parties' fit to the
kind of agreement) before anything is written, then audits it (the caller's unit of work
commits).

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

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select

from .. import collation
from ..extensions import db
from ..ids import parse_id
from ..inputs.agreements import AgreementIn
from ..models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    Event,
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
class _Checked:
    values: dict
    parties: list[Partner | Organization]
    new_organization: Organization | None


def _check(details: AgreementIn) -> _Checked:
    problems = Problems()
    responsible = _get(Partner, details.responsible_partner_id)
    if responsible is None or not responsible.is_member:
        problems.add("responsible_partner_id", "agreement.responsible_cluster_needed")
    origin = None
    if details.origin_event_id:
        origin = _get(Event, details.origin_event_id)
        if origin is None:
            problems.add("origin_event_id", "agreement.event_unknown")
    parties, new_org = _parties(details, problems)
    if len(parties) >= 2:
        _check_kind(details.kind, parties, problems)
    problems.raise_any()
    return _Checked(
        values=dict(kind=details.kind, type=details.type, status=details.status,
                    title=details.title, description=details.description,
                    started_on=details.started_on, signed_on=details.signed_on,
                    ended_on=details.ended_on, responsible_partner_id=responsible.id,
                    origin_event_id=origin.id if origin else None),
        parties=parties, new_organization=new_org,
    )


def _parties(details: AgreementIn,
             problems: Problems) -> tuple[list[Partner | Organization], Organization | None]:
    found: list[Partner | Organization] = []
    for value in details.parties:
        ref = PartyRef.parse(value)
        obj = ref and _get(Partner if ref.kind == "partner" else Organization, ref.id)
        if obj is None:
            problems.add("parties", "agreement.party_unknown")
            return [], None
        found.append(obj)
    new_org = None
    name = details.new_organization_name
    if name:
        try:
            country = check_territory(details.new_organization_country,
                                      "new_organization_country")
        except Refused as refusal:
            problems.take(refusal)
            country = ""
        if any(obj.name.casefold() == name.casefold() for obj in found):
            problems.add("new_organization_name", "agreement.party_twice")
        new_org = Organization(name=name, country=country,
                               helix=details.new_organization_helix)
        found.append(new_org)
    return found, new_org


def _check_kind(kind: AgreementKind, parties: list[Partner | Organization],
                problems: Problems) -> None:
    if kind == AgreementKind.COLLABORATION:
        countries = [party.country or "" for party in parties]
        if not (any(in_eu(c) for c in countries) and any(c and not in_eu(c) for c in countries)):
            problems.add("parties", "agreement.collaboration_parties")
    else:
        partners = [party for party in parties if isinstance(party, Partner)]
        if not (any(p.is_member for p in partners) and any(not p.is_member for p in partners)):
            problems.add("parties", "agreement.partnership_parties")


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


def create(actor: User | None, details: AgreementIn) -> Agreement:
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


def update(actor: User | None, agreement: Agreement, details: AgreementIn) -> Agreement:
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


class PartyChoice(NamedTuple):
    key: str
    name: str
    country: str
    is_partner: bool


def party_choices() -> list[PartyChoice]:
    """Every partner and organization that may be a party, in the order the reader reads
    the names (one list: a party is looked for by name, whatever its kind)."""
    partners = db.session.execute(select(Partner.id, Partner.name, Partner.country)).all()
    organizations = db.session.execute(
        select(Organization.id, Organization.name, Organization.country)).all()
    return collation.sorted_by(
        [*(PartyChoice(PartyRef("partner", i).key, name, country, True)
           for i, name, country in partners),
         *(PartyChoice(PartyRef("organization", i).key, name, country, False)
           for i, name, country in organizations)], lambda party: party.name)

"""The delegation list of an event as one viewer may see it: the page and both exports
are built from `delegation_for`, so what a file holds can never differ from the page.

Rows are the approved registrations (`access.delegation_of`), grouped by responsible
partner (the cluster that answers for the delegate), the delegates without one last.
Email and phone are filled only where `registration.contact` allows it; otherwise the
cells are empty, so every viewer gets the same columns.

Dietary needs are not a field of their own: events ask them as a question. The first of
the event's questions (in their order) whose label mentions "dietary" is taken as that
column; an event without such a question leaves it empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from .. import access
from ..extensions import db
from ..models import (
    Answer,
    Event,
    Organization,
    Partner,
    Question,
    QuestionKind,
    Registration,
    User,
    search,
)
from ..paging import Page, page_of
from . import exports
from .names import role_label
from .places import country_name

DIETARY_KEYWORD = "dietary"

# (key, header): the order of the page's columns and of the exports'.
COLUMNS = (
    ("cluster", _l("Cluster")),
    ("name", _l("Name")),
    ("organization", _l("Organization")),
    ("country", _l("Country")),
    ("sector", _l("Sector")),
    ("role", _l("Role")),
    ("dietary", _l("Dietary needs")),
    ("email", _l("Email")),
    ("phone", _l("Phone")),
)



@dataclass(frozen=True)
class Delegate:
    """One row of the list, as text ready to show or write."""

    registration_id: int
    cluster: str
    name: str
    organization: str
    country: str
    sector: str
    role: str
    dietary: str
    email: str
    phone: str

    @property
    def cells(self) -> list[str]:
        return [getattr(self, key) for key, _header in COLUMNS]


@dataclass(frozen=True)
class ClusterGroup:
    partner: Partner | None  # None: delegates no cluster is responsible for
    label: str
    delegates: list[Delegate] = field(default_factory=list)


@dataclass(frozen=True)
class DelegationList:
    event: Event
    groups: list[ClusterGroup]
    dietary_question: Question | None

    @property
    def header(self) -> list[str]:
        return [str(header) for _key, header in COLUMNS]

    @property
    def rows(self) -> list[list[str]]:
        """Every row in the order of the page, as the exports write them."""
        return [d.cells for group in self.groups for d in group.delegates]

    def __len__(self) -> int:
        return sum(len(group.delegates) for group in self.groups)


def dietary_question(event: Event) -> Question | None:
    return next((q for q in event.questions if DIETARY_KEYWORD in q.label.lower()), None)


def _delegates(event: Event, search_for: str):
    """The approved registrations of `event` whose person's or organization's name holds
    every word of `search_for`, joined to both."""
    return (access.delegation_of(event).join(Registration.user).outerjoin(User.organization)
            .where(search.matches((User.search_key, Organization.search_key), search_for)))


def _grouped(viewer: Any, event: Event, registrations: list[Registration],
             dietary: dict[int, str]) -> list[ClusterGroup]:
    groups: dict[int | None, ClusterGroup] = {}
    roles: dict[Any, str] = {}  # each role's label translated once, not on every row
    for reg in registrations:
        partner = reg.responsible_partner
        key = partner.id if partner else None
        if key not in groups:
            groups[key] = ClusterGroup(partner, partner.name if partner else _("No cluster"))
        if reg.role not in roles:
            roles[reg.role] = role_label(reg.role)
        groups[key].delegates.append(_delegate(viewer, reg, groups[key].label,
                                               dietary.get(reg.id, ""), roles[reg.role]))
    return list(groups.values())


def delegation_for(viewer: Any, event: Event, search_for: str = "") -> DelegationList:
    """The approved delegation of `event` with what `viewer` may see of it, narrowed to
    the delegates whose name or organization holds every word of `search_for`. The
    caller has checked `event.delegation`; this decides only the contact cells.

    A constant number of queries, whatever the size of the delegation: the registrations
    with their people, organizations and partners in one, the dietary answers in one."""
    registrations = db.session.scalars(
        _delegates(event, search_for).options(
            contains_eager(Registration.user).contains_eager(User.organization),
            joinedload(Registration.responsible_partner),
        )
    ).unique().all()
    question = dietary_question(event)
    dietary = _answers_to(question, event) if registrations else {}
    ordered = sorted(_grouped(viewer, event, registrations, dietary),
                     key=lambda g: (g.partner is None, g.label.casefold()))
    for group in ordered:
        group.delegates.sort(key=lambda d: (d.name.casefold(), d.organization.casefold(),
                                            d.registration_id))
    return DelegationList(event, ordered, question)


@dataclass(frozen=True)
class DelegationPage:
    """One page of the delegation list: its rows grouped as the whole list is (clusters
    by name, the delegates without one last; people by name), how many delegates each
    cluster has in the whole list, and the pager."""

    delegation: DelegationList
    group_sizes: dict[int | None, int]
    pagination: Page

    @property
    def total(self) -> int:
        return sum(self.group_sizes.values())


def delegation_page(viewer: Any, event: Event, search_for: str, per_page: int
                    ) -> DelegationPage:
    """The page the query string asks for of `delegation_for`'s list: four queries,
    whatever the size of the delegation (the sizes per cluster, the page's rows, the
    event's questions, the page's dietary answers)."""
    query = _delegates(event, search_for)
    sizes = dict(db.session.execute(
        query.with_only_columns(Registration.responsible_partner_id, func.count())
        .group_by(Registration.responsible_partner_id)).all())
    cluster = aliased(Partner)
    rows = (query.outerjoin(cluster, Registration.responsible_partner)
            .options(contains_eager(Registration.user).contains_eager(User.organization),
                     contains_eager(Registration.responsible_partner.of_type(cluster)))
            .order_by(case((cluster.id.is_(None), 1), else_=0), func.lower(cluster.name),
                      func.lower(User.name), func.lower(Organization.name),
                      Registration.id))
    pagination = page_of(rows, per_page, total=sum(sizes.values()))
    question = dietary_question(event)
    ids = [reg.id for reg in pagination.items]
    dietary = _answers_to(question, event, ids) if ids else {}
    groups = _grouped(viewer, event, pagination.items, dietary)
    return DelegationPage(DelegationList(event, groups, question), sizes, pagination)


def delegation_csv(viewer: Any, event: Event) -> bytes:
    delegation = delegation_for(viewer, event)
    return exports.csv_bytes(delegation.header, delegation.rows)


def delegation_xlsx(viewer: Any, event: Event) -> bytes:
    delegation = delegation_for(viewer, event)
    return exports.xlsx_bytes(delegation.header, delegation.rows, title=_("Delegation"))


def _delegate(viewer: Any, reg: Registration, cluster: str, dietary: str,
              role: str) -> Delegate:
    user, organization = reg.user, reg.user.organization
    contact = access.can(viewer, "registration.contact", reg)
    return Delegate(
        registration_id=reg.id,
        cluster=cluster,
        name=user.name,
        organization=organization.name if organization else "",
        country=country_name(organization.country) if organization else "",
        sector=organization.sector if organization else "",
        role=role,
        dietary=dietary,
        email=user.email if contact else "",
        phone=user.phone if contact else "",
    )


def _answers_to(question: Question | None, event: Event,
                ids: list[int] | None = None) -> dict[int, str]:
    """The dietary answers of the delegation (or of the registrations `ids`, a page)."""
    if question is None:
        return {}
    # By subquery rather than a list of ids: a delegation of thousands stays one statement.
    delegates = ids if ids is not None else \
        access.delegation_of(event).with_only_columns(Registration.id)
    answers = db.session.execute(
        select(Answer.registration_id, Answer.value).where(
            Answer.question_id == question.id, Answer.registration_id.in_(delegates))
    ).all()
    return {registration_id: _answer_text(question, value) for registration_id, value in answers}


def _answer_text(question: Question, value: Any) -> str:
    if value is None:
        return ""
    if question.kind == QuestionKind.YES_NO:
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if question.kind == QuestionKind.COUNTRY:
        return country_name(str(value))
    return str(value)

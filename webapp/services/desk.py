"""What the partner desk reads: the applications in a user's scope, filtered, sorted and
paged; the seat counts of their events against capacity and quotas; the choices of the
filters; and the look-ups behind direct registrations and applying on behalf.

Every list starts from a scoped query of `access`, so a filter can only narrow what the
policy already allows. Each function runs a fixed number of queries, whatever the number
of rows: the desk's page cost must not grow with the partnership.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import access
from ..extensions import db
from ..ids import page_arg
from ..models import (
    DIRECT_ROLES,
    AuditEntry,
    Event,
    EventQuota,
    EventRole,
    EventStatus,
    Organization,
    Partner,
    Registration,
    RegistrationStatus,
    User,
    normalize_email,
    search,
    utcnow,
)
from ..paging import Page, page_of
from . import registrations
from .errors import RegistrationRefused

PAGE_SIZES = (25, 50, 100)

# The sort keys the desk offers, each with its columns (the id last, so pages are stable).
SORTS: dict[str, tuple] = {
    "applied": (Registration.applied_at.desc(), Registration.id.desc()),
    "name": (func.lower(User.name), Registration.id),
    "company": (func.lower(Organization.name), func.lower(User.name), Registration.id),
    "status": (Registration.status, Registration.applied_at.desc(), Registration.id),
}


@dataclass(frozen=True)
class DeskFilters:
    """What the desk list shows: parsed and checked by the form, so every value is valid."""

    event_id: int | None = None
    status: RegistrationStatus | None = None
    country: str | None = None
    # The responsible partner (the API's `partner` filter).
    partner_id: int | None = None
    search: str = ""
    # Typed in the event field without choosing one: the events whose title (or place)
    # holds it.
    event_search: str = ""
    sort: str = "applied"


def _narrowed(user: Any, filters: DeskFilters, *, rows: bool = True
              ) -> Select[tuple[Registration]]:
    """The registrations `user` may see on the desk (not their own), narrowed by
    `filters` and in the order asked for, joined to the event, applicant and
    organization (`rows`), or only to what the filters and the sort read."""
    query = access.desk_registrations(user)
    if rows or filters.country or filters.search or filters.sort in ("name", "company"):
        query = query.join(Registration.user).outerjoin(User.organization)
    if rows:
        query = query.join(Registration.event)
    if filters.event_id is not None:
        query = query.where(Registration.event_id == filters.event_id)
    if filters.event_search:
        query = query.where(Registration.event_id.in_(
            select(Event.id).where(search.matches(Event.search_key, filters.event_search))))
    if filters.status is not None:
        query = query.where(Registration.status == filters.status)
    if filters.country:
        query = query.where(Organization.country == filters.country)
    if filters.partner_id is not None:
        query = query.where(Registration.responsible_partner_id == filters.partner_id)
    if filters.search:
        query = query.where(search.matches((User.search_key, Organization.search_key),
                                           filters.search))
    return query.order_by(*SORTS.get(filters.sort, SORTS["applied"]))


def _with_rows(query: Select[tuple[Registration]]) -> Select[tuple[Registration]]:
    """`query` loading the event, applicant, organization and cluster of each row."""
    return query.options(
        contains_eager(Registration.event),
        # The applicants' roles are not shown: not read with them (they would be, in a
        # query of their own, by the relationship's default).
        contains_eager(Registration.user).contains_eager(User.organization),
        contains_eager(Registration.user).lazyload(User.grants),
        joinedload(Registration.responsible_partner),
    )


def applications(user: Any, filters: DeskFilters) -> Select[tuple[Registration]]:
    """The desk's rows: the registrations `user` may see (not their own), narrowed by
    `filters`, with the event, applicant, organization and cluster loaded in the same
    query."""
    return _with_rows(_narrowed(user, filters))


def applications_page(user: Any, filters: DeskFilters, per_page: int,
                      page: int | None = None) -> Page:
    """One page of `applications`, in one statement: the page's ids are picked first
    from the registrations alone (sorting a whole scope's ids, not its wide joined
    rows), then only those rows are read with what they show."""
    page = page_arg() if page is None else page
    ids = (_narrowed(user, filters, rows=False).with_only_columns(Registration.id)
           .limit(per_page + 1).offset((page - 1) * per_page))
    rows = _with_rows(
        select(Registration).join(Registration.event).join(Registration.user)
        .outerjoin(User.organization)
        .where(Registration.id.in_(ids))
        .order_by(*SORTS.get(filters.sort, SORTS["applied"])))
    return page_of(rows, per_page, page=1, page_number=page)


def decidable_among(user: Any, registration_ids: list[int]) -> set[int]:
    """Which of `registration_ids` `user` may decide, in one query of the policy's scope
    (`access.decidable_registrations`, which agrees with `registration.decide`), instead
    of asking each row's event for its organizers."""
    if not registration_ids:
        return set()
    return set(db.session.scalars(
        access.decidable_registrations(user).with_only_columns(Registration.id)
        .where(Registration.id.in_(registration_ids))))


def filter_events(user: Any) -> Select[tuple[Event]]:
    """The events the desk's event field offers: those that have applications in the
    user's desk, and those the user organizes (where they register hosts and staff before
    anyone applied)."""
    # Asked of each event the text or id picks (by its registrations' index), not by
    # listing the events of every registration in the desk (6,000 at 10x the demo for an
    # organizing manager) before the text narrows anything.
    in_desk = access.desk_registrations(user).where(Registration.event_id == Event.id).exists()
    managed = access.events_managed_by(user).with_only_columns(Event.id)
    return select(Event).where(or_(in_desk, Event.id.in_(managed)))


def filter_countries(user: Any) -> list[str]:
    """The countries the desk's country filter offers: those of the organizations on the
    platform (reading which countries the user's own applicants come from would read every
    registration in their desk on every visit)."""
    return list(db.session.scalars(
        select(Organization.country).where(Organization.country.is_not(None))
        .distinct().order_by(Organization.country)))


@dataclass
class QuotaCount:
    partner: Partner
    approved: int
    seats: int


@dataclass
class EventCount:
    """An event's approved seats against its capacity, and against the quotas of the
    user's own partners. Hosts and staff registered directly take no seat."""

    event: Event
    approved: int = 0
    quotas: list[QuotaCount] = field(default_factory=list)


def event_counts(user: Any, events: list[Event]) -> list[EventCount]:
    """The seat counts of `events`, in two queries whatever their number."""
    if not events:
        return []
    ids = [e.id for e in events]
    # Only the events in the WHERE clause, the seat rule in the count: given the status as
    # well, SQLite walks the status index over every approved registration there is.
    seat = case((and_(Registration.status == RegistrationStatus.APPROVED,
                      Registration.role.not_in(DIRECT_ROLES)), 1), else_=0)
    rows = db.session.execute(
        select(Registration.event_id, Registration.responsible_partner_id, func.sum(seat))
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id, Registration.responsible_partner_id)
    ).all()
    approved: dict[tuple[int, int | None], int] = {(e, p): n for e, p, n in rows if n}
    own = access.managed_partner_ids(user)
    quotas = db.session.scalars(
        select(EventQuota).where(EventQuota.event_id.in_(ids), EventQuota.partner_id.in_(own))
    ).all() if own else []
    counts = {e.id: EventCount(e) for e in events}
    for (event_id, _partner_id), n in approved.items():
        counts[event_id].approved += n
    for quota in sorted(quotas, key=lambda q: q.partner.short_name):
        counts[quota.event_id].quotas.append(QuotaCount(
            quota.partner, approved.get((quota.event_id, quota.partner_id), 0), quota.seats))
    return list(counts.values())


def registration_for_desk(user: Any, registration_id: int) -> Registration | None:
    """One registration the user may see, with everything its desk page shows."""
    return db.session.scalar(
        access.registrations_visible_to(user)
        .where(Registration.id == registration_id)
        .options(
            joinedload(Registration.event).selectinload(Event.questions),
            joinedload(Registration.event).selectinload(Event.quotas),
            joinedload(Registration.user).joinedload(User.organization).joinedload(
                Organization.home_cluster),
            joinedload(Registration.responsible_partner),
            selectinload(Registration.answers),
            selectinload(Registration.history).joinedload(AuditEntry.actor),
        )
    )


def bulk_names(user: Any, registration_ids: list[int]) -> dict[int, str]:
    """Who each refused id is, for the ids the user may see; ids outside the scope stay
    nameless, so a refusal never tells who is behind a foreign id."""
    if not registration_ids:
        return {}
    rows = db.session.execute(
        access.registrations_visible_to(user)
        .where(Registration.id.in_(registration_ids))
        .join(Registration.user).outerjoin(User.organization)
        .with_only_columns(Registration.id, User.name, Organization.name)
    ).all()
    return {reg_id: f"{name} ({company})" if company else name for reg_id, name, company in rows}


def register_directly(actor: User, event: Event, email: str, role: EventRole) -> Registration:
    """Register the existing account behind `email` as host or staff of `event`."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        raise RegistrationRefused("registration.no_active_account", email=email)
    return registrations.register_directly(user, event.id, role, actor=actor)


def members_for_applying_on_behalf(user: Any) -> Select[tuple[User]]:
    """The verified members the user may apply for: those of the organizations whose home
    cluster they manage (the policy decides each one), with their organization."""
    return (access.members_applicable_on_behalf_by(user)
            .options(contains_eager(User.organization)))


def open_events(user: Any) -> Select[tuple[Event]]:
    """The visible events whose registration is open now (`Event.registration_is_open`)."""
    now = utcnow()
    return access.events_visible_to(user).where(
        Event.status == EventStatus.PUBLISHED, Event.ends_at > now,
        or_(Event.registration_opens_at.is_(None), Event.registration_opens_at <= now),
        or_(Event.registration_closes_at.is_(None), Event.registration_closes_at > now))

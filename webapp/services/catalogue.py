"""What the public catalogue lists: the events a visitor may see, searched and filtered
by kind, target country, organizing partner and dates; and the choices of its filters.

The list starts from `access.events_visible_to`, so a filter only narrows what the
policy allows. Dates are the event's own: an event in Singapore on 4 May is listed for
4 May, whatever the instant that is in UTC. Each function runs a fixed number of
queries, whatever the number of events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..extensions import db
from ..localtime import zone_or_none
from ..models import Event, EventKind, EventStatus, Partner, event_organizers, search, utcnow

# What the catalogue offers to everyone (drafts are listed only for their organizers).
LISTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.CLOSED, EventStatus.CANCELLED)


class When(enum.StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


@dataclass(frozen=True)
class CatalogueFilters:
    """What the catalogue shows, every value already checked by the form."""

    search: str = ""
    when: When = When.UPCOMING
    kind: EventKind | None = None
    country: str | None = None
    partner_id: int | None = None
    # The event's own dates, both days included; a range replaces `when`.
    start: date | None = None
    end: date | None = None

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None


def events(user: Any, filters: CatalogueFilters) -> Select[tuple[Event]]:
    """The events `user` may see that match `filters`, soonest first (latest first for
    past events), with their organizers and hosts loaded."""
    query = access.events_visible_to(user).options(
        selectinload(Event.organizers), selectinload(Event.hosts))
    if filters.dated:
        query = query.where(_on_days(filters.start, filters.end)).order_by(Event.starts_at)
    elif filters.when == When.PAST:
        query = query.where(Event.ends_at < utcnow()).order_by(Event.starts_at.desc())
    else:
        query = query.where(Event.ends_at >= utcnow()).order_by(Event.starts_at)
    if filters.search:
        query = query.where(search.matches(Event.search_key, filters.search))
    if filters.kind is not None:
        query = query.where(Event.kind == filters.kind)
    if filters.country:
        query = query.where(Event.target_country == filters.country)
    if filters.partner_id is not None:
        query = query.where(Event.id.in_(
            select(event_organizers.c.event_id)
            .where(event_organizers.c.partner_id == filters.partner_id)))
    return query.order_by(Event.id)


def _on_days(start: date | None, end: date | None):
    """Events taking place, in their own zone, on a day from `start` to `end`: each zone
    the events use has its own midnights (one query for the zones, a few of them)."""
    zones = db.session.scalars(select(Event.timezone).distinct()).all()
    per_zone = []
    for name in zones:
        zone = zone_or_none(name)
        if zone is None:
            continue
        clauses = [Event.timezone == name]
        if start is not None:
            clauses.append(Event.ends_at > _midnight(start, zone))
        if end is not None:
            clauses.append(Event.starts_at < _midnight(end + timedelta(days=1), zone))
        per_zone.append(and_(*clauses))
    return or_(*per_zone) if per_zone else false()


def _midnight(day: date, zone) -> datetime:
    # On a day whose midnight the clocks skip, the instant of the skip: the day's start.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def countries() -> list[str]:
    """The target countries of the listed events (their codes)."""
    return list(db.session.scalars(
        select(Event.target_country).where(Event.status.in_(LISTED_STATUSES)).distinct()))


def organizing_partners() -> list[Partner]:
    """The partners that organize a listed event."""
    organizing = (select(event_organizers.c.partner_id)
                  .join(Event, Event.id == event_organizers.c.event_id)
                  .where(Event.status.in_(LISTED_STATUSES)))
    return list(db.session.scalars(
        select(Partner).where(Partner.id.in_(organizing))))

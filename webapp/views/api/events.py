"""Events: the published list, one event with its agenda, its calendar file."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy.orm import selectinload

from ... import access
from ...extensions import db
from ...models import Event, EventStatus, utcnow
from ...problems import ApiProblem
from ...services import calendar
from .. import ics_download
from . import keyset, present, schemas
from .registry import operation


def visible_event(event_id: int) -> Event:
    event = db.session.scalar(
        access.events_visible_to(current_user).where(Event.id == event_id)
        .options(selectinload(Event.sessions), selectinload(Event.organizers),
                 selectinload(Event.hosts)))
    if event is None:
        raise ApiProblem(404, f"No event {event_id}, or not one you may see.")
    return event


@operation("GET", "/events", tag="events", summary="Published events", response=schemas.EventPage,
           kept=True)
def events(query: schemas.EventQuery):
    """Published events, upcoming (soonest first, the default) or past (latest first),
    by kind and target country."""
    now = utcnow()
    select = access.events_visible_to(current_user).where(Event.status == EventStatus.PUBLISHED)
    if query.when == schemas.When.PAST:
        select = select.where(Event.ends_at < now)
        keys = (keyset.Key(Event.starts_at, descending=True), keyset.Key(Event.id))
    else:
        select = select.where(Event.ends_at >= now)
        keys = (keyset.Key(Event.starts_at), keyset.Key(Event.id))
    if query.kind is not None:
        select = select.where(Event.kind == query.kind)
    if query.country is not None:
        select = select.where(Event.target_country == query.country)
    found = keyset.page(
        select.options(selectinload(Event.organizers), selectinload(Event.hosts)), keys,
        cursor=query.cursor, per_page=query.per_page, page_number=query.page,
        count=query.count)
    return schemas.EventPage.model_validate(
        {"items": present.event_summaries(found.rows), **found.fields()})


@operation("GET", "/events/{event_id}", tag="events", summary="One event and its agenda",
           response=schemas.EventDetail, problems=(404,))
def event(path: schemas.EventPath):
    return present.event_detail(visible_event(path.event_id))


@operation("GET", "/events/{event_id}/calendar.ics", tag="events",
           summary="The event's calendar file (iCalendar)", media_type="text/calendar",
           problems=(404,))
def event_calendar(path: schemas.EventPath):
    """The same file as the event page's "Add to calendar": the event and its agenda, in
    its own time zone."""
    event = visible_event(path.event_id)
    return ics_download(calendar.event_calendar(event), f"{event.slug}.ics")

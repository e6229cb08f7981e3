"""Public pages: home, the event list and an event's page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access, http_cache
from ..extensions import db
from ..forms.public import KIND_LABELS, EventFilterForm
from ..forms.quick_registration import QuickRegistrationForm
from ..models import MISSION_KINDS, Event, EventKind, EventStatus, Registration, utcnow
from ..services import catalogue, quick_registration

bp = Blueprint("public", __name__)

def _with_partners(query):
    return query.options(selectinload(Event.organizers), selectinload(Event.hosts))


@bp.get("/")
@access.public
@http_cache.visitor_page
def index():
    now = utcnow()
    upcoming = _with_partners(
        access.events_visible_to(current_user)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at >= now)
        .order_by(Event.starts_at)
    )
    missions = db.session.scalars(upcoming.where(Event.kind.in_(MISSION_KINDS)).limit(6)).all()
    webinars = db.session.scalars(upcoming.where(Event.kind == EventKind.WEBINAR).limit(6)).all()
    others = db.session.scalars(
        upcoming.where(Event.kind.not_in(MISSION_KINDS | {EventKind.WEBINAR})).limit(6)
    ).all()
    return render_template(
        "public/index.html", missions=missions, webinars=webinars, others=others,
        kind_labels=KIND_LABELS,
    )


@bp.get("/events")
@access.public
@http_cache.visitor_page
def events():
    form = EventFilterForm(request.args, countries=catalogue.countries(),
                           partners=catalogue.organizing_partners())
    form.validate()
    filters = form.filters()
    pagination = db.paginate(
        catalogue.events(current_user, filters), page=form.page_number,
        per_page=current_app.config["EVENTS_PER_PAGE"], error_out=False,
    )
    return render_template(
        "public/events.html", form=form, filters=filters, pagination=pagination,
        kind_labels=KIND_LABELS,
    )


@bp.get("/events/<slug>")
@http_cache.visitor_page
@access.requires_on("event.view", Event, "slug", by="slug", signed_in=False)
def event_detail(event: Event):
    registration = None
    if current_user.is_authenticated:
        registration = db.session.scalar(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == current_user.id
            )
        )
    # Visitors register for a public webinar on its page; members apply as usual.
    quick_form = None
    if not current_user.is_authenticated and quick_registration.refusal(event) is None:
        quick_form = QuickRegistrationForm()
    return render_template(
        "public/event.html", event=event, registration=registration, now=utcnow(),
        kind_labels=KIND_LABELS, quick_form=quick_form,
    )

"""Badges and the door: one registration's badge, and checking a badge in."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import access
from ...extensions import db
from ...models import BadgeFormat, Registration
from ...problems import ApiProblem
from ...services import badges, checkin
from ...services.checkin import BadgeRefused, CheckinClosed
from .. import private_download
from . import schemas
from .registry import operation


@operation("GET", "/registrations/{registration_id}/badge.pdf", tag="badges",
           summary="An approved registration's badge (PDF)", media_type="application/pdf",
           problems=(404,))
def registration_badge(path: schemas.RegistrationPath, query: schemas.BadgeQuery):
    """Its delegate's own, and those its deciders (the responsible partner's managers,
    the event's organizers) may print; any other, and a registration not approved, is
    404."""
    registration = db.session.scalar(
        select(Registration).where(Registration.id == path.registration_id).options(
            joinedload(Registration.event), joinedload(Registration.user)))
    if registration is None or not access.can(current_user, "registration.badge",
                                              registration):
        raise ApiProblem(404, f"No badge for registration {path.registration_id} that you may "
                              "print.")
    badge_format = BadgeFormat(query.format.value)
    return private_download(
        badges.badge_pdf(registration, badge_format),
        "application/pdf",
        f"badge-{registration.event.slug}-{registration.id}-{badge_format}.pdf")


@operation("POST", "/events/{event_id}/checkins", tag="badges",
           summary="Check a badge in at the door",
           response=schemas.Checkin, status=201, write=True, problems=(404, 409),
           extra_statuses={200: "Checked in before: the earlier check-in, unchanged"})
def check_in(path: schemas.EventPath, body: schemas.CheckinIn):
    """201 the first time; 200 with the earlier check-in (when, by whom) on a repeat.
    A code that names no badge of this event, or one whose registration is not approved,
    is 422; outside the event's check-in window (from CHECKIN_OPENS_BEFORE before its
    start until its end) it is 409, saying when it opens or that it closed, and nothing
    is recorded. Organizers, the event's hosts and admins check people in."""
    event = access.authorized_event(path.event_id, "event.checkin")
    try:
        session = checkin.session_of(event, body.session_id)
    except BadgeRefused as refusal:
        raise ApiProblem.refusing(422, refusal, errors=[
            {"pointer": "/session_id", "detail": refusal.message}]) from None
    try:
        registration = checkin.find_badge(body.token)
        result = checkin.check_in(current_user._get_current_object(), registration, event,
                                  session)
    except CheckinClosed as closed:
        raise ApiProblem.refusing(409, closed) from None
    except BadgeRefused as refusal:
        raise ApiProblem.refusing(422, refusal, errors=[
            {"pointer": "/token", "detail": refusal.message}]) from None
    attendance = result.attendance
    person = attendance.registration.user
    out = schemas.Checkin(
        registration_id=attendance.registration_id, name=person.name,
        organization=person.organization.name if person.organization else None,
        session_id=attendance.session_id, checked_in_at=attendance.recorded_at,
        checked_in_by=attendance.recorded_by.name if attendance.recorded_by else None,
        first_time=result.created)
    return out, 201 if result.created else 200

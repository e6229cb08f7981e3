"""Check-in on site: the door's scanner page, a badge's own page, and the attendance of an
event or one of its agenda sessions.

Staff (`event.checkin`: admins, the event's organizers, its hosting beachheads) open a
badge's URL and see the person; anyone else signed in gets 404, as for an unknown code, and
visitors the sign-in page: a badge found on the floor tells its finder nothing.

Outside the event's check-in window (services.checkin) the scanner and a badge's page say
when it opens, or that it has closed, and offer no check-in; a check-in sent anyway is
refused (400) and records nothing.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from .. import access, inputs
from ..errors import render_error
from ..forms.checkin import WHOLE_EVENT, CheckInForm, RecordForm
from ..ids import required_id
from ..inputs.checkin import BadgeCheckinIn, CheckinIn
from ..localtime import format_clock, format_day
from ..models import Event, EventSession, Registration, utcnow
from ..services import attendance as attendances
from ..services import checkin, exports
from ..services.badges import printed_code
from ..services.checkin import BadgeRefused, CheckinClosed
from . import private_download

bp = Blueprint("checkin", __name__)


def _session_choices(event: Event) -> list[SelectChoice]:
    return [SelectChoice(WHOLE_EVENT, _("The event as a whole")),
            *[SelectChoice(str(s.id), s.title) for s in event.agenda]]


def _chosen_session(event: Event, value: str | None) -> EventSession | None:
    """The agenda session named by a query argument (400 for a value that is not an id,
    404 for one not on the agenda)."""
    if value in (None, "", WHOLE_EVENT):
        return None
    session_id = required_id(value, "session")
    try:
        return checkin.session_of(event, session_id)
    except BadgeRefused:
        abort(404)


def already_message(result: attendances.Recorded, event: Event) -> str:
    attendance = result.attendance
    by = attendance.recorded_by.name if attendance.recorded_by else _("someone")
    when = format_clock(attendance.recorded_at, event.timezone)
    day = attendance.recorded_at.astimezone(event.zone).date()
    if day != utcnow().astimezone(event.zone).date():
        return _("Already checked in on %(day)s at %(when)s by %(name)s.",
                 day=format_day(day), when=when, name=by)
    return _("Already checked in at %(when)s by %(name)s.", when=when, name=by)


# --------------------------------------------------------------------------- the door


def closed_now(event: Event) -> CheckinClosed | None:
    """Why check-in for `event` is not open now, or None while it is."""
    try:
        checkin.check_open(event, utcnow())
    except CheckinClosed as closed:
        return closed
    return None


def _scan_page(event: Event, form: CheckInForm, *, result=None, person=None, refusal=None,
               closed: CheckinClosed | None = None, status: int = 200):
    return render_template("checkin/scan.html", event=event, form=form, result=result,
                           person=person, refusal=refusal,
                           closed=closed or closed_now(event), refused=closed is not None,
                           already=already_message(result, event) if result and not
                           result.created else None), status


def _with_sessions(form_class, event: Event, formdata=None):
    """A check-in form (at the door or on a badge's page) offering `event`'s sessions."""
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.session.choices = _session_choices(event)
    return form


def _scan_form(event: Event, formdata=None) -> CheckInForm:
    return _with_sessions(CheckInForm, event, formdata)


@bp.get("/events/<int:event_id>/checkin")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
def scan(event: Event):
    form = _scan_form(event)
    session = _chosen_session(event, request.args.get("session"))
    form.session.data = str(session.id) if session else WHOLE_EVENT
    return _scan_page(event, form)


@bp.post("/events/<int:event_id>/checkin")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
@inputs.takes(CheckinIn)
def scan_record(event: Event):
    form = _scan_form(event, formdata=request.form)
    if not form.validate():
        return _scan_page(event, form, status=400)
    try:
        session = checkin.session_of(event, form.input.session_id)
        registration = checkin.find_badge(form.input.token)
        result = checkin.check_in(current_user._get_current_object(), registration, event,
                                  session)
    except CheckinClosed as closed:
        return _scan_page(event, _keep_session(event, form), closed=closed, status=400)
    except BadgeRefused as refusal:
        return _scan_page(event, _keep_session(event, form), refusal=refusal.message,
                          status=400)
    return _scan_page(event, _keep_session(event, form), result=result,
                      person=result.attendance.registration)


def _keep_session(event: Event, submitted: CheckInForm) -> CheckInForm:
    """A fresh form for the next badge, still checking in for the same session."""
    form = _scan_form(event)
    form.session.data = submitted.session.data
    form.code.data = ""
    return form


# --------------------------------------------------------------------------- a badge's URL


def _badge_registration(code: str) -> Registration:
    """The registration behind a badge URL, for staff of its event; 404 for everyone else,
    for codes that are not ours and for tampered ones. People who check in at some event
    (desk users) are told why, so a typo at the door reads as one; the reason names
    nobody, and no one else learns even that."""
    try:
        registration = checkin.find_badge(code)
    except BadgeRefused as refusal:
        _not_found(refusal.message)
    if not access.can(current_user, "event.checkin", registration.event):
        _not_found(_("This badge is for an event you do not check people in for."))
    return registration


def _not_found(reason: str) -> NoReturn:
    if access.can(current_user, "desk.use"):
        abort(make_response(render_error(404, reason)))
    abort(404)


def _badge_page(registration: Registration, form: RecordForm, *, result=None,
                refusal=None, closed: CheckinClosed | None = None, status: int = 200):
    event = registration.event
    return render_template(
        "checkin/badge.html", event=event, registration=registration, form=form,
        code=printed_code(registration.badge_code), result=result, refusal=refusal,
        closed=closed or closed_now(event), refused=closed is not None,
        already=already_message(result, event) if result and not result.created else None,
    ), status


def _record_form(event: Event, formdata=None) -> RecordForm:
    return _with_sessions(RecordForm, event, formdata)


@bp.get("/checkin/<code>")
@access.login_required
def badge(code: str):
    registration = _badge_registration(code)
    form = _record_form(registration.event)
    refusal = None
    try:
        checkin.admissible(registration, registration.event)
    except BadgeRefused as error:
        refusal = error.message
    return _badge_page(registration, form, refusal=refusal)


@bp.post("/checkin/<code>")
@access.login_required
@inputs.takes(BadgeCheckinIn)
def record(code: str):
    registration = _badge_registration(code)
    event = registration.event
    form = _record_form(event, formdata=request.form)
    if not form.validate():
        return _badge_page(registration, form, status=400)
    try:
        session = checkin.session_of(event, form.input.session_id)
        result = checkin.check_in(current_user._get_current_object(), registration, event,
                                  session)
    except CheckinClosed as closed:
        return _badge_page(registration, form, closed=closed, status=400)
    except BadgeRefused as refusal:
        return _badge_page(registration, form, refusal=refusal.message, status=400)
    return _badge_page(result.attendance.registration, form, result=result)


# --------------------------------------------------------------------------- attendance


@bp.get("/events/<int:event_id>/attendance")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
def attendance(event: Event):
    session = _chosen_session(event, request.args.get("session"))
    return render_template("checkin/attendance.html", event=event, session=session,
                           report=checkin.attendance_of(event, session),
                           window=checkin.window(event),
                           choices=_session_choices(event),
                           when=lambda at: format_clock(at, event.timezone))


@bp.get("/events/<int:event_id>/attendance.csv")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
def attendance_csv(event: Event):
    session = _chosen_session(event, request.args.get("session"))
    part = f"-session-{session.id}" if session else ""
    filename = f"attendance-{event.slug}{part}-{utcnow().date().isoformat()}.csv"
    body = checkin.attendance_csv(checkin.attendance_of(event, session))
    return private_download(body, exports.CSV_MIMETYPE, filename)


# --------------------------------------------------------------------------- webinars


@bp.get("/events/<int:event_id>/webinar-report")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
def webinar_report(event: Event):
    return render_template("checkin/webinar_report.html", event=event,
                           report=attendances.webinar_report(event))


@bp.get("/events/<int:event_id>/webinar-report.csv")
@access.requires_on("event.checkin", Event, "event_id", visible="event.view")
def webinar_report_csv(event: Event):
    filename = f"webinar-report-{event.slug}-{utcnow().date().isoformat()}.csv"
    body = attendances.webinar_report_csv(attendances.webinar_report(event))
    return private_download(body, exports.CSV_MIMETYPE, filename)


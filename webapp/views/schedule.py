"""The schedule of an event's meetings as its organizers run it: the grid of slots and
meeting points with each placed meeting, the meetings waiting for a place and why, the
last "schedule all" and its report; running it in the background with its progress,
moving one meeting by hand (the page marks every slot and point valid or not, and why),
locking and unlocking meetings, publishing a preliminary then a final schedule, and
reopening a final one.

Organizers of the event and admins only (`matchmaking.manage`); an event whose
matchmaking is off has no schedule (404, services.meeting_schedule says so), and a
meeting or run of another event is an unknown id. Every change goes through
services.meeting_schedule; a refusal is said on the page it returns to, nothing written.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, localtime, unit
from ..extensions import db
from ..forms.schedule import MeetingMoveForm, PublishForm, ScheduleRunForm, target_value
from ..inputs.schedule import MeetingMoveIn, PublishIn, ScheduleRunIn
from ..models import Event, Participant, ScheduleRun, ScheduleState, utcnow
from ..services import errors, meeting_schedule, names
from ..services.errors import MatchmakingRefused
from ..services.fields import Refused
from . import show_refusal
from .matchmaking import manages

bp = Blueprint("schedule", __name__,
               url_prefix="/events/<int:event_id>/matchmaking/schedule")



# A move's refusals about the slot or point chosen (said beside the choices); those about
# what the input names (not a slot or point of the event) are bad input (400), the others
# a state of the schedule (409: taken, blocked, final).
MOVE_REFUSALS = frozenset({"matchmaking.not_a_slot", "schedule.not_a_point",
                           "schedule.slot_blocked", "schedule.side_busy",
                           "schedule.no_free_point", "schedule.point_taken"})
BAD_TARGETS = frozenset({"matchmaking.not_a_slot", "schedule.not_a_point"})


def _settings(event: Event):
    """The event's matchmaking; an event whose matchmaking is off has no schedule."""
    try:
        return meeting_schedule.settings_of(event.id)
    except MatchmakingRefused:
        abort(404)


def side_name(participant: Participant) -> str:
    """A side as the organizers' grid shows it."""
    return names.participant_label(participant, known=True)


def _state_label(state: ScheduleState) -> str:
    return {ScheduleState.DRAFT: _("Draft: seen by the organizers only"),
            ScheduleState.PRELIMINARY: _("Preliminary: the participants see it; it may "
                                         "still change"),
            ScheduleState.FINAL: _("Final: it changes only once reopened")}[state]


def reason_label(code: str | None) -> str:
    """Why the last run left a meeting out, or why a slot does not take it."""
    if code is None:
        return _("Not scheduled yet: run “Schedule all” or place it by hand.")
    if code == "no_common_free_slot":
        return _("No slot where both sides are free.")
    if code == "no_free_point":
        return _("No meeting point free in the slots where both sides are.")
    return errors.render(code, {}) if code in errors.CODES else code


def _run_error(run: ScheduleRun) -> str:
    if run.error == meeting_schedule.RUN_FAILED:
        return _("The schedule could not be worked out. Please try again.")
    if run.error in errors.CODES:
        return errors.render(run.error, {})
    if meeting_schedule.is_stale(run):
        return _("The run stopped without finishing. Please try again.")
    return ""


def _page(event: Event, *, status: int = 200, run_form: ScheduleRunForm | None = None,
          publish_form: PublishForm | None = None):
    _settings(event)
    found = meeting_schedule.overview(event.id)
    return render_template(
        "schedule/index.html", event=event, schedule=found, side_name=side_name,
        reason_label=reason_label, state_label=_state_label(found.settings.schedule_state),
        run_error=_run_error(found.last_run) if found.last_run else "",
        run_form=run_form or ScheduleRunForm(formdata=None),
        publish_form=publish_form or PublishForm(formdata=None, data={
            "state": "final" if found.settings.schedule_state != ScheduleState.DRAFT
            else "preliminary"}),
        clock=localtime.format_clock, final=found.settings.schedule_state
        == ScheduleState.FINAL), status


def _back(event: Event, anchor: str | None = None):
    return redirect(url_for("schedule.index", event_id=event.id, _anchor=anchor), 303)


def _not_done(refusal: MatchmakingRefused) -> None:
    unit.discard()
    flash(refusal.message, "warning")


@bp.get("/")
@manages
def index(event: Event):
    return _page(event)


# --------------------------------------------------------------------------- schedule all


@bp.post("/runs")
@manages
@inputs.takes(ScheduleRunIn)
def run(event: Event):
    form = ScheduleRunForm()
    if not form.validate_on_submit():
        return _page(event, status=400, run_form=form)
    try:
        found, joined = meeting_schedule.request_run(
            event.id, actor=current_user._get_current_object(), seconds=form.input.seconds)
    except MatchmakingRefused as refusal:
        show_refusal(form, _refused(refusal))
        return _page(event, status=409, run_form=form)
    if joined:
        flash(_("The schedule is being worked out already: this is its progress."), "info")
    else:
        meeting_schedule.start(found.id)  # runs once this request's unit has committed
    return redirect(url_for("schedule.run_page", event_id=event.id, run_id=found.id), 303)


def _refused(refusal: MatchmakingRefused) -> Refused:
    return Refused.of(refusal, "target" if refusal.code in MOVE_REFUSALS else None)


def _run(event: Event, run_id: int) -> ScheduleRun:
    settings = _settings(event)
    found = db.session.get(ScheduleRun, run_id)
    if found is None or found.matchmaking_id != settings.id:
        abort(404)
    return found


def _progress(found: ScheduleRun) -> dict:
    """What the progress page shows and polls: the seconds gone of the time limit (the
    solver stops at the limit, or sooner with a proven optimum)."""
    if found.finished_at is not None:
        status = "failed" if found.error else "done"
    else:
        status = "failed" if meeting_schedule.is_stale(found) else "running"
    elapsed = ((found.finished_at or utcnow()) - found.started_at).total_seconds()
    total = max(found.seconds_limit, 1)
    done = min(int(elapsed), total) if status == "running" else total
    return {"status": status, "done": done, "total": total,
            "percent": int(100 * done / total),
            "error": _run_error(found) if status == "failed" else "",
            "download_url": url_for("schedule.index", event_id=found.matchmaking.event_id)
            if status == "done" else None}


@bp.get("/runs/<int:run_id>")
@manages
def run_page(event: Event, run_id: int):
    found = _run(event, run_id)
    return render_template("schedule/run.html", event=event, run=found,
                           progress=_progress(found))


@bp.get("/runs/<int:run_id>/progress")
@manages
def run_progress(event: Event, run_id: int):
    response = jsonify(_progress(_run(event, run_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- one meeting


def _accepted(event: Event, request_id: int):
    _settings(event)
    found = meeting_schedule.accepted_request(event.id, request_id)
    if found is None:
        abort(404)
    return found


def _move_page(event: Event, request_id: int, form: MeetingMoveForm, status: int = 200):
    meeting_request = _accepted(event, request_id)
    settings = meeting_schedule.settings_of(event.id)
    meeting = meeting_schedule.meeting_of(meeting_request)
    targets = meeting_schedule.targets(meeting_request, settings)
    zone = event.zone
    days: dict = {}
    for target in targets:
        days.setdefault(target.starts_at.astimezone(zone).date(), []).append(target)
    return render_template(
        "schedule/move.html", event=event, meeting_request=meeting_request, meeting=meeting,
        days=sorted(days.items()), points=list(settings.points), form=form,
        side_name=side_name, reason_label=reason_label, target_value=target_value,
        clock=localtime.format_clock, final=settings.schedule_state == ScheduleState.FINAL,
    ), status


@bp.get("/meetings/<int:request_id>/move")
@manages
def move_page(event: Event, request_id: int):
    return _move_page(event, request_id, MeetingMoveForm(formdata=None))


@bp.post("/meetings/<int:request_id>/move")
@manages
@inputs.takes(MeetingMoveIn)
def move(event: Event, request_id: int):
    _accepted(event, request_id)
    form = MeetingMoveForm()
    if not form.validate_on_submit():
        return _move_page(event, request_id, form, 400)
    try:
        moved = meeting_schedule.move(event.id, request_id, form.input.starts_at,
                                      form.input.point_id,
                                      actor=current_user._get_current_object())
    except MatchmakingRefused as refusal:
        show_refusal(form, _refused(refusal))
        status = 400 if refusal.code in BAD_TARGETS else 409
        return _move_page(event, request_id, form, status)
    if moved is None:
        abort(404)
    flash(_("The meeting was moved and locked there."), "success")
    return _back(event, "grid")


@bp.post("/meetings/<int:request_id>/lock")
@manages
@inputs.takes(inputs.NoInput)
def lock(event: Event, request_id: int):
    return _set_locked(event, request_id, True)


@bp.post("/meetings/<int:request_id>/unlock")
@manages
@inputs.takes(inputs.NoInput)
def unlock(event: Event, request_id: int):
    return _set_locked(event, request_id, False)


def _set_locked(event: Event, request_id: int, locked: bool):
    _accepted(event, request_id)
    try:
        meeting_schedule.set_locked(event.id, request_id, locked,
                                    actor=current_user._get_current_object())
    except MatchmakingRefused as refusal:
        _not_done(refusal)
    else:
        flash(_("The meeting is locked: “Schedule all” keeps it where it is.") if locked
              else _("The meeting is unlocked: “Schedule all” may move it."), "success")
    return _back(event, "grid")


# --------------------------------------------------------------------------- publishing


@bp.post("/publish")
@manages
@inputs.takes(PublishIn)
def publish(event: Event):
    form = PublishForm()
    if not form.validate_on_submit():
        return _page(event, status=400, publish_form=form)
    state = ScheduleState(form.input.state)
    try:
        meeting_schedule.publish(event.id, state, actor=current_user._get_current_object())
    except MatchmakingRefused as refusal:
        show_refusal(form, _refused(refusal))
        return _page(event, status=409, publish_form=form)
    flash(_("The schedule is published as final; each participant with a meeting is "
            "mailed.") if state == ScheduleState.FINAL
          else _("The schedule is published as preliminary; each participant with a "
                 "meeting is mailed."), "success")
    return _back(event)


@bp.post("/reopen")
@manages
@inputs.takes(inputs.NoInput)
def reopen(event: Event):
    _settings(event)
    meeting_schedule.reopen(event.id, actor=current_user._get_current_object())
    flash(_("The schedule is preliminary again: “Schedule all” and moves work again, and "
            "the participants are mailed each change."), "success")
    return _back(event)


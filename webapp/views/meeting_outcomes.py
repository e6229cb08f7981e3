"""What meetings led to: the table's scanner, a meeting's page with its "we met" button
and its rating, the follow-up question reached by the mailed link (and the agreement it
may record), and the organizers' figures per event.

Every write goes through services.meeting_outcomes; its refusals are shown beside the
form (400 for what was typed, 409 for a moment or a state a retry cannot change),
nothing written.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, inputs, languages, unit
from ..extensions import db
from ..forms.meeting_outcomes import (
    FOLLOW_UP_LABELS,
    RATING_LABELS,
    FollowUpForm,
    MeetingAgreementForm,
    MetForm,
    RatingForm,
    ScanForm,
)
from ..forms.meeting_requests import STATUS_LABELS
from ..inputs import NoInput
from ..inputs.meeting_outcomes import (
    FollowUpIn,
    MeetingAgreementIn,
    MeetingRatingIn,
    MeetingScanIn,
)
from ..models import Event, Meeting, MeetingFollowUp, MeetingRequest
from ..services import meeting_outcomes, registration_mail
from ..services.checkin import BadgeRefused
from ..services.errors import DomainError
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("meeting_outcomes", __name__)

def _me():
    return current_user._get_current_object()


@bp.app_template_global("meeting_outcome_of")
def meeting_outcome_of(meeting_request: MeetingRequest):
    """For a meeting request's page: its placed meeting's outcome as the viewer sees it
    (None: no meeting placed)."""
    meeting = meeting_outcomes.meeting_of_request(meeting_request.id)
    if meeting is None:
        return None
    return meeting_outcomes.outcome_of(meeting, _me())


# --------------------------------------------------------------------------- the table


def _scan_page(event: Event, form: ScanForm, *, scan=None, refusal: str | None = None,
               status: int = 200):
    return render_template("meeting_outcomes/scan.html", event=event, form=form, scan=scan,
                           refusal=refusal), status


def _scan_form(event: Event, **kwargs) -> ScanForm:
    return ScanForm(points=meeting_outcomes.points_of(event.id), **kwargs)


@bp.get("/events/<int:event_id>/meetings/scan")
@access.requires_on("meeting.scan", Event, "event_id", visible="event.view")
def scan(event: Event):
    form = _scan_form(event, formdata=None)
    chosen = request.args.get("point", "")
    if chosen:
        form.point_id.data = chosen
    return _scan_page(event, form)


@bp.post("/events/<int:event_id>/meetings/scan")
@access.requires_on("meeting.scan", Event, "event_id", visible="event.view")
@inputs.takes(MeetingScanIn)
def scan_record(event: Event):
    form = _scan_form(event)
    if not form.validate_on_submit():
        return _scan_page(event, form, status=400)
    try:
        found = meeting_outcomes.scan_at_point(event.id, form.input.point_id, form.input.token,
                                               actor=_me())
    except (BadgeRefused, meeting_outcomes.MeetingRefused) as refusal:
        unit.discard()
        form.token.data = ""
        return _scan_page(event, form, refusal=refusal.message, status=400)
    form.token.data = ""  # the next badge, at the same table
    return _scan_page(event, form, scan=found)


# --------------------------------------------------------------------------- a meeting


def _of_event(event_id: int, meeting: Meeting) -> Meeting:
    """The meeting, of this event and in the schedule: one taken out of it (its request
    called off, its table removed) has no time to have been held or rated at."""
    if meeting.event_id != event_id or meeting.starts_at is None:
        abort(404)
    return meeting


def _meeting_page(meeting: Meeting, *, rating_form: RatingForm | None = None,
                  refusal: str | None = None, status: int = 200):
    me = _me()
    outcome = meeting_outcomes.outcome_of(
        meeting, me, followed=access.can(me, "meeting.outcomes", meeting.request.event))
    form = rating_form
    if form is None:
        form = RatingForm(formdata=None)
        if outcome.rating is not None:
            form.answer.data, form.comment.data = outcome.rating.answer.value, \
                outcome.rating.comment
    return render_template(
        "meeting_outcomes/meeting.html", meeting=meeting, event=meeting.request.event,
        outcome=outcome, rating_form=form, met_form=MetForm(formdata=None), refusal=refusal,
        rating_labels=RATING_LABELS, status_labels=STATUS_LABELS), status


@bp.get("/events/<int:event_id>/meetings/<int:meeting_id>")
@access.requires_on("meeting.view", Meeting, "meeting_id")
def meeting(event_id: int, meeting: Meeting):
    return _meeting_page(_of_event(event_id, meeting))


@bp.post("/events/<int:event_id>/meetings/<int:meeting_id>/met")
@access.requires_on("meeting.take_part", Meeting, "meeting_id", visible="meeting.view")
@inputs.takes(NoInput)
def we_met(event_id: int, meeting: Meeting):
    _of_event(event_id, meeting)
    if not MetForm().validate_on_submit():
        return _meeting_page(meeting, status=400)
    meeting_id = meeting.id
    try:
        held = meeting_outcomes.tap_met(meeting_id, actor=_me())
    except meeting_outcomes.MeetingRefused as refusal:
        unit.discard()
        return _meeting_page(db.session.get(Meeting, meeting_id), refusal=refusal.message,
                             status=409)
    flash(_("The meeting is marked as held.") if held is not None else
          _("Noted: the meeting is marked as held once the other side says so too."),
          "success")
    return redirect(url_for("meeting_outcomes.meeting", event_id=event_id,
                            meeting_id=meeting_id))


@bp.post("/events/<int:event_id>/meetings/<int:meeting_id>/rating")
@access.requires_on("meeting.take_part", Meeting, "meeting_id", visible="meeting.view")
@inputs.takes(MeetingRatingIn)
def rate(event_id: int, meeting: Meeting):
    _of_event(event_id, meeting)
    form = RatingForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, rating_form=form, status=400)
    meeting_id = meeting.id
    try:
        meeting_outcomes.rate(meeting_id, form.input, actor=_me())
    except meeting_outcomes.MeetingRefused as refusal:
        unit.discard()
        return _meeting_page(db.session.get(Meeting, meeting_id), rating_form=form,
                             refusal=refusal.message, status=409)
    flash(_("Thank you: your rating is saved."), "success")
    return redirect(url_for("meeting_outcomes.meeting", event_id=event_id,
                            meeting_id=meeting_id))


# --------------------------------------------------------------------------- the follow-up


def _link_refused(error: DomainError):
    """A link that cannot be used: tampered or unknown (400), expired (410)."""
    status = 410 if isinstance(error, meeting_outcomes.FollowUpClosed) else 400
    return render_template("auth/link_refused.html", message=error.message), status


def _follow_up_page(token: str, follow_up: MeetingFollowUp, *, form=None,
                    agreement_form=None, refusal: str | None = None, status: int = 200):
    side = follow_up.participant
    meeting = follow_up.meeting
    user = side.registration.user
    return render_template(
        "meeting_outcomes/follow_up.html", token=token, follow_up=follow_up,
        meeting=meeting, event=meeting.request.event,
        other=meeting.request.other_side(side),
        zone=registration_mail.recipient_zone(user, meeting.request.event),
        form=form or FollowUpForm(formdata=None),
        agreement_form=agreement_form or MeetingAgreementForm(formdata=None),
        agreement=meeting_outcomes.recorded_agreement(meeting.id),
        closes_at=meeting_outcomes.closes_at(follow_up), labels=FOLLOW_UP_LABELS,
        refusal=refusal), status


@bp.route("/meeting-follow-up/<token>", methods=["GET", "POST"])
@access.by_link
@inputs.takes(FollowUpIn)
def follow_up(token: str):
    try:
        found = meeting_outcomes.open_follow_up(token)
    except DomainError as error:
        return _link_refused(error)
    with force_locale(languages.of_user(found.participant.registration.user)):
        if request.method == "GET":
            return _follow_up_page(token, found)
        form = FollowUpForm()
        if not form.validate_on_submit():
            return _follow_up_page(token, found, form=form, status=400)
        follow_up_id = found.id
        try:
            meeting_outcomes.answer_follow_up(token, form.input)
        except meeting_outcomes.MeetingRefused as refusal:
            unit.discard()
            return _follow_up_page(token, db.session.get(MeetingFollowUp, follow_up_id),
                                   refusal=refusal.message, status=409)
        flash(_("Thank you: your answer is saved."), "success")
        return redirect(url_for("meeting_outcomes.follow_up", token=token))


@bp.post("/meeting-follow-up/<token>/agreement")
@access.by_link
@inputs.takes(MeetingAgreementIn)
def follow_up_agreement(token: str):
    try:
        found = meeting_outcomes.open_follow_up(token)
    except DomainError as error:
        return _link_refused(error)
    with force_locale(languages.of_user(found.participant.registration.user)):
        form = MeetingAgreementForm()
        if not form.validate_on_submit():
            return _follow_up_page(token, found, agreement_form=form, status=400)
        follow_up_id = found.id
        try:
            agreement = meeting_outcomes.record_agreement(token, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
            return _follow_up_page(token, db.session.get(MeetingFollowUp, follow_up_id),
                                   agreement_form=form, status=400)
        except meeting_outcomes.MeetingRefused as refusal:
            unit.discard()
            return _follow_up_page(token, db.session.get(MeetingFollowUp, follow_up_id),
                                   agreement_form=form, refusal=refusal.message, status=409)
        flash(_("The agreement “%(title)s” is recorded. Thank you!", title=agreement.title),
              "success")
        return redirect(url_for("meeting_outcomes.follow_up", token=token))


# --------------------------------------------------------------------------- the figures


@bp.get("/events/<int:event_id>/meetings/outcomes")
@access.requires_on("meeting.outcomes", Event, "event_id", visible="event.view")
def outcomes(event: Event):
    return render_template(
        "meeting_outcomes/outcomes.html", event=event,
        figures=meeting_outcomes.figures(event.id), rating_labels=RATING_LABELS,
        follow_up_labels=FOLLOW_UP_LABELS, status_labels=STATUS_LABELS)

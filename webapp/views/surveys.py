"""Follow-up surveys: the delegate's page behind the mailed link (no sign-in: GET shows
the form, POST answers it), and the answers per event for partner managers and admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from .. import access, inputs, languages, unit
from ..extensions import db
from ..forms.agreements import STATUS_LABELS as AGREEMENT_STATUS_LABELS
from ..forms.surveys import ConfirmOutcomeForm, SurveyForm
from ..inputs.surveys import OutcomeConfirmationIn, SurveyAnswerIn
from ..models import (
    Event,
    Organization,
    Registration,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    User,
    utcnow,
)
from ..services import exports, registration_mail, surveys
from ..services.errors import DomainError
from ..services.fields import Refused
from . import private_download, show_refusal

bp = Blueprint("surveys", __name__)


def _refused(error: DomainError):
    """A link that cannot be used: tampered or unknown (400), expired (410); the status
    rolls the unit back."""
    status = 410 if isinstance(error, surveys.SurveyClosed) else 400
    return render_template("auth/link_refused.html", message=error.message), status


def _respondent_zone(invitation: SurveyInvitation) -> str:
    # The link is opened from the delegate's mailbox: times as their mail showed them.
    reg = invitation.registration
    return registration_mail.recipient_zone(reg.user, reg.event)


def _answered(invitation: SurveyInvitation, status: int = 200):
    return render_template("surveys/answered.html", invitation=invitation,
                           event=invitation.registration.event,
                           zone=_respondent_zone(invitation)), status


@bp.route("/survey/<token>", methods=["GET", "POST"])
@access.public  # the link is the credential, opened from the delegate's mailbox
@inputs.takes(SurveyAnswerIn)
def answer(token: str):
    try:
        invitation = surveys.open_invitation(token)
    except DomainError as error:
        return _refused(error)
    respondent = invitation.registration.user
    with force_locale(languages.of_user(respondent)):
        if invitation.answered_at is not None:
            return _answered(invitation, 409 if request.method == "POST" else 200)
        form = SurveyForm()
        if not form.is_submitted():
            return _form(invitation, form)
        if not form.validate_on_submit():
            return _form(invitation, form, 400)
        try:
            surveys.answer(token, form.input)
        except Refused as error:
            show_refusal(form, error)
            return _form(invitation, form, 400)
        except surveys.AlreadyAnswered:
            # Answered meanwhile (another press of the button, another tab).
            unit.discard()
            return _answered(db.session.get(SurveyInvitation, invitation.id,
                                            populate_existing=True), 409)
        except DomainError as error:
            return _refused(error)
        return render_template("surveys/thanks.html", event=invitation.registration.event)


def _form(invitation: SurveyInvitation, form: SurveyForm, status: int = 200):
    return render_template(
        "surveys/form.html", form=form, invitation=invitation,
        event=invitation.registration.event, respondent=invitation.registration.user,
        zone=_respondent_zone(invitation),
        second_round=invitation.round == SurveyRound.SIX_MONTHS,
        closes_at=surveys.closes_at(invitation)), status


def _visible_responses(event: Event) -> list[SurveyResponse]:
    """The answers about `event` the viewer may read."""
    visible = access.survey_responses_visible_to(current_user).where(
        Registration.event_id == event.id)
    responses = db.session.scalars(
        visible.options(joinedload(SurveyResponse.invitation)
                        .joinedload(SurveyInvitation.registration)
                        .joinedload(Registration.user).joinedload(User.organization)
                        .joinedload(Organization.home_cluster))
        .order_by(SurveyInvitation.round, SurveyResponse.answered_at, SurveyResponse.id)
    ).unique().all()
    return responses


@bp.route("/events/<int:event_id>/surveys")
@access.requires_on("event.surveys", Event, "event_id", visible="event.view")
def results(event: Event):
    responses = _visible_responses(event)
    invited = db.session.scalar(select(func.count()).select_from(
        access.survey_invitations_visible_to(current_user, event).subquery()))
    by_round = {r: [x for x in responses if x.invitation.round == r] for r in SurveyRound}
    return render_template("surveys/results.html", event=event, by_round=by_round,
                           summary=surveys.summarize(responses, invited))


@bp.get("/events/<int:event_id>/surveys.csv")
@access.requires_on("event.surveys", Event, "event_id", visible="event.view")
def results_csv(event: Event):
    responses = _visible_responses(event)
    filename = f"survey-answers-{event.slug}-{utcnow().date().isoformat()}.csv"
    return private_download(surveys.responses_csv(event, responses), exports.CSV_MIMETYPE,
                            filename)


def _confirm_form(found: SurveyResponse, formdata=None) -> ConfirmOutcomeForm:
    form = ConfirmOutcomeForm(formdata=formdata) if formdata is not None else (
        ConfirmOutcomeForm())
    form.agreement_id.choices = [SelectChoice("", _("Choose an agreement"))] + [
        SelectChoice(str(a.id), a.title)
        for a in surveys.confirmable_agreements(current_user, found)]
    return form


def _visible_response(response_id: int) -> SurveyResponse:
    found = db.session.scalar(access.survey_responses_visible_to(current_user)
                              .where(SurveyResponse.id == response_id))
    if found is None:
        abort(404)
    return found


def _response_page(found: SurveyResponse, form: ConfirmOutcomeForm, status: int = 200):
    return render_template("surveys/response.html", response=found, form=form,
                           registration=found.invitation.registration,
                           event=found.invitation.registration.event,
                           agreement_status_labels=AGREEMENT_STATUS_LABELS), status


@bp.route("/surveys/responses/<int:response_id>")
@access.requires_on("survey_response.view", SurveyResponse, "response_id")
def response(survey_response: SurveyResponse):
    found = survey_response
    return _response_page(found, _confirm_form(found))


@bp.post("/surveys/responses/<int:response_id>/agreements")
@access.requires_on("survey_response.view", SurveyResponse, "response_id")
@inputs.takes(OutcomeConfirmationIn)
def confirm_outcome(response_id: int, survey_response: SurveyResponse):
    found = survey_response
    form = _confirm_form(found, request.form)
    if not form.validate():
        return _response_page(found, form, 400)
    try:
        confirmation = surveys.confirm_outcome(current_user, found,
                                               form.input.agreement_id)
    except Refused as refusal:
        show_refusal(form, refusal)
        return _response_page(_visible_response(response_id), form, 400)
    flash(_("Confirmed: %(agreement)s is the outcome this delegate reported.",
            agreement=confirmation.agreement.title), "success")
    return redirect(url_for("surveys.response", response_id=response_id), 303)

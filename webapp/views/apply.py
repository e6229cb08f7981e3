"""Applying to an event: the form with the event's questions, the company profile and the
consents; a refusal explains itself and writes nothing."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, inputs, unit
from ..forms.apply import ApplicationForm, application_form
from ..forms.auth import ResendVerificationForm
from ..inputs.applications import ApplicationIn
from ..models import Event, RegistrationStatus
from ..services import applications, questions
from ..services.errors import AnswersRefused, DomainError

bp = Blueprint("apply", __name__)

# What the applicant is told once the application is in, by the status it reached.
OUTCOMES = {
    RegistrationStatus.SUBMITTED: (
        "success", _l("Your application is submitted. We will write to you once it is "
                      "decided.")),
    RegistrationStatus.APPROVED: ("success", _l("You are registered: your seat is confirmed.")),
    RegistrationStatus.WAITLISTED: (
        "warning", _l("The event is full: you are on the waiting list. We will write to you "
                      "if a seat frees up.")),
}


def _render(event: Event, form: ApplicationForm, status: int = 200):
    me = current_user._get_current_object()
    return render_template(
        "apply/form.html", event=event, form=form, organization=me.organization,
        consent_version=current_app.config["CONSENT_VERSION"],
    ), status


def _show_consent_problem(event, form) -> None:
    """The event's consent rule beside the consent box, with the other problems."""
    if not form.asks_consents:
        return
    consent = applications.consent_problem(event, form.profile_consent.data)
    if consent and not form.profile_consent.errors:
        form.profile_consent.errors = [*form.profile_consent.errors, consent]


def _refused(event: Event, refusal: DomainError, status: int):
    me = current_user._get_current_object()
    return render_template(
        "apply/refused.html", event=event, message=refusal.message,
        unverified=not me.is_verified, registration=applications.own_registration(me, event),
        resend_form=ResendVerificationForm(),
    ), status


@bp.route("/events/<slug>/apply", methods=["GET", "POST"])
@access.requires_on("event.view", Event, "slug", by="slug")
@inputs.takes(ApplicationIn)
def event_form(event: Event):
    me = current_user._get_current_object()
    refusal = applications.refusal(me, event)
    if refusal is not None:
        # A refused POST: unverified accounts may not act yet (403); the others meet a
        # state of the event or of their application that a retry cannot change (409).
        if request.method == "GET":
            return _refused(event, refusal, 200)
        return _refused(event, refusal, 409 if me.is_verified else 403)
    # Applying again after withdrawing starts from the earlier answers; on POST only what
    # was posted counts.
    earlier = applications.own_registration(me, event) if request.method == "GET" else None
    form = application_form(
        event, organization=me.organization, edits_profile=applications.may_edit_profile(me),
        answers={a.question_id: a.value for a in earlier.answers} if earlier else None,
    )
    if not form.is_submitted():
        return _render(event, form)
    if not form.validate_on_submit():
        # What the event's questions say of the answers, beside what the model said.
        form.show_problems(questions.answer_problems(event, form.answers()))
        _show_consent_problem(event, form)
        return _render(event, form, 400)
    application: ApplicationIn = form.input
    try:
        registration = applications.submit(
            me, event, answers=application.by_question(), profile=form.profile(),
            profile_consent=application.profile_consent,
            contact_consent=application.contact_consent,
        )
    except applications.ConsentNeeded as refusal:
        unit.discard()
        form.profile_consent.errors = [*form.profile_consent.errors, refusal.message]
        return _render(event, form, 400)
    except AnswersRefused as refusal:
        unit.discard()
        form.show_problems(refusal.problems)
        _show_consent_problem(event, form)  # every problem at once
        if not refusal.problems:
            form.form_errors.append(refusal.message)
        return _render(event, form, 400)
    except DomainError as refusal:
        unit.discard()
        return _refused(event, refusal, 409)
    category, message = OUTCOMES[registration.status]
    flash(str(message), category)
    return redirect(url_for("account.registration", registration_id=registration.id))


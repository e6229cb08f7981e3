"""Quick registration for public webinars: the visitor's form, and the page of the link
that confirms it (GET shows, POST confirms). Members signed in apply as usual."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy.exc import IntegrityError

from .. import access, inputs, unit
from ..forms.auth import LinkForm
from ..forms.quick_registration import QuickRegistrationForm
from ..inputs.quick_registration import QuickRegistrationIn
from ..models import Event
from ..services import quick_registration, tokens
from ..services.errors import DomainError
from .auth import count_attempt, link_refused, throttled

bp = Blueprint("quick_registration", __name__)

# Throttled like sign-up: each request mails an address.
REGISTER = "quick-register"


def _refused(event: Event, error: DomainError, status: int):
    return render_template(
        "quick_registration/refused.html", event=event, message=error.message,
        sign_in=isinstance(error, quick_registration.NotOffered | quick_registration.AccountExists),
    ), status


def _render(event: Event, form: QuickRegistrationForm, status: int = 200):
    return render_template("quick_registration/form.html", event=event, form=form), status


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@access.requires_on("event.view", Event, "slug", by="slug", signed_in=False)
@inputs.takes(QuickRegistrationIn)
def event_form(event: Event):
    if current_user.is_authenticated:
        return redirect(url_for("apply.event_form", slug=event.slug))
    form = QuickRegistrationForm()
    problem = quick_registration.refusal(event)
    if problem is not None:
        return _refused(event, problem, 409 if form.is_submitted() else 200)
    if not form.is_submitted():
        return _render(event, form)
    if not form.validate_on_submit():
        return _render(event, form, 400)
    email = form.input.email
    refusal = throttled(REGISTER, email)
    if refusal:
        form.form_errors.append(refusal)
        return _render(event, form, 429)
    # Counted whether or not the address has an account, as at sign-up; before the unit
    # writes the mail.
    count_attempt(REGISTER, email)
    try:
        quick_registration.request(
            event, form.input, privacy_version=current_app.config["PRIVACY_VERSION"])
    except DomainError as error:
        unit.discard()
        return _refused(event, error, 409)
    return redirect(url_for("auth.check_inbox", reason="register"))


def _link_problem(token: str, error: DomainError, event: Event | None = None):
    """The page for a confirmation link that cannot be used (now)."""
    if isinstance(error, tokens.TokenUsed):
        # What this press wrote goes; the registration the earlier one made is shown.
        unit.discard()
        registration = quick_registration.confirmed_registration(token)
        if registration is not None:
            return render_template("quick_registration/confirmed.html",
                                   registration=registration)
    if event is None or isinstance(error, tokens.TokenInvalid | tokens.TokenExpired
                                   | tokens.TokenUsed):
        return link_refused(error.message)
    unit.discard()
    return _refused(event, error, 409)


@bp.route("/register/<token>", methods=["GET", "POST"])
@access.public  # the link is the credential, opened from the mailbox it was sent to
@inputs.takes(inputs.NoInput)
def confirm(token: str):
    try:
        wanted = quick_registration.pending(token)
    except DomainError as error:
        return _link_problem(token, error)
    form = LinkForm()
    if not form.validate_on_submit():
        try:
            quick_registration.check(wanted)
        except DomainError as error:
            return _link_problem(token, error, wanted.event)
        return render_template("quick_registration/confirm.html", form=form, wanted=wanted)
    try:
        registration = quick_registration.confirm(token)
    except IntegrityError:
        # Another press of the button used the link a moment before this one.
        return _link_problem(token, tokens.TokenUsed("link.used"))
    except DomainError as error:
        return _link_problem(token, error, wanted.event)
    user = registration.user
    if not current_user.is_authenticated:
        login_user(user)
    flash(_("You are registered for %(event)s. We sent the calendar invitation and your "
            "personal join link to %(email)s. Set a password to sign in again later.",
            event=registration.event.title, email=user.email), "success")
    if current_user.is_authenticated and current_user.id != user.id:
        # Someone else is signed in on this browser: their session is left alone.
        return redirect(url_for("public.event_detail", slug=registration.event.slug))
    return redirect(url_for("account.registration", registration_id=registration.id))

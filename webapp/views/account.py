"""A member's own pages: their profile, their registrations (each with its answers,
consents and history; answers editable until a decision), a copy of their data and
deleting their account."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import access, confirmations, http_cache, inputs, unit
from ..extensions import db
from ..forms.account import (
    ApiTokenForm,
    BrowserZoneForm,
    DeleteAccountForm,
    ProfileForm,
    WithdrawForm,
)
from ..forms.apply import AnswersForm, answers_form
from ..inputs.accounts import ApiTokenIn, BrowserZoneIn, DeleteAccountIn, ProfileIn
from ..inputs.applications import AnswersIn, WithdrawalIn
from ..models import AuditEntry, Event, Registration, RegistrationStatus, utcnow
from ..paging import page_of
from ..services import (
    accounts,
    api_tokens,
    applications,
    messages,
    privacy,
)
from ..services.errors import AnswersRefused, DomainError
from . import private_download

bp = Blueprint("account", __name__, url_prefix="/account")

REGISTRATIONS_PER_PAGE = 25


def _own_registration(registration_id: int) -> Registration:
    reg = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.user_id == current_user.id)
        .options(
            joinedload(Registration.event).selectinload(Event.questions),
            selectinload(Registration.history).joinedload(AuditEntry.actor),
            selectinload(Registration.answers),
        )
    )
    if reg is None:
        abort(404)
    return reg


def _answers(reg: Registration) -> dict:
    return {a.question_id: a.value for a in reg.answers}


def _can_edit_answers(reg: Registration) -> bool:
    # The registration service refuses any other status; asking here only hides the link.
    return reg.status == RegistrationStatus.SUBMITTED and bool(reg.event.questions)


def _answers_fixed(status: RegistrationStatus) -> str:
    """Why the answers can no longer change: a whole sentence per status."""
    if status == RegistrationStatus.APPROVED:
        return _("Your answers can no longer change: the application is approved.")
    if status == RegistrationStatus.REJECTED:
        return _("Your answers can no longer change: the application is rejected.")
    if status == RegistrationStatus.WAITLISTED:
        return _("Your answers can no longer change: the application is on the waiting "
                 "list.")
    if status == RegistrationStatus.WITHDRAWN:
        return _("Your answers can no longer change: the application is withdrawn.")
    if status == RegistrationStatus.CANCELLED:
        return _("Your answers can no longer change: the registration is cancelled.")
    return _("Your answers can no longer change.")


def _registration_page(reg: Registration, status: int = 200):
    return render_template(
        "account/registration.html", registration=reg, answers=_answers(reg),
        can_withdraw=applications.can_withdraw(reg),
        messages=messages.received_by(reg),
        can_edit_answers=_can_edit_answers(reg),
        can_apply_again=reg.status == RegistrationStatus.WITHDRAWN
        and applications.closed_reason(reg.event) is None,
    ), status


@bp.get("/registrations")
@access.login_required
@http_cache.kept_for_user
def registrations_list():
    regs = page_of(
        select(Registration)
        .join(Registration.event)
        .where(Registration.user_id == current_user.id)
        # The sessions too: whether an event meets online (a join link) asks its agenda.
        .options(contains_eager(Registration.event).selectinload(Event.sessions),
                 joinedload(Registration.responsible_partner))
        .order_by(Event.starts_at.desc(), Registration.id.desc()),
        REGISTRATIONS_PER_PAGE)
    return render_template("account/registrations.html", registrations=regs, now=utcnow())


@bp.get("/registrations/<int:registration_id>")
@access.requires_on("registration.own", Registration, "registration_id")
def registration(registration_id: int):
    return _registration_page(_own_registration(registration_id))


@bp.route("/registrations/<int:registration_id>/answers", methods=["GET", "POST"])
@access.requires_on("registration.own", Registration, "registration_id")
@inputs.takes(AnswersIn)
def edit_answers(registration_id: int):
    reg = _own_registration(registration_id)
    if not _can_edit_answers(reg):
        flash(_answers_fixed(reg.status), "warning")
        return redirect(url_for("account.registration", registration_id=reg.id))
    # On POST only what was posted counts: a field left out is an empty answer, never the
    # stored one.
    form = answers_form(list(reg.event.questions),
                        _answers(reg) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            applications.update_answers(current_user._get_current_object(), reg, form.answers())
        except AnswersRefused as refusal:
            form.show_problems(refusal.problems)
            if not refusal.problems:
                form.form_errors.append(refusal.message)
        except DomainError as refusal:
            # Decided while the member was typing.
            unit.discard()
            flash(refusal.message, "warning")
            return redirect(url_for("account.registration", registration_id=reg.id))
        else:
            flash(_("Your answers have been saved."), "success")
            return redirect(url_for("account.registration", registration_id=reg.id))
    return _answers_page(reg, form, 400 if form.is_submitted() else 200)


def _answers_page(reg: Registration, form: AnswersForm, status: int):
    return render_template("account/answers.html", registration=reg, form=form), status


@bp.route("/registrations/<int:registration_id>/withdraw", methods=["GET", "POST"])
@access.requires_on("registration.withdraw", Registration, "registration_id")
@inputs.takes(WithdrawalIn)
def withdraw(registration_id: int):
    """GET: what withdrawing will do, with a reason to give; POST with that page's token:
    do it."""
    reg = _own_registration(registration_id)
    back = url_for("account.registration", registration_id=reg.id)
    if request.method == "GET" and not applications.can_withdraw(reg):
        flash(_("This application can no longer be withdrawn."), "info")
        return redirect(back)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _withdrawal_page(reg, form, status=400 if form.is_submitted() else 200)
    confirmations.require("registration.withdraw", reg.id, start_again=url_for(
        "account.withdraw", registration_id=reg.id))
    try:
        applications.withdraw(current_user._get_current_object(), reg,
                              reason=form.input.reason)
    except DomainError as error:
        unit.discard()
        flash(error.message, "danger")
    else:
        flash(_("Your application has been withdrawn. "
                "You can apply again while registration is open."), "success")
    return redirect(back)


def _withdrawal_page(reg: Registration, form: WithdrawForm, *, status: int):
    """What withdrawing the application will do, before it is done."""
    if reg.status == RegistrationStatus.APPROVED:
        consequences = [_("Your seat is released: it goes to the next on the waiting "
                          "list, who is mailed."),
                        _("The event leaves your calendar: you are mailed its "
                          "cancellation.")]
    elif reg.status == RegistrationStatus.WAITLISTED:
        consequences = [_("You leave the waiting list, and your place in it; no seat is "
                          "freed.")]
    else:
        consequences = [_("Your application is no longer considered; no seat is freed.")]
    consequences += [
        _("The organizers are not mailed: they see on their desk that you withdrew, with "
          "your reason if you give one."),
        _("The withdrawal itself cannot be undone, but you may apply again while "
          "registration is open."),
    ]
    back = url_for("account.registration", registration_id=reg.id)
    return confirmations.page(
        "registration.withdraw", reg.id, title=_("Withdraw your application?"),
        subject=reg.event.title, consequences=consequences,
        action_url=url_for("account.withdraw", registration_id=reg.id),
        confirm_label=_("Withdraw my application"), cancel_url=back, fields=[form.reason],
        status=status)


def _profile_form(**kwargs) -> ProfileForm:
    form = ProfileForm(obj=current_user, **kwargs)
    if not access.can(current_user, "desk.inbox"):
        del form.application_alerts  # only those who decide applications are alerted
    return form


def _profile_page(form: ProfileForm, *, token_form: ApiTokenForm | None = None,
                  new_secret: str | None = None, status: int = 200):
    response = make_response(render_template(
        "account/profile.html", form=form,
        token_form=token_form or ApiTokenForm(formdata=None, prefix="token"),
        api_tokens=api_tokens.tokens_of(current_user), new_secret=new_secret, now=utcnow(),
    ), status)
    if new_secret:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


@bp.route("/profile", methods=["GET", "POST"])
@access.login_required
@inputs.takes(ProfileIn)
def profile():
    form = _profile_form()
    if form.validate_on_submit():
        if accounts.update_profile(current_user._get_current_object(), form.input):
            flash(_("Your profile has been saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("account.profile"))
    return _profile_page(form, status=400 if form.is_submitted() else 200)


@bp.post("/timezone")
@access.login_required
@inputs.takes(BrowserZoneIn)
def detect_timezone():
    """The zone the browser reports (static/js/timezone.js, on pages shown while the
    account has none): stored once, never over a zone already set. JSON for the script:
    the account's zone and whether this request stored it; 400 and nothing written for
    a zone this server does not know."""
    form = BrowserZoneForm()
    if not form.validate_on_submit():
        problems = [*form.timezone.errors, *form.form_errors]
        return jsonify(message=" ".join(map(str, problems))), 400
    user = current_user._get_current_object()
    stored = accounts.adopt_browser_zone(user, form.input.timezone)
    return jsonify(timezone=user.timezone, stored=stored)


@bp.post("/api-tokens")
@access.login_required
@inputs.takes(ApiTokenIn)
def create_api_token():
    """A new token: its secret is shown on the page this POST answers, once; it never
    travels in a redirect or the session cookie."""
    token_form = ApiTokenForm(prefix="token")
    form = _profile_form(formdata=None)
    if not token_form.validate_on_submit():
        return _profile_page(form, token_form=token_form, status=400)
    wanted = token_form.input
    try:
        created = api_tokens.create(current_user._get_current_object(), wanted.name,
                                    read_only=wanted.read_only, expires_on=wanted.expires_on)
    except DomainError as refusal:
        unit.discard()
        token_form.name.errors = [*token_form.name.errors, refusal.message]
        return _profile_page(form, token_form=token_form, status=400)
    return _profile_page(form, new_secret=created.secret, status=201)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@access.login_required
@inputs.takes(inputs.NoInput)
def revoke_api_token(token_id: int):
    """GET: what revoking the token will do; POST with that page's token: do it."""
    here = url_for("account.revoke_api_token", token_id=token_id)
    back = url_for("account.profile", _anchor="api-tokens")
    token = next((t for t in api_tokens.tokens_of(current_user) if t.id == token_id), None)
    if token is None:
        abort(404)  # another user's token looks like an unknown one
    if request.method == "GET":
        if token.revoked_at is not None:
            flash(_("This token is already revoked."), "info")
            return redirect(back)
        return confirmations.page(
            "api_token.revoke", token.id, title=_("Revoke this API token?"),
            subject=f"{token.name} ({token.hint}…)", consequences=[
                _("Every program that calls the API with it is refused from its next call "
                  "on; nobody is mailed."),
                _("This cannot be undone: a revoked token never works again. Create a new "
                  "one for the programs that still need access."),
            ], action_url=here, confirm_label=_("Revoke the token"), cancel_url=back)
    confirmations.require("api_token.revoke", token.id, start_again=here)
    api_tokens.revoke(current_user._get_current_object(), token.id)
    flash(_("The token is revoked: it no longer works."), "success")
    return redirect(back)


@bp.get("/data")
@access.login_required
def export_data():
    data = privacy.export(current_user)
    filename = f"beachhead-data-{utcnow().date().isoformat()}.json"
    return private_download(json.dumps(data, ensure_ascii=False, indent=2),
                            "application/json", filename)


def _still_verified(verified: accounts.Verified):
    """The account re-read in the write step, or None if its password changed meanwhile
    (then the password typed is a wrong one)."""
    try:
        return accounts.still_verified(verified)
    except accounts.WrongPassword:
        return None


@bp.route("/delete", methods=["GET", "POST"])
@access.login_required
@inputs.takes(DeleteAccountIn)
def delete():
    """GET: what deleting the account will do; POST with that page's token and the
    password: do it."""
    form = DeleteAccountForm()
    here = url_for("account.delete")
    if form.validate_on_submit():
        with unit.reading():  # the password is checked without the write lock
            verified = accounts.verify(current_user, form.input.password.get_secret_value())
        user = _still_verified(verified) if verified is not None else None
        if user is None:
            form.password.errors.append(_("The password is not right."))
        else:
            confirmations.require("account.erase", user.id, start_again=here)
            try:
                privacy.erase(user)
            except DomainError as error:
                unit.discard()
                flash(error.message, "danger")
            else:
                logout_user()
                flash(_("Your account has been deleted. Thank you for taking part."), "info")
                return redirect(url_for("public.index"))
    return _erasure_page(form, status=400 if form.is_submitted() else 200)


def _erasure_page(form: DeleteAccountForm, *, status: int):
    form.password.description = _("Enter your password to confirm.")
    upcoming = privacy.upcoming_statuses(current_user)
    seats = upcoming.count(RegistrationStatus.APPROVED)
    consequences = [
        _("Your name, email address, phone number and password are erased, and you are "
          "signed out everywhere; your API tokens stop working."),
        ngettext("%(num)d application to an event that has not started yet is withdrawn.",
                 "%(num)d applications to events that have not started yet are withdrawn.",
                 len(upcoming)),
    ]
    if seats:
        consequences.append(ngettext(
            "%(num)d seat you hold is freed: the first on the waiting list gets it and is "
            "mailed.", "%(num)d seats you hold are freed: the first on each waiting list "
            "gets one and is mailed.", seats))
    consequences += [
        _("Your past participations stay as anonymous entries in the events' statistics; "
          "your organization stays, with its other members."),
        _("This cannot be undone. You may want to download your data first."),
    ]
    return confirmations.page(
        "account.erase", current_user.id, title=_("Delete my account"),
        consequences=consequences, links=[(_("Download my data"),
                                           url_for("account.export_data"))],
        action_url=url_for("account.delete"), confirm_label=_("Delete my account for good"),
        cancel_url=url_for("account.profile"), fields=[form.password], status=status)

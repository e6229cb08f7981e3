"""Credentials: signing in and out, signing up, confirming the email address, resetting and
changing the password, changing the email address.

Nothing here may tell a visitor whether an address has an account: sign-up, reset and
the throttling messages answer the same either way (the accounts service mails the owner
instead). Failed sign-ins, sign-ups and reset requests are throttled per address typed
and per client IP (services.throttle); a counted attempt stands whatever the request does
next (`unit.aside`).

Passwords are checked and hashed in the unit's read step (`unit.reading()`), never while
the write lock is held; the write step that follows re-reads the account and acts only
while its password is still the one checked (services.accounts.Verified).
"""

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
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import access, collation, http_cache, inputs, unit
from ..errors import render_error
from ..extensions import db
from ..forms import auth as forms
from ..inputs.accounts import (
    ChangeEmailIn,
    ChangePasswordIn,
    LoginIn,
    ResetPasswordIn,
    ResetRequestIn,
    SignupIn,
)
from ..models import Partner, PartnerKind
from ..security import is_safe_redirect
from ..services import accounts, throttle, tokens
from ..services.errors import DomainError
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("auth", __name__)

# Throttled actions (the first part of a throttle key).
LOGIN = "login"  # a wrong password, at sign-in or when a signed-in user confirms one
SIGNUP = "signup"
RESET = "reset"
VERIFY = "verify"  # asking for another verification mail


def client_ip() -> str:
    """The address throttling counts per client.

    `request.remote_addr` is the peer of the WSGI server. Behind a reverse proxy that is
    the proxy, and every visitor would share its counter: the deployment sets
    TRUSTED_PROXIES to the number of proxies that append to X-Forwarded-For, and the entry
    the outermost of them wrote is taken. Entries left of it are whatever the client
    sent, so they are never trusted.
    """
    hops = current_app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "")
                     .split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def throttled(action: str, account: str | None) -> str | None:
    """The message to show when `action` is over its limit for this address or client."""
    try:
        throttle.check(action, account=account, ip=client_ip())
    except throttle.Throttled as refusal:
        return refusal.message
    return None


def count_attempt(action: str, account: str | None) -> None:
    """Count an attempt in a transaction of its own: it stands whatever the unit does
    next. Before the unit writes (unit.aside)."""
    with unit.aside("throttle"):
        throttle.hit(action, account=account, ip=client_ip())


def _redirect_back(target: str | None = None):
    return redirect(target if is_safe_redirect(target) else url_for("public.index"))


def link_refused(message: str, *, next_step: str | None = None):
    """A one-time link that cannot be used: say why, and where to get a new one. Whatever
    its use wrote is discarded before the page is rendered (the 400 ends the unit)."""
    unit.discard()
    return render_template("auth/link_refused.html", message=message,
                           next_step=next_step), 400


def _token_step(use):
    """Run `use()` (which consumes a token); a second use racing this one is refused by
    the used-tokens primary key."""
    try:
        return use(), None
    except IntegrityError:
        return None, tokens.TokenUsed("link.used").message
    except DomainError as error:
        return None, error.message


# --------------------------------------------------------------------------- sign in, out


@bp.route("/login", methods=["GET", "POST"])
@access.public
@http_cache.visitor_page(reads_data=False)
@inputs.takes(LoginIn)
def login():
    form = forms.LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email = form.input.email
        with unit.reading():
            refusal = throttled(LOGIN, email)
            # Not even a right password is checked while the account or client is blocked.
            verified = None if refusal else accounts.check_sign_in(
                email, form.input.password.get_secret_value())
        if refusal:
            form.form_errors.append(refusal)
            return render_template("auth/login.html", form=form), 429
        # The write step: refused like a wrong password if a reset changed it meanwhile.
        user = accounts.sign_in(verified) if verified is not None else None
        if user is not None:
            throttle.clear(LOGIN, account=email)
            login_user(user, remember=form.input.remember)
            flash(_("Welcome back, %(name)s.", name=user.name), "success")
            return _redirect_back(form.next.data)
        count_attempt(LOGIN, email)
        form.password.errors.append(_("The email or password is not right."))
    elif current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("public.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@access.public
@inputs.takes(inputs.NoInput)
def logout():
    form = forms.LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You have been signed out."), "info")
    return redirect(url_for("public.index"))


# --------------------------------------------------------------------------- sign-up


def _signup_form() -> forms.SignupForm:
    """The sign-up form, offering the partnership's clusters; the organization to join is
    typed, never listed (the directory is not shown to visitors)."""
    clusters = db.session.execute(
        select(Partner.id, Partner.name)
        .where(Partner.kind == PartnerKind.CLUSTER, Partner.is_member.is_(True))
    ).all()
    return forms.SignupForm(clusters=collation.sorted_by(clusters, lambda c: c.name))


def _render_signup(form: forms.SignupForm, status: int = 200):
    return render_template("auth/signup.html", form=form), status


@bp.route("/signup", methods=["GET", "POST"])
@access.public
@inputs.takes(SignupIn)
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    with unit.reading():
        form = _signup_form()
        valid = form.validate_on_submit()
        email = form.input.email if valid else None
        refusal = throttled(SIGNUP, email) if valid else None
        # Hashed whether or not the address is new, so both answers take the same time.
        password_hash = (accounts.hash_password(form.input.password.get_secret_value())
                         if valid and not refusal else None)
    if not valid:
        return _render_signup(form)
    if refusal:
        form.form_errors.append(refusal)
        return _render_signup(form, 429)
    # Counted whether or not the address was new, like everything else here.
    count_attempt(SIGNUP, email)
    try:
        accounts.sign_up(form.input, password_hash,
                         privacy_version=current_app.config["PRIVACY_VERSION"])
    except Refused as refused:  # an organization or cluster the page did not offer
        show_refusal(form, refused)
        return _render_signup(form)
    except DomainError as error:
        unit.discard()
        form.form_errors.append(error.message)
        return _render_signup(form)
    return redirect(url_for("auth.check_inbox", reason="signup"))


@bp.get("/check-inbox")
@access.public
def check_inbox():
    """What happens next after a form that mails a link; the same page whether or not the
    address has an account."""
    reason = request.args.get("reason", "")
    return render_template("auth/check_inbox.html", reason=reason)


@bp.get("/privacy")
@access.public
def privacy_notice():
    return render_template("legal/privacy.html",
                           version=current_app.config["PRIVACY_VERSION"])


# --------------------------------------------------------------------------- verification


@bp.route("/verify/<token>", methods=["GET", "POST"])
@access.public
@inputs.takes(inputs.NoInput)
def verify_email(token: str):
    form = forms.LinkForm()
    if form.validate_on_submit():
        user, refusal = _token_step(lambda: accounts.verify_email(token))
        if refusal:
            return link_refused(refusal, next_step="resend")
        flash(_("Thank you: your email address %(email)s is confirmed.", email=user.email),
              "success")
        if current_user.is_authenticated:
            return redirect(url_for("public.index"))
        return redirect(url_for("auth.login"))
    user, refusal = _token_step(lambda: accounts.verification_account(token))
    if refusal:
        return link_refused(refusal, next_step="resend")
    return render_template("auth/verify_email.html", form=form, email=user.email)


@bp.post("/resend-verification")
@access.login_required
@inputs.takes(inputs.NoInput)
def resend_verification():
    # CSRFProtect has checked the POST already; the form only carries where to go back.
    target = forms.ResendVerificationForm().next.data
    email = current_user.email
    refusal = throttled(VERIFY, email)
    if refusal:
        return render_error(429, refusal)
    count_attempt(VERIFY, email)  # before the unit writes the mail
    try:
        accounts.resend_verification(current_user)
    except accounts.AlreadyVerified as error:
        flash(error.message, "info")
        return _redirect_back(target)
    flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "info")
    return _redirect_back(target)


# --------------------------------------------------------------------------- password reset


@bp.route("/reset", methods=["GET", "POST"])
@access.public
@inputs.takes(ResetRequestIn)
def reset_request():
    form = forms.ResetRequestForm()
    if not form.validate_on_submit():
        return render_template("auth/reset_request.html", form=form)
    email = form.input.email
    refusal = throttled(RESET, email)
    if refusal:
        form.form_errors.append(refusal)
        return render_template("auth/reset_request.html", form=form), 429
    count_attempt(RESET, email)  # before the unit writes the mail
    accounts.request_password_reset(email)
    return redirect(url_for("auth.check_inbox", reason="reset"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@access.public
@inputs.takes(ResetPasswordIn)
def reset_password(token: str):
    with unit.reading():
        _user, refusal = _token_step(lambda: accounts.reset_account(token))
        form = forms.ResetPasswordForm()
        ready = refusal is None and form.validate_on_submit()
        password_hash = (accounts.hash_password(form.input.password.get_secret_value())
                         if ready else None)
    if refusal:
        return link_refused(refusal, next_step="reset")
    if not ready:
        return render_template("auth/reset_password.html", form=form)
    # The write step reads the link and the account again: used or outdated meanwhile, it
    # is refused; a sign-in that completed meanwhile is signed out by the new version.
    user, refusal = _token_step(lambda: accounts.reset_password(token, password_hash))
    if refusal:
        return link_refused(refusal, next_step="reset")
    # Whoever reset the password may sign in again at once.
    throttle.clear(LOGIN, account=user.email)
    # The new session version ends every other session; this device is signed in anew.
    login_user(user)
    flash(_("Your password has been changed, and you are signed in. "
            "Any other device signed in to your account has been signed out."), "success")
    return redirect(url_for("public.index"))


# --------------------------------------------------------------------------- signed in


def _sign_in_again(user) -> None:
    """After the session version moved: keep this session (and its remember-me cookie,
    if it had one) by signing in with the new session id."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in (
        request.cookies)
    login_user(user, remember=remembered)


def _password_step(check):
    """Run `check()` (a password check, in the read step): what it verified, or why not."""
    try:
        return check(), None
    except accounts.WrongPassword as error:
        return None, error


def _refuse_password(email: str, field, error: accounts.WrongPassword) -> None:
    """A wrong current password counts as a failed sign-in: a stolen session cannot be
    used to guess the password. Nothing was written, so the count goes first."""
    count_attempt(LOGIN, email)
    field.errors.append(error.message)


@bp.route("/account/password", methods=["GET", "POST"])
@access.login_required
# An account without a password sets its first one here (SetPasswordIn: the same
# fields, less the current password).
@inputs.takes(ChangePasswordIn)
def change_password():
    if not current_user.password_hash:
        return _set_first_password()
    form = forms.ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/change_password.html", form=form)
    user = current_user._get_current_object()
    email = user.email
    with unit.reading():
        refusal = throttled(LOGIN, email)
        verified, wrong = (None, None) if refusal else _password_step(
            lambda: accounts.check_current_password(
                user, form.input.current_password.get_secret_value()))
        password_hash = (accounts.hash_password(form.input.password.get_secret_value())
                         if verified else None)
    if refusal:
        form.form_errors.append(refusal)
        return render_template("auth/change_password.html", form=form), 429
    if verified is not None:
        user, wrong = _password_step(lambda: accounts.change_password(verified, password_hash))
    if wrong is not None:
        _refuse_password(email, form.current_password, wrong)
        return render_template("auth/change_password.html", form=form)
    _sign_in_again(user)
    flash(_("Your password has been changed. Other devices signed in to your account "
            "have been signed out."), "success")
    return redirect(url_for("auth.change_password"))


def _set_first_password():
    """An account made by a quick registration has no password until its owner sets one."""
    form = forms.SetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/change_password.html", form=form, first=True)
    user_id = current_user.id
    with unit.reading():
        password_hash = accounts.hash_password(form.input.password.get_secret_value())
    try:
        user = accounts.set_first_password(user_id, password_hash)
    except accounts.PasswordAlreadySet as error:
        # Set from another tab meanwhile.
        unit.discard()
        flash(error.message, "info")
        return redirect(url_for("auth.change_password"))
    _sign_in_again(user)
    flash(_("Your password is set: from now on you can also sign in with it."), "success")
    return redirect(url_for("auth.change_password"))


@bp.route("/account/email", methods=["GET", "POST"])
@access.login_required
@inputs.takes(ChangeEmailIn)
def change_email():
    form = forms.ChangeEmailForm()
    if not form.validate_on_submit():
        return render_template("auth/change_email.html", form=form)
    user = current_user._get_current_object()
    email = user.email
    with unit.reading():
        refusal = throttled(LOGIN, email)
        verified, wrong = (None, None) if refusal else _password_step(
            lambda: accounts.check_password(user, form.input.password.get_secret_value()))
    if refusal:
        form.form_errors.append(refusal)
        return render_template("auth/change_email.html", form=form), 429
    if verified is not None:
        try:
            accounts.request_email_change(verified, form.input.email)
        except accounts.WrongPassword as error:
            wrong = error
        except accounts.SameEmail as error:
            form.email.errors.append(error.message)
            return render_template("auth/change_email.html", form=form)
    if wrong is not None:
        _refuse_password(email, form.password, wrong)
        return render_template("auth/change_email.html", form=form)
    return redirect(url_for("auth.check_inbox", reason="email"))


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@access.public  # the link itself is the credential; it may be opened on another device
@inputs.takes(inputs.NoInput)
def confirm_email_change(token: str):
    found, refusal = _token_step(lambda: accounts.email_change_for(token))
    if refusal:
        return link_refused(refusal)
    form = forms.LinkForm()
    if not form.validate_on_submit():
        _user, new_email = found
        return render_template("auth/confirm_email_change.html", form=form,
                               new_email=new_email)
    user, refusal = _token_step(lambda: accounts.confirm_email_change(token))
    if refusal:
        return link_refused(refusal)
    flash(_("Your email address is now %(email)s.", email=user.email), "success")
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    return redirect(url_for("auth.login"))

"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import access
from ..forms.auth import LoginForm, LogoutForm
from ..security import is_safe_redirect
from ..services import accounts

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash(_("Welcome back, %(name)s.", name=user.name), "success")
            target = form.next.data
            return redirect(target if is_safe_redirect(target) else url_for("public.index"))
        form.password.errors.append(_("The email or password is not right."))
    elif current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("public.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@access.public
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You have been signed out."), "info")
    return redirect(url_for("public.index"))

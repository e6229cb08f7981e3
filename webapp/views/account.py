"""A member's own pages: their profile, their registrations and each one's history, a
copy of their data and deleting their account."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..extensions import db
from ..forms.account import DeleteAccountForm, ProfileForm, WithdrawForm
from ..models import AuditEntry, Event, Registration, utcnow
from ..services import audit, privacy, registrations
from ..services.errors import DomainError

bp = Blueprint("account", __name__, url_prefix="/account")


def _own_registration(registration_id: int) -> Registration:
    reg = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.user_id == current_user.id)
        .options(
            joinedload(Registration.event),
            selectinload(Registration.history).joinedload(AuditEntry.actor),
        )
    )
    if reg is None:
        abort(404)
    return reg


@bp.get("/registrations")
@access.login_required
def registrations_list():
    regs = db.session.scalars(
        select(Registration)
        .join(Registration.event)
        .where(Registration.user_id == current_user.id)
        .options(joinedload(Registration.event), joinedload(Registration.responsible_partner))
        .order_by(Event.starts_at.desc())
    ).all()
    return render_template("account/registrations.html", registrations=regs)


@bp.get("/registrations/<int:registration_id>")
@access.login_required
def registration(registration_id: int):
    reg = _own_registration(registration_id)
    return render_template(
        "account/registration.html", registration=reg, withdraw_form=WithdrawForm(),
        can_withdraw=registrations.can_transition(reg.status, registrations.S.WITHDRAWN),
    )


@bp.post("/registrations/<int:registration_id>/withdraw")
@access.login_required
def withdraw(registration_id: int):
    reg = _own_registration(registration_id)
    access.authorize("registration.withdraw", reg)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_template(
            "account/registration.html", registration=reg, withdraw_form=form,
            can_withdraw=True,
        ), 400
    try:
        registrations.withdraw(reg.id, actor=current_user, reason=form.reason.data or "")
    except DomainError as error:
        flash(error.message, "danger")
    else:
        flash(_("Your application has been withdrawn. "
                "You can apply again while registration is open."), "success")
    return redirect(url_for("account.registration", registration_id=registration_id))


@bp.route("/profile", methods=["GET", "POST"])
@access.login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        changes = audit.diff(current_user, {
            "name": form.name.data, "phone": form.phone.data or "",
            "timezone": form.timezone.data, "locale": form.locale.data,
        })
        if changes:
            audit.record(current_user, "account.updated", current_user._get_current_object(),
                         changes=changes)
            db.session.commit()
            flash(_("Your profile has been saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("account.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("account/profile.html", form=form), status


@bp.get("/data")
@access.login_required
def export_data():
    data = privacy.export(current_user)
    filename = f"beachhead-data-{utcnow().date().isoformat()}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Personal data: never kept by a shared proxy or the browser cache.
            "Cache-Control": "no-store",
        },
    )


@bp.route("/delete", methods=["GET", "POST"])
@access.login_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not privacy.verify_password(current_user, form.password.data):
            form.password.errors.append(_("The password is not right."))
        else:
            try:
                privacy.erase(current_user._get_current_object())
            except DomainError as error:
                flash(error.message, "danger")
            else:
                logout_user()
                flash(_("Your account has been deleted. Thank you for taking part."), "info")
                return redirect(url_for("public.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("account/delete.html", form=form), status

"""A member's own pages: their registrations and each one's history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..extensions import db
from ..forms.account import WithdrawForm
from ..models import AuditEntry, Event, Registration
from ..services import registrations
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

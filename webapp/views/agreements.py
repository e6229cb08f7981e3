"""Agreements: partner managers record and correct their clusters' agreements, admins
everyone's. Views parse, ask `access`, call the agreements service and render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access, collation, http_cache, inputs
from ..extensions import db
from ..forms.agreements import KIND_LABELS, STATUS_LABELS, TYPE_LABELS, AgreementForm
from ..ids import page_arg
from ..inputs.agreements import AgreementIn
from ..models import Agreement, AgreementParty, Event, EventStatus, Partner
from ..paging import page_of
from ..services import agreements
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("agreements", __name__, url_prefix="/agreements")

PER_PAGE = 50


def _responsible_choices() -> list[Partner]:
    """The member clusters the user may record agreements for."""
    members = db.session.scalars(
        collation.ordered(select(Partner).where(Partner.is_member), Partner)).all()
    return [p for p in members if access.can(current_user, "agreement.record_for", p)]


def _form(**kwargs) -> AgreementForm:
    events = db.session.scalars(
        access.events_visible_to(current_user).where(Event.status != EventStatus.DRAFT)
        .order_by(Event.starts_at.desc())).all()
    return AgreementForm(partners=_responsible_choices(), parties=agreements.party_choices(),
                         events=events, **kwargs)


def _refuse_foreign_cluster(form: AgreementForm) -> bool:
    """A responsible cluster outside the user's own is refused like any bad value."""
    partner = agreements.partner_named(form.input.responsible_partner_id)
    if partner is not None and not access.can(current_user, "agreement.record_for", partner):
        form.responsible_partner_id.errors = [
            *form.responsible_partner_id.errors,
            _("Choose one of your own clusters: you record agreements for those.")]
        return True
    return False


def _render(form: AgreementForm, agreement: Agreement | None, status: int):
    return render_template("agreements/form.html", form=form, agreement=agreement), status


@bp.get("/", endpoint="index")
@access.requires("agreement.record")
@http_cache.kept_for_user
def agreements_list():
    page = page_arg()
    query = access.agreements_visible_to(current_user).options(
        selectinload(Agreement.parties).selectinload(AgreementParty.partner),
        selectinload(Agreement.parties).selectinload(AgreementParty.organization),
        selectinload(Agreement.responsible_partner),
        selectinload(Agreement.origin_event),
    ).order_by(Agreement.signed_on.desc().nulls_first(), Agreement.started_on.desc(),
               Agreement.id.desc())
    pagination = page_of(query, PER_PAGE, page=page)
    return render_template("agreements/list.html", pagination=pagination,
                           kind_labels=KIND_LABELS, type_labels=TYPE_LABELS,
                           status_labels=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@access.requires("agreement.record")
@inputs.takes(AgreementIn)
def agreement_new():
    form = _form()
    if request.method == "GET":
        choices = _responsible_choices()
        if len(choices) == 1:
            form.responsible_partner_id.data = str(choices[0].id)
        return _render(form, None, 200)
    if form.validate_on_submit() and not _refuse_foreign_cluster(form):
        try:
            agreement = agreements.create(current_user, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The agreement “%(title)s” was recorded.", title=agreement.title),
                  "success")
            return redirect(url_for("agreements.index"))
    return _render(form, None, 400)


@bp.route("/<int:agreement_id>", methods=["GET", "POST"])
@access.requires_on("agreement.edit", Agreement, "agreement_id", first="agreement.record")
@inputs.takes(AgreementIn)
def agreement_edit(agreement: Agreement):
    if request.method == "GET":
        form = _form(data=dict(
            kind=agreement.kind.value, type=agreement.type.value,
            status=agreement.status.value, title=agreement.title,
            description=agreement.description,
            responsible_partner_id=str(agreement.responsible_partner_id),
            parties=[agreements.party_key(p) for p in agreement.parties],
            started_on=agreement.started_on, signed_on=agreement.signed_on,
            ended_on=agreement.ended_on,
            origin_event_id=str(agreement.origin_event_id or ""),
        ))
        return _render(form, agreement, 200)
    form = _form()
    if form.validate_on_submit() and not _refuse_foreign_cluster(form):
        try:
            agreements.update(current_user, agreement, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The agreement “%(title)s” was saved.", title=agreement.title), "success")
            return redirect(url_for("agreements.index"))
    return _render(form, agreement, 400)

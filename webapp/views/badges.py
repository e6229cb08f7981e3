"""Badges as PDF: a delegate's own, one registration's for its deciders, and an event's
batch for its organizers (all of it) and partner managers (their clusters' delegates).

Only an approved registration has a badge; any other, and anything outside the user's
scope, is 404 like an unknown id. Batches above `badges.BACKGROUND_THRESHOLD` are built in
the background (`services.badge_batches`) while a page shows their progress.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
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
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, undefer
from wtforms.fields.choices import SelectChoice

from .. import access, inputs
from ..errors import render_error
from ..extensions import db
from ..forms.badges import EVERY_PARTNER, BatchForm
from ..inputs.badges import BadgeBatchIn
from ..models import BadgeBatch, BadgeFormat, BatchStatus, Event, Partner, Registration, utcnow
from ..services import badge_batches, badges, errors
from . import private_download

bp = Blueprint("badges", __name__)


def _format(value: str | None) -> BadgeFormat:
    try:
        return BadgeFormat(value or BadgeFormat.A6.value)
    except ValueError:
        abort(make_response(render_error(400, _("The paper must be a6 or a4."))))


def _pdf(body: bytes, filename: str) -> Response:
    return private_download(body, "application/pdf", filename)


@bp.get("/registrations/<int:registration_id>/badge.pdf")
@access.requires_on("registration.badge", Registration, "registration_id")
def registration_badge(registration: Registration):
    badge_format = _format(request.args.get("format"))
    return _pdf(badges.badge_pdf(registration, badge_format),
                f"badge-{registration.event.slug}-{registration.id}-{badge_format}.pdf")


# --------------------------------------------------------------------------- an event's batch


def _partner_choices(event: Event) -> list[SelectChoice]:
    """Every cluster among the delegates the user may print for, then "all of them"."""
    served = access.delegates_served_by(current_user, event).with_only_columns(
        Registration.responsible_partner_id).distinct()
    partners = db.session.scalars(
        select(Partner).where(Partner.id.in_(served)).order_by(Partner.name)).all()
    return [SelectChoice(EVERY_PARTNER, _("All the delegates I may print for")),
            *[SelectChoice(str(p.id), p.name) for p in partners]]


def _batch_form(event: Event, formdata=None, *, csrf: bool = True) -> BatchForm:
    """The paper and partner choice; `csrf=False` for the GET download, which changes
    nothing (and must not carry a token in its URL)."""
    meta = {} if csrf else {"csrf": False}
    form = BatchForm(formdata=formdata, meta=meta) if formdata is not None else BatchForm(meta=meta)
    form.partner.choices = _partner_choices(event)
    return form


def _index_page(event: Event, form: BatchForm, status: int = 200):
    return render_template(
        "badges/index.html", event=event, form=form,
        count=badges.batch_size(current_user, event),
        threshold=badges.BACKGROUND_THRESHOLD,
        batches=badge_batches.recent_for(current_user, event),
        is_stale=badge_batches.is_stale,
    ), status


@bp.get("/events/<int:event_id>/badges")
@access.requires_on("event.badges", Event, "event_id", visible="event.view")
def index(event: Event):
    return _index_page(event, _batch_form(event))


@bp.get("/events/<int:event_id>/badges.pdf")
@access.requires_on("event.badges", Event, "event_id", visible="event.view")
def event_badges(event: Event):
    """The batch as one PDF, now; a batch above the threshold goes to the background."""
    form = _batch_form(event, formdata=request.args, csrf=False)
    if not form.validate():
        return _index_page(event, form, 400)
    partner_id = form.input.partner_id
    count = badges.batch_size(current_user, event, partner_id)
    if count == 0:
        form.form_errors.append(_("There are no approved delegates whose badges you may print."))
        return _index_page(event, form, 404)
    if count > badges.BACKGROUND_THRESHOLD:
        flash(ngettext("%(num)d badge is built in the background: press “Build the badges”.",
                       "%(num)d badges are built in the background: press “Build the "
                       "badges”.", count), "info")
        return redirect(url_for("badges.index", event_id=event.id))
    badge_format = form.input.format
    body = badges.batch_pdf(current_user, event, badge_format, partner_id=partner_id)
    return _pdf(body, f"badges-{event.slug}-{badge_format}-{utcnow().date().isoformat()}.pdf")


@bp.post("/events/<int:event_id>/badges/batches")
@access.requires_on("event.badges", Event, "event_id", visible="event.view")
@inputs.takes(BadgeBatchIn)
def start_batch(event: Event):
    form = _batch_form(event, formdata=request.form)
    if not form.validate():
        return _index_page(event, form, 400)
    try:
        batch = badge_batches.request_batch(current_user._get_current_object(), event,
                                            form.input.format,
                                            partner_id=form.input.partner_id)
    except badge_batches.NothingToPrint as refusal:
        form.form_errors.append(str(refusal))
        return _index_page(event, form, 400)
    badge_batches.start(batch.id)  # built once this request's unit has committed
    return redirect(url_for("badges.batch", batch_id=batch.id), 303)


def _batch(batch_id: int, *, with_file: bool = False) -> BadgeBatch:
    query = select(BadgeBatch).where(BadgeBatch.id == batch_id).options(
        joinedload(BadgeBatch.event))
    if with_file:
        query = query.options(undefer(BadgeBatch.pdf))
    batch = db.session.scalar(query)
    if batch is None:
        abort(404)
    access.authorize("batch.view", batch)
    return batch


def _batch_error(batch: BadgeBatch, status: BatchStatus) -> str:
    """Why the batch failed, in the reader's language."""
    if batch.error in errors.CODES:
        return errors.render(batch.error, {})
    if batch.error == badge_batches.BUILD_FAILED:
        return _("The badges could not be built. Please try again.")
    if batch.error:
        return batch.error  # recorded as a sentence before batches recorded codes
    if status != batch.status:
        return _("The badges stopped building. Please try again.")
    return ""


def _progress(batch: BadgeBatch) -> dict:
    status = BatchStatus.FAILED if badge_batches.is_stale(batch) else batch.status
    expired = badge_batches.is_expired(batch)
    expires = badge_batches.expires_at(batch)
    return {
        "status": status.value,
        "done": batch.done,
        "total": batch.total,
        "percent": int(100 * batch.done / batch.total) if batch.total else 0,
        "error": _batch_error(batch, status),
        "download_url": (url_for("badges.batch_file", batch_id=batch.id)
                         if status == BatchStatus.DONE and not expired else None),
        "expires_at": expires.isoformat() if expires else None,
        "expired": expired,
    }


@bp.get("/badges/batches/<int:batch_id>")
@access.requires_on("batch.view", BadgeBatch, "batch_id")
def batch(batch_id: int):
    found = _batch(batch_id)
    return render_template("badges/batch.html", batch=found, event=found.event,
                           progress=_progress(found),
                           expires=badge_batches.expires_at(found))


@bp.get("/badges/batches/<int:batch_id>/progress")
@access.requires_on("batch.view", BadgeBatch, "batch_id")
def batch_progress(batch_id: int):
    response = jsonify(_progress(_batch(batch_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/badges/batches/<int:batch_id>/badges.pdf")
@access.requires_on("batch.view", BadgeBatch, "batch_id")
def batch_file(batch_id: int):
    found = _batch(batch_id, with_file=True)
    if found.status != BatchStatus.DONE or found.pdf is None:
        abort(404)
    if badge_batches.is_expired(found):
        return render_error(410, _("This file was kept for an hour and is gone: build the "
                                   "badges again, from the database as it is now."))
    return _pdf(found.pdf, f"badges-{found.event.slug}-{found.format}-{found.id}.pdf")

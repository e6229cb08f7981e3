"""An event's delegation: the list grouped by cluster, its CSV and XLSX exports, and the
messages to the delegation with their log.

Every endpoint finds the event among those the user may see (404 otherwise, like an
unknown id), then asks the policy for the action (403: the event is known, the role
does not reach its delegation). The list, the CSV and the XLSX all come from
`services.delegation.delegation_for`, so a file never holds more than the page.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import access, http_cache, inputs, unit
from ..forms.delegation import WHOLE_DELEGATION, MessageForm
from ..inputs.delegation import DelegationMessageIn
from ..models import Event, search, utcnow
from ..services import delegation, exports, messages
from ..services.errors import DomainError
from . import private_download

bp = Blueprint("delegation", __name__, url_prefix="/events/<int:event_id>")

PER_PAGE = 100


@bp.get("/delegation")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
@http_cache.kept_for_user
def index(event: Event):
    typed = search.typed(request.args.get("q"))
    shown = delegation.delegation_page(current_user, event, typed, PER_PAGE)
    return render_template("delegation/index.html", event=event, search=typed,
                           delegation=shown.delegation, shown=shown,
                           pagination=shown.pagination)


def _download(body: bytes, mimetype: str, event: Event, extension: str) -> Response:
    filename = f"delegation-{event.slug}-{utcnow().date().isoformat()}.{extension}"
    return private_download(body, mimetype, filename)


@bp.get("/delegation.csv")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
def export_csv(event: Event):
    return _download(delegation.delegation_csv(current_user, event), exports.CSV_MIMETYPE,
                     event, "csv")


@bp.get("/delegation.xlsx")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
def export_xlsx(event: Event):
    return _download(delegation.delegation_xlsx(current_user, event), exports.XLSX_MIMETYPE,
                     event, "xlsx")


def _message_form(event: Event) -> MessageForm:
    form = MessageForm()
    choices = [(str(pid), name) for pid, name in messages.audience_partners(current_user, event)]
    # Only the event's organizers address the whole delegation (the service checks again).
    if access.can(current_user, "event.manage", event):
        choices.insert(0, (WHOLE_DELEGATION, _("The whole approved delegation")))
    form.audience.choices = choices
    return form


def _messages_page(event: Event, form: MessageForm, status: int = 200):
    return render_template("delegation/messages.html", event=event, form=form,
                           log=messages.log_for(current_user, event)), status


@bp.get("/delegation/messages")
@access.requires_on("event.message", Event, "event_id", visible="event.view")
def message_log(event: Event):
    return _messages_page(event, _message_form(event))


@bp.post("/delegation/messages")
@access.requires_on("event.message", Event, "event_id", visible="event.view")
@inputs.takes(DelegationMessageIn)
def send_message(event_id: int, event: Event):
    form = _message_form(event)
    if not form.validate_on_submit():
        return _messages_page(event, form, 400)
    try:
        message = messages.send(current_user._get_current_object(), event,
                                partner_id=form.input.partner_id, subject=form.input.subject,
                                body=form.input.body)
    except DomainError as refusal:
        unit.discard()
        form.form_errors.append(refusal.message)
        return _messages_page(event, form, 400)
    flash(ngettext("Your message is on its way to %(num)d recipient.",
                   "Your message is on its way to %(num)d recipients.",
                   len(message.recipients)), "success")
    return redirect(url_for("delegation.message_log", event_id=event_id))

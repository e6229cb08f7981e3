"""The delegation brochure of an event, as PDF, built in the background.

The same people who see the delegation list (`event.delegation`) may ask for it: the
event is looked up among those the user may see (404 otherwise, like an unknown id),
then the policy decides (403: the event is known, the role does not reach its
delegation). What each delegate's contact cells show is decided per row by the service,
for the person who asked: the file is theirs (`services.downloads`). The GET URL shows the
button that starts it; the POST starts it and leads to its progress page.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, inputs
from ..models import Event
from ..services import downloads
from .downloads import started

bp = Blueprint("brochure", __name__, url_prefix="/events/<int:event_id>")


@bp.get("/brochure.pdf")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
def download(event: Event):
    return render_template("downloads/start.html",
                           title=_("Delegation brochure: %(event)s", event=event.title),
                           action=url_for("brochure.request", event_id=event.id),
                           back=url_for("delegation.index", event_id=event.id))


@bp.post("/brochure.pdf")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
@inputs.takes(inputs.NoInput)
def request(event: Event):
    download, joined = downloads.request_brochure(current_user._get_current_object(), event)
    return started(download, joined)

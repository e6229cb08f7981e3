"""The delegation brochure of an event, as PDF.

The same people who see the delegation list (`event.delegation`) may download it: the
event is looked up among those the user may see (404 otherwise, like an unknown id),
then the policy decides (403: the event is known, the role does not reach its
delegation). What each delegate's contact cells show is decided per row by the service.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from .. import access
from ..models import Event, utcnow
from ..services import brochure
from . import private_download

bp = Blueprint("brochure", __name__, url_prefix="/events/<int:event_id>")


@bp.get("/brochure.pdf")
@access.requires_on("event.delegation", Event, "event_id", visible="event.view")
def download(event: Event):
    pdf = brochure.render_pdf(current_user, event)
    filename = f"brochure-{event.slug}-{utcnow().date().isoformat()}.pdf"
    # Personal data, and a different book for each viewer.
    return private_download(pdf, "application/pdf", filename)

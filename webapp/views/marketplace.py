"""An event's marketplace as its participants use it: joining with consent, the profile
and its opportunities, browsing and suggested matches, meeting requests."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("marketplace", __name__, url_prefix="/events/<int:event_id>/marketplace")

"""An event's matchmaking as its organizers set it up: switched on or off, the request
window and mode, meeting blocks and points, participant types and who may ask whom."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("matchmaking", __name__, url_prefix="/events/<int:event_id>/matchmaking")

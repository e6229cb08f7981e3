"""Meeting requests on an event's marketplace: asking for a meeting, answering, cancelling,
and the lists of requests each side and those who follow them see."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("meeting_requests", __name__,
               url_prefix="/events/<int:event_id>/marketplace")

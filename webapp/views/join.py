"""Personal join links: /join/<token> (and ?session=<id> for an online agenda session).

No sign-in: the token is the key, as the link is opened from a mail or a calendar entry.
Every answer is personal and carries its token in the URL, so none may be cached or
sent on as a Referer; a token that is not ours is 404 like any unknown page, and nothing
but the redirect itself ever carries the meeting address.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request
from flask_babel import format_timedelta
from flask_login import current_user

from .. import access
from ..ids import parse_id
from ..localtime import known_zone
from ..models import utcnow
from ..services import join
from ..services.join import Outcome, UnknownJoinLink

bp = Blueprint("join", __name__)

TEMPLATES = {
    Outcome.NOT_YET: "join/countdown.html",
    Outcome.NOT_READY: "join/not_ready.html",
    Outcome.ENDED: "join/ended.html",
    Outcome.REFUSED: "join/refused.html",
    Outcome.CANCELLED: "join/cancelled.html",
}
STATUS = {Outcome.REFUSED: 403}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _unknown() -> Response:
    return _private(make_response(render_template("join/unknown.html"), 404))


@bp.get("/join/<token>")
@access.by_link
def open_link(token: str):
    now = utcnow()
    # A join link is all-or-nothing: a session that is not an id is a tampered link.
    session_arg = request.args.get("session")
    session_id = parse_id(session_arg)
    if session_arg is not None and session_id is None:
        return _unknown()
    try:
        answer = join.open_link(token, now, session_id)
    except UnknownJoinLink:
        return _unknown()
    if answer.outcome == Outcome.REDIRECT:
        return _private(redirect(answer.meeting_url, 303))
    # The viewer's own zone: a signed-in user's profile, else the event's (the page's
    # script adds the browser's own).
    viewer = (known_zone(current_user.timezone, answer.event.timezone)
              if current_user.is_authenticated else answer.event.timezone)
    page = render_template(TEMPLATES[answer.outcome], answer=answer, event=answer.event,
                           viewer_zone=viewer,
                           left=format_timedelta(answer.opens_at - now, threshold=1.5))
    return _private(make_response(page, STATUS.get(answer.outcome, 200)))

"""The development mailbox at /dev/mail: the mail the app delivered with MAIL_TRANSPORT
"mailbox", readable in the browser (each message's HTML and text, its links, its
calendar invitation). It exists only with that transport, which only the development
configuration allows; everywhere else every page here is a 404.

Anyone who reaches the development server may read it (the person who just signed up is
not signed in yet): that is its purpose, and why it is never served anywhere else.

A message's HTML is the sender's markup, not ours: it is served from its own address
with a policy of its own (no script, no plugin, a sandbox with an opaque origin) and
shown in a sandboxed frame, so nothing in a mail runs with the app's origin.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user
from markupsafe import Markup, escape

from .. import access
from ..extensions import db
from ..ids import page_arg
from ..localtime import known_zone
from ..services import jobs, notifications
from . import private_download

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

PER_PAGE = 50
# A mail's own page: styles inline as mail writes them, images from anywhere, nothing
# that runs; links open in the top window on a click (the frame is not a browser).
HTML_BODY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; "
    "sandbox allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation; frame-ancestors 'self'"
)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def served() -> bool:
    """Whether this app keeps its mail in the local mailbox, so /dev/mail shows it."""
    return (current_app.config.get("MAIL_TRANSPORT") == "mailbox"
            and current_app.config.get("CONFIG_NAME") != "production")


@bp.before_request
def only_with_the_mailbox():
    if not served():
        abort(404)


def _viewer_zone() -> str:
    zone = current_user.timezone if current_user.is_authenticated else None
    return known_zone(zone)


def linked_text(text: str) -> Markup:
    """A text body with its web links clickable, everything else as written."""
    parts = []
    position = 0
    for start, url in notifications.text_links(text):
        parts.append(escape(text[position:start]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        position = start + len(url)
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def _message(message_id: int):
    message = notifications.delivered_message(message_id)
    if message is None:
        abort(404)
    return message


@bp.get("")
@access.public
def index():
    pagination = db.paginate(notifications.delivered(), page=page_arg(), per_page=PER_PAGE,
                             error_out=False)
    return render_template("dev_mail/index.html", pagination=pagination,
                           waiting=notifications.waiting(), in_background=jobs.in_background(),
                           zone=_viewer_zone())


@bp.get("/<int:message_id>")
@access.public
def message(message_id: int):
    found = _message(message_id)
    return render_template(
        "dev_mail/message.html", message=found, zone=_viewer_zone(),
        links=notifications.links_in(found.body_text, found.body_html),
        text=linked_text(found.body_text))


@bp.get("/<int:message_id>/body.html")
@access.public
def html_body(message_id: int):
    found = _message(message_id)
    if not found.body_html:
        abort(404)
    # Its links leave the frame for the window: the frame is a preview, not a browser.
    html = found.body_html
    head = _HEAD.search(html)
    at = head.end() if head else 0
    html = f'{html[:at]}<base target="_top">{html[at:]}'
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_BODY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:message_id>/invite.ics")
@access.public
def invitation(message_id: int):
    """The calendar invitation as a file, the way mail clients offer it (invite.ics)."""
    found = _message(message_id)
    if not found.calendar:
        abort(404)
    response = private_download(found.calendar.encode("utf-8"), "text/calendar", "invite.ics")
    response.mimetype_params.update(method=found.calendar_method, charset="utf-8")
    return response


@bp.get("/<int:message_id>.eml")
@access.public
def raw(message_id: int):
    """The whole message as SMTP would carry it, to open in a mail client."""
    found = _message(message_id)
    return private_download(notifications.as_sent(found), "message/rfc822",
                            f"message-{found.id}.eml")

"""Calendar files: an event's and a session's .ics, and the personal feed with its reset."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, confirmations, inputs, languages
from ..models import Event
from ..services import agenda, calendar
from . import ics_download

bp = Blueprint("calendar", __name__)


@bp.app_template_global()
def calendar_links(event: Event) -> dict[str, str]:
    """The event's "add to calendar" targets, for templates/calendar/_add.html."""
    return {
        "ics": url_for("calendar.event_file", slug=event.slug),
        "google": calendar.google_link(event),
        "outlook": calendar.outlook_link(event),
    }


@bp.app_template_global()
def calendar_feed_links() -> dict[str, str]:
    """The signed-in user's feed links and the calendar apps' subscribe links to it, for
    templates/calendar/_feed.html. The page that shows them holds the user's secret: no
    cache may keep it."""
    after_this_request(_not_stored)
    urls = calendar.feed_urls(current_user._get_current_object())
    name = f"{current_app.config['PARTNERSHIP_NAME']} · {current_app.config['APP_NAME']}"
    add_from_web = urlencode({"url": urls["https"], "name": name}, quote_via=quote)
    return {
        **urls,
        "google": "https://calendar.google.com/calendar/r?"
                  + urlencode({"cid": urls["webcal"]}, quote_via=quote),
        # Outlook.com and Microsoft 365 accounts each have their own "add from web" page.
        "outlook": f"https://outlook.live.com/calendar/0/addfromweb?{add_from_web}",
        "office": f"https://outlook.office.com/calendar/0/addfromweb?{add_from_web}",
        # Apple Calendar (and most desktop apps) subscribe when they open a webcal link.
        "apple": urls["webcal"],
    }


def _not_stored(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<slug>.ics")
@access.requires_on("event.view", Event, "slug", by="slug", signed_in=False)
def event_file(event: Event):
    return ics_download(calendar.event_calendar(event), f"{event.slug}.ics")


@bp.get("/events/<slug>/sessions/<int:session_id>.ics")
@access.requires_on("event.view", Event, "slug", by="slug", signed_in=False)
def session_file(event: Event, session_id: int):
    session = next((s for s in event.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    return ics_download(calendar.session_calendar(session), f"{event.slug}-{session.id}.ics")


@bp.get("/calendar/<token>.ics")
@access.public
def feed(token: str):
    """The personal feed: the signed link is the credential, so calendar apps that send
    no cookie can subscribe. Anything but the current link is simply not there."""
    user = calendar.user_for_feed_token(token)
    if user is None:
        abort(404)
    # Fetched by calendar servers with no browser's language: the feed is its owner's,
    # in their language.
    with force_locale(languages.of_user(user)):
        body = calendar.feed_calendar(user, meetings=agenda.shown_meetings_of(user))
    # Personal: shared caches must not keep it, and no Referer may carry the token on.
    response = ics_download(body, "beachhead.ics", cache="private, no-cache")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/account/calendar/reset", methods=["GET", "POST"])
@access.login_required
@inputs.takes(inputs.NoInput)
def reset_feed():
    """GET: what resetting the feed link will do; POST with that page's token: do it."""
    me = current_user._get_current_object()
    here = url_for("calendar.reset_feed")
    back = url_for("account.profile", _anchor="calendar-feed")
    if request.method == "GET":
        return confirmations.page(
            "calendar_feed.reset", me.id, title=_("Reset your calendar link?"),
            consequences=[
                _("The old link stops working at once, in every calendar that subscribed "
                  "to it: your events disappear from them at their next refresh."),
                _("You get a new link, to subscribe with again; nobody is mailed."),
                _("This cannot be undone: the old link never works again."),
            ], action_url=here, confirm_label=_("Reset the link"), cancel_url=back)
    confirmations.require("calendar_feed.reset", me.id, start_again=here)
    calendar.reset_feed(me, me)
    flash(_("Your calendar link has been reset. Subscribe again with the new link; "
            "the old one no longer works."), "success")
    return redirect(back)

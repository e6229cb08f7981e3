"""Calendar files and the personal feed.

The event and session files follow the event page (a draft exists only for its organizers
and admins). The feed takes no cookie: its signed link is the credential, so a made-up
link is 404 for every role. Resetting one's own link needs a sign-in
and its confirmation page's token."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses

DRAFT = statuses(404, organizer=200, admin=200)


def build(make, users, base) -> dict:
    return {
        "session": make.session(base["event"]).id,
        "draft_session": make.session(base["draft"]).id,
    }


CASES = [
    Case("calendar.event_file", "published", "GET", lambda w: f"/events/{w.event_slug}.ics",
         statuses(200)),
    Case("calendar.event_file", "draft", "GET", lambda w: f"/events/{w.draft_slug}.ics", DRAFT),
    Case("calendar.event_file", "unknown", "GET", lambda w: "/events/no-such-event.ics",
         statuses(404)),
    Case("calendar.session_file", "published", "GET",
         lambda w: f"/events/{w.event_slug}/sessions/{w.extra['session']}.ics", statuses(200)),
    Case("calendar.session_file", "draft", "GET",
         lambda w: f"/events/{w.draft_slug}/sessions/{w.extra['draft_session']}.ics", DRAFT),
    Case("calendar.session_file", "another event's session", "GET",
         lambda w: f"/events/{w.event_slug}/sessions/{w.extra['draft_session']}.ics",
         statuses(404)),
    Case("calendar.feed", "made-up link", "GET", lambda w: "/calendar/WzEsMV0.dummy.invalid.ics",
         statuses(404)),
    Case("calendar.reset_feed", "confirmation", "GET", lambda w: "/account/calendar/reset",
         statuses(200, anonymous=LOGIN)),
    Case("calendar.reset_feed", "forged confirmation", "POST",
         lambda w: "/account/calendar/reset", statuses(400, anonymous=LOGIN),
         data=lambda w: {"confirmation": "forged"}),
]

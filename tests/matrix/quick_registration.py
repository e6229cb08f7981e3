"""Quick registration of public webinars: the visitor's form and the confirmation link.
Signed-in users are sent to the normal application; the POST cases send incomplete
input or a bad link, so walking the matrix registers nobody."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import Case, statuses
from webapp.models import EventKind
from webapp.services import quick_registration, tokens

BAD_TOKEN = "not-a-real-token"
TO_APPLY = statuses(302, anonymous=200)


def build(make, users, base) -> dict:
    """A public webinar, and a valid confirmation link for a new address (GET only)."""
    webinar = make.event(kind=EventKind.WEBINAR, requires_approval=False,
                         duration=timedelta(hours=1), organizers=[base["organizing"]])
    wanted = quick_registration.QuickRequest(
        webinar, "Vera Visitor", "vera@visitor.example", "Visitor Labs", "PT", "UTC", "2026-11")
    return {"webinar_slug": webinar.slug,
            "quick_token": tokens.make(quick_registration.PURPOSE, wanted.payload())}


def _form(slug_of):
    return lambda w: f"/events/{slug_of(w)}/register"


CASES = [
    Case("quick_registration.event_form", "public webinar", "GET",
         _form(lambda w: w.extra["webinar_slug"]), TO_APPLY),
    Case("quick_registration.event_form", "incomplete", "POST",
         _form(lambda w: w.extra["webinar_slug"]), statuses(302, anonymous=400),
         data=lambda w: {"name": "", "email": "x"}),
    # A mission reviews its applications: visitors are told to sign in.
    Case("quick_registration.event_form", "mission", "GET", _form(lambda w: w.event_slug),
         TO_APPLY),
    Case("quick_registration.event_form", "draft", "GET", _form(lambda w: w.draft_slug),
         statuses(404, organizer=302, admin=302)),
    Case("quick_registration.event_form", "unknown", "GET", _form(lambda w: "no-such-event"),
         statuses(404)),
    Case("quick_registration.confirm", "valid link", "GET",
         lambda w: f"/register/{w.extra['quick_token']}", statuses(200)),
    Case("quick_registration.confirm", "bad link", "GET", lambda w: f"/register/{BAD_TOKEN}",
         statuses(400)),
    Case("quick_registration.confirm", "bad link", "POST", lambda w: f"/register/{BAD_TOKEN}",
         statuses(400)),
]

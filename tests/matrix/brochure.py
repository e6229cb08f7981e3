"""The delegation brochure (PDF): the same people as the delegation list.

Organizers, every partner manager and the event's hosts get it; members and the hosts of
other events are refused (403: the event is public, their role does not reach its
delegation). A draft does not exist for those who may not see it (404)."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses

DELEGATION_SEERS = dict(anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200, host=200,
                        admin=200)

CASES = [
    Case("brochure.download", "published event", "GET",
         lambda w: f"/events/{w.ids['event']}/brochure.pdf",
         statuses(403, **DELEGATION_SEERS)),
    Case("brochure.download", "draft", "GET",
         lambda w: f"/events/{w.ids['draft']}/brochure.pdf",
         statuses(404, anonymous=LOGIN, organizer=200, admin=200)),
    Case("brochure.download", "unknown", "GET", lambda w: "/events/999999/brochure.pdf",
         statuses(404, anonymous=LOGIN)),
    # Built in the background: the POST leads to the download's page.
    Case("brochure.request", "published event", "POST",
         lambda w: f"/events/{w.ids['event']}/brochure.pdf",
         statuses(403, **{**DELEGATION_SEERS, **{r: 303 for r in DELEGATION_SEERS
                                                 if r != "anonymous"}})),
    Case("brochure.request", "draft", "POST", lambda w: f"/events/{w.ids['draft']}/brochure.pdf",
         statuses(404, anonymous=LOGIN, organizer=303, admin=303)),
    Case("brochure.request", "unknown", "POST", lambda w: "/events/999999/brochure.pdf",
         statuses(404, anonymous=LOGIN)),
]

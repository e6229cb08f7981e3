"""The API through the pages' matrix: a signed-in browser's session cookie never
authenticates an API call (every operation but the document answers 401 to every role);
what a token may do is walked in tests/test_api_access.py. The profile's token forms
refuse what they are sent here (an empty name, someone else's token)."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses

NO_COOKIES = statuses(401)


def _reg(key):
    return lambda w: f"/api/v1/registrations/{getattr(w, key)}"


CASES = [
    Case("api.openapi", "document", "GET", lambda w: "/api/v1/openapi.json", statuses(200)),
    Case("api_docs.reference", "reference", "GET", lambda w: "/api/docs", statuses(200)),
    Case("api.events", "list", "GET", lambda w: "/api/v1/events", NO_COOKIES),
    Case("api.event", "published", "GET", lambda w: f"/api/v1/events/{w.ids['event']}",
         NO_COOKIES),
    Case("api.event_calendar", "published", "GET",
         lambda w: f"/api/v1/events/{w.ids['event']}/calendar.ics", NO_COOKIES),
    Case("api.me", "me", "GET", lambda w: "/api/v1/me", NO_COOKIES),
    Case("api.my_registrations", "mine", "GET", lambda w: "/api/v1/me/registrations",
         NO_COOKIES),
    Case("api.registrations_list", "list", "GET", lambda w: "/api/v1/registrations",
         NO_COOKIES),
    Case("api.registration", "cluster A", "GET", _reg("own_reg"), NO_COOKIES),
    Case("api.decide", "cluster B", "POST", lambda w: f"{_reg('other_reg')(w)}/decision",
         NO_COOKIES, data=lambda w: {"decision": "approve", "expected_status": "submitted"}),
    Case("api.apply", "published event", "POST",
         lambda w: f"/api/v1/events/{w.ids['event']}/registrations", NO_COOKIES,
         data=lambda w: {}),
    Case("api.withdraw", "own", "POST", lambda w: f"{_reg('own_reg')(w)}/withdraw",
         NO_COOKIES, data=lambda w: {}),
    Case("api.event_delegation", "published", "GET",
         lambda w: f"/api/v1/events/{w.ids['event']}/delegation", NO_COOKIES),
    Case("api.registration_badge", "own", "GET", lambda w: f"{_reg('own_reg')(w)}/badge.pdf",
         NO_COOKIES),
    Case("api.check_in", "no code", "POST",
         lambda w: f"/api/v1/events/{w.ids['event']}/checkins", NO_COOKIES,
         data=lambda w: {}),
    Case("account.create_api_token", "no name", "POST", lambda w: "/account/api-tokens",
         statuses(400, anonymous=LOGIN), data=lambda w: {"token-name": "",
                                                         "token-access": "read_only"}),
    Case("account.revoke_api_token", "unknown", "POST",
         lambda w: "/account/api-tokens/999999/revoke", statuses(404, anonymous=LOGIN)),
    Case("account.revoke_api_token", "unknown, confirmation", "GET",
         lambda w: "/account/api-tokens/999999/revoke", statuses(404, anonymous=LOGIN)),
]

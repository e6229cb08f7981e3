"""Matchmaking in the API through the pages' matrix: a signed-in browser's session
cookie never authenticates an API call, so every operation answers 401 to every role
(tests/test_api_access.py walks what each role's token may do)."""

from __future__ import annotations

from tests.matrix import Case, statuses

NO_COOKIES = statuses(401)


def _market(rest):
    return lambda w: f"/api/v1/events/{w.ids['event']}/marketplace/{rest}"


CASES = [
    Case(f"api.{endpoint}", "cookie", method, path, NO_COOKIES,
         data=None if method == "GET" else lambda w: {})
    for endpoint, method, path in [
        ("marketplace_participants", "GET", _market("participants")),
        ("marketplace_suggestions", "GET", _market("suggestions")),
        ("marketplace_join", "POST", _market("join")),
        ("marketplace_leave", "POST", _market("leave")),
        ("participant", "GET", lambda w: "/api/v1/participants/1"),
        ("participant_profile", "PUT", lambda w: "/api/v1/participants/1/profile"),
        ("participant_unavailable_slots", "PUT",
         lambda w: "/api/v1/participants/1/unavailable-slots"),
        ("opportunity_add", "POST", lambda w: "/api/v1/participants/1/opportunities"),
        ("opportunity_update", "PUT", lambda w: "/api/v1/opportunities/1"),
        ("opportunity_remove", "DELETE", lambda w: "/api/v1/opportunities/1"),
        ("meeting_requests_list", "GET", lambda w: "/api/v1/meeting-requests"),
        ("meeting_request", "GET", lambda w: "/api/v1/meeting-requests/1"),
        ("meeting_request_new", "POST", lambda w: "/api/v1/meeting-requests"),
        ("meeting_request_accept", "POST", lambda w: "/api/v1/meeting-requests/1/accept"),
        ("meeting_request_decline", "POST", lambda w: "/api/v1/meeting-requests/1/decline"),
        ("meeting_request_cancel", "POST", lambda w: "/api/v1/meeting-requests/1/cancel"),
        ("meeting_request_slot", "POST", lambda w: "/api/v1/meeting-requests/1/slot"),
        ("meeting_request_slots", "GET", lambda w: "/api/v1/meeting-requests/1/slots"),
        ("participant_agenda", "GET", lambda w: "/api/v1/participants/1/agenda"),
    ]
]

"""An event's delegation list, its exports and the messages to the delegation.

An event the user may not see (a draft, an unknown id) is 404; a visible event whose
delegation the role does not reach is 403: members, and hosts of other beachheads. The
list and exports are for organizers, every partner manager and the event's hosts; the
messages for organizers and partner managers. POST cases address a partner with no
delegates (no valid audience for anyone), so walking the matrix sends nothing.
"""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses

DELEGATION = statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200,
                      host=200, admin=200)
MESSAGING = statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200,
                     admin=200)
DRAFT = statuses(404, anonymous=LOGIN, organizer=200, admin=200)
UNKNOWN = statuses(404, anonymous=LOGIN)


def _on(key: str, suffix: str):
    return lambda w: f"/events/{w.ids[key]}{suffix}"


def _unknown(suffix: str):
    return lambda w: f"/events/999999{suffix}"


def _tampered(w) -> dict:
    # The other beachhead is responsible for nobody: a choice no sender is offered.
    return {"audience": str(w.ids["other_beachhead"]), "subject": "Hello", "body": "Hi all"}


def _refused(status: int) -> dict:
    return {role: (status if code == 200 else code) for role, code in MESSAGING.items()}


CASES = [
    *[
        case
        for endpoint, suffix in (("delegation.index", "/delegation"),
                                 ("delegation.export_csv", "/delegation.csv"),
                                 ("delegation.export_xlsx", "/delegation.xlsx"))
        for case in (
            Case(endpoint, "published", "GET", _on("event", suffix), DELEGATION),
            Case(endpoint, "draft", "GET", _on("draft", suffix), DRAFT),
            Case(endpoint, "unknown", "GET", _unknown(suffix), UNKNOWN),
        )
    ],
    Case("delegation.message_log", "published", "GET", _on("event", "/delegation/messages"),
         MESSAGING),
    Case("delegation.message_log", "draft", "GET", _on("draft", "/delegation/messages"), DRAFT),
    Case("delegation.message_log", "unknown", "GET", _unknown("/delegation/messages"), UNKNOWN),
    Case("delegation.send_message", "audience out of scope", "POST",
         _on("event", "/delegation/messages"), _refused(400), data=_tampered),
    Case("delegation.send_message", "empty", "POST", _on("event", "/delegation/messages"),
         _refused(400)),
    Case("delegation.send_message", "draft", "POST", _on("draft", "/delegation/messages"),
         statuses(404, anonymous=LOGIN, organizer=400, admin=400), data=_tampered),
    Case("delegation.send_message", "unknown", "POST", _unknown("/delegation/messages"),
         UNKNOWN, data=_tampered),
]

"""The partner desk: the list, one application, decisions one by one and in bulk, roles,
direct registrations and applying on behalf.

Who sees what: an application exists only for those who may see it (404 for everyone
else); seeing it without deciding it (a host of the event) is 403. Every POST here is
refused (no reason, a stale status, an unknown role, an already decided id, an empty
email, no consent), so walking the matrix decides nothing and every role meets the same
world.
"""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses

DESK_USERS = dict(member=403, other_member=403, anonymous=LOGIN)


def desk(default, **by_role):
    """Members may not use the desk; the others get `default` unless said otherwise."""
    return statuses(default, **{**DESK_USERS, **by_role})


def _decide(key):
    return lambda w: f"/desk/registrations/{getattr(w, key)}/decide"


def _correct(correction, key):
    return lambda w: f"/desk/registrations/{getattr(w, key)}/{correction}"


CASES = [
    Case("desk.index", "list", "GET", lambda w: "/desk/", desk(200)),
    Case("desk.index", "filters, sort, page size", "GET",
         lambda w: f"/desk/?event={w.ids['event']}&status=submitted&country=BE&q=a%25_"
                   "&sort=company&per_page=100&page=2", desk(200)),
    Case("desk.index", "tampered filters", "GET",
         lambda w: "/desk/?event=abc&status=bogus&country=<x>&sort=evil&per_page=7&page=-3",
         desk(200)),
    Case("desk.registration", "approved, cluster A, hosted", "GET",
         lambda w: f"/desk/registrations/{w.own_reg}",
         desk(200, manager_b=404, other_host=404)),
    Case("desk.registration", "submitted, cluster B", "GET",
         lambda w: f"/desk/registrations/{w.other_reg}",
         desk(404, manager_b=200, organizer=200, admin=200)),
    Case("desk.registration", "unknown", "GET", lambda w: "/desk/registrations/999999",
         desk(404)),
    Case("desk.decide", "rejection without a reason, cluster B", "POST", _decide("other_reg"),
         desk(404, manager_b=400, organizer=400, admin=400),
         data=lambda w: {"decision": "reject", "expected_status": "submitted", "reason": ""}),
    # A rejection is confirmed on a page of its own first; a bad token decides nothing.
    Case("desk.decide", "rejection asked, cluster B", "POST", _decide("other_reg"),
         desk(404, manager_b=200, organizer=200, admin=200),
         data=lambda w: {"decision": "reject", "expected_status": "submitted",
                         "reason": "Out of scope."}),
    Case("desk.decide", "rejection with a forged confirmation, cluster B", "POST",
         _decide("other_reg"), desk(404, manager_b=400, organizer=400, admin=400),
         data=lambda w: {"decision": "reject", "expected_status": "submitted",
                         "reason": "Out of scope.", "confirmation": "forged"}),
    Case("desk.decide", "stale approval, cluster A", "POST", _decide("own_reg"),
         desk(409, manager_b=404, host=403, other_host=404),
         data=lambda w: {"decision": "approve", "expected_status": "submitted"}),
    Case("desk.decide", "unknown", "POST", lambda w: "/desk/registrations/999999/decide",
         desk(404), data=lambda w: {"decision": "approve", "expected_status": "submitted"}),
    # Correcting a decision: reopening it (its deciders), cancelling one registration (the
    # event's organizers). Posted without a reason, so nothing changes.
    Case("desk.reopen", "approved, cluster A", "GET", _correct("reopen", "own_reg"),
         desk(200, manager_b=404, host=403, other_host=404)),
    Case("desk.reopen", "submitted: not a decision, cluster B", "GET",
         _correct("reopen", "other_reg"), desk(404, manager_b=409, organizer=409, admin=409)),
    Case("desk.reopen", "no reason, cluster A", "POST", _correct("reopen", "own_reg"),
         desk(400, manager_b=404, host=403, other_host=404),
         data=lambda w: {"expected_status": "approved", "reason": ""}),
    Case("desk.reopen", "a forged confirmation, cluster A", "POST",
         _correct("reopen", "own_reg"), desk(400, manager_b=404, host=403, other_host=404),
         data=lambda w: {"expected_status": "approved", "reason": "Quota.",
                         "confirmation": "forged"}),
    Case("desk.reopen", "unknown", "GET", lambda w: "/desk/registrations/999999/reopen",
         desk(404)),
    Case("desk.cancel_registration", "approved, cluster A", "GET",
         _correct("cancel", "own_reg"),
         desk(403, manager_b=404, other_host=404, organizer=200, admin=200)),
    Case("desk.cancel_registration", "no reason, cluster B", "POST",
         _correct("cancel", "other_reg"), desk(404, manager_b=403, organizer=400, admin=400),
         data=lambda w: {"expected_status": "submitted", "reason": ""}),
    Case("desk.set_role", "unknown role", "POST",
         lambda w: f"/desk/registrations/{w.own_reg}/role",
         desk(403, manager_b=404, other_host=404, organizer=400, admin=400),
         data=lambda w: {"role": "king"}),
    Case("desk.set_role", "cluster B's application", "POST",
         lambda w: f"/desk/registrations/{w.other_reg}/role",
         desk(404, manager_b=403, organizer=400, admin=400), data=lambda w: {"role": "king"}),
    Case("desk.bulk", "nothing ticked", "POST", lambda w: "/desk/bulk", desk(400),
         data=lambda w: {"decision": "approve"}),
    # One id is already approved, the other out of most scopes: refused as a whole.
    Case("desk.bulk", "a decided and a foreign id", "POST", lambda w: "/desk/bulk", desk(409),
         data=lambda w: {"decision": "approve", "ids": [w.own_reg, w.other_reg]}),
    Case("desk.bulk", "rejection with a forged confirmation", "POST", lambda w: "/desk/bulk",
         desk(400), data=lambda w: {"decision": "reject", "reason": "Out of scope.",
                                    "ids": [w.other_reg], "confirmation": "forged"}),
    Case("desk.register_directly", "no email", "POST",
         lambda w: f"/desk/events/{w.ids['event']}/direct",
         desk(404, organizer=303, admin=303), data=lambda w: {"email": "", "role": "staff"}),
    Case("desk.register_directly", "unknown event", "POST",
         lambda w: "/desk/events/999999/direct", desk(404),
         data=lambda w: {"email": "x@example.org", "role": "staff"}),
    # Only partner managers apply on behalf of their clusters' members.
    Case("desk.apply_on_behalf", "choose", "GET", lambda w: "/desk/apply-on-behalf",
         desk(403, manager_a=200, manager_b=200, organizer=200)),
    Case("desk.apply_on_behalf", "member of cluster A", "GET",
         lambda w: f"/desk/apply-on-behalf?member={w.user_ids['member']}"
                   f"&event={w.ids['event']}",
         desk(403, manager_a=200, manager_b=404, organizer=404)),
    Case("desk.apply_on_behalf", "member of cluster A, mission without consent", "POST",
         lambda w: f"/desk/apply-on-behalf?member={w.user_ids['member']}"
                   f"&event={w.ids['event']}",
         desk(403, manager_a=400, manager_b=404, organizer=404)),
]

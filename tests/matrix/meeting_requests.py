"""Meeting requests on an event's marketplace. The member and the other member take part
in it (cluster A), with two participants of cluster B and a stakeholder of the host
region. A request is seen by its two sides, the event's organizers, each side's cluster
managers and, for a stakeholder's, the event's hosts; others find none (404). Only the
receiver answers, the sides and the organizers cancel, the sides choose an accepted
meeting's time; whoever sees a request but may not act on it gets 403. The POSTs leave the
world as it was: empty reasons (400), a time that is no slot (400), a request already
declined (409), a time for a request not accepted (409), a pair with an open request
already (409)."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from tests.matrix.matchmaking import ask, join, market
from webapp.services import meeting_requests


def build(make, users, base):
    organizer = users["organizer"]
    event, _block, _point = market(make, base, hosted=True, actor=organizer)
    member = join(make, event, users["member"])
    other_member = join(make, event, users["other_member"])
    bea, carl = (join(make, event, make.user(make.organization(base["cluster_b"]), name=name))
                 for name in ("Bea Buyer", "Carl Cluster-B"))
    stakeholder = join(make, event, make.user(make.organization(base["cluster_b"]),
                                               name="Sia Stakeholder"), "host_stakeholder")
    received = ask(bea, member)
    declined = ask(carl, member)
    meeting_requests.decline(declined.id, actor=users["member"],
                             reason="Not now.")
    ask(other_member, bea)
    stakeholders = ask(stakeholder, carl)
    return dict(mr_event=event.id, mr_bea=bea.id, mr_received=received.id,
                mr_declined=declined.id, mr_stakeholders=stakeholders.id)


def _requests(w, request_key=None, action=""):
    path = f"/events/{w.extra['mr_event']}/marketplace/requests"
    if request_key is not None:
        path += f"/{w.extra[request_key]}" + (f"/{action}" if action else "")
    return path


# Who sees the member's request with a participant of cluster B.
SEEN = dict(anonymous=LOGIN, member=200, organizer=200, admin=200, manager_a=200,
            manager_b=200)


def seen(status=200, **by_role):
    """Those who see it: `status`, or as `by_role` says; others find none."""
    return statuses(404, **{**{role: status if code == 200 else code
                               for role, code in SEEN.items()}, **by_role})


CASES = [
    Case("meeting_requests.requests", "the list", "GET", _requests,
         statuses(200, anonymous=LOGIN)),
    Case("meeting_requests.requests", "sent, a status, a bad page", "GET",
         lambda w: _requests(w) + "?box=sent&status=accepted&page=-2",
         statuses(200, anonymous=LOGIN)),
    Case("meeting_requests.requests", "a draft's", "GET",
         lambda w: f"/events/{w.ids['draft']}/marketplace/requests",
         statuses(404, anonymous=LOGIN, organizer=200, admin=200)),
    Case("meeting_requests.new", "a participant of cluster B", "GET",
         lambda w: f"/events/{w.extra['mr_event']}/marketplace/participants/"
                   f"{w.extra['mr_bea']}/request",
         statuses(404, anonymous=LOGIN, member=200, other_member=200, organizer=403,
                  admin=403, manager_b=403)),
    # Both members have an open request with her already.
    Case("meeting_requests.new", "a pair with an open request", "POST",
         lambda w: f"/events/{w.extra['mr_event']}/marketplace/participants/"
                   f"{w.extra['mr_bea']}/request",
         statuses(404, anonymous=LOGIN, member=409, other_member=409, organizer=403,
                  admin=403, manager_b=403)),
    Case("meeting_requests.new", "unknown participant", "GET",
         lambda w: f"/events/{w.extra['mr_event']}/marketplace/participants/999999/request",
         statuses(404, anonymous=LOGIN)),
    Case("meeting_requests.request", "received by the member", "GET",
         lambda w: _requests(w, "mr_received"), seen()),
    Case("meeting_requests.request", "a host-region stakeholder's", "GET",
         lambda w: _requests(w, "mr_stakeholders"),
         statuses(404, anonymous=LOGIN, host=200, organizer=200, admin=200, manager_b=200)),
    Case("meeting_requests.request", "unknown", "GET",
         lambda w: f"/events/{w.extra['mr_event']}/marketplace/requests/999999",
         statuses(404, anonymous=LOGIN)),
    Case("meeting_requests.accept", "declined already", "POST",
         lambda w: _requests(w, "mr_declined", "accept"),
         seen(403, member=409)),
    # A time that is no meeting slot: refused beside the slots, nothing accepted.
    Case("meeting_requests.accept", "in a time that is no slot", "POST",
         lambda w: _requests(w, "mr_received", "accept"), seen(403, member=400),
         data=lambda w: {"starts_at": "2020-01-01T09:00:00+00:00"}),
    # Only the sides of an accepted meeting choose its time: this one is not accepted.
    Case("meeting_requests.choose_slot", "a request not accepted", "POST",
         lambda w: _requests(w, "mr_received", "slot"), seen(403, member=409),
         data=lambda w: {"starts_at": "2020-01-01T09:00:00+00:00"}),
    Case("meeting_requests.choose_slot", "without a time", "POST",
         lambda w: _requests(w, "mr_received", "slot"), seen(403, member=400)),
    Case("meeting_requests.decline", "without a reason", "POST",
         lambda w: _requests(w, "mr_received", "decline"), seen(403, member=400)),
    Case("meeting_requests.cancel", "without a reason", "POST",
         lambda w: _requests(w, "mr_received", "cancel"),
         seen(403, member=400, organizer=400, admin=400)),
]

"""What meetings led to. The member meets a participant of cluster B at an event their
organizers run and the beachhead hosts. A meeting is seen by whoever sees its request
(its sides, the organizers, each side's cluster managers); only its sides say "we met"
or rate it (the member is refused: the meeting has not started, 409; an empty rating,
400). The tables' scanner is for whoever checks people in (organizers, admins, the
hosts); the figures for the organizers. The follow-up link is the credential: a
tampered one is refused to everyone alike (400). Nothing a case sends changes the world."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from tests.matrix.matchmaking import ask, join, market, scheduled
from webapp.services import meeting_requests


def build(make, users, base):
    organizer = users["organizer"]
    event, _block, _point = market(make, base, table="Outcome table", hours=1, hosted=True,
                                   actor=organizer)
    member = join(make, event, users["member"])
    other = join(make, event, make.user(make.organization(base["cluster_b"]),
                                        name="Oona Outcome"))
    request = ask(member, other)
    meeting_requests.accept(request.id, actor=other.registration.user)
    meeting = scheduled(event, request, actor=organizer)
    return dict(mo_event=event.id, mo_meeting=meeting.id)


def _at(suffix: str = ""):
    return lambda w: f"/events/{w.extra['mo_event']}/meetings/{suffix}"


def _meeting(action: str = ""):
    return lambda w: (f"/events/{w.extra['mo_event']}/meetings/{w.extra['mo_meeting']}"
                      + (f"/{action}" if action else ""))


# Who sees the member's meeting with a participant of cluster B.
SEEN = dict(anonymous=LOGIN, member=200, organizer=200, admin=200, manager_a=200,
            manager_b=200)


def seen(status=200, **by_role):
    return statuses(404, **{**{role: status if code == 200 else code
                               for role, code in SEEN.items()}, **by_role})


def scanners(status):
    return statuses(403, anonymous=LOGIN, organizer=status, admin=status, host=status)


def organizers(status):
    return statuses(403, anonymous=LOGIN, organizer=status, admin=status)


TAMPERED = "/meeting-follow-up/eyJmb2xsb3dfdXAiOjF9.tampered.xyz"

CASES = [
    Case("meeting_outcomes.scan", "the tables' scanner", "GET", _at("scan"), scanners(200)),
    Case("meeting_outcomes.scan", "unknown event", "GET",
         lambda w: "/events/999999/meetings/scan", statuses(404, anonymous=LOGIN)),
    Case("meeting_outcomes.scan_record", "no badge", "POST", _at("scan"), scanners(400)),
    Case("meeting_outcomes.meeting", "the member's", "GET", _meeting(), seen()),
    Case("meeting_outcomes.meeting", "unknown", "GET",
         lambda w: f"/events/{w.extra['mo_event']}/meetings/999999",
         statuses(404, anonymous=LOGIN)),
    Case("meeting_outcomes.we_met", "before the slot", "POST", _meeting("met"),
         seen(403, member=409)),
    Case("meeting_outcomes.rate", "no answer", "POST", _meeting("rating"),
         seen(403, member=400)),
    Case("meeting_outcomes.follow_up", "tampered", "GET", lambda w: TAMPERED,
         statuses(400)),
    Case("meeting_outcomes.follow_up", "tampered", "POST", lambda w: TAMPERED,
         statuses(400), data=lambda w: {"answer": "in_discussion"}),
    Case("meeting_outcomes.follow_up_agreement", "tampered", "POST",
         lambda w: TAMPERED + "/agreement", statuses(400)),
    Case("meeting_outcomes.outcomes", "the organizers' figures", "GET", _at("outcomes"),
         organizers(200)),
    Case("meeting_outcomes.outcomes", "a draft's", "GET",
         lambda w: f"/events/{w.ids['draft']}/meetings/outcomes",
         statuses(404, anonymous=LOGIN, organizer=403, admin=403)),
]

"""What meetings led to. The member meets a participant of cluster B at an event their
organizers run and the beachhead hosts. A meeting is seen by whoever sees its request
(its sides, the organizers, each side's cluster managers); only its sides say "we met"
or rate it (the member is refused: the meeting has not started, 409; an empty rating,
400). The tables' scanner is for whoever checks people in (organizers, admins, the
hosts); the figures for the organizers. The follow-up link is the credential: a
tampered one is refused to everyone alike (400). Nothing a case sends changes the world."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    MeetingRequestIn,
)
from webapp.models import Meeting
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, meeting_requests, meeting_schedule


def build(make, users, base):
    organizer = users["organizer"]
    event = make.event(organizers=[base["organizing"]], hosts=[base["beachhead"]])
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=organizer)
    wall = event.starts_at.astimezone(event.zone).replace(tzinfo=None)
    matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall, ends_local=wall + timedelta(hours=1)), actor=organizer)
    matchmaking.add_point(event.id, MeetingPointIn.from_values(name="Outcome table"),
                          actor=organizer)
    joined = []
    for user in (users["member"], make.user(make.organization(base["cluster_b"]),
                                            name="Oona Outcome")):
        reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
        joined.append(matchmaking.join(reg.id, JoinIn.from_values(
            participant_type="sme", consent=True), actor=user))
    member, other = joined
    request = meeting_requests.request(
        member.id, MeetingRequestIn.from_values(receiver_id=other.id), actor=users["member"])
    meeting_requests.accept(request.id, actor=other.registration.user)
    meeting_schedule.schedule_all(event.id, actor=organizer, seconds=2)
    meeting = db.session.scalar(select(Meeting).where(Meeting.request_id == request.id))
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

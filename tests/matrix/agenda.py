"""Agendas. The member and Bea (cluster B) have a scheduled meeting on an event of the
organizing partner. A participant's agenda (page, PDF) is theirs and the organizers';
whoever sees the participant otherwise (the other member in the marketplace, the
member's cluster manager) gets 403, anyone else 404. A meeting's calendar file is its two
sides'. The print-outs of the schedule are the organizers', like the matchmaking's
settings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.matrix import LOGIN, Case, statuses
from tests.matrix.matchmaking import organizers
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


def _join(make, event, user):
    reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
    return matchmaking.join(reg.id, JoinIn.from_values(participant_type="sme", consent=True),
                            actor=user)


def build(make, users, base):
    event = make.event(organizers=[base["organizing"]])
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    wall = event.starts_at.astimezone(event.zone).replace(tzinfo=None)
    matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall, ends_local=wall + timedelta(hours=1)), actor=None)
    matchmaking.add_point(event.id, MeetingPointIn.from_values(name="Agenda table"),
                          actor=None)
    member = _join(make, event, users["member"])
    _join(make, event, users["other_member"])
    bea = _join(make, event, make.user(make.organization(base["cluster_b"]), name="Bea B."))
    asked = meeting_requests.request(bea.id, MeetingRequestIn.from_values(
        receiver_id=member.id), actor=bea.registration.user)
    meeting_requests.accept(asked.id, actor=users["member"])
    meeting_schedule.schedule_all(event.id, actor=None, seconds=2)
    meeting = db.session.scalar(select(Meeting).where(Meeting.request_id == asked.id))
    return dict(agenda_event=event.id, agenda_member=member.id, agenda_meeting=meeting.id)


def _participant(suffix: str, key: str = "agenda_member"):
    return lambda w: (f"/events/{w.extra['agenda_event']}/marketplace/participants/"
                      f"{w.extra.get(key, 999999)}/{suffix}")


OWN_AGENDA = statuses(404, anonymous=LOGIN, member=200, organizer=200, admin=200,
                      other_member=403, manager_a=403)

CASES = [
    Case("agenda.participant", "the member's", "GET", _participant("agenda"), OWN_AGENDA),
    Case("agenda.participant", "unknown", "GET", _participant("agenda", "none"),
         statuses(404, anonymous=LOGIN)),
    Case("agenda.participant_pdf", "the member's", "GET", _participant("agenda.pdf"),
         OWN_AGENDA),
    Case("agenda.meeting_file", "the member's meeting", "GET",
         lambda w: f"/events/{w.extra['agenda_event']}/marketplace/meetings/"
                   f"{w.extra['agenda_meeting']}.ics",
         statuses(404, anonymous=LOGIN, member=200)),
    Case("agenda.meeting_file", "under another event", "GET",
         lambda w: f"/events/{w.ids['event']}/marketplace/meetings/"
                   f"{w.extra['agenda_meeting']}.ics",
         statuses(404, anonymous=LOGIN)),
    Case("agenda.schedule", "scheduled", "GET",
         lambda w: f"/events/{w.extra['agenda_event']}/matchmaking/print/schedule",
         organizers(200)),
    Case("agenda.schedule", "unknown event", "GET",
         lambda w: "/events/999999/matchmaking/print/schedule", organizers(404)),
    Case("agenda.table_signs", "scheduled", "GET",
         lambda w: f"/events/{w.extra['agenda_event']}/matchmaking/print/table-signs.pdf",
         organizers(200)),
]

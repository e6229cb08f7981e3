"""Agendas. The member and Bea (cluster B) have a scheduled meeting on an event of the
organizing partner. A participant's agenda (page, PDF) is theirs and the organizers';
whoever sees the participant otherwise (the other member in the marketplace, the
member's cluster manager) gets 403, anyone else 404. A meeting's calendar file is its two
sides'. The print-outs of the schedule are the organizers', like the matchmaking's
settings."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from tests.matrix.matchmaking import ask, join, market, organizers, scheduled
from webapp.services import meeting_requests


def build(make, users, base):
    event, _block, _point = market(make, base, table="Agenda table", hours=1)
    member = join(make, event, users["member"])
    join(make, event, users["other_member"])
    bea = join(make, event, make.user(make.organization(base["cluster_b"]), name="Bea B."))
    asked = ask(bea, member)
    meeting_requests.accept(asked.id, actor=users["member"])
    meeting = scheduled(event, asked)
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

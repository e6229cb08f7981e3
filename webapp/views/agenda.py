"""Agendas: a participant's meetings (page and PDF), each meeting's calendar file, and
the organizers' print-outs of the whole schedule (by meeting point and by slot) and of
a sign for each table.

A participant's agenda is theirs and the event's organizers' (`participant.agenda`);
those who see the participant otherwise get 403, anyone else 404. A meeting's file is
its two sides' (`meeting.calendar`). The print-outs are the organizers' (like the
matchmaking's settings). Nothing here writes.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from .. import access
from ..models import Event, Meeting, Participant
from ..services import agenda, pdf
from ..services import calendar as calendar_files
from . import ics_download, private_download
from .matchmaking import manages

bp = Blueprint("agenda", __name__, url_prefix="/events/<int:event_id>")

participant_agenda = access.requires_on("participant.agenda", Participant, "participant_id",
                                        visible="participant.view")


def _of_event(event_id: int, participant: Participant) -> Participant:
    """A participant named under another event's address is not found there."""
    if participant.event_id != event_id:
        abort(404)
    return participant


def _agenda(participant: Participant) -> agenda.Agenda:
    return agenda.agenda_of(participant, current_user._get_current_object())


@bp.get("/marketplace/participants/<int:participant_id>/agenda")
@participant_agenda
def participant(event_id: int, participant: Participant):
    shown = _agenda(_of_event(event_id, participant))
    return render_template("agenda/participant.html", agenda=shown, event=shown.event,
                           own=participant.registration.user_id == current_user.id)


@bp.get("/marketplace/participants/<int:participant_id>/agenda.pdf")
@participant_agenda
def participant_pdf(event_id: int, participant: Participant):
    shown = _agenda(_of_event(event_id, participant))
    html = render_template("agenda/participant_pdf.html", agenda=shown, event=shown.event)
    return private_download(pdf.Renderer().pdf(html), "application/pdf",
                            f"agenda-{shown.event.slug}-{participant.id}.pdf")


@bp.get("/marketplace/meetings/<int:meeting_id>.ics")
@access.requires_on("meeting.calendar", Meeting, "meeting_id")
def meeting_file(event_id: int, meeting: Meeting):
    if meeting.event_id != event_id:
        abort(404)
    request = meeting.request
    mine = (request.requester if request.requester.registration.user_id == current_user.id
            else request.receiver)
    cal = calendar_files.meeting_calendar(
        agenda.meeting_file(meeting, mine, current_user._get_current_object()))
    return ics_download(cal, f"meeting-{meeting.id}.ics", cache="private, no-cache")


def _schedule(event: Event) -> agenda.Schedule:
    found = agenda.schedule_of(event)
    if found is None:
        abort(404)
    return found


@bp.get("/matchmaking/print/schedule")
@manages
def schedule(event: Event):
    return render_template("agenda/schedule.html", schedule=_schedule(event), event=event)


@bp.get("/matchmaking/print/table-signs.pdf")
@manages
def table_signs(event: Event):
    html = render_template("agenda/table_signs.html", schedule=_schedule(event), event=event)
    return private_download(pdf.Renderer().pdf(html), "application/pdf",
                            f"table-signs-{event.slug}.pdf")

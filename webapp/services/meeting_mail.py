"""The mail a meeting request's moves send: both sides hear of every change, each in
their own language, with times in their own zone.

Queued in the transaction of the move (services.meeting_requests), which holds the pair's
locks: the bodies are rendered at delivery (`later`), from the rows as they are then and
the move's own facts (its status, its cause) passed as they are now. Only once a request
is accepted does the mail give the other side's contact details.

Once the event's schedule of meetings is published, each side of a meeting whose time or
place changes hears of it (`schedule_changed`, called by services.meeting_schedule for
every change), one mail per participant listing theirs, rendered at delivery with the
time and place as they are then, and a link to their agenda.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app
from flask_babel import gettext as _

from ..models import Event, Meeting, MeetingRequest, Participant
from ..models import MeetingRequestStatus as M
from . import notifications
from .registration_mail import recipient_zone


def transitioned(req: MeetingRequest, from_status: M | None, to_status: M, *,
                 meeting: Meeting | None = None) -> None:
    """Queue the mail of the move to `to_status` to both sides; `meeting`: its time and
    place, chosen as it was accepted."""
    for side, other in ((req.requester, req.receiver), (req.receiver, req.requester)):
        user = side.registration.user
        if user.erased_at is not None:
            continue
        mine = side.id == req.requester_id
        notifications.queue(
            user, _subject(req, to_status, mine, other), f"meeting_request_{to_status.value}",
            later=True, event=req.event, meeting_request=req, other=other.registration.user,
            recipient_zone=recipient_zone(user, req.event), mine=mine,
            was_accepted=from_status == M.ACCEPTED, cause=req.cause or "",
            reason=req.reason or "", by_other=_by(req, other), by_me=_by(req, side),
            meeting=meeting)


def placed(req: MeetingRequest, meeting: Meeting) -> None:
    """Queue to both sides the time and place a side chose for their accepted meeting."""
    for side, other in ((req.requester, req.receiver), (req.receiver, req.requester)):
        user = side.registration.user
        if user.erased_at is not None:
            continue
        name, event = other.registration.user.name, req.event
        notifications.queue(
            user, lambda name=name, event=event: _(
                "Time set for your meeting with %(name)s: %(event)s", name=name,
                event=notifications.event_title(event)),
            "meeting_request_placed", later=True, event=event, meeting_request=req,
            other=other.registration.user, recipient_zone=recipient_zone(user, event),
            meeting=meeting)


def _by(req: MeetingRequest, side: Participant) -> bool:
    return req.cancelled_by_participant_id == side.id


def _subject(req: MeetingRequest, to_status: M, mine: bool, other: Participant
             ) -> Callable[[], str]:
    """The subject line, a function called in the recipient's language."""
    event, name = req.event, other.registration.user.name

    def title() -> str:
        return notifications.event_title(event)

    if to_status == M.REQUESTED and mine:
        return lambda: _("Meeting request sent to %(name)s: %(event)s", name=name,
                         event=title())
    if to_status == M.REQUESTED:
        return lambda: _("%(name)s asks to meet you: %(event)s", name=name, event=title())
    if to_status == M.ACCEPTED:
        return lambda: _("Meeting with %(name)s accepted: %(event)s", name=name,
                         event=title())
    if to_status == M.DECLINED:
        return lambda: _("Meeting request declined: %(event)s", event=title())
    if to_status == M.EXPIRED:
        return lambda: _("Meeting request expired: %(event)s", event=title())
    return lambda: _("Meeting with %(name)s cancelled: %(event)s", name=name, event=title())


# --------------------------------------------------------------------------- the schedule


def schedule_changed(meetings: Iterable[Meeting]) -> None:
    """Each side of `meetings` (whose time or place changed) hears of it once."""
    _to_each_side(meetings, "meeting_schedule_changed",
                  lambda event: _("Your meeting schedule changed: %(event)s",
                                  event=notifications.event_title(event)))


def schedule_published(meetings: Iterable[Meeting], *, final: bool) -> None:
    """Each side of the placed `meetings` hears once that the schedule is published."""
    if final:
        def subject(event: Event) -> str:
            return _("Your final meeting schedule: %(event)s",
                     event=notifications.event_title(event))
    else:
        def subject(event: Event) -> str:
            return _("Your meeting schedule is available: %(event)s",
                     event=notifications.event_title(event))
    _to_each_side(meetings, "meeting_schedule_published", subject, final=final)


def _to_each_side(meetings: Iterable[Meeting], template: str,
                  subject: Callable[[Event], str], **context) -> None:
    by_side: dict[int, tuple[Participant, list[Meeting]]] = {}
    for meeting in meetings:
        for side in (meeting.request.requester, meeting.request.receiver):
            by_side.setdefault(side.id, (side, []))[1].append(meeting)
    for side, theirs in by_side.values():
        user = side.registration.user
        if user.erased_at is not None:
            continue
        event = side.event
        notifications.queue(
            user, _bound(subject, event), template, later=True, event=event,
            meetings=sorted(theirs, key=_in_time_order), participant=side,
            recipient_zone=recipient_zone(user, event), link=agenda_link(side), **context)


def _bound(subject: Callable[[Event], str], event: Event) -> Callable[[], str]:
    return lambda: subject(event)


def _in_time_order(meeting: Meeting) -> tuple:
    return (meeting.starts_at is None, meeting.starts_at or 0, meeting.id or 0)


def agenda_link(participant: Participant) -> str:
    """Where a participant finds their meetings: their agenda, else their requests."""
    if "agenda.participant" in current_app.view_functions:
        return notifications.absolute_url("agenda.participant", event_id=participant.event_id,
                                          participant_id=participant.id)
    return notifications.absolute_url("meeting_requests.requests",
                                      event_id=participant.event_id)

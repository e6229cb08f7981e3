"""The mail a meeting request's moves send: both sides hear of every change, each in
their own language, with times in their own zone.

Queued in the transaction of the move (services.meeting_requests), which holds the pair's
locks: the bodies are rendered at delivery (`later`), from the rows as they are then and
the move's own facts (its status, its cause) passed as they are now. Only once a request
is accepted does the mail give the other side's contact details.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from ..models import Meeting, MeetingRequest, Participant
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

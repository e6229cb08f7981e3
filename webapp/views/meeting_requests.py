"""Meeting requests on an event's marketplace: asking for a meeting, answering, cancelling,
and the lists of requests each side and those who follow them see.

Every move goes through services.meeting_requests, which locks the pair, checks the move
against the request as it is then, audits and mails it; the views turn its refusals into
messages. A refusal about the slots chosen is bad input (400, beside the slots); a slot
taken or blocked meanwhile is a conflict (409), said beside the slots offered again as
they are now; the others are states a retry cannot change (409), and nothing is written.

The receiver accepts with a free common slot for the meeting or leaves it to the
organizers; either side picks one later for an accepted meeting that has no place they
see yet (services.meeting_requests, `choose_slot`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import access, inputs, unit
from ..extensions import db
from ..forms.matchmaking import type_label
from ..forms.meeting_requests import (
    STATUS_LABELS,
    AcceptForm,
    CancelForm,
    DeclineForm,
    MeetingRequestForm,
    RequestFilterForm,
    SlotChoiceForm,
)
from ..inputs.matchmaking import (
    MAX_PREFERRED_SLOTS,
    AcceptIn,
    MeetingRequestIn,
    ReasonIn,
    SlotChoiceIn,
)
from ..models import (
    Event,
    MeetingRequest,
    Participant,
    Registration,
    User,
)
from ..models import MeetingRequestStatus as M
from ..paging import page_of
from ..services import matchmaking_settings, meeting_requests, meeting_schedule, names
from ..services.errors import DomainError

bp = Blueprint("meeting_requests", __name__,
               url_prefix="/events/<int:event_id>/marketplace")

PER_PAGE = 50
# Refusals about the slots chosen: bad input, shown beside them.
SLOT_REFUSALS = frozenset({"matchmaking.not_a_slot", "meeting_request.slot_blocked"})
# Refusals of the slot chosen for a meeting: taken meanwhile (409), or not one (400).
TAKEN_SLOT_REFUSALS = frozenset({"schedule.slot_blocked", "schedule.side_busy",
                                 "schedule.no_free_point"})


def _me() -> User:
    return current_user._get_current_object()


def _who(participant: Participant) -> str:
    """A participant as the other side knows them before a meeting is agreed."""
    return names.participant_label(participant)


def _slot_times(meeting_request: MeetingRequest) -> list[datetime]:
    return [datetime.fromisoformat(slot) for slot in meeting_request.preferred_slots or []]


def _profile_url(participant: Participant) -> str:
    """The participant's page on the marketplace."""
    return url_for("marketplace.participant", event_id=participant.event_id,
                   participant_id=participant.id)


def _helpers() -> dict:
    """What the templates ask of a participant or a request."""
    return dict(who=_who, type_label=type_label, slot_times=_slot_times,
                profile_url=_profile_url, status_labels=STATUS_LABELS)


# --------------------------------------------------------------------------- asking


def _request_form(receiver: Participant) -> MeetingRequestForm:
    return MeetingRequestForm(receiver_id=receiver.id, zone=receiver.event.timezone,
                              slots=meeting_requests.offered_slots(receiver))


def _request_page(receiver: Participant, form: MeetingRequestForm, *,
                  refusal: str | None = None, status: int = 200):
    mine = meeting_requests.own_participant(receiver.event_id, _me())
    already = (meeting_requests.open_between(mine.id, receiver.id)
               if mine is not None and mine.id != receiver.id else None)
    return render_template(
        "meeting_requests/new.html", receiver=receiver, event=receiver.event, form=form,
        refusal=refusal, already=already, max_slots=MAX_PREFERRED_SLOTS, **_helpers()), status


@bp.route("/participants/<int:participant_id>/request", methods=["GET", "POST"])
@access.requires_on("participant.request_meeting", Participant, "participant_id",
                    visible="participant.view")
@inputs.takes(MeetingRequestIn)
def new(event_id: int, participant: Participant):
    form = _request_form(participant)
    if request.method == "GET":
        return _request_page(participant, form)
    if not form.validate_on_submit():
        return _request_page(participant, form, status=400)
    me = _me()
    try:
        # The requester is the user's participant at the event of the page's address; a
        # receiver of another event is the service's to refuse.
        requester = meeting_requests.requester_in(event_id, me)
        sent = meeting_requests.request(requester.id, form.input, actor=me)
    except DomainError as refusal:
        unit.discard()
        if refusal.code in SLOT_REFUSALS:
            form.preferred_slots.errors = [*form.preferred_slots.errors, refusal.message]
            return _request_page(participant, form, status=400)
        return _request_page(participant, form, refusal=refusal.message, status=409)
    if sent.status == M.ACCEPTED:
        flash(_("Your meeting with %(name)s is agreed.", name=_who(participant)), "success")
    else:
        flash(_("Your meeting request was sent to %(name)s.", name=_who(participant)),
              "success")
    return redirect(url_for("meeting_requests.requests", event_id=event_id, box="sent"))


# --------------------------------------------------------------------------- the lists


def _with_sides(query):
    """Both sides of each request with what a row shows of them, in a fixed number of
    queries whatever the page's length."""
    for side in (MeetingRequest.requester, MeetingRequest.receiver):
        query = query.options(
            selectinload(side).selectinload(Participant.registration)
            .selectinload(Registration.user).selectinload(User.organization),
            selectinload(side).selectinload(Participant.participant_type))
    return query


@bp.get("/requests")
@access.requires_on("event.view", Event, "event_id")
def requests(event: Event):
    me = _me()
    mine = meeting_requests.own_participant(event.id, me)
    visible = access.meeting_requests_visible_to(me, event)
    boxes: dict[str, object] = {}
    followed = visible
    if mine is not None:
        boxes["received"] = visible.where(MeetingRequest.receiver_id == mine.id)
        boxes["sent"] = visible.where(MeetingRequest.requester_id == mine.id)
        followed = visible.where(MeetingRequest.requester_id != mine.id,
                                 MeetingRequest.receiver_id != mine.id)
    if mine is None or db.session.scalar(
            followed.with_only_columns(MeetingRequest.id).limit(1)) is not None:
        boxes["followed"] = followed
    form = RequestFilterForm(request.args, boxes=list(boxes))
    box = form.box.data
    query = boxes[box]
    if form.chosen_status is not None:
        query = query.where(MeetingRequest.status == form.chosen_status)
    pagination = page_of(_with_sides(query).order_by(MeetingRequest.created_at.desc(),
                                                     MeetingRequest.id.desc()), PER_PAGE)
    return render_template(
        "meeting_requests/list.html", event=event, pagination=pagination, form=form,
        box=box, boxes=list(boxes), mine=mine, accept_form=AcceptForm(formdata=None),
        **_helpers())


# --------------------------------------------------------------------------- one request


def _of_event(event_id: int, meeting_request: MeetingRequest) -> MeetingRequest:
    """A request named under another event's address is not found there."""
    if meeting_request.event_id != event_id:
        abort(404)
    return meeting_request


def _slot_forms(meeting_request: MeetingRequest, me: User, accept_form, slot_form
                ) -> tuple[bool, bool, AcceptForm, SlotChoiceForm]:
    """Whether `me` may answer the request, and pick a slot for its meeting, with the
    forms offering the free common slots as they are now (a form posted keeps its
    choice and its errors)."""
    can_answer = (meeting_request.status == M.REQUESTED
                  and access.can(me, "meeting_request.answer", meeting_request))
    can_choose = meeting_requests.may_choose_slot(meeting_request, me)
    slots = (meeting_requests.free_slots(meeting_request) if can_answer or can_choose
             else [])
    zones = dict(zone=meeting_request.event.timezone, viewer_zone=me.timezone)
    if accept_form is None:
        accept_form = AcceptForm(formdata=None, slots=slots, **zones)
    else:
        accept_form.offer(slots, leave_it=accept_form.starts_at.choices[0].label, **zones)
    if slot_form is None:
        slot_form = SlotChoiceForm(formdata=None, slots=slots, **zones)
    else:
        slot_form.offer(slots, leave_it=None, **zones)
    return can_answer, can_choose, accept_form, slot_form


def _meeting_shown(meeting_request: MeetingRequest):
    """The meeting of an accepted request where its place is shown (published, or chosen
    as it was accepted); None otherwise."""
    if meeting_request.status != M.ACCEPTED:
        return None
    meeting = meeting_requests.meeting_of(meeting_request)
    settings = matchmaking_settings.of_event(meeting_request.event_id, layout=True)
    if meeting is None or settings is None:
        return None
    return meeting if meeting_schedule.shown_to_participants(meeting, settings) else None


def _request_detail(meeting_request: MeetingRequest, *, decline_form: DeclineForm | None = None,
                    cancel_form: CancelForm | None = None, accept_form: AcceptForm | None = None,
                    slot_form: SlotChoiceForm | None = None, refusal: str | None = None,
                    status: int = 200):
    me = _me()
    mine = next((side for side in (meeting_request.requester, meeting_request.receiver)
                 if side.registration.user_id == me.id), None)
    can_answer, can_choose, accept_form, slot_form = _slot_forms(
        meeting_request, me, accept_form, slot_form)
    return render_template(
        "meeting_requests/request.html", meeting_request=meeting_request,
        event=meeting_request.event, mine=mine,
        other=meeting_request.other_side(mine) if mine is not None else None,
        history=meeting_requests.history(meeting_request.id),
        can_answer=can_answer, can_choose=can_choose,
        meeting=_meeting_shown(meeting_request),
        can_cancel=meeting_request.status.is_open
        and access.can(me, "meeting_request.cancel", meeting_request),
        accept_form=accept_form, slot_form=slot_form,
        decline_form=decline_form or DeclineForm(formdata=None),
        cancel_form=cancel_form or CancelForm(formdata=None),
        refusal=refusal, **_helpers()), status


@bp.get("/requests/<int:request_id>", endpoint="request")
@access.requires_on("meeting_request.view", MeetingRequest, "request_id")
def request_detail(event_id: int, meeting_request: MeetingRequest):
    return _request_detail(_of_event(event_id, meeting_request))


def _moved(event_id: int, meeting_request: MeetingRequest, form, shown_as: str | None,
           move: Callable[[int, User, object], MeetingRequest], done: str):
    """Validate `form` (bad input: the request's page with the form again as `shown_as`,
    400), then make the `move` with it; a refusal (someone acted first, the request
    expired) shows the request as it is now, beside the reason, nothing written (409)."""
    _of_event(event_id, meeting_request)
    forms = {shown_as: form} if shown_as else {}
    if not form.validate_on_submit():
        return _request_detail(meeting_request, status=400, **forms)
    request_id = meeting_request.id
    try:
        move(request_id, _me(), form)
    except DomainError as refusal:
        unit.discard()
        again = db.session.get(MeetingRequest, request_id)
        if "starts_at" in form and refusal.code in TAKEN_SLOT_REFUSALS | {
                "matchmaking.not_a_slot"}:
            # Beside the slots, offered again as they are now.
            form.starts_at.errors = [*form.starts_at.errors, refusal.message]
            return _request_detail(again, status=400 if refusal.code not in
                                   TAKEN_SLOT_REFUSALS else 409, **forms)
        return _request_detail(again, refusal=refusal.message, status=409, **forms)
    flash(done, "success")
    return redirect(url_for("meeting_requests.request", event_id=event_id,
                            request_id=request_id))


@bp.post("/requests/<int:request_id>/accept")
@access.requires_on("meeting_request.answer", MeetingRequest, "request_id",
                    visible="meeting_request.view")
@inputs.takes(AcceptIn)
def accept(event_id: int, meeting_request: MeetingRequest):
    return _moved(event_id, meeting_request, AcceptForm(), "accept_form",
                  lambda request_id, me, form: meeting_requests.accept(
                      request_id, actor=me, starts_at=form.input.starts_at),
                  _("You accepted the meeting: you now see each other's contact details."))


@bp.post("/requests/<int:request_id>/slot")
@access.requires_on("meeting_request.place", MeetingRequest, "request_id",
                    visible="meeting_request.view")
@inputs.takes(SlotChoiceIn)
def choose_slot(event_id: int, meeting_request: MeetingRequest):
    return _moved(event_id, meeting_request, SlotChoiceForm(), "slot_form",
                  lambda request_id, me, form: meeting_requests.choose_slot(
                      request_id, actor=me, starts_at=form.input.starts_at),
                  _("The meeting has its time and place: both of you are told by mail."))


@bp.post("/requests/<int:request_id>/decline")
@access.requires_on("meeting_request.answer", MeetingRequest, "request_id",
                    visible="meeting_request.view")
@inputs.takes(ReasonIn)
def decline(event_id: int, meeting_request: MeetingRequest):
    return _moved(event_id, meeting_request, DeclineForm(), "decline_form",
                  lambda request_id, me, form: meeting_requests.decline(
                      request_id, actor=me, reason=form.input.reason),
                  _("You declined the meeting request."))


@bp.post("/requests/<int:request_id>/cancel")
@access.requires_on("meeting_request.cancel", MeetingRequest, "request_id",
                    visible="meeting_request.view")
@inputs.takes(ReasonIn)
def cancel(event_id: int, meeting_request: MeetingRequest):
    return _moved(event_id, meeting_request, CancelForm(), "cancel_form",
                  lambda request_id, me, form: meeting_requests.cancel(
                      request_id, actor=me, reason=form.input.reason),
                  _("The meeting request is cancelled."))

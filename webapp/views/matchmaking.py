"""An event's matchmaking as its organizers set it up: switched on or off, the request
window and mode, meeting blocks and points, participant types and who may ask whom.

One page shows it all (`settings`), each part with a small form of its own that posts
to its endpoint; a refused form comes back on the page, 400, beside its field."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, inputs, unit
from ..forms.matchmaking import (
    POINT_KIND_LABELS,
    MatchmakingForm,
    MatrixForm,
    MeetingBlockForm,
    MeetingPointForm,
    ParticipantTypeForm,
    cell,
    type_label,
)
from ..inputs.matchmaking import (
    MatchmakingIn,
    MatrixIn,
    MeetingBlockIn,
    MeetingPointIn,
    ParticipantTypeIn,
)
from ..models import Event, Matchmaking
from ..services import matchmaking, matchmaking_settings
from ..services.errors import WORDS, DomainError, MatchmakingRefused
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("matchmaking", __name__, url_prefix="/events/<int:event_id>/matchmaking")

# Organizers: the event's (an event of another partner's is an unknown id); members and
# hosts never.
manages = access.requires_on("matchmaking.manage", Event, "event_id", first="event.create")

# The field a service's refusal is about, by its code (others: above the form).
REFUSED_FIELDS = {
    "matchmaking.block_outside_event": "starts_local",
    "matchmaking.point_taken": "name",
    "matchmaking.type_taken": "key",
}


def _local(at, event: Event):
    """A stored instant as the form shows it: in the event's zone, with its offset (so
    a time the clocks pass twice comes back with the choice already made)."""
    return at.astimezone(event.zone) if at else None


def _settings_data(found: Matchmaking, event: Event) -> dict:
    return dict(requests_open_local=_local(found.requests_open_at, event),
                requests_close_local=_local(found.requests_close_at, event),
                meeting_minutes=found.meeting_minutes, break_minutes=found.break_minutes,
                request_mode=found.request_mode.value,
                request_expiry_hours=found.request_expiry_hours)


def _page(event: Event, *, status: int = 200, **forms):
    """The settings page; `forms` the bound forms of a refused post (the others new)."""
    found = matchmaking.for_settings(event.id)
    on = found is not None and found.enabled
    # The forms not posted are new, unbound to what was posted to another.
    settings_form = forms.get("settings") or MatchmakingForm(
        formdata=None, zone=event.timezone,
        data=_settings_data(found, event) if found else None)
    rules_form = forms.get("rules") or MatrixForm(formdata=None, prefix="rules")
    allowed = set(rules_form.allowed.data or []) if "rules" in forms else (
        _cells(found) if on else set())
    return render_template(
        "matchmaking/settings.html", event=event, matchmaking=found, on=on,
        form=settings_form,
        block_form=forms.get("block") or MeetingBlockForm(formdata=None, prefix="block",
                                                          zone=event.timezone),
        point_form=forms.get("point") or MeetingPointForm(formdata=None, prefix="point"),
        type_form=forms.get("type") or ParticipantTypeForm(formdata=None, prefix="type"),
        rules_form=rules_form, allowed=allowed, cell=cell, type_label=type_label,
        figures=matchmaking.figures(event.id) if on else None,
        slots={block.id: _slot_count(found, block) for block in found.blocks} if on else {},
        status_word=WORDS["meeting_request_status"], point_kind_labels=POINT_KIND_LABELS,
    ), status


def _cells(found: Matchmaking) -> set[str]:
    """The matrix's ticked cells, as its checkboxes post them."""
    kinds = {kind.id: kind for kind in found.participant_types}
    return {cell(kinds[rule.requester_type_id], kinds[rule.receiver_type_id])
            for rule in found.rules}


def _slot_count(found: Matchmaking, block) -> int:
    """The meetings one block holds: the first at its start, then one per meeting and
    break, as long as a whole meeting fits."""
    length = timedelta(minutes=found.meeting_minutes)
    if block.ends_at - block.starts_at < length:
        return 0
    step = timedelta(minutes=found.meeting_minutes + found.break_minutes)
    return (block.ends_at - block.starts_at - length) // step + 1


def _refused(form, error: DomainError) -> None:
    show_refusal(form, error if isinstance(error, Refused)
                 else Refused.of(error, REFUSED_FIELDS.get(error.code)))


def _back(event: Event, anchor: str | None = None):
    return redirect(url_for("matchmaking.settings", event_id=event.id, _anchor=anchor))


def _not_done(refusal: DomainError):
    """A button's refusal: nothing written, said on the page it returns to."""
    unit.discard()
    flash(refusal.message, "warning")


def _save(event: Event, name: str, form, change, done: str, anchor: str):
    """A posted form: validated, handed to `change` (a service call), then back to the
    page; refused: the page again, 400, with the form and its messages."""
    if form.validate_on_submit():
        try:
            change(form.input)
        except (Refused, MatchmakingRefused) as error:
            _refused(form, error)
        else:
            flash(done, "success")
            return _back(event, anchor)
    return _page(event, status=400, **{name: form})


@bp.route("/", methods=["GET", "POST"])
@manages
@inputs.takes(MatchmakingIn)
def settings(event: Event):
    if request.method == "GET":
        return _page(event)
    found = matchmaking_settings.of_event(event.id)
    done = (_("The matchmaking settings were saved.") if found is not None and found.enabled
            else _("Matchmaking is on for this event."))
    return _save(event, "settings", MatchmakingForm(zone=event.timezone),
                 lambda values: matchmaking.switch_on(event.id, values, actor=current_user),
                 done, "settings")


@bp.post("/off")
@manages
@inputs.takes(inputs.NoInput)
def switch_off(event: Event):
    try:
        matchmaking.switch_off(event.id, actor=current_user)
    except MatchmakingRefused as refusal:
        _not_done(refusal)
    else:
        flash(_("Matchmaking is off: nobody new joins or asks for meetings; what was "
                "agreed stays."), "success")
    return _back(event)


@bp.post("/blocks")
@manages
@inputs.takes(MeetingBlockIn)
def add_block(event: Event):
    return _save(event, "block", MeetingBlockForm(prefix="block", zone=event.timezone),
                 lambda values: matchmaking.add_block(event.id, values, actor=current_user),
                 _("The meeting block was added."), "blocks")


@bp.post("/blocks/<int:block_id>/remove")
@manages
@inputs.takes(inputs.NoInput)
def remove_block(event: Event, block_id: int):
    return _remove(matchmaking.remove_block, event, block_id,
                   _("The meeting block was removed."), "blocks")


@bp.post("/points")
@manages
@inputs.takes(MeetingPointIn)
def add_point(event: Event):
    return _save(event, "point", MeetingPointForm(prefix="point"),
                 lambda values: matchmaking.add_point(event.id, values, actor=current_user),
                 _("The meeting point was added."), "points")


@bp.post("/points/<int:point_id>/remove")
@manages
@inputs.takes(inputs.NoInput)
def remove_point(event: Event, point_id: int):
    return _remove(matchmaking.remove_point, event, point_id,
                   _("The meeting point was removed."), "points")


def _remove(remove, event: Event, item_id: int, done: str, anchor: str):
    """A block or point removed; one of another event (or none) is not found."""
    try:
        removed = remove(event.id, item_id, actor=current_user)
    except MatchmakingRefused as refusal:
        _not_done(refusal)
        return _back(event)
    if removed is None:
        abort(404)
    flash(done, "success")
    return _back(event, anchor)


@bp.post("/types")
@manages
@inputs.takes(ParticipantTypeIn)
def add_type(event: Event):
    return _save(event, "type", ParticipantTypeForm(prefix="type"),
                 lambda values: matchmaking.add_participant_type(event.id, values,
                                                                 actor=current_user),
                 _("The participant type was added; it may ask and be asked by every "
                   "type until you change the matrix."), "types")


@bp.post("/rules")
@manages
@inputs.takes(MatrixIn)
def save_rules(event: Event):
    return _save(event, "rules", MatrixForm(prefix="rules"),
                 lambda values: matchmaking.set_matrix(event.id, values.pairs(),
                                                       actor=current_user),
                 _("The request matrix was saved."), "matrix")

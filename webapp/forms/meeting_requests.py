"""The meeting request forms: asking a participant for a meeting (a message and the
preferred slots, their model webapp/inputs/matchmaking.py's MeetingRequestIn), a reason
to decline or cancel (ReasonIn), the accept button, and the list's filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString, pgettext
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..inputs.matchmaking import AcceptIn, MeetingRequestIn, ReasonIn, SlotChoiceIn
from ..localtime import format_day, viewer_span
from ..models import MeetingRequestStatus
from . import BaseForm, CheckboxesField, PlainForm

# A status as a list shows it; the errors' lower-case words are for sentences.
STATUS_LABELS = {
    MeetingRequestStatus.REQUESTED: LazyString(
        lambda: pgettext("meeting request status", "Awaiting an answer")),
    MeetingRequestStatus.ACCEPTED: LazyString(
        lambda: pgettext("meeting request status", "Accepted")),
    MeetingRequestStatus.DECLINED: LazyString(
        lambda: pgettext("meeting request status", "Declined")),
    MeetingRequestStatus.EXPIRED: LazyString(
        lambda: pgettext("meeting request status", "Expired")),
    MeetingRequestStatus.CANCELLED: LazyString(
        lambda: pgettext("meeting request status", "Cancelled")),
}

# The lists of a participant's requests, and the one of those they follow.
BOXES = {
    "received": _l("Received"),
    "sent": _l("Sent"),
    "followed": _l("Requests you follow"),
}


class MeetingRequestForm(BaseForm):
    """The receiver is the page's (`receiver_id`); the slots offered are the event's but
    those the receiver blocked, in the event's zone (`slot_days`: each local day with the
    values of its slots)."""

    input_model = MeetingRequestIn

    message = TextAreaField(_l("Message"), render_kw={"rows": 4},
                            description=_l("What you would like to talk about."))
    # The service judges a slot that was not offered.
    preferred_slots = CheckboxesField(_l("Preferred slots (optional)"), validate_choice=False)

    def __init__(self, *args, receiver_id: int, slots: list[tuple[datetime, datetime]],
                 zone: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.receiver_id = receiver_id
        tz = ZoneInfo(zone)
        self.preferred_slots.choices = []
        self.slot_days: list[tuple[str, list[str]]] = []
        for start, end in slots:
            local = start.astimezone(tz)
            end = end.astimezone(tz)
            value = start.isoformat()
            self.preferred_slots.choices.append(
                SelectChoice(value, f"{local:%H:%M}–{end:%H:%M}"))
            day = format_day(local.date())
            if not self.slot_days or self.slot_days[-1][0] != day:
                self.slot_days.append((day, []))
            self.slot_days[-1][1].append(value)

    def input_data(self) -> dict[str, Any]:
        return {**super().input_data(), "receiver_id": self.receiver_id}


class SlotChoices:
    """The free common slots a meeting may take (`services.meeting_requests.free_slots`),
    as radio buttons labelled in the event's zone, and in the viewer's when their clock
    reads otherwise, the requester's preferred ones first; the service judges a value
    that was not offered."""

    def offer(self, slots, *, zone: str, viewer_zone: str | None,
              leave_it: str | None) -> None:
        tz = ZoneInfo(zone)
        self.starts_at.choices = [SelectChoice("", leave_it)] if leave_it else []
        self.preferred: set[str] = set()
        for slot in slots:
            local, end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
            value = slot.starts_at.isoformat()
            label = f"{format_day(local.date())}, {local:%H:%M}–{end:%H:%M}"
            theirs = viewer_span(slot.starts_at, slot.ends_at, zone, viewer_zone)
            self.starts_at.choices.append(SelectChoice(
                value, f"{label} ({theirs})" if theirs else label))
            if slot.preferred:
                self.preferred.add(value)
        self.slots = list(slots)

    def input_data(self) -> dict[str, Any]:
        data = super().input_data()  # type: ignore[misc]
        if not data.get("starts_at"):
            data.pop("starts_at", None)
        return data


class AcceptForm(SlotChoices, BaseForm):
    """Accepting, with a free common slot for the meeting or none (the organizers place
    it); `offer` sets the slots."""

    input_model = AcceptIn

    starts_at = RadioField(_l("Time of the meeting"), validate_choice=False, default="")

    def __init__(self, *args, slots=(), zone: str = "UTC", viewer_zone: str | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer(slots, zone=zone, viewer_zone=viewer_zone,
                   leave_it=_l("Leave it to the organizers"))


class SlotChoiceForm(SlotChoices, BaseForm):
    """An accepted meeting's slot, chosen among the free common ones."""

    input_model = SlotChoiceIn

    starts_at = RadioField(_l("Time of the meeting"), validate_choice=False)

    def __init__(self, *args, slots=(), zone: str = "UTC", viewer_zone: str | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer(slots, zone=zone, viewer_zone=viewer_zone, leave_it=None)


class DeclineForm(BaseForm):
    input_model = ReasonIn

    reason = TextAreaField(_l("Why you decline"), id="decline-reason", render_kw={"rows": 3})


class CancelForm(BaseForm):
    input_model = ReasonIn

    reason = TextAreaField(_l("Why you cancel"), id="cancel-reason", render_kw={"rows": 3})


class RequestFilterForm(PlainForm):
    """Which list, and which status; a value the lists do not know shows them all."""

    box = SelectField(_l("Requests"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False, choices=[
        SelectChoice("", _l("All statuses"))] + [
        SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()])

    def __init__(self, formdata, *, boxes: list[str]) -> None:
        super().__init__(formdata)
        self.box.choices = [SelectChoice(box, BOXES[box]) for box in boxes]
        if self.box.data not in boxes:
            self.box.data = boxes[0]

    @property
    def chosen_status(self) -> MeetingRequestStatus | None:
        try:
            return MeetingRequestStatus(self.status.data)
        except ValueError:
            return None

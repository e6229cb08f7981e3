"""The organizers' schedule forms: "schedule all" with its time limit, a meeting's move
(one radio button per free slot and meeting point), publishing. Their models are
webapp/inputs/schedule.py's."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField
from wtforms.fields.choices import SelectChoice

from ..inputs.schedule import MeetingMoveIn, PublishIn, ScheduleRunIn
from . import BaseForm

# The value of a move's radio button: the slot's start and the point's id.
TARGET_SEPARATOR = "@"


def target_value(starts_at, point_id: int) -> str:
    return f"{starts_at.isoformat()}{TARGET_SEPARATOR}{point_id}"


class ScheduleRunForm(BaseForm):
    input_model = ScheduleRunIn

    seconds = IntegerField(_l("Time limit (seconds)"), default=60, description=_l(
        "Placing the most meetings comes first; the rest of the time goes to fewer idle "
        "slots between a participant's meetings."))


class MeetingMoveForm(BaseForm):
    input_model = MeetingMoveIn

    target = RadioField(_l("New slot and meeting point"), validate_choice=False)

    def input_data(self) -> dict[str, Any]:
        starts_at, _sep, point_id = (self.target.data or "").partition(TARGET_SEPARATOR)
        return {name: value for name, value in (("starts_at", starts_at),
                                                 ("point_id", point_id)) if value}

    def field_for(self, where: tuple[Any, ...]) -> str | None:
        return "target"


class PublishForm(BaseForm):
    input_model = PublishIn

    state = RadioField(_l("Publish as"), validate_choice=False, choices=[
        SelectChoice("preliminary", _l("Preliminary: participants see it; it may still "
                                       "change")),
        SelectChoice("final", _l("Final: it changes only once you reopen it"))])

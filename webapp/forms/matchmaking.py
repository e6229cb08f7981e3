"""The organizers' matchmaking forms: its settings, a meeting block, a meeting point, a
participant type and the request matrix. Their fields are their input models'
(webapp/inputs/matchmaking.py), so a refusal lands beside the field it is about; local
times are read in the event's zone (`zone`), as the event form reads its own."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..inputs.matchmaking import (
    CELL_SEPARATOR,
    MatchmakingIn,
    MatrixIn,
    MeetingBlockIn,
    MeetingPointIn,
    ParticipantTypeIn,
)
from ..models import MeetingPointKind, RequestMode
from . import BaseForm, CheckboxesField
from .dates import LocalTimeField

REQUEST_MODE_LABELS = {
    RequestMode.RECEIVER_ACCEPTS: _l("The participant asked accepts or declines"),
    RequestMode.INSTANT: _l("Accepted at once"),
}
POINT_KIND_LABELS = {
    MeetingPointKind.TABLE: _l("Table"),
    MeetingPointKind.BOOTH: _l("Booth"),
    MeetingPointKind.ONLINE: _l("Online room"),
}
# The default participant types are labelled by their key; an organizer's own type by
# the label they gave it.
PARTICIPANT_TYPE_LABELS = {
    "sme": _l("SME"),
    "research": _l("Research"),
    "government": _l("Government or city"),
    "investor": _l("Investor"),
    "host_stakeholder": _l("Host-region stakeholder"),
}

def type_label(kind) -> str:
    """A participant type's name: the organizer's label, else its default's."""
    return kind.label or str(PARTICIPANT_TYPE_LABELS.get(kind.key, kind.key))


def cell(asking, asked) -> str:
    return f"{asking.key}{CELL_SEPARATOR}{asked.key}"


def _choices(labels) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in labels.items()]


class _LocalTimes:
    """A form whose `local_times` are wall-clock times of the event's zone (`zone`),
    handed to the model as `LocalTimeField.value_in` reads them."""

    local_times: tuple[str, ...] = ()

    def __init__(self, *args, zone: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def input_data(self) -> dict[str, Any]:
        data = super().input_data()
        for name in self.local_times:
            data.pop(name, None)
            value = self[name].value_in(self.zone)
            if value is not None:
                data[name] = value
        return data


class MatchmakingForm(_LocalTimes, BaseForm):
    input_model = MatchmakingIn
    local_times = ("requests_open_local", "requests_close_local")

    requests_open_local = LocalTimeField(_l("Requests open (local time)"),
                                         validators=[Optional()])
    requests_close_local = LocalTimeField(_l("Requests close (local time)"),
                                          validators=[Optional()])
    meeting_minutes = IntegerField(_l("Meeting length (minutes)"), default=30)
    break_minutes = IntegerField(_l("Break between meetings (minutes)"), default=10)
    request_mode = SelectField(_l("How a request is answered"),
                               choices=_choices(REQUEST_MODE_LABELS),
                               default=RequestMode.RECEIVER_ACCEPTS.value,
                               validate_choice=False)
    request_expiry_hours = IntegerField(_l("Unanswered requests expire after (hours)"),
                                        default=72)


class MeetingBlockForm(_LocalTimes, BaseForm):
    input_model = MeetingBlockIn
    local_times = ("starts_local", "ends_local")

    # Left empty, the model says it is required (not that it is no date).
    starts_local = LocalTimeField(_l("Starts (local time)"), validators=[Optional()])
    ends_local = LocalTimeField(_l("Ends (local time)"), validators=[Optional()])


class MeetingPointForm(BaseForm):
    input_model = MeetingPointIn

    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), choices=_choices(POINT_KIND_LABELS),
                       default=MeetingPointKind.TABLE.value, validate_choice=False)
    url = StringField(_l("Address of the online room"))


class ParticipantTypeForm(BaseForm):
    input_model = ParticipantTypeIn

    key = StringField(_l("Key"))
    label = StringField(_l("Label"))


class MatrixForm(BaseForm):
    """The matrix's checkboxes; the page lays them out as a grid (the service judges
    the types they name)."""

    input_model = MatrixIn

    allowed = CheckboxesField(_l("May ask"), validate_choice=False)

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ..models import EventKind
from . import BaseForm

KIND_LABELS = {
    EventKind.OUTBOUND_MISSION: _l("Outbound mission"),
    EventKind.INBOUND_MISSION: _l("Inbound mission"),
    EventKind.FACT_FINDING_MISSION: _l("Fact-finding mission"),
    EventKind.WEBINAR: _l("Webinar"),
    EventKind.WORKSHOP: _l("Workshop"),
    EventKind.MATCHMAKING: _l("B2B matchmaking"),
    EventKind.RECEPTION: _l("Reception"),
}


class EventFilterForm(BaseForm):
    """The event list's filters, read from the query string."""

    class Meta:
        csrf = False

    when = SelectField(
        _l("When"),
        choices=[SelectChoice("upcoming", _l("Upcoming")), SelectChoice("past", _l("Past"))],
        default="upcoming",
        validators=[Optional()],
    )
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("All kinds"))]
        + [SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default="",
        validators=[Optional()],
    )
    country = SelectField(
        _l("Target region"),
        choices=[SelectChoice("", _l("All regions"))],
        default="",
        validators=[Optional()],
    )
    page = IntegerField(
        _l("Page"), default=1, validators=[Optional(), NumberRange(min=1, max=10_000)]
    )

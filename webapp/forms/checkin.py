from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from . import BaseForm
from .account import strip

WHOLE_EVENT = "event"


class RecordForm(BaseForm):
    """The check-in button on a badge's own page: the event as a whole, or one of its
    agenda sessions (choices set by the view)."""

    session = SelectField(_l("Checking in for"), default=WHOLE_EVENT)

    def session_id(self) -> int | None:
        value = self.session.data
        return None if value in (None, "", WHOLE_EVENT) else int(value)


class CheckInForm(RecordForm):
    """The door's form: a scanned or typed code, and what it checks in for."""

    code = StringField(_l("Badge code"), filters=[strip],
                       validators=[DataRequired(message=_l(
                           "Scan a badge or type the code printed under its QR code.")),
                           Length(max=300)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false"})

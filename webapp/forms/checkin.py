"""The door's check-in forms. What they accept is the models' (webapp/inputs/checkin.py),
named as the API names it: the code is the model's `token`, the session its `session_id`."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField

from ..inputs.checkin import MAX_TOKEN, BadgeCheckinIn, CheckinIn
from . import BaseForm
from .account import strip

WHOLE_EVENT = "event"


class RecordForm(BaseForm):
    """The check-in button on a badge's own page: the event as a whole, or one of its
    agenda sessions (choices set by the view)."""

    input_model = BadgeCheckinIn

    session = SelectField(_l("Checking in for"), default=WHOLE_EVENT)

    # The model's names for the form's fields.
    FIELDS = {"session_id": "session"}

    def session_id(self) -> int | None:
        value = self.session.data
        return None if value in (None, "", WHOLE_EVENT) else int(value)

    def input_data(self) -> dict[str, Any]:
        # The choices are the event's sessions (the select refuses any other value).
        value = self.session.data
        return {"session_id": None if value in (None, "", WHOLE_EVENT) else value}

    def field_for(self, where: tuple[Any, ...]) -> str | None:
        name = super().field_for(where)
        return self.FIELDS.get(name, name) if name else None


class CheckInForm(RecordForm):
    """The door's form: a scanned or typed code, and what it checks in for."""

    input_model = CheckinIn

    code = StringField(_l("Badge code"), filters=[strip],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false", "required": True,
                                  "maxlength": MAX_TOKEN, "autofocus": True})

    FIELDS = {"session_id": "session", "token": "code"}

    def input_data(self) -> dict[str, Any]:
        data = super().input_data()
        if self.code.data is not None:
            data["token"] = self.code.data
        return data

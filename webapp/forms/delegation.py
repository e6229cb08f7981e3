from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..services.messages import BODY_MAX, SUBJECT_MAX
from . import BaseForm
from .account import strip

WHOLE_DELEGATION = "all"


class MessageForm(BaseForm):
    # Choices are the audiences the sender may address (set by the view); anything else
    # posted, such as another cluster's id, fails validation before the service sees it.
    audience = SelectField(_l("To"), validators=[DataRequired()])
    subject = StringField(_l("Subject"), filters=[strip],
                          validators=[DataRequired(), Length(max=SUBJECT_MAX)])
    body = TextAreaField(_l("Message"), filters=[strip],
                         validators=[DataRequired(), Length(max=BODY_MAX)],
                         render_kw={"rows": 8})

    def partner_id(self) -> int | None:
        value = self.audience.data
        return None if value == WHOLE_DELEGATION else int(value)

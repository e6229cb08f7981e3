from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional, shared with the organizers)"),
        validators=[Optional(), Length(max=1000)],
    )

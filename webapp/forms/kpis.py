"""The dashboard's period (a GET form: bookmarkable, no CSRF needed to read)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional

from . import BaseForm


class PeriodForm(BaseForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

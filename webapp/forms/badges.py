from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..inputs.badges import EVERY_PARTNER, BadgeBatchIn
from ..models import BadgeFormat
from . import BaseForm

__all__ = ["EVERY_PARTNER", "FORMAT_CHOICES", "BatchForm"]

FORMAT_CHOICES = [
    SelectChoice(BadgeFormat.A6.value,
                 _l("A6, one badge per page (badge printers, pre-cut card)")),
    SelectChoice(BadgeFormat.A4.value,
                 _l("A4, four badges per sheet with cut marks (office printers)")),
]


class BatchForm(BaseForm):
    """What it accepts is its model's (webapp/inputs/badges.py)."""

    input_model = BadgeBatchIn

    # A link without a paper gets A6, like a single badge's.
    format = RadioField(_l("Paper"), choices=FORMAT_CHOICES, default=BadgeFormat.A6.value,
                        validate_choice=False)
    # The clusters the requester may print for (set by the view); anything else posted
    # fails validation before the service sees it. The page shows the choice only when
    # there is one to make, so a form without it means all of them.
    partner = SelectField(_l("Delegates of"), default=EVERY_PARTNER, validators=[Optional()])

    def input_data(self) -> dict[str, Any]:
        # Left empty: the default.
        return {name: value for name, value in super().input_data().items() if value != ""}

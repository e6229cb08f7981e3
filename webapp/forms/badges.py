from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..models import BadgeFormat
from . import BaseForm

FORMAT_CHOICES = [
    SelectChoice(BadgeFormat.A6.value,
                 _l("A6, one badge per page (badge printers, pre-cut card)")),
    SelectChoice(BadgeFormat.A4.value,
                 _l("A4, four badges per sheet with cut marks (office printers)")),
]
EVERY_PARTNER = "all"


class BatchForm(BaseForm):
    # A link without a paper gets A6, like a single badge's.
    format = RadioField(_l("Paper"), choices=FORMAT_CHOICES, default=BadgeFormat.A6.value,
                        validators=[Optional()])
    # The clusters the requester may print for (set by the view); anything else posted
    # fails validation before the service sees it. The page shows the choice only when
    # there is one to make, so a form without it means all of them.
    partner = SelectField(_l("Delegates of"), default=EVERY_PARTNER,
                          validators=[Optional()])

    def badge_format(self) -> BadgeFormat:
        return BadgeFormat(self.format.data or BadgeFormat.A6.value)

    def partner_id(self) -> int | None:
        value = self.partner.data
        return None if value in (None, "", EVERY_PARTNER) else int(value)

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField

from ..inputs.delegation import WHOLE_DELEGATION, DelegationMessageIn
from . import BaseForm
from .account import strip

__all__ = ["WHOLE_DELEGATION", "MessageForm"]


class MessageForm(BaseForm):
    """A message to the delegation; what it may hold is its model's
    (webapp/inputs/delegation.py)."""

    input_model = DelegationMessageIn

    # Choices are the audiences the sender may address (set by the view); anything else
    # posted, such as another cluster's id, fails validation before the service sees it.
    audience = SelectField(_l("To"))
    subject = StringField(_l("Subject"), filters=[strip])
    body = TextAreaField(_l("Message"), filters=[strip], render_kw={"rows": 8})

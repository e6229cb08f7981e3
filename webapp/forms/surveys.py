"""The follow-up survey form of a mission (both rounds; the second adds "what came of it")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from ..ids import coerce_id
from ..inputs.surveys import OutcomeConfirmationIn, SurveyAnswerIn
from ..models.survey import MAX_TEXT
from . import BaseForm
from .auth import _strip


def _count(label, description=None) -> IntegerField:
    # Left empty: none (Optional keeps the empty text from being a wrong number).
    return IntegerField(label, default=0, description=description, validators=[Optional()],
                        render_kw={"inputmode": "numeric"})


class SurveyForm(BaseForm):
    """What is accepted is the model's (webapp/inputs/surveys.py); satisfaction is shown
    as five radio buttons."""

    input_model = SurveyAnswerIn

    satisfaction = IntegerField(_l("Overall, how satisfied are you with the mission?"),
                                validators=[Optional()])
    b2b_meetings = _count(_l("B2B meetings held"))
    leads = _count(_l("Leads gained"), _l("Contacts that could become business."))
    agreements_in_negotiation = _count(_l("Agreements in negotiation"))
    agreements_signed = _count(_l("Agreements signed"))
    agreement_parties = StringField(
        _l("With whom?"), filters=[_strip],
        description=_l("The organizations of those agreements, so your cluster can record "
                       "them with you."))
    outcome = TextAreaField(_l("What came of the mission?"), filters=[_strip],
                            render_kw={"rows": 4, "maxlength": MAX_TEXT})
    comment = TextAreaField(_l("Anything else you would like to tell us?"), filters=[_strip],
                            render_kw={"rows": 4, "maxlength": MAX_TEXT})


class ConfirmOutcomeForm(BaseForm):
    """A partner manager confirms the delegate's reported agreement as a record."""

    input_model = OutcomeConfirmationIn

    agreement_id = SelectField(_l("The agreement record"), coerce=coerce_id,
                               validate_choice=False)

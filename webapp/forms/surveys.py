"""The follow-up survey form of a mission (both rounds; the second adds "what came of it")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..ids import coerce_id
from ..models.survey import MAX_AGREEMENTS, MAX_LEADS, MAX_MEETINGS, MAX_PARTIES, MAX_TEXT
from ..services import surveys
from . import BaseForm
from .auth import _strip


def _count(label, limit: int, description=None) -> IntegerField:
    return IntegerField(label, default=0, description=description, validators=[
        Optional(), NumberRange(min=0, max=limit, message=_l(
            "Give a whole number from 0 to %(max)d.", max=limit))],
        render_kw={"min": 0, "max": limit, "inputmode": "numeric"})


_SATISFACTION = _l("Choose your satisfaction from 1 (poor) to 5 (excellent).")


class SurveyForm(BaseForm):
    # Shown as five radio buttons; the range is checked here and again by the service.
    satisfaction = IntegerField(
        _l("Overall, how satisfied are you with the mission?"),
        validators=[InputRequired(message=_SATISFACTION), NumberRange(
            min=1, max=5, message=_SATISFACTION)])
    b2b_meetings = _count(_l("B2B meetings held"), MAX_MEETINGS)
    leads = _count(_l("Leads gained"), MAX_LEADS,
                   _l("Contacts that could become business."))
    agreements_in_negotiation = _count(_l("Agreements in negotiation"), MAX_AGREEMENTS)
    agreements_signed = _count(_l("Agreements signed"), MAX_AGREEMENTS)
    agreement_parties = StringField(
        _l("With whom?"), validators=[Length(max=MAX_PARTIES)], filters=[_strip],
        description=_l("The organizations of those agreements, so your cluster can record "
                       "them with you."))
    outcome = TextAreaField(_l("What came of the mission?"), validators=[Length(max=MAX_TEXT)],
                            filters=[_strip], render_kw={"rows": 4, "maxlength": MAX_TEXT})
    comment = TextAreaField(_l("Anything else you would like to tell us?"),
                            validators=[Length(max=MAX_TEXT)], filters=[_strip],
                            render_kw={"rows": 4, "maxlength": MAX_TEXT})

    def answers(self) -> surveys.Answers:
        def n(field) -> int:
            return field.data if field.data is not None else 0

        return surveys.Answers(
            satisfaction=self.satisfaction.data, b2b_meetings=n(self.b2b_meetings),
            leads=n(self.leads), agreements_in_negotiation=n(self.agreements_in_negotiation),
            agreements_signed=n(self.agreements_signed),
            agreement_parties=self.agreement_parties.data or "",
            outcome=self.outcome.data or "", comment=self.comment.data or "")


class ConfirmOutcomeForm(BaseForm):
    """A partner manager confirms the delegate's reported agreement as a record."""

    agreement_id = SelectField(_l("The agreement record"), coerce=coerce_id,
                               validators=[InputRequired(_l("Choose the agreement."))])

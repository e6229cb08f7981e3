"""Agreement forms; field names match `services.agreements.AgreementDetails`, so a
refusal lands beside the field it is about."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..localtime import AGREEMENT_DATES
from ..models import AgreementKind, AgreementStatus, AgreementType, Helix
from . import BaseForm
from .admin import country_choices
from .dates import Within

KIND_LABELS = {
    AgreementKind.PARTNERSHIP: _l("Partnership agreement"),
    AgreementKind.COLLABORATION: _l("Collaboration agreement"),
}
TYPE_LABELS = {
    AgreementType.MEMORANDUM: _l("Memorandum of understanding"),
    AgreementType.BUSINESS_PARTNERSHIP: _l("Business partnership"),
    AgreementType.RESEARCH_COLLABORATION: _l("Research collaboration"),
    AgreementType.JOINT_PROJECT_PROPOSAL: _l("Joint project proposal"),
    AgreementType.OTHER: _l("Other"),
}
STATUS_LABELS = {
    AgreementStatus.IN_NEGOTIATION: _l("In negotiation"),
    AgreementStatus.SIGNED: _l("Signed"),
    AgreementStatus.ENDED: _l("Ended"),
}
HELIX_LABELS = {
    Helix.INDUSTRY: _l("Company"),
    Helix.RESEARCH: _l("Research"),
    Helix.GOVERNMENT: _l("Government or city"),
}


def _choices(labels) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in labels.items()]


class AgreementForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), validators=[InputRequired()])
    type = SelectField(_l("Type"), choices=_choices(TYPE_LABELS), validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS),
                         validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Short public description"),
                                validators=[Optional(), Length(max=2000)],
                                render_kw={"rows": 3})
    # The view and the service name a foreign or unknown cluster or event in their words.
    responsible_partner_id = SelectField(_l("Responsible cluster"),
                                         validators=[InputRequired()], validate_choice=False)
    # The service names unknown or repeated parties; the form passes them through.
    parties = SelectMultipleField(_l("Parties"), validate_choice=False,
                                  render_kw={"size": 10})
    new_organization_name = StringField(_l("Another party, not yet recorded: its name"),
                                        validators=[Optional(), Length(max=200)])
    new_organization_country = SelectField(_l("Its country"), validators=[Optional()])
    new_organization_helix = SelectField(_l("What it is"), choices=_choices(HELIX_LABELS))
    started_on = DateField(_l("Started on"), validators=[Optional(), Within(AGREEMENT_DATES)])
    signed_on = DateField(_l("Signed on"), validators=[Optional(), Within(AGREEMENT_DATES)])
    ended_on = DateField(_l("Ended on"), validators=[Optional(), Within(AGREEMENT_DATES)])
    origin_event_id = SelectField(_l("Event where it started"), validators=[Optional()],
                                  validate_choice=False)

    def __init__(self, *args, partners=(), parties=(), events=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.responsible_partner_id.choices = [SelectChoice("", str(_l("Choose a cluster")))] + [
            SelectChoice(str(p.id), p.name) for p in partners]
        self.parties.choices = [SelectChoice(key, label) for key, label in parties]
        self.new_organization_country.choices = country_choices(str(_l("Choose a country")))
        self.origin_event_id.choices = [SelectChoice("", str(_l("None")))] + [
            SelectChoice(str(e.id), f"{e.title} ({e.starts_at:%Y-%m-%d})") for e in events]

"""The agreement form; its fields are its model's (webapp/inputs/agreements.py), so a
refusal, the model's or the service's, lands beside the field it is about. The lists
offer choices; the model and the service judge what was chosen."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString, pgettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..inputs.agreements import AgreementIn
from ..models import AgreementKind, AgreementStatus, AgreementType, Helix
from ..services.fields import territory_codes
from . import BaseForm, CheckboxesField
from .places import country_choices

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
    # A status, not the survey results' "Signed" column (a count): languages may differ.
    AgreementStatus.SIGNED: LazyString(lambda: pgettext("agreement status", "Signed")),
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
    input_model = AgreementIn

    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), validate_choice=False)
    type = SelectField(_l("Type"), choices=_choices(TYPE_LABELS), validate_choice=False)
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS), validate_choice=False)
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Short public description"), render_kw={"rows": 3})
    # The view and the service name a foreign or unknown cluster or event in their words.
    responsible_partner_id = SelectField(_l("Responsible cluster"), validate_choice=False)
    # The service names unknown parties; the form passes them through.
    parties = CheckboxesField(_l("Parties"), validate_choice=False)
    new_organization_name = StringField(_l("Another party, not yet recorded: its name"))
    new_organization_country = SelectField(_l("Its country"), validate_choice=False)
    new_organization_helix = SelectField(_l("What it is"), choices=_choices(HELIX_LABELS),
                                         validate_choice=False)
    started_on = DateField(_l("Started on"), validators=[Optional()])
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    ended_on = DateField(_l("Ended on"), validators=[Optional()])
    origin_event_id = SelectField(_l("Event where it started"), validate_choice=False)

    def input_data(self) -> dict[str, Any]:
        # An empty choice is no choice.
        return {name: value for name, value in super().input_data().items() if value != ""}

    def __init__(self, *args, partners=(), parties=(), events=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.responsible_partner_id.choices = [SelectChoice("", str(_l("Choose a cluster")))] + [
            SelectChoice(str(p.id), p.name) for p in partners]
        self.parties.choices = [
            SelectChoice(party.key, _l("%(name)s (%(country)s, partner)", name=party.name,
                                       country=party.country) if party.is_partner
                         else f"{party.name} ({party.country})") for party in parties]
        self.new_organization_country.choices = country_choices(territory_codes(),
                                                                _l("Choose a country"))
        self.origin_event_id.choices = [SelectChoice("", str(_l("None")))] + [
            SelectChoice(str(e.id), f"{e.title} ({e.starts_at:%Y-%m-%d})") for e in events]

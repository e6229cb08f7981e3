"""Forms of the organization pages: the profile, the logo, join requests, review, merge."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..ids import coerce_id
from ..inputs.organizations import MembershipDecisionIn, MergeIn, OrganizationIn
from ..models import Helix, OrganizationSize
from ..services.questions import country_codes
from . import BaseForm
from .places import country_choices

SIZE_LABELS = {
    OrganizationSize.MICRO: _l("Micro (fewer than 10 people)"),
    OrganizationSize.SMALL: _l("Small (10 to 49 people)"),
    OrganizationSize.MEDIUM: _l("Medium (50 to 249 people)"),
    OrganizationSize.LARGE: _l("Large (250 people or more)"),
}
HELIX_LABELS = {
    Helix.INDUSTRY: _l("Industry"),
    Helix.RESEARCH: _l("Research"),
    Helix.GOVERNMENT: _l("Government"),
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def web_address(form, field) -> None:
    """Links on the page must open a web site: http(s) with a host, nothing else
    (no javascript:, data: or mailto: links)."""
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(
        c.isspace() for c in field.data
    ):
        raise ValidationError(_l("Enter a web address starting with http:// or https://."))


class BlankChoiceIsNone:
    """A form mixin: a list's blank choice ("Choose a size") gives its model no value, so
    the model's rule for a missing value speaks, as it does for the API."""

    def input_data(self) -> dict:
        return {name: value for name, value in super().input_data().items()
                if not (value == "" and isinstance(self._fields[name], SelectField))}


class OrganizationForm(BlankChoiceIsNone, BaseForm):
    input_model = OrganizationIn

    name = StringField(_l("Name"))
    country = SelectField(_l("Country"), validate_choice=False)
    city = StringField(_l("City"))
    sector = StringField(_l("Sector"))
    # "Choose a size" first: an organization registered quickly for a webinar has none
    # yet, and must not look as if it had been given the first size of the list.
    size = SelectField(_l("Size"), validate_choice=False,
                       choices=[SelectChoice("", _l("Choose a size"))] + [
                           SelectChoice(s.value, label) for s, label in SIZE_LABELS.items()])
    helix = SelectField(_l("Kind of organization"), validate_choice=False,
                        choices=[SelectChoice(h.value, label) for h, label in HELIX_LABELS.items()])
    website = StringField(_l("Website"), render_kw={"type": "url", "placeholder": "https://"})
    profile = TextAreaField(_l("Profile"), render_kw={"rows": 6})
    # The clusters offered are the database's: the choice is checked against them here
    # (and by the service).
    home_cluster_id = SelectField(_l("Home cluster"), coerce=coerce_id)

    def __init__(self, *args, clusters=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(country_codes())
        self.home_cluster_id.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(str(p.id), p.name) for p in clusters]


class LogoForm(BaseForm):
    logo = FileField(_l("Logo (PNG or JPEG, at most 2 MB)"), validators=[FileRequired()],
                     render_kw={"accept": "image/png,image/jpeg"})


class MembershipDecisionForm(BaseForm):
    input_model = MembershipDecisionIn

    decision = RadioField(_l("Decision"), validate_choice=False,
                          choices=[SelectChoice("accept", _l("Accept")),
                                   SelectChoice("refuse", _l("Refuse"))])


class ReviewForm(BaseForm):
    """Only the CSRF token: marking reviewed needs no input."""


class MergeForm(BaseForm):
    input_model = MergeIn

    # The organizations offered are those the reviewer may merge into (a query): the
    # choice is checked against them here.
    into = SelectField(_l("Merge into"), coerce=coerce_id)
    confirm = BooleanField(
        _l("I understand that this organization is deleted and its people move"))

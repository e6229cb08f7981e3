"""Forms of the organization pages: the profile, the logo, join requests, review, merge."""

from __future__ import annotations

from urllib.parse import urlsplit

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..ids import coerce_id
from ..models import Helix, OrganizationSize
from . import BaseForm

# Not countries: the EU, the UN, unknown region and Babel's pseudo-locales.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})

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


def country_choices() -> list[SelectChoice]:
    locale = Locale.parse(str(get_locale() or "en"))
    return [
        SelectChoice(code, name) for code, name in sorted(
            ((code, name) for code, name in locale.territories.items()
             if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES),
            key=lambda item: item[1],
        )
    ]


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


class OrganizationForm(BaseForm):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(), Length(min=2, max=200)])
    country = SelectField(_l("Country"), validators=[InputRequired()])
    city = StringField(_l("City"), filters=[strip], validators=[Optional(), Length(max=120)])
    sector = StringField(_l("Sector"), filters=[strip], validators=[Optional(), Length(max=120)])
    # "Choose a size" first: an organization registered quickly for a webinar has none
    # yet, and must not look as if it had been given the first size of the list.
    size = SelectField(_l("Size"), validators=[InputRequired(_l("Choose the size."))],
                       choices=[SelectChoice("", _l("Choose a size"))] + [
                           SelectChoice(s.value, label) for s, label in SIZE_LABELS.items()])
    helix = SelectField(_l("Kind of organization"),
                        choices=[SelectChoice(h.value, label) for h, label in HELIX_LABELS.items()])
    website = StringField(_l("Website"), filters=[strip],
                          validators=[Optional(), Length(max=300), web_address],
                          render_kw={"type": "url", "placeholder": "https://"})
    profile = TextAreaField(_l("Profile"), filters=[strip],
                            validators=[Optional(), Length(max=5000)], render_kw={"rows": 6})
    home_cluster_id = SelectField(_l("Home cluster"), coerce=coerce_id)

    def __init__(self, *args, clusters=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.home_cluster_id.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(str(p.id), p.name) for p in clusters]


class LogoForm(BaseForm):
    logo = FileField(_l("Logo (PNG or JPEG, at most 2 MB)"), validators=[FileRequired()],
                     render_kw={"accept": "image/png,image/jpeg"})


class MembershipDecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("accept", _l("Accept")),
                                                   SelectChoice("refuse", _l("Refuse"))],
                          validators=[InputRequired()])


class ReviewForm(BaseForm):
    """Only the CSRF token: marking reviewed needs no input."""


class MergeForm(BaseForm):
    into = SelectField(_l("Merge into"), coerce=coerce_id, validators=[InputRequired()])
    confirm = BooleanField(
        _l("I understand that this organization is deleted and its people move"),
        validators=[DataRequired(_l("Tick the box to confirm the merge."))],
    )

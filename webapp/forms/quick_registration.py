"""The quick registration form of public webinars: name, email, organization, country."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..services import accounts
from . import BaseForm
from .auth import _check_with, _email_field, _strip
from .organization import country_choices


class QuickRegistrationForm(BaseForm):
    name = StringField(
        _l("Your name"), validators=[InputRequired(), Length(max=200)], filters=[_strip],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field(_l("Email"))
    organization = StringField(
        _l("Organization"), validators=[InputRequired(), Length(min=2, max=200)],
        filters=[_strip], render_kw={"autocomplete": "organization"},
    )
    country = SelectField(_l("Country"), validators=[InputRequired()],
                          description=_l("Where your organization is based."))
    # Filled by static/js/timezone.js with the browser's zone; empty means UTC.
    timezone = HiddenField(
        _l("Timezone"), validators=[_check_with(accounts.validate_timezone)],
        filters=[_strip], render_kw={"data-browser-timezone": True},
    )
    privacy = BooleanField(
        _l("I have read the privacy notice and agree to it"),
        validators=[InputRequired(message=_l(
            "Please accept the privacy notice: registering creates an account for you."))],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Choose a country")), *country_choices()]

"""The quick registration form of public webinars: name, email, organization, country.
What it accepts is its model's (webapp/inputs/quick_registration.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField

from ..inputs.quick_registration import QuickRegistrationIn
from ..services.questions import country_codes
from . import BaseForm
from .organization import strip
from .places import country_choices


class QuickRegistrationForm(BaseForm):
    input_model = QuickRegistrationIn

    name = StringField(_l("Your name"), filters=[strip], render_kw={"autocomplete": "name"})
    email = EmailField(_l("Email"), filters=[strip], render_kw={"autocomplete": "email"})
    organization = StringField(_l("Organization"), filters=[strip],
                               render_kw={"autocomplete": "organization"})
    country = SelectField(_l("Country"), validate_choice=False,
                          description=_l("Where your organization is based."))
    # Filled by static/js/timezone.js with the browser's zone; empty (no script): as the
    # browser says, detected on the first page after sign-in.
    timezone = HiddenField(_l("Timezone"), filters=[strip],
                           render_kw={"data-browser-timezone": True})
    privacy = BooleanField(_l("I have read the privacy notice and agree to it"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(country_codes(), _l("Choose a country"))

"""Forms of the host region's stakeholders: the host's invitation, the invited person's
acceptance, and the buttons that send an invitation again or revoke it. What each
accepts is its input model's (webapp/inputs/stakeholders.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from .. import languages
from ..inputs.stakeholders import StakeholderAcceptIn, StakeholderInvitationIn
from ..services.questions import country_codes
from . import BaseForm
from .auth import SetPasswordForm
from .places import country_choices


class InvitationForm(BaseForm):
    input_model = StakeholderInvitationIn

    email = EmailField(_l("Email"), render_kw={"autocomplete": "off"})
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    organization = StringField(_l("Organization"), render_kw={"autocomplete": "off"})
    country = SelectField(_l("Country"), validate_choice=False)
    language = SelectField(_l("Language of the invitation"), validate_choice=False)

    def __init__(self, *args, country: str = "", language: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(country_codes(), _l("Choose a country"))
        self.language.choices = [SelectChoice(code, name) for code, name in languages.choices()]
        if not self.is_submitted():
            self.country.data = self.country.data or country
            self.language.data = self.language.data or language


class AcceptForm(SetPasswordForm):
    """A new account's password, and the privacy notice accepted as at sign-up."""

    input_model = StakeholderAcceptIn

    privacy = BooleanField(_l("I have read the privacy notice and agree to it"))


class AcceptWithAccountForm(BaseForm):
    """The button that accepts an invitation for an account that already exists."""


class InvitationActionForm(BaseForm):
    """Send again, revoke: a button."""

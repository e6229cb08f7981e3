"""Forms of the credentials area: signing in, signing up, links, passwords, email."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice

from ..inputs.accounts import (
    JOIN_FIELDS,
    MIN_PASSWORD_LENGTH,
    NEW_ORGANIZATION_FIELDS,
    ChangeEmailIn,
    ChangePasswordIn,
    LoginIn,
    OrganizationChoice,
    ResetPasswordIn,
    ResetRequestIn,
    SetPasswordIn,
    SignupIn,
)
from ..models import Helix, OrganizationSize
from ..services.questions import country_codes
from . import BaseForm
from .organization import BlankChoiceIsNone
from .places import country_choices

# What each field accepts is its form's input model's (webapp/inputs/accounts.py); the
# fields decode and label.


def _address_field(label, **render_kw) -> EmailField:
    return EmailField(label, render_kw={"autocomplete": "email", **render_kw})


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
        description=lazy_ngettext("At least %(num)d character; avoid common passwords.",
                                  "At least %(num)d characters; avoid common passwords.",
                                  MIN_PASSWORD_LENGTH),
    )


def _confirmation_field(label) -> PasswordField:
    return PasswordField(label, render_kw={"autocomplete": "new-password"})


class LoginForm(BaseForm):
    input_model = LoginIn

    email = _address_field(_l("Email"), autocomplete="username", autofocus=True)
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class LogoutForm(BaseForm):
    """Logging out is a POST, so another site cannot sign people out."""


# --------------------------------------------------------------------------- sign-up

NEW_ORGANIZATION = OrganizationChoice.NEW.value
JOIN_ORGANIZATION = OrganizationChoice.JOIN.value


class SignupForm(BlankChoiceIsNone, BaseForm):
    input_model = SignupIn

    name = StringField(_l("Your name"), render_kw={"autocomplete": "name", "autofocus": True})
    email = _address_field(_l("Email"))
    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field(_l("Password, again"))
    # Filled by static/js/timezone.js with the browser's zone; empty (no script): as the
    # browser says, detected on the first page after sign-in.
    timezone = HiddenField(_l("Timezone"), render_kw={"data-browser-timezone": True})

    organization_mode = RadioField(
        _l("Your organization"),
        choices=[
            SelectChoice(NEW_ORGANIZATION, _l("Register my organization")),
            SelectChoice(JOIN_ORGANIZATION, _l("Join an organization already registered here")),
        ],
        default=NEW_ORGANIZATION,
        validate_choice=False,
    )
    organization_name = StringField(_l("Organization name"),
                                    render_kw={"autocomplete": "organization"})
    country = SelectField(_l("Country"), validate_choice=False)
    sector = StringField(_l("Sector"),
                         description=_l("For example: mobility, energy, urban data."))
    size = SelectField(
        _l("Size"),
        choices=[SelectChoice("", _l("Choose a size")),
                 SelectChoice(OrganizationSize.MICRO.value, _l("Micro (fewer than 10 people)")),
                 SelectChoice(OrganizationSize.SMALL.value, _l("Small (10 to 49 people)")),
                 SelectChoice(OrganizationSize.MEDIUM.value, _l("Medium (50 to 249 people)")),
                 SelectChoice(OrganizationSize.LARGE.value, _l("Large (250 people or more)"))],
        validate_choice=False,
    )
    helix = SelectField(
        _l("Type"),
        choices=[SelectChoice(Helix.INDUSTRY.value, _l("Industry")),
                 SelectChoice(Helix.RESEARCH.value, _l("Research")),
                 SelectChoice(Helix.GOVERNMENT.value, _l("Government"))],
        default=Helix.INDUSTRY.value,
        validate_choice=False,
    )
    website = URLField(_l("Website"), render_kw={"placeholder": "https://"})
    profile = TextAreaField(
        _l("Profile"), description=_l("What your organization does, in a few sentences."))
    # The clusters offered are the database's: the choice is checked against them here
    # (and by the service).
    home_cluster = SelectField(
        _l("Home cluster"),
        default="",
        description=_l("The partnership's cluster your organization belongs to, if any."),
    )
    # Typed, never listed: the directory is not shown to visitors; only a whole name or
    # a web domain finds an organization (services.organizations.to_join).
    join_organization = StringField(
        _l("Organization to join"), render_kw={"autocomplete": "organization"},
        description=_l("Its full name as registered here, or its web domain (such as "
                       "example.com, as in your work email address)."))

    privacy = BooleanField(_l("I have read the privacy notice and agree to it"))

    def __init__(self, *args, clusters: Iterable[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(country_codes(), _l("Choose a country"))
        self.home_cluster.choices = [
            SelectChoice("", _l("None")),
            *(SelectChoice(str(pid), label) for pid, label in clusters)]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        # Only the chosen part of the organization section counts (the model ignores the
        # other, which shows too without scripts): its list choices are not checked.
        ignored = JOIN_FIELDS if self.organization_mode.data != JOIN_ORGANIZATION \
            else NEW_ORGANIZATION_FIELDS
        for name in ignored:
            self[name].errors = []
        return self.input is not None and not self.errors


# --------------------------------------------------------------------------- links


class LinkForm(BaseForm):
    """The button that uses a one-time link: mail scanners follow links (GET) but never
    press buttons, so only this POST uses the token up."""


class ResendVerificationForm(BaseForm):
    next = HiddenField()


# --------------------------------------------------------------------------- passwords


class ResetRequestForm(BaseForm):
    input_model = ResetRequestIn

    email = _address_field(_l("Email"), autofocus=True)


class ResetPasswordForm(BaseForm):
    input_model = ResetPasswordIn

    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field(_l("New password, again"))


class ChangePasswordForm(BaseForm):
    input_model = ChangePasswordIn

    current_password = PasswordField(_l("Current password"),
                                     render_kw={"autocomplete": "current-password"})
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field(_l("New password, again"))


class SetPasswordForm(BaseForm):
    """A first password, for an account made by a quick registration (it has none)."""

    input_model = SetPasswordIn

    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field(_l("Password, again"))


class ChangeEmailForm(BaseForm):
    input_model = ChangeEmailIn

    email = _address_field(_l("New email address"))
    password = PasswordField(_l("Your password"), render_kw={"autocomplete": "current-password"})

"""Forms of the credentials area: signing in, signing up, links, passwords, email."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
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
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from ..models import Helix, OrganizationSize
from ..services import accounts, fields
from ..services.errors import DomainError
from . import BaseForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _check_with(service_check):
    """A field validator that asks a service rule and shows its refusal beside the field."""

    def validator(_form, field) -> None:
        try:
            service_check(field.data or "")
        except DomainError as error:
            raise ValidationError(error.message) from None

    return validator


def _email_field(label, **render_kw) -> EmailField:
    return EmailField(
        label,
        validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
        filters=[_strip],
        render_kw={"autocomplete": "email", **render_kw},
    )


def _new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), Length(max=1024), _check_with(accounts.validate_password)],
        render_kw={"autocomplete": "new-password",
                   "minlength": accounts.MIN_PASSWORD_LENGTH},
        description=_l("At least %(n)d characters; avoid common passwords.",
                       n=accounts.MIN_PASSWORD_LENGTH),
    )


def _confirmation_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(BaseForm):
    email = _email_field(_l("Email"), autocomplete="username", autofocus=True)
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class LogoutForm(BaseForm):
    """Logging out is a POST, so another site cannot sign people out."""


# --------------------------------------------------------------------------- sign-up

NEW_ORGANIZATION = "new"
JOIN_ORGANIZATION = "join"
_NEW_ORGANIZATION_FIELDS = ("organization_name", "country", "sector", "size", "helix",
                            "website", "profile", "home_cluster")
# What a new organization needs; the other fields of that part are optional.
_NEW_ORGANIZATION_REQUIRED = ("organization_name", "country", "size", "helix")
_JOIN_FIELDS = ("join_organization",)


def _web_address(_form, field) -> None:
    try:
        field.data = fields.check_web_address(field.data, field.name)
    except DomainError as error:
        raise ValidationError(error.message) from None


class SignupForm(BaseForm):
    name = StringField(
        _l("Your name"), validators=[InputRequired(), Length(max=200)], filters=[_strip],
        render_kw={"autocomplete": "name", "autofocus": True},
    )
    email = _email_field(_l("Email"))
    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field(_l("Password, again"))
    # Filled by static/js/timezone.js with the browser's zone; empty means UTC.
    timezone = HiddenField(
        _l("Timezone"), validators=[_check_with(accounts.validate_timezone)],
        filters=[_strip], render_kw={"data-browser-timezone": True},
    )

    organization_mode = RadioField(
        _l("Your organization"),
        choices=[
            SelectChoice(NEW_ORGANIZATION, _l("Register my organization")),
            SelectChoice(JOIN_ORGANIZATION, _l("Join an organization already registered here")),
        ],
        default=NEW_ORGANIZATION,
        validators=[InputRequired()],
    )
    organization_name = StringField(
        _l("Organization name"), validators=[Length(max=200)], filters=[_strip],
        render_kw={"autocomplete": "organization"},
    )
    country = SelectField(_l("Country"))
    sector = StringField(_l("Sector"), validators=[Length(max=120)], filters=[_strip],
                         description=_l("For example: mobility, energy, urban data."))
    size = SelectField(
        _l("Size"),
        choices=[SelectChoice("", _l("Choose a size")),
                 SelectChoice(OrganizationSize.MICRO.value, _l("Micro (fewer than 10 people)")),
                 SelectChoice(OrganizationSize.SMALL.value, _l("Small (10 to 49 people)")),
                 SelectChoice(OrganizationSize.MEDIUM.value, _l("Medium (50 to 249 people)")),
                 SelectChoice(OrganizationSize.LARGE.value, _l("Large (250 people or more)"))],
    )
    helix = SelectField(
        _l("Type"),
        choices=[SelectChoice(Helix.INDUSTRY.value, _l("Industry")),
                 SelectChoice(Helix.RESEARCH.value, _l("Research")),
                 SelectChoice(Helix.GOVERNMENT.value, _l("Government"))],
        default=Helix.INDUSTRY.value,
    )
    website = URLField(
        _l("Website"), validators=[Length(max=300), _web_address], filters=[_strip],
        render_kw={"placeholder": "https://"},
    )
    profile = TextAreaField(
        _l("Profile"), validators=[Length(max=5000)], filters=[_strip],
        description=_l("What your organization does, in a few sentences."),
    )
    home_cluster = SelectField(
        _l("Home cluster"),
        default="",
        description=_l("The partnership's cluster your organization belongs to, if any."),
    )
    join_organization = SelectField(_l("Organization to join"))

    privacy = BooleanField(
        _l("I have read the privacy notice and agree to it"),
        validators=[InputRequired(message=_l(
            "Please accept the privacy notice: we cannot keep an account without it."))],
    )

    def __init__(self, *args, countries: Iterable[tuple[str, str]] = (),
                 clusters: Iterable[tuple[int, str]] = (),
                 organizations: Iterable[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Choose a country")),
                                *(SelectChoice(code, name) for code, name in countries)]
        self.home_cluster.choices = [
            SelectChoice("", _l("None")),
            *(SelectChoice(str(pid), label) for pid, label in clusters)]
        self.join_organization.choices = [
            SelectChoice("", _l("Choose an organization")),
            *(SelectChoice(str(oid), label) for oid, label in organizations)]

    def validate(self, extra_validators=None) -> bool:
        # Only the chosen part of the organization section counts: it is required, and
        # whatever the other part holds (both show without scripts) is ignored.
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._chosen_part(required_only=True):
            extra.setdefault(name, []).append(InputRequired())
        super().validate(extra)
        for name in _NEW_ORGANIZATION_FIELDS + _JOIN_FIELDS:
            if name not in self._chosen_part():
                self[name].errors = []
        return not self.errors

    def _chosen_part(self, *, required_only: bool = False) -> tuple[str, ...]:
        if self.joins:
            return _JOIN_FIELDS
        return _NEW_ORGANIZATION_REQUIRED if required_only else _NEW_ORGANIZATION_FIELDS

    @property
    def joins(self) -> bool:
        return self.organization_mode.data == JOIN_ORGANIZATION

    def new_organization_fields(self) -> dict:
        """The values `organizations.create` takes, from the new-organization part."""
        return {
            "name": self.organization_name.data,
            "country": self.country.data,
            "sector": self.sector.data or "",
            "size": OrganizationSize(self.size.data),
            "helix": Helix(self.helix.data),
            "website": self.website.data or "",
            "profile": self.profile.data or "",
            "home_cluster_id": int(self.home_cluster.data) if self.home_cluster.data else None,
        }


# --------------------------------------------------------------------------- links


class LinkForm(BaseForm):
    """The button that uses a one-time link: mail scanners follow links (GET) but never
    press buttons, so only this POST uses the token up."""


class ResendVerificationForm(BaseForm):
    next = HiddenField()


# --------------------------------------------------------------------------- passwords


class ResetRequestForm(BaseForm):
    email = _email_field(_l("Email"), autofocus=True)


class ResetPasswordForm(BaseForm):
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field(_l("New password, again"))


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field(_l("New password, again"))


class SetPasswordForm(BaseForm):
    """A first password, for an account made by a quick registration (it has none)."""

    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field(_l("Password, again"))


class ChangeEmailForm(BaseForm):
    email = _email_field(_l("New email address"))
    password = PasswordField(
        _l("Your password"), validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )

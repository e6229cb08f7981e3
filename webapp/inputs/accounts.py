"""Accounts as their owners write them: signing up and in, passwords, the email address,
the profile, API tokens and closing the account.

Passwords are `SecretStr`: compared and hashed exactly as typed (never stripped or
normalized: that would lock out whoever set one before), hidden from reprs and logs, and
kept out of the text rules of `Input` except for the characters no text takes. Email
addresses are checked by the email-validator package, as WTForms checks them, so a form
and the API refuse the same addresses.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import email_validator
from flask import has_app_context
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .. import languages, localtime, text
from ..models import AlertFrequency, Helix, OrganizationSize, utcnow
from ..services.errors import N_
from . import Accepted, Id, Input, Problems, RequiredText, Text, refuse
from .events import WebAddress
from .organizations import COUNTRY_NEEDED, Country, OptionalOrganizationName

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

REQUIRED = "This field is required."
PASSWORDS_DIFFER = "The two passwords differ."
UNKNOWN_TIMEZONE = "This is not a timezone we know."
PRIVACY_NEEDED = N_("Please accept the privacy notice: we cannot keep an account without it.")
TOKEN_NAME_NEEDED = N_("Give the token a name, e.g. the system that will use it.")


# --------------------------------------------------------------------------- shared types


def _email(address: str) -> str:
    """A deliverable-looking address (no DNS look-up), as WTForms' Email validator asks."""
    try:
        email_validator.validate_email(address, check_deliverability=False,
                                       allow_smtputf8=True, allow_empty_local=False)
    except email_validator.EmailNotValidError:
        raise refuse(None, "Invalid email address.") from None
    return address


def EmailAddress(**field: Any) -> Any:  # noqa: N802 - a type, used as one
    return Annotated[RequiredText(MAX_EMAIL_LENGTH, **field), AfterValidator(_email)]


@cache
def common_passwords() -> frozenset[str]:
    """The passwords guessed first (webapp/data/README.md says where the list comes from)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def weak_password(password: str) -> str | None:
    """Why `password` may not become an account's password (a msgid), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "The password needs at least %(min_length)s characters."
    if password.lower() in common_passwords():
        return ("This password is one of the most common ones, so it is guessed first. "
                "Please choose another.")
    return None


def _strong(password: SecretStr) -> SecretStr:
    # Nothing typed: the required rule of `_Passwords` says so.
    problem = password.get_secret_value() and weak_password(password.get_secret_value())
    if problem:
        raise refuse(None, problem, min_length=MIN_PASSWORD_LENGTH)
    return password


# A password as typed, to check against the stored one.
Password = SecretStr
# A password an account is to have from now on.
NewPassword = Annotated[SecretStr, AfterValidator(_strong)]


def _known_zone(name: str) -> str:
    zone = localtime.zone_or_none(name)
    if zone is None:
        raise refuse(None, UNKNOWN_TIMEZONE)
    return zone.key


def _empty_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


MAX_ZONE_LENGTH = 64  # the longest IANA name has 32 characters

# An IANA zone this server knows, such as Europe/Copenhagen (the one rule for every zone
# a person or their browser gives).
Zone = Annotated[RequiredText(MAX_ZONE_LENGTH, title="Timezone",
                              description="An IANA zone, such as Europe/Copenhagen."),
                 AfterValidator(_known_zone)]

# A person's own zone, as sign-up, quick registration and the profile take it: a Zone,
# or none (left empty): as their browser says, detected on their next page.
PersonalZone = Annotated[Zone | None, BeforeValidator(_empty_is_none),
                         Field(title="Timezone",
                               description="An IANA zone, such as Europe/Copenhagen; "
                                           "empty or null: as the person's browser says.")]


class _Passwords(Input):
    """A model with passwords: each is required, bounded, and refused with a character no
    text takes (named by its field's title), but kept exactly as typed."""

    @field_validator("*", mode="after")
    @classmethod
    def _password_as_typed(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, SecretStr):
            return value
        typed = value.get_secret_value()
        if not typed:
            raise refuse(None, REQUIRED)
        if len(typed) > MAX_PASSWORD_LENGTH:
            raise refuse(None, "Enter at most %(max_length)s characters.",
                         max_length=MAX_PASSWORD_LENGTH)
        name = info.field_name or ""
        problem = text.refusal(typed, multiline=False,
                               field=cls.model_fields[name].title or name)
        if problem:
            raise refuse(None, problem)
        return value


class _NewPassword(_Passwords):
    """A new password, typed twice."""

    password: NewPassword
    confirm: Password

    @model_validator(mode="after")
    def _typed_alike(self):
        if self.confirm.get_secret_value() != self.password.get_secret_value():
            raise refuse("confirm", PASSWORDS_DIFFER)
        return self


# --------------------------------------------------------------------------- credentials


class LoginIn(_Passwords):
    email: EmailAddress(title="Email")
    password: Annotated[Password, Field(title="Password")]
    remember: bool = False


class ResetRequestIn(Input):
    email: EmailAddress(title="Email")


class ResetPasswordIn(_NewPassword):
    password: Annotated[NewPassword, Field(title="New password")]
    confirm: Annotated[Password, Field(title="New password, again")]


class SetPasswordIn(_NewPassword):
    """The first password of an account made without one (a quick registration)."""

    password: Annotated[NewPassword, Field(title="Password")]
    confirm: Annotated[Password, Field(title="Password, again")]


class ChangePasswordIn(_NewPassword):
    current_password: Annotated[Password, Field(title="Current password")]
    password: Annotated[NewPassword, Field(title="New password")]
    confirm: Annotated[Password, Field(title="New password, again")]


class ChangeEmailIn(_Passwords):
    email: EmailAddress(title="New email address")
    password: Annotated[Password, Field(title="Your password")]


class DeleteAccountIn(_Passwords):
    password: Annotated[Password, Field(title="Your password")]


# --------------------------------------------------------------------------- sign-up


class OrganizationChoice(enum.StrEnum):
    NEW = "new"    # register a new organization
    JOIN = "join"  # ask to join one already registered


# The fields of each part of the sign-up's organization section.
NEW_ORGANIZATION_FIELDS = ("organization_name", "country", "sector", "size", "helix",
                           "website", "profile", "home_cluster")
JOIN_FIELDS = ("join_organization",)


class SignupIn(_NewPassword):
    """A new account with its organization: a new one (`organization_mode` "new", its
    fields) or a request to join one (`join_organization`). Only the chosen part counts:
    whatever the other part holds (a page shows both without scripts) is ignored."""

    long_texts = frozenset({"profile"})
    required_messages = {"privacy": PRIVACY_NEEDED}

    name: RequiredText(200, title="Your name")
    email: EmailAddress(title="Email")
    password: Annotated[NewPassword, Field(title="Password")]
    confirm: Annotated[Password, Field(title="Password, again")]
    timezone: PersonalZone = None

    organization_mode: OrganizationChoice = OrganizationChoice.NEW
    organization_name: Annotated[OptionalOrganizationName,
                                 Field(title="Organization name")] = ""
    country: Annotated[Country | None, Field(title="Country")] = None
    sector: Text(120, title="Sector") = ""
    size: OrganizationSize | None = None
    helix: Helix = Helix.INDUSTRY
    website: WebAddress(300, title="Website") = ""
    profile: Text(5000, title="Profile") = ""
    home_cluster: Id | None = None
    # Its whole name or its web domain (services.organizations.to_join).
    join_organization: Text(200, title="Organization to join") = ""

    privacy: Accepted(PRIVACY_NEEDED,
                      description="The privacy notice is accepted (must be true).")

    @model_validator(mode="before")
    @classmethod
    def _only_the_chosen_part(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ignored = (NEW_ORGANIZATION_FIELDS if data.get("organization_mode") == "join"
                   else JOIN_FIELDS)
        return {key: value for key, value in data.items() if key not in ignored}

    @model_validator(mode="after")
    def _chosen_part_complete(self):
        problems = Problems()
        if self.joins:
            if not self.join_organization:
                problems.add("join_organization", REQUIRED)
        else:
            if not self.organization_name:
                problems.add("organization_name", REQUIRED)
            if self.country is None:
                problems.add("country", COUNTRY_NEEDED)
            if self.size is None:
                problems.add("size", REQUIRED)
        problems.raise_any()
        return self

    @property
    def joins(self) -> bool:
        return self.organization_mode == OrganizationChoice.JOIN

    def new_organization(self) -> dict[str, Any] | None:
        """The new organization's fields as `organizations.create` takes them; None when
        the account joins one."""
        if self.joins:
            return None
        return {"name": self.organization_name, "country": self.country,
                "sector": self.sector, "size": self.size, "helix": self.helix,
                "website": self.website, "profile": self.profile,
                "home_cluster_id": self.home_cluster}


# --------------------------------------------------------------------------- profile

PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{4,}")


def _phone(number: str) -> str:
    if number and not PHONE.fullmatch(number):
        raise refuse(None, "Enter digits, spaces and + ( ) - . / only, e.g. +45 20 12 34 56.")
    return number


def _at_least_two(name: str) -> str:
    if len(name) < 2:
        raise refuse(None, "Enter at least %(min_length)s characters.", min_length=2)
    return name


def _offered_language(code: str) -> str:
    # The languages are the deployment's (config LANGUAGES); outside an app nothing is
    # offered to compare with.
    if not has_app_context():
        return code
    if (offered := languages.offered_or_none(code)) is None:
        raise refuse(None, "Choose a language from the list.")
    return offered


def _offered_language_or_none(code: str) -> str | None:
    """A language, or "" for none (as the browser says)."""
    return _offered_language(code) if code else None


class LanguageIn(Input):
    """The language switcher's choice (every page's), and where to go back to."""

    language: Annotated[RequiredText(20, title="Language"), AfterValidator(_offered_language)]
    next: Text(2000) = ""


class ProfileIn(Input):
    """A person's own profile. `application_alerts` only for those who decide
    applications (the form shows it to them alone; None: unchanged)."""

    name: Annotated[RequiredText(200, title="Name"), AfterValidator(_at_least_two)]
    phone: Annotated[Text(40, title="Phone"), AfterValidator(_phone)] = ""
    timezone: PersonalZone = None
    # Empty: as the person's browser says.
    locale: Annotated[Text(20, title="Language"), AfterValidator(_offered_language_or_none)] = None
    application_alerts: AlertFrequency | None = None

    def values(self) -> dict[str, Any]:
        """The account's columns this profile sets."""
        return self.model_dump(exclude={"application_alerts"} if self.application_alerts
                               is None else set())


class BrowserZoneIn(Input):
    """The zone a signed-in person's browser reports (static/js/timezone.js), stored
    while their account has none."""

    timezone: Zone


# --------------------------------------------------------------------------- API tokens


class ApiTokenIn(Input):
    """A personal API token: what it is for, whether it may write, its last day."""

    required_messages = {"name": TOKEN_NAME_NEEDED}

    name: RequiredText(100, title="Name")
    read_only: bool = True
    expires_on: date | None = Field(None, description="The last day it works; none: "
                                    "until revoked.")

    @field_validator("expires_on", mode="after")
    @classmethod
    def _ahead(cls, day: date | None) -> date | None:
        if day is None:
            return None
        if not localtime.TOKEN_DATES.holds(day):
            raise refuse(None, localtime.TOKEN_DATES.refusal())
        if day < utcnow().date():
            raise refuse(None, "The expiry date has passed: choose today or a later day.")
        return day

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..inputs.applications import WithdrawalIn
from ..localtime import TOKEN_DATES
from . import BaseForm
from .dates import Within


def strip(value):
    return value.strip() if isinstance(value, str) else value


@cache
def timezone_names() -> tuple[str, ...]:
    # Region/City names people recognise, plus UTC; not the legacy aliases ("EST5EDT").
    return tuple(sorted(
        name for name in available_timezones()
        if name == "UTC" or ("/" in name and not name.startswith(("Etc/", "SystemV/")))
    ))


def iana_timezone(form, field) -> None:
    try:
        ZoneInfo(field.data)
    # OSError: a name too long for the file system zoneinfo looks it up in.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(_l("Choose a timezone from the list.")) from None


class WithdrawForm(BaseForm):
    input_model = WithdrawalIn

    reason = TextAreaField(_l("Reason (optional, shared with the organizers)"))


class ProfileForm(BaseForm):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(), Length(min=2, max=200)],
                       render_kw={"autocomplete": "name"})
    phone = StringField(
        _l("Phone"), filters=[strip],
        validators=[Optional(), Length(max=40), Regexp(
            r"^\+?[0-9][0-9 ()./-]{4,}$",
            message=_l("Enter digits, spaces and + ( ) - . / only, e.g. +45 20 12 34 56."))],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    timezone = SelectField(_l("Timezone"), validators=[InputRequired(), iana_timezone])
    locale = SelectField(_l("Language"), validators=[InputRequired()])
    # Managers only: the view removes the field for everyone else.
    application_alerts = SelectField(
        _l("New applications to decide"),
        choices=[SelectChoice("immediate", _l("One email per application, at once")),
                 SelectChoice("daily", _l("One digest a day"))],
        validators=[InputRequired()],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = list(timezone_names())
        # A zone set elsewhere (an import, an admin) stays selectable, so saving the
        # form unchanged never fails on it.
        current = getattr(kwargs.get("obj"), "timezone", None)
        if current and current not in names:
            names.insert(0, current)
        self.timezone.choices = [SelectChoice(name, name.replace("_", " ")) for name in names]
        self.locale.choices = [
            SelectChoice(code, Locale.parse(code).get_display_name(code).capitalize())
            for code in current_app.config["LANGUAGES"]
        ]


class DeleteAccountForm(BaseForm):
    password = PasswordField(_l("Your password"), validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class ApiTokenForm(BaseForm):
    """A new personal API token: what it is for, until when, and whether it may write."""

    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(), Length(max=100)],
                       render_kw={"placeholder": _l("e.g. our CRM")})
    expires_on = DateField(_l("Last day it works (optional)"),
                           validators=[Optional(), Within(TOKEN_DATES)])
    access = SelectField(
        _l("Access"),
        choices=[SelectChoice("read_only", _l("Read only")),
                 SelectChoice("read_write", _l("Read and write (decisions, applications)"))],
        validators=[InputRequired()],
    )

    @property
    def read_only(self) -> bool:
        return self.access.data != "read_write"

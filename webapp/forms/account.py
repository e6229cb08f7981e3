from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from .. import languages
from ..inputs.accounts import ApiTokenIn, BrowserZoneIn, DeleteAccountIn, LanguageIn, ProfileIn
from ..inputs.applications import WithdrawalIn
from . import BaseForm
from .places import zone_choices


def strip(value):
    return value.strip() if isinstance(value, str) else value


class WithdrawForm(BaseForm):
    input_model = WithdrawalIn

    reason = TextAreaField(_l("Reason (optional, shared with the organizers)"))


class ProfileForm(BaseForm):
    input_model = ProfileIn

    name = StringField(_l("Name"), render_kw={"autocomplete": "name"})
    phone = StringField(_l("Phone"), render_kw={"autocomplete": "tel", "type": "tel"})
    # The model takes any zone this server knows; the list offers one per place, after
    # "as my browser says" (empty: detected again on the next page).
    timezone = SelectField(_l("Timezone"), validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False)
    # Managers only: the view removes the field for everyone else.
    application_alerts = SelectField(
        _l("New applications to decide"), validate_choice=False,
        choices=[SelectChoice("immediate", _l("One email per application, at once")),
                 SelectChoice("daily", _l("One digest a day"))],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A zone set elsewhere (the browser, an import) stays selectable, so saving the
        # form unchanged never fails on it.
        self.timezone.choices = zone_choices(
            first=[SelectChoice("", _l("As my browser says"))], current=self.timezone.data)
        # Each language named in itself, after "as my browser says" (empty).
        self.locale.choices = [SelectChoice("", _l("As my browser says")), *(
            SelectChoice(code, name, render_kw={"lang": languages.tag(code)})
            for code, name in languages.choices())]


class LanguageForm(BaseForm):
    """The language switcher of a signed-in person (templates/base.html)."""

    input_model = LanguageIn

    language = HiddenField(_l("Language"))
    next = HiddenField()


class BrowserZoneForm(BaseForm):
    """The zone static/js/timezone.js reads from the browser and posts, with the CSRF
    token, on the first page after sign-in while the account has none."""

    input_model = BrowserZoneIn

    timezone = HiddenField(_l("Timezone"))


class DeleteAccountForm(BaseForm):
    input_model = DeleteAccountIn

    password = PasswordField(_l("Your password"), render_kw={"autocomplete": "current-password"})


class ApiTokenForm(BaseForm):
    """A new personal API token: what it is for, until when, and whether it may write
    (the access list decodes to the model's `read_only`)."""

    input_model = ApiTokenIn

    name = StringField(_l("Name"), render_kw={"placeholder": _l("e.g. our CRM")})
    expires_on = DateField(_l("Last day it works (optional)"))
    access = SelectField(
        _l("Access"),
        choices=[SelectChoice("read_only", _l("Read only")),
                 SelectChoice("read_write", _l("Read and write (decisions, applications)"))],
    )

    def input_data(self) -> dict:
        data = {"name": self.name.data, "read_only": self.access.data != "read_write",
                "expires_on": self.expires_on.data}
        return {name: value for name, value in data.items() if value is not None}

    def field_for(self, where) -> str | None:
        name = super().field_for(where)
        return "access" if name == "read_only" else name

"""Accounts and organizations: each form and its model read from JSON refuse the same
values with the same sentence beside the same field, and accept the same good ones
(webapp/inputs/accounts.py, webapp/inputs/organizations.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.inputs_table import Case, check
from webapp.forms.account import ApiTokenForm, DeleteAccountForm, ProfileForm
from webapp.forms.auth import (
    ChangeEmailForm,
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
    SetPasswordForm,
    SignupForm,
)
from webapp.forms.organization import MembershipDecisionForm, MergeForm, OrganizationForm
from webapp.inputs.accounts import (
    ApiTokenIn,
    ChangeEmailIn,
    ChangePasswordIn,
    DeleteAccountIn,
    LoginIn,
    ProfileIn,
    ResetPasswordIn,
    ResetRequestIn,
    SetPasswordIn,
    SignupIn,
)
from webapp.inputs.organizations import MembershipDecisionIn, MergeIn, OrganizationIn
from webapp.models import utcnow

GOOD_PASSWORD = "tram lines over the harbour"
NUL_MESSAGE = "contains the control character U+0000 (NULL), which is not allowed."


def case(name: str, values: dict[str, Any], field: str | None = None,
         message: str | None = None, **form_kwargs) -> Case:
    """A case from the values as JSON holds them; the form posts the same as text (a true
    checkbox ticked, a false or absent one left out)."""
    form_data: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or value is False:
            continue
        form_data[key] = "y" if value is True else (
            [str(v) for v in value] if isinstance(value, list) else str(value))
    body = {key: value for key, value in values.items() if value is not None}
    return Case(name, form_data, body, field, message, form_kwargs)


def cases(base: dict[str, Any], table: list[tuple], **form_kwargs) -> list[Case]:
    """`table`: (name, changes to `base`, field, message); a change to None leaves the
    field out."""
    return [case(name, {**base, **changes}, field, message, **form_kwargs)
            for name, changes, field, message in table]


# --------------------------------------------------------------------------- sign-up

SIGNUP_CHOICES = {"clusters": [(5, "Smart City Cluster")]}
SIGNUP = {
    "name": "Lena Kowalska", "email": "lena@kowalska.example", "password": GOOD_PASSWORD,
    "confirm": GOOD_PASSWORD, "timezone": "Europe/Warsaw", "organization_mode": "new",
    "organization_name": "Kowalska Mobility", "country": "PL", "sector": "mobility",
    "size": "micro", "helix": "industry", "website": "https://kowalska.example",
    "profile": "Bike-sharing docks.\nThey report their own faults.", "privacy": True,
}
SIGNUP_CASES = [*cases(SIGNUP, [
    ("a new organization", {}, None, None),
    ("its home cluster", {"home_cluster": 5}, None, None),
    ("no timezone: as the browser says", {"timezone": None}, None, None),
    ("joining, the other part ignored",
     {"organization_mode": "join", "join_organization": "Trams of Tomorrow", "country": "XX",
      "organization_name": "K", "website": "javascript:alert(1)"}, None, None),
    ("no name", {"name": None}, "name", "This field is required."),
    ("a blank name", {"name": "   "}, "name", "This field is required."),
    ("a NUL in the name", {"name": "Lena\x00"}, "name", "Your name " + NUL_MESSAGE),
    ("a name on two lines", {"name": "Lena\nKowalska"}, "name",
     "Your name must be on one line"),
    ("a name too long", {"name": "L" * 201}, "name", "Enter at most 200 characters."),
    ("no email", {"email": None}, "email", "This field is required."),
    ("not an email", {"email": "lena-at-kowalska"}, "email", "Invalid email address."),
    ("an email too long", {"email": "a" * 250 + "@kowalska.example"}, "email",
     "Enter at most 254 characters."),
    ("a short password", {"password": "short one", "confirm": "short one"}, "password",
     "The password needs at least 10 characters."),
    ("a common password", {"password": "QwertyUiop", "confirm": "QwertyUiop"}, "password",
     "one of the most common ones"),
    ("no password", {"password": None}, "password", "This field is required."),
    ("a password too long", {"password": "x" * 1025, "confirm": "x" * 1025}, "password",
     "Enter at most 1024 characters."),
    ("a NUL in the password", {"password": GOOD_PASSWORD + "\x00",
                               "confirm": GOOD_PASSWORD + "\x00"}, "password",
     "Password " + NUL_MESSAGE),
    ("confirmed differently", {"confirm": "something else entirely"}, "confirm",
     "The two passwords differ."),
    ("an unknown timezone", {"timezone": "Mars/Olympus_Mons"}, "timezone",
     "This is not a timezone we know."),
    ("a path for a timezone", {"timezone": "../../etc/passwd"}, "timezone",
     "This is not a timezone we know."),
    ("an unknown way to an organization", {"organization_mode": "both"},
     "organization_mode", "Choose one of"),
    ("no organization name", {"organization_name": None}, "organization_name",
     "This field is required."),
    ("a one-letter organization", {"organization_name": "K"}, "organization_name",
     "Enter at least 2 characters."),
    ("a NUL in the organization name", {"organization_name": "Kowalska\x00"},
     "organization_name", "Organization name " + NUL_MESSAGE),
    ("no country", {"country": None}, "country", "Choose a country from the list."),
    ("not a country", {"country": "XX"}, "country", "Choose a country from the list."),
    ("the EU as a country", {"country": "EU"}, "country", "Choose a country from the list."),
    ("no size", {"size": None}, "size", "This field is required."),
    ("not a size", {"size": "huge"}, "size", "Choose one of"),
    ("not a kind", {"helix": "media"}, "helix", "Choose one of"),
    ("a sector too long", {"sector": "s" * 121}, "sector", "Enter at most 120 characters."),
    ("a script for a website", {"website": "javascript:alert(1)"}, "website",
     "http:// or https://"),
    ("an ftp website", {"website": "ftp://kowalska.example"}, "website",
     "http:// or https://"),
    ("a profile too long", {"profile": "p" * 5001}, "profile",
     "Enter at most 5000 characters."),
    ("a NUL in the profile", {"profile": "Docks\x00"}, "profile", "Profile " + NUL_MESSAGE),
    ("the privacy notice refused", {"privacy": False}, "privacy",
     "Please accept the privacy notice"),
], **SIGNUP_CHOICES),
    # The form posts its empty field; JSON leaves the name out.
    Case("joining nothing", {**case("", SIGNUP).form_data, "organization_mode": "join",
                             "join_organization": ""},
         {**SIGNUP, "organization_mode": "join"}, "join_organization",
         "This field is required.", SIGNUP_CHOICES),
]


@pytest.mark.parametrize("case", SIGNUP_CASES, ids=str)
def test_a_sign_up_is_judged_alike_by_its_form_and_its_model(app, case):
    with app.test_request_context():
        check(case, SignupIn, SignupForm)


def test_a_sign_up_keeps_the_chosen_part_only_and_an_empty_timezone_is_unknown(app):
    joined = SignupIn.from_form({**SIGNUP, "timezone": "", "organization_mode": "join",
                                 "join_organization": "Trams of Tomorrow", "country": "XX"})
    assert joined.joins and joined.join_organization == "Trams of Tomorrow"
    assert joined.country is None
    assert joined.new_organization() is None and joined.timezone is None
    new = SignupIn.from_values(**SIGNUP, home_cluster=5)
    assert new.new_organization()["home_cluster_id"] == 5


# --------------------------------------------------------------------------- credentials

LOGIN = {"email": "anna.sorensen@example.org", "password": "correct horse battery",
         "remember": True}
LOGIN_CASES = cases(LOGIN, [
    ("a sign-in", {}, None, None),
    ("not remembered", {"remember": False}, None, None),
    ("no email", {"email": None}, "email", "This field is required."),
    ("not an email", {"email": "not-an-email"}, "email", "Invalid email address."),
    ("an email too long", {"email": "a" * 300 + "@example.org"}, "email",
     "Enter at most 254 characters."),
    ("no password", {"password": None}, "password", "This field is required."),
    ("an empty password", {"password": ""}, "password", "This field is required."),
    ("a password too long", {"password": "x" * 5000}, "password",
     "Enter at most 1024 characters."),
    # A password is checked, not judged: a short or common one may still be someone's.
    ("a short password", {"password": "short"}, None, None),
])
RESET_REQUEST_CASES = cases({"email": "anna.sorensen@example.org"}, [
    ("an address", {}, None, None),
    ("not an email", {"email": "anna"}, "email", "Invalid email address."),
    ("no email", {"email": None}, "email", "This field is required."),
])
NEW_PASSWORD = {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
NEW_PASSWORD_TABLE = [
    ("a new password", {}, None, None),
    ("a short one", {"password": "short", "confirm": "short"}, "password",
     "at least 10 characters"),
    ("a common one", {"password": "1q2w3e4r5t", "confirm": "1q2w3e4r5t"}, "password",
     "most common"),
    ("typed differently", {"confirm": GOOD_PASSWORD + "!"}, "confirm",
     "The two passwords differ."),
    ("not typed again", {"confirm": None}, "confirm", "This field is required."),
]
CHANGE_PASSWORD = {**NEW_PASSWORD, "current_password": "correct horse battery"}
CHANGE_EMAIL = {"email": "anna@new.example", "password": "correct horse battery"}


@pytest.mark.parametrize(("model", "form_class", "case"), [
    *((LoginIn, LoginForm, c) for c in LOGIN_CASES),
    *((ResetRequestIn, ResetRequestForm, c) for c in RESET_REQUEST_CASES),
    *((ResetPasswordIn, ResetPasswordForm, c) for c in cases(NEW_PASSWORD,
                                                             NEW_PASSWORD_TABLE)),
    *((SetPasswordIn, SetPasswordForm, c) for c in cases(NEW_PASSWORD, NEW_PASSWORD_TABLE)),
    *((ChangePasswordIn, ChangePasswordForm, c) for c in cases(CHANGE_PASSWORD, [
        *NEW_PASSWORD_TABLE,
        ("no current password", {"current_password": None}, "current_password",
         "This field is required."),
        ("a NUL in the current password", {"current_password": "a\x00"},
         "current_password", "Current password " + NUL_MESSAGE),
    ])),
    *((ChangeEmailIn, ChangeEmailForm, c) for c in cases(CHANGE_EMAIL, [
        ("a new address", {}, None, None),
        ("not an email", {"email": "anna@"}, "email", "Invalid email address."),
        ("a NUL in the address", {"email": "anna\x00@new.example"}, "email",
         "Invalid email address."),
        ("no password", {"password": None}, "password", "This field is required."),
    ])),
    *((DeleteAccountIn, DeleteAccountForm, c) for c in cases({"password": "secret"}, [
        ("a password", {}, None, None),
        ("no password", {"password": None}, "password", "This field is required."),
    ])),
], ids=lambda v: str(v) if isinstance(v, Case) else getattr(v, "__name__", ""))
def test_credentials_are_judged_alike_by_their_forms_and_models(app, model, form_class, case):
    with app.test_request_context():
        check(case, model, form_class)


@pytest.mark.parametrize("typed", ["  padded  ", "Ame\u0301lie's secret"])
def test_a_password_is_kept_exactly_as_typed(app, typed):
    """Never stripped or normalized: an account whose password was set before that would
    be locked out."""
    with app.test_request_context():
        from_json = LoginIn.from_json(f'{{"email": "a@example.org", "password": "{typed}"}}')
        assert from_json.password.get_secret_value() == typed
        form = LoginForm(formdata=_formdata(email="a@example.org", password=typed),
                         meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.input.password.get_secret_value() == typed
        assert typed not in repr(form.input)


def _formdata(**values):
    from werkzeug.datastructures import MultiDict

    return MultiDict(values)


# --------------------------------------------------------------------------- profile

PROFILE = {"name": "Søren Østergaard", "phone": "+45 20 12 34 56",
           "timezone": "Europe/Copenhagen", "locale": "en", "application_alerts": "daily"}
PROFILE_CASES = cases(PROFILE, [
    ("a profile", {}, None, None),
    ("no phone", {"phone": ""}, None, None),
    ("a zone not in the list but known", {"timezone": "EST5EDT"}, None, None),
    ("no alerts (not a manager)", {"application_alerts": None}, None, None),
    ("a blank name", {"name": " "}, "name", "This field is required."),
    ("a one-letter name", {"name": "S"}, "name", "Enter at least 2 characters."),
    ("a name too long", {"name": "x" * 201}, "name", "Enter at most 200 characters."),
    ("a NUL in the name", {"name": "Søren\x00"}, "name", "Name " + NUL_MESSAGE),
    ("words for a phone", {"phone": "call me maybe"}, "phone", "Enter digits"),
    ("a phone too long", {"phone": "1" * 41}, "phone", "Enter at most 40 characters."),
    ("an unknown timezone", {"timezone": "Mars/Olympus_Mons"}, "timezone",
     "This is not a timezone we know."),
    ("a language not offered", {"locale": "de"}, "locale", "Choose a language from the list."),
    ("no timezone: as the browser says", {"timezone": None}, None, None),
    ("an empty timezone: as the browser says", {"timezone": ""}, None, None),
    ("alerts never", {"application_alerts": "never"}, "application_alerts",
     "Choose one of"),
])


@pytest.mark.parametrize("case", PROFILE_CASES, ids=str)
def test_a_profile_is_judged_alike_by_its_form_and_its_model(app, case):
    with app.test_request_context():
        check(case, ProfileIn, ProfileForm)


# --------------------------------------------------------------------------- API tokens


def _token_cases() -> list[Case]:
    today = utcnow().date()
    base = {"name": "Our CRM", "read_only": True}
    table = [
        ("a token", {}, None, None),
        ("one that writes, until today", {"expires_on": today.isoformat()}, None, None),
        ("a blank name", {"name": "  "}, "name",
         "Give the token a name, e.g. the system that will use it."),
        ("a name too long", {"name": "n" * 101}, "name", "Enter at most 100 characters."),
        ("a NUL in the name", {"name": "CRM\x00"}, "name", "Name " + NUL_MESSAGE),
        ("a day gone", {"expires_on": (today - timedelta(days=1)).isoformat()},
         "expires_on", "The expiry date has passed"),
        ("a day beyond the years", {"expires_on": "2101-01-01"}, "expires_on",
         "a token's last day falls in these years"),
    ]
    found = []
    for name, changes, field, message in table:
        values = {**base, **changes}
        form = {"name": values["name"], "access": "read_only" if values["read_only"]
                else "read_write", **({"expires_on": values["expires_on"]}
                                      if "expires_on" in values else {})}
        found.append(Case(name, form, values, field, message))
    return found


@pytest.mark.parametrize("case", _token_cases(), ids=str)
def test_an_api_token_is_judged_alike_by_its_form_and_its_model(app, case):
    with app.test_request_context():
        check(case, ApiTokenIn, ApiTokenForm)


# --------------------------------------------------------------------------- organizations

ORGANIZATION = {"name": "Aalborg Sensorik ApS", "country": "DK", "city": "Aalborg",
                "sector": "IoT", "size": "small", "helix": "industry",
                "website": "https://sensorik.example", "profile": "Sensors.\nFor ports."}
ORGANIZATION_CASES = cases(ORGANIZATION, [
    ("a profile", {}, None, None),
    ("little said", {"city": "", "sector": "", "website": "", "profile": ""}, None, None),
    ("no name", {"name": None}, "name", "This field is required."),
    ("a one-letter name", {"name": "A"}, "name", "Enter at least 2 characters."),
    ("a NUL in the name", {"name": "Aalborg\x00"}, "name", "Name " + NUL_MESSAGE),
    ("a name on two lines", {"name": "Aalborg\nSensorik"}, "name",
     "Name must be on one line"),
    ("no country", {"country": None}, "country", "Choose a country from the list."),
    ("not a country", {"country": "QQ"}, "country", "Choose a country from the list."),
    ("no size", {"size": None}, "size", "Choose the size."),
    ("not a size", {"size": "huge"}, "size", "Choose one of"),
    ("a city too long", {"city": "c" * 121}, "city", "Enter at most 120 characters."),
    ("a data: website", {"website": "data:text/html,hi"}, "website", "http:// or https://"),
    ("a website too long", {"website": "https://" + "w" * 300 + ".example"}, "website",
     "Enter at most 300 characters."),
    ("a profile too long", {"profile": "p" * 5001}, "profile",
     "Enter at most 5000 characters."),
])


@pytest.mark.parametrize("case", ORGANIZATION_CASES, ids=str)
def test_an_organization_is_judged_alike_by_its_form_and_its_model(app, case):
    with app.test_request_context():
        check(case, OrganizationIn, OrganizationForm)


class _MergeForm(MergeForm):
    """The merge form as the view fills it: the organizations it may merge into."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.into.choices = [("3", "Aalborg Sensorik ApS (Aalborg)")]


@pytest.mark.parametrize(("model", "form_class", "case"), [
    *((MembershipDecisionIn, MembershipDecisionForm, c) for c in cases({}, [
        ("accepted", {"decision": "accept"}, None, None),
        ("refused", {"decision": "refuse"}, None, None),
        ("undecided", {}, "decision", "Choose to accept or refuse the request."),
        ("maybe", {"decision": "maybe"}, "decision", "Choose one of"),
    ])),
    *((MergeIn, _MergeForm, c) for c in cases({"into": 3, "confirm": True}, [
        ("confirmed", {}, None, None),
        ("not confirmed", {"confirm": False}, "confirm", "Tick the box to confirm the merge."),
        # Where to merge is checked against the organizations the reviewer may merge
        # into (the database's scope), not by the model: no case here.
    ])),
], ids=lambda v: str(v) if isinstance(v, Case) else getattr(v, "__name__", ""))
def test_membership_decisions_and_merges_are_judged_alike(app, model, form_class, case):
    with app.test_request_context():
        check(case, model, form_class)

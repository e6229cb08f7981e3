"""The member's own account pages: profile, data export, deleting the account.

The POST cases send input the form refuses (an empty name, a wrong password, a forged
confirmation), so walking the matrix changes nobody's account."""

from __future__ import annotations

from tests.factories import PASSWORD
from tests.matrix import LOGIN, SIGNED_IN_200, Case, statuses

REFUSED_INPUT = statuses(400, anonymous=LOGIN)

CASES = [
    Case("account.profile", "form", "GET", lambda w: "/account/profile", SIGNED_IN_200),
    Case("account.profile", "empty name", "POST", lambda w: "/account/profile", REFUSED_INPUT,
         data=lambda w: {"name": "", "timezone": "UTC", "locale": "en"}),
    Case("account.detect_timezone", "a zone no one has", "POST", lambda w: "/account/timezone",
         REFUSED_INPUT, data=lambda w: {"timezone": "Mars/Olympus_Mons"}),
    Case("account.export_data", "own data", "GET", lambda w: "/account/data", SIGNED_IN_200),
    Case("account.delete", "confirmation", "GET", lambda w: "/account/delete", SIGNED_IN_200),
    Case("account.delete", "wrong password", "POST", lambda w: "/account/delete", REFUSED_INPUT,
         data=lambda w: {"password": "not the password"}),
    # The password alone does not delete: the confirmation page's token is needed too.
    Case("account.delete", "forged confirmation", "POST", lambda w: "/account/delete",
         REFUSED_INPUT, data=lambda w: {"password": PASSWORD, "confirmation": "forged"}),
]

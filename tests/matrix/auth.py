"""The credentials area: sign-up, one-time links, password reset, password and email changes.
(Signing in and out are in tests/test_access.py.)"""

from __future__ import annotations

from tests.matrix import LOGIN, SIGNED_IN_200, Case, statuses
from webapp.services import accounts, tokens

NEW_PASSWORD = "tram lines over the harbour"
BAD_TOKEN = "not-a-real-token"


def build(make, users, base) -> dict:
    """Valid links for a dedicated account: opening them (GET) changes nothing."""
    newcomer = make.user(name="Nina Newcomer", email_verified_at=None)
    return {
        "verify": tokens.make(accounts.VERIFY_EMAIL,
                              {"user": newcomer.id, "email": newcomer.email}),
        "reset": tokens.make(accounts.RESET_PASSWORD,
                             {"user": newcomer.id, "version": newcomer.session_version}),
        "change_email": tokens.make(accounts.CHANGE_EMAIL, {
            "user": newcomer.id, "email": "nina@new-home.example",
            "version": newcomer.session_version}),
    }


def _passwords(**extra):
    return lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, **extra}


SIGNED_IN_GO_HOME = statuses(302, anonymous=200)

CASES = [
    Case("auth.signup", "form", "GET", lambda w: "/signup", SIGNED_IN_GO_HOME),
    Case("auth.signup", "incomplete", "POST", lambda w: "/signup", SIGNED_IN_GO_HOME,
         data=lambda w: {"name": "", "email": "x"}),
    Case("auth.check_inbox", "after sign-up", "GET", lambda w: "/check-inbox?reason=signup",
         statuses(200)),
    Case("auth.privacy_notice", "notice", "GET", lambda w: "/privacy", statuses(200)),
    Case("auth.verify_email", "valid link", "GET",
         lambda w: f"/verify/{w.extra['verify']}", statuses(200)),
    Case("auth.verify_email", "bad link", "GET", lambda w: f"/verify/{BAD_TOKEN}",
         statuses(400)),
    Case("auth.verify_email", "bad link", "POST", lambda w: f"/verify/{BAD_TOKEN}",
         statuses(400)),
    # Every matrix account is verified: the button only says so.
    Case("auth.resend_verification", "already verified", "POST",
         lambda w: "/resend-verification", statuses(302, anonymous=LOGIN)),
    Case("auth.reset_request", "form", "GET", lambda w: "/reset", statuses(200)),
    Case("auth.reset_request", "unknown address", "POST", lambda w: "/reset", statuses(302),
         data=lambda w: {"email": "nobody@example.org"}),
    Case("auth.reset_password", "valid link", "GET",
         lambda w: f"/reset/{w.extra['reset']}", statuses(200)),
    Case("auth.reset_password", "bad link", "GET", lambda w: f"/reset/{BAD_TOKEN}",
         statuses(400)),
    Case("auth.reset_password", "bad link", "POST", lambda w: f"/reset/{BAD_TOKEN}",
         statuses(400), data=_passwords()),
    Case("auth.change_password", "form", "GET", lambda w: "/account/password", SIGNED_IN_200),
    Case("auth.change_password", "wrong current password", "POST",
         lambda w: "/account/password", SIGNED_IN_200,
         data=_passwords(current_password="not my password")),
    Case("auth.change_email", "form", "GET", lambda w: "/account/email", SIGNED_IN_200),
    Case("auth.change_email", "wrong password", "POST", lambda w: "/account/email",
         SIGNED_IN_200, data=lambda w: {"email": "new@example.org", "password": "nope"}),
    Case("auth.confirm_email_change", "valid link", "GET",
         lambda w: f"/account/email/confirm/{w.extra['change_email']}", statuses(200)),
    Case("auth.confirm_email_change", "bad link", "GET",
         lambda w: f"/account/email/confirm/{BAD_TOKEN}", statuses(400)),
    Case("auth.confirm_email_change", "bad link", "POST",
         lambda w: f"/account/email/confirm/{BAD_TOKEN}", statuses(400)),
]

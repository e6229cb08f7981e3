"""Signing in and out, safe redirects, CSRF, bad input on the login form; no address
enumeration; password reset; changing the password and the email address."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.backends import BACKENDS
from tests.confirming import confirm
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp.models import AuditEntry, OutboxMessage, User, utcnow
from webapp.security import is_safe_redirect
from webapp.services import accounts

NEW_PASSWORD = "tram lines over the harbour"


@pytest.fixture
def anna(make, db):
    user = make.user(email="anna.sorensen@example.org", name="Anna Sørensen")
    db.session.commit()
    return user


def _login(client, email, password, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/login", data=data)


def test_login_with_right_password_signs_in_and_greets_by_name(client, anna):
    response = _login(client, "Anna.Sorensen@Example.org", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Anna Sørensen" in page
    assert client.get("/account/registrations").status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("anna.sorensen@example.org", "wrong password"), ("nobody@example.org", PASSWORD)],
    ids=["wrong password", "unknown email"],
)
def test_login_failure_says_the_same_for_unknown_email_and_wrong_password(
    client, anna, email, password
):
    response = _login(client, email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The email or password is not right." in page
    assert 'aria-invalid="true"' in page and 'id="error-summary"' in page
    assert client.get("/account/registrations").status_code == 302


def test_inactive_account_cannot_sign_in(client, anna, db):
    anna.active = False
    db.session.commit()
    response = _login(client, anna.email, PASSWORD)
    assert "The email or password is not right." in response.get_data(as_text=True)


def test_logout_ends_the_session(client, anna):
    _login(client, anna.email, PASSWORD)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/account/registrations").status_code == 302
    assert "Sign in" in client.get("/").get_data(as_text=True)


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(client, anna):
    _login(client, anna.email, PASSWORD)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert client.get("/account/registrations").status_code == 200


def test_login_post_without_csrf_token_gets_a_400_page_not_a_500(client, anna):
    response = client.post("/login", data={"email": anna.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account/registrations").status_code == 302


def test_protected_page_sends_anonymous_to_login_and_back(client, anna):
    response = client.get("/account/registrations")
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fregistrations"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/account/registrations"' in page
    response = _login(client, anna.email, PASSWORD, next="/account/registrations")
    assert response.headers["Location"] == "/account/registrations"


@pytest.mark.parametrize("target", [
    "https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com",
    "javascript:alert(1)", "http:/evil", "", "events",
])
def test_next_never_leaves_the_site(client, anna, target):
    response = _login(client, anna.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_safe_redirect_accepts_local_paths_only():
    assert is_safe_redirect("/events?kind=webinar")
    assert not is_safe_redirect("/\tevil")
    assert not is_safe_redirect(None)


@pytest.mark.parametrize(("email", "password", "message"), [
    ("", PASSWORD, "This field is required."),
    ("not-an-email", PASSWORD, "Invalid email address."),
    ("a" * 300 + "@example.org", PASSWORD, "Enter at most 254 characters."),
    ("anna.sorensen@example.org", "", "This field is required."),
    ("anna.sorensen@example.org", "x" * 5000, "Enter at most 1024 characters."),
])
def test_malformed_login_fields_get_a_message_beside_the_field(
    client, anna, db, email, password, message
):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = _login(client, email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page and 'class="invalid-feedback"' in page
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_passwords_are_stored_with_scrypt(anna):
    assert anna.password_hash.startswith("scrypt:")
    assert PASSWORD not in anna.password_hash
    assert check_password_hash(anna.password_hash, PASSWORD)


def test_changing_the_session_version_signs_out_other_sessions(client, anna, db):
    _login(client, anna.email, PASSWORD)
    anna.session_version += 1
    db.session.commit()
    assert client.get("/account/registrations").status_code == 302


def test_remember_me_sets_a_long_lived_httponly_cookie(client, anna):
    response = _login(client, anna.email, PASSWORD, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0]


def test_session_cookie_is_httponly_and_samesite(client, anna):
    response = _login(client, anna.email, PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    [session_cookie] = [c for c in cookies if c.startswith("session=")]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_create_admin_command_asks_for_the_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "Coordinator@Example.org"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Admin ready: coordinator@example.org" in result.output
    user = db.session.scalar(select(User).where(User.email == "coordinator@example.org"))
    from webapp import access

    assert access.is_admin(user)
    assert check_password_hash(user.password_hash, "a long enough password")


def test_create_admin_refuses_a_short_password(app, db):
    result = app.test_cli_runner().invoke(args=["create-admin", "x@example.org"],
                                          input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


# --------------------------------------------------------------------------- no enumeration

CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def _comparable(response, typed_email: str) -> tuple[int, str | None, str]:
    """Status, redirect and page text with the per-render CSRF token and the address the
    visitor typed (which the form echoes) masked out."""
    page = CSRF_VALUE.sub(r"\1CSRF\2", response.get_data(as_text=True))
    return response.status_code, response.headers.get("Location"), page.replace(typed_email,
                                                                                 "TYPED")


def test_login_failure_is_identical_for_an_existing_and_an_unknown_address(client, anna):
    existing = _comparable(_login(client, anna.email, "wrong password"), anna.email)
    unknown = _comparable(_login(client, "nobody@example.org", "wrong password"),
                          "nobody@example.org")
    assert existing == unknown


def test_reset_request_is_identical_for_an_existing_and_an_unknown_address(
    client, anna, mailbox
):
    answers = []
    for email in (anna.email, "nobody@example.org"):
        response = client.post("/reset", data={"email": email, "csrf_token": csrf_token(client)})
        answers.append(_comparable(response, email))
        answers.append(_comparable(client.get(response.headers["Location"]), email))
    assert answers[:2] == answers[2:]
    assert answers[0][:2] == (302, "/check-inbox?reason=reset")
    assert len(mailbox.to(anna.email)) == 1
    assert mailbox.to("nobody@example.org") == []


def test_sign_up_is_identical_for_an_existing_and_an_unknown_address(client, anna, mailbox):
    answers = []
    for email in (anna.email, "nobody@example.org"):
        response = client.post("/signup", data={
            "name": "Someone", "email": email, "password": "tram lines over the harbour",
            "confirm": "tram lines over the harbour", "organization_mode": "new",
            "organization_name": "Some Co", "country": "DK", "size": "small",
            "helix": "industry", "privacy": "y", "csrf_token": csrf_token(client, "/signup"),
        })
        answers.append(_comparable(response, email))
        answers.append(_comparable(client.get(response.headers["Location"]), email))
    assert answers[:2] == answers[2:]
    assert answers[0][:2] == (302, "/check-inbox?reason=signup")


# --------------------------------------------------------------------------- password reset


def _link_path(mailbox, address: str, prefix: str, index: int = -1) -> str:
    message = mailbox.to(address)[index]
    urls = re.findall(r"https?://\S+", mailbox.text(message))
    [path] = [urlsplit(u).path for u in urls if urlsplit(u).path.startswith(prefix)]
    return path


def _ask_reset(client, email):
    return client.post("/reset", data={"email": email, "csrf_token": csrf_token(client)})


def _set_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password,
                                   "csrf_token": csrf_token(client, "/reset")})


def _signed_in(client) -> bool:
    return client.get("/account/registrations").status_code == 200


def test_reset_link_sets_a_new_password_once_and_signs_in_here(client, anna, db, mailbox):
    response = _ask_reset(client, "ANNA.sorensen@example.org")
    assert response.headers["Location"] == "/check-inbox?reason=reset"
    [mail] = mailbox.to(anna.email)
    assert mail["Subject"] == "Reset your password"
    path = _link_path(mailbox, anna.email, "/reset/")

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    response = _set_password(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _signed_in(client)
    db.session.expire_all()
    assert check_password_hash(anna.password_hash, NEW_PASSWORD)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert (entry.subject_type, entry.subject_id) == ("user", anna.id)

    again = _set_password(client, path, "yet another long password")
    assert again.status_code == 400
    assert "no longer valid" in again.get_data(as_text=True) or "already been used" in (
        again.get_data(as_text=True))
    db.session.expire_all()
    assert check_password_hash(anna.password_hash, NEW_PASSWORD)


def test_reset_link_expires_after_an_hour(client, anna, db, mailbox):
    _ask_reset(client, anna.email)
    path = _link_path(mailbox, anna.email, "/reset/")
    with freeze_time(utcnow() + timedelta(minutes=61)):
        assert client.get(path).status_code == 400
        response = _set_password(client, path)
        assert response.status_code == 400
        assert "This link has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert check_password_hash(anna.password_hash, PASSWORD)


def test_reset_refuses_a_weak_password_beside_the_field_and_keeps_the_link(
    client, anna, db, mailbox
):
    _ask_reset(client, anna.email)
    path = _link_path(mailbox, anna.email, "/reset/")
    response = _set_password(client, path, "1234567890")
    assert response.status_code == 200
    assert "most common" in response.get_data(as_text=True)
    assert _set_password(client, path).status_code == 302  # the link still works


def test_reset_ends_the_other_sessions(app, client, anna, mailbox):
    other_device = app.test_client()
    _login(other_device, anna.email, PASSWORD)
    assert _signed_in(other_device)
    _ask_reset(client, anna.email)
    _set_password(client, _link_path(mailbox, anna.email, "/reset/"))
    response = other_device.get("/account/registrations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _signed_in(client)


def test_a_reset_link_dies_when_the_password_changes_another_way(
    client, anna, db, mailbox, login_as
):
    _ask_reset(client, anna.email)
    path = _link_path(mailbox, anna.email, "/reset/")
    accounts.set_password(anna, "changed by the owner meanwhile")
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 400
    assert "the password has changed" in response.get_data(as_text=True)


# A sign-in and a reset of the same account at the same moment, through real connections:
# one of them wins whole. The sign-in checks the password in its read step and writes in
# its write step; a reset that commits in between must not leave it signed in with the
# old password.

RACER = "racing.anna@example.org"


def _racers(open_app, backend: str):
    """Anna (committed), a reset link of hers, and two browsers: one signing in, one
    resetting, each with the CSRF token of its form."""
    from tests.conftest import IsolatedClient
    from tests.factories import Factory
    from webapp.extensions import db as _db
    from webapp.services import tokens

    app = open_app(backend)
    app.test_client_class = IsolatedClient
    anna = Factory().user(email=RACER)
    _db.session.commit()
    path = "/reset/" + tokens.make(accounts.RESET_PASSWORD,
                                   {"user": anna.id, "version": anna.session_version})
    signing_in, resetting = app.test_client(), app.test_client()
    sign_in = {"email": RACER, "password": PASSWORD, "csrf_token": csrf_token(signing_in)}
    reset = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
             "csrf_token": csrf_token(resetting, path)}
    return app, anna.id, (signing_in, sign_in), (resetting, path, reset)


def _reset_between_check_and_write(open_app, backend: str, monkeypatch):
    """The sign-in has checked the old password when the reset commits; then it writes."""
    import threading

    from tests.live import in_threads

    app, user_id, (signing_in, sign_in), (resetting, path, reset) = _racers(open_app, backend)
    checked, reset_done = threading.Event(), threading.Event()
    check_sign_in = accounts.check_sign_in

    def check_then_wait(email, password):
        verified = check_sign_in(email, password)
        checked.set()
        assert reset_done.wait(30), "the reset never finished"
        return verified

    monkeypatch.setattr(accounts, "check_sign_in", check_then_wait)

    def sign_in_job():
        return signing_in.post("/login", data=sign_in)

    def reset_job():
        assert checked.wait(30), "the sign-in never checked the password"
        try:
            return resetting.post(path, data=reset)
        finally:
            reset_done.set()

    signed_in, was_reset = in_threads(app, [sign_in_job, reset_job])
    return user_id, signing_in, signed_in, was_reset


def _committed_user(user_id: int) -> User:
    from webapp.extensions import db as _db

    _db.session.commit()  # a fresh snapshot
    return _db.session.get(User, user_id, populate_existing=True)


@pytest.mark.parametrize(
    "backend", BACKENDS)
def test_a_sign_in_checked_before_a_reset_commits_is_refused(open_app, backend, monkeypatch):
    user_id, signing_in, signed_in, was_reset = _reset_between_check_and_write(
        open_app, backend, monkeypatch)
    assert not isinstance(signed_in, BaseException), signed_in
    assert was_reset.status_code == 302
    assert signed_in.status_code == 200
    assert "The email or password is not right." in signed_in.get_data(as_text=True)
    assert not _signed_in(signing_in)
    anna = _committed_user(user_id)
    assert check_password_hash(anna.password_hash, NEW_PASSWORD)
    assert anna.last_login_at is None


def test_without_the_recheck_the_old_password_signs_in_after_the_reset(
    open_app, monkeypatch
):
    """The race the write step's re-check closes: a sign-in that only re-reads the account
    signs in with the session version the reset made, so the reset cannot end it."""
    from webapp.extensions import db as _db

    monkeypatch.setattr(accounts, "still_verified",
                        lambda verified: _db.session.get(User, verified.user_id,
                                                         populate_existing=True))
    _user_id, signing_in, signed_in, was_reset = _reset_between_check_and_write(
        open_app, "sqlite", monkeypatch)
    assert was_reset.status_code == 302
    assert signed_in.status_code == 302 and _signed_in(signing_in)


@pytest.mark.parametrize(
    "backend", BACKENDS)
def test_a_sign_in_racing_a_reset_never_outlives_it(open_app, backend):
    """Released together: the sign-in is either refused, or completed first and then
    signed out by the reset; the new password stands either way."""
    from tests.live import in_threads

    app, user_id, (signing_in, sign_in), (resetting, path, reset) = _racers(open_app, backend)
    signed_in, was_reset = in_threads(app, [
        lambda: signing_in.post("/login", data=sign_in),
        lambda: resetting.post(path, data=reset),
    ])
    assert not isinstance(signed_in, BaseException), signed_in
    assert was_reset.status_code == 302 and _signed_in(resetting)
    assert signed_in.status_code in (200, 302)
    assert not _signed_in(signing_in)
    assert check_password_hash(_committed_user(user_id).password_hash, NEW_PASSWORD)


def test_reset_for_an_unknown_address_sends_nothing(client, anna, db, mailbox):
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    response = _ask_reset(client, "nobody@example.org")
    assert response.headers["Location"] == "/check-inbox?reason=reset"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert mailbox.messages == []


def test_tampered_reset_link_gets_a_400_page(client, anna, mailbox):
    _ask_reset(client, anna.email)
    path = _link_path(mailbox, anna.email, "/reset/")
    response = client.get(path[:-3] + ("xyz" if not path.endswith("xyz") else "abc"))
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_login_page_offers_reset_and_sign_up(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/reset"' in page and 'href="/signup"' in page


# --------------------------------------------------------------------------- change password


def _change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "password": new, "confirm": confirm or new,
        "csrf_token": csrf_token(client, "/account/password")})


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(app, client, anna, db):
    other_device = app.test_client()
    _login(other_device, anna.email, PASSWORD)
    _login(client, anna.email, PASSWORD, remember="y")
    response = _change_password(client)
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other_device)
    db.session.expire_all()
    assert check_password_hash(anna.password_hash, NEW_PASSWORD)
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.password_changed", AuditEntry.subject_id == anna.id))
    # The remember-me cookie was renewed with the new session id.
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") for c in cookies)


@pytest.mark.parametrize(("current", "new", "confirm", "field", "message"), [
    ("wrong password", NEW_PASSWORD, None, "current_password", "not right"),
    (PASSWORD, "short", None, "password", "at least 10 characters"),
    (PASSWORD, "qwertyuiop", None, "password", "most common"),
    (PASSWORD, NEW_PASSWORD, "a different one entirely", "confirm", "differ"),
])
def test_change_password_refusals_stay_beside_the_field_and_change_nothing(
    client, anna, db, login_as, current, new, confirm, field, message
):
    login_as(anna)
    response = _change_password(client, current, new, confirm)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'id="{field}-error" class="invalid-feedback">[^<]*{message}', page)
    db.session.expire_all()
    assert check_password_hash(anna.password_hash, PASSWORD)
    assert _signed_in(client)


def test_change_password_needs_a_signed_in_user(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --------------------------------------------------------------------------- change email


def _change_email(client, email, password=PASSWORD):
    return client.post("/account/email", data={
        "email": email, "password": password,
        "csrf_token": csrf_token(client, "/account/email")})


def test_email_changes_only_through_the_link_sent_to_the_new_address(
    client, anna, db, login_as, mailbox
):
    login_as(anna)
    response = _change_email(client, "Anna@New-Home.example")
    assert response.headers["Location"] == "/check-inbox?reason=email"
    db.session.expire_all()
    assert anna.email == "anna.sorensen@example.org"  # not yet
    assert mailbox.to("anna.sorensen@example.org") == []

    path = _link_path(mailbox, "anna@new-home.example", "/account/email/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and "anna@new-home.example" in page.get_data(as_text=True)
    db.session.expire_all()
    assert anna.email == "anna.sorensen@example.org"  # opening the link is not enough

    response = client.post(path, data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    db.session.expire_all()
    assert anna.email == "anna@new-home.example" and anna.is_verified
    [notice] = mailbox.to("anna.sorensen@example.org")
    assert notice["Subject"] == "Your email address was changed"
    assert "anna@new-home.example" in mailbox.text(notice)
    assert client.post(path, data={"csrf_token": csrf_token(client, "/")}).status_code == 400
    # Still signed in, and the new address signs in from now on.
    assert _signed_in(client)
    other = client.application.test_client()
    assert _login(other, "anna@new-home.example", PASSWORD).status_code == 302


def test_email_change_needs_the_password(client, anna, db, login_as, mailbox):
    login_as(anna)
    response = _change_email(client, "anna@new-home.example", "wrong password")
    assert response.status_code == 200
    assert "Your password is not right." in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_email_change_to_a_taken_address_answers_the_same_and_changes_nothing(
    client, anna, make, db, login_as, mailbox
):
    make.user(email="bjorn@example.org")
    db.session.commit()
    login_as(anna)
    taken = _change_email(client, "bjorn@example.org")
    free = _change_email(client, "free@example.org")
    assert taken.headers["Location"] == free.headers["Location"] == "/check-inbox?reason=email"
    db.session.expire_all()
    assert anna.email == "anna.sorensen@example.org"
    [notice] = mailbox.to("bjorn@example.org")
    assert "/account/email/confirm/" not in mailbox.text(notice)


def test_email_change_to_the_same_address_is_explained(client, anna, login_as):
    login_as(anna)
    response = _change_email(client, "Anna.Sorensen@example.org")
    assert "This is already your address." in response.get_data(as_text=True)


def test_email_change_link_dies_when_the_password_changes(
    client, anna, db, login_as, mailbox
):
    login_as(anna)
    _change_email(client, "anna@new-home.example")
    path = _link_path(mailbox, "anna@new-home.example", "/account/email/confirm/")
    accounts.set_password(anna, "changed by the owner meanwhile")
    db.session.commit()
    assert client.get(path).status_code == 400
    db.session.expire_all()
    assert anna.email == "anna.sorensen@example.org"


# --------------------------------------------------------------------------- the write lock


@pytest.fixture
def hashing_steps(monkeypatch):
    """Whether each password hash or check ran inside the unit's write step."""
    from webapp import unit

    seen: list[bool] = []

    def spy(real):
        def run(*args, **kwargs):
            current = unit.current()
            seen.append(bool(current and current.write_txn))
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(accounts, "check_password_hash", spy(accounts.check_password_hash))
    monkeypatch.setattr(accounts, "generate_password_hash",
                        spy(accounts.generate_password_hash))
    return seen


def _reset_path(anna) -> str:
    from webapp.services import tokens

    return "/reset/" + tokens.make(accounts.RESET_PASSWORD,
                                   {"user": anna.id, "version": anna.session_version})


@pytest.mark.parametrize("flow", ["sign in", "sign up", "reset", "change password",
                                  "change email", "delete account"])
def test_passwords_are_hashed_and_checked_without_the_write_lock(
    flow, client, anna, login_as, hashing_steps
):
    if flow == "sign in":
        response = _login(client, anna.email, PASSWORD)
    elif flow == "sign up":
        response = client.post("/signup", data={
            "name": "Someone", "email": "someone.new@example.org", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD, "organization_mode": "new",
            "organization_name": "Some Co", "country": "DK", "size": "small",
            "helix": "industry", "privacy": "y", "csrf_token": csrf_token(client, "/signup")})
    elif flow == "reset":
        path = _reset_path(anna)
        response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                           "csrf_token": csrf_token(client, path)})
    else:
        login_as(anna)
        if flow == "change password":
            response = _change_password(client)
        elif flow == "change email":
            response = _change_email(client, "anna@new-home.example")
        else:
            response = confirm(client, "/account/delete", password=PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert hashing_steps and not any(hashing_steps)

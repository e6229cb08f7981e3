"""Signing in and out, safe redirects, CSRF, and bad input on the login form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp.models import User
from webapp.security import is_safe_redirect


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
    ("a" * 300 + "@example.org", PASSWORD, "Field cannot be longer than 254 characters."),
    ("anna.sorensen@example.org", "", "This field is required."),
    ("anna.sorensen@example.org", "x" * 5000, "Field cannot be longer than 1024 characters."),
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

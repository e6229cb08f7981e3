"""Throttling: counted in the database per address typed and per client IP, so every worker
(here: two app instances on one database file) sees the same attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp import create_app
from webapp.extensions import db as _db
from webapp.models import OutboxMessage, ThrottleHit, utcnow
from webapp.services import accounts, throttle
from webapp.views.auth import client_ip

LIMIT = 10


@pytest.fixture
def anna(make, db):
    user = make.user(email="anna@example.org", name="Anna")
    db.session.commit()
    return user


def _login(client, email, password, ip="198.51.100.7"):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": ip})


# --------------------------------------------------------------------------- the service


def test_the_limit_blocks_and_says_how_long_to_wait(db, app):
    start = utcnow()
    with freeze_time(start):
        for _ in range(LIMIT - 1):
            throttle.hit("login", account="anna@example.org", ip="192.0.2.1")
        throttle.check("login", account="anna@example.org", ip="192.0.2.1")  # still allowed
    with freeze_time(start + timedelta(minutes=5)):
        throttle.hit("login", account="anna@example.org", ip="192.0.2.1")
        with pytest.raises(throttle.Throttled) as refused:
            throttle.check("login", account="ANNA@example.org", ip="192.0.2.99")
    # The first nine hits leave the window at start + 15 min: ten minutes from then.
    assert refused.value.minutes == 10
    assert refused.value.message == "Too many attempts. Please wait 10 minutes and try again."
    with freeze_time(start + timedelta(minutes=15, seconds=1)):
        throttle.check("login", account="anna@example.org", ip="192.0.2.1")


def test_actions_are_counted_apart(db, app):
    for _ in range(LIMIT):
        throttle.hit("reset", account="anna@example.org")
    throttle.check("login", account="anna@example.org")
    with pytest.raises(throttle.Throttled):
        throttle.check("reset", account="anna@example.org")


def test_old_hits_are_deleted_when_new_ones_come(db, app):
    start = utcnow()
    with freeze_time(start):
        throttle.hit("login", ip="192.0.2.1")
    with freeze_time(start + timedelta(minutes=16)):
        throttle.hit("login", ip="192.0.2.2")
    assert db.session.scalars(select(ThrottleHit.key)).all() == ["login:ip:192.0.2.2"]


def test_clearing_an_account_keeps_the_address_count(db, app):
    throttle.hit("login", account="anna@example.org", ip="192.0.2.1")
    throttle.clear("login", account="Anna@Example.org")
    assert db.session.scalars(select(ThrottleHit.key)).all() == ["login:ip:192.0.2.1"]


# --------------------------------------------------------------------------- over HTTP


def test_a_successful_sign_in_clears_the_accounts_count(client, anna, db):
    for _ in range(LIMIT - 1):
        _login(client, anna.email, "wrong password")
    assert _login(client, anna.email, PASSWORD).status_code == 302
    keys = db.session.scalars(select(ThrottleHit.key)).all()
    assert keys == ["login:ip:198.51.100.7"] * (LIMIT - 1)


def test_one_address_guessing_many_accounts_is_stopped(client, anna):
    for n in range(LIMIT):
        _login(client, f"guess{n}@example.org", "wrong password")
    response = _login(client, anna.email, PASSWORD)
    assert response.status_code == 429
    assert _login(client, anna.email, PASSWORD, ip="198.51.100.8").status_code == 302


def test_many_addresses_guessing_one_account_are_stopped(client, anna):
    for n in range(LIMIT):
        _login(client, anna.email, "wrong password", ip=f"198.51.100.{n + 10}")
    response = _login(client, anna.email, PASSWORD, ip="203.0.113.1")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Please wait 15 minutes" in page and 'name="email"' in page  # the form is still there


def test_throttled_answer_is_the_same_for_existing_and_unknown_accounts(client, anna):
    for offset, email in ((0, anna.email), (100, "nobody@example.org")):
        for n in range(LIMIT):
            _login(client, email, "wrong password", ip=f"192.0.2.{offset + n}")
    answers = []
    for email in (anna.email, "nobody@example.org"):
        response = _login(client, email, PASSWORD, ip="198.51.100.2")
        text = response.get_data(as_text=True)
        answers.append((response.status_code, "Please wait 15 minutes" in text,
                        "not right" in text))
    assert answers[0] == answers[1] == (429, True, False)


def _sign_up(client, email):
    return client.post("/signup", data={
        "name": "Someone", "email": email, "password": "tram lines over the harbour",
        "confirm": "tram lines over the harbour", "organization_mode": "new",
        "organization_name": "Some Co", "country": "DK", "size": "small", "helix": "industry",
        "privacy": "y", "csrf_token": csrf_token(client, "/signup"),
    })


def test_sign_ups_from_one_address_are_throttled_and_the_form_stays(client, db, mailbox):
    for n in range(LIMIT):
        assert _sign_up(client, f"person{n}@example.org").status_code == 302
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    response = _sign_up(client, "one.more@example.org")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts. Please wait 15 minutes" in page and "Create my account" in page
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert accounts.find_by_email("one.more@example.org") is None


def test_reset_requests_for_one_account_are_throttled(client, anna, mailbox):
    for n in range(LIMIT):
        client.post("/reset", data={"email": anna.email, "csrf_token": csrf_token(client)},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
    response = client.post("/reset", data={"email": anna.email,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 429
    assert "Please wait 15 minutes" in response.get_data(as_text=True)
    assert len(mailbox.to(anna.email)) == LIMIT


def test_wrong_current_passwords_count_as_failed_sign_ins(client, anna, login_as):
    login_as(anna)
    for _ in range(LIMIT):
        client.post("/account/password", data={
            "current_password": "wrong password", "password": "tram lines over the harbour",
            "confirm": "tram lines over the harbour",
            "csrf_token": csrf_token(client, "/account/password")})
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "tram lines over the harbour",
        "confirm": "tram lines over the harbour",
        "csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 429


def test_client_ip_trusts_forwarded_for_only_when_configured(app, monkeypatch):
    headers = {"X-Forwarded-For": "10.9.9.9, 203.0.113.50"}
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    with app.test_request_context(headers=headers, environ_base=environ):
        assert client_ip() == "127.0.0.1"
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    with app.test_request_context(headers=headers, environ_base=environ):
        assert client_ip() == "203.0.113.50"  # what our one proxy saw, not what the client wrote


# --------------------------------------------------------------------------- two workers


@pytest.fixture
def two_workers(tmp_path):
    """Two app instances on one real database file, as two gunicorn workers would be."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    second = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with first.app_context():
        upgrade()
        accounts.create_user("anna@example.org", "Anna", PASSWORD)
        _db.session.commit()
        _db.session.remove()
    yield first, second
    for app in (first, second):
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_failures_counted_by_one_worker_block_the_other(two_workers):
    first, second = two_workers
    worker_one, worker_two = first.test_client(), second.test_client()
    for _ in range(LIMIT):
        response = _login(worker_one, "anna@example.org", "wrong password")
        assert response.status_code == 200
    response = _login(worker_two, "anna@example.org", PASSWORD)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts. Please wait 15 minutes and try again." in page
    assert worker_two.get("/account/registrations").status_code == 302  # not signed in

    with freeze_time(utcnow() + timedelta(minutes=16)):
        response = _login(worker_two, "anna@example.org", PASSWORD)
        assert response.status_code == 302
        assert worker_two.get("/account/registrations").status_code == 200

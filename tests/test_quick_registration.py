"""Quick registration for public webinars: name, email, organization and country, then the
mailed link (GET shows, POST confirms) makes the light account and the approved seat."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.test_signup import _field_error
from webapp.models import (
    AuditEntry,
    EventKind,
    EventStatus,
    Organization,
    OutboxMessage,
    Registration,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import accounts, quick_registration, registrations

# 12 days ahead at 03:00 UTC: 04:00 in Brussels, 22:00 the day before in New York (EST),
# whatever the hour the suite runs at.
WEBINAR_STARTS = (utcnow() + timedelta(days=12)).replace(hour=3, minute=0, second=0,
                                                         microsecond=0)
NEW_YORK_DAY = WEBINAR_STARTS - timedelta(hours=5)
NEW_PASSWORD = "tram lines over the harbour"
ADDRESS = "ines@nordlicht.example"


@pytest.fixture
def webinar(make, db):
    cluster = make.partner(name="Smart City Cluster Gent")
    event = make.event(
        kind=EventKind.WEBINAR, title="Webinar: doing business in Singapore",
        slug="webinar-singapore", target_country="SG", timezone="Europe/Brussels",
        starts_at=WEBINAR_STARTS, duration=timedelta(hours=1), requires_approval=False,
        capacity=100, online_url="https://meet.example.com/singapore", organizers=[cluster])
    db.session.commit()
    return event


def _counts(db) -> dict[str, int]:
    db.session.expire_all()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Organization, Registration, AuditEntry, OutboxMessage)}


def _form(client, slug="webinar-singapore", **overrides) -> dict:
    data = {
        "name": "Ines Nordlicht", "email": ADDRESS, "organization": "Nordlicht Mobility",
        "country": "DE", "timezone": "America/New_York", "privacy": "y",
        "csrf_token": csrf_token(client, "/login"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _register(client, slug="webinar-singapore", **overrides):
    return client.post(f"/events/{slug}/register", data=_form(client, slug, **overrides))


def _links(mailbox, address: str, prefix: str) -> list[str]:
    paths = []
    for message in mailbox.to(address):
        for url in re.findall(r"https?://\S+", mailbox.text(message)):
            if urlsplit(url).path.startswith(prefix):
                paths.append(urlsplit(url).path)
    return paths


def _post(client, path):
    """Press the link page's button (the session's CSRF token: from the sign-in page, or
    the home page once signed in)."""
    signed_in = client.get("/login").status_code == 302
    token = csrf_token(client, "/" if signed_in else "/login")
    return client.post(path, data={"csrf_token": token})


def _user(db, email=ADDRESS) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _confirmation_link(client, mailbox) -> str:
    response = _register(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    [path] = _links(mailbox, ADDRESS, "/register/")
    return path


def test_visitor_registers_and_the_mailed_link_confirms_seat_account_and_address(
    client, db, webinar, mailbox
):
    page = client.get("/events/webinar-singapore").get_data(as_text=True)
    assert 'data-testid="quick-form"' in page and 'for="organization"' in page

    before = _counts(db)
    response = _register(client)
    assert response.headers["Location"] == "/check-inbox?reason=register"
    assert "confirm your registration" in client.get(
        response.headers["Location"]).get_data(as_text=True)
    # Only the mail is written: no account, organization or registration before the link.
    assert _counts(db) == {**before, "OutboxMessage": before["OutboxMessage"] + 1}
    [request_mail] = mailbox.to(ADDRESS)
    assert request_mail["Subject"] == (
        "Confirm your registration: Webinar: doing business in Singapore")
    assert (f"22:00 – 23:00 on {NEW_YORK_DAY:%a} {NEW_YORK_DAY.day} {NEW_YORK_DAY:%b} your "
            "time (EST)") in mailbox.text(request_mail)

    [path] = _links(mailbox, ADDRESS, "/register/")
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Confirm my registration" in text
    assert "Nordlicht Mobility (Germany)" in text and "Brussels" in text
    assert _counts(db)["User"] == before["User"]  # a mail scanner's GET does nothing

    response = _post(client, path)
    user = _user(db)
    [registration] = db.session.scalars(select(Registration).where(
        Registration.user_id == user.id)).all()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/registrations/{registration.id}"
    assert registration.status == S.APPROVED and registration.event_id == webinar.id
    assert user.is_verified and user.password_hash is None
    assert (user.name, user.timezone, user.privacy_version) == (
        "Ines Nordlicht", "America/New_York", "2026-11")
    organization = user.organization
    assert (organization.name, organization.country, organization.size) == (
        "Nordlicht Mobility", "DE", None)
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == registration.id)).all()
    assert (entry.action, entry.from_status, entry.to_status, entry.actor_id) == (
        "registration.applied", None, "approved", user.id)
    assert {e.action for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.actor_id == user.id))} >= {"user.signed_up", "user.email_verified",
                                              "organization.created", "registration.applied"}

    # The usual confirmation: the invitation and the personal join link.
    confirmation = mailbox.to(ADDRESS)[-1]
    assert confirmation["Subject"] == "You're registered: Webinar: doing business in Singapore"
    assert [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    assert _links(mailbox, ADDRESS, f"/join/{registration.join_token}")

    # Signed in: the registration is theirs to see.
    mine = client.get(response.headers["Location"])
    assert mine.status_code == 200 and "You are registered for" in mine.get_data(as_text=True)


def test_a_visitor_whose_browser_sent_no_zone_confirms_and_the_zone_waits_for_the_browser(
    client, db, webinar, mailbox
):
    """Without JavaScript the form sends no zone: the link still confirms, and the light
    account's zone stays unknown until its browser says it."""
    response = _register(client, timezone=None)
    assert response.status_code == 302, response.get_data(as_text=True)
    [path] = _links(mailbox, ADDRESS, "/register/")
    assert "Confirm my registration" in client.get(path).get_data(as_text=True)

    response = _post(client, path)
    assert response.status_code == 302
    user = _user(db)
    assert user.is_verified and user.timezone is None
    assert db.session.scalar(select(Registration.status).where(
        Registration.user_id == user.id)) == S.APPROVED


def test_a_second_press_of_the_link_changes_nothing_and_says_it_is_confirmed(
    client, db, webinar, mailbox
):
    path = _confirmation_link(client, mailbox)
    assert _post(client, path).status_code == 302
    after = _counts(db)
    sent = len(mailbox.messages)
    for response in (_post(client, path), client.get(path)):
        assert response.status_code == 200
        assert "your registration for Webinar: doing business in Singapore is confirmed" in (
            response.get_data(as_text=True))
    assert _counts(db) == after and len(mailbox.messages) == sent


def test_the_used_link_of_a_withdrawn_registration_says_it_holds_no_seat(
    client, db, webinar, mailbox
):
    path = _confirmation_link(client, mailbox)
    assert _post(client, path).status_code == 302
    registration = db.session.scalar(select(Registration).where(
        Registration.event_id == webinar.id))
    registrations.withdraw(registration.id, actor=registration.user)
    db.session.commit()
    after = _counts(db)

    page = client.get(path).get_data(as_text=True)
    assert "no longer holds a seat" in page and "Withdrawn" in page
    assert "is confirmed" not in page
    assert _counts(db) == after


def test_the_light_account_sets_a_password_later_and_signs_in_with_it(
    client, db, webinar, mailbox
):
    _post(client, _confirmation_link(client, mailbox))
    assert 'data-testid="set-password"' in client.get("/account/profile").get_data(as_text=True)
    page = client.get("/account/password").get_data(as_text=True)
    assert "Set a password" in page and "Current password" not in page
    response = client.post("/account/password", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 302
    assert accounts.authenticate(ADDRESS, NEW_PASSWORD) is not None
    assert "Change your password" in client.get("/account/password").get_data(as_text=True)


def test_the_light_account_can_also_choose_a_password_by_the_reset_link(
    client, db, webinar, mailbox
):
    _post(client, _confirmation_link(client, mailbox))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.post("/reset", data={
        "email": ADDRESS, "csrf_token": csrf_token(client, "/reset")}).status_code == 302
    [path] = _links(mailbox, ADDRESS, "/reset/")
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                            "csrf_token": csrf_token(client, path)})
    assert accounts.authenticate(ADDRESS, NEW_PASSWORD) is not None


def test_tampered_and_expired_links_are_refused_and_write_nothing(client, db, webinar, mailbox):
    path = _confirmation_link(client, mailbox)
    token = path.removeprefix("/register/")
    tampered = f"/register/{token[:8]}{'A' if token[8] != 'A' else 'B'}{token[9:]}"
    before = _counts(db)
    for response in (client.get(tampered), _post(client, tampered)):
        assert response.status_code == 400
        assert "This link is not valid" in response.get_data(as_text=True)
    with freeze_time(utcnow() + timedelta(hours=49)):
        for response in (client.get(path), _post(client, path)):
            assert response.status_code == 400
            assert "This link has expired" in response.get_data(as_text=True)
    assert _counts(db) == before and _user(db) is None


def test_a_taken_address_looks_the_same_and_its_owner_is_asked_to_sign_in(
    client, db, make, webinar, mailbox
):
    owner = make.user(email=ADDRESS, name="Ines the First")
    db.session.commit()
    before = _counts(db)
    taken = _register(client, email="Ines@Nordlicht.example")
    fresh = _register(client, email="someone.new@example.org")
    assert (taken.status_code, taken.headers["Location"]) == (
        fresh.status_code, fresh.headers["Location"])
    after = _counts(db)
    assert after == {**before, "OutboxMessage": before["OutboxMessage"] + 2}
    [notice] = mailbox.to(ADDRESS)
    assert notice["Subject"] == "You already have an account: Webinar: doing business in Singapore"
    text = mailbox.text(notice)
    assert "/login?next=/events/webinar-singapore/apply" in text and "/register/" not in text
    assert _user(db).name == owner.name and _user(db).organization is None


def test_an_account_made_after_the_request_is_asked_to_sign_in_at_the_link(
    client, db, make, webinar, mailbox
):
    path = _confirmation_link(client, mailbox)
    make.user(email=ADDRESS)
    db.session.commit()
    before = _counts(db)
    for response in (client.get(path), _post(client, path)):
        assert response.status_code == 409
        text = response.get_data(as_text=True)
        assert "You already have an account with this address" in text
        assert "/login?next=/events/webinar-singapore/apply" in text
    assert _counts(db) == before


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": ""}, "name", "This field is required."),
    ({"email": "ines-at-nordlicht"}, "email", "Invalid email address."),
    ({"email": ""}, "email", "This field is required."),
    ({"organization": ""}, "organization", "This field is required."),
    ({"organization": "x"}, "organization", "Enter at least 2 characters."),
    ({"country": ""}, "country", "Choose a country from the list."),
    ({"country": "XX"}, "country", "Choose a country from the list."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a timezone we know"),
    ({"privacy": None}, "privacy", "Please accept the privacy notice"),
], ids=lambda v: "-".join(v) if isinstance(v, dict) else str(v)[:30])
def test_bad_input_gets_a_message_beside_the_field_and_writes_nothing(
    client, db, webinar, mailbox, overrides, field, message
):
    before = _counts(db)
    response = _register(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in _field_error(page, field)
    assert 'id="error-summary"' in page
    assert _counts(db) == before and mailbox.messages == []


def test_a_post_without_the_csrf_token_is_refused(client, db, webinar, mailbox):
    before = _counts(db)
    response = client.post("/events/webinar-singapore/register",
                           data=_form(client, csrf_token=None))
    assert response.status_code == 400
    assert _counts(db) == before and mailbox.messages == []


def test_requests_are_throttled_per_address_like_sign_up(
    client, db, app, webinar, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "THROTTLE_LIMIT", 2)
    assert _register(client).status_code == 302
    assert _register(client).status_code == 302
    response = _register(client)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert len(mailbox.to(ADDRESS)) == 2


def test_a_full_webinar_is_refused_at_the_form_and_at_the_link(
    client, db, make, webinar, mailbox
):
    path = _confirmation_link(client, mailbox)
    webinar.capacity = 1
    make.registration(webinar, make.user(), S.APPROVED)
    db.session.commit()
    assert 'data-testid="quick-form"' not in client.get(
        "/events/webinar-singapore").get_data(as_text=True)
    response = _register(client, email="late@example.org")
    assert response.status_code == 409
    assert "The event is full: its 1 seat is taken." in response.get_data(as_text=True)
    before = _counts(db)
    for response in (client.get(path), _post(client, path)):
        assert response.status_code == 409
        assert "The event is full" in response.get_data(as_text=True)
    assert _counts(db) == before and _user(db) is None
    # The link was not used up: once a seat frees, it still works.
    webinar.capacity = 2
    db.session.commit()
    assert _post(client, path).status_code == 302 and _user(db) is not None


@pytest.mark.parametrize(("change", "message"), [
    ({"status": EventStatus.CANCELLED}, "This event has been cancelled."),
    ({"status": EventStatus.CLOSED}, "Registration for this event has closed."),
])
def test_a_closed_or_withdrawn_webinar_is_refused_at_the_form_and_at_the_link(
    client, db, webinar, mailbox, change, message
):
    path = _confirmation_link(client, mailbox)
    for name, value in change.items():
        setattr(webinar, name, value)
    db.session.commit()
    before = _counts(db)
    responses = [_register(client, email="late@example.org"), client.get(path),
                 _post(client, path)]
    for response in responses:
        assert response.status_code == 409
        assert message in response.get_data(as_text=True)
    assert _counts(db) == before


def test_a_webinar_that_reviews_applications_is_not_open_to_quick_registration(
    client, db, make, webinar
):
    webinar.requires_approval = True
    db.session.commit()
    assert not quick_registration.offered(webinar)
    page = client.get("/events/webinar-singapore").get_data(as_text=True)
    assert 'data-testid="quick-form"' not in page and 'data-testid="apply"' in page
    response = client.get("/events/webinar-singapore/register")
    assert "takes applications from members" in response.get_data(as_text=True)
    assert _register(client).status_code == 409


def test_missions_are_never_open_to_quick_registration(make, db):
    mission = make.event(requires_approval=False)
    assert not quick_registration.offered(mission)


def test_signed_in_members_keep_the_normal_application(client, db, make, webinar, login_as):
    login_as(make.user(password=PASSWORD))
    page = client.get("/events/webinar-singapore").get_data(as_text=True)
    assert 'data-testid="quick-form"' not in page and 'data-testid="apply"' in page
    response = client.get("/events/webinar-singapore/register")
    assert response.headers["Location"] == "/events/webinar-singapore/apply"

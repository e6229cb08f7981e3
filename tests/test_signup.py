"""Signing up: the account, its organization (new or joined), the consent, the timezone,
and confirming the email address through a link that arrives by real SMTP."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp.inputs.accounts import SignupIn
from webapp.models import (
    AuditEntry,
    Helix,
    MembershipRequest,
    MembershipStatus,
    Organization,
    OrganizationSize,
    OutboxMessage,
    User,
    utcnow,
)
from webapp.services import accounts, organizations
from webapp.services.fields import Refused

NEW_PASSWORD = "tram lines over the harbour"


@pytest.fixture
def cluster(make, db):
    cluster = make.partner(name="Smart City Cluster Gdańsk")
    db.session.commit()
    return cluster


def _form(client, **overrides) -> dict:
    data = {
        "name": "Lena Kowalska",
        "email": "lena@kowalska.example",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "timezone": "Europe/Warsaw",
        "organization_mode": "new",
        "organization_name": "Kowalska Mobility",
        "country": "PL",
        "sector": "mobility",
        "size": "micro",
        "helix": "industry",
        "website": "https://kowalska.example",
        "profile": "Bike-sharing docks that report their own faults.",
        "home_cluster": "",
        "privacy": "y",
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _sign_up(client, **overrides):
    return client.post("/signup", data=_form(client, **overrides))


def _counts(db) -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Organization, OutboxMessage, MembershipRequest)
    }


def _user(db, email="lena@kowalska.example") -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def link_path(mailbox, address: str, prefix: str) -> str:
    """The path of the one link starting with `prefix` in the mail `address` received."""
    [message] = mailbox.to(address)
    urls = re.findall(r"https?://\S+", mailbox.text(message))
    [path] = [urlsplit(u).path for u in urls if urlsplit(u).path.startswith(prefix)]
    return path


def _post_link(client, path):
    return client.post(path, data={"csrf_token": csrf_token(client, "/login")})


def test_sign_up_with_a_new_organization_and_confirm_by_the_mailed_link(
    client, db, cluster, mailbox
):
    response = _sign_up(client, home_cluster=str(cluster.id))
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-inbox?reason=signup"
    assert "Check your inbox" in client.get(response.headers["Location"]).get_data(as_text=True)

    user = _user(db)
    assert user.name == "Lena Kowalska" and not user.is_verified
    assert user.timezone == "Europe/Warsaw"
    assert user.privacy_version == "2026-11" and user.privacy_accepted_at is not None
    organization = user.organization
    assert (organization.name, organization.country, organization.size, organization.helix) == (
        "Kowalska Mobility", "PL", OrganizationSize.MICRO, Helix.INDUSTRY)
    assert organization.home_cluster_id == cluster.id
    assert organization.website == "https://kowalska.example"
    assert organization.reviewed_at is None  # waits in the cluster's review inbox

    path = link_path(mailbox, "lena@kowalska.example", "/verify/")
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my address" in page.get_data(as_text=True)
    assert not _user(db).is_verified  # opening the link (as a mail scanner would) is not enough

    response = _post_link(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _user(db).is_verified

    again = _post_link(client, path)
    assert again.status_code == 400
    assert "This link has already been used." in again.get_data(as_text=True)


def test_new_account_can_sign_in_unverified_and_is_asked_to_confirm(client, db, mailbox):
    _sign_up(client)
    response = client.post("/login", data={
        "email": "lena@kowalska.example", "password": NEW_PASSWORD,
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="verify-banner"' in page and "Resend the link" in page

    response = client.post("/resend-verification", data={
        "csrf_token": csrf_token(client, "/"), "next": "/events"})
    assert response.status_code == 302 and response.headers["Location"] == "/events"
    links = [link for link in mailbox.to("lena@kowalska.example")]
    assert len(links) == 2  # the sign-up's and the new one
    assert "We sent a new confirmation link" in client.get("/events").get_data(as_text=True)


def test_verified_account_sees_no_banner(client, make, db, login_as):
    user = make.user()
    db.session.commit()
    login_as(user)
    assert 'data-testid="verify-banner"' not in client.get("/").get_data(as_text=True)


def test_expired_verification_link_is_refused_with_a_clear_message(client, db, mailbox):
    _sign_up(client)
    path = link_path(mailbox, "lena@kowalska.example", "/verify/")
    with freeze_time(utcnow() + timedelta(hours=49)):
        page = client.get(path)
        assert page.status_code == 400
        assert "This link has expired" in page.get_data(as_text=True)
        response = _post_link(client, path)
        assert response.status_code == 400
    assert not _user(db).is_verified


def test_tampered_verification_link_is_refused(client, db, mailbox):
    _sign_up(client)
    path = link_path(mailbox, "lena@kowalska.example", "/verify/")
    token = path.removeprefix("/verify/")
    tampered = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]
    for response in (client.get(f"/verify/{tampered}"), _post_link(client, f"/verify/{tampered}")):
        assert response.status_code == 400
        assert "This link is not valid" in response.get_data(as_text=True)
    assert not _user(db).is_verified


def test_a_link_for_an_address_the_account_no_longer_has_is_refused(client, db, mailbox):
    _sign_up(client)
    path = link_path(mailbox, "lena@kowalska.example", "/verify/")
    _user(db).email = "lena@elsewhere.example"
    db.session.commit()
    response = _post_link(client, path)
    assert response.status_code == 400
    assert _user(db, "lena@elsewhere.example").email_verified_at is None


def test_sign_up_joining_an_existing_organization_only_asks_to_join(client, db, make, mailbox):
    company = make.organization(name="Trams of Tomorrow")
    db.session.commit()
    response = _sign_up(client, organization_mode="join", join_organization="trams of tomorrow",
                        organization_name="", country="", size="")
    assert response.status_code == 302
    user = _user(db)
    assert user.organization_id is None
    [request] = db.session.scalars(select(MembershipRequest)).all()
    assert (request.user_id, request.organization_id, request.status) == (
        user.id, company.id, MembershipStatus.PENDING)
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 1


def test_sign_up_with_a_taken_address_looks_the_same_and_tells_the_owner(
    client, db, make, mailbox
):
    owner = make.user(email="lena@kowalska.example", name="Lena the First")
    db.session.commit()
    before = _counts(db)
    taken = _sign_up(client, email="Lena@Kowalska.example", organization_name="Copycat Ltd")
    fresh = _sign_up(client, email="someone.new@example.org", organization_name="Fresh Ltd")
    assert (taken.status_code, taken.headers["Location"]) == (
        fresh.status_code, fresh.headers["Location"])

    after = _counts(db)
    assert after["User"] == before["User"] + 1  # only the fresh address
    assert after["Organization"] == before["Organization"] + 1
    assert db.session.scalar(select(Organization).where(Organization.name == "Copycat Ltd")) is None
    assert _user(db).name == "Lena the First" and _user(db).password_hash == owner.password_hash

    [notice] = mailbox.to("lena@kowalska.example")
    assert notice["Subject"] == "Someone tried to sign up with your address"
    text = mailbox.text(notice)
    assert "/reset" in text and "/login" in text and "/verify/" not in text
    assert len(mailbox.to("someone.new@example.org")) == 1


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<div id="{field}-error" class="invalid-feedback[^"]*">([^<]*)</div>', page)
    assert match, f"no message beside {field}"
    return match.group(1)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"password": "short one", "confirm": "short one"}, "password", "at least 10 characters"),
    ({"password": "QwertyUiop", "confirm": "QwertyUiop"}, "password", "most common"),
    ({"confirm": "something else entirely"}, "confirm", "The two passwords differ."),
    ({"email": "lena-at-kowalska"}, "email", "Invalid email address."),
    ({"email": ""}, "email", "This field is required."),
    ({"name": ""}, "name", "This field is required."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a timezone we know"),
    ({"website": "javascript:alert(1)"}, "website", "http:// or https://"),
    ({"website": "ftp://kowalska.example"}, "website", "http:// or https://"),
    ({"privacy": None}, "privacy", "Please accept the privacy notice"),
    ({"organization_name": ""}, "organization_name", "This field is required."),
    ({"country": "XX"}, "country", "Choose a country from the list."),
    ({"country": "EU"}, "country", "Choose a country from the list."),
    ({"country": ""}, "country", "Choose a country from the list."),
    ({"size": "huge"}, "size", "Choose one of: &#39;micro&#39;, &#39;small&#39;"),
    ({"size": ""}, "size", "This field is required."),
    ({"home_cluster": "999999"}, "home_cluster", "Not a valid choice"),
    ({"organization_mode": "join", "join_organization": ""}, "join_organization",
     "This field is required."),
], ids=lambda v: str(v)[:40] if not isinstance(v, dict) else "-".join(v))
def test_bad_sign_up_input_gets_a_message_beside_the_field_and_writes_nothing(
    client, db, cluster, mailbox, overrides, field, message
):
    before = _counts(db)
    response = _sign_up(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in _field_error(page, field)
    assert 'id="error-summary"' in page
    assert _counts(db) == before
    assert mailbox.messages == []


def test_the_service_refuses_an_organization_or_cluster_that_is_not_offered(db, make):
    """The page offers the partnership's clusters and finds registered organizations by
    their whole name; the service holds any other caller to the same."""
    outsider = make.partner(name="Fellow Cluster Austin", is_member=False)
    db.session.commit()
    signup = {"name": "Lena Kowalska", "email": "lena@kowalska.example",
              "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
              "organization_name": "Kowalska Mobility", "country": "PL", "size": "micro",
              "privacy": True}
    for changes, field, message in [
        ({"home_cluster": outsider.id}, "home_cluster", "Choose a cluster from the list."),
        ({"organization_mode": "join", "join_organization": "Nobody Registered Ltd"},
         "join_organization", organizations.NOT_FOUND_TO_JOIN),
    ]:
        with pytest.raises(Refused) as refused:
            accounts.sign_up(SignupIn.from_values(**signup, **changes), "not-a-hash",
                             privacy_version="2026-11")
        assert refused.value.errors == {field: message}
        db.session.rollback()
    assert _counts(db)["User"] == 0


def test_missing_timezone_is_left_to_the_browser(client, db, mailbox):
    # No script filled it: the zone stays unknown until the first page after sign-in
    # reports the browser's.
    _sign_up(client, timezone="")
    assert _user(db).timezone is None


def test_sign_up_page_offers_member_clusters_and_real_countries_only(client, make, db):
    member = make.partner(name="Member Cluster Aarhus")
    outsider = make.partner(name="Fellow Cluster Austin", is_member=False)
    beachhead = make.beachhead(name="Beachhead Singapore")
    db.session.commit()
    page = client.get("/signup").get_data(as_text=True)
    assert f'<option value="{member.id}">Member Cluster Aarhus</option>' in page
    assert outsider.name not in page and beachhead.name not in page
    assert '<option value="PL">Poland</option>' in page
    assert 'value="ZZ"' not in page and 'value="EU"' not in page
    assert 'src="/static/js/timezone.js?v=' in page and "<script>" not in page


def test_signed_in_user_is_sent_home_from_sign_up(client, make, db, login_as):
    login_as(make.user())
    assert client.get("/signup").headers["Location"] == "/"


def test_sign_up_is_audited_with_the_accepted_privacy_version(client, db, mailbox):
    _sign_up(client)
    user = _user(db)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.signed_up"))
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("user", user.id, user.id)
    assert entry.details["changes"]["privacy_version"] == [None, "2026-11"]


def test_privacy_notice_shows_its_version(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Privacy notice" in page and app.config["PRIVACY_VERSION"] in page


@pytest.mark.parametrize("password", ["password", "Password1234", "QWERTYUIOP", "1q2w3e4r5t"])
def test_common_passwords_are_refused_whatever_their_case(app, password):
    with pytest.raises(accounts.WeakPassword):
        accounts.validate_password(password)


def test_a_long_uncommon_password_is_accepted(app):
    accounts.validate_password(NEW_PASSWORD)
    accounts.validate_password(PASSWORD)

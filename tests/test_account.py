"""A member's registrations: the list, one application's history, withdrawing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from webapp.models import AuditEntry
from webapp.models import RegistrationStatus as S


@pytest.fixture
def cluster(make):
    return make.partner(short_name="DSC")


@pytest.fixture
def member(make, cluster):
    company = make.organization(cluster, name="Aalborg Sensorik ApS")
    return make.user(company, name="Søren Østergaard")


@pytest.fixture
def application(make, cluster, member):
    event = make.event(title="Smart City Summit Singapore", organizers=[cluster])
    return make.registration(event, member, S.SUBMITTED)


def test_my_registrations_lists_each_application_with_its_status(
    client, make, member, application, login_as
):
    other_event = make.event(title="Meet the Boston beachhead")
    make.registration(other_event, member, S.SUBMITTED, S.WAITLISTED)
    someone_else = make.user(make.organization(None))
    make.registration(make.event(title="Not mine"), someone_else)
    login_as(member)
    page = client.get("/account/registrations").get_data(as_text=True)
    assert "Smart City Summit Singapore" in page and "Meet the Boston beachhead" in page
    assert 'data-status="submitted"' in page and 'data-status="waitlisted"' in page
    assert "Not mine" not in page
    assert "Søren Østergaard" in page and "Aalborg Sensorik ApS" in page


def test_member_withdraws_and_the_history_shows_it(client, member, application, login_as, db):
    login_as(member)
    url = f"/account/registrations/{application.id}"
    response = confirm(client, f"{url}/withdraw", reason="Our CTO cannot travel in July")
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Your application has been withdrawn" in page
    assert 'data-status="withdrawn"' in page and "Our CTO cannot travel in July" in page
    db.session.refresh(application)
    assert application.status == S.WITHDRAWN


def test_withdrawing_twice_explains_instead_of_failing(client, member, application, login_as):
    login_as(member)
    url = f"/account/registrations/{application.id}"
    # Two tabs showed the confirmation: the second is confirmed after the first.
    first, second = client.get(f"{url}/withdraw"), client.get(f"{url}/withdraw")
    confirm(client, first)
    response = confirm(client, second)
    assert response.status_code == 302
    response = client.get(response.headers["Location"])
    page = response.get_data(as_text=True)
    assert "This registration is withdrawn and cannot become withdrawn." in page


def test_oversized_reason_is_refused_beside_the_field_and_nothing_changes(
    client, member, application, login_as, db
):
    login_as(member)
    url = f"/account/registrations/{application.id}"
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = confirm(client, f"{url}/withdraw", reason="x" * 1001)
    assert response.status_code == 400
    assert "Enter at most 1000 characters." in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == S.SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_withdraw_without_csrf_token_changes_nothing(client, member, application, login_as, db):
    login_as(member)
    response = client.post(f"/account/registrations/{application.id}/withdraw")
    assert response.status_code == 400
    db.session.refresh(application)
    assert application.status == S.SUBMITTED


def test_decided_application_offers_withdrawal_only_while_allowed(
    client, make, member, login_as, cluster
):
    rejected = make.registration(make.event(organizers=[cluster]), member, S.SUBMITTED, S.REJECTED)
    login_as(member)
    page = client.get(f"/account/registrations/{rejected.id}").get_data(as_text=True)
    assert "Withdraw my application" not in page


def test_request_larger_than_the_limit_gets_a_friendly_413(client, member, application, login_as):
    login_as(member)
    response = client.post(f"/account/registrations/{application.id}/withdraw",
                           data={"reason": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


# ---------------------------------------------------------------- profile

# timezone "": as the browser says (the account's zone is not known yet).
PROFILE = dict(name="Søren Østergaard", phone="", timezone="", locale="")


def save_profile(client, **changes):
    return client.post("/account/profile", data={
        **PROFILE, **changes, "csrf_token": csrf_token(client, "/account/profile")})


def test_profile_shows_the_current_values_and_a_timezone_list(client, member, login_as):
    page = login_as(member).get("/account/profile").get_data(as_text=True)
    assert 'value="Søren Østergaard"' in page
    assert '<optgroup label="Europe">' in page
    assert '<option value="Europe/Copenhagen">Copenhagen</option>' in page
    # No zone yet: nothing chosen, so the first choice, "as my browser says", shows.
    assert '<option value="">As my browser says</option>' in page
    assert " selected" not in page.split('id="timezone"')[1].split("</select>")[0]
    assert "Download my data" in page and "Delete my account" in page


def test_saving_the_profile_changes_it_and_the_audit_says_what_changed(
    client, member, login_as, db
):
    login_as(member)
    response = save_profile(client, phone="+45 20 12 34 56", timezone="Europe/Copenhagen")
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.phone, member.timezone, member.name) == (
        "+45 20 12 34 56", "Europe/Copenhagen", "Søren Østergaard")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "account.updated")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (member.id, "user", member.id)
    assert entry.details["changes"] == {"phone": ["", "+45 20 12 34 56"],
                                        "timezone": [None, "Europe/Copenhagen"]}


def test_a_chosen_zone_is_selected_and_can_go_back_to_the_browsers(
    client, member, login_as, db
):
    member.timezone = "Europe/Copenhagen"
    db.session.commit()
    page = login_as(member).get("/account/profile").get_data(as_text=True)
    assert ('<option selected value="Europe/Copenhagen">' in page
            or '<option value="Europe/Copenhagen" selected>' in page)
    assert save_profile(client, timezone="").status_code == 302
    db.session.refresh(member)
    assert member.timezone is None


def test_the_history_is_shown_in_the_chosen_timezone(client, member, application, login_as, db):
    login_as(member)
    save_profile(client, timezone="Asia/Singapore")
    page = client.get(f"/account/registrations/{application.id}").get_data(as_text=True)
    history = page.split('aria-label="History"')[1]
    assert "(Singapore Standard Time)</time>" in history and "(UTC)" not in history


@pytest.mark.parametrize(("field", "value", "message"), [
    ("timezone", "Mars/Olympus_Mons", "This is not a timezone we know."),
    ("timezone", "../../etc/passwd", "This is not a timezone we know."),
    ("locale", "de", "Choose a language from the list."),
    ("phone", "call me maybe", "Enter digits"),
    ("name", " ", "This field is required."),
    ("name", "x", "Enter at least 2 characters."),
    ("name", "x" * 201, "Enter at most 200 characters."),
])
def test_bad_profile_input_is_refused_beside_the_field_and_nothing_is_written(
    client, member, login_as, db, field, value, message
):
    login_as(member)
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = save_profile(client, **{field: value, "phone": "+45 11 22 33 44"}
                            if field != "phone" else {field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    db.session.refresh(member)
    assert (member.name, member.phone, member.timezone, member.locale) == (
        "Søren Østergaard", "", None, None)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_profile_without_csrf_token_changes_nothing(client, member, login_as, db):
    login_as(member)
    response = client.post("/account/profile", data={**PROFILE, "name": "Mallory"})
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.name == "Søren Østergaard"


def test_saving_an_unchanged_profile_writes_no_audit_entry(client, member, login_as, db):
    login_as(member)
    response = save_profile(client)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account.updated")) == 0

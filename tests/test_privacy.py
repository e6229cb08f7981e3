"""A person's data: downloading a copy of it, and deleting the account."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, func, select

from tests.confirming import confirm
from tests.factories import PASSWORD
from webapp.extensions import db as _db
from webapp.models import (
    AuditEntry,
    MembershipRequest,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RoleGrant,
    ThrottleHit,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import accounts, audit, organizations, privacy, registrations

NAME, EMAIL, PHONE = "Søren Østergaard", "soren.ostergaard@sensorik.example", "+45 20 12 34 56"
OTHERS = ("Mette Manager", "mette@dsc.example", "Olga Otherperson", "olga@other.example",
          "Paul Prospect", "paul@prospect.example")


@pytest.fixture
def scene(app, make, db):
    """Søren, his company, his manager, and Olga who goes to the same events."""
    cluster = make.partner(short_name="DSC")
    company = make.organization(cluster, name="Aalborg Sensorik ApS")
    soren = make.user(company, name=NAME, email=EMAIL, phone=PHONE,
                      privacy_version="2026-11", privacy_accepted_at=utcnow())
    manager = make.manager(cluster, name="Mette Manager", email="mette@dsc.example")
    olga = make.user(company, name="Olga Otherperson", email="olga@other.example")
    past = make.event(title="Boston Smart City Week", organizers=[cluster],
                      starts_in=-timedelta(days=40))
    upcoming = make.event(title="Singapore International Water Week", organizers=[cluster])
    later = make.event(title="Barcelona Smart City Expo", organizers=[cluster])
    regs = {
        "past": make.registration(past, soren, S.SUBMITTED),
        "upcoming": make.registration(upcoming, soren, S.SUBMITTED),
        "later": make.registration(later, soren, S.SUBMITTED),
    }
    for event in (past, upcoming):
        make.registration(event, olga, S.SUBMITTED, S.APPROVED, actor=manager)
    db.session.commit()
    registrations.decide(regs["past"].id, "approve", actor=manager,
                         reason=f"{NAME} fits the delegation well")
    registrations.withdraw(regs["later"].id, actor=soren, reason="Our CTO cannot travel")

    # Søren asks to join a second company; Paul asks to join Søren's, and Søren refuses.
    with app.test_request_context():
        elsewhere = make.organization(cluster, name="Nordic Water Tech")
        organizations.request_membership(soren, elsewhere, f"Hi, this is {NAME}, {PHONE}")
        paul = make.user(None, name="Paul Prospect", email="paul@prospect.example")
        request = organizations.request_membership(paul, company, f"{NAME} sent me")
        db.session.commit()
        organizations.decide_membership(soren, request, accept=False)
    # Søren changed his phone number once (the audit keeps the old one).
    audit.record(soren, "account.updated", soren, changes={"phone": ["+45 99 99 99 99", PHONE]})
    # Mail: one to Søren (sent), one still pending, one to the manager naming him.
    db.session.add_all([
        OutboxMessage(user=soren, to_address=EMAIL, subject=f"Welcome, {NAME}",
                      body_text=f"Hello {NAME}, your account is ready.",
                      status=OutboxStatus.SENT, sent_at=utcnow()),
        OutboxMessage(user=soren, to_address=EMAIL, subject="Reminder",
                      body_text="Your mission starts soon."),
        OutboxMessage(user=manager, to_address=manager.email, subject=f"New applicant {NAME}",
                      body_text=f"{NAME} ({EMAIL}, {PHONE}) applied.", status=OutboxStatus.SENT),
        ThrottleHit(key=f"login:account:{EMAIL}"),
        ThrottleHit(key="login:ip:203.0.113.9"),
    ])
    db.session.commit()
    return dict(soren=soren, manager=manager, olga=olga, company=company, regs=regs,
                events=(past, upcoming, later))


# ---------------------------------------------------------------- export


def download(client, login_as, user):
    response = login_as(user).get("/account/data")
    assert response.status_code == 200
    return response


def test_download_is_a_dated_json_attachment(client, login_as, scene):
    response = download(client, login_as, scene["soren"])
    assert response.mimetype == "application/json"
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="beachhead-data-{today}.json"')
    assert "no-store" in response.headers["Cache-Control"]


def test_download_holds_everything_about_the_person(client, login_as, scene):
    data = download(client, login_as, scene["soren"]).get_json()
    assert data["account"]["name"] == NAME and data["account"]["email"] == EMAIL
    assert data["account"]["phone"] == PHONE
    assert data["consents"] == [{"document": "privacy notice", "version": "2026-11",
                                 "accepted_at": scene["soren"].privacy_accepted_at.isoformat()}]
    assert data["organization"]["name"] == "Aalborg Sensorik ApS"
    by_event = {r["event"]["title"]: r for r in data["registrations"]}
    assert set(by_event) == {"Boston Smart City Week", "Singapore International Water Week",
                             "Barcelona Smart City Expo"}
    boston = by_event["Boston Smart City Week"]
    assert boston["status"] == "approved"
    assert [(h["to_status"], h["by"]) for h in boston["history"]] == [
        ("submitted", "you"), ("approved", "someone else")]
    withdrawn = by_event["Barcelona Smart City Expo"]["history"][-1]
    assert withdrawn["reason"] == "Our CTO cannot travel" and withdrawn["by"] == "you"
    [request] = data["membership_requests"]
    assert request["organization"] == "Nordic Water Tech" and request["status"] == "pending"
    subjects = {m["subject"] for m in data["messages"]}
    assert {f"Welcome, {NAME}", "Reminder"} <= subjects
    actions = [a["action"] for a in data["activity"]]
    for action in ("registration.applied", "registration.withdrawn", "membership.requested",
                   "membership.refused", "account.updated"):
        assert action in actions
    assert any(h["details"]["changes"]["phone"] for h in data["account_history"])


def test_download_tells_nothing_about_anyone_else(client, login_as, scene, db):
    response = download(client, login_as, scene["soren"])
    text = response.get_data(as_text=True)
    for other in OTHERS:
        assert other.lower() not in text.lower(), other
    assert scene["soren"].password_hash not in text and "password" not in text
    # The refusal Søren wrote is listed by its shape only: it is about Paul.
    refusal = next(a for a in response.get_json()["activity"]
                   if a["action"] == "membership.refused")
    assert "details" not in refusal and "reason" not in refusal


def test_another_persons_download_holds_nothing_of_sorens(client, login_as, scene):
    text = download(client, login_as, scene["olga"]).get_data(as_text=True)
    for needle in (NAME, EMAIL, PHONE):
        assert needle not in text


# ---------------------------------------------------------------- erasure


def registration_counts(db) -> Counter:
    return Counter(db.session.execute(select(Registration.event_id, Registration.status)).all())


def text_columns():
    for table in _db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                yield table, column


def where_found(db, needles) -> list[str]:
    found = []
    for table, column in text_columns():
        for (value,) in db.session.execute(select(column).select_from(table)):
            if value is None:
                continue
            text = json.dumps(value, ensure_ascii=False) if isinstance(column.type, JSON) \
                else str(value)
            found += [f"{table.name}.{column.name}: {needle}"
                      for needle in needles if needle.lower() in text.lower()]
    return found


def delete_account(client, password=PASSWORD):
    """Confirmed on the page that says what deleting does, with the password."""
    return confirm(client, "/account/delete", password=password)


def test_the_scan_finds_the_person_before_erasure(db, scene):
    # Proves the check below looks where the data really is.
    found = where_found(db, (NAME, EMAIL, PHONE))
    for place in ("users.name", "users.email", "users.phone", "outbox_messages.body_text",
                  "audit_entries.reason", "audit_entries.details", "throttle_hits.key",
                  "membership_requests.message"):
        assert any(f.startswith(place) for f in found), place


def test_deleting_the_account_leaves_no_trace_of_name_email_or_phone(
    client, login_as, db, scene
):
    soren = scene["soren"]
    before = registration_counts(db)
    login_as(soren)
    response = delete_account(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"

    db.session.expire_all()
    assert where_found(db, (NAME, EMAIL, PHONE)) == []

    # Statistics hold: the same rows per event and status, except the upcoming application,
    # withdrawn so its seat is free.
    upcoming = scene["events"][1]
    expected = before.copy()
    expected[(upcoming.id, S.SUBMITTED)] -= 1
    expected[(upcoming.id, S.WITHDRAWN)] += 1
    assert registration_counts(db) == +expected
    withdrawal = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == scene["regs"]["upcoming"].id,
        AuditEntry.to_status == "withdrawn")).one()
    assert withdrawal.actor_id == soren.id

    user = db.session.get(User, soren.id)
    assert user.name == "Deleted user" and user.email == f"deleted-{soren.id}@invalid.invalid"
    assert user.phone == "" and user.password_hash is None and not user.active
    assert user.erased_at is not None and user.organization_id == scene["company"].id
    # His own words on his registrations go; the audit trail still points at the row.
    later_history = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == scene["regs"]["later"].id)).all()
    assert [e.reason for e in later_history if e.actor_id == soren.id] == ["", ""]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account.erased", AuditEntry.actor_id == soren.id)) == 1
    # Nobody is asked to accept an account that is gone; Paul's refused request stays.
    assert [r.user_id for r in db.session.scalars(select(MembershipRequest))] == [
        db.session.scalar(select(User.id).where(User.email == "paul@prospect.example"))]
    # Mail nobody can receive any more is not sent; the other IP's throttle hits stay.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.user_id == soren.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) == 1


def test_the_deleted_account_is_signed_out_everywhere_and_cannot_sign_in(
    client, login_as, db, scene, app
):
    soren = scene["soren"]
    old_session_id = soren.get_id()
    login_as(soren)
    delete_account(client)
    assert client.get("/account/profile").status_code == 302
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = old_session_id
    assert other_device.get("/account/profile").status_code == 302
    assert accounts.authenticate(EMAIL, PASSWORD) is None


def test_a_wrong_password_deletes_nothing(client, login_as, db, scene):
    login_as(scene["soren"])
    response = delete_account(client, password="not my password")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page and "The password is not right." in page
    db.session.expire_all()
    user = db.session.get(User, scene["soren"].id)
    assert user.erased_at is None and user.email == EMAIL
    assert db.session.get(Registration, scene["regs"]["upcoming"].id).status == S.SUBMITTED


def test_deleting_without_csrf_token_is_refused(client, login_as, db, scene):
    login_as(scene["soren"])
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 400
    assert db.session.get(User, scene["soren"].id).erased_at is None


def test_the_last_admin_cannot_delete_their_account(client, login_as, db, make):
    admin = make.admin(name="Ada Admin")
    login_as(admin)
    response = delete_account(client)
    assert response.status_code == 400
    assert "only administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).erased_at is None


def test_an_admin_with_a_colleague_may_leave_and_loses_the_grant(client, login_as, db, make):
    leaving = make.admin()
    make.admin()
    login_as(leaving)
    assert delete_account(client).status_code == 302
    assert db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == leaving.id)) is None


def test_the_confirmation_page_explains_and_asks_for_the_password(client, login_as, scene):
    page = login_as(scene["soren"]).get("/account/delete").get_data(as_text=True)
    assert "cannot be undone" in page and 'type="password"' in page


def test_erasing_twice_is_refused(db, scene):
    privacy.erase(scene["soren"])
    with pytest.raises(privacy.ErasureRefused):
        privacy.erase(scene["soren"])


def test_download_holds_the_roles_consents_and_messages_of_each_registration(db, make):
    from webapp.models import EventRole
    from webapp.services import messages

    cluster = make.partner()
    event = make.event(organizers=[cluster])
    organizer = make.manager(cluster, name="Organizer Person")
    member = make.user(make.organization(cluster))
    make.registration(event, member, S.SUBMITTED, S.APPROVED, actor=organizer)
    db.session.commit()
    messages.send(organizer, event, partner_id=None, subject="Visa letters",
                  body="Send us your passport details by Friday.")
    [reg] = privacy.export(member)["registrations"]
    assert reg["role"] == EventRole.DELEGATE.value
    assert set(reg["consents"]) == {"company_profile_to_hosts", "contact_details_to_hosts"}
    [message] = reg["messages_received"]
    assert message["subject"] == "Visa letters"
    assert "Organizer Person" not in json.dumps(reg)

"""The mail of a registration's transitions (webapp/services/registration_mail.py),
received by a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from webapp.models import (
    AlertFrequency,
    EventKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import notifications, registration_mail, registrations
from webapp.services.errors import NoSeat

BASE = "http://127.0.0.1:5000"


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Cluster Gent")


@pytest.fixture
def organizer(make):
    return make.partner(name="Organizing Cluster")


@pytest.fixture
def mission(make, cluster, organizer):
    return make.event(organizers=[organizer], registration_opens_at=None, title="Singapore 2027",
                      venue="Marina Bay")


@pytest.fixture
def webinar(make, organizer):
    """An instant-confirm webinar with one seat."""
    return make.event(organizers=[organizer], registration_opens_at=None, title="Smart lighting",
                      kind=EventKind.WEBINAR, requires_approval=False, capacity=1,
                      timezone="Europe/Brussels")


@pytest.fixture
def member(make, cluster):
    return make.user(make.organization(cluster, name="Sensorly"), email="sme@example.org",
                     name="Sofie Sme", timezone="Europe/Copenhagen")


@pytest.fixture
def manager(make, cluster):
    return make.manager(cluster, email="manager@example.org", name="Mia Manager")


def _fresh_outbox(db):
    """Forget the mail the factories' set-up queued: each test watches its own."""
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def _registration_link(reg) -> str:
    return f"{BASE}/account/registrations/{reg.id}"


def _one_mail(mailbox, address):
    notifications.send_due()
    [message] = mailbox.to(address)
    return message


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_application_to_a_mission_is_acknowledged_with_a_link(db, mailbox, mission, member):
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True)
    message = _one_mail(mailbox, "sme@example.org")
    assert message["Subject"] == "Application received: Singapore 2027"
    text = mailbox.text(message)
    assert _registration_link(reg) in text
    assert f"{BASE}/events/{mission.slug}" in text
    assert f'href="{_registration_link(reg)}"' in _html(message)


def test_times_are_shown_in_the_event_zone_and_the_recipients(db, mailbox, mission, member):
    db.session.commit()
    registrations.apply(member, mission.id, profile_consent=True)
    text = mailbox.text(_one_mail(mailbox, "sme@example.org"))
    assert "(Singapore, UTC+8)" in text
    assert "(Copenhagen, UTC+" in text


def test_instant_event_confirms_the_first_and_waitlists_the_next(db, mailbox, make, webinar,
                                                                 member):
    other = make.user(make.organization(), email="next@example.org")
    db.session.commit()
    first = registrations.apply(member, webinar.id)
    second = registrations.apply(other, webinar.id)
    assert (first.status, second.status) == (S.APPROVED, S.WAITLISTED)
    notifications.send_due()
    [confirmed] = mailbox.to("sme@example.org")
    assert confirmed["Subject"] == "You're registered: Smart lighting"
    assert _registration_link(first) in mailbox.text(confirmed)
    [waiting] = mailbox.to("next@example.org")
    assert waiting["Subject"] == "You're on the waiting list: Smart lighting"
    assert "All seats of Smart lighting are taken" in mailbox.text(waiting)
    assert _registration_link(second) in mailbox.text(waiting)


@pytest.mark.parametrize(("decision", "subject", "says"), [
    ("approve", "Your application is approved: Singapore 2027", "is approved"),
    ("reject", "Your application was not accepted: Singapore 2027", "Our quota is used up."),
    ("waitlist", "You're on the waiting list: Singapore 2027",
     "have put your application for Singapore 2027 on the waiting list"),
])
def test_each_decision_is_mailed_to_the_applicant(db, mailbox, make, mission, member, manager,
                                                  decision, subject, says):
    reg = make.registration(mission, member)
    _fresh_outbox(db)
    registrations.decide(reg.id, decision, actor=manager, reason="Our quota is used up.")
    message = _one_mail(mailbox, "sme@example.org")
    assert message["Subject"] == subject
    assert says in mailbox.text(message)
    assert _registration_link(reg) in mailbox.text(message)


def test_the_first_on_the_waiting_list_is_told_of_the_promotion(db, mailbox, make, webinar,
                                                                member):
    waiting = make.user(make.organization(), email="waiting@example.org")
    db.session.commit()
    seated = registrations.apply(member, webinar.id)
    promoted = registrations.apply(waiting, webinar.id)
    _fresh_outbox(db)
    registrations.withdraw(seated.id, actor=member)
    db.session.commit()
    db.session.refresh(promoted)
    assert promoted.status == S.APPROVED
    assert promoted.history[-1].action == registration_mail.PROMOTED
    notifications.send_due()
    [message] = mailbox.to("waiting@example.org")
    assert message["Subject"] == "A seat opened up, you're in: Smart lighting"
    assert "you were next on the waiting list" in mailbox.text(message)
    assert _registration_link(promoted) in mailbox.text(message)
    [confirmation] = mailbox.to("sme@example.org")
    assert confirmation["Subject"] == "You have withdrawn your application: Smart lighting"
    assert _registration_link(seated) in mailbox.text(confirmation)


def test_a_manager_approving_from_the_waiting_list_is_an_approval_not_a_promotion(
    db, mailbox, make, mission, member, manager
):
    reg = make.registration(mission, member, S.SUBMITTED, S.WAITLISTED, actor=manager)
    _fresh_outbox(db)
    registrations.decide(reg.id, "approve", actor=manager)
    assert _one_mail(mailbox, "sme@example.org")["Subject"] == (
        "Your application is approved: Singapore 2027")


def test_cancellation_by_the_organizers_carries_their_reason(db, mailbox, make, mission, member,
                                                            manager):
    reg = make.registration(mission, member, S.SUBMITTED, S.APPROVED, actor=manager)
    _fresh_outbox(db)
    registrations.cancel(reg.id, actor=manager, reason="The visa <deadline> has passed.")
    message = _one_mail(mailbox, "sme@example.org")
    assert message["Subject"] == "Your registration was cancelled: Singapore 2027"
    assert "The visa <deadline> has passed." in mailbox.text(message)
    assert "The visa &lt;deadline&gt; has passed." in _html(message)  # escaped in HTML
    assert _registration_link(reg) in mailbox.text(message)


def test_a_refused_decision_queues_no_mail(db, mailbox, make, mission, member, manager):
    mission.capacity = 0
    reg = make.registration(mission, member)
    _fresh_outbox(db)
    with pytest.raises(NoSeat):
        registrations.decide(reg.id, "approve", actor=manager)
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert notifications.send_due() == 0
    assert mailbox.messages == []


def test_recorded_history_is_not_mailed(db, mailbox, make, mission, member, manager):
    _fresh_outbox(db)
    make.registration(mission, member, S.SUBMITTED, S.APPROVED, actor=manager)  # record_history
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage)).all() == []


# --------------------------------------------------------------------------- the deciders


def test_responsible_partners_manager_is_alerted_at_once(db, mailbox, make, mission, member,
                                                         manager, organizer):
    make.manager(make.partner(), email="elsewhere@example.org")  # another cluster
    make.manager(organizer, email="organizer@example.org")  # the cluster decides, not them
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True)
    notifications.send_due()
    [alert] = mailbox.to("manager@example.org")
    assert alert["Subject"] == "New application to decide: Sofie Sme for Singapore 2027"
    text = mailbox.text(alert)
    assert "Sofie Sme of Sensorly has applied" in text
    assert f"{BASE}/desk/registrations/{reg.id}" in text
    assert mailbox.to("elsewhere@example.org") == []
    assert mailbox.to("organizer@example.org") == []


def test_without_a_home_cluster_the_organizers_managers_are_alerted(db, mailbox, make, mission,
                                                                    organizer, manager):
    visitor = make.user(make.organization(None), email="visitor@example.org", name="Vic Visitor")
    make.manager(organizer, email="organizer@example.org")
    db.session.commit()
    reg = registrations.apply(visitor, mission.id, profile_consent=True)
    assert reg.responsible_partner_id is None
    notifications.send_due()
    [alert] = mailbox.to("organizer@example.org")
    assert "the event's organizers decide" in mailbox.text(alert)
    assert f"{BASE}/desk/registrations/{reg.id}" in mailbox.text(alert)
    assert mailbox.to("manager@example.org") == []


def test_a_manager_who_prefers_the_digest_gets_no_immediate_alert(db, mailbox, mission, member,
                                                                  manager):
    manager.application_alerts = AlertFrequency.DAILY
    db.session.commit()
    registrations.apply(member, mission.id, profile_consent=True)
    notifications.send_due()
    assert mailbox.to("manager@example.org") == []
    assert len(mailbox.to("sme@example.org")) == 1


def test_reapplying_after_withdrawing_is_a_new_application_to_decide(db, mailbox, make, mission,
                                                                    member, manager):
    reg = make.registration(mission, member, S.SUBMITTED, S.WITHDRAWN)
    _fresh_outbox(db)
    registrations.apply(member, mission.id, profile_consent=True)
    notifications.send_due()
    assert [m["Subject"] for m in mailbox.to("sme@example.org")] == [
        "Application received: Singapore 2027"]
    [alert] = mailbox.to("manager@example.org")
    assert f"{BASE}/desk/registrations/{reg.id}" in mailbox.text(alert)


# --------------------------------------------------------------------------- requests


def test_a_withdrawal_stands_when_the_mail_server_is_down(app, db, client, login_as, make,
                                                          mission, member, monkeypatch):
    reg = make.registration(mission, member)
    _fresh_outbox(db)
    monkeypatch.setitem(app.config, "MAIL_PORT", 1)  # nothing listens there
    login_as(member)
    response = confirm(client, f"/account/registrations/{reg.id}/withdraw")
    assert response.status_code == 302
    assert db.session.get(Registration, reg.id, populate_existing=True).status == S.WITHDRAWN
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at > utcnow()


def test_a_request_sends_its_mail_after_the_commit(app, db, client, login_as, make, mission,
                                                   member, mailbox):
    reg = make.registration(mission, member)
    _fresh_outbox(db)
    login_as(member)
    confirm(client, f"/account/registrations/{reg.id}/withdraw")
    [message] = mailbox.to("sme@example.org")
    assert message["Subject"] == "You have withdrawn your application: Singapore 2027"


def test_links_follow_base_url_outside_a_request(app, db, mailbox, mission, member, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://beachhead.example.eu/platform")
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True)
    text = mailbox.text(_one_mail(mailbox, "sme@example.org"))
    assert f"https://beachhead.example.eu/platform/account/registrations/{reg.id}" in text


# --------------------------------------------------------------------------- the profile


def test_a_manager_chooses_the_daily_digest_in_the_profile(db, client, login_as, manager):
    login_as(manager)
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'name="application_alerts"' in page
    token = csrf_token(client, "/account/profile")
    response = client.post("/account/profile", data={
        "csrf_token": token, "name": manager.name, "timezone": "UTC", "locale": "en",
        "application_alerts": "daily",
    })
    assert response.status_code == 302
    db.session.refresh(manager)
    assert manager.application_alerts == AlertFrequency.DAILY
    # The digest starts from now: what came before was alerted one by one.
    assert utcnow() - manager.digest_sent_at < registration_mail.DIGEST_SETTLE + timedelta(
        minutes=1)


def test_a_member_has_no_alert_preference(db, client, login_as, member):
    login_as(member)
    assert 'name="application_alerts"' not in client.get("/account/profile").get_data(
        as_text=True)
    token = csrf_token(client, "/account/profile")
    client.post("/account/profile", data={
        "csrf_token": token, "name": member.name, "timezone": "UTC", "locale": "en",
        "application_alerts": "daily",  # tampered: ignored
    })
    db.session.refresh(member)
    assert member.application_alerts == AlertFrequency.IMMEDIATE

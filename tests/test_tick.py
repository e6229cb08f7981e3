"""`flask tick` and `flask outbox`: what cron runs, and what an operator reads; the
first tick after an outage catches up the reminders still useful."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, select

from tests.webinars import MEETING, STARTS, approved
from webapp.models import (
    AlertFrequency,
    EventKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    ReminderDelivery,
    ReminderSkip,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import notifications, registration_mail, registrations

BASE = "http://127.0.0.1:5000"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


def _tick(app) -> str:
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    return result.output


def _fresh_outbox(db):
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


@pytest.fixture
def cluster(make):
    return make.partner()


@pytest.fixture
def mission(make, cluster):
    return make.event(organizers=[cluster], registration_opens_at=None, title="Boston 2027",
                      capacity=20)


# --------------------------------------------------------------------------- never lost


def test_decisions_stand_while_smtp_is_down_and_tick_sends_each_mail_once(
    app, db, make, mission, cluster, mailbox, monkeypatch
):
    manager = make.manager(cluster)
    applicants = [make.user(make.organization(cluster), email=f"sme{n}@example.org")
                  for n in range(10)]
    regs = [make.registration(mission, user) for user in applicants]
    _fresh_outbox(db)
    mailbox_port = app.config["MAIL_PORT"]
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())

    for reg in regs:
        registrations.decide(reg.id, "approve", actor=manager)
        assert notifications.send_due() == 0  # what the request would try after its commit

    statuses = db.session.scalars(select(Registration.status).where(
        Registration.id.in_([r.id for r in regs]))).all()
    assert statuses == [S.APPROVED] * 10
    pending = db.session.scalars(select(OutboxMessage)).all()
    assert len(pending) == 10
    assert all(m.status == OutboxStatus.PENDING and m.attempts == 1 for m in pending)
    assert all("Error" in m.last_error for m in pending)

    monkeypatch.setitem(app.config, "MAIL_PORT", mailbox_port)  # the server is back
    with freeze_time(utcnow() + notifications.RETRY_DELAYS[0]):
        output = _tick(app)
    assert "10 message(s) sent" in output and "0 pending, 0 failed" in output
    for user, reg in zip(applicants, regs, strict=True):
        [message] = mailbox.to(user.email)
        assert message["Subject"] == "Your application is approved: Boston 2027"
        assert f"{BASE}/account/registrations/{reg.id}" in mailbox.text(message)

    with freeze_time(utcnow() + timedelta(days=1)):
        assert "0 message(s) sent" in _tick(app)
    assert len(mailbox.messages) == 10


def test_tick_retries_and_reports_what_it_gave_up_on(app, db, make, monkeypatch):
    user = make.user(email="far@example.org")
    notifications.queue(user, "Unreachable", "base", body="...")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    later = utcnow()
    for _attempt in range(len(notifications.RETRY_DELAYS) + 1):
        later += timedelta(days=1)
        with freeze_time(later):
            _tick(app)
    with freeze_time(later):
        assert "0 pending, 1 failed" in _tick(app)


def test_the_first_tick_after_a_long_outage_sends_the_reminders_still_useful(
    app, db, make, organizing, organizer, webinar, seat, mailbox
):
    """Cron's tick (no --now) three hours before the Boston webinar, after two days down:
    its 24-hour reminder goes out late, saying 3 hours; the webinar that began 10
    minutes ago gets none, and its reminders are on record as skipped, started."""
    now = STARTS - timedelta(hours=3)
    began = make.event(kind=EventKind.WEBINAR, organizers=[organizing], title="Early bird",
                       starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=1),
                       online_url=MEETING)
    missed = approved(make, began, make.user(email="missed@example.org"), organizer)
    _fresh_outbox(db)
    with freeze_time(now):
        output = _tick(app)
    assert "1 reminder(s) queued (1 late), 2 skipped" in output
    assert [m["Subject"] for m in mailbox.messages] == ["Starts in 3 hours: Meet Boston"]
    assert mailbox.to(seat.user.email)
    reasons = db.session.scalars(select(ReminderDelivery.skip_reason).where(
        ReminderDelivery.registration_id == missed.id)).all()
    assert reasons == [ReminderSkip.STARTED] * 2
    with freeze_time(now + timedelta(minutes=1)):
        assert "0 reminder(s) queued (0 late), 0 skipped" in _tick(app)
    assert len(mailbox.messages) == 1


# --------------------------------------------------------------------------- the listing


def test_outbox_lists_pending_and_failed_messages(app, db, make, monkeypatch):
    user = make.user(email="reader@example.org")
    sent = notifications.queue(user, "Already sent", "base", body="...")
    failing = notifications.queue(user, "Stuck in the outbox", "base", body="...")
    given_up = notifications.queue(user, "Given up", "base", body="...")
    db.session.flush()
    sent.status = OutboxStatus.SENT
    given_up.status = OutboxStatus.FAILED
    given_up.attempts = 6
    given_up.last_error = "SMTPAuthenticationError: (535, b'bad credentials')"
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    notifications.send_due()

    output = app.test_cli_runner().invoke(args=["outbox"]).output
    assert "Already sent" not in output
    lines = output.splitlines()
    row = next(line for line in lines if line.split()[0] == str(failing.id))
    assert "pending" in row and "reader@example.org" in row
    assert row.split()[2] == "1"  # attempts
    assert "Stuck in the outbox" in output and "ConnectionRefusedError" in output
    row = next(line for line in lines if line.split()[0] == str(given_up.id))
    assert "failed" in row and "Given up" in output and "bad credentials" in output


def test_outbox_says_when_it_is_empty(app, db):
    _fresh_outbox(db)
    output = app.test_cli_runner().invoke(args=["outbox"]).output
    assert "The outbox is empty" in output


def test_outbox_send_still_sends(app, db, make, mailbox):
    make.user(email="direct@example.org")
    _fresh_outbox(db)
    notifications.queue("direct@example.org", "Direct", "base", body="...")
    db.session.commit()
    assert "Sent 1 message(s)." in app.test_cli_runner().invoke(args=["outbox", "send"]).output


# --------------------------------------------------------------------------- the digest


@pytest.fixture
def day():
    """08:00 UTC tomorrow: past DIGEST_HOUR (7) for a manager in UTC."""
    tomorrow = (utcnow() + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, tzinfo=utcnow().tzinfo)


@pytest.fixture
def daily_manager(make, cluster):
    return make.manager(cluster, email="daily@example.org", name="Dag Daily",
                        application_alerts=AlertFrequency.DAILY, timezone="UTC")


def _apply(make, mission, cluster, name):
    user = make.user(make.organization(cluster), name=name)
    return registrations.apply(user, mission.id, profile_consent=True)


def test_the_daily_digest_lists_new_applications_once_a_day(app, db, make, mission, cluster,
                                                            daily_manager, mailbox, day):
    with freeze_time(day - timedelta(days=1)):
        registration_mail.start_digests(daily_manager)
        db.session.commit()
    with freeze_time(day - timedelta(hours=20)):  # 12:00 the day before
        first = _apply(make, mission, cluster, "Ada Early")
    with freeze_time(day - timedelta(hours=14)):  # 18:00 the day before
        second = _apply(make, mission, cluster, "Bo Later")
        decided = _apply(make, mission, cluster, "Cy Decided")
        registrations.decide(decided.id, "reject", actor=make.admin())
    assert mailbox.to("daily@example.org") == []  # no immediate alerts for them

    with freeze_time(day - timedelta(hours=12)):  # 20:00: today's digest is done
        assert "0 digest(s) queued" in _tick(app)
    with freeze_time(day - timedelta(hours=2)):  # 06:00 the next day: too early
        assert "0 digest(s) queued" in _tick(app)
    with freeze_time(day):
        assert "1 digest(s) queued" in _tick(app)
        assert "0 digest(s) queued" in _tick(app)  # idempotent
    [digest] = mailbox.to("daily@example.org")
    assert digest["Subject"] == "2 new applications to decide"
    text = mailbox.text(digest)
    assert "Ada Early" in text and "Bo Later" in text and "Cy Decided" not in text
    assert f"{BASE}/desk/registrations/{first.id}" in text
    assert f"{BASE}/desk/registrations/{second.id}" in text

    with freeze_time(day + timedelta(hours=1)):
        third = _apply(make, mission, cluster, "Di Third")
    with freeze_time(day + timedelta(hours=6)):
        assert "0 digest(s) queued" in _tick(app)
    assert len(mailbox.to("daily@example.org")) == 1
    with freeze_time(day + timedelta(days=1)):
        assert "1 digest(s) queued" in _tick(app)
    latest = mailbox.to("daily@example.org")[-1]
    assert latest["Subject"] == "1 new application to decide"
    assert f"{BASE}/desk/registrations/{third.id}" in mailbox.text(latest)
    assert "Ada Early" not in mailbox.text(latest)


def test_a_day_without_applications_sends_no_digest(app, db, daily_manager, mailbox, day):
    with freeze_time(day - timedelta(days=1)):
        registration_mail.start_digests(daily_manager)
        db.session.commit()
    with freeze_time(day):
        _tick(app)
    assert mailbox.to("daily@example.org") == []
    db.session.refresh(daily_manager)
    assert daily_manager.digest_sent_at == day - registration_mail.DIGEST_SETTLE


def test_the_digest_waits_for_the_morning_in_the_managers_zone(db, daily_manager, day):
    daily_manager.timezone = "Asia/Singapore"
    daily_manager.digest_sent_at = day - timedelta(days=2)
    # 23:30 UTC is 07:30 the next morning in Singapore; 22:30 UTC is still 06:30 there.
    assert registration_mail.digest_due(daily_manager, day.replace(hour=23, minute=30))
    assert not registration_mail.digest_due(daily_manager, day.replace(hour=22, minute=30))


def test_applications_made_in_the_settling_margin_wait_for_the_next_digest(
    app, db, make, mission, cluster, daily_manager, mailbox, day
):
    with freeze_time(day - timedelta(days=1)):
        registration_mail.start_digests(daily_manager)
        db.session.commit()
    with freeze_time(day - timedelta(minutes=2)):
        late = _apply(make, mission, cluster, "Lu Late")
    with freeze_time(day):
        assert "1 digest(s) queued" not in _tick(app)
    with freeze_time(day + timedelta(days=1)):
        _tick(app)
    [digest] = mailbox.to("daily@example.org")
    assert f"{BASE}/desk/registrations/{late.id}" in mailbox.text(digest)

"""The outbox: mail is a row of the transaction that caused it, sent after the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from webapp.models import OutboxMessage, OutboxStatus, utcnow
from webapp.services import notifications


@pytest.fixture
def anna(make):
    return make.user(email="anna@example.org", name="Anna Østergaard")


def _queue(anna, text="Your delegation list is ready."):
    # A template every area shares: the base with a body block.
    return notifications.queue(anna, "Beachhead test", "base", body=text)


def _pending(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_rolled_back_transaction_takes_its_mail_with_it(db, anna, mailbox):
    _queue(anna)
    db.session.rollback()
    assert _pending(db) == []
    assert notifications.send_due() == 0
    assert mailbox.messages == []


def test_committed_mail_is_sent_over_smtp_and_marked_sent(db, anna, mailbox):
    message = _queue(anna)
    db.session.commit()
    assert notifications.send_due() == 1
    [received] = mailbox.to("anna@example.org")
    assert received["Subject"] == "Beachhead test"
    assert "Beachhead" in mailbox.text(received)
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert notifications.send_due() == 0  # never twice


def test_smtp_failure_keeps_the_mail_and_retries_with_backoff(db, anna, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", 1)  # nothing listens there
    message = _queue(anna)
    db.session.commit()
    assert notifications.send_due() == 0
    db.session.refresh(message)
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "Error" in message.last_error
    assert message.next_attempt_at > utcnow()
    assert notifications.send_due() == 0  # not due yet
    for attempt in range(len(notifications.RETRY_DELAYS)):
        with freeze_time(utcnow() + timedelta(days=attempt + 1)):
            notifications.send_due()
    db.session.refresh(message)
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == len(notifications.RETRY_DELAYS) + 1


def test_outbox_send_command_delivers_what_is_due(app, db, anna, mailbox):
    _queue(anna)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "Sent 1 message(s)." in result.output
    assert len(mailbox.to("anna@example.org")) == 1

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


def test_one_delivery_sends_its_messages_over_one_smtp_session(db, make, mailbox):
    people = [make.user(email=f"p{i}@example.org") for i in range(4)]
    for person in people:
        _queue(person)
    db.session.commit()

    assert notifications.send_due() == 4
    assert sorted(m["To"] for m in mailbox.messages) == [p.email for p in people]
    assert len(set(mailbox.connections)) == 1


def test_a_refused_recipient_fails_alone_and_the_others_still_go(db, make, mailbox):
    first, refused, last = (make.user(email=e) for e in (
        "first@example.org", mailbox.REFUSED, "last@example.org"))
    messages = [_queue(person) for person in (first, refused, last)]
    db.session.commit()

    assert notifications.send_due() == 2
    assert [m["To"] for m in mailbox.messages] == ["first@example.org", "last@example.org"]
    # The session was dropped with the refusal; the next message opened a new one.
    assert len(set(mailbox.connections)) == 2
    for message in messages:
        db.session.refresh(message)
    assert [m.status for m in messages] == [OutboxStatus.SENT, OutboxStatus.PENDING,
                                            OutboxStatus.SENT]
    assert "550" in messages[1].last_error and messages[1].attempts == 1


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


# --------------------------------------------------------------------------- exactly once


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(db, anna):
    message = _queue(anna)
    db.session.commit()
    assert notifications._claim(message.id) is not None
    assert notifications._claim(message.id) is None  # another sender finds it taken
    assert notifications.send_due() == 0
    with freeze_time(utcnow() + notifications.LEASE + timedelta(seconds=1)):
        # Its sender died before marking it: after the lease someone else may retry it.
        assert notifications._claim(message.id) is not None


@pytest.fixture
def committed_app(tmp_path, database_url, app, mailbox):
    """An app whose sessions commit for real (threads cannot share the test's rolled-back
    connection), sending to the test's mailbox."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db

    url = database_url if database_url.startswith("postgresql") else (
        f"sqlite:///{tmp_path}/outbox.db")
    committed = create_app("testing", SQLALCHEMY_DATABASE_URI=url,
                           MAIL_PORT=app.config["MAIL_PORT"])
    with committed.app_context():
        if url.startswith("sqlite"):
            upgrade()
        yield committed
        db.session.remove()
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
        db.engine.dispose()


def test_concurrent_senders_never_send_a_message_twice(committed_app, mailbox, monkeypatch):
    import threading

    from webapp.extensions import db

    for n in range(30):
        notifications.queue(f"delegate{n}@example.org", f"Message {n}", "base", body="...")
    db.session.commit()
    db.session.remove()

    # Both senders pick their candidates before either claims one, so both try every
    # message: without the claim each would be sent twice.
    both_selected = threading.Barrier(2)
    tried: list[int] = []
    original_claim = notifications._claim
    started = threading.local()

    def claim_once_both_selected(message_id):
        if not getattr(started, "done", False):
            started.done = True
            both_selected.wait(timeout=10)
        tried.append(message_id)
        return original_claim(message_id)

    monkeypatch.setattr(notifications, "_claim", claim_once_both_selected)
    results: list[int] = []
    errors: list[BaseException] = []

    def sender():
        try:
            with committed_app.app_context():
                results.append(notifications.send_due(limit=100))
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(tried) == 60  # the race was there: every message was tried by both
    assert sum(results) == 30
    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert subjects == sorted(f"Message {n}" for n in range(30))
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {(m.status, m.attempts) for m in rows} == {(OutboxStatus.SENT, 1)}


# --------------------------------------------------------------------------- TLS and login


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    import subprocess

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope.content)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"beachhead", b"s3cret")
        return AuthResult(success=ok)


@pytest.fixture
def tls_server(app, certificate, monkeypatch, request):
    """An SMTP server that requires TLS (STARTTLS or implicit, per `request.param`) and a
    login; the app trusts its certificate."""
    import socket
    import ssl

    from aiosmtpd.controller import Controller

    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    if request.param == "starttls":
        options = dict(tls_context=server_context, require_starttls=True)
    else:
        # aiosmtpd only counts STARTTLS as TLS when it decides to offer AUTH; this
        # connection is encrypted from its first byte.
        options = dict(ssl_context=server_context, auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            authenticator=inbox.authenticate, auth_required=True, **options)
    controller.start()
    monkeypatch.setattr(notifications, "_tls_context",
                        lambda: ssl.create_default_context(cafile=str(cert)))
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", request.param == "starttls")
    monkeypatch.setitem(app.config, "MAIL_USE_SSL", request.param == "ssl")
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "beachhead")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret")
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.mark.parametrize("tls_server", ["starttls", "ssl"], indirect=True)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS
def test_mail_goes_over_tls_with_the_configured_login(db, anna, tls_server):
    _queue(anna)
    db.session.commit()
    assert notifications.send_due() == 1
    assert tls_server.logins == [(b"beachhead", b"s3cret")]
    [content] = tls_server.messages
    assert b"To: anna@example.org" in content

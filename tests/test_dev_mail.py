"""Mail transports (MAIL_TRANSPORT "smtp", "mailbox", "log") and the development mailbox
at /dev/mail: what leaves, what is recorded, and what a developer reads in the browser."""

from __future__ import annotations

import logging
import socket
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from tests.conftest import count_queries, csrf_token, login
from tests.factories import Factory
from webapp.extensions import db as _db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.services import jobs, notifications

BASE = "http://127.0.0.1:5000"
INVITATION = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Beachhead//test//EN", "METHOD:REQUEST",
    "BEGIN:VEVENT", "UID:event-1@beachhead.test", "DTSTAMP:20270209T150000Z",
    "DTSTART:20270301T090000Z", "DTEND:20270301T100000Z", "SUMMARY:Harbour visit",
    "URL:http://127.0.0.1:5000/events/harbour-visit", "END:VEVENT", "END:VCALENDAR", "",
])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def anna(make, db):
    user = make.user(email="anna@example.org", name="Anna Østergaard")
    db.session.commit()
    return user


@pytest.fixture
def transport(app, monkeypatch):
    """`transport(name)`: the app delivers through `name`; no SMTP server listens."""
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())

    def use(name: str) -> None:
        monkeypatch.setitem(app.config, "MAIL_TRANSPORT", name)

    return use


def _queue(to, body=f"Confirm here: {BASE}/verify/abc.", **kw) -> OutboxMessage:
    return notifications.queue(to, "Confirm your address", "base", body=body, **kw)


# --------------------------------------------------------------------------- transports


@pytest.mark.parametrize("name", [None, "smtp"])
def test_smtp_is_the_default_transport_and_sends_over_smtp(app, db, anna, mailbox,
                                                           monkeypatch, name):
    if name is not None:
        monkeypatch.setitem(app.config, "MAIL_TRANSPORT", name)
    else:
        monkeypatch.delitem(app.config, "MAIL_TRANSPORT", raising=False)
    message = _queue(anna)
    db.session.commit()
    assert notifications.send_due() == 1
    [received] = mailbox.to(anna.email)
    assert received["Subject"] == "Confirm your address"
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.parametrize("name", ["mailbox", "log"])
def test_a_local_transport_delivers_without_any_mail_server(db, anna, transport, name):
    transport(name)
    message = _queue(anna)
    db.session.commit()
    assert notifications.send_due() == 1
    db.session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert message.sent_at is not None
    assert notifications.send_due() == 0  # delivered once


@pytest.mark.parametrize("name", ["smtp", "mailbox", "log"])
def test_every_transport_skips_a_message_another_sender_claimed(db, anna, mailbox, app,
                                                                 monkeypatch, name):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", name)
    message = _queue(anna)
    db.session.commit()
    assert notifications._claim(message.id) is not None  # another sender has it
    assert notifications.deliver([message.id]) == 0
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert mailbox.messages == []


def test_the_log_transport_writes_one_line_per_message_with_its_links(db, anna, transport,
                                                                      caplog):
    transport("log")
    _queue(anna)
    _queue("bob@example.org", body="Nothing to follow.")
    db.session.commit()
    with caplog.at_level(logging.INFO):
        assert notifications.send_due() == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "webapp.mail"]
    assert len(lines) == 2
    # The link appears in the text and the HTML body: said once, without the full stop.
    assert lines[0].startswith("mail ") and "anna@example.org" in lines[0]
    assert "'Confirm your address'" in lines[0]
    assert lines[0].endswith(f"links: {BASE}/verify/abc")
    assert "bob@example.org" in lines[1] and lines[1].endswith("links: none")


def test_the_mailbox_transport_says_where_to_read_each_message(db, anna, transport, caplog):
    transport("mailbox")
    message = _queue(anna)
    db.session.commit()
    with caplog.at_level(logging.INFO):
        notifications.send_due()
    [line] = [r.getMessage() for r in caplog.records if r.name == "webapp.mail"]
    assert "anna@example.org" in line and line.endswith(f"{BASE}/dev/mail/{message.id}")


def test_an_unknown_transport_sends_nothing_and_leaves_the_mail_waiting(db, anna, transport):
    transport("pigeon")
    message = _queue(anna)
    db.session.commit()
    with pytest.raises(ValueError, match="pigeon"):
        notifications.send_due()
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)


def test_links_are_read_from_the_text_and_the_html_in_order_each_once():
    text = f"Open {BASE}/a, then {BASE}/b?x=1&y=2.\nOr ftp://nowhere."
    html = f'<a href="{BASE}/b?x=1&amp;y=2">b</a> <a href="mailto:x@example.org">x</a>' \
           f'<a href="{BASE}/c">c</a>'
    assert notifications.links_in(text, html) == [f"{BASE}/a", f"{BASE}/b?x=1&y=2",
                                                  f"{BASE}/c"]


# --------------------------------------------------------------------------- /dev/mail


@pytest.fixture
def with_mailbox(app, transport):
    transport("mailbox")


@pytest.mark.parametrize("name", ["smtp", "log"])
def test_the_mailbox_is_missing_with_any_other_transport(client, db, anna, app, monkeypatch,
                                                         name):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", name)
    message = _queue(anna)
    db.session.commit()
    for path in ("/dev/mail", f"/dev/mail/{message.id}", f"/dev/mail/{message.id}.eml"):
        assert client.get(path).status_code == 404, path


def test_the_mailbox_is_missing_in_production(tmp_path, monkeypatch):
    from webapp import create_app

    monkeypatch.setenv("SECRET_KEY", "production-test-secret-0123456789abcdef")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/production.db")
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    production = create_app("production", MAIL_TRANSPORT="mailbox")
    assert production.test_client().get("/dev/mail").status_code == 404


def test_a_password_reset_is_read_and_followed_in_the_mailbox(client, db, anna, with_mailbox):
    response = client.post("/reset", data={"email": anna.email,
                                           "csrf_token": csrf_token(client, "/reset")})
    assert response.status_code == 302  # delivered inline, after the request's commit
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.status == OutboxStatus.SENT

    index = client.get("/dev/mail").get_data(as_text=True)
    assert f'href="/dev/mail/{message.id}"' in index
    assert "anna@example.org" in index and "Reset your password" in index
    assert "(UTC)" in index  # when, with its zone

    page = client.get(f"/dev/mail/{message.id}").get_data(as_text=True)
    [link] = notifications.links_in(message.body_text)
    assert link.startswith(f"{BASE}/reset/")
    assert f'<a href="{link}">{link}</a>' in page  # in the text, clickable
    path = link.removeprefix(BASE)
    assert "Choose a new password" in client.get(path).get_data(as_text=True)


def test_mail_still_waiting_is_announced_not_listed(client, db, anna, with_mailbox):
    message = _queue(anna)
    db.session.commit()
    notifications._claim(message.id)  # a sender holds it: not delivered yet
    index = client.get("/dev/mail").get_data(as_text=True)
    assert "1 message waits to be delivered" in index
    assert f"/dev/mail/{message.id}" not in index
    assert client.get(f"/dev/mail/{message.id}").status_code == 404


def test_the_mailbox_lists_the_newest_first_in_the_readers_zone(client, db, make, anna,
                                                               with_mailbox):
    for n in range(3):
        _queue(anna, body=f"Message {n}")
        db.session.commit()
        notifications.send_due()
    ids = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    reader = make.user(timezone="Europe/Copenhagen")
    db.session.commit()
    login(client, reader)
    index = client.get("/dev/mail").get_data(as_text=True)
    positions = [index.index(f'href="/dev/mail/{i}"') for i in ids]
    assert positions == sorted(positions, reverse=True)
    assert "Copenhagen" in index


def test_the_html_body_is_framed_in_a_sandbox_under_its_own_policy(client, db, anna,
                                                                    with_mailbox):
    message = _queue(anna, body='<script>alert(1)</script>', calendar=INVITATION,
                     calendar_method="REQUEST")
    db.session.commit()
    notifications.send_due()

    page = client.get(f"/dev/mail/{message.id}")
    html = page.get_data(as_text=True)
    assert "srcdoc" not in html
    frame = html[html.index("<iframe"):html.index("</iframe>")]
    assert f'src="/dev/mail/{message.id}/body.html"' in frame
    assert 'sandbox="' in frame
    assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # the app's own

    body = client.get(f"/dev/mail/{message.id}/body.html")
    policy_ = body.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy_ and "script-src" not in policy_
    assert "sandbox" in policy_ and "allow-scripts" not in policy_
    assert "allow-same-origin" not in policy_
    assert "frame-ancestors 'self'" in policy_ and body.headers["X-Frame-Options"] == "SAMEORIGIN"
    served = body.get_data(as_text=True)
    assert '<head><base target="_top">' in served.replace("\n", "")
    assert "&lt;script&gt;" in served  # the template escaped it; the policy would stop it too


def test_the_invitation_downloads_as_a_calendar_file(client, db, anna, with_mailbox):
    message = _queue(anna, calendar=INVITATION, calendar_method="REQUEST")
    db.session.commit()
    notifications.send_due()
    page = client.get(f"/dev/mail/{message.id}").get_data(as_text=True)
    assert f'href="/dev/mail/{message.id}/invite.ics"' in page

    response = client.get(f"/dev/mail/{message.id}/invite.ics")
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params == {"method": "REQUEST", "charset": "utf-8"}
    assert response.headers["Content-Disposition"] == 'attachment; filename="invite.ics"'
    assert response.data == INVITATION.encode()  # CRLFs and all


def test_the_whole_message_downloads_as_sent(client, db, anna, with_mailbox):
    message = _queue(anna, calendar=INVITATION, calendar_method="REQUEST")
    db.session.commit()
    notifications.send_due()
    response = client.get(f"/dev/mail/{message.id}.eml")
    assert response.mimetype == "message/rfc822"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="message-{message.id}.eml"')
    mail = message_from_bytes(response.data, policy=policy.default)
    assert mail["To"] == anna.email and mail["Subject"] == "Confirm your address"
    calendar = mail.get_body(preferencelist=("calendar",))
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content().replace("\r\n", "\n") == INVITATION.replace("\r\n", "\n")


def test_a_message_without_html_or_invitation_has_neither(client, db, anna, with_mailbox):
    message = notifications.queue(anna, "Plain", "auth_signup_exists")
    db.session.commit()
    notifications.send_due()
    assert not message.body_html
    page = client.get(f"/dev/mail/{message.id}").get_data(as_text=True)
    assert "<iframe" not in page and "invite.ics" not in page
    assert client.get(f"/dev/mail/{message.id}/body.html").status_code == 404
    assert client.get(f"/dev/mail/{message.id}/invite.ics").status_code == 404


def test_an_unknown_message_is_missing(client, db, with_mailbox):
    for path in ("/dev/mail/999999", "/dev/mail/999999/body.html",
                 "/dev/mail/999999/invite.ics", "/dev/mail/999999.eml"):
        assert client.get(path).status_code == 404, path


def test_the_mailbox_reads_in_the_same_queries_however_much_mail(client, db, anna,
                                                                 with_mailbox):
    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/dev/mail").status_code == 200
        return len(statements)

    _queue(anna)
    db.session.commit()
    notifications.send_due()
    few = queries()
    for n in range(20):
        _queue(f"p{n}@example.org")
    db.session.commit()
    notifications.send_due()
    assert queries() == few


# --------------------------------------------------------------------------- on the worker


@pytest.mark.redis
def test_with_a_worker_the_mailbox_says_the_mail_waits_for_it_until_it_runs(on_rq):
    on_rq.config.update(MAIL_TRANSPORT="mailbox", MAIL_PORT=_closed_port())
    user = Factory().user(email="queued@example.org")
    _db.session.commit()
    client = on_rq.test_client()
    response = client.post("/reset", data={"email": user.email,
                                           "csrf_token": csrf_token(client, "/reset")})
    assert response.status_code == 302

    waiting = client.get("/dev/mail").get_data(as_text=True)
    assert "1 message waits for the worker" in waiting
    assert "Reset your password" not in waiting

    jobs.work(burst=True)
    delivered = client.get("/dev/mail").get_data(as_text=True)
    assert "waits" not in delivered
    assert "Reset your password" in delivered and "queued@example.org" in delivered

"""Mail rendered at delivery (services/notifications.py, `later=True`): a registration's
mail is written into its transaction as what to render it from, so the event's lock is not
held while templates and invitations render; the delivery renders it, keeps the bodies
with the row and sends them, received by a real SMTP server on loopback."""

from __future__ import annotations

from sqlalchemy import delete, select

from webapp.models import EventKind, OutboxMessage, OutboxStatus, Partner
from webapp.models import RegistrationStatus as S
from webapp.services import notifications, registrations


def _webinar(make):
    organizer = make.partner(name="Organizing Cluster")
    return make.event(organizers=[organizer], registration_opens_at=None,
                      title="Smart lighting", kind=EventKind.WEBINAR,
                      requires_approval=False, capacity=1, timezone="Europe/Brussels")


def _member(make, email="sme@example.org"):
    return make.user(make.organization(make.partner()), email=email, name="Sofie Sme")


def _outbox(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_an_application_is_written_unrendered_and_delivered_rendered(app, db, make, mailbox):
    webinar, member = _webinar(make), _member(make)
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    reg = registrations.apply(member, webinar.id, profile_consent=True)
    assert reg.status == S.APPROVED
    [written] = _outbox(db)
    # In the transaction: what to render, the invitation's METHOD, its UID and SEQUENCE
    # taken on the registration; no body yet.
    assert (written.body_text, written.body_html, written.calendar) == ("", "", "")
    assert written.render["template"] == "registration_confirmed"
    assert written.calendar_method == "REQUEST"
    assert reg.calendar_uid and reg.calendar_sequence == 0
    db.session.commit()

    assert notifications.send_due() == 1
    [received] = mailbox.to("sme@example.org")
    assert received["Subject"] == "You're registered: Smart lighting"
    assert "Smart lighting" in mailbox.text(received)
    parts = {part.get_content_type(): part for part in received.walk()}
    assert "text/html" in parts
    invitation = parts["text/calendar"]
    assert invitation.get_param("method") == "REQUEST"
    ics = invitation.get_content()
    assert f"UID:{reg.calendar_uid}" in ics and "SEQUENCE:0" in ics

    [sent] = _outbox(db)
    db.session.refresh(sent)
    # The bodies stay with the row: the mailbox, the outbox and the export show them.
    assert sent.status == OutboxStatus.SENT and sent.render is None
    assert "Smart lighting" in sent.body_text and "Smart lighting" in sent.body_html
    assert sent.calendar.startswith("BEGIN:VCALENDAR") and "METHOD:REQUEST" in sent.calendar


def test_a_rolled_back_application_leaves_no_mail(app, db, make, mailbox):
    webinar, member = _webinar(make), _member(make)
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    registrations.apply(member, webinar.id, profile_consent=True)
    db.session.rollback()
    assert _outbox(db) == []
    assert notifications.send_due() == 0
    assert mailbox.messages == []


def test_a_message_whose_rows_are_gone_fails_clearly_and_the_others_go(app, db, make,
                                                                      mailbox):
    webinar, member = _webinar(make), _member(make)
    other = _member(make, "other@example.org")
    throwaway = make.partner(name="Gone Cluster")
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    reg = registrations.apply(member, webinar.id, profile_consent=True)
    orphan = notifications.queue(member, "About a cluster", "registration_received",
                                 later=True, registration=reg, event=webinar,
                                 recipient_zone="UTC", partner=throwaway)
    registrations.apply(other, webinar.id, profile_consent=True)  # waitlisted
    db.session.commit()
    orphan_id = orphan.id
    db.session.execute(delete(Partner).where(Partner.id == throwaway.id))
    db.session.commit()

    assert notifications.send_due() == 2  # the worker goes on with the others
    assert len(mailbox.to("sme@example.org")) == 1
    assert len(mailbox.to("other@example.org")) == 1
    failed = db.session.get(OutboxMessage, orphan_id, populate_existing=True)
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error == f"not rendered: Partner {throwaway.id} is gone"
    assert failed in notifications.given_up()


def test_a_context_of_other_values_is_rendered_at_once(app, db, make):
    webinar, member = _webinar(make), _member(make)
    db.session.commit()
    message = notifications.queue(member, "Hello", "registration_digest", later=True,
                                  registrations=[], recipient_zone="UTC",
                                  since=webinar.starts_at)  # a datetime: not kept as JSON
    assert message.render is None and message.body_text

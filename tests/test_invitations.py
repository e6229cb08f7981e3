"""Calendar invitations by email (webapp/services/registration_mail.py, the calendar part
of webapp/services/notifications.py, the event changes of webapp/services/events.py),
as a real SMTP server on loopback receives them and icalendar and vobject read them."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import delete

from tests.webinars import event_details
from webapp import unit
from webapp.models import EventKind, EventStatus, OutboxMessage, Registration, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import calendar, events, notifications, registrations

EMAIL = "sme@example.org"


@pytest.fixture
def manager(make, cluster):
    return make.manager(cluster, email="manager@example.org")


@pytest.fixture
def admin(make):
    return make.admin()


@pytest.fixture
def mission(make, cluster):
    return make.event(organizers=[cluster], registration_opens_at=None, title="Singapore 2027",
                      venue="Marina Bay Sands", capacity=10)


@pytest.fixture
def member(make, cluster):
    return make.user(make.organization(cluster), email=EMAIL, name="Sofie Sme")


@pytest.fixture
def clock(monkeypatch):
    """The time the calendar module stamps (DTSTAMP) its files with, moved by the test:
    two mails within one second would otherwise carry the same DTSTAMP."""
    now = [utcnow().replace(microsecond=0)]
    monkeypatch.setattr(calendar, "utcnow", lambda: now[0])

    def advance(**delta):
        now[0] += timedelta(**delta)

    return advance


def _forget_outbox(db):
    """Each test watches the mail of its own steps, not the factories' set-up."""
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def _approved(db, mission, member, manager):
    reg = registrations.apply(member, mission.id, profile_consent=True)
    return registrations.decide(reg.id, "approve", actor=manager)


def _received(mailbox, address=EMAIL) -> list:
    notifications.send_due()
    return mailbox.to(address)


def _calendar_parts(message) -> list:
    return [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def _invitation(message):
    """The message's one invitation: its Content-Type method and the parsed file."""
    [part] = _calendar_parts(message)
    text = part.get_content()
    vobject.readOne(text).validate()  # a second, independent parser
    return part.get_param("method"), icalendar.Calendar.from_ical(text)


def _vevent(cal):
    [vevent] = cal.walk("VEVENT")
    return vevent




# --------------------------------------------------------------------------- approval


def test_the_approval_mail_carries_one_request_for_the_delegate(
    db, mailbox, mission, member, manager
):
    db.session.commit()
    reg = _approved(db, mission, member, manager)
    approval = next(m for m in _received(mailbox) if "approved" in m["Subject"])

    assert approval.get_content_type() == "multipart/alternative"
    # The invitation is the last alternative, beside the text and HTML; no attachment.
    kinds = [p.get_content_type() for p in approval.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    [part] = _calendar_parts(approval)
    assert part.get_content_charset() == "utf-8"
    method, cal = _invitation(approval)
    assert method == "REQUEST" == str(cal["METHOD"])
    vevent = _vevent(cal)
    assert str(vevent["UID"]) == calendar.invitation_uid(reg) == reg.calendar_uid
    assert vevent["SEQUENCE"] == 0 == reg.calendar_sequence
    assert vevent.decoded("DTSTART") == mission.starts_at
    attendee = vevent["ATTENDEE"]
    assert str(attendee).lower() == f"mailto:{EMAIL}"
    assert attendee.params["RSVP"] == "FALSE"
    assert str(vevent["ORGANIZER"]).startswith("mailto:")


def test_the_application_mail_before_the_decision_carries_no_invitation(
    db, mailbox, mission, member
):
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True)
    [received] = _received(mailbox)
    assert _calendar_parts(received) == []
    assert reg.calendar_uid is None


def test_an_instant_registration_and_a_promotion_each_carry_a_request(db, mailbox, make,
                                                                      cluster, member):
    webinar = make.event(organizers=[cluster], registration_opens_at=None,
                         kind=EventKind.WEBINAR, requires_approval=False, capacity=1)
    other = make.user(make.organization(), email="next@example.org")
    db.session.commit()
    first = registrations.apply(member, webinar.id)
    second = registrations.apply(other, webinar.id)
    [confirmed] = _received(mailbox)
    assert _invitation(confirmed)[0] == "REQUEST"

    registrations.withdraw(first.id, actor=member)
    promoted = next(m for m in _received(mailbox, "next@example.org")
                    if "seat opened up" in m["Subject"])
    method, cal = _invitation(promoted)
    assert method == "REQUEST"
    assert str(_vevent(cal)["ATTENDEE"]).lower() == "mailto:next@example.org"
    assert (second.calendar_uid, second.calendar_sequence) == (calendar.invitation_uid(second), 0)


# --------------------------------------------------------------------------- updates


def test_moving_the_event_sends_an_update_with_the_same_uid_and_the_next_sequence(
    db, mailbox, clock, admin, mission, member, manager
):
    db.session.commit()
    reg = _approved(db, mission, member, manager)
    _, first = _invitation(_received(mailbox)[-1])
    mailbox.messages.clear()
    clock(minutes=5)

    new_start = event_details(mission).starts_local + timedelta(hours=2)
    events.update(admin, mission, event_details(mission, starts_local=new_start))

    [update] = _received(mailbox)
    method, cal = _invitation(update)
    assert method == "REQUEST" == str(cal["METHOD"])
    before, after = _vevent(first), _vevent(cal)
    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.decoded("DTSTAMP") > before.decoded("DTSTAMP")
    assert after.decoded("DTSTART") == mission.starts_at
    assert after.decoded("DTSTART") - before.decoded("DTSTART") == timedelta(hours=2)
    db.session.expire_all()
    assert reg.calendar_sequence == after["SEQUENCE"] == 1
    assert mission.calendar_sequence == 1


def test_a_new_venue_is_sent_and_an_unrelated_change_is_not(
    db, mailbox, admin, mission, member, manager
):
    db.session.commit()
    _approved(db, mission, member, manager)
    notifications.send_due()
    mailbox.messages.clear()

    with unit.of_work("test"):  # as the admin's request: one unit, mail after its commit
        events.update(admin, mission, event_details(mission, title="Singapore 2027 mission",
                                               capacity=12))
    assert _received(mailbox) == []

    events.update(admin, mission, event_details(mission, venue="Suntec Convention Centre"))
    [update] = _received(mailbox)
    assert "Suntec Convention Centre" in str(_vevent(_invitation(update)[1])["LOCATION"])


def test_only_approved_registrants_who_hold_an_invitation_get_the_update(
    db, mailbox, make, admin, mission, member, manager
):
    waiting = make.user(make.organization(), email="waiting@example.org")
    recorded = make.user(make.organization(), email="recorded@example.org")
    db.session.commit()
    _approved(db, mission, member, manager)
    registrations.apply(waiting, mission.id, profile_consent=True)
    # Approved in recorded history (demo data, imports): never mailed an invitation.
    make.registration(mission, recorded, S.SUBMITTED, S.APPROVED)
    db.session.commit()
    _forget_outbox(db)
    mailbox.messages.clear()

    events.update(admin, mission, event_details(mission, target_city="Singapore (Marina Bay)"))
    notifications.send_due()
    assert [m["To"] for m in mailbox.messages] == [EMAIL]


# --------------------------------------------------------------------------- cancellations


def test_a_withdrawal_sends_a_cancel_with_the_same_uid_and_the_next_sequence(
    db, mailbox, mission, member, manager
):
    db.session.commit()
    reg = _approved(db, mission, member, manager)
    _, request = _invitation(_received(mailbox)[-1])
    mailbox.messages.clear()

    registrations.withdraw(reg.id, actor=member)
    [withdrawn] = _received(mailbox)
    method, cal = _invitation(withdrawn)
    assert method == "CANCEL" == str(cal["METHOD"])
    vevent = _vevent(cal)
    assert str(vevent["UID"]) == str(_vevent(request)["UID"])
    assert vevent["SEQUENCE"] == _vevent(request)["SEQUENCE"] + 1 == reg.calendar_sequence
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_applying_again_after_withdrawing_reuses_the_uid_and_is_cancelled_only_once(
    db, mailbox, mission, member, manager, admin
):
    db.session.commit()
    reg = _approved(db, mission, member, manager)
    registrations.withdraw(reg.id, actor=member)
    registrations.apply(member, mission.id, profile_consent=True)
    registrations.decide(reg.id, "approve", actor=manager)
    registrations.withdraw(reg.id, actor=member)
    registrations.apply(member, mission.id, profile_consent=True)
    # Cancelled while submitted: its invitation was already cancelled at the withdrawal.
    registrations.cancel(reg.id, actor=admin)

    sent = [_invitation(m) for m in _received(mailbox) if _calendar_parts(m)]
    assert [(method, _vevent(cal)["SEQUENCE"]) for method, cal in sent] == [
        ("REQUEST", 0), ("CANCEL", 1), ("REQUEST", 2), ("CANCEL", 3)]
    assert {str(_vevent(cal)["UID"]) for _, cal in sent} == {calendar.invitation_uid(reg)}
    assert reg.calendar_sequence == 3


def test_cancelling_the_event_sends_exactly_one_cancel_per_invited_registrant(
    db, mailbox, make, login_as, admin, mission, member, manager
):
    second = make.user(make.organization(), email="second@example.org")
    submitted = make.user(make.organization(), email="submitted@example.org")
    recorded = make.user(make.organization(), email="recorded@example.org")
    db.session.commit()
    invited = [_approved(db, mission, member, manager), _approved(db, mission, second, manager)]
    registrations.apply(submitted, mission.id, profile_consent=True)
    make.registration(mission, recorded, S.SUBMITTED, S.APPROVED)
    db.session.commit()
    _forget_outbox(db)
    mailbox.messages.clear()

    with unit.of_work("test"):  # as the admin's request: the event and its registrations
        assert events.cancel(admin, mission.id, "The venue is closed.") == 4
    with unit.of_work("test"):
        assert events.cancel(admin, mission.id) == 0  # a second one finds nothing left open
    notifications.send_due()

    cancels = {}
    for message in mailbox.messages:
        for method, cal in [_invitation(message)] if _calendar_parts(message) else []:
            assert method == "CANCEL" == str(cal["METHOD"])
            cancels.setdefault(message["To"], []).append(_vevent(cal))
    assert {to: len(v) for to, v in cancels.items()} == {EMAIL: 1, "second@example.org": 1}
    # The others hear of the cancellation, without a calendar entry to remove.
    assert sorted(m["To"] for m in mailbox.messages) == sorted(
        [EMAIL, "second@example.org", "submitted@example.org", "recorded@example.org"])
    db.session.expire_all()
    for reg in invited:
        [vevent] = cancels[reg.user.email]
        assert str(vevent["UID"]) == reg.calendar_uid
        assert vevent["SEQUENCE"] == reg.calendar_sequence == 1
        assert reg.status == S.CANCELLED
    assert mission.status == EventStatus.CANCELLED
    assert mission.calendar_sequence == 1


def test_an_organizer_cancelling_a_submitted_application_sends_no_cancel(
    db, mailbox, mission, member, admin
):
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True)
    registrations.cancel(reg.id, actor=admin)
    assert all(_calendar_parts(m) == [] for m in _received(mailbox))
    assert db.session.get(Registration, reg.id).calendar_uid is None


# --------------------------------------------------------------------------- the outbox


def test_the_outbox_refuses_a_method_that_differs_from_the_files(db, member):
    ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    with pytest.raises(ValueError, match="METHOD"):
        notifications.queue(member, "Hi", "base", calendar=ics,
                            calendar_method="REQUEST", body="x")
    with pytest.raises(ValueError):
        notifications.queue(member, "Hi", "base", calendar_method="REQUEST", body="x")


def test_the_calendar_part_arrives_byte_for_byte(db, mailbox, member):
    # CRLF line ends, a folded line and non-ASCII text survive the trip unchanged.
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n"
           "BEGIN:VEVENT\r\nUID:x@example.org\r\nDTSTAMP:20270101T000000Z\r\n"
           "SUMMARY:Smart city tour of Gent and Ålborg \U0001F6B2 with a title long e\r\n"
           " nough to fold\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    notifications.queue(member, "Invitation", "base", calendar=ics,
                        calendar_method="request", body="See the invitation.")
    db.session.commit()
    [message] = _received(mailbox)
    [part] = _calendar_parts(message)
    assert part.get_param("method") == "REQUEST"
    assert part.get_payload(decode=True) == ics.encode()

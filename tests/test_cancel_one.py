"""Cancelling one registration (webapp/services/registrations.py `cancel_one`, the desk's
"Cancel this registration"): the event's organizers end one registration for good, before
the event starts, with a reason the applicant is mailed and an audit entry; an approved
seat is freed for the waiting list, its badge and join link stop working and its calendar
invitation is cancelled. Refused once the event has started, for what is already over,
for a stale page and for anyone but the organizers: nothing changed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.corrections import (
    MEETING,
    badge_page,
    badge_refusal,
    forget_mail,
    history,
    html_of,
    invitation,
    join_at_start,
    mail_to,
    mission,
    scan,
    snapshot,
)
from webapp.models import EventKind, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import calendar, registrations
from webapp.services.errors import DomainError, RegistrationRefused, StaleDecision

REASON = "Her company left the partnership: the seat goes to the next delegate."


@pytest.fixture
def w(db, make, mailbox):
    scene = mission(make)
    forget_mail(db, mailbox)
    return scene


# --------------------------------------------------------------------------- the effects


def test_cancelling_an_approved_registration_frees_the_seat_for_the_first_in_line(
    db, mailbox, w
):
    registrations.cancel_one(w.ana.id, actor=w.organizer, reason=REASON,
                             expected_status=S.APPROVED)

    db.session.expire_all()
    assert (w.ana.status, w.ben.status, w.cem.status) == (S.CANCELLED, S.APPROVED, S.WAITLISTED)
    last = history(db, w.ana)[-1]
    assert (last.action, last.from_status, last.to_status, last.reason, last.actor_id) == (
        "registration.cancelled", "approved", "cancelled", REASON, w.organizer.id)
    assert history(db, w.ben)[-1].action == "registration.promoted"
    [message] = mail_to(mailbox, "ana@example.org")
    assert message["Subject"] == "Your registration was cancelled: Singapore 2027"
    text = mailbox.text(message)
    assert REASON in text and REASON in html_of(message)
    assert ("Your seat is released. Your badge no longer admits you. "
            "The event is removed from your calendar.") in text
    method, vevent = invitation(message)
    assert method == "CANCEL" and str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["UID"]) == calendar.invitation_uid(w.ana)
    assert vevent["SEQUENCE"] == 1 == w.ana.calendar_sequence
    [promoted] = mail_to(mailbox, "ben@example.org")
    assert promoted["Subject"] == "A seat opened up, you're in: Singapore 2027"
    assert mail_to(mailbox, "cem@example.org") == []


def test_cancelling_a_waitlisted_registration_frees_nothing(db, mailbox, w):
    registrations.cancel_one(w.ben.id, actor=w.organizer, reason=REASON)

    db.session.expire_all()
    assert (w.ana.status, w.ben.status, w.cem.status) == (S.APPROVED, S.CANCELLED, S.WAITLISTED)
    [message] = mail_to(mailbox, "ben@example.org")
    assert REASON in mailbox.text(message) and invitation(message) is None
    assert "Your seat is released" not in mailbox.text(message)
    assert [m["To"] for m in mailbox.messages] == ["ben@example.org"]


def test_a_cancelled_registration_is_final(db, w):
    registrations.cancel_one(w.ben.id, actor=w.organizer, reason=REASON)
    for correction in (registrations.reopen, registrations.cancel_one):
        with pytest.raises(RegistrationRefused, match="cancelled"):
            correction(w.ben.id, actor=w.organizer, reason="Back, please.")
    for decision in ("approve", "waitlist", "reject"):
        with pytest.raises(DomainError):
            registrations.decide(w.ben.id, decision, actor=w.organizer, reason="x")
    db.session.expire_all()
    assert w.ben.status == S.CANCELLED


def test_a_cancelled_registrations_badge_is_refused_at_the_door(client, db, w):
    assert badge_refusal(badge_page(client, w.host, w.ana)) is None
    registrations.cancel_one(w.ana.id, actor=w.organizer, reason=REASON)
    db.session.commit()

    response = scan(client, w.host, w.event, w.ana.badge_code)
    assert response.status_code == 400
    assert badge_refusal(response.get_data(as_text=True)) == (
        "This badge is not valid: the registration is cancelled.")
    login(client, w.ana.user)
    assert client.get(f"/registrations/{w.ana.id}/badge.pdf").status_code == 404


def test_a_cancelled_registrations_join_link_is_refused(client, db, make, mailbox):
    webinar = mission(make, kind=EventKind.WEBINAR)
    forget_mail(db, mailbox)
    assert join_at_start(client, webinar.ana).location == MEETING

    registrations.cancel_one(webinar.ana.id, actor=webinar.organizer, reason=REASON)
    db.session.commit()

    response = join_at_start(client, webinar.ana)
    assert response.status_code == 403
    assert "meet.example.com" not in response.get_data(as_text=True)
    [message] = mail_to(mailbox, "ana@example.org")
    assert "Your personal join link no longer opens the meeting." in mailbox.text(message)


# --------------------------------------------------------------------------- refusals


def test_a_cancellation_once_the_event_has_started_is_refused_and_changes_nothing(
    db, mailbox, w
):
    w.event.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = snapshot(db, w)

    with pytest.raises(RegistrationRefused, match="The event has started: its registrations "
                                                  "can no longer be cancelled one by one"):
        registrations.cancel_one(w.ana.id, actor=w.organizer, reason=REASON)

    db.session.rollback()
    assert snapshot(db, w) == before
    assert mail_to(mailbox, "ana@example.org") == []


def test_only_the_events_organizers_cancel_one_registration(db, w):
    # The applicant's own cluster manager decides it, but does not organize the event.
    for outsider in (w.manager, w.other_manager, w.host, w.ana.user):
        with pytest.raises(RegistrationRefused,
                           match="You may no longer cancel this registration"):
            registrations.cancel_one(w.ana.id, actor=outsider, reason=REASON)
    db.session.expire_all()
    assert w.ana.status == S.APPROVED


def test_a_cancellation_from_a_stale_page_is_refused(db, w):
    registrations.reopen(w.ana.id, actor=w.manager, reason="Quota.")
    db.session.commit()
    with pytest.raises(StaleDecision, match="Already submitted by Mads Manager"):
        registrations.cancel_one(w.ana.id, actor=w.organizer, reason=REASON,
                                 expected_status=S.APPROVED)


def test_the_consequences_of_cancelling_name_the_seat_and_who_would_be_promoted(db, w):
    shown = registrations.consequences(w.ana, S.CANCELLED)
    assert shown.frees_seat and shown.voids_badge and shown.cancels_invitation
    assert shown.promoted == [w.ben]
    assert [u.email for u in shown.mailed] == ["ana@example.org", "ben@example.org"]

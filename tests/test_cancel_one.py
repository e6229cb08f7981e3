"""Cancelling one registration (webapp/services/registrations.py `cancel_one`, the desk's
"Cancel this registration"): the event's organizers end one registration for good, before
the event starts, with a reason the applicant is mailed and an audit entry; an approved
seat is freed for the waiting list, its badge and join link stop working and its calendar
invitation is cancelled. Refused once the event has started, for what is already over,
for a stale page and for anyone but the organizers: nothing changed.
"""

from __future__ import annotations

import re

import pytest

from tests.confirming import confirm
from tests.conftest import login
from tests.corrections import (
    apply,
    badge_refused_after,
    consequences_on,
    forget_mail,
    history,
    html_of,
    invitation,
    join_link_refused_after,
    mail_to,
    mission,
    pages_refused,
    refused_once_started,
    snapshot,
)
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


def _cancel(registration_id, actor):
    return registrations.cancel_one(registration_id, actor=actor, reason=REASON)


def test_a_cancelled_registrations_badge_is_refused_at_the_door(client, db, w):
    badge_refused_after(client, db, w, _cancel)
    assert w.ana.status == S.CANCELLED


def test_a_cancelled_registrations_join_link_is_refused(client, db, make, mailbox):
    join_link_refused_after(client, db, make, mailbox, _cancel)


# --------------------------------------------------------------------------- refusals


def test_a_cancellation_once_the_event_has_started_is_refused_and_changes_nothing(
    db, mailbox, w
):
    refused_once_started(db, mailbox, w, _cancel, "The event has started: its registrations "
                                                  "can no longer be cancelled one by one.")


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


# --------------------------------------------------------------------------- the desk's pages


def test_the_cancel_page_says_who_is_mailed_the_seat_and_that_it_is_final(client, db, w):
    login(client, w.organizer)
    response = client.get(f"/desk/registrations/{w.ana.id}/cancel")

    assert response.status_code == 200
    assert consequences_on(response) == [
        "Ana Alpha is mailed that the registration is cancelled, with your reason.",
        "Their seat is freed: Ben Alpha, first on the waiting list, takes it and is mailed.",
        "Their badge stops admitting them at the door.",
        "The event is removed from their calendar.",
        "This cannot be undone: the registration stays cancelled, and they cannot apply to "
        "this event again.",
    ]
    db.session.expire_all()
    assert w.ana.status == S.APPROVED


def test_going_back_from_the_cancel_page_changes_nothing(client, db, w):
    login(client, w.organizer)
    page = client.get(f"/desk/registrations/{w.ana.id}/cancel").get_data(as_text=True)
    back = re.search(r'href="([^"]+)" data-testid="go-back"', page).group(1)
    before = snapshot(db, w)

    assert back == f"/desk/registrations/{w.ana.id}"
    assert client.get(back).status_code == 200
    assert snapshot(db, w) == before


def test_cancelling_from_the_desk_with_a_reason_ends_the_registration(client, db, mailbox, w):
    login(client, w.organizer)

    response = confirm(client, f"/desk/registrations/{w.ana.id}/cancel", reason=REASON)

    assert response.status_code == 302
    db.session.expire_all()
    assert (w.ana.status, w.ben.status) == (S.CANCELLED, S.APPROVED)
    assert history(db, w.ana)[-1].reason == REASON
    assert invitation(mail_to(mailbox, "ana@example.org")[0])[0] == "CANCEL"
    # Nothing is left to correct on the page.
    html = client.get(response.location).get_data(as_text=True)
    assert 'data-testid="corrections"' not in html


def test_a_cancellation_without_a_reason_says_so_and_changes_nothing(client, db, w):
    login(client, w.organizer)
    before = snapshot(db, w)

    response = confirm(client, f"/desk/registrations/{w.ana.id}/cancel", reason="")

    assert response.status_code == 400
    assert "Say why: the applicant receives it." in response.get_data(as_text=True)
    assert snapshot(db, w) == before


def test_a_cancellation_with_a_forged_token_changes_nothing(client, db, w):
    login(client, w.organizer)
    before = snapshot(db, w)
    response = confirm(client, f"/desk/registrations/{w.ana.id}/cancel", reason=REASON,
                       confirmation="forged")
    assert response.status_code == 400
    assert snapshot(db, w) == before


def test_only_the_organizers_may_open_the_cancel_page(client, db, w):
    # The applicant's own cluster manager decides it, but does not organize the event.
    pages_refused(client, db, w, f"/desk/registrations/{w.ana.id}/cancel",
                  ((w.ana.user, 403), (w.manager, 403), (w.other_manager, 404), (w.host, 403)))


def test_a_registration_already_over_offers_nothing_to_cancel(client, db, make, w):
    dora = apply(make, w, "Dora Alpha", "dora@example.org", "reject")
    db.session.commit()
    login(client, w.organizer)
    response = client.get(f"/desk/registrations/{dora.id}/cancel")
    assert response.status_code == 409
    assert "This registration is rejected: there is nothing left to cancel." in (
        response.get_data(as_text=True))

"""Reopening a decision (webapp/services/registrations.py `reopen`, the desk's "Reopen"):
rejected, waitlisted and approved applications go back to submitted, with a reason the
applicant is mailed and an audit entry; an approval reopened frees its seat for the
waiting list, stops its badge and join link and cancels its calendar invitation; the next
approval counts seats and quotas afresh. Refused once the event has started, on a
cancelled event, for what is not a decision, for a stale page and for those who may not
decide it: nothing changed. The races are at the end (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.corrections import (
    MEETING,
    apply,
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
from webapp.models import EventKind, EventQuota, EventStatus, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import calendar, registrations
from webapp.services.errors import NoSeat, RegistrationClosed, RegistrationRefused, StaleDecision

REASON = "The quota was counted wrongly: we look at it again."


@pytest.fixture
def w(db, make, mailbox):
    scene = mission(make)
    forget_mail(db, mailbox)
    return scene


# --------------------------------------------------------------------------- the effects


def test_reopening_a_rejection_puts_it_back_to_decide_with_the_reason(db, make, mailbox, w):
    dora = apply(make, w, "Dora Alpha", "dora@example.org", "reject")
    forget_mail(db, mailbox)

    registrations.reopen(dora.id, actor=w.manager, reason=REASON,
                         expected_status=S.REJECTED)

    db.session.expire_all()
    assert dora.status == S.SUBMITTED and dora.decided_at is None
    last = history(db, dora)[-1]
    assert (last.action, last.from_status, last.to_status, last.reason, last.actor_id) == (
        "registration.reopened", "rejected", "submitted", REASON, w.manager.id)
    [message] = mail_to(mailbox, "dora@example.org")
    assert message["Subject"] == "Your application is being reconsidered: Singapore 2027"
    text = mailbox.text(message)
    assert "has been reopened: the partner managers will decide it again" in text
    assert REASON in text and REASON in html_of(message)
    assert "Your seat is released" not in text  # she never held one
    assert invitation(message) is None
    # Nothing else moved: the seat is still Ana's, nobody promoted, no deciders alerted.
    assert [m["To"] for m in mailbox.messages] == ["dora@example.org"]
    assert w.ana.status == S.APPROVED and w.ben.status == S.WAITLISTED


def test_reopening_a_waitlisted_application_takes_it_off_the_waiting_list(db, mailbox, w):
    registrations.reopen(w.ben.id, actor=w.organizer, reason=REASON)

    db.session.expire_all()
    assert w.ben.status == S.SUBMITTED
    assert w.ben.waitlisted_at is None and w.ben.decided_at is None
    assert history(db, w.ben)[-1].actor_id == w.organizer.id
    [message] = mail_to(mailbox, "ben@example.org")
    assert REASON in mailbox.text(message) and invitation(message) is None


def test_reopening_an_approval_frees_the_seat_for_the_first_in_line(db, mailbox, w):
    assert (w.ana.calendar_uid, w.ana.calendar_sequence) == (
        calendar.invitation_uid(w.ana), 0)  # her approval's invitation

    registrations.reopen(w.ana.id, actor=w.manager, reason=REASON,
                         expected_status=S.APPROVED)

    db.session.expire_all()
    assert (w.ana.status, w.ben.status, w.cem.status) == (S.SUBMITTED, S.APPROVED, S.WAITLISTED)
    assert [(e.action, e.to_status, e.reason) for e in history(db, w.ben)][-1] == (
        "registration.promoted", "approved", "")
    # Ana: the reason, her seat released, the calendar entry removed by a CANCEL of the
    # invitation she holds (same UID, next SEQUENCE).
    [message] = mail_to(mailbox, "ana@example.org")
    text = mailbox.text(message)
    assert REASON in text
    assert ("Your seat is released. Your badge no longer admits you. "
            "The event is removed from your calendar.") in text
    method, vevent = invitation(message)
    assert method == "CANCEL" and str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["UID"]) == calendar.invitation_uid(w.ana)
    assert vevent["SEQUENCE"] == 1 == w.ana.calendar_sequence
    # Ben: the seat, with his own invitation.
    [promoted] = mail_to(mailbox, "ben@example.org")
    assert promoted["Subject"] == "A seat opened up, you're in: Singapore 2027"
    assert invitation(promoted)[0] == "REQUEST"
    assert mail_to(mailbox, "cem@example.org") == []


def test_a_reopened_approval_is_approved_again_only_if_a_seat_is_free(db, w):
    registrations.reopen(w.ana.id, actor=w.manager, reason=REASON)
    with pytest.raises(NoSeat, match="all 1 seats are taken"):
        registrations.decide(w.ana.id, "approve", actor=w.manager)
    registrations.withdraw(w.ben.id, actor=w.ben.user)  # Cem takes the seat Ben leaves
    with pytest.raises(NoSeat):
        registrations.decide(w.ana.id, "approve", actor=w.manager)
    registrations.withdraw(w.cem.id, actor=w.cem.user)

    registrations.decide(w.ana.id, "approve", actor=w.manager, expected_status=S.SUBMITTED)

    db.session.expire_all()
    assert w.ana.status == S.APPROVED


def test_a_reopened_approval_meets_its_clusters_quota_again(db, make, w):
    w.event.capacity = 5
    w.event.quotas.append(EventQuota(partner_id=w.alpha.id, seats=1))
    db.session.flush()
    registrations.reopen(w.ana.id, actor=w.organizer, reason=REASON)  # Ben takes Alpha's seat

    with pytest.raises(NoSeat, match="Alpha's quota of 1 seats for this event is used up"):
        registrations.decide(w.ana.id, "approve", actor=w.organizer)
    db.session.expire_all()
    assert (w.ana.status, w.ben.status) == (S.SUBMITTED, S.APPROVED)


def test_a_reopened_approval_stops_its_badge_at_the_door(client, db, w):
    assert badge_refusal(badge_page(client, w.host, w.ana)) is None
    registrations.reopen(w.ana.id, actor=w.manager, reason=REASON)
    db.session.commit()

    assert badge_refusal(badge_page(client, w.host, w.ana)) == (
        "This badge is not valid: the registration is submitted.")
    response = scan(client, w.host, w.event, w.ana.badge_code)
    assert response.status_code == 400
    assert badge_refusal(response.get_data(as_text=True)) == (
        "This badge is not valid: the registration is submitted.")
    # Neither she nor her manager can download it any more.
    for person in (w.ana.user, w.manager):
        login(client, person)
        assert client.get(f"/registrations/{w.ana.id}/badge.pdf").status_code == 404


def test_a_reopened_approval_stops_its_join_link(client, db, make, mailbox):
    webinar = mission(make, kind=EventKind.WEBINAR)
    forget_mail(db, mailbox)
    assert join_at_start(client, webinar.ana).location == MEETING

    registrations.reopen(webinar.ana.id, actor=webinar.organizer, reason=REASON)
    db.session.commit()

    response = join_at_start(client, webinar.ana)
    assert response.status_code == 403
    assert "meet.example.com" not in response.get_data(as_text=True)
    assert join_at_start(client, webinar.ben).location == MEETING  # promoted: his link opens
    [message] = mail_to(mailbox, "ana@example.org")
    assert "Your personal join link no longer opens the meeting." in mailbox.text(message)


# --------------------------------------------------------------------------- refusals


def test_a_reopen_once_the_event_has_started_is_refused_and_changes_nothing(db, mailbox, w):
    w.event.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = snapshot(db, w)

    with pytest.raises(RegistrationRefused,
                       match="The event has started: its decisions can no longer be reopened"):
        registrations.reopen(w.ana.id, actor=w.organizer, reason=REASON)

    db.session.rollback()  # as the request's unit does after a refusal
    assert snapshot(db, w) == before
    assert mail_to(mailbox, "ana@example.org") == []


def test_a_reopen_on_a_cancelled_event_is_refused(db, w):
    w.event.status = EventStatus.CANCELLED
    db.session.commit()
    with pytest.raises(RegistrationClosed, match="This event has been cancelled"):
        registrations.reopen(w.cem.id, actor=w.organizer, reason=REASON)


@pytest.mark.parametrize("path", [(S.SUBMITTED,), (S.SUBMITTED, S.WITHDRAWN),
                                  (S.SUBMITTED, S.CANCELLED)],
                         ids=lambda path: path[-1].value)
def test_only_a_decision_can_be_reopened(db, make, w, path):
    user = make.user(make.organization(w.alpha))
    reg = make.registration(w.event, user, *path)
    db.session.commit()
    with pytest.raises(RegistrationRefused, match=(
            f"Only a decision can be reopened: this application is {path[-1].value}.")):
        registrations.reopen(reg.id, actor=w.organizer, reason=REASON)


def test_a_reopen_from_a_stale_page_is_refused(db, w):
    registrations.reopen(w.ana.id, actor=w.manager, reason=REASON, expected_status=S.APPROVED)
    db.session.commit()
    with pytest.raises(StaleDecision, match="Already submitted by Mads Manager at "):
        registrations.reopen(w.ana.id, actor=w.organizer, reason="Again.",
                             expected_status=S.APPROVED)


def test_only_those_who_may_decide_it_reopen_a_decision(db, w):
    for outsider in (w.other_manager, w.host, w.ana.user):
        with pytest.raises(RegistrationRefused, match="You may no longer reopen this decision"):
            registrations.reopen(w.cem.id, actor=outsider, reason=REASON)
    db.session.expire_all()
    assert w.cem.status == S.WAITLISTED


# --------------------------------------------------------------------------- shown before


def test_the_consequences_name_the_seat_and_who_would_be_promoted(db, w):
    shown = registrations.consequences(w.ana, S.SUBMITTED)
    assert shown.frees_seat and shown.voids_badge and shown.cancels_invitation
    assert not shown.voids_join_link  # a mission on site: no join link
    assert shown.promoted == [w.ben]
    assert [u.email for u in shown.mailed] == ["ana@example.org", "ben@example.org"]

    quiet = registrations.consequences(w.cem, S.SUBMITTED)
    assert not (quiet.frees_seat or quiet.voids_badge or quiet.cancels_invitation)
    assert quiet.promoted == [] and [u.email for u in quiet.mailed] == ["cem@example.org"]

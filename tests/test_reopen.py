"""Reopening a decision (webapp/services/registrations.py `reopen`, the desk's "Reopen"):
rejected, waitlisted and approved applications go back to submitted, with a reason the
applicant is mailed and an audit entry; an approval reopened frees its seat for the
waiting list, stops its badge and join link and cancels its calendar invitation; the next
approval counts seats and quotas afresh. Refused once the event has started, on a
cancelled event, for what is not a decision, for a stale page and for those who may not
decide it: nothing changed. The races are at the end (SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.backends import BACKENDS
from tests.confirming import confirm, confirmation_form, token_on
from tests.conftest import login
from tests.corrections import (
    MEETING,
    apply,
    badge_refused_after,
    consequences_on,
    forget_mail,
    history,
    html_of,
    invitation,
    join_at_start,
    join_link_refused_after,
    mail_to,
    mission,
    page_text,
    pages_refused,
    refused_once_started,
    snapshot,
)
from tests.factories import Factory
from tests.live import after_seat_count, counts, in_threads, without_capacity_lock
from webapp import unit
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    EventQuota,
    EventStatus,
    OutboxMessage,
    Registration,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import calendar, registrations
from webapp.services.errors import NoSeat, RegistrationClosed, RegistrationRefused, StaleDecision

REASON = "The quota was counted wrongly: we look at it again."
SOON_ENOUGH = timedelta(days=2)


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
    with pytest.raises(NoSeat, match="its 1 seat is taken"):
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

    with pytest.raises(NoSeat, match="The quota of Alpha for this event, 1 seat, is used up"):
        registrations.decide(w.ana.id, "approve", actor=w.organizer)
    db.session.expire_all()
    assert (w.ana.status, w.ben.status) == (S.SUBMITTED, S.APPROVED)


def _reopen(registration_id, actor):
    return registrations.reopen(registration_id, actor=actor, reason=REASON)


def test_a_reopened_approval_stops_its_badge_at_the_door(client, db, w):
    badge_refused_after(client, db, w, _reopen)
    assert w.ana.status == S.SUBMITTED


def test_a_reopened_approval_stops_its_join_link(client, db, make, mailbox):
    webinar = join_link_refused_after(client, db, make, mailbox, _reopen)
    assert join_at_start(client, webinar.ben).location == MEETING  # promoted: his link opens


# --------------------------------------------------------------------------- refusals


def test_a_reopen_once_the_event_has_started_is_refused_and_changes_nothing(db, mailbox, w):
    refused_once_started(db, mailbox, w, _reopen,
                         "The event has started: its decisions can no longer be reopened.")


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


def test_a_reopen_in_recorded_history_is_audited_as_one(db, make, w):
    """Demo data and imports record a reopen as the desk makes one, unmailed."""
    user = make.user(make.organization(w.alpha))
    reg = make.registration(w.event, user, S.SUBMITTED, S.REJECTED, S.SUBMITTED,
                            actor=w.manager)
    assert [(e.action, e.to_status) for e in history(db, reg)] == [
        ("registration.applied", "submitted"), ("registration.rejected", "rejected"),
        ("registration.reopened", "submitted")]


# --------------------------------------------------------------------------- the desk's pages


def test_the_application_page_offers_reopen_to_its_deciders_only(client, db, w):
    reopen, cancel = "desk.reopen", "desk.cancel_registration"
    for person, offered in ((w.manager, {reopen}), (w.organizer, {reopen, cancel}),
                            (w.host, set())):
        login(client, person)
        html = client.get(f"/desk/registrations/{w.ana.id}").get_data(as_text=True)
        assert {link for link in (reopen, cancel) if f'data-testid="{link}"' in html} == offered


def test_the_reopen_page_says_who_is_mailed_the_seat_and_who_takes_it(client, db, w):
    login(client, w.manager)
    response = client.get(f"/desk/registrations/{w.ana.id}/reopen")

    assert response.status_code == 200
    assert consequences_on(response) == [
        "Ana Alpha is mailed that the decision is reopened, with your reason.",
        "Their seat is freed: Ben Alpha, first on the waiting list, takes it and is mailed.",
        "Their badge stops admitting them at the door.",
        "The event is removed from their calendar.",
        "The application is decided again: approving it needs a free seat and room in its "
        "partner's quota, as for any other.",
    ]
    assert "Reopen this decision?" in page_text(response)
    db.session.expire_all()
    assert w.ana.status == S.APPROVED  # looking changes nothing


def test_reopening_from_the_desk_with_a_reason_corrects_the_decision_once(
    client, db, mailbox, w
):
    login(client, w.manager)
    page = client.get(f"/desk/registrations/{w.ana.id}/reopen")

    response = confirm(client, page, reason=REASON)

    assert response.status_code == 302
    assert response.location == f"/desk/registrations/{w.ana.id}"
    db.session.expire_all()
    assert (w.ana.status, w.ben.status) == (S.SUBMITTED, S.APPROVED)
    assert history(db, w.ana)[-1].reason == REASON
    assert REASON in mailbox.text(mail_to(mailbox, "ana@example.org")[0])
    shown = client.get(response.location)
    assert "The decision is reopened" in page_text(shown)
    # The same confirmation posted again (a second click, the back button) does nothing.
    again = confirm(client, page, reason=REASON)
    assert again.status_code == 400
    assert "expired or was already used" in page_text(again)
    assert len([e for e in history(db, w.ana) if e.action == "registration.reopened"]) == 1


def test_a_reopen_without_a_reason_says_so_and_changes_nothing(client, db, mailbox, w):
    login(client, w.manager)
    page = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    before = snapshot(db, w)

    response = confirm(client, page, reason="   ")

    assert response.status_code == 400
    assert "Say why: the applicant receives it." in page_text(response)
    assert 'data-testid="confirmation"' in response.get_data(as_text=True)
    assert snapshot(db, w) == before
    # The page the refusal shows confirms it once the reason is given.
    action, fields = confirmation_form(response.get_data(as_text=True))
    again = client.post(action, data={**dict(fields), "reason": REASON})
    assert again.status_code == 302


@pytest.mark.parametrize("token", ["", "forged", "other target", "other action"])
def test_a_reopen_without_this_pages_token_is_refused(client, db, make, w, token):
    login(client, w.manager)
    page = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    if token == "other target":
        token = token_on(client.get(f"/desk/registrations/{w.ben.id}/reopen")
                         .get_data(as_text=True))
    elif token == "other action":
        login(client, w.organizer)
        token = token_on(client.get(f"/desk/registrations/{w.ana.id}/cancel")
                         .get_data(as_text=True))
        page = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    before = snapshot(db, w)

    response = confirm(client, page, reason=REASON, confirmation=token)

    assert response.status_code == 400
    assert "start again" in page_text(response)
    assert snapshot(db, w) == before


def test_a_reopen_confirmed_once_its_page_is_stale_is_refused(client, db, w):
    login(client, w.manager)
    page = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    before = snapshot(db, w)

    with freeze_time(utcnow() + timedelta(minutes=31)):
        login(client, w.manager)  # a sign-in of that time
        response = confirm(client, page, reason=REASON)

    assert response.status_code == 400
    assert "This confirmation has expired or was already used; start again." in page_text(
        response)
    assert snapshot(db, w) == before


def test_a_reopen_confirmed_after_the_event_started_is_refused(client, db, mailbox, w):
    login(client, w.manager)
    page = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    w.event.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = snapshot(db, w)

    response = confirm(client, page, reason=REASON)

    assert response.status_code == 409
    assert "The event has started: its decisions can no longer be reopened." in page_text(
        response)
    assert snapshot(db, w) == before
    # Asked again, the page is not offered at all.
    response = client.get(f"/desk/registrations/{w.ana.id}/reopen")
    assert response.status_code == 409
    assert 'data-testid="confirmation"' not in response.get_data(as_text=True)
    assert 'data-testid="desk.reopen"' not in response.get_data(as_text=True)


def test_those_who_may_not_decide_it_cannot_reopen_it(client, db, w):
    pages_refused(client, db, w, f"/desk/registrations/{w.ana.id}/reopen",
                  ((w.ana.user, 403), (w.other_manager, 404), (w.host, 403)))


# --------------------------------------------------------------------------- races
#
# Committed data and real connections, one thread per request (tests/test_races.py's
# way): the event's lock serialises a reopen with the decisions that count its seats.



def _two_seats_one_held(make):
    """Two seats: Ana holds one, Ben is undecided, and Wim and Wes were put on the
    waiting list (in that order): the last seat is Ben's to take, and reopening Ana frees
    both for the waiting list. Returns the event's id, the registrations' ids and the two
    deciders' ids."""
    alpha = make.partner(short_name="Alpha")
    organizing = make.partner()
    event = make.event(organizers=[organizing], capacity=2, starts_in=SOON_ENOUGH,
                       registration_opens_at=None)
    manager, organizer = make.manager(alpha), make.manager(organizing)
    people = {name: make.user(make.organization(alpha), name=name)
              for name in ("Ana", "Ben", "Wim", "Wes")}
    db.session.commit()
    ids = {}
    for name, decision in (("Ana", "approve"), ("Wim", "waitlist"), ("Wes", "waitlist"),
                           ("Ben", None)):
        with unit.of_work("set-up"):
            reg = registrations.apply(people[name], event.id, profile_consent=True)
            if decision:
                registrations.decide(reg.id, decision, actor=manager)
            ids[name] = reg.id
    return event.id, ids, manager.id, organizer.id


def _reopen_as(user_id: int, registration_id: int):
    def job():
        with unit.of_work("reopen"):
            return registrations.reopen(
                registration_id, actor=db.session.get(User, user_id), reason=REASON,
                expected_status=S.APPROVED).status
    return job


def _approve_as(user_id: int, registration_id: int):
    def job():
        with unit.of_work("approve"):
            return registrations.decide(registration_id, "approve",
                                        actor=db.session.get(User, user_id)).status
    return job


def _statuses(ids: dict[str, int]) -> dict[str, S]:
    db.session.commit()  # a fresh snapshot
    return {name: db.session.get(Registration, reg_id, populate_existing=True).status
            for name, reg_id in ids.items()}


@pytest.mark.postgres
def test_without_the_lock_a_reopen_and_an_approval_overbook(open_app, monkeypatch):
    """Both count before either writes: the reopen sees two free seats and promotes Wim
    and Wes, the approval sees one and takes it for Ben. The race the lock exists for."""
    app = open_app("postgres")
    without_capacity_lock(monkeypatch)
    make = Factory()
    event_id, ids, manager_id, organizer_id = _two_seats_one_held(make)
    ben_counted, reopen_counted = threading.Event(), threading.Event()
    promotions_counted = []

    def hold(event, reg):
        if reg.id == ids["Ben"]:
            ben_counted.set()
            # Ben's approval writes (and commits) only once the reopen has counted for
            # both on the waiting list, so neither count sees the other's seats.
            assert reopen_counted.wait(10), "the reopen never counted"
            return
        promotions_counted.append(reg.id)
        assert ben_counted.wait(10), "the approval never counted"
        if len(promotions_counted) == 2:
            reopen_counted.set()

    after_seat_count(monkeypatch, hold)

    results = in_threads(app, [_reopen_as(manager_id, ids["Ana"]),
                               _approve_as(organizer_id, ids["Ben"])])

    assert results == [S.SUBMITTED, S.APPROVED]
    assert promotions_counted == [ids["Wim"], ids["Wes"]]
    assert counts(event_id)[S.APPROVED] == 3  # two seats


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reopen_racing_an_approval_for_the_last_seat_never_overbooks(
    open_app, monkeypatch, backend
):
    app = open_app(backend)
    make = Factory()
    event_id, ids, manager_id, organizer_id = _two_seats_one_held(make)
    # Widen the window between counting and writing, so a broken lock would show.
    after_seat_count(monkeypatch, lambda event, reg: time.sleep(0.05))

    reopened, approved = in_threads(app, [_reopen_as(manager_id, ids["Ana"]),
                                          _approve_as(organizer_id, ids["Ben"])])

    assert reopened == S.SUBMITTED
    statuses = _statuses(ids)
    if approved == S.APPROVED:  # Ben first: the seat Ana leaves goes to Wim, first in line
        assert statuses == {"Ana": S.SUBMITTED, "Ben": S.APPROVED, "Wim": S.APPROVED,
                            "Wes": S.WAITLISTED}
    else:  # the reopen first: Wim and Wes take both seats, Ben finds none
        assert isinstance(approved, NoSeat), approved
        assert statuses == {"Ana": S.SUBMITTED, "Ben": S.SUBMITTED, "Wim": S.APPROVED,
                            "Wes": S.APPROVED}
    assert counts(event_id)[S.APPROVED] == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_reopens_of_one_approval_at_once_reopen_it_once(open_app, monkeypatch, backend):
    """Her cluster's manager and an organizer reopen Ana's approval at the same moment:
    one reopen counts (one audit entry, one mail, one promotion), the other is told who
    was first."""
    app = open_app(backend)
    make = Factory()
    event_id, ids, manager_id, organizer_id = _two_seats_one_held(make)
    after_seat_count(monkeypatch, lambda event, reg: time.sleep(0.05))

    results = in_threads(app, [_reopen_as(manager_id, ids["Ana"]),
                               _reopen_as(organizer_id, ids["Ana"])])

    assert sorted(map(type, results), key=str) == sorted([S, StaleDecision], key=str), results
    [refusal] = [r for r in results if isinstance(r, StaleDecision)]
    assert refusal.message.startswith("Already submitted by ")
    db.session.commit()
    reopens = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == ids["Ana"],
        AuditEntry.action == "registration.reopened")).all()
    assert len(reopens) == 1
    promoted = db.session.scalars(select(AuditEntry.registration_id).where(
        AuditEntry.event_id == event_id, AuditEntry.action == "registration.promoted")).all()
    assert sorted(promoted) == sorted([ids["Wim"], ids["Wes"]])  # each once: two seats free
    ana = db.session.get(Registration, ids["Ana"])
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.user_id == ana.user_id,
        OutboxMessage.calendar_method == "CANCEL")) == 1
    assert _statuses(ids) == {"Ana": S.SUBMITTED, "Ben": S.SUBMITTED, "Wim": S.APPROVED,
                              "Wes": S.APPROVED}


"""No overbooking under concurrency: the races the capacity lock prevents, run for real.

Every test here uses committed data and real connections (threads, each with its own app
context and database session; or a live HTTP server), never the rolled-back test session.
A hook patched in after the seat count (`tests.live.after_seat_count`) runs between
counting the seats and writing the decision: the tests use it to hold deciders inside the
race window. They first show the race without the lock (`without_capacity_lock`), then that
the lock closes it.

Each test runs on its own SQLite file and, marked `postgres`, on TEST_DATABASE_URL (the
rows it makes there are deleted afterwards).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.backends import BACKENDS
from tests.factories import Factory
from tests.live import (
    LOCKED,
    add_race_routes,
    after_seat_count,
    apply_race,
    counts,
    in_threads,
    instant_webinar,
    recorded_logs,
    serve,
    smtp_server,
    without_capacity_lock,
)
from webapp import unit
from webapp.extensions import db
from webapp.models import AuditEntry, EventKind, EventQuota, Organization, Registration, User
from webapp.models import RegistrationStatus as S
from webapp.services import registrations
from webapp.services.errors import NoSeat, StaleDecision


def in_unit(name: str, act):
    """`act()` in a unit of work of its own, as a request runs it: committed once."""
    with unit.of_work(name):
        return act()


def approve_as(manager_id: int, registration_id: int):
    def job():
        with unit.of_work("approve"):
            manager = db.session.get(User, manager_id)
            return registrations.decide(registration_id, "approve", actor=manager).status
    return job


def outcome(result) -> str:
    if isinstance(result, S):
        return result.value
    if isinstance(result, NoSeat):
        return "no seat"
    if isinstance(result, OperationalError) and LOCKED in str(result):
        return LOCKED
    return repr(result)


# --------------------------------------------------------------- (a) two deciders, one seat

class PauseAfterCounting:
    """The hook for two deciders: the first one, having counted, waits until the second has
    counted too, or until the second is seen waiting for a lock (then it cannot count
    before the first one commits). `patience` bounds the wait where we cannot look."""

    def __init__(self, first_id: int, someone_waits_for_a_lock, patience: float) -> None:
        self.first_id = first_id
        self.someone_waits_for_a_lock = someone_waits_for_a_lock
        self.patience = patience
        self.first_counted = threading.Event()
        self.second_counted = threading.Event()
        self.second_seen_waiting = False
        self.second_counted_meanwhile = False

    def __call__(self, event, reg) -> None:
        if reg.id != self.first_id:
            self.second_counted.set()
            return
        self.first_counted.set()
        deadline = time.monotonic() + self.patience
        while not self.second_counted.wait(0.02):
            if self.someone_waits_for_a_lock():
                self.second_seen_waiting = True
                break
            if time.monotonic() > deadline:
                break
        self.second_counted_meanwhile = self.second_counted.is_set()


def _waiter_probe(backend: str):
    if backend != "postgres":
        return lambda: False  # SQLite cannot tell; the patience bounds the wait

    def someone_waits_for_a_lock() -> bool:
        with db.engine.connect() as conn:
            return bool(conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")))
    return someone_waits_for_a_lock


def two_deciders_one_seat(open_app, monkeypatch, backend: str, *, lock: bool):
    """Two applications, one seat; two managers approve at the same moment, the second
    starting once the first has counted. Returns (outcomes, approved, hook)."""
    app = open_app(backend)
    if not lock:
        without_capacity_lock(monkeypatch)
    make = Factory()
    cluster = make.partner()
    event = make.event(organizers=[cluster], capacity=1)
    first, second = (make.user(make.organization(cluster)) for _ in range(2))
    managers = [make.manager(cluster).id, make.manager(cluster).id]
    db.session.commit()
    regs = [in_unit("apply", lambda m=member: registrations.apply(
        m, event.id, profile_consent=True).id) for member in (first, second)]
    hook = PauseAfterCounting(regs[0], _waiter_probe(backend), patience=1.0)
    after_seat_count(monkeypatch, hook)

    def second_decider():
        assert hook.first_counted.wait(10), "the first decider never counted"
        return approve_as(managers[1], regs[1])()

    results = in_threads(app, [approve_as(managers[0], regs[0]), second_decider],
                         together=False)
    return [outcome(r) for r in results], counts(event.id).get(S.APPROVED, 0), hook


@pytest.mark.postgres
def test_without_the_lock_two_deciders_both_take_the_last_seat(open_app, monkeypatch):
    outcomes, approved, hook = two_deciders_one_seat(open_app, monkeypatch, "postgres",
                                                     lock=False)
    assert hook.second_counted_meanwhile  # both counted 0 of 1 before either wrote
    assert outcomes == ["approved", "approved"]
    assert approved == 2  # overbooked: the race the lock exists for


@pytest.mark.parametrize("backend", BACKENDS)
def test_with_the_lock_one_decider_gets_the_seat_the_other_no_seat(open_app, monkeypatch,
                                                                  backend):
    outcomes, approved, hook = two_deciders_one_seat(open_app, monkeypatch, backend, lock=True)
    assert not hook.second_counted_meanwhile  # the second counted only after the commit
    if backend == "postgres":
        assert hook.second_seen_waiting  # ... because it waited for the event's row lock
    assert outcomes == ["approved", "no seat"]
    assert approved == 1


@pytest.mark.sqlite
def test_on_sqlite_without_the_lock_the_late_writer_fails_instead_of_overbooking(
    open_app, monkeypatch
):
    """SQLite serialises writers anyway: of two deferred transactions that both read, the
    one that writes second cannot upgrade its stale snapshot and fails at once with
    "database is locked" (no busy timeout helps). No overbooking, but an error page instead
    of a clear "no seat": why the deciding step opens its transaction with BEGIN IMMEDIATE."""
    outcomes, approved, hook = two_deciders_one_seat(open_app, monkeypatch, "sqlite", lock=False)
    assert hook.second_counted_meanwhile
    assert sorted(outcomes) == ["approved", LOCKED]
    assert approved == 1


# ------------------------------------------------ (a2) two managers, one application, at once

@pytest.mark.parametrize("backend", BACKENDS)
def test_two_managers_deciding_one_application_at_once_record_one_decision(open_app, backend):
    """Both saw it submitted; the responsible cluster's manager approves while an
    organizer rejects, at the same moment: one decision is recorded (one audit entry),
    the other manager is told who decided first."""
    app = open_app(backend)
    make = Factory()
    organizing, cluster = make.partner(), make.partner()
    event = make.event(organizers=[organizing], capacity=5)
    member = make.user(make.organization(cluster))
    managers = [make.manager(cluster, name="Ada First"), make.manager(organizing,
                                                                       name="Ben Second")]
    db.session.commit()
    event_id, member_id = event.id, member.id
    names, ids = [m.name for m in managers], [m.id for m in managers]
    reg_id = in_unit("apply", lambda: registrations.apply(
        db.session.get(User, member_id), event_id, profile_consent=True).id)

    def decide_as(index: int, decision: str):
        def job():
            with unit.of_work("decide"):
                return registrations.decide(
                    reg_id, decision, actor=db.session.get(User, ids[index]),
                    reason="Not this time.", expected_status=S.SUBMITTED).status
        return job

    results = in_threads(app, [decide_as(0, "approve"), decide_as(1, "reject")])

    decided = [r for r in results if isinstance(r, S)]
    refused = [r for r in results if isinstance(r, StaleDecision)]
    assert len(decided) == 1 and len(refused) == 1, results
    winner = results.index(decided[0])
    assert refused[0].message.startswith(f"Already {decided[0].value} by {names[winner]} at ")
    assert counts(event_id) == {decided[0]: 1}
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == reg_id, AuditEntry.from_status == "submitted")).all()
    assert [(e.actor_id, e.to_status) for e in entries] == [(ids[winner], decided[0].value)]


# --------------------------------------------------- (b) 200 members, 50 seats, through HTTP

def http_race(open_app, backend: str, **race_options):
    """200 verified members, a 50-seat webinar that confirms at once, a live server and a
    real SMTP server; every member presses "apply" at the same moment."""
    # 200 threads of one process share its pool of 10 connections here, where production
    # runs one request per gunicorn worker: they queue for it (POOL_QUEUE), and a
    # statement may wait on the event's lock behind many others, longer than the usual 5 s.
    app = open_app(backend, DATABASE_TIMEOUT=30)
    add_race_routes(app)
    webinar = instant_webinar(seats=50, applicants=200)
    with recorded_logs() as logs, smtp_server(app) as mail, serve(app) as base_url:
        race = apply_race(base_url, webinar, **race_options)
    return webinar, race, logs, mail


def assert_fair_outcome(webinar, race, logs, mail) -> None:
    assert [r.status for r in race.server_errors()] == []
    assert not [r for r in race.responses if LOCKED in r.body]
    assert not [line for line in logs if LOCKED in line]
    assert {r.status for r in race.responses} <= {200, 302, 303}
    assert counts(webinar.event_id) == {S.APPROVED: 50, S.WAITLISTED: 150}
    assert db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == webinar.event_id, Registration.status == S.WAITLISTED,
        Registration.waitlisted_at.is_(None))) == 0
    # Each applicant is told once: nothing lost, nothing sent twice by racing senders.
    assert {address: mail.get(address, 0) for address in webinar.emails} == {
        address: 1 for address in webinar.emails}
    assert race.seconds < 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_200_members_applying_at_once_over_http_fill_50_seats_and_wait_in_line(
    open_app, backend
):
    assert_fair_outcome(*http_race(open_app, backend))


@pytest.mark.parametrize("backend", BACKENDS)
def test_200_members_correcting_their_profile_while_applying_at_once_over_http(
    open_app, backend
):
    # The profile is written in the same request, before the application: on SQLite that
    # write must open its transaction with BEGIN IMMEDIATE too, or it fails with "database
    # is locked" as soon as another applicant committed since the request's first read.
    webinar, *outcome = http_race(open_app, backend, sector="Mobility")
    assert_fair_outcome(webinar, *outcome)
    assert db.session.scalars(
        select(Organization.sector).join(User, User.organization_id == Organization.id)
        .where(User.id.in_(webinar.user_ids))
    ).all() == ["Mobility"] * 200


# ------------------------------------------------------ (c) 20 approvals, a quota of 5 seats

def quota_race_setup(applicants: int, seats: int):
    make = Factory()
    cluster = make.partner(short_name="Cluster Q")
    event = make.event(organizers=[cluster], capacity=100)
    event.quotas.append(EventQuota(partner_id=cluster.id, seats=seats))
    members = [make.user(make.organization(cluster)) for _ in range(applicants)]
    manager = make.manager(cluster)
    db.session.commit()
    regs = [in_unit("apply", lambda m=m: registrations.apply(
        m, event.id, profile_consent=True).id) for m in members]
    return event.id, manager.id, regs


@pytest.mark.parametrize("backend", BACKENDS)
def test_20_concurrent_approvals_against_a_partner_quota_of_5_approve_exactly_5(
    open_app, monkeypatch, backend
):
    app = open_app(backend)
    event_id, manager_id, regs = quota_race_setup(20, 5)
    # Widen the window between count and write, so a broken lock would show.
    after_seat_count(monkeypatch, lambda event, reg: time.sleep(0.005))

    results = in_threads(app, [approve_as(manager_id, reg_id) for reg_id in regs])

    assert [outcome(r) for r in results].count("approved") == 5
    refusals = [r for r in results if not isinstance(r, S)]
    assert len(refusals) == 15
    assert all(isinstance(r, NoSeat) for r in refusals), refusals
    assert {r.message for r in refusals} == {
        "The quota of Cluster Q for this event, 5 seats, is used up."}
    assert counts(event_id) == {S.APPROVED: 5, S.SUBMITTED: 15}


@pytest.mark.postgres
def test_without_the_lock_20_concurrent_approvals_overrun_a_quota_of_5(open_app, monkeypatch):
    # Twenty deciders must hold a connection at the same time.
    without_capacity_lock(monkeypatch)
    app = open_app("postgres",
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 5})
    event_id, manager_id, regs = quota_race_setup(20, 5)
    all_counted = threading.Barrier(20)
    after_seat_count(monkeypatch, lambda event, reg: all_counted.wait(timeout=20))

    results = in_threads(app, [approve_as(manager_id, reg_id) for reg_id in regs])

    assert [outcome(r) for r in results] == ["approved"] * 20
    assert counts(event_id) == {S.APPROVED: 20}


# --------------------------------------------------- (d) withdrawals racing the waiting list

@pytest.mark.parametrize("backend", BACKENDS)
def test_withdrawals_racing_applications_never_overbook_and_promote_each_once_in_order(
    open_app, monkeypatch, backend
):
    seats, waiting, leaving, arriving = 10, 15, 5, 5
    app = open_app(backend)
    make = Factory()
    cluster = make.partner()
    event = make.event(organizers=[cluster], kind=EventKind.WORKSHOP,
                       requires_approval=False, capacity=seats)
    members = [make.user(make.organization(cluster)) for _ in range(seats + waiting + arriving)]
    db.session.commit()
    event_id = event.id
    regs = [in_unit("apply", lambda m=m: registrations.apply(m, event_id, profile_consent=True))
            for m in members[:-arriving]]
    approved = [r.id for r in regs if r.status == S.APPROVED]
    line = [r.id for r in sorted((r for r in regs if r.status == S.WAITLISTED),
                                 key=lambda r: (r.waitlisted_at, r.id))]
    assert (len(approved), len(line)) == (seats, waiting)
    newcomers = [m.id for m in members[-arriving:]]
    leavers = [(reg_id, db.session.get(Registration, reg_id).user_id)
               for reg_id in approved[:leaving]]

    seen_inside: list[int] = []  # approved seats as each decider saw them, lock held

    def count_inside(event, reg):
        seen_inside.append(db.session.scalar(select(func.count()).select_from(Registration)
                           .where(Registration.event_id == event_id,
                                  Registration.status == S.APPROVED)))
        time.sleep(0.003)  # widen the window

    after_seat_count(monkeypatch, count_inside)
    seen_outside: list[int] = []
    done = threading.Event()

    def watch():  # committed approved seats, polled while the race runs
        with app.app_context():
            while not done.is_set():
                seen_outside.append(counts(event_id).get(S.APPROVED, 0))
                db.session.rollback()
                time.sleep(0.002)

    def withdraw(reg_id, user_id):
        return lambda: in_unit("withdraw", lambda: registrations.withdraw(
            reg_id, actor=db.session.get(User, user_id)).status)

    def apply(user_id):
        return lambda: in_unit("apply", lambda: registrations.apply(
            db.session.get(User, user_id), event_id, profile_consent=True).status)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = in_threads(app, [withdraw(*leaver) for leaver in leavers]
                             + [apply(user_id) for user_id in newcomers])
    finally:
        done.set()
        watcher.join()

    assert [outcome(r) for r in results] == ["withdrawn"] * leaving + ["waitlisted"] * arriving
    assert counts(event_id) == {S.APPROVED: seats, S.WITHDRAWN: leaving,
                                S.WAITLISTED: waiting - leaving + arriving}
    assert seen_inside and max(seen_inside) <= seats
    assert seen_outside and max(seen_outside) <= seats
    promoted = db.session.scalars(
        select(AuditEntry.registration_id).where(AuditEntry.event_id == event_id,
                                                 AuditEntry.action == "registration.promoted")
    ).all()
    assert sorted(promoted) == sorted(set(promoted))  # nobody promoted twice
    assert sorted(promoted) == sorted(line[:leaving])  # the first in line, no one else
    still_waiting = db.session.scalars(
        select(Registration).where(Registration.event_id == event_id,
                                   Registration.status == S.WAITLISTED)
        .order_by(Registration.waitlisted_at, Registration.id)
    ).all()
    assert [r.id for r in still_waiting[:waiting - leaving]] == line[leaving:]
    assert {r.user_id for r in still_waiting[waiting - leaving:]} == set(newcomers)


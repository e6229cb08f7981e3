"""Two phones scanning one badge at the same moment record one attendance, run for real.

Every test here uses committed data and real connections (threads, each with its own app
context and database session; or a live HTTP server), never the rolled-back test session.
A test-side pause holds the first scanner just after it looked for an earlier check-in
(and found none) until the second has looked too, or until it is clear that the second
cannot look yet: that is the window a second row could slip through. The tests first show
what happens there without the protection, then that it holds.

SQLite: the check-in opens its write transaction before it looks (BEGIN IMMEDIATE), so the
second scanner waits and then finds the first one's row. PostgreSQL: both look, both
write; the partial unique index makes the second writer wait for the first and fail, and
the check-in gives it the first one's row.

Each test runs on its own SQLite file and, marked `postgres`, on TEST_DATABASE_URL (the
rows it makes there are deleted afterwards).
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from tests.backends import BACKENDS
from tests.factories import Factory
from tests.live import (
    LOCKED,
    Member,
    add_race_routes,
    at_once,
    form_fields,
    in_threads,
    serve,
    without_capacity_lock,
)
from webapp.extensions import db
from webapp.models import Attendance, Event, User
from webapp.models import RegistrationStatus as S
from webapp.services import attendance, checkin


def door() -> SimpleNamespace:
    """An event that started an hour ago (check-in is open), with an agenda session, one
    approved delegate and two staff members at the door (a host and an organizer),
    committed."""
    make = Factory()
    cluster, organizing, beachhead = make.partner(), make.partner(), make.beachhead()
    event = make.event(organizers=[organizing], hosts=[beachhead], timezone="Asia/Singapore",
                       starts_in=-timedelta(hours=1))
    session = make.session(event, title="Port visit")
    delegate = make.user(make.organization(cluster), name="Ana Alpha")
    reg = make.registration(event, delegate, S.SUBMITTED, S.APPROVED)
    staff = [make.host(beachhead, name="Hana Host"),
             make.manager(organizing, name="Olga Organizer")]
    db.session.commit()
    return SimpleNamespace(event_id=event.id, session_id=session.id, reg_id=reg.id,
                           code=reg.badge_code, staff_ids=[u.id for u in staff],
                           staff_names={u.id: u.name for u in staff})


class PauseAfterLooking:
    """Wraps `attendance.existing`. The first look waits until a second look has happened,
    or `patience` has passed (a second scanner that waits for a lock cannot look)."""

    def __init__(self, look, patience: float) -> None:
        self.look = look
        self.patience = patience
        self.looks = 0
        self.counting = threading.Lock()
        self.second_looked = threading.Event()
        self.second_looked_meanwhile = False

    def __call__(self, registration_id, session_id):
        found = self.look(registration_id, session_id)
        with self.counting:
            self.looks += 1
            nth = self.looks
        if nth == 1:
            self.second_looked_meanwhile = self.second_looked.wait(self.patience)
        elif nth == 2:
            self.second_looked.set()
        return found


@pytest.fixture
def pause(monkeypatch):
    def _pause(patience: float = 1.0) -> PauseAfterLooking:
        hook = PauseAfterLooking(attendance.existing, patience)
        monkeypatch.setattr(attendance, "existing", hook)
        return hook
    return _pause



def scan_as(staff_id: int, w: SimpleNamespace, session_id: int | None):
    """One phone: find the badge by its code and check it in, then commit."""
    def job():
        staff = db.session.get(User, staff_id)
        event = db.session.get(Event, w.event_id)
        registration = checkin.find_badge(w.code)
        result = checkin.check_in(staff, registration, event,
                                  checkin.session_of(event, session_id))
        answer = (result.attendance.id, result.created, result.attendance.recorded_by_id)
        db.session.commit()
        return answer
    return job


def rows(w: SimpleNamespace, session_id: int | None) -> list[Attendance]:
    db.session.commit()  # a fresh read: an open SQLite read would show its old snapshot
    query = select(Attendance).where(Attendance.registration_id == w.reg_id)
    query = query.where(Attendance.session_id.is_(None) if session_id is None
                        else Attendance.session_id == session_id)
    return db.session.scalars(query).all()


def outcome(result) -> str:
    if isinstance(result, OperationalError) and LOCKED in str(result):
        return LOCKED
    if isinstance(result, Exception):
        return repr(result)
    return "created" if result[1] else "already"


def race(app, w: SimpleNamespace, session_id: int | None = None) -> list:
    session_id = w.session_id if session_id == "session" else session_id
    return in_threads(app, [scan_as(staff_id, w, session_id) for staff_id in w.staff_ids])


# ------------------------------------------------------------------- without the protection


@contextmanager
def without_the_unique_index(w: SimpleNamespace):
    """Drop the one-per-event index for the test (then remove the test's rows, which may
    break it, and put it back exactly as the model declares it)."""
    [index] = [i for i in Attendance.__table__.indexes if i.name == "uq_attendances_event"]
    index.drop(db.engine)
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(delete(Attendance).where(Attendance.registration_id == w.reg_id))
        index.create(db.engine)


@pytest.mark.postgres
def test_without_the_unique_index_two_phones_record_the_badge_twice(open_app, pause):
    app = open_app("postgres")
    w = door()
    hook = pause()
    with without_the_unique_index(w):
        results = race(app, w)
        recorded = rows(w, None)
        assert hook.second_looked_meanwhile  # both looked before either wrote
        assert [outcome(r) for r in results] == ["created", "created"]
        assert len(recorded) == 2  # the race the index exists for
    assert rows(w, None) == []


@pytest.mark.sqlite
def test_on_sqlite_without_the_write_lock_the_late_scanner_fails_instead(open_app, pause,
                                                                         monkeypatch):
    """SQLite serialises writers anyway: of two deferred transactions that both looked,
    the one that writes second cannot upgrade its stale snapshot and fails at once with
    "database is locked". One row, but an error page at the door instead of "already
    checked in": why the check-in opens its transaction with BEGIN IMMEDIATE."""
    app = open_app("sqlite")
    without_capacity_lock(monkeypatch)
    w = door()
    hook = pause()

    results = race(app, w)

    assert hook.second_looked_meanwhile
    assert sorted(outcome(r) for r in results) == ["created", LOCKED]
    assert len(rows(w, None)) == 1


# ------------------------------------------------------------------- with the protection


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("checking_in_for", [None, "session"], ids=["event", "session"])
def test_two_phones_scanning_one_badge_at_once_record_one_attendance(
    open_app, pause, backend, checking_in_for
):
    app = open_app(backend)
    w = door()
    hook = pause()

    results = race(app, w, checking_in_for)

    assert sorted(outcome(r) for r in results) == ["already", "created"], results
    [recorded] = rows(w, w.session_id if checking_in_for else None)
    # Both answers name the same attendance: the one recorded, by whoever was first.
    assert {(attendance_id, by) for attendance_id, _created, by in results} == {
        (recorded.id, recorded.recorded_by_id)}
    if backend == "postgres":
        assert hook.second_looked_meanwhile  # both found nothing: the index settled it
    else:
        assert not hook.second_looked_meanwhile  # the second waited for the write lock


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_burst_of_scans_of_one_badge_records_it_once(open_app, backend):
    app = open_app(backend)
    w = door()
    staff = w.staff_ids * 4

    results = in_threads(app, [scan_as(staff_id, w, None) for staff_id in staff])

    assert sorted(outcome(r) for r in results) == ["already"] * 7 + ["created"]
    [recorded] = rows(w, None)
    assert {attendance_id for attendance_id, _created, _by in results} == {recorded.id}


# ------------------------------------------------------------------- at the door, over HTTP


def _heading(body: str) -> str:
    match = re.search(r'data-testid="checkin-result">(.*?)</div>', body, re.S)
    assert match, body[:500]
    return unescape(match.group(1)).strip()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_phones_at_the_door_over_http_check_the_badge_in_once(open_app, pause, backend):
    app = open_app(backend)
    add_race_routes(app)
    w = door()
    page = f"/events/{w.event_id}/checkin"
    with serve(app) as base_url:
        phones = [Member(base_url, staff_id) for staff_id in w.staff_ids]
        for phone in phones:
            phone.sign_in()
            reply = phone.request("GET", page)
            assert reply.status == 200, reply.body[:500]
            phone.form = [(k, w.code if k == "code" else v)
                          for k, v in form_fields(reply.body, page)]
        hook = pause()
        scans = at_once(phones, lambda phone: phone.request("POST", page, phone.form))

    assert [r.status for r in scans.responses] == [200, 200]
    headings = [_heading(r.body) for r in scans.responses]
    assert sorted(h.split(" at ")[0] for h in headings) == ["Already checked in", "Checked in"]
    [recorded] = rows(w, None)
    first = w.staff_names[recorded.recorded_by_id]
    [already] = [h for h in headings if h.startswith("Already")]
    assert already.endswith(f"(Singapore, UTC+8) by {first}.")
    assert all("Ana Alpha" in r.body for r in scans.responses)
    assert hook.looks >= 2

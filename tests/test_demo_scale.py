"""`flask demo --scale N`: the demo and, in bulk, N-1 more steps of the partnership's
activity, as consistent as the services would have left it."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from webapp import demo, demo_scale
from webapp.extensions import db as _db
from webapp.models import (
    Agreement,
    Attendance,
    AuditEntry,
    Event,
    EventKind,
    EventQuota,
    EventStatus,
    Organization,
    Registration,
    SurveyResponse,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.models.registration import DIRECT_ROLES
from webapp.models.search import key


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


COUNTED = (Event, Registration, Organization, User, Attendance, SurveyResponse, Agreement)


@pytest.fixture
def scaled(app, db):
    """The demo at scale 1, its counts, then at scale 2 through the command."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    at_one = {model: count(model) for model in COUNTED}
    began = utcnow()
    second = runner.invoke(args=["demo", "--scale", "2"])
    assert second.exit_code == 0, second.output
    assert "At scale 2 (1 step(s) of the scale added)" in second.output
    return at_one, began, runner


def test_scale_two_adds_a_consistent_step_of_every_kind(scaled):
    at_one, began, _ = scaled
    grown = {model: count(model) - at_one[model] for model in COUNTED}
    # About a tenth of the way from the demo to "10x" (1,000 events, 20,000 registrations).
    assert 90 <= grown[Event] <= 130
    assert 1800 <= grown[Registration] <= 2800
    assert grown[Organization] == 10 * demo_scale.SMES_PER_CLUSTER + \
        demo_scale.TARGET_ORGANIZATIONS
    assert grown[User] > grown[Organization]
    assert grown[Attendance] > 0 and grown[SurveyResponse] > 0 and grown[Agreement] > 0
    kinds = set(_db.session.scalars(select(Event.kind).distinct()))
    assert kinds == set(EventKind)
    assert set(_db.session.scalars(select(Event.status).distinct())) == set(EventStatus)
    assert set(_db.session.scalars(select(Registration.status).distinct())) == set(S)
    assert count(EventQuota) > 0
    # The demo SME has more registrations to page through.
    sme = _db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    assert _db.session.scalar(select(func.count()).where(Registration.user_id == sme.id)) > 5
    assert_histories(began)
    assert_seats_kept()
    assert_search_keys_and_slugs()


def test_the_command_adds_a_step_once_and_the_pages_open(scaled, client, login_as):
    _, _, runner = scaled
    counts = {model: count(model) for model in COUNTED}

    again = runner.invoke(args=["demo", "--scale", "2"])

    assert again.exit_code == 0, again.output
    assert "every step of the scale was already there" in again.output
    assert {model: count(model) for model in COUNTED} == counts
    assert_pages_open(client, login_as)


def assert_histories(began) -> None:
    """Every registration has its audit trail, ending in its status; nothing happened
    after the command ran."""
    last = {}
    for registration_id, to_status in _db.session.execute(
        select(AuditEntry.registration_id, AuditEntry.to_status)
        .where(AuditEntry.registration_id.is_not(None))
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ):
        last[registration_id] = to_status
    rows = _db.session.execute(select(Registration.id, Registration.status,
                                      Registration.applied_at, Registration.waitlisted_at,
                                      Registration.decided_at)).all()
    assert rows and all(row.id in last for row in rows)
    assert [row.id for row in rows if last[row.id] != row.status.value] == []
    assert all(row.applied_at <= began for row in rows)
    assert all(row.decided_at is not None for row in rows
               if row.status in (S.APPROVED, S.REJECTED, S.WAITLISTED))
    # Nothing happened after the command ran; every instant is UTC.
    assert _db.session.scalar(select(func.max(AuditEntry.created_at))) <= utcnow()
    assert _db.session.scalar(select(func.max(Event.created_at))) <= utcnow()


def assert_seats_kept() -> None:
    """No event holds more approved delegates than its capacity or a partner's quota."""
    approved = Registration.status == S.APPROVED, Registration.role.not_in(DIRECT_ROLES)
    overbooked = _db.session.execute(
        select(Event.slug, Event.capacity, func.count(Registration.id))
        .join(Registration, Registration.event_id == Event.id)
        .where(*approved, Event.capacity.is_not(None))
        .group_by(Event.id, Event.slug, Event.capacity)
        .having(func.count(Registration.id) > Event.capacity)
    ).all()
    assert overbooked == []
    taken = Counter(_db.session.execute(
        select(Registration.event_id, Registration.responsible_partner_id).where(*approved)
    ).all())
    quotas = _db.session.execute(
        select(EventQuota.event_id, EventQuota.partner_id, EventQuota.seats)).all()
    assert quotas
    assert [q for q in quotas if taken[(q.event_id, q.partner_id)] > q.seats] == []


def assert_search_keys_and_slugs() -> None:
    for model in (Event, Organization, User):
        rows = _db.session.scalars(select(model)).all()
        assert [row for row in rows
                if row.search_key != key(" ".join(p for p in row.search_text() if p))] == []
    slugs = _db.session.scalars(select(Event.slug)).all()
    assert len(slugs) == len(set(slugs))


def assert_pages_open(client, login_as) -> None:
    assert client.get("/events").status_code == 200
    event = _db.session.scalar(select(Event).where(Event.status == EventStatus.PUBLISHED)
                               .order_by(Event.id.desc()))
    assert client.get(f"/events/{event.slug}").status_code == 200
    manager = _db.session.scalar(select(User).where(User.email == demo.AALBORG.manager_email))
    assert login_as(manager).get("/desk/").status_code == 200
    sme = _db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    page = login_as(sme).get("/account/registrations")
    assert page.status_code == 200

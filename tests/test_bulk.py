"""Bulk decisions, roles on the event, direct registrations and applying on behalf
(webapp/services/registrations.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp import unit
from webapp.models import AuditEntry, EventQuota, EventRole, EventStatus
from webapp.models import RegistrationStatus as S
from webapp.services import registrations
from webapp.services.errors import BulkRefused, NoSeat, RegistrationClosed, RegistrationRefused


@pytest.fixture
def setting(make, db):
    cluster_a, cluster_b = make.partner(short_name="A"), make.partner(short_name="B")
    mission = make.event(capacity=10, organizers=[cluster_a])
    mission.quotas.append(EventQuota(partner_id=cluster_a.id, seats=1))
    manager_a = make.manager(cluster_a)
    db.session.commit()
    return cluster_a, cluster_b, mission, manager_a


def _applicant(make, cluster, event):
    member = make.user(make.organization(cluster))
    return registrations.apply(member, event.id, profile_consent=True)


def _statuses(db, regs):
    for reg in regs:
        db.session.refresh(reg)
    return [reg.status for reg in regs]


def test_bulk_applies_all_when_all_can_be(db, make, setting):
    _, cluster_b, mission, manager_a = setting
    regs = [_applicant(make, cluster_b, mission) for _ in range(3)]
    registrations.decide_many([r.id for r in regs], "waitlist", actor=manager_a)
    assert _statuses(db, regs) == [S.WAITLISTED] * 3


def test_bulk_is_all_or_nothing_and_says_which_and_why(db, make, setting):
    cluster_a, cluster_b, mission, manager_a = setting
    mine_1, mine_2 = (_applicant(make, cluster_a, mission) for _ in range(2))
    decided = _applicant(make, cluster_a, mission)
    registrations.decide(decided.id, "reject", actor=manager_a, reason="Out of scope")
    foreign = _applicant(make, cluster_b, mission)
    ids = [mine_1.id, mine_2.id, decided.id, foreign.id]
    with pytest.raises(BulkRefused) as refusal, unit.of_work("bulk decision"):
        registrations.decide_many(
            ids, "approve", actor=manager_a,
            in_scope=lambda reg: reg.responsible_partner_id == cluster_a.id)
    problems = refusal.value.problems
    assert set(problems) == {mine_2.id, decided.id, foreign.id}
    assert "for this event, 1 seat, is used up" in problems[mine_2.id]
    assert problems[decided.id] == "Already rejected."
    assert problems[foreign.id] == "Not one of the applications you can decide."
    assert _statuses(db, [mine_1, mine_2, foreign]) == [S.SUBMITTED] * 3


def test_bulk_refuses_too_many_ids_and_unknown_decisions(db, setting):
    manager_a = setting[3]
    with pytest.raises(BulkRefused, match="At most 500"):
        registrations.decide_many(list(range(1, 10_001)), "approve", actor=manager_a)
    with pytest.raises(ValueError, match="unknown decision"):
        registrations.decide_many([1], "maybe", actor=manager_a)


def test_no_decision_on_a_cancelled_event(db, make, setting):
    cluster_a, _, mission, manager_a = setting
    reg = _applicant(make, cluster_a, mission)
    mission.status = EventStatus.CANCELLED
    db.session.commit()
    with pytest.raises(RegistrationClosed, match="cancelled"):
        registrations.decide(reg.id, "approve", actor=manager_a)
    with pytest.raises(BulkRefused):
        registrations.decide_many([reg.id], "approve", actor=manager_a)
    assert _statuses(db, [reg]) == [S.SUBMITTED]


def test_hosts_and_staff_registered_directly_sit_outside_capacity(db, make, setting):
    cluster_a, _, _, manager_a = setting
    full = make.event(capacity=1, requires_approval=False, organizers=[cluster_a])
    db.session.commit()
    delegate = _applicant(make, cluster_a, full)
    host = make.user(make.organization(None, country="SG"), name="Wei Ling Tan")
    reg = registrations.register_directly(host, full.id, EventRole.HOST, actor=manager_a)
    assert (reg.status, reg.role) == (S.APPROVED, EventRole.HOST)
    assert delegate.status == S.APPROVED
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == reg.id)).all()[-1]
    assert entry.action == "registration.registered_directly"
    with pytest.raises(RegistrationRefused):
        registrations.register_directly(make.user(), full.id, EventRole.DELEGATE,
                                        actor=manager_a)


def test_a_delegate_turned_staff_frees_a_seat_for_the_waiting_list(db, make, setting):
    cluster_a, _, _, manager_a = setting
    webinar = make.event(capacity=1, requires_approval=False, organizers=[cluster_a])
    db.session.commit()
    first, waiting = (_applicant(make, cluster_a, webinar) for _ in range(2))
    assert _statuses(db, [first, waiting]) == [S.APPROVED, S.WAITLISTED]
    registrations.set_role(first.id, EventRole.STAFF, actor=manager_a)
    assert _statuses(db, [first, waiting]) == [S.APPROVED, S.APPROVED]
    # Back to delegate: no seat left for them, and the unit writes nothing.
    with pytest.raises(NoSeat), unit.of_work("role"):
        registrations.set_role(first.id, EventRole.DELEGATE, actor=manager_a)
    db.session.refresh(first)
    assert first.role == EventRole.STAFF


def test_a_manager_applies_on_behalf_of_a_member_and_it_is_audited(db, make, setting):
    cluster_a, _, mission, manager_a = setting
    member = make.user(make.organization(cluster_a))
    db.session.commit()
    reg = registrations.apply(member, mission.id, profile_consent=True, actor=manager_a,
                              on_behalf=True)
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == reg.id)).all()
    assert (entry.action, entry.actor_id) == ("registration.applied_on_behalf", manager_a.id)
    assert reg.user_id == member.id

"""The registration state machine (webapp/services/registrations.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import AuditEntry, Registration
from webapp.models import RegistrationStatus as S
from webapp.services import registrations
from webapp.services.errors import (
    AlreadyRegistered,
    InvalidTransition,
    RegistrationClosed,
    StaleDecision,
)

ALLOWED = {
    (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.WAITLISTED),
    (S.SUBMITTED, S.WITHDRAWN), (S.SUBMITTED, S.CANCELLED),
    (S.WAITLISTED, S.APPROVED), (S.WAITLISTED, S.REJECTED),
    (S.WAITLISTED, S.WITHDRAWN), (S.WAITLISTED, S.CANCELLED),
    (S.APPROVED, S.WITHDRAWN), (S.APPROVED, S.CANCELLED),
    (S.WITHDRAWN, S.SUBMITTED), (S.WITHDRAWN, S.APPROVED), (S.WITHDRAWN, S.WAITLISTED),
    # A decision reopened (tests/test_reopen.py).
    (S.REJECTED, S.SUBMITTED), (S.WAITLISTED, S.SUBMITTED), (S.APPROVED, S.SUBMITTED),
}
ALL_PAIRS = [(a, b) for a in S for b in S]
# How to reach each status from a fresh application, through allowed steps only.
PATH_TO = {
    S.SUBMITTED: (S.SUBMITTED,),
    S.APPROVED: (S.SUBMITTED, S.APPROVED),
    S.REJECTED: (S.SUBMITTED, S.REJECTED),
    S.WAITLISTED: (S.SUBMITTED, S.WAITLISTED),
    S.WITHDRAWN: (S.SUBMITTED, S.WITHDRAWN),
    S.CANCELLED: (S.SUBMITTED, S.CANCELLED),
}


@pytest.fixture
def cluster(make):
    return make.partner()


@pytest.fixture
def event(make, cluster):
    return make.event(organizers=[cluster], registration_opens_at=None)


@pytest.fixture
def member(make, cluster):
    return make.user(make.organization(cluster))


@pytest.fixture
def manager(make, cluster):
    return make.manager(cluster)


def _history(db, reg):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.registration_id == reg.id).order_by(AuditEntry.id)
    ).all()


def test_the_transition_table_is_exactly_the_designed_one():
    table = {(a, b) for a, targets in registrations.TRANSITIONS.items() if a for b in targets}
    assert table == ALLOWED


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_allowed_transition_changes_status_and_writes_audit_entry(
    db, make, event, member, manager, from_status, to_status
):
    reg = make.registration(event, member, *PATH_TO[from_status], actor=manager)
    before = len(_history(db, reg))
    registrations._transition(reg.id, to_status, actor=manager, action="test", reason="because")
    db.session.refresh(reg)
    assert reg.status == to_status
    history = _history(db, reg)
    assert len(history) == before + 1
    last = history[-1]
    assert (last.from_status, last.to_status) == (from_status.value, to_status.value)
    assert {entry.event_id for entry in history} == {event.id}
    assert last.actor_id == manager.id and last.reason == "because"


@pytest.mark.parametrize(
    ("from_status", "to_status"), [p for p in ALL_PAIRS if p not in ALLOWED]
)
def test_refused_transition_raises_and_changes_nothing(
    db, make, event, member, manager, from_status, to_status
):
    reg = make.registration(event, member, *PATH_TO[from_status], actor=manager)
    db.session.commit()
    before = len(_history(db, reg))
    with pytest.raises(InvalidTransition):
        registrations._transition(reg.id, to_status, actor=manager, action="test")
    db.session.refresh(reg)
    assert reg.status == from_status
    assert len(_history(db, reg)) == before


def test_apply_to_event_that_needs_approval_is_submitted_with_responsible_partner(
    db, event, member, cluster
):
    reg = registrations.apply(member, event.id, profile_consent=True)
    assert reg.status == S.SUBMITTED
    assert reg.responsible_partner_id == cluster.id
    [entry] = _history(db, reg)
    assert (entry.action, entry.from_status, entry.to_status) == (
        "registration.applied", None, "submitted")
    assert entry.event_id == event.id
    assert entry.actor_id == member.id


def test_apply_to_event_without_approval_is_approved_at_once(db, make, cluster, member):
    webinar = make.event(organizers=[cluster], requires_approval=False)
    assert registrations.apply(member, webinar.id, profile_consent=True).status == S.APPROVED


def test_applicant_without_cluster_has_no_responsible_partner(db, make, event):
    visitor = make.user(make.organization(None, country="SG"))
    reg = registrations.apply(visitor, event.id, profile_consent=True)
    assert reg.responsible_partner_id is None


def test_applying_twice_is_refused(db, event, member):
    registrations.apply(member, event.id, profile_consent=True)
    with pytest.raises(AlreadyRegistered):
        registrations.apply(member, event.id, profile_consent=True)
    assert db.session.scalar(select(Registration).where(Registration.user_id == member.id))


def test_withdrawn_member_applies_again_on_the_same_row_with_history_kept(
    db, event, member, manager
):
    first = registrations.apply(member, event.id, profile_consent=True)
    registrations.decide(first.id, "approve", actor=manager)
    registrations.withdraw(first.id, actor=member)
    again = registrations.apply(member, event.id, profile_consent=True)
    assert again.id == first.id
    assert again.status == S.SUBMITTED
    assert again.decided_at is None
    assert [(e.from_status, e.to_status) for e in _history(db, again)] == [
        (None, "submitted"), ("submitted", "approved"), ("approved", "withdrawn"),
        ("withdrawn", "submitted"),
    ]
    assert _history(db, again)[-1].action == "registration.reapplied"


@pytest.mark.parametrize("final", [S.REJECTED, S.CANCELLED])
def test_rejected_or_cancelled_member_cannot_apply_again(db, make, event, member, manager, final):
    make.registration(event, member, *PATH_TO[final], actor=manager)
    with pytest.raises(AlreadyRegistered):
        registrations.apply(member, event.id, profile_consent=True)


def test_apply_outside_registration_window_is_refused(db, make, cluster, member):
    from webapp.models import utcnow

    not_yet = make.event(organizers=[cluster], registration_opens_at=utcnow() + timedelta(days=1))
    with pytest.raises(RegistrationClosed):
        registrations.apply(member, not_yet.id, profile_consent=True)
    past = make.event(organizers=[cluster], starts_in=timedelta(days=-10))
    with pytest.raises(RegistrationClosed):
        registrations.apply(member, past.id, profile_consent=True)
    assert db.session.scalar(select(Registration).where(Registration.user_id == member.id)) is None


def test_draft_event_takes_no_application(db, make, cluster, member):
    from webapp.models import EventStatus

    draft = make.event(organizers=[cluster], status=EventStatus.DRAFT)
    with pytest.raises(RegistrationClosed):
        registrations.apply(member, draft.id, profile_consent=True)


def test_decision_on_a_registration_decided_meanwhile_names_who_and_when(
    db, make, event, member, manager, cluster
):
    other_manager = make.manager(cluster, name="Mette Sørensen")
    reg = registrations.apply(member, event.id, profile_consent=True)
    registrations.decide(reg.id, "approve", actor=other_manager)
    with pytest.raises(StaleDecision, match="Already approved by Mette Sørensen at "):
        registrations.decide(reg.id, "reject", actor=manager, expected_status=S.SUBMITTED)
    db.session.refresh(reg)
    assert reg.status == S.APPROVED


def test_unknown_decision_is_a_programming_error(db, event, member, manager):
    reg = registrations.apply(member, event.id, profile_consent=True)
    with pytest.raises(ValueError, match="unknown decision"):
        registrations.decide(reg.id, "maybe", actor=manager)


def test_record_history_refuses_an_impossible_path(db, make, event, member):
    from webapp.models import utcnow

    with pytest.raises(InvalidTransition):
        registrations.record_history(
            member, event, [(S.SUBMITTED, utcnow(), member, ""), (S.REJECTED, utcnow(), None, ""),
                            (S.APPROVED, utcnow(), None, "")],
            responsible_partner_id=None,
        )

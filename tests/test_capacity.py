"""Capacity, partner quotas, per-company caps and the waiting list
(webapp/services/registrations.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from webapp.inputs.events import EventIn
from webapp.models import AuditEntry, EventKind, EventQuota, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import events as event_admin
from webapp.services import registrations
from webapp.services.errors import NoSeat, RegistrationRefused


@pytest.fixture
def clusters(make):
    return make.partner(short_name="DSC"), make.partner(short_name="BXL")


def _member(make, cluster, organization=None):
    return make.user(organization or make.organization(cluster))


def _apply(user, event):
    return registrations.apply(user, event.id, profile_consent=True)


def _statuses(db, regs):
    for reg in regs:
        db.session.refresh(reg)
    return [reg.status for reg in regs]


def test_instant_event_approves_while_seats_last_then_waitlists_in_arrival_order(
    db, make, clusters
):
    webinar = make.event(requires_approval=False, capacity=2, organizers=[clusters[0]])
    regs = [_apply(_member(make, clusters[0]), webinar) for _ in range(4)]
    assert _statuses(db, regs) == [S.APPROVED, S.APPROVED, S.WAITLISTED, S.WAITLISTED]
    assert regs[2].waitlisted_at <= regs[3].waitlisted_at


def test_approval_beyond_capacity_is_refused_and_changes_nothing(db, make, clusters):
    mission = make.event(capacity=1, organizers=[clusters[0]])
    manager = make.manager(clusters[0])
    first, second = (_apply(_member(make, clusters[0]), mission) for _ in range(2))
    registrations.decide(first.id, "approve", actor=manager)
    with pytest.raises(NoSeat, match=r"The event is full: its 1 seat is taken\."):
        registrations.decide(second.id, "approve", actor=manager)
    assert _statuses(db, [first, second]) == [S.APPROVED, S.SUBMITTED]
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.registration_id == second.id, AuditEntry.to_status == "approved")) is None


def test_partner_quota_limits_that_partners_approvals_only(db, make, clusters):
    dsc, bxl = clusters
    mission = make.event(capacity=10, organizers=[dsc])
    mission.quotas.append(EventQuota(partner_id=dsc.id, seats=1))
    manager = make.admin()
    a1, a2 = (_apply(_member(make, dsc), mission) for _ in range(2))
    b1 = _apply(_member(make, bxl), mission)
    registrations.decide(a1.id, "approve", actor=manager)
    with pytest.raises(NoSeat, match=r"The quota of DSC for this event, 1 seat, is used up\."):
        registrations.decide(a2.id, "approve", actor=manager)
    registrations.decide(b1.id, "approve", actor=manager)
    assert _statuses(db, [a1, a2, b1]) == [S.APPROVED, S.SUBMITTED, S.APPROVED]


def test_per_company_cap_limits_delegates_of_one_organization(db, make, clusters):
    company = make.organization(clusters[0], name="Fjordlys Mobility ApS")
    mission = make.event(max_per_organization=1, organizers=[clusters[0]])
    manager = make.admin()
    colleague_1, colleague_2 = (_apply(make.user(company), mission) for _ in range(2))
    registrations.decide(colleague_1.id, "approve", actor=manager)
    with pytest.raises(NoSeat, match="Fjordlys Mobility ApS already has 1 approved delegate,"):
        registrations.decide(colleague_2.id, "approve", actor=manager)


def test_withdrawal_promotes_the_first_waitlisted_that_fits(db, make, clusters):
    webinar = make.event(requires_approval=False, capacity=1, organizers=[clusters[0]])
    holder, first_waiting, second_waiting = (
        _apply(_member(make, clusters[0]), webinar) for _ in range(3))
    registrations.withdraw(holder.id, actor=holder.user)
    assert _statuses(db, [holder, first_waiting, second_waiting]) == [
        S.WITHDRAWN, S.APPROVED, S.WAITLISTED]
    promotion = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == first_waiting.id).order_by(AuditEntry.id)).all()[-1]
    assert (promotion.action, promotion.actor_id) == ("registration.promoted", None)


def test_promotion_skips_a_waitlisted_registration_whose_quota_is_full(db, make, clusters):
    dsc, bxl = clusters
    webinar = make.event(requires_approval=False, capacity=2, organizers=[dsc])
    webinar.quotas.append(EventQuota(partner_id=dsc.id, seats=1))
    _apply(_member(make, dsc), webinar)  # holds DSC's one quota seat
    bxl_holder = _apply(_member(make, bxl), webinar)
    dsc_waiting = _apply(_member(make, dsc), webinar)
    bxl_waiting = _apply(_member(make, bxl), webinar)
    assert _statuses(db, [dsc_waiting, bxl_waiting]) == [S.WAITLISTED, S.WAITLISTED]
    registrations.cancel(bxl_holder.id, actor=None, reason="Double booking")
    # DSC's quota is still used: the BXL applicant behind gets the seat.
    assert _statuses(db, [dsc_waiting, bxl_waiting]) == [S.WAITLISTED, S.APPROVED]


def test_undecided_applications_are_never_promoted(db, make, clusters):
    mission = make.event(capacity=1, organizers=[clusters[0]])
    manager = make.manager(clusters[0])
    holder, undecided, waitlisted = (_apply(_member(make, clusters[0]), mission)
                                     for _ in range(3))
    registrations.decide(holder.id, "approve", actor=manager)
    registrations.decide(waitlisted.id, "waitlist", actor=manager)
    registrations.withdraw(holder.id, actor=holder.user)
    assert _statuses(db, [undecided, waitlisted]) == [S.SUBMITTED, S.APPROVED]


def test_nobody_is_promoted_after_the_event_started(db, make, clusters):
    webinar = make.event(requires_approval=False, capacity=1, organizers=[clusters[0]],
                         starts_in=timedelta(days=1))
    holder, waiting = (_apply(_member(make, clusters[0]), webinar) for _ in range(2))
    with freeze_time(utcnow() + timedelta(days=1, hours=1)):
        registrations.cancel(holder.id, actor=None)
    assert _statuses(db, [holder, waiting]) == [S.CANCELLED, S.WAITLISTED]


def test_raising_the_capacity_promotes_in_waiting_list_order(db, make, clusters):
    webinar = make.event(requires_approval=False, capacity=1, organizers=[clusters[0]])
    regs = [_apply(_member(make, clusters[0]), webinar) for _ in range(4)]
    webinar.capacity = 3
    db.session.commit()
    promoted = registrations.promote_waitlisted(webinar.id)
    assert [r.id for r in promoted] == [regs[1].id, regs[2].id]
    assert _statuses(db, regs) == [S.APPROVED, S.APPROVED, S.APPROVED, S.WAITLISTED]


def test_admin_raising_capacity_or_quota_promotes(db, make, clusters):
    dsc = clusters[0]
    admin = make.admin()
    webinar = make.event(requires_approval=False, capacity=2, organizers=[dsc])
    webinar.quotas.append(EventQuota(partner_id=dsc.id, seats=1))
    regs = [_apply(_member(make, dsc), webinar) for _ in range(3)]
    assert _statuses(db, regs) == [S.APPROVED, S.WAITLISTED, S.WAITLISTED]
    event_admin.set_quotas(admin, webinar, {dsc.id: 2})
    assert _statuses(db, regs) == [S.APPROVED, S.APPROVED, S.WAITLISTED]


def test_lowering_capacity_below_the_approved_is_refused(db, make, clusters):
    from webapp.services.fields import Refused

    admin = make.admin()
    webinar = make.event(requires_approval=False, capacity=3, organizers=[clusters[0]])
    for _ in range(2):
        _apply(_member(make, clusters[0]), webinar)
    zone = webinar.zone
    details = EventIn.from_values(
        kind=webinar.kind, title=webinar.title, timezone=webinar.timezone,
        starts_local=webinar.starts_at.astimezone(zone).replace(tzinfo=None),
        ends_local=webinar.ends_at.astimezone(zone).replace(tzinfo=None),
        target_country=webinar.target_country, organizer_ids=[clusters[0].id],
        slug=webinar.slug, capacity=1, requires_approval=False,
    )
    with pytest.raises(Refused) as refusal:
        event_admin.update(admin, webinar, details)
    assert "2 registrations are already approved" in refusal.value.errors["capacity"]
    db.session.refresh(webinar)
    assert webinar.capacity == 3


def test_reapplying_to_a_full_instant_event_joins_the_end_of_the_waiting_list(db, make, clusters):
    webinar = make.event(requires_approval=False, capacity=1, organizers=[clusters[0]])
    member, other = _member(make, clusters[0]), _member(make, clusters[0])
    first = _apply(member, webinar)
    registrations.withdraw(first.id, actor=member)
    _apply(other, webinar)
    again = _apply(member, webinar)
    assert again.id == first.id and again.status == S.WAITLISTED


def test_unverified_account_cannot_apply(db, make, clusters):
    webinar = make.event(requires_approval=False, organizers=[clusters[0]])
    member = _member(make, clusters[0])
    member.email_verified_at = None
    with pytest.raises(RegistrationRefused, match="confirm your email"):
        _apply(member, webinar)


def test_missions_need_the_profile_consent_webinars_do_not(db, make, clusters):
    mission = make.event(organizers=[clusters[0]])
    webinar = make.event(requires_approval=False, organizers=[clusters[0]],
                         kind=EventKind.WEBINAR)
    member = _member(make, clusters[0])
    db.session.commit()  # a refusal rolls the service's transaction back
    with pytest.raises(RegistrationRefused, match="company profile"):
        registrations.apply(member, mission.id)
    reg = registrations.apply(member, webinar.id, contact_consent=True)
    assert reg.profile_consent_at is None
    assert reg.contact_consent_version == "2026-11" and reg.contact_consent_at is not None


def test_withdrawing_after_the_start_is_refused_and_changes_nothing(db, make, clusters):
    webinar = make.event(requires_approval=False, organizers=[clusters[0]],
                         starts_in=timedelta(hours=2))
    member = _member(make, clusters[0])
    reg = _apply(member, webinar)
    with freeze_time(utcnow() + timedelta(hours=3)), pytest.raises(
            RegistrationRefused, match="The event has started"):
        registrations.withdraw(reg.id, actor=member)
    assert _statuses(db, [reg]) == [S.APPROVED]

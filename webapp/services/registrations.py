"""The registration state machine: the only code that changes a registration's status.

    submitted  -> approved | rejected | waitlisted | withdrawn | cancelled
    waitlisted -> approved | rejected | withdrawn | cancelled
    approved   -> withdrawn | cancelled
    withdrawn  -> submitted (the member applies again; same row, history kept)

Events without approval put an application straight to `approved`. Every transition
writes its AuditEntry in the same transaction; capacity, quotas and mail hook in here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry, Event, Registration, User, utcnow
from ..models import RegistrationStatus as S
from .errors import AlreadyRegistered, InvalidTransition, RegistrationClosed, StaleDecision
from .locking import lock_event

TRANSITIONS: dict[S | None, frozenset[S]] = {
    None: frozenset({S.SUBMITTED, S.APPROVED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.WAITLISTED, S.WITHDRAWN, S.CANCELLED}),
    S.WAITLISTED: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED}),
    S.APPROVED: frozenset({S.WITHDRAWN, S.CANCELLED}),
    S.WITHDRAWN: frozenset({S.SUBMITTED, S.APPROVED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

# The decisions a partner manager or organizer takes, by the status they lead to.
DECISIONS: dict[str, S] = {"approve": S.APPROVED, "reject": S.REJECTED, "waitlist": S.WAITLISTED}


def can_transition(from_status: S | None, to_status: S) -> bool:
    return to_status in TRANSITIONS[from_status]


def _move(
    reg: Registration,
    to_status: S,
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    now: datetime | None = None,
) -> AuditEntry:
    from_status = reg.status
    if not can_transition(from_status, to_status):
        raise InvalidTransition(from_status and from_status.value, to_status.value)
    now = now or utcnow()
    reg.status = to_status
    reg.updated_at = now
    if to_status in (S.APPROVED, S.REJECTED, S.WAITLISTED):
        reg.decided_at = now
    entry = AuditEntry(
        created_at=now,
        actor=actor,
        action=action,
        registration=reg,
        event=reg.event,
        from_status=from_status and from_status.value,
        to_status=to_status.value,
        reason=reason,
    )
    db.session.add(entry)
    return entry


def _status_for_new_application(event: Event) -> S:
    return S.SUBMITTED if event.requires_approval else S.APPROVED


def apply(user: User, event_id: int, *, actor: User | None = None) -> Registration:
    """A member applies to an event (or applies again after withdrawing)."""
    now = utcnow()
    try:
        event = lock_event(event_id)
        if not event.registration_is_open(now):
            raise RegistrationClosed("Registration for this event is not open.")
        reg = db.session.execute(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == user.id
            )
        ).scalar_one_or_none()
        to_status = _status_for_new_application(event)
        if reg is None:
            organization = user.organization
            reg = Registration(
                event=event,
                user=user,
                applied_at=now,
                responsible_partner_id=organization.home_cluster_id if organization else None,
            )
            db.session.add(reg)
            action = "registration.applied"
        elif reg.status == S.WITHDRAWN:
            organization = user.organization
            reg.responsible_partner_id = organization.home_cluster_id if organization else None
            reg.applied_at = now
            reg.decided_at = None
            action = "registration.reapplied"
        else:
            raise AlreadyRegistered("You have already applied to this event.")
        _move(reg, to_status, actor=actor or user, action=action, now=now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reg


def _transition(
    registration_id: int,
    to_status: S,
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    expected_status: S | None = None,
) -> Registration:
    try:
        event_id = db.session.execute(
            select(Registration.event_id).where(Registration.id == registration_id)
        ).scalar_one()
        lock_event(event_id)
        reg = db.session.execute(
            select(Registration)
            .where(Registration.id == registration_id)
            .execution_options(populate_existing=True)
        ).scalar_one()
        if expected_status is not None and reg.status != expected_status:
            raise _stale(reg)
        _move(reg, to_status, actor=actor, action=action, reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reg


def _stale(reg: Registration) -> StaleDecision:
    last = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.registration_id == reg.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    who = last.actor.name if last and last.actor else "the system"
    when = last.created_at.strftime("%Y-%m-%d %H:%M UTC") if last else "an earlier time"
    return StaleDecision(f"Already {reg.status.value} by {who} at {when}.")


def decide(
    registration_id: int,
    decision: str,
    *,
    actor: User,
    reason: str = "",
    expected_status: S | None = None,
) -> Registration:
    """Approve, reject or waitlist an application. `expected_status` is the status the
    decider saw; if someone else decided meanwhile the decision is refused."""
    try:
        to_status = DECISIONS[decision]
    except KeyError:
        raise ValueError(f"unknown decision {decision!r}") from None
    return _transition(
        registration_id,
        to_status,
        actor=actor,
        action=f"registration.{to_status.value}",
        reason=reason,
        expected_status=expected_status,
    )


def withdraw(registration_id: int, *, actor: User, reason: str = "") -> Registration:
    """The member takes their application back (they may apply again later)."""
    return _transition(
        registration_id, S.WITHDRAWN, actor=actor, action="registration.withdrawn", reason=reason
    )


def cancel(registration_id: int, *, actor: User | None, reason: str = "") -> Registration:
    """Organizers cancel a registration (final)."""
    return _transition(
        registration_id, S.CANCELLED, actor=actor, action="registration.cancelled", reason=reason
    )


def record_history(
    user: User,
    event: Event,
    steps: list[tuple[S, datetime, User | None, str]],
    *,
    responsible_partner_id: int | None,
) -> Registration:
    """Record a registration that already happened (demo data, imports): each step
    (status, when, actor, reason) goes through the same transition rules and audit
    entries as a live one. The caller commits."""
    if not steps:
        raise ValueError("a registration needs at least one step")
    reg = Registration(
        event=event, user=user, applied_at=steps[0][1],
        responsible_partner_id=responsible_partner_id,
    )
    db.session.add(reg)
    for status, when, actor, reason in steps:
        action = "registration.applied" if reg.status is None else f"registration.{status.value}"
        if reg.status == S.WITHDRAWN:
            action = "registration.reapplied"
            reg.applied_at = when
        _move(reg, status, actor=actor, action=action, reason=reason, now=when)
    return reg

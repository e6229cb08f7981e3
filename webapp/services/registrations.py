"""The registration state machine: the only code that changes a registration's status.

    submitted  -> approved | rejected | waitlisted | withdrawn | cancelled
    waitlisted -> approved | rejected | withdrawn | cancelled | submitted (reopened)
    approved   -> withdrawn | cancelled | submitted (reopened)
    rejected   -> submitted (reopened)
    withdrawn  -> submitted | approved | waitlisted (the member applies again; same row,
                  history kept; as a first application would)

Events without approval approve an application at once while seats last and waitlist
the rest; a newcomer's quick registration (`register_newcomer`) is approved or refused,
never waitlisted, in the transaction that creates their account. Every approval checks
capacity, the responsible partner's quota and the per-organization cap with the event
locked (services.locking); a freed seat goes to the first waitlisted registration that
fits. Every transition writes its AuditEntry and queues its mail in the same
transaction: the caller's unit of work (webapp.unit), which commits it once; nothing here
commits or rolls back, so a refusal leaves the unit to roll back. A decision is checked
under the event's lock against the status the decider saw and against who may decide
the registration now, so a decision posted twice, by two managers at once or after the
member withdrew is recorded once.

A decision taken by mistake is corrected before the event starts, always with a reason
the applicant is mailed: whoever may decide the registration reopens it (`reopen`: back
to submitted, to be decided again, when seats and quotas are counted afresh), and the
event's organizers may cancel one registration for good (`cancel_one`). Leaving an
approved seat frees it for the waiting list and cancels the calendar invitation; the
badge and the join link admit only an approved registration, so they stop working with
it. `consequences` says all of that before anyone confirms.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, true

from .. import access
from ..extensions import db
from ..inputs.registrations import MAX_BULK
from ..models import (
    DIRECT_ROLES,
    Answer,
    AuditEntry,
    Event,
    EventRole,
    EventStatus,
    Registration,
    User,
    utcnow,
)
from ..models import RegistrationStatus as S
from . import meeting_requests, questions, registration_mail
from .errors import (
    AlreadyRegistered,
    BulkItemRefused,
    BulkRefused,
    DomainError,
    InvalidTransition,
    NoSeat,
    RegistrationClosed,
    RegistrationRefused,
    StaleDecision,
)
from .locking import lock_event

TRANSITIONS: dict[S | None, frozenset[S]] = {
    # A new application: submitted (approval needed), or approved / waitlisted at once.
    None: frozenset({S.SUBMITTED, S.APPROVED, S.WAITLISTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.WAITLISTED, S.WITHDRAWN, S.CANCELLED}),
    S.WAITLISTED: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED, S.SUBMITTED}),
    S.APPROVED: frozenset({S.WITHDRAWN, S.CANCELLED, S.SUBMITTED}),
    S.WITHDRAWN: frozenset({S.SUBMITTED, S.APPROVED, S.WAITLISTED}),
    # A decision taken by mistake is reopened (`reopen`): back to be decided again.
    S.REJECTED: frozenset({S.SUBMITTED}),
    S.CANCELLED: frozenset(),
}

# The decisions a partner manager or organizer takes, by the status they lead to.
DECISIONS: dict[str, S] = {"approve": S.APPROVED, "reject": S.REJECTED, "waitlist": S.WAITLISTED}


DECIDED = frozenset(DECISIONS.values())
# The decisions that can be reopened (back to submitted, to be decided again).
REOPENABLE = frozenset({S.REJECTED, S.WAITLISTED, S.APPROVED})


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
    notify: bool = True,
) -> AuditEntry:
    from_status = reg.status
    if not can_transition(from_status, to_status):
        raise InvalidTransition(from_status and from_status.value, to_status.value)
    now = now or utcnow()
    reg.status = to_status
    reg.updated_at = now
    if to_status in DECIDED:
        reg.decided_at = now
    elif to_status == S.SUBMITTED:
        # Undecided again (applied anew, or reopened): a later waiting list is joined anew.
        reg.decided_at = None
        reg.waitlisted_at = None
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
    if notify:
        registration_mail.transitioned(reg, from_status, to_status, reason, action)
    return entry


def _approved(event_id: int):
    """Approved seats: hosts and staff registered directly sit outside capacity and quotas."""
    return select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status == S.APPROVED,
        Registration.role.not_in(DIRECT_ROLES),
    )


def seat_problem(event: Event, reg: Registration) -> NoSeat | None:
    """Why approving `reg` would overbook `event` (capacity, its partner's quota, its
    organization's cap), or None when it fits. Call it with the event locked; a new
    registration is counted before it joins the session."""
    db.session.flush()  # count the moves this transaction already made
    return _seat_problem(event, reg)


def _seat_problem(event: Event, reg: Registration, *, vacated: Registration | None = None,
                  joining: Sequence[Registration] = ()) -> NoSeat | None:
    """`seat_problem` as the seats would be if `vacated` left its seat and `joining`
    (waitlisted) had taken theirs: what a correction would do, shown before it is made."""
    others = Registration.id != reg.id if reg.id is not None else true()
    if vacated is not None:
        others = others & (Registration.id != vacated.id)

    def taken(alike: Callable[[Registration], bool], *where) -> int:
        return (db.session.scalar(_approved(event.id).where(others, *where))
                + sum(1 for other in joining if alike(other)))

    problem = None
    if event.capacity is not None and taken(lambda other: True) >= event.capacity:
        problem = NoSeat("seat.capacity_reached", capacity=event.capacity)
    quota = next((q for q in event.quotas if q.partner_id == reg.responsible_partner_id), None)
    if problem is None and quota is not None and taken(
            lambda other: other.responsible_partner_id == quota.partner_id,
            Registration.responsible_partner_id == quota.partner_id) >= quota.seats:
        problem = NoSeat("quota.exceeded", partner=quota.partner.short_name,
                         seats=quota.seats)
    organization_id = reg.user.organization_id
    if problem is None and event.max_per_organization is not None and organization_id and taken(
            lambda other: other.user.organization_id == organization_id,
            Registration.user_id.in_(select(User.id).where(
                User.organization_id == organization_id))) >= event.max_per_organization:
        problem = NoSeat("seat.company_cap_reached", organization=reg.user.organization.name,
                         cap=event.max_per_organization)
    return problem


def _approve(reg: Registration, event: Event, *, actor: User | None, action: str,
             reason: str = "", now: datetime | None = None) -> None:
    problem = seat_problem(event, reg)
    if problem is not None:
        raise problem
    _move(reg, S.APPROVED, actor=actor, action=action, reason=reason, now=now)


def _waitlist(reg: Registration, *, actor: User | None, action: str, reason: str = "",
              now: datetime | None = None) -> None:
    now = now or utcnow()
    _move(reg, S.WAITLISTED, actor=actor, action=action, reason=reason, now=now)
    reg.waitlisted_at = now


def _promotes(event: Event, now: datetime) -> bool:
    """Whether a freed seat goes to the waiting list now: not once the event has started."""
    return now < event.starts_at and event.status == EventStatus.PUBLISHED


def _waiting_line(event: Event, fits: Callable[[Registration], bool],
                  full: Callable[[], bool]) -> Iterator[Registration]:
    """The waitlisted registrations of `event` that `fits`, in the order they joined the
    waiting list, until the event is `full`: each is asked once the one before it was
    dealt with (approved, or counted as if it were)."""
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
        .order_by(Registration.waitlisted_at, Registration.id)
    ).all()
    for reg in waiting:
        if fits(reg):
            yield reg
        elif full():
            return  # nobody further down fits either


def _promote(event: Event, now: datetime) -> list[Registration]:
    """Approve, in the order they joined the waiting list, the waitlisted registrations
    that now fit. Undecided (submitted) applications are never promoted, and nobody is
    promoted once the event has started."""
    if not _promotes(event, now):
        return []
    promoted = []
    for reg in _waiting_line(
            event, lambda reg: seat_problem(event, reg) is None,
            lambda: event.capacity is not None
            and db.session.scalar(_approved(event.id)) >= event.capacity):
        _move(reg, S.APPROVED, actor=None, action="registration.promoted", now=now)
        promoted.append(reg)
    return promoted


def promote_waitlisted(event_id: int) -> list[Registration]:
    """After a capacity or a quota was raised: fill the new seats from the waiting list."""
    event = lock_event(event_id)
    promoted = _promote(event, utcnow())
    return promoted


def _store_answers(reg: Registration, answers: dict[int, Any]) -> None:
    existing = {a.question_id: a for a in reg.answers}
    for question_id, value in answers.items():
        if question_id in existing:
            existing[question_id].value = value
        else:
            reg.answers.append(Answer(question_id=question_id, value=value))


def apply(
    user: User,
    event_id: int,
    *,
    answers: dict[int, Any] | None = None,
    profile_consent: bool = False,
    contact_consent: bool = False,
    actor: User | None = None,
    on_behalf: bool = False,
) -> Registration:
    """A verified member applies to an event (or applies again after withdrawing).

    Events that need approval take the application as `submitted`; the others approve it
    while seats last and put the rest on the waiting list, in arrival order."""
    if not user.is_verified:
        raise RegistrationRefused("registration.email_unconfirmed")
    event = lock_event(event_id)
    reg = _apply_locked(user, event, answers=answers or {},
                        profile_consent=profile_consent, contact_consent=contact_consent,
                        actor=actor or user, on_behalf=on_behalf)
    return reg


def register_newcomer(event_id: int, create_account: Callable[[Event], User]) -> Registration:
    """Quick registration: `create_account(event)` makes the newcomer's account (and
    whatever goes with it) once the event is locked, and the newcomer is approved at once,
    in the same transaction: an account is never left without the registration it was
    made for. Only for events without approval; a full event refuses instead of putting
    a stranger on the waiting list."""
    event = lock_event(event_id)
    if event.requires_approval:
        raise RegistrationRefused("registration.quick_not_offered")
    user = create_account(event)
    reg = _apply_locked(user, event, answers={}, profile_consent=False,
                        contact_consent=False, actor=user, on_behalf=False,
                        waitlist=False)
    return reg


def _apply_locked(
    user: User,
    event: Event,
    *,
    answers: dict[int, Any],
    profile_consent: bool,
    contact_consent: bool,
    actor: User,
    on_behalf: bool,
    waitlist: bool = True,
) -> Registration:
    """An application to `event`, locked by the caller."""
    now = utcnow()
    if not event.registration_is_open(now):
        raise RegistrationClosed("registration.not_open")
    if event.kind.is_mission and not profile_consent:
        raise RegistrationRefused("registration.consent_needed")
    answers = questions.clean_answers(event, answers)
    reg = db.session.execute(
        select(Registration).where(
            Registration.event_id == event.id, Registration.user_id == user.id
        )
    ).scalar_one_or_none()
    organization = user.organization
    if reg is None:
        # Added to the session with its first status (by the audit entry of _move).
        reg = Registration(event=event, user=user)
        action = "registration.applied_on_behalf" if on_behalf else "registration.applied"
    elif reg.status == S.WITHDRAWN:
        reg.decided_at = None
        reg.waitlisted_at = None
        action = "registration.applied_on_behalf" if on_behalf else "registration.reapplied"
    else:
        raise AlreadyRegistered("registration.already_applied")
    reg.applied_at = now
    reg.responsible_partner_id = organization.home_cluster_id if organization else None
    version = current_app.config["CONSENT_VERSION"]
    reg.profile_consent_version, reg.profile_consent_at = (
        (version, now) if profile_consent else (None, None))
    reg.contact_consent_version, reg.contact_consent_at = (
        (version, now) if contact_consent else (None, None))
    _store_answers(reg, answers)
    if event.requires_approval:
        _move(reg, S.SUBMITTED, actor=actor, action=action, now=now)
    elif (problem := seat_problem(event, reg)) is None:
        _move(reg, S.APPROVED, actor=actor, action=action, now=now)
    elif waitlist:
        _waitlist(reg, actor=actor, action=action, now=now)
    else:
        raise problem
    return reg


def seats_left(event: Event) -> int | None:
    """How many seats an ordinary applicant may still take (None: no capacity), counted
    without a lock: for telling people early, never for deciding."""
    if event.capacity is None:
        return None
    return max(0, event.capacity - db.session.scalar(_approved(event.id)))


def update_answers(registration_id: int, answers: dict[int, Any], *, actor: User) -> Registration:
    """Answers can change until the application is decided."""
    event_id = db.session.scalar(
        select(Registration.event_id).where(Registration.id == registration_id))
    event = lock_event(event_id)
    reg = db.session.get(Registration, registration_id, populate_existing=True)
    if reg.status != S.SUBMITTED:
        raise RegistrationRefused("registration.answers_decided")
    _store_answers(reg, questions.clean_answers(event, answers, keep_empty=True))
    db.session.add(AuditEntry(actor=actor, action="registration.answers_updated",
                              registration=reg, event=event))
    return reg


def _transition(
    registration_id: int,
    to_status: S,
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    expected_status: S | None = None,
    before_start: bool = False,
    decider: User | None = None,
    rule: str = "registration.decide",
    correcting: bool = False,
) -> Registration:
    """Move a registration under its event's lock. `decider`: the manager deciding, whose
    right to `rule` is checked here, on the registration and roles as they are now;
    `correcting`: the move corrects a decision (`check_correction`)."""
    event_id = db.session.execute(
        select(Registration.event_id).where(Registration.id == registration_id)
    ).scalar_one()
    event = lock_event(event_id)
    reg = db.session.execute(
        select(Registration)
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if decider is not None:
        _check_decider(decider, reg, event, rule)
    if expected_status is not None and reg.status != expected_status:
        raise _stale(reg)
    now = utcnow()
    if correcting:
        check_correction(reg, to_status, now)
    if to_status in DECIDED and event.status == EventStatus.CANCELLED:
        raise RegistrationClosed("event.cancelled_nothing_decided")
    if before_start and now >= event.starts_at:
        raise RegistrationRefused("registration.started_no_withdrawal")
    freed_a_seat = reg.status == S.APPROVED
    if to_status == S.APPROVED:
        _approve(reg, event, actor=actor, action=action, reason=reason, now=now)
    elif to_status == S.WAITLISTED:
        _waitlist(reg, actor=actor, action=action, reason=reason, now=now)
    else:
        _move(reg, to_status, actor=actor, action=action, reason=reason, now=now)
    if to_status in (S.WITHDRAWN, S.CANCELLED):
        # Its matchmaking ends with it: open requests and meetings, the other sides told.
        meeting_requests.end_for_registration(
            reg.id, cause=f"registration_{to_status.value}", actor=actor)
    if freed_a_seat:
        _promote(event, now)
    db.session.flush()
    return reg


def _reread_scope(user: User, event: Event) -> None:
    """Forget the roles and organizers read before the lock: a grant revoked, or an
    organizer removed, by a transaction that committed meanwhile counts."""
    db.session.expire(user, ["grants"])
    db.session.expire(event, ["organizers"])


# Why someone who saw a registration's page may no longer act on it, by the rule.
NO_LONGER_ALLOWED = {
    "registration.decide": "registration.no_longer_yours_to_decide",
    "registration.reopen": "registration.no_longer_yours_to_reopen",
    "registration.cancel": "registration.no_longer_yours_to_cancel",
}


def _check_decider(user: User, reg: Registration, event: Event,
                   rule: str = "registration.decide") -> None:
    """Refuse a decision (or a correction, by its `rule`) by someone who may not take it
    on `reg` now (`event` locked): the page they acted from may be older than a role
    revoked or an applicant moved to another cluster."""
    _reread_scope(user, event)
    if not access.can(user, rule, reg):
        raise RegistrationRefused(NO_LONGER_ALLOWED[rule])


def _stale(reg: Registration) -> StaleDecision:
    last = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.registration_id == reg.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    by = last.actor.name if last and last.actor else None
    at = last.created_at if last else None
    when = at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"
    if reg.status == S.WITHDRAWN:
        return StaleDecision("decision.withdrawn_meanwhile", status=reg.status.value, by=by,
                             at=at, when=when)
    if by is None:
        return StaleDecision("decision.taken_by_system", status=reg.status.value, by=by,
                             at=at, when=when)
    return StaleDecision("decision.taken_meanwhile", status=reg.status.value, by=by, at=at,
                         who=by, when=when)


def decide(
    registration_id: int,
    decision: str,
    *,
    actor: User,
    reason: str = "",
    expected_status: S | None = None,
) -> Registration:
    """Approve, reject or waitlist an application. `expected_status` is the status the
    decider saw; if someone else decided meanwhile (or the member withdrew) the decision
    is refused, and so is one by an actor who may not decide it any more: both checked
    under the event's lock, so of two managers deciding at once one decision counts."""
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
        decider=actor,
    )


def withdraw(registration_id: int, *, actor: User, reason: str = "") -> Registration:
    """The member takes their application back (they may apply again later), up to the
    start of the event: after that the organizers cancel instead."""
    return _transition(
        registration_id, S.WITHDRAWN, actor=actor, action="registration.withdrawn", reason=reason,
        before_start=True
    )


def cancel(registration_id: int, *, actor: User | None, reason: str = "") -> Registration:
    """Cancel a registration (final) with its whole event (services.events.cancel)."""
    return _transition(
        registration_id, S.CANCELLED, actor=actor, action="registration.cancelled", reason=reason
    )


# --------------------------------------------------------------------------- corrections


def check_correction(reg: Registration, to_status: S, now: datetime | None = None) -> None:
    """Refuse to correct `reg` to `to_status` (submitted: reopened; cancelled) when that
    cannot happen now: only a decision is reopened, only a registration still open or
    approved is cancelled, and either only before its event starts, unless cancelled."""
    now = now or utcnow()
    event = reg.event
    if to_status == S.SUBMITTED and reg.status not in REOPENABLE:
        raise RegistrationRefused("registration.reopen_not_decided", status=reg.status)
    if to_status == S.CANCELLED and not can_transition(reg.status, S.CANCELLED):
        raise RegistrationRefused("registration.nothing_to_cancel", status=reg.status)
    if to_status not in (S.SUBMITTED, S.CANCELLED):
        raise ValueError(f"no correction leads to {to_status}")
    if event.status == EventStatus.CANCELLED:
        raise RegistrationClosed("event.cancelled_nothing_decided")
    if now >= event.starts_at:
        raise RegistrationRefused(
            "registration.started_no_reopening" if to_status == S.SUBMITTED else
            "registration.started_no_cancelling")


def reopen(registration_id: int, *, actor: User, reason: str,
           expected_status: S | None = None) -> Registration:
    """Put a decision (approved, rejected, waiting list) back to be decided again, before
    the event starts: whoever may decide the registration, with a reason the applicant is
    mailed. An approved seat is freed for the waiting list and its calendar invitation
    cancelled; the next approval counts seats and quotas afresh. `expected_status` is the
    status the page showed: if it changed meanwhile (another decision, another reopen)
    nothing happens."""
    return _transition(
        registration_id, S.SUBMITTED, actor=actor, action="registration.reopened",
        reason=reason, expected_status=expected_status, decider=actor,
        rule="registration.reopen", correcting=True)


def cancel_one(registration_id: int, *, actor: User, reason: str,
               expected_status: S | None = None) -> Registration:
    """The event's organizers cancel one registration for good, before the event starts,
    with a reason the applicant is mailed: the same effects as reopening it, final."""
    return _transition(
        registration_id, S.CANCELLED, actor=actor, action="registration.cancelled",
        reason=reason, expected_status=expected_status, decider=actor,
        rule="registration.cancel", correcting=True)


@dataclass(frozen=True)
class Consequences:
    """What correcting `registration` to `to_status` (reopened: submitted; cancelled)
    would do, told before anyone confirms it; counted without a lock, so the correction
    itself decides again under the lock."""

    registration: Registration
    to_status: S
    frees_seat: bool  # a seat counted against capacity and quotas goes back
    promoted: list[Registration]  # whom the waiting list would give it to, in order
    voids_badge: bool  # the badge stops admitting at the door
    voids_join_link: bool  # the personal join link stops opening the meeting
    cancels_invitation: bool  # a calendar CANCEL removes the entry from their calendar

    @property
    def mailed(self) -> list[User]:
        """Who is mailed: the applicant, and each registrant promoted."""
        people = [self.registration.user, *(reg.user for reg in self.promoted)]
        return [user for user in people if user.erased_at is None]


def consequences(reg: Registration, to_status: S) -> Consequences:
    """What reopening (`to_status` submitted) or cancelling `reg` would do now."""
    event = reg.event
    approved = reg.status == S.APPROVED
    frees_seat = approved and reg.role not in DIRECT_ROLES
    promoted: list[Registration] = []
    if frees_seat and _promotes(event, utcnow()):
        def full() -> bool:
            return event.capacity is not None and (
                db.session.scalar(_approved(event.id).where(Registration.id != reg.id))
                + len(promoted) >= event.capacity)

        for waiting in _waiting_line(
                event, lambda waiting: _seat_problem(event, waiting, vacated=reg,
                                                     joining=promoted) is None, full):
            promoted.append(waiting)  # counted as seated when the next one is asked
    return Consequences(
        registration=reg, to_status=to_status, frees_seat=frees_seat, promoted=promoted,
        voids_badge=approved and event.meets_in_person,
        voids_join_link=approved and event.meets_online,
        cancels_invitation=approved and reg.calendar_uid is not None,
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
    entries as a live one. The caller's unit commits it."""
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
        elif status == S.SUBMITTED and reg.status in REOPENABLE:
            action = "registration.reopened"
        # History is recorded, not lived: nobody is mailed about it.
        _move(reg, status, actor=actor, action=action, reason=reason, now=when, notify=False)
    return reg




def decide_many(
    registration_ids: list[int],
    decision: str,
    *,
    actor: User,
    reason: str = "",
    in_scope: Any = None,
) -> list[Registration]:
    """One decision for many applications, all or nothing: if any id is unknown, not one
    the actor may decide (checked under the lock, on their roles as they are now) or out
    of `in_scope(reg)`, not in a state that allows it, or would overbook its event,
    nothing is applied and BulkRefused lists each problem by id."""
    to_status = DECISIONS.get(decision)
    if to_status is None:
        raise ValueError(f"unknown decision {decision!r}")
    ids = list(dict.fromkeys(registration_ids))
    if not ids:
        raise BulkRefused({}, "bulk.nothing_chosen")
    if len(ids) > MAX_BULK:
        raise BulkRefused({}, "bulk.too_many", limit=MAX_BULK)
    problems: dict[int, DomainError] = {}
    event_ids = sorted(set(db.session.scalars(
        select(Registration.event_id).where(Registration.id.in_(ids)))))
    # Lock every event involved, always in the same order, before counting anything.
    events = {event_id: lock_event(event_id) if n == 0 else _lock_more(event_id)
              for n, event_id in enumerate(event_ids)}
    regs = {r.id: r for r in db.session.scalars(
        select(Registration).where(Registration.id.in_(ids))
        .execution_options(populate_existing=True))}
    for event in events.values():
        _reread_scope(actor, event)
    now = utcnow()
    for reg_id in ids:
        reg = regs.get(reg_id)
        if reg is None or not access.can(actor, "registration.decide", reg) or (
                in_scope is not None and not in_scope(reg)):
            problems[reg_id] = BulkItemRefused("bulk.not_yours")
        elif events[reg.event_id].status == EventStatus.CANCELLED:
            problems[reg_id] = BulkItemRefused("bulk.event_cancelled")
        elif not can_transition(reg.status, to_status):
            problems[reg_id] = BulkItemRefused("bulk.already", status=reg.status)
        elif to_status == S.APPROVED and (
                problem := seat_problem(events[reg.event_id], reg)) is not None:
            problems[reg_id] = problem
        else:
            action = f"registration.{to_status.value}"
            if to_status == S.WAITLISTED:
                _waitlist(reg, actor=actor, action=action, reason=reason, now=now)
            else:
                _move(reg, to_status, actor=actor, action=action, reason=reason, now=now)
    if problems:
        raise BulkRefused(problems)
    db.session.flush()
    return [regs[i] for i in ids]


def _lock_more(event_id: int) -> Event:
    """A further event lock inside the write transaction lock_event() opened."""
    return db.session.execute(
        select(Event).where(Event.id == event_id)
        .execution_options(populate_existing=True).with_for_update()
    ).scalar_one()


def set_role(registration_id: int, role: EventRole, *, actor: User) -> Registration:
    """Organizers say what a person is at the event (delegate, speaker, ...)."""
    event_id = db.session.scalar(
        select(Registration.event_id).where(Registration.id == registration_id))
    event = lock_event(event_id)
    reg = db.session.get(Registration, registration_id, populate_existing=True)
    if reg.role == role:
        return reg
    # A delegate becoming host or staff frees a seat; the reverse takes one.
    if (reg.status == S.APPROVED and reg.role in DIRECT_ROLES
            and role not in DIRECT_ROLES):
        reg.role = role
        problem = seat_problem(event, reg)
        if problem is not None:
            raise problem
    old = reg.role
    reg.role = role
    db.session.add(AuditEntry(actor=actor, action="registration.role_changed",
                              registration=reg, event=event,
                              details={"changes": {"role": [old.value, role.value]}}))
    if reg.status == S.APPROVED and role in DIRECT_ROLES and old not in DIRECT_ROLES:
        _promote(event, utcnow())
    return reg


def register_directly(user: User, event_id: int, role: EventRole, *, actor: User) -> Registration:
    """Organizers register a host or staff member: approved at once, outside capacity and
    quotas, audited as such."""
    if role not in DIRECT_ROLES:
        raise RegistrationRefused("registration.direct_roles_only")
    event = lock_event(event_id)
    if event.status == EventStatus.CANCELLED:
        raise RegistrationClosed("event.cancelled")
    reg = db.session.execute(select(Registration).where(
        Registration.event_id == event.id, Registration.user_id == user.id)
    ).scalar_one_or_none()
    if reg is None:
        reg = Registration(event=event, user=user, applied_at=utcnow())
    elif reg.status == S.APPROVED:
        raise AlreadyRegistered("registration.already_registered", name=user.name)
    organization = user.organization
    reg.responsible_partner_id = organization.home_cluster_id if organization else None
    reg.role = role
    _move(reg, S.APPROVED, actor=actor, action="registration.registered_directly")
    return reg

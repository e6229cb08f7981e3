"""Domain objects as the API's response models: which fields, and which are withheld."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from ... import access
from ...models import (
    Event,
    EventSession,
    Partner,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import schemas


def page_fields(pagination) -> dict[str, Any]:
    """page, per_page, total and the link to the next page (same filters)."""
    next_url = None
    if pagination.has_next:
        args = {**request.args.to_dict(), "page": pagination.page + 1}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **args,
                           _external=True)
    return {"page": pagination.page, "per_page": pagination.per_page,
            "total": pagination.total, "next": next_url}


def partner(p: Partner | None) -> schemas.PartnerRef | None:
    if p is None:
        return None
    return schemas.PartnerRef(id=p.id, short_name=p.short_name, name=p.name, kind=p.kind)


def event_ref(e: Event) -> schemas.EventRef:
    return schemas.EventRef(id=e.id, slug=e.slug, title=e.title, kind=e.kind, status=e.status,
                            starts_at=e.starts_at, ends_at=e.ends_at)


def _event_fields(e: Event) -> dict[str, Any]:
    return dict(
        id=e.id, slug=e.slug, kind=e.kind, status=e.status, title=e.title, summary=e.summary,
        target_country=e.target_country, target_city=e.target_city, timezone=e.timezone,
        starts_at=e.starts_at, ends_at=e.ends_at, requires_approval=e.requires_approval,
        capacity=e.capacity, registration_open=e.registration_is_open(utcnow()),
        organizers=[partner(p) for p in e.organizers], hosts=[partner(p) for p in e.hosts],
        url=url_for("public.event_detail", slug=e.slug, _external=True),
    )


def event_summary(e: Event) -> schemas.EventSummary:
    return schemas.EventSummary(**_event_fields(e))


def _session(s: EventSession) -> schemas.AgendaSession:
    return schemas.AgendaSession(
        id=s.id, kind=s.kind, title=s.title, description=s.description, venue=s.venue,
        all_day=s.all_day, starts_at=s.starts_at, ends_at=s.ends_at, start_date=s.start_date,
        end_date=s.end_date)


def event_detail(e: Event) -> schemas.EventDetail:
    return schemas.EventDetail(
        **_event_fields(e), description=e.description, venue=e.venue,
        registration_opens_at=e.registration_opens_at,
        registration_closes_at=e.registration_closes_at,
        sessions=[_session(s) for s in e.agenda])


def own_registration(reg: Registration) -> schemas.OwnRegistration:
    return schemas.OwnRegistration(
        id=reg.id, event=event_ref(reg.event), status=reg.status, role=reg.role,
        applied_at=reg.applied_at, decided_at=reg.decided_at)


def _registration_fields(me: User, reg: Registration) -> dict[str, Any]:
    # The pages show contact details only on the delegation list: approved delegates,
    # to those the policy lets contact them. The API shows no more.
    contact = (reg.status == RegistrationStatus.APPROVED
               and access.can(me, "registration.contact", reg))
    person, organization = reg.user, reg.user.organization
    return dict(
        id=reg.id, event=event_ref(reg.event), status=reg.status, role=reg.role,
        applied_at=reg.applied_at, decided_at=reg.decided_at,
        responsible_partner=partner(reg.responsible_partner),
        applicant=schemas.Applicant(
            id=person.id, name=person.name,
            email=person.email if contact else None,
            phone=(person.phone or None) if contact else None,
            organization=schemas.OrganizationRef(
                id=organization.id, name=organization.name, country=organization.country)
            if organization is not None else None),
        can_decide=access.can(me, "registration.decide", reg),
    )


def registration(me: User, reg: Registration) -> schemas.RegistrationOut:
    return schemas.RegistrationOut(**_registration_fields(me, reg))


def registration_detail(me: User, reg: Registration) -> schemas.RegistrationDetail:
    history = [schemas.HistoryEntry(
        at=entry.created_at, action=entry.action, from_status=entry.from_status,
        to_status=entry.to_status, actor=entry.actor.name if entry.actor else None,
        reason=entry.reason or "") for entry in reg.history]
    order = {q.id: n for n, q in enumerate(reg.event.questions)}
    answers = [schemas.AnswerOut(question_id=a.question_id, question=a.question.label,
                                 value=a.value)
               for a in sorted(reg.answers, key=lambda a: order.get(a.question_id, 0))]
    return schemas.RegistrationDetail(**_registration_fields(me, reg), answers=answers,
                                      history=history)

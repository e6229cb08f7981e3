"""Domain objects as the API's response models: which fields, and which are withheld."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import aliased, joinedload

from ... import access
from ...extensions import db
from ...forms.marketplace import opportunity_type_label, participant_type_label
from ...models import (
    Event,
    EventSession,
    Matchmaking,
    Meeting,
    MeetingPoint,
    MeetingRequest,
    MeetingRequestStatus,
    Opportunity,
    Organization,
    Participant,
    Partner,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ...services import event_texts, matchmaking_settings, meeting_schedule
from ...services.agenda import Agenda, Entry
from ...services.marketplace import Suggestion
from ...services.matchmaking import tags
from ...services.meeting_requests import SlotChoice
from . import schemas

# A list's items are plain fields (`*_fields`), validated once with their page: a model
# per row and per nested object would cost more than the rows' query.


def _partner_fields(p: Partner) -> dict[str, Any]:
    return {"id": p.id, "short_name": p.short_name, "name": p.name, "kind": p.kind}


def partner(p: Partner | None) -> schemas.PartnerRef | None:
    if p is None:
        return None
    return schemas.PartnerRef(**_partner_fields(p))


def _event_ref_fields(e: Event) -> dict[str, Any]:
    return {"id": e.id, "slug": e.slug, "title": e.title, "kind": e.kind, "status": e.status,
            "starts_at": e.starts_at, "ends_at": e.ends_at}


def event_ref(e: Event) -> schemas.EventRef:
    return schemas.EventRef(**_event_ref_fields(e))


def _event_fields(e: Event, now: datetime | None = None) -> dict[str, Any]:
    return dict(
        id=e.id, slug=e.slug, kind=e.kind, status=e.status, language=e.language,
        title=e.title, summary=e.summary,
        target_country=e.target_country, target_city=e.target_city, timezone=e.timezone,
        starts_at=e.starts_at, ends_at=e.ends_at, requires_approval=e.requires_approval,
        capacity=e.capacity, registration_open=e.registration_is_open(now or utcnow()),
        organizers=[_partner_fields(p) for p in e.organizers],
        hosts=[_partner_fields(p) for p in e.hosts],
        url=url_for("public.event_detail", slug=e.slug, _external=True),
    )


def event_summaries(events: list[Event]) -> list[dict[str, Any]]:
    """The fields of each event's `schemas.EventSummary` (every event's translations
    loaded at once, webapp/services/event_texts.py)."""
    now = utcnow()
    return [{**_event_fields(e, now), "texts": {
        code: {"title": t["title"], "summary": t["summary"]}
        for code, t in event_texts.given(e).items()}} for e in events]


def _session(s: EventSession) -> schemas.AgendaSession:
    return schemas.AgendaSession(
        id=s.id, kind=s.kind, title=s.title, description=s.description,
        texts=event_texts.session_given(s), venue=s.venue,
        all_day=s.all_day, starts_at=s.starts_at, ends_at=s.ends_at, start_date=s.start_date,
        end_date=s.end_date)


def event_detail(e: Event) -> schemas.EventDetail:
    return schemas.EventDetail(
        **_event_fields(e), texts=event_texts.given(e), description=e.description,
        venue=e.venue,
        registration_opens_at=e.registration_opens_at,
        registration_closes_at=e.registration_closes_at,
        sessions=[_session(s) for s in e.agenda])


def own_registration_fields(reg: Registration) -> dict[str, Any]:
    """The fields of a `schemas.OwnRegistration`."""
    return {"id": reg.id, "event": _event_ref_fields(reg.event), "status": reg.status,
            "role": reg.role, "applied_at": reg.applied_at, "decided_at": reg.decided_at}


def own_registration(reg: Registration) -> schemas.OwnRegistration:
    return schemas.OwnRegistration.model_validate(own_registration_fields(reg))


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


_Responsible = aliased(Partner)


def registration_rows(me: User, *, event_id: int | None = None,
                      status: RegistrationStatus | None = None,
                      partner_id: int | None = None) -> Select:
    """The desk's rows for `me` (the desk's scope, narrowed like its filters), as the
    columns a list of registrations shows, with what the policy lets `me` do with each:
    the policy's scoped queries as conditions, so no row is loaded to be asked about."""
    decidable = access.decidable_registrations(me).whereclause
    contactable = access.contactable_registrations(me).whereclause
    scope = access.desk_registrations(me).whereclause
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite would gather the whole scope through the indexes of its alternatives,
        # then sort it. Behind a function (the same condition) it cannot: it reads the
        # newest first and stops at the page's end, the same cost at any size of table.
        scope = func.coalesce(scope, false())
    query = (
        select(Registration).where(scope)
        .join(Registration.event).join(Registration.user)
        .outerjoin(User.organization)
        .outerjoin(_Responsible, Registration.responsible_partner_id == _Responsible.id)
        .with_only_columns(
            Registration.id, Registration.status, Registration.role, Registration.applied_at,
            Registration.decided_at, Event.id.label("event_id"), Event.slug, Event.title,
            Event.kind, Event.status.label("event_status"), Event.starts_at, Event.ends_at,
            _Responsible.id.label("partner_id"), _Responsible.short_name,
            _Responsible.name.label("partner_name"), _Responsible.kind.label("partner_kind"),
            User.id.label("user_id"), User.name.label("user_name"), User.email, User.phone,
            Organization.id.label("organization_id"),
            Organization.name.label("organization_name"), Organization.country,
            (decidable if decidable is not None else true()).label("can_decide"),
            (contactable if contactable is not None else true()).label("can_contact")))
    if event_id is not None:
        query = query.where(Registration.event_id == event_id)
    if status is not None:
        query = query.where(Registration.status == status)
    if partner_id is not None:
        query = query.where(Registration.responsible_partner_id == partner_id)
    return query


def registration_row(row) -> dict[str, Any]:
    """A row of `registration_rows` as the API shows it (see `_registration_fields`), the
    fields of a `schemas.RegistrationOut`: a page validates them all at once."""
    contact = row.status == RegistrationStatus.APPROVED and bool(row.can_contact)
    return {
        "id": row.id, "status": row.status, "role": row.role, "applied_at": row.applied_at,
        "decided_at": row.decided_at,
        "event": {"id": row.event_id, "slug": row.slug, "title": row.title, "kind": row.kind,
                  "status": row.event_status, "starts_at": row.starts_at,
                  "ends_at": row.ends_at},
        "responsible_partner": {
            "id": row.partner_id, "short_name": row.short_name, "name": row.partner_name,
            "kind": row.partner_kind} if row.partner_id is not None else None,
        "applicant": {
            "id": row.user_id, "name": row.user_name, "email": row.email if contact else None,
            "phone": (row.phone or None) if contact else None,
            "organization": {"id": row.organization_id, "name": row.organization_name,
                             "country": row.country}
            if row.organization_id is not None else None},
        "can_decide": bool(row.can_decide),
    }


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


# --------------------------------------------------------------------------- matchmaking


def _participant_type(kind) -> dict[str, Any]:
    """A participant type, named as the pages name it (so is an opportunity type)."""
    return {"key": kind.key, "label": participant_type_label(kind)}


def _opportunity_type(kind) -> dict[str, Any]:
    return {"key": kind.key, "label": opportunity_type_label(kind)}


def _opportunity_fields(o: Opportunity) -> dict[str, Any]:
    return {"id": o.id, "type": _opportunity_type(o.opportunity_type), "title": o.title,
            "text": o.text, "tags": tags(o.tags)}


def opportunity(o: Opportunity) -> schemas.OpportunityOut:
    return schemas.OpportunityOut.model_validate(_opportunity_fields(o))


def _organization_ref_fields(org: Organization | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {"id": org.id, "name": org.name, "country": org.country}


def _contact_fields(person: User) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "phone": person.phone or None}


def marketplace_participant_fields(p: Participant, opportunities=None) -> dict[str, Any]:
    """The fields of a `schemas.MarketplaceParticipant`: what the marketplace shows of a
    participant (their opportunities, or those given: a search's)."""
    org = p.registration.user.organization
    return {
        "id": p.id, "event_id": p.event_id,
        "participant_type": _participant_type(p.participant_type),
        "organization": {**_organization_ref_fields(org), "sector": org.sector,
                         "website": org.website, "profile": org.profile}
        if org is not None else None,
        "sectors": tags(p.sectors), "technologies": tags(p.technologies),
        "opportunities": [_opportunity_fields(o) for o in (
            p.opportunities if opportunities is None else opportunities)],
    }


def suggestion_fields(found: Suggestion) -> dict[str, Any]:
    return {"participant": marketplace_participant_fields(found.participant),
            "score": found.score,
            "reasons": [{"kind": r.kind, "tags": list(r.tags),
                         "their_title": r.their_title or None,
                         "your_title": r.your_title or None} for r in found.reasons]}


def participant_detail(me: User, p: Participant, *,
                       contact: bool) -> schemas.ParticipantDetail:
    """`p` as `me` sees them; their contact details with `contact`."""
    person = p.registration.user
    matchmaking = matchmaking_settings.of_event(p.event_id)
    slots = matchmaking.slot_starts() if matchmaking is not None else []
    unavailable = [slot.starts_at for slot in p.unavailable]
    return schemas.ParticipantDetail.model_validate({
        **marketplace_participant_fields(p),
        "in_marketplace": p.consents and p.registration.status == RegistrationStatus.APPROVED,
        "contact": _contact_fields(person) if contact else None,
        "unavailable_slots": unavailable,
        "available_slots": [slot for slot in slots if slot not in set(unavailable)],
        "can_edit": access.can(me, "participant.edit", p),
        "can_request_meeting": access.can(me, "participant.request_meeting", p),
    })


def _participant_ref_fields(p: Participant) -> dict[str, Any]:
    return {"id": p.id, "participant_type": _participant_type(p.participant_type),
            "organization": _organization_ref_fields(p.registration.user.organization)}


Placements = dict[int, tuple[Meeting, Matchmaking]]


def meeting_placements(requests: Iterable[MeetingRequest]) -> Placements:
    """The placed meetings of the accepted ones of `requests`, by request id, each with
    its event's matchmaking: two statements however many requests."""
    accepted = [req.id for req in requests if req.status == MeetingRequestStatus.ACCEPTED]
    if not accepted:
        return {}
    meetings = list(db.session.scalars(select(Meeting).where(
        Meeting.request_id.in_(accepted), Meeting.starts_at.is_not(None))
        .options(joinedload(Meeting.point))))
    if not meetings:
        return {}
    settings = {found.event_id: found for found in db.session.scalars(select(Matchmaking).where(
        Matchmaking.event_id.in_({meeting.event_id for meeting in meetings})))}
    return {meeting.request_id: (meeting, settings[meeting.event_id]) for meeting in meetings
            if meeting.event_id in settings}


def _point_fields(point: MeetingPoint) -> dict[str, Any]:
    return {"id": point.id, "name": point.name, "kind": point.kind, "url": point.url or None}


def _calendar_url(meeting: Meeting) -> str:
    return url_for("agenda.meeting_file", event_id=meeting.event_id, meeting_id=meeting.id,
                   _external=True)


def _meeting_fields(me: User, req: MeetingRequest, side: bool,
                    placement: tuple[Meeting, Matchmaking] | None) -> dict[str, Any] | None:
    """The meeting of `req` as `me` may see it (`side`: they are one of its sides): to
    the event's organizers once placed, to the others (its sides, those who follow
    them) as the request's page shows it, once shown to its participants."""
    if placement is None:
        return None
    meeting, settings = placement
    shown = meeting_schedule.shown_to_participants(meeting, settings)
    if not shown and not access.can(me, "matchmaking.manage", req.event):
        return None
    assert meeting.starts_at is not None and meeting.point is not None
    return {"id": meeting.id, "starts_at": meeting.starts_at,
            "ends_at": meeting.starts_at + timedelta(minutes=settings.meeting_minutes),
            "meeting_point": _point_fields(meeting.point), "locked": meeting.locked,
            "schedule_state": settings.schedule_state,
            "calendar_url": _calendar_url(meeting) if side and shown else None}


def meeting_request_fields(me: User, req: MeetingRequest,
                           placements: Placements | None = None) -> dict[str, Any]:
    """The fields of a `schemas.MeetingRequestOut` for `me`: the other side's contact
    details only to a side, once accepted; its meeting's time and place where `me` may
    see them (`placements`: those of a page's requests, `meeting_placements`)."""
    mine = next((side for side in (req.requester, req.receiver)
                 if side.registration.user_id == me.id), None)
    accepted = req.status == MeetingRequestStatus.ACCEPTED
    if placements is None:
        placements = meeting_placements([req])
    return {
        "id": req.id, "event": _event_ref_fields(req.event),
        "requester": _participant_ref_fields(req.requester),
        "receiver": _participant_ref_fields(req.receiver),
        "status": req.status, "message": req.message,
        "preferred_slots": [datetime.fromisoformat(slot) for slot in req.preferred_slots],
        "created_at": req.created_at, "expires_at": req.expires_at,
        "decided_at": req.decided_at, "reason": req.reason, "cause": req.cause,
        "contact": _contact_fields(req.other_side(mine).registration.user)
        if accepted and mine is not None else None,
        "meeting": _meeting_fields(me, req, mine is not None, placements.get(req.id))
        if accepted else None,
        "can_answer": req.status == MeetingRequestStatus.REQUESTED
        and access.can(me, "meeting_request.answer", req),
        "can_cancel": req.status.is_open and access.can(me, "meeting_request.cancel", req),
    }


def meeting_request(me: User, req: MeetingRequest) -> schemas.MeetingRequestOut:
    return schemas.MeetingRequestOut.model_validate(meeting_request_fields(me, req))


def meeting_slots(action: str | None, slots: list[SlotChoice]) -> schemas.MeetingSlots:
    return schemas.MeetingSlots.model_validate({"action": action, "items": [
        {"starts_at": slot.starts_at, "ends_at": slot.ends_at, "preferred": slot.preferred}
        for slot in slots]})


def _agenda_entry_fields(entry: Entry, own: bool) -> dict[str, Any]:
    """One meeting of an agenda (`own`: the reader's own agenda, whose meetings have
    their calendar files)."""
    contact = entry.contact
    return {
        "request_id": entry.request.id, "starts_at": entry.starts_at, "ends_at": entry.ends_at,
        "meeting_point": _point_fields(entry.point) if entry.point is not None else None,
        "locked": entry.meeting is not None and entry.meeting.locked,
        "other": {"participant_id": entry.other.id,
                  "organization": _organization_ref_fields(
                      entry.other.registration.user.organization),
                  "contact_person": {"name": contact.name, "email": contact.email or None,
                                     "phone": contact.phone or None}},
        "calendar_url": _calendar_url(entry.meeting)
        if own and entry.meeting is not None and entry.starts_at is not None else None,
    }


def agenda(me: User, found: Agenda) -> schemas.Agenda:
    """A participant's agenda as `me` reads it (services.agenda, `agenda_of`)."""
    own = found.participant.registration.user_id == me.id
    return schemas.Agenda.model_validate({
        "participant_id": found.participant.id, "event": _event_ref_fields(found.event),
        "schedule_state": found.state,
        "scheduled": [_agenda_entry_fields(entry, own) for entry in found.scheduled],
        "not_scheduled": [_agenda_entry_fields(entry, own) for entry in found.waiting],
        "pdf_url": url_for("agenda.participant_pdf", event_id=found.event.id,
                           participant_id=found.participant.id, _external=True)})

"""The one access policy: who may do what to which object, and the scoped queries.

Views and templates never test role names; they call `can(user, action, target)` or
`authorize(...)`, and list objects through the `*_visible_to` queries below, so a
forgotten filter cannot leak another cluster's data. Every endpoint declares the rule it
enforces with `public`, `by_link`, `login_required`, `requires` or, for an object named
in its URL, `requires_on` (tests walk `app.url_map` and check each declaration against the matrix).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, and_, case, exists, false, func, literal, or_, select, true

from .extensions import db, login_manager
from .models import (
    Agreement,
    BadgeBatch,
    DelegationMessage,
    Download,
    Event,
    EventStatus,
    Matchmaking,
    Meeting,
    MeetingRequest,
    MeetingRequestStatus,
    MembershipRequest,
    MembershipStatus,
    Organization,
    Participant,
    ParticipantType,
    Registration,
    RegistrationStatus,
    Role,
    SurveyInvitation,
    SurveyResponse,
    User,
    download_requesters,
    event_hosts,
    event_organizers,
)

# --------------------------------------------------------------------------- roles


def _grants(user: Any) -> list:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return user.grants


def is_admin(user: Any) -> bool:
    return any(g.role == Role.ADMIN for g in _grants(user))


def managed_partner_ids(user: Any) -> frozenset[int]:
    """The partners whose applicants this user decides (partner manager grants)."""
    return frozenset(g.partner_id for g in _grants(user) if g.role == Role.PARTNER_MANAGER)


def hosted_partner_ids(user: Any) -> frozenset[int]:
    """The beachhead organizations this user acts for."""
    return frozenset(g.partner_id for g in _grants(user) if g.role == Role.BEACHHEAD_HOST)


def organizes(user: Any, event: Event) -> bool:
    """Organizers of an event: admins and managers of its organizing partners."""
    if is_admin(user):
        return True
    managed = managed_partner_ids(user)
    return bool(managed) and any(p.id in managed for p in event.organizers)


def hosts(user: Any, event: Event) -> bool:
    hosted = hosted_partner_ids(user)
    return bool(hosted) and any(p.id in hosted for p in event.hosts)


def _is_self(user: Any, registration: Registration) -> bool:
    return getattr(user, "is_authenticated", False) and registration.user_id == user.id


# --------------------------------------------------------------------------- the policy


def _can_view_event(user: Any, event: Event) -> bool:
    return event.status != EventStatus.DRAFT or organizes(user, event)


def _can_view_registration(user: Any, reg: Registration) -> bool:
    if _is_self(user, reg) or _can_decide_registration(user, reg):
        return True
    return reg.status == RegistrationStatus.APPROVED and hosts(user, reg.event)


def _can_decide_registration(user: Any, reg: Registration) -> bool:
    """The object form of `decidable_registrations`: the two must agree (a test walks
    both over every role)."""
    if organizes(user, reg.event):
        return True
    return reg.responsible_partner_id is not None and (
        reg.responsible_partner_id in managed_partner_ids(user)
    )


def _can_use_desk(user: Any, _target: Any = None) -> bool:
    return is_admin(user) or bool(managed_partner_ids(user) or hosted_partner_ids(user))


def _manages_home_cluster(user: Any, organization: Organization) -> bool:
    return organization.home_cluster_id is not None and (
        organization.home_cluster_id in managed_partner_ids(user)
    )


def _can_review_organization(user: Any, organization: Organization) -> bool:
    """Correct or merge an organization: its home cluster's managers and admins."""
    return is_admin(user) or _manages_home_cluster(user, organization)


def _is_member_of(user: Any, organization: Organization) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.is_verified
        and user.organization_id == organization.id
    )


def _can_edit_organization(user: Any, organization: Organization) -> bool:
    return _is_member_of(user, organization) or _can_review_organization(user, organization)


def _can_view_organization(user: Any, organization: Organization) -> bool:
    """Its page and logo: today the same people who may edit it (members, its home
    cluster's managers, admins); a separate action so the two can part later."""
    return _can_edit_organization(user, organization)


def _can_merge_organizations(user: Any, pair: tuple[Organization, Organization]) -> bool:
    """Fold `pair[0]` into `pair[1]`: reviewers of both, within one home cluster unless
    admin (a cross-cluster merge moves people to another cluster's responsibility)."""
    duplicate, into = pair
    if not (_can_review_organization(user, duplicate) and _can_review_organization(user, into)):
        return False
    return is_admin(user) or duplicate.home_cluster_id == into.home_cluster_id


def _can_decide_membership(user: Any, request: MembershipRequest) -> bool:
    return _can_edit_organization(user, request.organization) and request.user_id != getattr(
        user, "id", None
    )


def _can_see_delegation(user: Any, event: Event) -> bool:
    """The approved delegation of an event: organizers, every partner manager (contact
    details only of their own clusters' delegates) and the event's beachhead hosts."""
    return organizes(user, event) or bool(managed_partner_ids(user)) or hosts(user, event)


def _can_see_contact(user: Any, reg: Registration) -> bool:
    """A delegate's email and phone: organizers, the responsible partner's managers, and
    the event's hosts when the delegate agreed to share them."""
    if _can_decide_registration(user, reg):
        return True
    return reg.contact_consent_at is not None and hosts(user, reg.event)


def _can_message_delegation(user: Any, event: Event) -> bool:
    return organizes(user, event) or bool(managed_partner_ids(user))


def _can_apply_on_behalf(user: Any, member: Any) -> bool:
    organization = getattr(member, "organization", None)
    return organization is not None and _manages_home_cluster(user, organization)


def _can_organize_with(user: Any, organizers: list) -> bool:
    """An event's organizers must include one of the user's partners (admins: any), or
    the user could no longer manage the event they are saving."""
    return is_admin(user) or bool(managed_partner_ids(user) & {p.id for p in organizers})


def _can_get_badge(user: Any, reg: Registration) -> bool:
    """Only an approved registration to an event met in person has a badge: its
    delegate's own, and the one its deciders (the responsible partner's managers, the
    event's organizers) may print."""
    if reg.status != RegistrationStatus.APPROVED or not reg.event.meets_in_person:
        return False
    return _is_self(user, reg) or _can_decide_registration(user, reg)


def _can_join(user: Any, reg: Registration) -> bool:
    """A personal join link is shown to its own approved registrant of an online event
    (the link itself needs no sign-in: whoever holds it is let in)."""
    return (reg.status == RegistrationStatus.APPROVED and _is_self(user, reg)
            and reg.event.status != EventStatus.CANCELLED and reg.event.meets_online)


def _can_print_badges(user: Any, event: Event) -> bool:
    """An event's batch of badges, when it is met in person: organizers (all of them),
    and partner managers (their own clusters' delegates, see `delegates_served_by`)."""
    return event.meets_in_person and (organizes(user, event) or bool(managed_partner_ids(user)))


def _can_check_in(user: Any, event: Event) -> bool:
    """At the door: admins, the event's organizers and its hosting beachheads (a draft
    is its organizers' alone, as everywhere else)."""
    return organizes(user, event) or (hosts(user, event) and _can_view_event(user, event))


def _owns_batch(user: Any, batch: BadgeBatch) -> bool:
    """A batch's progress and file: the person who asked, while they may still print."""
    return (getattr(user, "is_authenticated", False) and batch.requested_by_id == user.id
            and _can_print_badges(user, batch.event))


def contact_scope_of(user: Any, event: Event) -> dict[str, Any]:
    """Whose contact details `user` sees among `event`'s delegates (`_can_see_contact`):
    every delegate's (organizers), their clusters' delegates', and, as a host, those who
    consented. A file prepared for `user` (the brochure) records it."""
    return {"all": organizes(user, event), "clusters": sorted(managed_partner_ids(user)),
            "hosts": hosts(user, event)}


def _covers(wider: dict[str, Any], narrower: dict[str, Any]) -> bool:
    """Whether a contact scope shows at least what another one does."""
    if wider["all"]:
        return True
    return (not narrower["all"] and set(narrower["clusters"]) <= set(wider["clusters"])
            and (wider["hosts"] or not narrower["hosts"]))


def _can_read_download(user: Any, download: Download) -> bool:
    """A file built in the background: one of the people who asked for it, while they
    may still read all it holds. A KPI file holds its clusters' rows (the reader's KPI
    scope must cover them); a brochure is prepared for one viewer, with the contact
    details they saw, and stays theirs while they see the delegation as widely."""
    if not getattr(user, "is_authenticated", False):
        return False
    if all(requester.id != user.id for requester in download.requesters):
        return False
    if download.kind in ("kpi_report", "kpi_table"):
        if not _manages_any(user):
            return False
        own, holds = kpi_clusters_of(user), download.scope.get("clusters")
        return own is None or (holds is not None and set(holds) <= own)
    if download.kind == "brochure":
        event = download.event
        return (event is not None and download.scope.get("viewer") == user.id
                and _can_view_event(user, event) and _can_see_delegation(user, event)
                and _covers(contact_scope_of(user, event), download.scope))
    return False


def _can_see_survey_results(user: Any, event: Event) -> bool:
    """An event's survey answers: admins (all of them) and partner managers (their own
    clusters' delegates, see `survey_responses_visible_to`)."""
    return is_admin(user) or bool(managed_partner_ids(user))


def _can_read_survey_response(user: Any, response: SurveyResponse) -> bool:
    """The object form of `survey_responses_visible_to` (`_survey_scope`): admins, and
    the managers who answer for the delegate (a test walks both over every role)."""
    if is_admin(user):
        return True
    managed = managed_partner_ids(user)
    reg = response.invitation.registration
    if not managed or not getattr(user, "is_authenticated", False):
        return False
    if reg.responsible_partner_id is not None:
        return reg.responsible_partner_id in managed
    return any(p.id in managed for p in reg.event.organizers)


def _can_create_events(user: Any, _target: Any = None) -> bool:
    return is_admin(user) or bool(managed_partner_ids(user))


def _manages_any(user: Any, _target: Any = None) -> bool:
    return is_admin(user) or bool(managed_partner_ids(user))


def _can_record_agreement_for(user: Any, partner: Any) -> bool:
    """An agreement's responsible cluster: one the user manages (admins: any)."""
    return is_admin(user) or (partner is not None and partner.id in managed_partner_ids(user))


def _can_edit_agreement(user: Any, agreement: Agreement) -> bool:
    return is_admin(user) or agreement.responsible_partner_id in managed_partner_ids(user)


# --------------------------------------------------------------------------- matchmaking
# The participant type of the host region's stakeholders, whom the hosting beachhead
# invites and whose requests its hosts follow.
HOST_STAKEHOLDER = "host_stakeholder"


def _own_participant(user: Any, event: Event) -> Participant | None:
    """`user`'s participation in `event`'s matchmaking (None: they take no part), as long
    as their registration is approved."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Participant).join(Participant.registration).where(
            Participant.event_id == event.id, Registration.user_id == user.id,
            Registration.status == RegistrationStatus.APPROVED))


def _matchmaking_on(event: Event) -> bool:
    return bool(db.session.scalar(select(Matchmaking.enabled).where(
        Matchmaking.event_id == event.id)))


def _can_manage_matchmaking(user: Any, event: Event) -> bool:
    """Switch matchmaking on, set its blocks, points, types and matrix: organizers."""
    return organizes(user, event)


def _can_invite_stakeholders(user: Any, event: Event) -> bool:
    """Invite the host region's stakeholders to the event's matchmaking (their invitations
    listed, sent again, revoked): the event's hosts, its organizers and admins."""
    return hosts(user, event) or organizes(user, event)


def _can_browse_marketplace(user: Any, event: Event) -> bool:
    """An event's marketplace: while its matchmaking is on, its participants who gave
    their consent (each sees only their own event's); its organizers once they have set
    it up, switched on or off since."""
    if organizes(user, event):
        return db.session.scalar(select(Matchmaking.id).where(
            Matchmaking.event_id == event.id)) is not None
    participant = _own_participant(user, event)
    return participant is not None and participant.consents and _matchmaking_on(event)


def _can_join_matchmaking(user: Any, reg: Registration) -> bool:
    """Opt in to an event's marketplace: the registrant of an approved registration,
    while the event's matchmaking is on."""
    return (_is_self(user, reg) and reg.status == RegistrationStatus.APPROVED
            and reg.event.status != EventStatus.CANCELLED and _matchmaking_on(reg.event))


def _is_participant_self(user: Any, participant: Participant) -> bool:
    return _is_self(user, participant.registration)


def _answers_for(user: Any, participant: Participant) -> bool:
    """A partner manager of the participant's home cluster (its responsible partner)."""
    partner_id = participant.registration.responsible_partner_id
    return partner_id is not None and partner_id in managed_partner_ids(user)


def _hosts_stakeholder(user: Any, participant: Participant) -> bool:
    """A host of the event, for one of the host region's stakeholders."""
    return (participant.participant_type.key == HOST_STAKEHOLDER
            and hosts(user, participant.event))


def _follows(user: Any, participant: Participant) -> bool:
    """Whoever follows a participant's matchmaking besides them: the event's organizers,
    their cluster's managers, and for a host-region stakeholder the event's hosts."""
    return (organizes(user, participant.event) or _answers_for(user, participant)
            or _hosts_stakeholder(user, participant))


def _can_view_participant(user: Any, participant: Participant) -> bool:
    """A participant's profile: their own; the event's other consenting participants
    while it is in the marketplace; and those who follow it (`_follows`)."""
    if _is_participant_self(user, participant) or _follows(user, participant):
        return True
    visible = (participant.consents
               and participant.registration.status == RegistrationStatus.APPROVED)
    return visible and _can_browse_marketplace(user, participant.event)


def _can_edit_participant(user: Any, participant: Participant) -> bool:
    """A profile and its opportunities: the participant, and the event's organizers."""
    return _is_participant_self(user, participant) or organizes(user, participant.event)


def _can_request_meeting(user: Any, receiver: Participant) -> bool:
    """Ask `receiver` for a meeting: another consenting participant of the same event
    (the service checks the matrix, the window and the slots)."""
    mine = _own_participant(user, receiver.event)
    return (mine is not None and mine.consents and mine.id != receiver.id
            and _can_view_participant(user, receiver))


def _can_see_participant_contact(user: Any, participant: Participant) -> bool:
    """A participant's email and phone: themself; those who see a delegate's
    (`registration.contact`: the event's organizers, the responsible cluster's managers,
    the hosts the delegate agreed to share them with); and the other side of an accepted
    meeting request between them, only while it stays accepted."""
    if (_is_participant_self(user, participant)
            or _can_see_contact(user, participant.registration)):
        return True
    mine = _own_participant(user, participant.event)
    if mine is None or mine.id == participant.id:
        return False
    return db.session.scalar(select(exists().where(
        MeetingRequest.between(mine.id, participant.id),
        MeetingRequest.status == MeetingRequestStatus.ACCEPTED)))


def _can_view_meeting_request(user: Any, request: MeetingRequest) -> bool:
    """The object form of `meeting_requests_visible_to`: its two sides, the event's
    organizers, each side's cluster managers, and the event's hosts for a host-region
    stakeholder's requests."""
    sides = (request.requester, request.receiver)
    return any(_is_participant_self(user, side) or _follows(user, side) for side in sides)


def _can_answer_meeting_request(user: Any, request: MeetingRequest) -> bool:
    """Accept or decline: the participant who was asked."""
    return _is_participant_self(user, request.receiver)


def _can_cancel_meeting_request(user: Any, request: MeetingRequest) -> bool:
    """Cancel, with a reason: either side, and the event's organizers."""
    return (_is_participant_self(user, request.requester)
            or _is_participant_self(user, request.receiver)
            or organizes(user, request.event))


def _can_place_meeting(user: Any, request: MeetingRequest) -> bool:
    """Choose a free slot for an accepted meeting that has no place yet: either side."""
    return (_is_participant_self(user, request.requester)
            or _is_participant_self(user, request.receiver))


def _can_see_agenda(user: Any, participant: Participant) -> bool:
    """A participant's agenda of meetings (page, PDF): their own, and the event's
    organizers'."""
    return _is_participant_self(user, participant) or organizes(user, participant.event)


def _can_get_meeting_file(user: Any, meeting: Meeting) -> bool:
    """A meeting's calendar file: its two sides, each for their own calendar."""
    request = meeting.request
    return (_is_participant_self(user, request.requester)
            or _is_participant_self(user, request.receiver))


def _can_scan_meetings(user: Any, event: Event) -> bool:
    """Mark meetings held by scanning badges at their tables: whoever checks people in
    (`event.checkin`), at an event whose matchmaking was set up."""
    return _can_check_in(user, event) and db.session.scalar(select(Matchmaking.id).where(
        Matchmaking.event_id == event.id)) is not None


def _can_see_meeting_outcomes(user: Any, event: Event) -> bool:
    """An event's meetings in figures, with the ratings' comments: its organizers, once
    its matchmaking was set up."""
    return organizes(user, event) and db.session.scalar(select(Matchmaking.id).where(
        Matchmaking.event_id == event.id)) is not None


def _takes_part_in_meeting(user: Any, meeting: Any) -> bool:
    """Say "we met", rate the meeting: its two sides."""
    request = meeting.request
    return (_is_participant_self(user, request.requester)
            or _is_participant_self(user, request.receiver))


_RULES: dict[str, Callable[[Any, Any], bool]] = {
    "event.view": _can_view_event,
    "registration.view": _can_view_registration,
    "registration.decide": _can_decide_registration,
    # Put a decision back to be decided again: whoever may decide the registration.
    "registration.reopen": _can_decide_registration,
    # Cancel one registration for good: the event's organizers.
    "registration.cancel": lambda user, reg: organizes(user, reg.event),
    "registration.withdraw": _is_self,
    # One's own application in one's account (the desk shows others' to their deciders).
    "registration.own": _is_self,
    # A delegate's role on the event (speaker, staff...): the event's organizers.
    "registration.role": lambda user, reg: organizes(user, reg.event),
    "desk.use": _can_use_desk,
    "desk.inbox": lambda user, _target=None: is_admin(user) or bool(managed_partner_ids(user)),
    "organization.edit": _can_edit_organization,
    "organization.view": _can_view_organization,
    "organization.review": _can_review_organization,
    "organization.merge": _can_merge_organizations,
    "membership.view": lambda user, request: _can_view_organization(user, request.organization),
    "membership.decide": _can_decide_membership,
    "event.create": _can_create_events,
    "event.manage": organizes,
    "event.organize_with": _can_organize_with,
    "event.delegation": _can_see_delegation,
    "event.message": _can_message_delegation,
    "event.badges": _can_print_badges,
    "event.checkin": _can_check_in,
    "registration.badge": _can_get_badge,
    "registration.join": _can_join,
    "batch.view": _owns_batch,
    "download.view": _can_read_download,
    "registration.contact": _can_see_contact,
    "event.surveys": _can_see_survey_results,
    "survey_response.view": _can_read_survey_response,
    "registration.apply_on_behalf": _can_apply_on_behalf,
    "desk.apply_on_behalf": lambda user, _target=None: bool(managed_partner_ids(user)),
    "admin.use": lambda user, _target=None: is_admin(user),
    # Agreements: partner managers for their own clusters, admins for all.
    "agreement.record": _manages_any,
    "agreement.record_for": _can_record_agreement_for,
    "agreement.edit": _can_edit_agreement,
    # The KPI dashboard: the partnership's totals, and each manager's own clusters' rows.
    "kpi.view": _manages_any,
    # The failed background jobs and mail given up on: recipients' addresses and errors.
    "jobs.manage": lambda user, _target=None: is_admin(user),
    # Matchmaking (on an Event, a Registration, a Participant or a MeetingRequest).
    "matchmaking.manage": _can_manage_matchmaking,
    "matchmaking.marketplace": _can_browse_marketplace,
    "matchmaking.join": _can_join_matchmaking,
    "matchmaking.invite": _can_invite_stakeholders,
    "participant.view": _can_view_participant,
    "participant.edit": _can_edit_participant,
    "participant.contact": _can_see_participant_contact,
    "participant.request_meeting": _can_request_meeting,
    "meeting_request.view": _can_view_meeting_request,
    "meeting_request.answer": _can_answer_meeting_request,
    "meeting_request.cancel": _can_cancel_meeting_request,
    "meeting_request.place": _can_place_meeting,
    # What meetings led to (on an Event or a Meeting): a meeting is seen by whoever sees
    # its request.
    "meeting.view": lambda user, meeting: _can_view_meeting_request(user, meeting.request),
    "meeting.take_part": _takes_part_in_meeting,
    "meeting.scan": _can_scan_meetings,
    "meeting.outcomes": _can_see_meeting_outcomes,
    "participant.agenda": _can_see_agenda,
    "meeting.calendar": _can_get_meeting_file,
}

ACTIONS = frozenset(_RULES)


def can(user: Any, action: str, target: Any = None) -> bool:
    """Whether `user` may perform `action` on `target`. Unknown actions are a bug."""
    try:
        rule = _RULES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None
    return bool(rule(user, target))


def authorized_event(event_id: int, action: str) -> Event:
    """The event `event_id` for an endpoint that performs `action` on it: 404 when the
    user may not see it (unknown ids alike), 403 when they see it but the role lacks
    `action`."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    authorize(action, event, visible_action="event.view")
    return event


def authorize(action: str, target: Any, *, visible_action: str | None = None) -> None:
    """Abort with 404 when the user may not even see `target`, 403 when they may see it
    but not perform `action`. Objects outside a user's scope look like unknown ids."""
    user = current_user
    if visible_action and not can(user, visible_action, target):
        abort(404)
    if not can(user, action, target):
        abort(403 if visible_action else 404)


# --------------------------------------------------------------------------- scoped queries


def events_visible_to(user: Any) -> Select[tuple[Event]]:
    query = select(Event)
    if is_admin(user):
        return query
    managed = managed_partner_ids(user)
    organized = (
        Event.id.in_(select(event_organizers.c.event_id).where(
            event_organizers.c.partner_id.in_(managed)))
        if managed else false()
    )
    return query.where(or_(Event.status != EventStatus.DRAFT, organized))


def registrations_visible_to(user: Any) -> Select[tuple[Registration]]:
    """Every registration `user` may see: their own, their clusters' applicants, those of the
    events they organize, and the approved delegates of the events they host."""
    query = select(Registration)
    if not getattr(user, "is_authenticated", False):
        return query.where(false())
    if is_admin(user):
        return query.where(true())
    hosted = hosted_partner_ids(user)
    clauses = [Registration.user_id == user.id, _decidable(user)]
    if hosted:
        clauses.append(
            (Registration.status == RegistrationStatus.APPROVED)
            & Registration.event_id.in_(
                select(event_hosts.c.event_id).where(event_hosts.c.partner_id.in_(hosted))
            )
        )
    return query.where(or_(*clauses))


def events_managed_by(user: Any) -> Select[tuple[Event]]:
    """The events a user may edit: all for admins, those their partners organize."""
    if is_admin(user):
        return select(Event)
    managed = managed_partner_ids(user)
    if not managed:
        return select(Event).where(false())
    return select(Event).where(Event.id.in_(
        select(event_organizers.c.event_id).where(event_organizers.c.partner_id.in_(managed))
    ))


def organizations_reviewable_by(user: Any) -> Select[tuple[Organization]]:
    if is_admin(user):
        return select(Organization)
    managed = managed_partner_ids(user)
    return select(Organization).where(
        Organization.home_cluster_id.in_(managed) if managed else false()
    )


def membership_requests_decidable_by(user: Any) -> Select[tuple[MembershipRequest]]:
    """Pending join requests the user may confirm or refuse: those to their own
    organization, and (managers, admins) those to their clusters' organizations."""
    query = select(MembershipRequest).where(
        MembershipRequest.status == MembershipStatus.PENDING
    )
    if not getattr(user, "is_authenticated", False):
        return query.where(false())
    query = query.where(MembershipRequest.user_id != user.id)
    if is_admin(user):
        return query
    clauses = []
    if user.is_verified and user.organization_id is not None:
        clauses.append(MembershipRequest.organization_id == user.organization_id)
    managed = managed_partner_ids(user)
    if managed:
        clauses.append(MembershipRequest.organization_id.in_(
            select(Organization.id).where(Organization.home_cluster_id.in_(managed))
        ))
    return query.where(or_(*clauses) if clauses else false())


def members_applicable_on_behalf_by(user: Any) -> Select[tuple[User]]:
    """The verified, active members of the organizations whose home cluster `user`
    manages: those a partner manager may apply for."""
    managed = managed_partner_ids(user)
    if not managed:
        return select(User).where(false())
    return select(User).join(User.organization).where(
        Organization.home_cluster_id.in_(managed),
        User.email_verified_at.is_not(None), User.active.is_(True),
    )


def merge_targets_for(user: Any, duplicate: Organization) -> Select[tuple[Organization]]:
    """The organizations `user` may fold `duplicate` into (see `organization.merge`)."""
    query = organizations_reviewable_by(user).where(Organization.id != duplicate.id)
    if not is_admin(user):
        query = query.where(Organization.home_cluster_id == duplicate.home_cluster_id)
    return query


def calendar_event_ids_of(user: Any) -> Select[tuple[int]]:
    """The events of a user's calendar feed: those they are approved for, those their
    partners organize (partner managers), every event (admins); drafts never."""
    query = select(Event.id).where(Event.status != EventStatus.DRAFT)
    if is_admin(user):
        return query
    clauses = [Event.id.in_(select(Registration.event_id).where(
        Registration.user_id == user.id, Registration.status == RegistrationStatus.APPROVED))]
    managed = managed_partner_ids(user)
    if managed:
        clauses.append(Event.id.in_(select(event_organizers.c.event_id).where(
            event_organizers.c.partner_id.in_(managed))))
    return query.where(or_(*clauses))


def delegation_of(event: Event) -> Select[tuple[Registration]]:
    """The approved delegation of an event (every role); who may see it is `event.delegation`,
    whose contact details `registration.contact`."""
    return select(Registration).where(
        Registration.event_id == event.id, Registration.status == RegistrationStatus.APPROVED
    )


def delegates_served_by(user: Any, event: Event) -> Select[tuple[Registration]]:
    """The delegates `user` answers for, whom they write to and whose badges they print:
    the approved delegates of `event` they may decide (the whole delegation for
    organizers, their own clusters' delegates for partner managers, nobody else's)."""
    return delegation_of(event).where(_decidable(user))


def delegation_messages_visible_to(user: Any, event: Event) -> Select[tuple[DelegationMessage]]:
    """An event's message log: all of it for organizers; for a partner manager the
    messages to the whole delegation, to their own clusters, and their own."""
    query = select(DelegationMessage).where(DelegationMessage.event_id == event.id)
    if organizes(user, event):
        return query
    managed = managed_partner_ids(user)
    clauses = [DelegationMessage.partner_id.is_(None),
               DelegationMessage.sender_id == getattr(user, "id", None)]
    if managed:
        clauses.append(DelegationMessage.partner_id.in_(managed))
    return query.where(or_(*clauses))


def _survey_scope(user: Any):
    """The condition on a Registration whose survey answers `user` may read: all for
    admins; for a partner manager the delegates they answer for (see
    `decidable_registrations(responsible=True)`); none for anyone else."""
    return true() if is_admin(user) else _decidable(user, responsible=True)


def survey_responses_visible_to(user: Any) -> Select[tuple[SurveyResponse]]:
    """The survey answers `user` may read (see `_survey_scope`)."""
    return (select(SurveyResponse).join(SurveyResponse.invitation)
            .join(SurveyInvitation.registration).where(_survey_scope(user)))


def survey_invitations_visible_to(user: Any, event: Event) -> Select[tuple[SurveyInvitation]]:
    """The survey invitations of `event` whose answers `user` may read."""
    return (select(SurveyInvitation).join(SurveyInvitation.registration)
            .where(Registration.event_id == event.id, _survey_scope(user)))

def agreements_visible_to(user: Any) -> Select[tuple[Agreement]]:
    """The agreements a user lists and edits: all for admins, their clusters' for
    partner managers, none for anyone else."""
    if is_admin(user):
        return select(Agreement)
    managed = managed_partner_ids(user)
    return select(Agreement).where(
        Agreement.responsible_partner_id.in_(managed) if managed else false())


def _ids_within(document: Any, key: str, allowed: frozenset[int]):
    """The condition that the JSON document's `key` is a list of ids, all in `allowed`
    (Python's `set(document[key]) <= allowed`): SQLite and PostgreSQL spell a JSON
    list's elements differently."""
    if db.session.get_bind().dialect.name == "postgresql":
        listed = document[key]
        elements = func.json_array_elements_text(case(
            (func.json_typeof(listed) == "array", listed),
            else_=literal("[]").cast(listed.type))).table_valued("value")
        is_list = func.json_typeof(listed) == "array"
        outside = elements.c.value.not_in([str(i) for i in allowed])
    else:
        elements = func.json_each(document, f"$.{key}").table_valued("value")
        is_list = func.json_type(document, f"$.{key}") == "array"
        outside = elements.c.value.not_in(list(allowed))
    return and_(is_list, ~exists().select_from(elements).where(outside))


def downloads_visible_to(user: Any) -> Select[tuple[Download]]:
    """The downloads `user` may read (`download.view`, whose object form
    `_can_read_download` it must agree with): those they asked for or joined, while they
    may still read all they hold."""
    if not getattr(user, "is_authenticated", False):
        return select(Download).where(false())
    admin, managed, hosted = is_admin(user), managed_partner_ids(user), hosted_partner_ids(user)
    asked = Download.id.in_(select(download_requesters.c.download_id)
                            .where(download_requesters.c.user_id == user.id))
    kinds = [false()]
    if admin or managed:
        kinds.append(Download.kind.in_(("kpi_report", "kpi_table")) & (
            true() if admin else _ids_within(Download.scope, "clusters", managed)))
    # The brochure: `_can_view_event`, `_can_see_delegation` and `_covers` of its event.
    organized = true() if admin else (Download.event_id.in_(
        select(event_organizers.c.event_id).where(event_organizers.c.partner_id.in_(managed)))
        if managed else false())
    hosted_here = (Download.event_id.in_(
        select(event_hosts.c.event_id).where(event_hosts.c.partner_id.in_(hosted)))
        if hosted else false())
    published = Download.event_id.in_(select(Event.id).where(Event.status != EventStatus.DRAFT))
    shows_all = func.coalesce(Download.scope["all"].as_boolean(), false())
    shows_hosts = func.coalesce(Download.scope["hosts"].as_boolean(), false())
    kinds.append(and_(
        Download.kind == "brochure", Download.event_id.is_not(None),
        Download.scope["viewer"].as_integer() == user.id,
        or_(published, organized),
        or_(organized, true() if managed else false(), hosted_here),
        or_(organized, and_(~shows_all, _ids_within(Download.scope, "clusters", managed),
                            or_(hosted_here, ~shows_hosts)))))
    return select(Download).where(asked, or_(*kinds))


def kpi_clusters_of(user: Any) -> frozenset[int] | None:
    """Whose detail rows behind the KPIs a user may see: None (every row) for admins,
    their own clusters for partner managers, nobody's otherwise."""
    return None if is_admin(user) else managed_partner_ids(user)


def _decidable(user: Any, *, responsible: bool = False):
    """The condition on a Registration behind `decidable_registrations`."""
    if not getattr(user, "is_authenticated", False):
        return false()
    if is_admin(user) and not responsible:
        return true()
    managed = managed_partner_ids(user)
    if not managed:
        return false()
    organized = Registration.event_id.in_(select(event_organizers.c.event_id).where(
        event_organizers.c.partner_id.in_(managed)))
    if responsible:
        return or_(Registration.responsible_partner_id.in_(managed),
                   Registration.responsible_partner_id.is_(None) & organized)
    return or_(Registration.responsible_partner_id.in_(managed), organized)


def decidable_registrations(user: Any, *, responsible: bool = False
                            ) -> Select[tuple[Registration]]:
    """The registrations `user` may decide (`registration.decide`): every one for admins;
    for a partner manager those their clusters are responsible for and every one of the
    events their partners organize; none for anyone else. Every page, export and mail
    that needs this scope starts here.

    `responsible`: only those the user answers for as the responsible partner's manager
    (the event's organizers when the registration has no responsible partner, see
    `answering_partner_ids`): the applications their alerts and daily digest are about.
    Admins as such answer for none."""
    return select(Registration).where(_decidable(user, responsible=responsible))


def answering_partner_ids(reg: Registration) -> list[int]:
    """The partners whose managers answer for `reg` (`decidable_registrations` with
    `responsible`, seen from the registration): its responsible partner, or, when it has
    none, the event's organizers."""
    if reg.responsible_partner_id is not None:
        return [reg.responsible_partner_id]
    return [p.id for p in reg.event.organizers]


def contactable_registrations(user: Any) -> Select[tuple[Registration]]:
    """The registrations whose contact details `user` may see (`registration.contact`,
    whose object form it must agree with): those they may decide, and those of the events
    they host whose delegate agreed to share them with the hosts."""
    hosted = hosted_partner_ids(user)
    if not hosted:
        return select(Registration).where(_decidable(user))
    return select(Registration).where(or_(
        _decidable(user),
        Registration.contact_consent_at.is_not(None) & Registration.event_id.in_(
            select(event_hosts.c.event_id).where(event_hosts.c.partner_id.in_(hosted)))))


def visible_participants(event: Event | int) -> Select[tuple[Participant]]:
    """An event's marketplace: the participants whose registration is approved and whose
    consent is given and not withdrawn. Whatever lists participants to others starts
    here, so a withdrawn consent hides the participant at once, everywhere."""
    event_id = event if isinstance(event, int) else event.id
    return select(Participant).join(Participant.registration).where(
        Participant.event_id == event_id,
        Registration.status == RegistrationStatus.APPROVED,
        Participant.consent_given_at.is_not(None),
        Participant.consent_withdrawn_at.is_(None))


def participants_whose_contact(user: Any, participants: list[Participant]) -> set[int]:
    """The ids of `participants` whose email and phone `user` may see: the batch form of
    `participant.contact` (which it must agree with), in three statements however many
    participants a page lists."""
    if not participants or not getattr(user, "is_authenticated", False):
        return set()
    shown = {p.id for p in participants if _is_participant_self(user, p)}
    contactable = set(db.session.scalars(
        contactable_registrations(user).with_only_columns(Registration.id).where(
            Registration.id.in_([p.registration_id for p in participants]))))
    shown |= {p.id for p in participants if p.registration_id in contactable}
    mine = set(db.session.scalars(select(Participant.id).join(Participant.registration).where(
        Participant.event_id.in_({p.event_id for p in participants}),
        Registration.user_id == user.id, Registration.status == RegistrationStatus.APPROVED)))
    others = {p.id for p in participants} - mine
    if mine and others:
        for low, high in db.session.execute(select(
                MeetingRequest.pair_low, MeetingRequest.pair_high).where(
                MeetingRequest.status == MeetingRequestStatus.ACCEPTED,
                or_(MeetingRequest.pair_low.in_(mine) & MeetingRequest.pair_high.in_(others),
                    MeetingRequest.pair_low.in_(others) & MeetingRequest.pair_high.in_(mine)))):
            shown |= {low, high} & others
    return shown


def _followed_participants(user: Any):
    """The condition on a Participant that `user` follows (`_follows`), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if is_admin(user):
        return true()
    clauses = []
    managed = managed_partner_ids(user)
    if managed:
        clauses.append(Participant.event_id.in_(select(event_organizers.c.event_id).where(
            event_organizers.c.partner_id.in_(managed))))
        clauses.append(Participant.registration_id.in_(select(Registration.id).where(
            Registration.responsible_partner_id.in_(managed))))
    hosted = hosted_partner_ids(user)
    if hosted:
        clauses.append(Participant.event_id.in_(select(event_hosts.c.event_id).where(
            event_hosts.c.partner_id.in_(hosted))) & Participant.participant_type_id.in_(
            select(ParticipantType.id).where(ParticipantType.key == HOST_STAKEHOLDER)))
    clauses.append(Participant.registration_id.in_(select(Registration.id).where(
        Registration.user_id == user.id)))
    return or_(*clauses)


def meeting_requests_visible_to(user: Any, event: Event | None = None
                                ) -> Select[tuple[MeetingRequest]]:
    """The meeting requests `user` may see (`meeting_request.view`, whose object form it
    must agree with): their own, all of the events they organize, their clusters'
    participants', and as a host those of their region's stakeholders."""
    query = select(MeetingRequest)
    if event is not None:
        query = query.where(MeetingRequest.event_id == event.id)
    followed = _followed_participants(user)
    if followed is None:
        return query.where(false())
    sides = select(Participant.id).where(followed)
    return query.where(or_(MeetingRequest.requester_id.in_(sides),
                           MeetingRequest.receiver_id.in_(sides)))


def desk_registrations(user: Any) -> Select[tuple[Registration]]:
    """What the desk lists: the visible registrations other than the user's own."""
    return registrations_visible_to(user).where(Registration.user_id != user.id)


# --------------------------------------------------------------------------- endpoint rules


@dataclass(frozen=True)
class Declared:
    """What an endpoint enforces, read by tests/test_access.py: `action` ("public",
    "link", "login" or an action of `ACTIONS`), and for an object rule the `model` row
    named by the URL's `id_arg` (matched against its column `by`, else its id), with the
    target-less action checked `first`, the action that makes the object `visible`, and
    whether visitors are sent to sign in first (`signed_in`; see `requires_on`)."""

    action: str
    model: type | None = None
    id_arg: str | None = None
    first: str | None = None
    visible: str | None = None
    by: str | None = None
    signed_in: bool = True


def _declare(view: Callable, rule: str | Declared) -> Callable:
    declared = rule if isinstance(rule, Declared) else Declared(rule)
    view.access_rule = declared.action  # type: ignore[attr-defined]
    view.access_declared = declared  # type: ignore[attr-defined]
    return view


def declared_rule(view: Callable) -> Declared | None:
    """The rule `view` declares (None: it declares none, a bug the walk test finds)."""
    return getattr(view, "access_declared", None)


def public(view: Callable) -> Callable:
    """Anyone, signed in or not, may open this endpoint."""
    return _declare(view, "public")


def by_link(view: Callable) -> Callable:
    """Whoever holds the link in the URL, signed in or not: the link is the credential,
    and what it admits to (or refuses, 403 for a link that no longer admits) is the
    same for everyone."""
    return _declare(view, "link")


def login_required(view: Callable) -> Callable:
    """Any signed-in user, whatever their roles: what they reach is their own (an object
    named in the URL is declared with `requires_on`)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _declare(wrapped, "login")


def requires(action: str) -> Callable[[Callable], Callable]:
    """A signed-in user allowed `action` (without a target); others get 403."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, action)

    return decorator


def load(model: type, key: Any, by: str | None = None) -> Any:
    """The `model` row whose primary key (or column `by`) is `key`, or None."""
    if by is None:
        return db.session.get(model, key)
    return db.session.scalar(select(model).where(getattr(model, by) == key))


def requires_on(action: str, model: type, id_arg: str, *, first: str | None = None,
                visible: str | None = None, by: str | None = None,
                signed_in: bool = True) -> Callable[[Callable], Callable]:
    """A signed-in user allowed `action` on the `model` row whose id is the URL's
    `id_arg` (or whose column `by` holds the URL's value: a slug); the view receives the
    row as the argument named like the model in snake case (`event`,
    `membership_request`), and the URL's value only if its signature names it.

    Refusals: without the target-less action `first`, 403 whatever the id (a role that
    never performs `action` learns nothing about ids); an unknown id, or a row the user
    may not see (`visible`), 404; a visible row without `action`, 403. Without
    `visible`, a row outside the user's `action` looks like an unknown id (404).
    `signed_in=False`: visitors are judged by the policy too (a published event's page)
    rather than sent to sign in."""
    for name in (action, first, visible):
        if name is not None and name not in ACTIONS:
            raise ValueError(f"unknown action {name!r}")
    declared = Declared(action, model, id_arg, first, visible, by, signed_in)
    argument = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()

    def decorator(view: Callable) -> Callable:
        parameters = inspect.signature(view).parameters
        keeps_id = id_arg in parameters

        @wraps(view)
        def wrapped(*args, **kwargs):
            if signed_in and not current_user.is_authenticated:
                return login_manager.unauthorized()
            if first is not None and not can(current_user, first):
                abort(403)
            target = load(model, kwargs[id_arg], by)
            if target is None:
                abort(404)
            authorize(action, target, visible_action=visible)
            if not keeps_id:
                del kwargs[id_arg]
            if argument in parameters:
                kwargs[argument] = target
            return view(*args, **kwargs)

        return _declare(wrapped, declared)

    return decorator

"""Matchmaking on an event: its settings, and the participants' opt-in, consent, profile,
opportunities and unavailable slots. Meeting requests have their own state machine
(services.meeting_requests).

Organizers switch matchmaking on for any event; it starts with the default participant
types (SME, research, government, investor, host-region stakeholder), a matrix that lets
every type ask every type, and the default opportunity types (offer, request). An
approved registrant joins the marketplace with a consent of its own, stored with its
time and text version; others see them only while it is given (access.
visible_participants), so withdrawing it hides them at once and ends their open
requests and meetings.

Everything here flushes into the caller's unit of work and writes its audit entry there;
nothing commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    OpportunityIn,
    ParticipantTypeIn,
    ProfileIn,
    UnavailableSlotsIn,
)
from ..models import (
    DEFAULT_OPPORTUNITY_TYPES,
    DEFAULT_PARTICIPANT_TYPES,
    Event,
    EventStatus,
    Matchmaking,
    MeetingBlock,
    MeetingPoint,
    MeetingRequest,
    MeetingRequestStatus,
    Opportunity,
    OpportunityType,
    Participant,
    ParticipantType,
    Registration,
    RegistrationStatus,
    RequestRule,
    UnavailableSlot,
    User,
    utcnow,
)
from . import audit, matchmaking_settings, meeting_requests, meeting_schedule
from .errors import MatchmakingRefused
from .events import to_utc
from .locking import lock_event, lock_participants

# --------------------------------------------------------------------------- settings


def switch_on(event_id: int, settings: MatchmakingIn, *, actor: User | None) -> Matchmaking:
    """Switch matchmaking on for the event (with the default types and an open matrix
    the first time), or change its settings."""
    event = lock_event(event_id)
    if event.status == EventStatus.CANCELLED:
        raise MatchmakingRefused("matchmaking.not_enabled")
    matchmaking = matchmaking_settings.of_event(event_id)
    values = settings.model_dump(exclude={"requests_open_local", "requests_close_local"})
    values.update(enabled=True, **_window(event, settings))
    if matchmaking is None:
        matchmaking = Matchmaking(event=event, **values)
        db.session.add(matchmaking)
        _add_defaults(matchmaking)
        db.session.flush()
        audit.record(actor, "matchmaking.switched_on", matchmaking, event_id=event_id,
                     changes={name: [None, audit.plain(value)]
                              for name, value in values.items()})
        return matchmaking
    changes = audit.diff(matchmaking, values)
    if changes:
        audit.record(actor, "matchmaking.updated", matchmaking, changes=changes,
                     event_id=event_id)
    db.session.flush()
    return matchmaking


def _window(event: Event, settings: MatchmakingIn) -> dict[str, datetime | None]:
    """The request window's instants: its wall-clock times in the event's zone."""
    return {column: None if local is None else to_utc(local, event.zone, field)
            for column, field, local in (
                ("requests_open_at", "requests_open_local", settings.requests_open_local),
                ("requests_close_at", "requests_close_local", settings.requests_close_local))}


def _add_defaults(matchmaking: Matchmaking) -> None:
    types = [ParticipantType(key=key, label="", position=n)
             for n, key in enumerate(DEFAULT_PARTICIPANT_TYPES)]
    matchmaking.participant_types.extend(types)
    matchmaking.opportunity_types.extend(
        OpportunityType(key=key, label="", position=n)
        for n, key in enumerate(DEFAULT_OPPORTUNITY_TYPES))
    db.session.flush()
    matchmaking.rules.extend(
        RequestRule(requester_type_id=asking.id, receiver_type_id=asked.id)
        for asking in types for asked in types)


def switch_off(event_id: int, *, actor: User | None) -> Matchmaking:
    """Close the marketplace: nobody new joins or asks; what was agreed stays."""
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    matchmaking.enabled = False
    audit.record(actor, "matchmaking.switched_off", matchmaking, event_id=event_id,
                 changes={"enabled": [True, False]})
    return matchmaking


def add_block(event_id: int, block: MeetingBlockIn, *, actor: User | None) -> MeetingBlock:
    """A stretch of meeting time, inside the event's dates."""
    event = lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    starts_at = to_utc(block.starts_local, event.zone, "starts_local")
    ends_at = to_utc(block.ends_local, event.zone, "ends_local")
    if starts_at < event.starts_at or ends_at > event.ends_at:
        raise MatchmakingRefused("matchmaking.block_outside_event")
    item = MeetingBlock(starts_at=starts_at, ends_at=ends_at)
    matchmaking.blocks.append(item)
    db.session.flush()
    audit.record(actor, "matchmaking.block_added", item, event_id=event_id,
                 changes={"starts_at": [None, audit.plain(starts_at)],
                          "ends_at": [None, audit.plain(ends_at)]})
    return item


def add_point(event_id: int, point: MeetingPointIn, *, actor: User | None) -> MeetingPoint:
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    if any(existing.name == point.name for existing in matchmaking.points):
        raise MatchmakingRefused("matchmaking.point_taken")
    item = MeetingPoint(name=point.name, kind=point.kind, url=point.url or None)
    matchmaking.points.append(item)
    db.session.flush()
    audit.record(actor, "matchmaking.point_added", item, event_id=event_id,
                 changes={"name": [None, point.name]})
    return item


def add_participant_type(event_id: int, new: ParticipantTypeIn, *,
                         actor: User | None) -> ParticipantType:
    """A type of the organizers' own: it may ask, and be asked by, every type until the
    matrix says otherwise."""
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    if any(existing.key == new.key for existing in matchmaking.participant_types):
        raise MatchmakingRefused("matchmaking.type_taken")
    item = ParticipantType(key=new.key, label=new.label,
                           position=len(matchmaking.participant_types))
    matchmaking.participant_types.append(item)
    db.session.flush()
    for other in matchmaking.participant_types:
        matchmaking.rules.append(RequestRule(requester_type_id=item.id,
                                             receiver_type_id=other.id))
        if other.id != item.id:
            matchmaking.rules.append(RequestRule(requester_type_id=other.id,
                                                 receiver_type_id=item.id))
    audit.record(actor, "matchmaking.type_added", item, event_id=event_id,
                 changes={"key": [None, new.key]})
    return item


def _type(matchmaking: Matchmaking, key: str) -> ParticipantType:
    found = next((t for t in matchmaking.participant_types if t.key == key), None)
    if found is None:
        raise MatchmakingRefused("matchmaking.type_unknown")
    return found


def set_rule(event_id: int, requester_key: str, receiver_key: str, allowed: bool, *,
             actor: User | None) -> None:
    """One cell of the matrix: may participants of one type ask those of another."""
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    asking, asked = _type(matchmaking, requester_key), _type(matchmaking, receiver_key)
    rule = next((r for r in matchmaking.rules if r.requester_type_id == asking.id
                 and r.receiver_type_id == asked.id), None)
    if allowed == (rule is not None):
        return
    if allowed:
        matchmaking.rules.append(RequestRule(requester_type_id=asking.id,
                                             receiver_type_id=asked.id))
    else:
        matchmaking.rules.remove(rule)
    audit.record(actor, "matchmaking.rule_changed", matchmaking, event_id=event_id,
                 changes={f"{requester_key}->{receiver_key}": [not allowed, allowed]})


def set_matrix(event_id: int, allowed: set[tuple[str, str]], *,
               actor: User | None) -> int:
    """The whole matrix at once: each (requester key, receiver key) in `allowed` may ask,
    every other pair of the event's types may not. Only the cells that change are set
    (one `set_rule` each, audited as it would be alone); returns how many changed."""
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    for keys in allowed:
        for key in keys:
            _type(matchmaking, key)
    kinds = list(matchmaking.participant_types)
    changed = [(asking.key, asked.key) for asking in kinds for asked in kinds
               if ((asking.key, asked.key) in allowed) != matchmaking.allows(asking.id,
                                                                             asked.id)]
    for asking, asked in changed:
        set_rule(event_id, asking, asked, (asking, asked) in allowed, actor=actor)
    db.session.flush()
    return len(changed)


def remove_block(event_id: int, block_id: int, *, actor: User | None) -> MeetingBlock | None:
    """Meetings are no longer held in the block; None: the event has no such block."""
    return _remove(event_id, "blocks", block_id, "matchmaking.block_removed", lambda block: {
        "starts_at": [audit.plain(block.starts_at), None],
        "ends_at": [audit.plain(block.ends_at), None]}, actor=actor)


def remove_point(event_id: int, point_id: int, *, actor: User | None) -> MeetingPoint | None:
    """The table, booth or room is no longer offered, and the meetings placed there wait
    for another place; None: the event has no such point."""
    return _remove(event_id, "points", point_id, "matchmaking.point_removed",
                   lambda point: {"name": [point.name, None]}, actor=actor,
                   before=lambda point: meeting_schedule.unplace_at_point(point.id))


def _remove(event_id: int, collection: str, item_id: int, action: str,
            changes: Callable[[Any], dict[str, list[Any]]], *, actor: User | None,
            before: Callable[[Any], None] | None = None) -> Any:
    """One of the settings' `collection` (blocks, points) removed, audited, after
    `before(item)`; None when the event's matchmaking holds no such item (another
    event's is not found here)."""
    lock_event(event_id)
    matchmaking = matchmaking_settings.enabled(event_id)
    item = next((found for found in getattr(matchmaking, collection)
                 if found.id == item_id), None)
    if item is None:
        return None
    if before is not None:
        before(item)
    audit.record(actor, action, item, event_id=event_id, changes=changes(item))
    getattr(matchmaking, collection).remove(item)
    db.session.flush()
    return item


@dataclass(frozen=True)
class Figures:
    """What an event's matchmaking counts: its participants, those in the marketplace
    (consenting), and its meeting requests by status."""

    participants: int
    consenting: int
    requests: dict[MeetingRequestStatus, int]


def figures(event_id: int) -> Figures:
    """The event's matchmaking in numbers, in two queries whatever their size."""
    consenting = and_(Participant.consent_given_at.is_not(None),
                      Participant.consent_withdrawn_at.is_(None))
    total, given = db.session.execute(
        select(func.count(Participant.id), func.count(Participant.id).filter(consenting))
        .where(Participant.event_id == event_id)).one()
    by_status = dict(db.session.execute(
        select(MeetingRequest.status, func.count(MeetingRequest.id))
        .where(MeetingRequest.event_id == event_id).group_by(MeetingRequest.status)).all())
    return Figures(total, given, {status: by_status.get(status, 0)
                                  for status in MeetingRequestStatus})


def for_settings(event_id: int) -> Matchmaking | None:
    """The event's matchmaking with everything its settings page lists, in a fixed
    number of queries."""
    return db.session.scalar(select(Matchmaking).where(Matchmaking.event_id == event_id)
                             .options(selectinload(Matchmaking.blocks),
                                      selectinload(Matchmaking.points),
                                      selectinload(Matchmaking.participant_types),
                                      selectinload(Matchmaking.rules)))


def check_slots(matchmaking: Matchmaking, slots) -> None:
    known = set(matchmaking.slot_starts())
    if any(slot not in known for slot in slots):
        raise MatchmakingRefused("matchmaking.not_a_slot")


# --------------------------------------------------------------------------- participants


def tags(text: str) -> list[str]:
    """The tags of a field, one per line (commas separate them too), each once."""
    found: dict[str, None] = {}
    for line in text.replace(",", "\n").splitlines():
        tag = " ".join(line.split())
        if tag and tag.casefold() not in {t.casefold() for t in found}:
            found[tag] = None
    return list(found)


def _tag_text(text: str) -> str:
    return "\n".join(tags(text))


def participant_of(registration_id: int) -> Participant | None:
    return db.session.scalar(select(Participant).where(
        Participant.registration_id == registration_id))


def join(registration_id: int, data: JoinIn, *, actor: User | None) -> Participant:
    """An approved registrant opts in to the event's marketplace (again, after a
    withdrawn consent), with the consent of the current text version."""
    event_id = db.session.scalar(select(Registration.event_id).where(
        Registration.id == registration_id))
    lock_event(event_id)
    existing = participant_of(registration_id)
    if existing is not None:
        lock_participants([existing.id])
    reg = db.session.execute(select(Registration).where(Registration.id == registration_id)
                             .execution_options(populate_existing=True)).scalar_one()
    matchmaking = matchmaking_settings.enabled(reg.event_id)
    if reg.status != RegistrationStatus.APPROVED or reg.event.status == EventStatus.CANCELLED:
        raise MatchmakingRefused("matchmaking.not_approved")
    if not data.consent:
        raise MatchmakingRefused("matchmaking.consent_needed")
    kind = _type(matchmaking, data.participant_type)
    now = utcnow()
    version = current_app.config["CONSENT_VERSION"]
    participant = participant_of(registration_id)
    if participant is not None and participant.consents:
        raise MatchmakingRefused("matchmaking.already_joined")
    if participant is None:
        participant = Participant(event_id=reg.event_id, registration=reg,
                                  participant_type=kind)
        db.session.add(participant)
    participant.participant_type = kind
    participant.consent_given_at, participant.consent_version = now, version
    participant.consent_withdrawn_at = None
    db.session.flush()
    audit.record(actor, "matchmaking.joined", participant, event_id=reg.event_id,
                 changes={"consent_version": [None, version]})
    return participant


def withdraw_consent(participant_id: int, *, actor: User | None) -> Participant:
    """The participant leaves the marketplace: hidden from everyone at once, and their
    open requests and meetings are cancelled, the other sides told."""
    participant = _locked(participant_id)
    if participant.consent_withdrawn_at is None and participant.consent_given_at is not None:
        participant.consent_withdrawn_at = utcnow()
        audit.record(actor, "matchmaking.consent_withdrawn", participant,
                     event_id=participant.event_id)
    meeting_requests.cancel_open_of([participant.id], cause="consent_withdrawn", actor=actor)
    return participant


def _locked(participant_id: int) -> Participant:
    found = lock_participants([participant_id]).get(participant_id)
    if found is None:
        raise MatchmakingRefused("meeting_request.not_in_marketplace")
    return found


def update_profile(participant_id: int, data: ProfileIn, *, actor: User | None) -> Participant:
    participant = _locked(participant_id)
    matchmaking = matchmaking_settings.enabled(participant.event_id)
    kind = _type(matchmaking, data.participant_type)
    changes = audit.diff(participant, {"participant_type_id": kind.id,
                                       "sectors": _tag_text(data.sectors),
                                       "technologies": _tag_text(data.technologies)})
    if changes:
        audit.record(actor, "matchmaking.profile_updated", participant, changes=changes,
                     event_id=participant.event_id)
    db.session.flush()
    return participant


def _opportunity_type(matchmaking: Matchmaking, key: str) -> OpportunityType:
    found = next((t for t in matchmaking.opportunity_types if t.key == key), None)
    if found is None:
        raise MatchmakingRefused("matchmaking.opportunity_type_unknown")
    return found


def add_opportunity(participant_id: int, data: OpportunityIn, *,
                    actor: User | None) -> Opportunity:
    participant = _locked(participant_id)
    matchmaking = matchmaking_settings.enabled(participant.event_id)
    item = Opportunity(opportunity_type=_opportunity_type(matchmaking, data.opportunity_type),
                       title=data.title, text=data.text, tags=_tag_text(data.tags))
    participant.opportunities.append(item)
    db.session.flush()
    audit.record(actor, "matchmaking.opportunity_added", item, event_id=participant.event_id,
                 changes={"title": [None, data.title]})
    return item


def update_opportunity(opportunity_id: int, data: OpportunityIn, *,
                       actor: User | None) -> Opportunity:
    participant_id = db.session.scalar(select(Opportunity.participant_id).where(
        Opportunity.id == opportunity_id))
    participant = _locked(participant_id)
    matchmaking = matchmaking_settings.enabled(participant.event_id)
    item = db.session.get(Opportunity, opportunity_id, populate_existing=True)
    changes = audit.diff(item, {
        "opportunity_type_id": _opportunity_type(matchmaking, data.opportunity_type).id,
        "title": data.title, "text": data.text, "tags": _tag_text(data.tags)})
    if changes:
        audit.record(actor, "matchmaking.opportunity_updated", item, changes=changes,
                     event_id=participant.event_id)
    db.session.flush()
    return item


def remove_opportunity(opportunity_id: int, *, actor: User | None) -> None:
    participant_id = db.session.scalar(select(Opportunity.participant_id).where(
        Opportunity.id == opportunity_id))
    participant = _locked(participant_id)
    item = db.session.get(Opportunity, opportunity_id, populate_existing=True)
    audit.record(actor, "matchmaking.opportunity_removed", item,
                 event_id=participant.event_id, changes={"title": [item.title, None]})
    participant.opportunities.remove(item)
    db.session.flush()


def set_unavailable(participant_id: int, data: UnavailableSlotsIn, *,
                    actor: User | None) -> list[datetime]:
    """The slots in which the participant cannot meet (all of them, replacing the
    earlier ones); requests for them are refused."""
    participant = _locked(participant_id)
    matchmaking = matchmaking_settings.enabled(participant.event_id)
    wanted = sorted(set(data.slots))
    check_slots(matchmaking, wanted)
    before = [slot.starts_at for slot in participant.unavailable]
    if before == wanted:
        return wanted
    participant.unavailable.clear()
    db.session.flush()
    participant.unavailable.extend(UnavailableSlot(starts_at=start) for start in wanted)
    db.session.flush()
    audit.record(actor, "matchmaking.unavailable_set", participant,
                 event_id=participant.event_id,
                 changes={"unavailable": [audit.plain(before), audit.plain(wanted)]})
    return wanted

"""An event's marketplace as its participants browse it: the search (text, opportunity
type, sector, country, participant type) and the suggested matches with their reasons.

Both start from `access.visible_participants`, so a participant whose consent is
withdrawn (or was never given), whose registration is no longer approved, or who takes
part in another event is never listed; the viewer is never listed to themself.

Both read the marketplace as plain rows in two queries (its participants, their
opportunities), filter or rank them in Python, and load as objects only the participants
they hand back (one more query, two with their opportunities): the number of queries is
the same for 3 participants or 3,000. The text search folds as the rest of the app does
(models.search: accents and case; every typed word must occur) over the organization's
name, the participant's sectors and technologies, and their opportunities' titles, texts
and tags.

A suggestion's reasons are data (`Reason`), never sentences: pages word them in the
reader's language ("offers smart lighting, which you request").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import defaultload, joinedload, selectinload

from .. import access, collation
from ..extensions import db
from ..models import (
    OPEN_REQUEST_STATUSES,
    Event,
    Matchmaking,
    MeetingRequest,
    Opportunity,
    OpportunityType,
    Organization,
    Participant,
    ParticipantType,
    Registration,
    RegistrationStatus,
    RequestRule,
    User,
)
from ..models import search as folding
from ..paging import Page
from .matchmaking import tags as split_tags

# The opportunity types whose pairs count most: an offer of theirs that meets a request
# of mine, or a request of theirs that one of my offers meets.
OFFER, REQUEST = "offer", "request"
# What one tag weighs in a suggestion's score: in an offer/request pair, in the plain
# overlap of all tags (technologies and opportunities'), in the sectors.
PAIR_WEIGHT = 3
TAG_WEIGHT = 1
SECTOR_WEIGHT = 1

PER_PAGE = 20


@dataclass(frozen=True)
class Listing:
    """A participant as the marketplace lists them, with their opportunities (of the
    type asked for, when the search names one)."""

    participant: Participant
    opportunities: tuple[Opportunity, ...]


@dataclass(frozen=True)
class Reason:
    """Why a participant is suggested. `kind` is one of "offers_what_you_request" (their
    offer `their_title` meets my request `your_title` in `tags`), "requests_what_you_offer"
    (the other way round), "shared_tags" and "shared_sector" (`tags`: the sectors). Tags
    are spelled as the suggested participant wrote them."""

    kind: str
    tags: tuple[str, ...]
    their_title: str = ""
    your_title: str = ""


@dataclass(frozen=True)
class Suggestion:
    participant: Participant
    score: int
    reasons: tuple[Reason, ...]


# --------------------------------------------------------------------------- rows


# Folding is a loop over every character in Python: each text is folded once per
# process, not once per search (texts change seldom; a changed one is a new key here),
# and plain ASCII, most of what participants write, takes a shortcut to the same key.
_ASCII_CONTROLS = str.maketrans({code: " " for code in (*range(32), 127)})


def _ascii_key(text: str) -> str:
    """models.search.key of an ASCII text: nothing to transliterate or spell out."""
    return " ".join(text.translate(_ASCII_CONTROLS).lower().split())[:folding.KEY_LENGTH]


@lru_cache(maxsize=65536)
def _folded(tag: str) -> str:
    return _ascii_key(tag) if tag.isascii() else folding.fold(tag)


@lru_cache(maxsize=65536)
def _searched(text: str) -> str:
    return _ascii_key(text) if text.isascii() else folding.key(text)


@lru_cache(maxsize=65536)
def _tag_map(text: str) -> dict[str, str]:
    """A field's tags, folded, each with its spelling as written (shared: read only)."""
    found: dict[str, str] = {}
    for tag in split_tags(text or ""):
        found.setdefault(_folded(tag), tag)
    return found


@dataclass
class _Offer:
    """One opportunity, as plain values."""

    id: int
    type_key: str
    title: str
    text: str
    tags: dict[str, str]


@dataclass
class _Row:
    """One participant of the marketplace, as plain values."""

    id: int
    user_id: int
    type_id: int
    type_key: str
    sectors: dict[str, str]
    technologies: dict[str, str]
    organization: str
    organization_sector: str
    country: str
    person: str
    offers: list[_Offer] = field(default_factory=list)

    def all_tags(self) -> dict[str, str]:
        found = dict(self.technologies)
        for offer in self.offers:
            for folded, tag in offer.tags.items():
                found.setdefault(folded, tag)
        return found

    def search_keys(self) -> list[str]:
        """The folded keys of what the text search reads (a typed word has no space, so
        it matches inside one of them or not at all)."""
        texts = [self.organization, *self.sectors.values(), *self.technologies.values()]
        for offer in self.offers:
            texts.extend((offer.title, offer.text, *offer.tags.values()))
        return [_searched(text) for text in texts if text]


def _rows(event_id: int) -> list[_Row]:
    """The event's marketplace as plain rows: two queries, whatever its size."""
    visible = access.visible_participants(event_id).subquery()
    found = db.session.execute(
        select(Participant.id, Registration.user_id, Participant.participant_type_id,
               ParticipantType.key, Participant.sectors, Participant.technologies,
               Organization.name, Organization.sector, Organization.country, User.name)
        .join(Participant.registration).join(Registration.user)
        .join(Participant.participant_type).outerjoin(User.organization)
        .where(Participant.id.in_(select(visible.c.id)))).all()
    rows = {row[0]: _Row(row[0], row[1], row[2], row[3], _tag_map(row[4]), _tag_map(row[5]),
                         row[6] or "", row[7] or "", row[8] or "", row[9] or "")
            for row in found}
    for opportunity_id, participant_id, type_key, title, text, tags in db.session.execute(
            select(Opportunity.id, Opportunity.participant_id, OpportunityType.key,
                   Opportunity.title, Opportunity.text, Opportunity.tags)
            .join(Opportunity.opportunity_type)
            .where(Opportunity.participant_id.in_(select(visible.c.id)))
            .order_by(Opportunity.id)):
        row = rows.get(participant_id)
        if row is not None:
            row.offers.append(_Offer(opportunity_id, type_key, title, text or "",
                                     _tag_map(tags)))
    return list(rows.values())


@dataclass(frozen=True)
class Market:
    """An event's marketplace read once, for a page that both searches it and suggests
    from it (`read`)."""

    event_id: int
    rows: list[_Row]

    def countries(self) -> set[str]:
        """The countries its participants' organizations are in: what a search may
        narrow to."""
        return {row.country for row in self.rows if row.country}


def read(event: Event | int) -> Market:
    return Market(_event_id(event), _rows(_event_id(event)))


def _rows_of(event_id: int, market: Market | None) -> list[_Row]:
    if market is None:
        return _rows(event_id)
    if market.event_id != event_id:
        raise ValueError(f"read for event {market.event_id}, not {event_id}")
    return market.rows


def _sort_key(row: _Row, language: str | None):
    return (collation.key(row.organization, language), collation.key(row.person, language),
            row.id)


def _participants(ids: list[int]) -> dict[int, Participant]:
    """The participants `ids` as objects, with what a listing shows of them: their
    registration's person and organization, type and opportunities."""
    if not ids:
        return {}
    found = db.session.scalars(
        select(Participant).where(Participant.id.in_(ids)).options(
            joinedload(Participant.registration).joinedload(Registration.user)
            .joinedload(User.organization),
            # A user's roles load with them; a listing needs none.
            defaultload(Participant.registration).defaultload(Registration.user)
            .lazyload(User.grants),
            joinedload(Participant.participant_type),
            selectinload(Participant.opportunities).joinedload(Opportunity.opportunity_type)),
    ).unique()
    return {participant.id: participant for participant in found}


def _event_id(event: Event | int) -> int:
    return event if isinstance(event, int) else event.id


def _is_viewer(row: _Row, viewer: Participant | User | Any) -> bool:
    if isinstance(viewer, Participant):
        return row.id == viewer.id
    return row.user_id == getattr(viewer, "id", None)


# --------------------------------------------------------------------------- search


def search(viewer: Participant | User | Any, event: Event | int, *, text: str = "",
           opportunity_type: str | None = None, sector: str | None = None,
           country: str | None = None, participant_type: str | None = None, page: int = 1,
           limit: int = PER_PAGE, language: str | None = None,
           market: Market | None = None) -> Page:
    """Page `page` (`limit` to a page) of the event's marketplace as `viewer` (a
    participant, or a user: an organizer browsing it) sees it, without the viewer: the
    participants that match every filter given, by their organization's name in the
    reader's order (`language`, by default the one being read), then their own, then id.
    Its items are `Listing`s; its `total` counts every match.

    `opportunity_type` (a key: "offer") keeps those with an opportunity of that type and
    lists only those; `sector` matches one of the participant's sectors or their
    organization's, folded; `country` their organization's (a code); `participant_type`
    a key ("sme"); `text` as every search box does (models.search). `market`: the
    marketplace as `read` already, else it is read here."""
    words = folding.terms(text)
    if folding.typed(text) and not words:
        return Page([], page, limit, False, 0)
    wanted_sector = _folded(sector) if sector else None
    wanted_country = country.upper() if country else None
    matched = []
    for row in _rows_of(_event_id(event), market):
        if _is_viewer(row, viewer):
            continue
        if participant_type and row.type_key != participant_type:
            continue
        if wanted_country and row.country.upper() != wanted_country:
            continue
        if wanted_sector and wanted_sector not in row.sectors and (
                _folded(row.organization_sector) != wanted_sector):
            continue
        if opportunity_type and not any(o.type_key == opportunity_type for o in row.offers):
            continue
        if words:
            keys = row.search_keys()
            if not all(any(word in key for key in keys) for word in words):
                continue
        matched.append(row)
    matched.sort(key=lambda row: _sort_key(row, language))
    page = max(page, 1)
    shown = matched[(page - 1) * limit:page * limit]
    loaded = _participants([row.id for row in shown])
    items = [Listing(loaded[row.id], tuple(
        o for o in loaded[row.id].opportunities
        if opportunity_type is None or o.opportunity_type.key == opportunity_type))
        for row in shown if row.id in loaded]
    return Page(items, page, limit, len(matched) > page * limit, len(matched))


# --------------------------------------------------------------------------- suggestions


def _pairs(mine: _Row, theirs: _Row, my_type: str, their_type: str,
           kind: str) -> list[Reason]:
    """Reasons of `kind`: an opportunity of theirs of `their_type` sharing tags with one
    of mine of `my_type`."""
    found = []
    for their in theirs.offers:
        if their.type_key != their_type or not their.tags:
            continue
        for my in mine.offers:
            if my.type_key != my_type:
                continue
            shared = [tag for folded, tag in their.tags.items() if folded in my.tags]
            if shared:
                found.append(Reason(kind, tuple(shared), their.title, my.title))
    return found


def _score(mine: _Row, mine_tags: dict[str, str], theirs: _Row
           ) -> tuple[int, tuple[Reason, ...]]:
    reasons = (_pairs(mine, theirs, REQUEST, OFFER, "offers_what_you_request")
               + _pairs(mine, theirs, OFFER, REQUEST, "requests_what_you_offer"))
    score = sum(PAIR_WEIGHT * len(reason.tags) for reason in reasons)
    paired = {_folded(tag) for reason in reasons for tag in reason.tags}
    shared = [tag for folded, tag in theirs.all_tags().items()
              if folded in mine_tags and folded not in paired]
    if shared:
        reasons.append(Reason("shared_tags", tuple(shared)))
        score += TAG_WEIGHT * len(shared)
    sectors = [tag for folded, tag in theirs.sectors.items() if folded in mine.sectors]
    if sectors:
        reasons.append(Reason("shared_sector", tuple(sectors)))
        score += SECTOR_WEIGHT * len(sectors)
    return score, tuple(reasons)


def _may_ask(type_id: int) -> set[int]:
    """The participant types the matrix lets participants of `type_id` ask."""
    return set(db.session.scalars(select(RequestRule.receiver_type_id).where(
        RequestRule.requester_type_id == type_id)))


def _open_partners(participant_id: int) -> set[int]:
    """The participants with whom `participant_id` has an open request, either way."""
    found = db.session.execute(select(MeetingRequest.requester_id, MeetingRequest.receiver_id)
                               .where(or_(MeetingRequest.requester_id == participant_id,
                                          MeetingRequest.receiver_id == participant_id),
                                      MeetingRequest.status.in_(OPEN_REQUEST_STATUSES)))
    return {side for pair in found for side in pair} - {participant_id}


def suggestions(participant: Participant, limit: int = 20, *, language: str | None = None,
                market: Market | None = None) -> list[Suggestion]:
    """The other participants of `participant`'s marketplace best matched to them, at most
    `limit`, each with its score and reasons: tags their offers share with my requests
    (and my offers with their requests) weigh PAIR_WEIGHT each, other shared tags
    TAG_WEIGHT, shared sectors SECTOR_WEIGHT; tags compared folded. Left out: those the
    matrix forbids `participant` to ask, those with whom they have an open request, and
    those nothing matches. Highest score first, then by name in the reader's order
    (`language`), then id. Nothing while `participant` is not in the marketplace."""
    rows = _rows_of(participant.event_id, market)
    mine = next((row for row in rows if row.id == participant.id), None)
    if mine is None:
        return []
    allowed = _may_ask(mine.type_id)
    excluded = _open_partners(mine.id) | {mine.id}
    mine_tags = mine.all_tags()
    scored = []
    for row in rows:
        if row.id in excluded or row.type_id not in allowed:
            continue
        score, reasons = _score(mine, mine_tags, row)
        if score > 0:
            scored.append((score, row, reasons))
    scored.sort(key=lambda item: (-item[0], *_sort_key(item[1], language)))
    best = scored[:limit]
    loaded = _participants([row.id for _, row, _ in best])
    return [Suggestion(loaded[row.id], score, reasons)
            for score, row, reasons in best if row.id in loaded]


# --------------------------------------------------------------------------- one's own


def registration_of(event_id: int, user_id: int) -> Registration | None:
    """`user_id`'s registration for the event, whatever its status."""
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event_id, Registration.user_id == user_id))


def participant_of(registration: Registration | None) -> Participant | None:
    """The registration's participation in the marketplace while it is in it: approved
    and consenting (None otherwise, a withdrawn consent included)."""
    if registration is None or registration.status != RegistrationStatus.APPROVED:
        return None
    participant = db.session.scalar(select(Participant).where(
        Participant.registration_id == registration.id))
    return participant if participant is not None and participant.consents else None


def choosable_types(event_id: int, registration: Registration,
                    current: ParticipantType | None = None) -> list[ParticipantType]:
    """The participant types a registrant chooses among: every type of the event's but
    the host region's stakeholders', unless they are one (their organization belongs to
    no cluster: the hosting beachhead invited it) or already take part as one."""
    organization = registration.user.organization
    stakeholder = organization is None or organization.home_cluster_id is None
    types = db.session.scalars(
        select(ParticipantType).join(ParticipantType.matchmaking)
        .where(Matchmaking.event_id == event_id).order_by(ParticipantType.position)).all()
    return [kind for kind in types if kind.key != access.HOST_STAKEHOLDER or stakeholder
            or (current is not None and current.id == kind.id)]

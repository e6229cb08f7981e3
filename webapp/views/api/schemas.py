"""The API's schemas (pydantic v2): requests are validated and responses serialized by
these models, and the OpenAPI document is generated from them.

Requests are strict: unknown fields are refused, types are not coerced (a number in
quotes is not a number), integers are bounded. Responses list every field, always (a
withheld or missing value is null), and never hold more than the models say.
"""

from __future__ import annotations

import enum
import functools
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ... import inputs, text
from ...inputs import applications, checkin, registrations
from ...inputs import matchmaking as matchmaking_inputs
from ...models import (
    EventKind,
    EventRole,
    EventStatus,
    MeetingPointKind,
    MeetingRequestStatus,
    PartnerKind,
    RegistrationStatus,
    Role,
    ScheduleState,
)
from ...models import SessionKind as AgendaKind
from ...models.matchmaking import CANCEL_CAUSES
from ...services.errors import CODES
from ...services.fields import MAX_ID

MAX_PER_PAGE = 100

# An instant, always with its offset ("2026-12-01T09:00:00+00:00").
Instant = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True,
                              json_schema_serialization_defaults_required=True)


class _TextRules(BaseModel):
    """Every text a client sends follows the app's rules for text (webapp/text.py): it is
    NFC-normalized, and control characters, surrogates and noncharacters are refused (a
    422 whose pointer names the field). Line breaks and tabs only in the fields a model
    names in `long_texts`, documented as multi-line."""

    long_texts: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _readable_text(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in cls.long_texts
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            problem = text.refusal(value, multiline=multiline, field=info.field_name)
            if problem:
                raise ValueError(problem)
            return text.normalize(value)
        if isinstance(value, list):
            return [cls._readable_text(item, info) for item in value]
        return value


class Input(_TextRules):
    model_config = ConfigDict(extra="forbid", strict=True)


def _absent_or_given(schema: dict[str, Any]) -> None:
    """A parameter is left out or given a value, never null: a query model's `| None`
    and default None say only that it may be left out (and titles say nothing)."""
    for prop in schema["properties"].values():
        prop.pop("title", None)
        options = prop.pop("anyOf", [])
        rest = [option for option in options if option != {"type": "null"}]
        if len(rest) == 1:
            prop.update(rest[0])
        elif rest:
            prop["anyOf"] = rest
        if prop.get("default", 0) is None:
            del prop["default"]


class Query(_TextRules):
    """Query strings are text: numbers and enums are parsed from it, unknown names refused."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_absent_or_given)

    @classmethod
    @functools.cache
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Made once: flask-openapi3 reads a query model's schema on every request."""
        return super().model_json_schema(*args, **kwargs)


class _Path(BaseModel):
    """A path's ids."""

    model_config = ConfigDict(json_schema_extra=_absent_or_given)


class EventPath(_Path):
    event_id: Id


class RegistrationPath(_Path):
    registration_id: Id


# --------------------------------------------------------------------------- problems


class Problem(Output):
    """An RFC 9457 problem. A refusal of the domain (an application closed, a seat taken,
    a decision someone else took first) names its stable `code` and its `params` (null for
    the other problems); `detail` is in the language Accept-Language asks for (English,
    French or Greek)."""

    type: str
    title: str
    status: int
    detail: str
    code: Literal[tuple(sorted(CODES))] | None = Field(  # type: ignore[valid-type]
        None, description="A domain refusal's stable code, for a client to act on (null for "
        "other problems); the README's \"Error codes\" lists what each one means. Codes are "
        "never renamed.")
    params: dict[str, str | int | float | bool | None] | None = Field(
        None, description="The values the code's message names (a status, a limit, a date); "
        "null without a code.")


class FieldError(Output):
    pointer: str = Field(description="Where: a JSON pointer into the body (\"/reason\"), or "
                         "\"query/<name>\" for a query parameter.")
    detail: str


class ValidationProblem(Problem):
    errors: list[FieldError]


class DecisionConflict(Problem):
    """A decision refused: the status is no longer `expected_status` (someone decided
    first: who and when), or the decision does not fit (no seat, a final status, a
    cancelled event: `decided_by` and `decided_at` are null)."""

    current_status: RegistrationStatus
    decided_by: str | None = Field(description="Who moved it there (null: the system, or "
                                   "not a stale decision).")
    decided_at: Instant | None


# --------------------------------------------------------------------------- shared pieces


class PartnerRef(Output):
    id: int
    short_name: str
    name: str
    kind: PartnerKind


class OrganizationRef(Output):
    id: int
    name: str
    country: str


class EventRef(Output):
    id: int
    slug: str
    title: str
    kind: EventKind
    status: EventStatus
    starts_at: Instant
    ends_at: Instant


class Page(Output):
    per_page: int
    total: int | None = Field(description="How many rows the whole list holds: only when "
                              "asked with `count=true` (counting costs), otherwise null.")
    next_cursor: str | None = Field(description="The `cursor` of the next page (null on the "
                                    "last).")
    next: str | None = Field(description="The URL of the next page: the same filters and "
                             "the next cursor (null on the last).")


class PageQuery(Query):
    """A list's pages follow a stable order; each page's `next` carries a cursor to the
    rows after its last one."""

    cursor: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]{1,500}$", description=(
        "Where the page starts: the `next_cursor` of the previous page (opaque; it belongs "
        "to the list and filters that gave it). Left out: the first page."))
    per_page: int = Field(25, ge=1, le=MAX_PER_PAGE)
    count: bool = Field(False, description="Also count the whole list into `total`.")
    # Deprecated in the document, not in the code (pydantic would warn on every read).
    page: int | None = Field(
        None, ge=1, le=100_000, json_schema_extra={"deprecated": True}, description=(
            "Earlier offset pages, kept for older clients: skips (page - 1) * per_page "
            "rows of the first request; not with `cursor`. Follow `next` instead."))


# --------------------------------------------------------------------------- events


class When(enum.StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


class EventQuery(PageQuery):
    kind: EventKind | None = None
    when: When = When.UPCOMING
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$",
                                description="The target country (ISO 3166-1 alpha-2).")


class SessionTextsOut(Output):
    title: str
    description: str


class EventSummaryTexts(Output):
    title: str
    summary: str


class EventTextsOut(EventSummaryTexts):
    description: str


class AgendaSession(Output):
    id: int
    kind: AgendaKind
    title: str = Field(description="In the event's main language (`language` of the "
                       "event); `texts` holds every language it is given in.")
    description: str
    texts: dict[str, SessionTextsOut] = Field(
        description="The session's texts by language code: the event's main language "
                    "and every other language they are given in (a description left "
                    "empty there is the main language's).")
    venue: str
    all_day: bool
    starts_at: Instant | None = Field(description="Timed sessions; null for all-day ones.")
    ends_at: Instant | None
    start_date: date | None = Field(description="All-day sessions: local dates.")
    end_date: date | None


class EventSummary(Output):
    id: int
    slug: str
    kind: EventKind
    status: EventStatus
    language: str = Field(description="The event's main language (an offered language's "
                          "code): what `title`, `summary` and `description` are written "
                          "in, and what a reader gets where their own is not given.")
    title: str
    summary: str
    texts: dict[str, EventSummaryTexts] = Field(
        description="The title and summary by language code: the main language and "
                    "every other language the organizers gave them in (a summary left "
                    "empty there is the main language's).")
    target_country: str
    target_city: str
    timezone: str = Field(description="The event's IANA zone, in which its times are local.")
    starts_at: Instant
    ends_at: Instant
    requires_approval: bool
    capacity: int | None
    registration_open: bool
    organizers: list[PartnerRef]
    hosts: list[PartnerRef]
    url: str = Field(description="The event's public page.")


class EventDetail(EventSummary):
    texts: dict[str, EventTextsOut] = Field(
        description="The title, summary and description by language code: the main "
                    "language and every other language the organizers gave them in (a "
                    "summary or description left empty there is the main language's).")
    description: str
    venue: str
    registration_opens_at: Instant | None
    registration_closes_at: Instant | None
    sessions: list[AgendaSession] = Field(description="The agenda, in the order of the day.")


class EventPage(Page):
    items: list[EventSummary]


# --------------------------------------------------------------------------- me


class TokenInfo(Output):
    name: str
    read_only: bool
    expires_on: date | None


class RoleGrantOut(Output):
    role: Role
    partner: PartnerRef | None


class Me(Output):
    id: int
    name: str
    email: str
    timezone: str | None = Field(description="Your IANA zone (null: not known yet; the "
                                 "site takes it from your browser on your next page)")
    organization: OrganizationRef | None
    roles: list[RoleGrantOut]
    token: TokenInfo


class OwnRegistration(Output):
    id: int
    event: EventRef
    status: RegistrationStatus
    role: EventRole
    applied_at: Instant
    decided_at: Instant | None


class OwnRegistrationPage(Page):
    items: list[OwnRegistration]


# --------------------------------------------------------------------------- registrations


class RegistrationQuery(PageQuery):
    event: Id | None = None
    status: RegistrationStatus | None = None
    partner: Id | None = Field(None, description="The responsible partner's id.")


class Applicant(Output):
    id: int
    name: str
    email: str | None = Field(description="As on the delegation list: an approved delegate "
                              "you may contact; otherwise null.")
    phone: str | None = Field(description="As `email` (null also when none is given).")
    organization: OrganizationRef | None


class RegistrationOut(OwnRegistration):
    responsible_partner: PartnerRef | None
    applicant: Applicant
    can_decide: bool


class RegistrationPage(Page):
    items: list[RegistrationOut]


class HistoryEntry(Output):
    at: Instant
    action: str
    from_status: RegistrationStatus | None
    to_status: RegistrationStatus | None
    actor: str | None = Field(description="Who (null: the system).")
    reason: str


class AnswerOut(Output):
    question_id: int
    question: str
    value: str | bool | list[str] | None = Field(
        description="Text (a country as its ISO code), a yes/no, or the chosen options.")


class RegistrationDetail(RegistrationOut):
    answers: list[AnswerOut] = Field(description="In the order of the event's questions.")
    history: list[HistoryEntry]


# The decision's input model is the desk's own (webapp/inputs/registrations.py).
Decision = registrations.Decision
DecisionIn = registrations.DecisionIn


# --------------------------------------------------------------------------- applying


# The application's input models are the pages' own (webapp/inputs/applications.py).
AnswerIn = applications.AnswerIn
ApplicationIn = applications.ApplicationIn
WithdrawalIn = applications.WithdrawalIn


# --------------------------------------------------------------------------- delegation


class BadgeFormatChoice(enum.StrEnum):
    A6 = "a6"
    A4 = "a4"


class BadgeQuery(Query):
    format: BadgeFormatChoice = BadgeFormatChoice.A6


class Delegate(Output):
    registration_id: int
    name: str
    organization: str
    country: str
    sector: str
    role: str
    dietary: str
    email: str | None = Field(description="Withheld (null) unless you may contact them.")
    phone: str | None = Field(description="Withheld (null) unless you may contact them.")


class DelegationGroup(Output):
    partner: PartnerRef | None = Field(description="The responsible cluster (null: none).")
    label: str
    delegates: list[Delegate]


class Delegation(Output):
    event: EventRef
    groups: list[DelegationGroup]


# --------------------------------------------------------------------------- check-in


# The door's input model is the check-in page's own (webapp/inputs/checkin.py).
CheckinIn = checkin.CheckinIn


class Checkin(Output):
    registration_id: int
    name: str
    organization: str | None
    session_id: int | None
    checked_in_at: Instant
    checked_in_by: str | None
    first_time: bool = Field(description="False: checked in before; this is that check-in.")


# --------------------------------------------------------------------------- matchmaking


class ParticipantPath(_Path):
    participant_id: Id


class OpportunityPath(_Path):
    opportunity_id: Id


class MeetingRequestPath(_Path):
    request_id: Id


TypeKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# A query's text as the app's text rules read it (webapp/text.py): one line, without
# control characters or noncharacters (a surrogate cannot travel in a URL). A query
# holding one is refused before any operation runs (400), so the document states it;
# the rules themselves enforce it.
QUERY_TEXT = {"pattern": r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufdd0-\ufdef\ufffe\uffff]*$"}


class MarketplaceQuery(Query):
    """The marketplace's search, as its page offers it: every filter given must match."""

    q: str | None = Field(None, max_length=200, json_schema_extra=QUERY_TEXT, description=(
        "Words to find (accents and case aside, each one somewhere) in the organization's "
        "name, the participant's sectors and technologies and their opportunities."))
    type: TypeKey | None = Field(None, description=(
        "An opportunity type's key (\"offer\", \"request\"): those with one of that type, "
        "listed with those only."))
    sector: str | None = Field(None, max_length=120, json_schema_extra=QUERY_TEXT, description=(
        "One of the participant's sectors, or their organization's."))
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$",
                                description="The organization's country (ISO 3166-1 alpha-2).")
    participant_type: TypeKey | None = Field(None, description="A participant type's key "
                                             "(\"sme\").")
    page: int = Field(1, ge=1, le=100_000, description="The page, from 1.")
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)


class KindRef(Output):
    key: str
    label: str = Field(description="Its name as the pages give it, in the language "
                       "Accept-Language asks for: the organizers' own label, or the default "
                       "type's name.")


class OpportunityOut(Output):
    id: int
    type: KindRef
    title: str
    text: str
    tags: list[str]


class ParticipantOrganization(Output):
    id: int
    name: str
    country: str
    sector: str
    website: str
    profile: str


class Contact(Output):
    name: str
    email: str
    phone: str | None = Field(description="Null when none is given.")


class MarketplaceParticipant(Output):
    id: int
    event_id: int
    participant_type: KindRef
    organization: ParticipantOrganization | None
    sectors: list[str]
    technologies: list[str]
    opportunities: list[OpportunityOut] = Field(description="Theirs (of the type searched for, "
                                             "when the search names one).")


class MarketplacePage(Output):
    items: list[MarketplaceParticipant] = Field(
        description="By organization name in the reader's language, then id.")
    page: int
    per_page: int
    total: int = Field(description="How many participants match.")
    next: str | None = Field(description="The URL of the next page: the same filters "
                             "(null on the last).")


class ReasonKind(enum.StrEnum):
    OFFERS_WHAT_YOU_REQUEST = "offers_what_you_request"
    REQUESTS_WHAT_YOU_OFFER = "requests_what_you_offer"
    SHARED_TAGS = "shared_tags"
    SHARED_SECTOR = "shared_sector"


class SuggestionReason(Output):
    """Why they are suggested, as data: `offers_what_you_request` (their offer
    `their_title` meets your request `your_title` in `tags`), `requests_what_you_offer`
    (the other way round), `shared_tags`, `shared_sector` (`tags`: the sectors shared)."""

    kind: ReasonKind
    tags: list[str] = Field(description="As the suggested participant spells them.")
    their_title: str | None = Field(description="Their opportunity's title (null unless a "
                                    "pair of opportunities).")
    your_title: str | None = Field(description="Your opportunity's title (null unless a "
                                   "pair of opportunities).")


class SuggestedMatch(Output):
    participant: MarketplaceParticipant
    score: int
    reasons: list[SuggestionReason]


class Suggestions(Output):
    items: list[SuggestedMatch] = Field(description="Best matched first.")


class ParticipantDetail(MarketplaceParticipant):
    in_marketplace: bool = Field(description="Their consent is given and not withdrawn, and "
                                 "their registration approved: others see them.")
    contact: Contact | None = Field(description=(
        "As the participant's page shows them: yours; theirs once you have an accepted "
        "meeting with them; and to those who see a delegate's contact details anyway (the "
        "event's organizers, their cluster's managers, the hosts they agreed to share them "
        "with). Otherwise null."))
    unavailable_slots: list[Instant] = Field(description="The meeting slots (their starts) in "
                                             "which they cannot meet.")
    available_slots: list[Instant] = Field(description="The event's other meeting slots: "
                                           "those a meeting request may prefer.")
    can_edit: bool
    can_request_meeting: bool


class ParticipantRef(Output):
    id: int
    participant_type: KindRef
    organization: OrganizationRef | None


class MeetingRequestQuery(PageQuery):
    event: Id | None = None
    status: MeetingRequestStatus | None = None


class MeetingPointOut(Output):
    id: int
    name: str
    kind: MeetingPointKind
    url: str | None = Field(description="An online room's address (null: none, as for a "
                            "table or a booth).")


class MeetingOut(Output):
    """A meeting's time and place: to its two sides (and those who follow them) once
    they are shown to them (the schedule is published, preliminary or final, or the
    meeting is locked: its place chosen as it was accepted, or fixed by the organizers);
    to the event's organizers as soon as it is placed."""

    id: int
    starts_at: Instant
    ends_at: Instant
    meeting_point: MeetingPointOut
    locked: bool = Field(description="Kept where it is by the organizers' \"schedule "
                         "all\".")
    schedule_state: ScheduleState = Field(description="How far the event's schedule is "
                                          "published: `draft` (the organizers' only), "
                                          "`preliminary` (may still change), `final`.")
    calendar_url: str | None = Field(description="The meeting's calendar file (.ics, "
                                     "updated and cancelled as it changes), for its two "
                                     "sides only (null for the others).")


class MeetingRequestOut(Output):
    id: int
    event: EventRef
    requester: ParticipantRef
    receiver: ParticipantRef
    status: MeetingRequestStatus
    message: str
    preferred_slots: list[Instant]
    created_at: Instant
    expires_at: Instant | None = Field(description="When it expires if still unanswered then "
                                       "(null: accepted at once).")
    decided_at: Instant | None
    reason: str = Field(description="Why it was declined or cancelled, in the words of who "
                        "did it.")
    cause: Literal[CANCEL_CAUSES] | None = Field(  # type: ignore[valid-type]
        description="What ended it when nobody chose to (null: someone did, or it has not "
                    "ended).")
    contact: Contact | None = Field(description="The other side's, once accepted and while "
                                    "so, for the two sides; otherwise null.")
    meeting: MeetingOut | None = Field(description="Where and when an accepted request's "
                                       "meeting is, as far as you may see it (null: not "
                                       "placed, or not shown to you yet).")
    can_answer: bool
    can_cancel: bool


class MeetingRequestPage(Page):
    items: list[MeetingRequestOut]


class SlotOut(Output):
    starts_at: Instant
    ends_at: Instant
    preferred: bool = Field(description="The requester preferred it.")


class MeetingSlots(Output):
    """The slots a request's meeting could take now, as its page offers them."""

    action: Literal["accept", "slot"] | None = Field(description=(
        "What the slots are for: `accept` (you were asked: POST .../accept with one as "
        "`starts_at`, or none), `slot` (your accepted meeting has no place you see yet: POST "
        ".../slot); null: neither now, and `items` is empty."))
    items: list[SlotOut] = Field(description=(
        "Free for both sides, with a free meeting point: the requester's preferred ones "
        "first, each group in time order."))


class AgendaPerson(Output):
    name: str
    email: str | None = Field(description="As `participant.contact` allows you (the "
                              "participant's own, their meeting's other side, the event's "
                              "organizers); otherwise null.")
    phone: str | None = Field(description="As `email` (null also when none is given).")


class AgendaOther(Output):
    participant_id: int
    organization: OrganizationRef | None
    contact_person: AgendaPerson


class AgendaEntry(Output):
    request_id: int
    starts_at: Instant | None = Field(description="Null for a meeting not scheduled yet.")
    ends_at: Instant | None
    meeting_point: MeetingPointOut | None = Field(description="Null for a meeting not "
                                                  "scheduled yet.")
    locked: bool
    other: AgendaOther = Field(description="The other side of the meeting.")
    calendar_url: str | None = Field(description="The meeting's calendar file, in your own "
                                     "agenda's scheduled meetings only (null otherwise).")


class Agenda(Output):
    participant_id: int
    event: EventRef
    schedule_state: ScheduleState = Field(description="How far the event's schedule is "
                                          "published: `draft`, `preliminary` (may still "
                                          "change), `final`.")
    scheduled: list[AgendaEntry] = Field(description="The meetings whose time and place are "
                                         "shown, in time order.")
    not_scheduled: list[AgendaEntry] = Field(description="The accepted meetings not "
                                             "scheduled yet (or not published yet).")
    pdf_url: str = Field(description="The same agenda as a PDF.")


class EmptyIn(inputs.NoInput):
    """An empty object (`{}`): a write that is a button on the pages (accept, leave,
    remove) sends nothing else."""


# The writes' input models are the pages' own (webapp/inputs/matchmaking.py).
JoinIn = matchmaking_inputs.JoinIn
ProfileIn = matchmaking_inputs.ProfileIn
OpportunityIn = matchmaking_inputs.OpportunityIn
UnavailableSlotsIn = matchmaking_inputs.UnavailableSlotsIn
MeetingRequestIn = matchmaking_inputs.MeetingRequestIn
ReasonIn = matchmaking_inputs.ReasonIn

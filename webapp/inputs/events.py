"""Running events: an event, an agenda session, the quotas, a question, a copy and a
cancellation, as organizers write them.

Times are typed as wall-clock times of the event's zone (naive, or with the UTC offset
the organizer chose for a time the clocks pass twice); `EventIn` knows its zone, so it
turns them into UTC instants itself (`starts_at`...), by the rules of `webapp.localtime`.
A session's zone is its event's, which only the service has: `SessionIn` compares its
wall-clock times, and the service turns them into instants.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from .. import languages, localtime
from ..models import EventKind, QuestionKind, SessionKind
from ..services.errors import N_
from ..services.fields import territory_codes
from . import Count, Id, Input, Problems, RequiredText, Text, refuse

# --------------------------------------------------------------------------- shared types


def _web_address(url: str) -> str:
    """"" or an absolute http(s) address: other schemes (javascript:, data:) never reach a
    page as a link."""
    if url:
        try:
            parts = urlsplit(url)
        except ValueError:  # an unclosed IPv6 bracket: no address either
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise refuse(None, "Enter an address starting with http:// or https://.")
    return url


COUNTRY_NEEDED = "Choose a country from the list."


def _territory(code: str) -> str:
    code = code.strip().upper()
    if code not in territory_codes():
        raise refuse(None, COUNTRY_NEEDED)
    return code


def WebAddress(max_length: int, **field: Any) -> Any:  # noqa: N802 - a type, used as one
    """An http(s) address of at most `max_length` characters, or ""."""
    return Annotated[Text(max_length, **field), AfterValidator(_web_address)]


Territory = Annotated[str, AfterValidator(_territory)]


def _zone_name(name: str) -> str:
    zone = localtime.zone_or_none(name)
    if zone is None:
        raise refuse(None, "Enter an IANA timezone such as Europe/Brussels or Asia/Singapore.")
    return zone.key


# --------------------------------------------------------------------------- languages

LANGUAGE_NEEDED = N_("Choose one of the languages offered.")


def _offered_language(code: str) -> str:
    found = languages.offered_or_none(code)
    if found is None:
        raise refuse(None, LANGUAGE_NEEDED)
    return found


Language = Annotated[str, AfterValidator(_offered_language), Field(
    description="An offered language's code, such as \"en\", \"fr\" or \"el\".")]
TRANSLATION_TITLE_NEEDED = N_("Give the title in this language too, or leave all of its "
                              "texts empty.")
MAIN_LANGUAGE_TRANSLATED = N_("%(language)s is the event's main language: its texts are "
                              "the ones above, not a translation.")


class _TextsIn(Input):
    """Texts in a language besides the main one: a title at least, and what else is given
    (empty: the main language's)."""

    long_texts = frozenset({"description"})

    title: Text(200, title=N_("Title")) = ""

    @model_validator(mode="after")
    def _titled(self):
        if not self.title:
            raise refuse("title", TRANSLATION_TITLE_NEEDED)
        return self


class EventTextIn(_TextsIn):
    """An event's texts in a language besides its main one: the title, and the summary
    and description if they are translated too."""

    summary: Text(300, title=N_("Summary")) = ""
    description: Text(20_000, title=N_("Description")) = ""


class SessionTextIn(_TextsIn):
    """An agenda session's texts in a language besides its event's main one."""

    description: Text(5000, title=N_("Description")) = ""


def _check_translations(texts: dict[str, Any] | None, main: str | None,
                        problems: Problems) -> None:
    if texts and main and main in texts:
        problems.add("texts", MAIN_LANGUAGE_TRANSLATED, language=languages.name_of(main))


# --------------------------------------------------------------------------- reminders

MAX_REMINDERS = 5
# The longest offset accepted: further ahead, a reminder is an announcement.
MAX_OFFSET_MINUTES = 14 * 24 * 60
MAX_OFFSETS_TEXT = 100
_OFFSET = re.compile(r"^([+-]?\d+)\s*(d|h|m|min)?$")
_UNIT_MINUTES = {"d": 1440, "h": 60, "m": 1, "min": 1, None: 1}


class OffsetsRefused(ValueError):
    """Reminder offsets refused: `message` (a gettext msgid) with its `params`."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def _minutes_of(text: str) -> list[int]:
    minutes = []
    for part in filter(None, (p.strip().lower() for p in re.split(r"[,;]", text))):
        match = _OFFSET.match(part)
        if match is None:
            raise OffsetsRefused("“%(part)s” is not a reminder time: write whole minutes or "
                                 "hours before the start, such as “24h, 1h” or “1440, 60”.",
                                 part=part)
        minutes.append(int(match.group(1)) * _UNIT_MINUTES[match.group(2)])
    return minutes


def reminder_minutes(text: str | Sequence[int]) -> list[int]:
    """The reminder offsets, in minutes, from "24h, 1h", "1440, 60" or a list of minutes;
    longest first. Empty switches reminders off. Refuses (OffsetsRefused) offsets of zero
    or less, fractions, duplicates and more than MAX_REMINDERS."""
    minutes = _minutes_of(text) if isinstance(text, str) else [int(m) for m in text]
    if any(m <= 0 for m in minutes):
        raise OffsetsRefused("A reminder must come before the start: each offset must be a "
                             "positive number of minutes or hours (zero or less is not "
                             "allowed).")
    if any(m > MAX_OFFSET_MINUTES for m in minutes):
        raise OffsetsRefused("A reminder can be sent at most 14 days before the start.")
    if len(set(minutes)) != len(minutes):
        raise OffsetsRefused("Each reminder time can be given only once.")
    if len(minutes) > MAX_REMINDERS:
        raise OffsetsRefused("At most %(limit)s reminders per event.", limit=MAX_REMINDERS)
    return sorted(minutes, reverse=True)


def format_offsets(minutes: Sequence[int]) -> str:
    """"24h, 1h": the offsets as the event form shows them (`reminder_minutes` reads it
    back)."""
    return ", ".join(f"{m // 60}h" if m % 60 == 0 else f"{m}m" for m in minutes)


def _offsets(value: Any) -> Any:
    """The form's text ("24h, 1h") or the API's list of minutes, read by one rule."""
    if value is None or not isinstance(value, str | list):
        return value  # None keeps the event's reminders; anything else is refused by type
    if isinstance(value, str) and len(value) > MAX_OFFSETS_TEXT:
        raise refuse(None, "Enter at most %(max_length)s characters.",
                     max_length=MAX_OFFSETS_TEXT)
    if isinstance(value, list) and not all(type(m) is int for m in value):
        return value
    try:
        return reminder_minutes(value)
    except OffsetsRefused as refusal:
        raise refuse(None, refusal.message, **refusal.params) from None


# --------------------------------------------------------------------------- events

MAX_SEATS = 100_000


def _local_in_event_years(local: datetime) -> datetime:
    if not localtime.EVENT_DATES.holds(local.date()):
        raise refuse(None, localtime.EVENT_DATES.refusal())
    return local


LocalTime = Annotated[datetime, AfterValidator(_local_in_event_years), Field(
    description="Wall-clock time of the event's zone, naive; with its UTC offset only for "
                "a time the clocks pass twice, to say which.")]
TIME_NEEDED = N_("Enter a date and time.")
# The wall-clock fields and the instants they name.
_INSTANTS = {
    "starts_local": "starts_at", "ends_local": "ends_at",
    "registration_opens_local": "registration_opens_at",
    "registration_closes_local": "registration_closes_at",
}


class EventIn(Input):
    """An event as its organizers describe it. `starts_at`, `ends_at`,
    `registration_opens_at` and `registration_closes_at` are the instants (UTC) its
    wall-clock times name in its `timezone`."""

    long_texts = frozenset({"description"})
    required_messages = {"title": N_("Give the event a title."), "target_country": COUNTRY_NEEDED,
                         "starts_local": TIME_NEEDED, "ends_local": TIME_NEEDED,
                         "organizer_ids": "Choose at least one organizing partner."}

    kind: EventKind
    title: RequiredText(200, title="Title")
    slug: Text(120, title="Web address (slug)",
               description="Empty: made from the title.") = ""
    summary: Text(300, title="Summary") = ""
    description: Text(20_000, title="Description") = ""
    target_country: Annotated[Territory, Field(title="Target country",
                                               description="ISO 3166 code.")]
    target_city: Text(120, title="Target city") = ""
    venue: Text(300, title="Venue") = ""
    online_url: WebAddress(500, title="Online join address") = ""
    recording_url: WebAddress(500, title="Recording link") = ""
    reminder_offsets: Annotated[list[int] | None, BeforeValidator(_offsets), Field(
        description="Minutes before the start (or the text \"24h, 1h\"); empty: no "
                    "reminders; absent: unchanged (a new event's: the default ones).")] = None
    timezone: Annotated[RequiredText(64, title="Timezone", description="IANA name."),
                        AfterValidator(_zone_name)]
    starts_local: LocalTime
    ends_local: LocalTime
    registration_opens_local: LocalTime | None = None
    registration_closes_local: LocalTime | None = None
    capacity: Count(0, MAX_SEATS) | None = None
    max_per_organization: Count(1, 10_000) | None = None
    requires_approval: bool = True
    organizer_ids: list[Id]
    host_ids: list[Id] = []
    language: Annotated[Language | None, Field(
        title=N_("Main language"),
        description="What the event is written in first, and what readers whose language "
                    "is not given read; absent: unchanged (a new event's: the default).",
    )] = None
    texts: Annotated[dict[Language, EventTextIn] | None, Field(
        description="The texts in other offered languages, by language; absent: "
                    "unchanged, {}: none.")] = None

    _instants: dict[str, datetime | None] = PrivateAttr(default_factory=dict)

    @property
    def starts_at(self) -> datetime:
        return self._instants["starts_at"]  # type: ignore[return-value]

    @property
    def ends_at(self) -> datetime:
        return self._instants["ends_at"]  # type: ignore[return-value]

    @property
    def registration_opens_at(self) -> datetime | None:
        return self._instants["registration_opens_at"]

    @property
    def registration_closes_at(self) -> datetime | None:
        return self._instants["registration_closes_at"]

    @model_validator(mode="after")
    def _checked(self):
        problems = Problems()
        if not self.organizer_ids:
            problems.add("organizer_ids", "Choose at least one organizing partner.")
        self.organizer_ids = list(dict.fromkeys(self.organizer_ids))
        self.host_ids = list(dict.fromkeys(self.host_ids))
        zone = localtime.zone_or_none(self.timezone)
        for field, column in _INSTANTS.items():
            local = getattr(self, field)
            try:
                self._instants[column] = None if local is None else localtime.instant_of(
                    local, zone)
            except localtime.NotALocalTime as refusal:
                self._instants[column] = None
                problems.add(field, refusal.message)
        _check_order(self._instants, bool(self.recording_url), problems)
        _check_translations(self.texts, self.language, problems)
        problems.raise_any()
        return self


def _check_order(at: dict[str, datetime | None], recorded: bool, problems: Problems) -> None:
    """The event ends after it starts; registration closes after it opens and by the end;
    a recording comes after the end."""
    starts, ends = at["starts_at"], at["ends_at"]
    opens, closes = at["registration_opens_at"], at["registration_closes_at"]
    if starts and ends and ends <= starts:
        problems.add("ends_local", "The event must end after it starts.")
    if opens and closes and closes <= opens:
        problems.add("registration_closes_local", "Registration must close after it opens.")
    if closes and ends and closes > ends:
        problems.add("registration_closes_local",
                     "Registration must close by the end of the event.")
    if recorded and (ends is None or ends > datetime.now(UTC)):
        # A recording of an event not yet held can only be a mistake (or the meeting
        # address pasted in the wrong field); join links would offer it too early.
        problems.add("recording_url", "The event has not ended yet: add the recording "
                                      "link once it is over.")


# --------------------------------------------------------------------------- agenda


def _in_event_years(day: date) -> date:
    if not localtime.EVENT_DATES.holds(day):
        raise refuse(None, localtime.EVENT_DATES.refusal())
    return day


EventDay = Annotated[date, AfterValidator(_in_event_years)]


def wall_order(starts: datetime, ends: datetime) -> bool:
    """Whether `ends` comes after `starts`, both wall-clock times of one zone: as instants
    when both carry their chosen offset, else as wall-clock times (a naive time is never
    one the clocks pass twice, so its order is the instants' order)."""
    if starts.tzinfo is not None and ends.tzinfo is not None:
        return ends > starts
    return ends.replace(tzinfo=None) > starts.replace(tzinfo=None)


class SessionIn(Input):
    """An agenda item: timed (wall-clock times of the event's zone) or all-day (local
    dates)."""

    long_texts = frozenset({"description"})
    required_messages = {"title": N_("Give the session a title.")}

    title: RequiredText(200, title="Title")
    kind: SessionKind = SessionKind.OTHER
    all_day: bool = False
    starts_local: LocalTime | None = None
    ends_local: LocalTime | None = None
    start_date: EventDay | None = None
    end_date: EventDay | None = None
    venue: Text(300, title="Venue") = ""
    description: Text(5000, title="Description") = ""
    online_url: WebAddress(500, title="Online join address") = ""
    texts: Annotated[dict[Language, SessionTextIn] | None, Field(
        description="The texts in languages besides the event's main one, by language; "
                    "absent: unchanged, {}: none.")] = None

    @model_validator(mode="after")
    def _when(self, info: ValidationInfo):
        problems = Problems()
        # The event's main language, when the caller knows it (`main_language`).
        _check_translations(self.texts, (info.context or {}).get("main_language"), problems)
        if self.all_day:
            for field in ("start_date", "end_date"):
                if getattr(self, field) is None:
                    problems.add(field, "Enter a date.")
            if self.start_date and self.end_date and self.end_date < self.start_date:
                problems.add("end_date", "The session cannot end before it starts.")
        else:
            for field in ("starts_local", "ends_local"):
                if getattr(self, field) is None:
                    problems.add(field, "Enter a date and time, or make the session all-day.")
            if self.starts_local and self.ends_local and not wall_order(
                    self.starts_local, self.ends_local):
                problems.add("ends_local", "The session must end after it starts.")
        problems.raise_any()
        return self


# --------------------------------------------------------------------------- quotas


class QuotasIn(Input):
    """Each partner's reserved seats, by partner id; a partner left out (or null) holds
    no quota."""

    seats: dict[Id, Count(0, MAX_SEATS) | None] = {}


# --------------------------------------------------------------------------- questions

MAX_CHOICES = 50
MAX_CHOICE_LENGTH = 200
CHOICE_KINDS = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE})


class QuestionIn(Input):
    """A question as organizers write it; `choices` (each once, in order) only for the
    choice kinds, and ignored for the others."""

    required_messages = {"label": N_("Write the question.")}

    kind: QuestionKind = QuestionKind.SHORT_TEXT
    label: RequiredText(300, title="Question")
    help_text: Text(500, title=N_("Help text")) = ""
    required: bool = False
    choices: Annotated[list[Text(MAX_CHOICE_LENGTH * 10, title=N_("Choice"))],
                       Field(max_length=1000)] = []

    @model_validator(mode="after")
    def _choices_fit_the_kind(self):
        if self.kind not in CHOICE_KINDS:
            self.choices = []
            return self
        self.choices = list(dict.fromkeys(c for c in self.choices if c))
        if len(self.choices) < 2:
            raise refuse("choices", "Give at least two choices, one per line.")
        if len(self.choices) > MAX_CHOICES:
            raise refuse("choices", "At most %(limit)s choices.", limit=MAX_CHOICES)
        if any(len(c) > MAX_CHOICE_LENGTH for c in self.choices):
            raise refuse("choices", "Each choice has at most %(limit)s characters.",
                         limit=MAX_CHOICE_LENGTH)
        return self


# --------------------------------------------------------------------------- copies, cancelling


class CloneIn(Input):
    """A copy of an event `days` later, at the same local times."""

    days: Count(-3650, 3650, description="Whole days; negative: earlier.")


class CancelIn(Input):
    long_texts = frozenset({"reason"})

    reason: Text(1000, title="Reason", description="Sent with each cancelled "
                                                    "registration.") = ""


class MoveIn(Input):
    """A question moved one place up or down the list (the editor's arrows)."""

    direction: Literal["up", "down"]

    @property
    def offset(self) -> int:
        return -1 if self.direction == "up" else 1

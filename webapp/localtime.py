"""Times are UTC inside; here they become local times that say their zone, and local
times people type become instants.

    format_instant(dt, "Asia/Singapore") -> "Tue 9 Jul 2019, 09:00 (Singapore, UTC+8)"
    format_timestamp(dt, "Europe/Copenhagen")
        -> "Tue 9 Jul 2019, 03:00 (CEST)"
    viewer_span(dt, None, "Asia/Singapore", "America/New_York")
        -> "21:00 on Mon 8 Jul your time (EDT)"
    instant_of(datetime(2024, 10, 27, 2, 30), ZoneInfo("Europe/Copenhagen"))
        -> refused: "02:30 happens twice on 27 October 2024 in Europe/Copenhagen: ..."

The rules for what a typed date or local time may be live here, once: each kind of date
that is stored or computed with has its window (`EVENT_DATES`, `AGREEMENT_DATES`,
`TOKEN_DATES`), so a year 1 or 9999 is refused with a message before any arithmetic can
overflow (a period to look at, of the KPIs or the audit log, only bounds a search: any
day of the calendar, 0001-01-01 to 9999-12-31 meaning "all time", and no arithmetic); a local
time the clocks skip is refused, and one they pass twice is refused until the person
says which of the two they mean (its UTC offset). Forms, services and commands use
these functions; none keeps a copy of the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import (
    format_date,
    format_datetime,
    format_time,
    get_timezone_gmt,
    get_timezone_location,
    get_timezone_name,
)
from flask import g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

DAY_FORMAT = "EEE d MMM y"
TIME_FORMAT = "HH:mm"
# The viewer's own date beside an event's (which says the year).
VIEWER_DAY_FORMAT = "EEE d MMM"


def _locale():
    """The request's locale: the one Flask-Babel chose and keeps for the request, read
    directly (a list page formats hundreds of times; `get_locale` asks the request
    context three times for it), else Flask-Babel's answer, else English."""
    state = g.get("_flask_babel") if g else None
    return getattr(state, "babel_locale", None) or get_locale() or "en"


def utc_offset_label(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


# What Babel writes for a zone it has no name for: "+0100", "GMT+05:30", "UTC−3".
OFFSET_IN_NAME = re.compile(r"[+\-\u2212]\d")
# The names of UTC itself: said "UTC", never "UTC+0".
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT",
                       "Universal", "Zulu"})


def _placeless(tz_name: str) -> bool:
    """A zone that names no place (UTC, "Etc/GMT+5"): only its offset says it."""
    return tz_name in UTC_NAMES or tz_name.startswith("Etc/") or "/" not in tz_name


def zone_city(tz_name: str) -> str:
    if tz_name in UTC_NAMES:
        return "UTC"
    return _zone_city(tz_name, str(_locale()))


@lru_cache(maxsize=1024)
def _zone_city(tz_name: str, language: str) -> str:
    """A zone's city in a language: the same for the process's life, and looked up for
    every time a page shows."""
    return get_timezone_location(ZoneInfo(tz_name), locale=language, return_city=True)


def zone_label(tz_name: str, at: datetime) -> str:
    """"Singapore, UTC+8": the zone's city and its offset at that instant (DST-aware);
    "UTC" for UTC, the offset alone for a zone that names no place."""
    if tz_name in UTC_NAMES:
        return "UTC"
    return _zone_label(tz_name, at, str(_locale()))


def _zone_label(tz_name: str, at: datetime, language: str) -> str:
    if tz_name in UTC_NAMES:
        return "UTC"
    offset = utc_offset_label(at.astimezone(ZoneInfo(tz_name)).utcoffset())
    return offset if _placeless(tz_name) else f"{_zone_city(tz_name, language)}, {offset}"


def zone_name(tz_name: str, at: datetime) -> str:
    """The zone as people know it at that instant, in the reader's language: the short
    name their language has for it (CLDR, through Babel: "EDT" in English, "CEST" in
    Danish), else the abbreviation the zone itself uses ("CET", "CEST", "EET", "BST"),
    else its long name, else its city and offset ("Singapore, UTC+8"). Offsets alone
    ("+0100", "GMT+05:30", the "+08" some zones use) are never taken for a name."""
    if tz_name in UTC_NAMES:
        return "UTC"
    return _zone_name(tz_name, at, str(_locale()))


def _zone_name(tz_name: str, at: datetime, language: str) -> str:
    if tz_name in UTC_NAMES:
        return "UTC"
    local = at.astimezone(ZoneInfo(tz_name))
    # The name depends on the zone, the offset in force and whether it is summer time
    # there, not on the instant itself: looked up once per process for each.
    key = (tz_name, local.utcoffset(), local.dst(), local.tzname(), language)
    name = _ZONE_NAMES.get(key)
    if name is None:
        if len(_ZONE_NAMES) >= 4096:
            _ZONE_NAMES.clear()
        name = _ZONE_NAMES[key] = _look_up_zone_name(tz_name, local, language)
    return name


# (zone, offset, summer time, abbreviation, language) -> the name zone_name gives.
_ZONE_NAMES: dict[tuple, str] = {}


def _look_up_zone_name(tz_name: str, local: datetime, language: str) -> str:
    offsets = {get_timezone_gmt(local, width, locale=language) for width in ("short", "long")}

    def named(name: str | None) -> bool:
        return bool(name) and name not in offsets and not OFFSET_IN_NAME.search(name)

    short = get_timezone_name(local, "short", locale=language)
    if named(short):
        return short
    abbreviation = local.tzname()
    if abbreviation and abbreviation.isalpha() and abbreviation.isupper():
        return abbreviation
    long = get_timezone_name(local, "long", locale=language)
    return long if named(long) else _zone_label(tz_name, local, language)


def format_instant(at: datetime, tz_name: str) -> str:
    """"Tue 9 Jul 2019, 09:00 (Singapore, UTC+8)": a time at a place (an event's)."""
    return _format_instant(at, tz_name, str(_locale()))


def format_timestamp(at: datetime, tz_name: str) -> str:
    """"Mon 15 Jul 2024, 14:05 (CEST)": when something happened
    (applied, decided, sent), in the reader's own zone named as they know it."""
    return _format_timestamp(at, tz_name, str(_locale()))


# The formatted strings are kept per process, keyed by every value they depend on (the
# instant, the zone, the language): a list page formats the same events' times on every
# request, and Babel's formatting costs 10-20 us a call.
@lru_cache(maxsize=4096)
def _format_instant(at: datetime, tz_name: str, language: str) -> str:
    text = format_datetime(at, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=ZoneInfo(tz_name),
                           locale=language)
    return f"{text} ({_zone_label(tz_name, at, language)})"


@lru_cache(maxsize=4096)
def _format_timestamp(at: datetime, tz_name: str, language: str) -> str:
    text = format_datetime(at, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=ZoneInfo(tz_name),
                           locale=language)
    return f"{text} ({_zone_name(tz_name, at, language)})"


def format_clock(at: datetime, tz_name: str) -> str:
    """"09:14 (Singapore, UTC+8)": the time of day, for a list within one day."""
    local = at.astimezone(ZoneInfo(tz_name))
    return f"{local:%H:%M} ({zone_label(tz_name, at)})"


def format_stamp(at: datetime, tz_name: str) -> str:
    """"2019-07-09 09:14 UTC+8": sortable, for files (a spreadsheet reads it as text
    that keeps its offset)."""
    local = at.astimezone(ZoneInfo(tz_name))
    return f"{local:%Y-%m-%d %H:%M} {utc_offset_label(local.utcoffset())}"


def format_span(start: datetime, end: datetime, tz_name: str) -> str:
    """A range in one zone; the day is said once when both ends fall on the same local day."""
    return _format_span(start, end, tz_name, str(_locale()))


@lru_cache(maxsize=4096)
def _format_span(start: datetime, end: datetime, tz_name: str, language: str) -> str:
    zone = ZoneInfo(tz_name)
    first = format_datetime(start, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=zone, locale=language)
    if start.astimezone(zone).date() == end.astimezone(zone).date():
        last = format_time(end, TIME_FORMAT, tzinfo=zone, locale=language)
    else:
        last = format_datetime(end, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=zone, locale=language)
    return f"{first} – {last} ({_zone_label(tz_name, start, language)})"


def format_day(day: date) -> str:
    return _format_day(day, str(_locale()))


@lru_cache(maxsize=4096)
def _format_day(day: date, language: str) -> str:
    return format_date(day, DAY_FORMAT, locale=language)


def format_days(first: date, last: date) -> str:
    if first == last:
        return format_day(first)
    return f"{format_day(first)} – {format_day(last)}"


def local_dates(start: datetime, end: datetime, tz_name: str) -> tuple[date, date]:
    zone = ZoneInfo(tz_name)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def viewer_span(start: datetime, end: datetime | None, event_tz: str,
                viewer_tz: str | None) -> str:
    """An event's time (`end` None or equal to `start`) or range as the viewer's own clock
    reads it, always with its date, since that is what moves: "03:00 on Wed 4 May your
    time (CEST)", "21:00 on Mon 8 Jul – 00:00 on Tue 9 Jul your time (EDT)". "" when
    the viewer's zone is unknown or their clock reads the event's (same offsets), so
    pages add it only where it helps."""
    viewer = zone_or_none(viewer_tz)
    if viewer is None or viewer.key == event_tz:
        return ""
    end = start if end is None else end
    event_zone = ZoneInfo(event_tz)
    if all(t.astimezone(viewer).utcoffset() == t.astimezone(event_zone).utcoffset()
           for t in (start, end)):
        return ""
    locale = _locale()

    def clock(at: datetime) -> str:
        return format_time(at, TIME_FORMAT, tzinfo=viewer, locale=locale)

    def day(at: datetime) -> str:
        return format_datetime(at, VIEWER_DAY_FORMAT, tzinfo=viewer, locale=locale)

    if start == end:
        when = _("%(time)s on %(day)s", time=clock(start), day=day(start))
    elif start.astimezone(viewer).date() == end.astimezone(viewer).date():
        when = _("%(start)s – %(end)s on %(day)s", start=clock(start), end=clock(end),
                 day=day(start))
    else:
        when = _("%(start)s – %(end)s",
                 start=_("%(time)s on %(day)s", time=clock(start), day=day(start)),
                 end=_("%(time)s on %(day)s", time=clock(end), day=day(end)))
    return _("%(when)s your time (%(zone)s)", when=when,
             zone=zone_name(viewer.key, start))


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_or_none(tz_name: str | None) -> ZoneInfo | None:
    """The IANA zone `tz_name` names, or None. Only names from the zone list reach
    ZoneInfo: it reads files, so "America" (a folder) or a long name would raise OSError."""
    name = (tz_name or "").strip()
    return ZoneInfo(name) if name in _zone_names() else None


def known_zone(tz_name: str | None, fallback: str = "UTC") -> str:
    """`tz_name` when it names a zone this server knows, else `fallback` (a stale or empty
    name in a profile must not break a page)."""
    return tz_name if zone_or_none(tz_name) is not None else fallback  # type: ignore[return-value]


# --------------------------------------------------------------------------- typed dates


@dataclass(frozen=True)
class DateWindow:
    """The days a kind of date may fall on, both included, and what they are for (said in
    the refusal, so the person knows why their date is out of reach)."""

    first: date
    last: date
    what: str

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last

    def refusal(self) -> str:
        return _("Enter a date from %(first)s to %(last)s (%(first_iso)s to %(last_iso)s): "
                 "%(what)s.", first=long_day(self.first), last=long_day(self.last),
                 first_iso=self.first.isoformat(), last_iso=self.last.isoformat(),
                 what=self.what)


# Events, their agenda and their registration windows: the years the platform plans for.
EVENT_DATES = DateWindow(date(2000, 1, 1), date(2100, 12, 31),
                         _l("events, their sessions and registration windows fall in "
                            "these years"))
# Agreements may have been signed long before the platform recorded them.
AGREEMENT_DATES = DateWindow(date(1950, 1, 1), date(2100, 12, 31),
                             _l("agreements are recorded within these years"))
# The last day an API token works.
TOKEN_DATES = DateWindow(date(2000, 1, 1), date(2100, 12, 31),
                         _l("a token's last day falls in these years"))


class NotALocalTime(ValueError):
    """A typed date or local time refused; `message` says why, in the reader's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_day(day: date, window: DateWindow = EVENT_DATES) -> date:
    if not window.holds(day):
        raise NotALocalTime(window.refusal())
    return day


def long_day(day: date) -> str:
    """"27 October 2024", in the reader's language."""
    return format_date(day, "d MMMM y", locale=_locale())


def offsets_of(local: datetime, zone: ZoneInfo) -> tuple[timedelta, ...]:
    """The UTC offsets at which the wall-clock time `local` (naive) occurs in `zone`: none
    when the clocks skip it, two (the earlier first) when they pass it twice. Only for
    days inside a window (an instant near year 1 or 9999 has no neighbour to compare)."""
    found: list[timedelta] = []
    for fold in (0, 1):
        offset = local.replace(tzinfo=zone, fold=fold).utcoffset() or timedelta()
        back = local.replace(tzinfo=timezone(offset)).astimezone(zone).replace(tzinfo=None)
        if back == local.replace(fold=0) and offset not in found:
            found.append(offset)
    return tuple(sorted(found, reverse=True))


def instant_of(local: datetime, zone: ZoneInfo, window: DateWindow = EVENT_DATES) -> datetime:
    """The UTC instant a typed local time of `zone` names. `local` is naive, or carries
    the UTC offset its author chose (a fixed-offset tzinfo) for a time that occurs
    twice. Raises NotALocalTime: outside `window`, skipped by the clocks, passed twice
    with no offset chosen, or given an offset the zone does not have then."""
    chosen = local.utcoffset() if local.tzinfo is not None else None
    wall = local.replace(tzinfo=None, fold=0)
    check_day(wall.date(), window)
    offsets = offsets_of(wall, zone)
    day, clock = long_day(wall.date()), f"{wall:%H:%M}"
    if not offsets:
        before = wall.replace(tzinfo=zone, fold=0).utcoffset()
        after = wall.replace(tzinfo=zone, fold=1).utcoffset()
        raise NotALocalTime(_(
            "%(time)s on %(day)s does not exist in %(zone)s: the clocks skip from "
            "%(before)s to %(after)s there. Choose another time.", time=clock, day=day,
            zone=zone.key, before=utc_offset_label(before), after=utc_offset_label(after)))
    if chosen is not None and chosen not in offsets:
        raise NotALocalTime(_(
            "%(time)s on %(day)s in %(zone)s is at %(offsets)s, not %(chosen)s.",
            time=clock, day=day, zone=zone.key, chosen=utc_offset_label(chosen),
            offsets=_(" or ").join(utc_offset_label(o) for o in offsets)))
    if chosen is None and len(offsets) > 1:
        raise NotALocalTime(_(
            "%(time)s happens twice on %(day)s in %(zone)s: first at %(first)s, then at "
            "%(then)s. Choose which.", time=clock, day=day, zone=zone.key,
            first=utc_offset_label(offsets[0]), then=utc_offset_label(offsets[1])))
    offset = chosen if chosen is not None else offsets[0]
    return wall.replace(tzinfo=timezone(offset)).astimezone(UTC)


def offset_code(offset: timedelta) -> str:
    """"+02:00": how a chosen offset travels in a form or a command line."""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def parse_offset(code: str | None) -> timedelta | None:
    """The offset `offset_code` wrote, or None for anything else (no choice made)."""
    code = (code or "").strip()
    if len(code) != 6 or code[0] not in "+-" or code[3] != ":":
        return None
    hours, minutes = code[1:3], code[4:]
    if not (hours.isdigit() and minutes.isdigit() and hours.isascii() and minutes.isascii()):
        return None
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if offset >= timedelta(hours=24) or int(minutes) >= 60:
        return None
    return -offset if code[0] == "-" else offset


def repeated_offsets(local: datetime | None, tz_name: str | None) -> tuple[timedelta, ...]:
    """The two offsets of a typed local time the clocks pass twice in the named zone, or
    () when there is nothing to choose (no time yet, an unknown zone, a single time, or
    a day outside every window). What a form offers as "which 02:30?"."""
    zone = zone_or_none(tz_name)
    if local is None or zone is None:
        return ()
    wall = local.replace(tzinfo=None, fold=0)
    if not EVENT_DATES.holds(wall.date()):
        return ()
    offsets = offsets_of(wall, zone)
    return offsets if len(offsets) > 1 else ()


def instant_option(offset: timedelta, offsets: tuple[timedelta, ...]) -> str:
    """The label of one choice of a repeated time: "first, at UTC+2" / "then, at UTC+1"."""
    if offset == offsets[0]:
        return _("the first, at %(offset)s (before the clocks go back)",
                 offset=utc_offset_label(offset))
    return _("the second, at %(offset)s (after the clocks go back)",
             offset=utc_offset_label(offset))


def instant_arg(value: str, window: DateWindow = EVENT_DATES) -> datetime:
    """An ISO 8601 instant with its UTC offset (a command line's --now), inside `window`."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise NotALocalTime(_("%(value)s is not an ISO 8601 time, such as "
                              "2027-03-01T09:00:00+01:00.", value=repr(value))) from None
    check_day(at.date(), window)
    if at.tzinfo is None:
        raise NotALocalTime(_("Give the time with its UTC offset, such as "
                              "2027-03-01T09:00:00+01:00 or 2027-03-01T08:00:00Z."))
    return at.astimezone(UTC)

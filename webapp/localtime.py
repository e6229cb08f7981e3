"""Times are UTC inside; here they become local times that say their zone.

    format_instant(dt, "Asia/Singapore") -> "Tue 9 Jul 2019, 09:00 (Singapore, UTC+8)"
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from flask_babel import get_locale

DAY_FORMAT = "EEE d MMM y"
TIME_FORMAT = "HH:mm"


def _locale():
    return get_locale() or "en"


def utc_offset_label(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_city(tz_name: str) -> str:
    if tz_name == "UTC":
        return "UTC"
    return get_timezone_location(ZoneInfo(tz_name), locale=_locale(), return_city=True)


def zone_label(tz_name: str, at: datetime) -> str:
    """"Singapore, UTC+8": the zone's city and its offset at that instant (DST-aware)."""
    local = at.astimezone(ZoneInfo(tz_name))
    offset = utc_offset_label(local.utcoffset())
    city = zone_city(tz_name)
    return offset if city == "UTC" else f"{city}, {offset}"


def format_instant(at: datetime, tz_name: str) -> str:
    zone = ZoneInfo(tz_name)
    text = format_datetime(at, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=zone, locale=_locale())
    return f"{text} ({zone_label(tz_name, at)})"


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
    zone = ZoneInfo(tz_name)
    locale = _locale()
    first = format_datetime(start, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=zone, locale=locale)
    if start.astimezone(zone).date() == end.astimezone(zone).date():
        last = format_time(end, TIME_FORMAT, tzinfo=zone, locale=locale)
    else:
        last = format_datetime(end, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=zone, locale=locale)
    return f"{first} – {last} ({zone_label(tz_name, start)})"


def format_day(day: date) -> str:
    return format_date(day, DAY_FORMAT, locale=_locale())


def format_days(first: date, last: date) -> str:
    if first == last:
        return format_day(first)
    return f"{format_day(first)} – {format_day(last)}"


def local_dates(start: datetime, end: datetime, tz_name: str) -> tuple[date, date]:
    zone = ZoneInfo(tz_name)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def viewer_span(start: datetime, end: datetime, event_tz: str, viewer_tz: str | None) -> str:
    """The same range in the viewer's own zone, "03:00 – 06:00 in your time (Paris,
    UTC+2)", or "" when their clock reads the same as the event's (same offsets), so
    pages add it only where it helps. The day is named when it is not the event's day."""
    if not viewer_tz or viewer_tz == event_tz:
        return ""
    try:
        viewer = ZoneInfo(viewer_tz)
    except (KeyError, ValueError):  # a stale or unknown name in a profile: say nothing
        return ""
    event_zone = ZoneInfo(event_tz)
    if all(t.astimezone(viewer).utcoffset() == t.astimezone(event_zone).utcoffset()
           for t in (start, end)):
        return ""
    locale = _locale()
    same_day = start.astimezone(viewer).date() == start.astimezone(event_zone).date()
    first_format = TIME_FORMAT if same_day else f"{DAY_FORMAT}, {TIME_FORMAT}"
    first = format_datetime(start, first_format, tzinfo=viewer, locale=locale)
    if start.astimezone(viewer).date() == end.astimezone(viewer).date():
        last = format_time(end, TIME_FORMAT, tzinfo=viewer, locale=locale)
    else:
        last = format_datetime(end, f"{DAY_FORMAT}, {TIME_FORMAT}", tzinfo=viewer, locale=locale)
    span = first if start == end else f"{first} – {last}"
    return f"{span} in your time ({zone_label(viewer_tz, start)})"


def known_zone(tz_name: str | None, fallback: str = "UTC") -> str:
    """`tz_name` when it names a zone this server knows, else `fallback` (a stale or empty
    name in a profile must not break a page)."""
    try:
        ZoneInfo(tz_name or "")
    except (KeyError, ValueError):
        return fallback
    return tz_name  # type: ignore[return-value]

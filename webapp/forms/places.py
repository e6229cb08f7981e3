"""Places to choose from: countries, and time zones.

Countries: named in the reader's language, in the order they read names
(services.places), after the list's blank choice.

Time zones: a `<select>` of the IANA zones grouped by region
(Africa, Americas, Asia, Europe...), each named by its place as the reader's language
says it ("Copenhagen", "Buenos Aires (Argentina)"), in the order they read names.

A select rather than a text field with suggestions (`<input list>`): it can only send a
zone that exists, so nobody types "Europe/Copenhagn" and meets an error; screen readers
and phones all handle it (a datalist's suggestions are missing or hidden in several),
and without any script typing a place's first letters jumps to it. One option per
place: the zones that are other names of the same clock (Asia/Calcutta for Asia/Kolkata,
Australia/ACT for Australia/Sydney) are left out, but a zone already chosen stays
selectable whatever its name, so saving a form unchanged never fails on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from .. import collation
from ..services.places import countries


def country_choices(codes: Iterable[str], blank: str | None = None) -> list[SelectChoice]:
    """The countries of `codes`, after `blank` ("Choose a country") when there is one."""
    listed = [SelectChoice(code, name) for code, name in countries(codes)]
    return [SelectChoice("", blank), *listed] if blank is not None else listed


UTC = "UTC"
REGIONS = {
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
}


def zone_choices(*, first: list[SelectChoice] = (), current: str | None = None
                 ) -> dict[str | None, list[SelectChoice]]:
    """A SelectField's choices: `first` and UTC above the regions, and `current` among
    them even when the list names its place otherwise."""
    locale = str(get_locale() or "en")
    groups: dict[str | None, list[SelectChoice]] = {
        None: [*first, SelectChoice(UTC, UTC)]}
    places = _places(locale)
    listed = {zone for zones in places.values() for zone, _ in zones}
    for region, label in collation.sorted_by(REGIONS.items(), lambda r: str(r[1])):
        zones = places.get(region, [])
        if current and current not in listed and current.split("/")[0] == region:
            zones = collation.sorted_by([*zones, (current, current.replace("_", " "))],
                                        lambda zone: zone[1])
        groups[str(label)] = [SelectChoice(zone, name) for zone, name in zones]
    if current and current != UTC and current not in listed and \
            current.split("/")[0] not in REGIONS:
        groups[None].append(SelectChoice(current, current.replace("_", " ")))
    return groups


@cache
def _places(locale: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Region -> (zone, place name), one zone per place, sorted by name."""
    by_place: dict[tuple[str, str], list[str]] = defaultdict(list)
    for zone in available_timezones():
        region = zone.split("/")[0]
        if region in REGIONS and "/" in zone:
            by_place[(region, _place_name(zone, locale))].append(zone)
    places: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (region, name), zones in by_place.items():
        places[region].append((_the_place_zone(name, zones), name))
    return {region: tuple(collation.sorted_by(zones, lambda zone: zone[1], locale))
            for region, zones in places.items()}


def _place_name(zone: str, locale: str) -> str:
    """"Copenhagen"; "Buenos Aires (Argentina)" where the place names a part of its
    country, as CLDR spells it for `locale`."""
    name = get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True)
    *within, city = name.split("/")
    return f"{city} ({', '.join(within)})" if within else name


def _the_place_zone(name: str, zones: list[str]) -> str:
    """Of the zones named after one place, the one its own name says (Asia/Kolkata, not
    Asia/Calcutta), the most precise first (America/Argentina/Cordoba, not
    America/Cordoba)."""
    city = name.split(" (")[0].split(",")[0].replace(" ", "_")
    return min(zones, key=lambda zone: (zone.rsplit("/", 1)[-1] != city,
                                        -zone.count("/"), zone))

"""Countries and places as people read them: "Boston, United States", in the reader's
language (pages, files and mail alike; the template filters `country` and `place` are
these functions), and lists of names in the order the reader sorts them.

Babel names places but does not collate, and Python compares code points, which put
"Åland Islands" after "Zimbabwe". Names are sorted by ICU's collation for the reader's
language (webapp/collation.py): accents and case come after the letters, so Åland sorts
under A, Łódź beside Lodz, "Côte d'Ivoire" among the C's, and a language with rules of
its own (Danish puts Å after Z) follows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from babel import Locale
from flask_babel import get_locale

from .. import collation


def country_name(code: str | None) -> str:
    """The country's name in the current language ("" for none, the code if unknown)."""
    if not code:
        return ""
    return _territories(str(get_locale() or "en")).get(code.upper(), code.upper())


@cache
def _territories(language: str) -> dict[str, str]:
    """The country names of a language, read once per process (parsing a locale on each
    name was a tenth of a catalogue page)."""
    return dict(Locale.parse(language).territories)


def place(event) -> str:
    """"Boston, United States"; a city-state is named once ("Singapore")."""
    country = country_name(event.target_country)
    if not event.target_city or event.target_city == country:
        return country
    return f"{event.target_city}, {country}"


def countries(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, name) of each country, named in the reader's language and in the order
    they read the names."""
    return collation.sorted_by(((code, country_name(code)) for code in codes),
                               lambda country: country[1])

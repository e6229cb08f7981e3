"""Countries and places as people read them: "Boston, United States", in the reader's
language (pages, files and mail alike; the template filters `country` and `place` are
these functions)."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale


def country_name(code: str | None) -> str:
    """The country's name in the current language ("" for none, the code if unknown)."""
    if not code:
        return ""
    locale = Locale.parse(str(get_locale() or "en"))
    return locale.territories.get(code.upper(), code.upper())


def place(event) -> str:
    """"Boston, United States"; a city-state is named once ("Singapore")."""
    country = country_name(event.target_country)
    if not event.target_city or event.target_city == country:
        return country
    return f"{event.target_city}, {country}"

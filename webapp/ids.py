"""Ids and page numbers as they arrive in paths, query strings and form fields.

Every id is a database Integer (no BigInteger columns), so anything other than a whole
number from 1 to MAX_ID names nothing. Such a value is refused before it reaches a query:
PostgreSQL would answer 500 ("integer out of range") and SQLite cannot bind a number above
2**63-1. In a path it does not match the route (404); in a query string it is a bad request
(400, naming the parameter); in a form field it is the field's error. Page numbers have
their own bound, so that an offset stays a number the database can take.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from .services.fields import MAX_ID

# Far beyond any listing we hold, and small enough that page x page size stays an int4.
MAX_PAGE = 10_000


def _up_to(limit: int) -> str:
    """A regular expression for the numbers 1..`limit` in ASCII digits, no leading zero."""
    digits = str(limit)
    shorter = [rf"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = [digits]
    for i, digit in enumerate(digits):
        low = "1" if i == 0 else "0"
        if digit > low:
            rest = len(digits) - i - 1
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" +
                               (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(shorter + same_length) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: only 1..MAX_ID match, so other numbers answer 404
    without a query. Every int segment in our routes is an id (pages travel as ?page=).

    The range is in the pattern itself: werkzeug checks min and max only after choosing
    a rule, so a value it refuses there answers 405 where a route has a twin for another
    method. ASCII digits without a leading zero: werkzeug's \\d+ also takes other scripts'
    digits ("١" is 1) and "01", which would give one record many addresses."""

    regex = _up_to(MAX_ID)

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(value) -> int | None:
    """`value` as an id, or None when it is not one (blank, not plain digits, out of range)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def id_message(name: str) -> str:
    return _("“%(name)s” must be an id: a whole number from 1 to %(max)d.", name=name,
             max=MAX_ID)


def coerce_id(value) -> int | None:
    """A WTForms `coerce` for an id choice: blank is None, anything else must be an id.
    The ValueError becomes the field's own error (WTForms' "Invalid Choice"), so nothing
    that is not an id is compared with the choices or reaches a query."""
    if value in (None, "", "None"):
        return None
    number = parse_id(value)
    if number is None:
        raise ValueError(value)
    return number


def required_id(raw: str | None, name: str) -> int | None:
    """`raw`, sent as parameter `name`, as an id: None when absent or blank, a 400 that
    names the parameter when it is not an id."""
    if raw in (None, ""):
        return None
    number = parse_id(raw)
    if number is None:
        abort(400, description=id_message(name))
    return number


def page_arg(name: str = "page") -> int:
    """The page asked for in the query string, 1..MAX_PAGE: a page number is a place in a
    listing, so one that is not a number shows the first page and one past MAX_PAGE the
    last we serve (an empty page), never an offset the database cannot take."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    # Python refuses to read over 4300 digits; any number that long is past the end anyway.
    number = int(raw.lstrip("0") or "0") if len(raw.lstrip("0")) <= 6 else MAX_PAGE
    return min(max(number, 1), MAX_PAGE)

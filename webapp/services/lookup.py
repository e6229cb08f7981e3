"""Choosing one of many: the matches of what someone typed in a field over something that
grows (events, organizations, members), and what a submitted field names.

Every function starts from a scoped query the caller took from `access` (or a service
built on it), so a look-up finds nothing the user could not already see. Matching is the
catalogue's folded search (`models.search`): accents, case and spacing do not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func

from ..extensions import db
from ..ids import parse_id
from ..models import Event, Organization, User, search

# The most matches a field offers: enough to choose from, few enough to stay one query.
MAX_MATCHES = 20
# Fewer characters match too much to be worth a query.
MIN_CHARACTERS = 2


class Unusable(str):
    """Why a typed query is not searched (a code; the view words it)."""


TOO_SHORT = Unusable("too_short")
TOO_LONG = Unusable("too_long")
UNREADABLE = Unusable("unreadable")


def unusable(query: str | None) -> Unusable | None:
    """Why `query` answers no matches without being searched, or None when it is searched:
    fewer than MIN_CHARACTERS, longer than a search box takes, or with control characters
    (nobody types those; a query that has them came from somewhere else)."""
    query = query or ""
    if len(query) > search.QUERY_LENGTH:
        return TOO_LONG
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in query):
        return UNREADABLE
    if len(search.fold(query).replace(" ", "")) < MIN_CHARACTERS:
        return TOO_SHORT
    return None


# What each kind of row is matched on and ordered by: the unique id last, so the same
# query always answers the same matches.
ORDERS = {
    Event: (Event.starts_at.desc(), Event.id),
    Organization: (func.lower(Organization.name), Organization.id),
    User: (func.lower(User.name), User.id),
}


def matches(scope: Select, model: type, query: str, *, limit: int = MAX_MATCHES,
            keys: tuple = ()) -> list[Any]:
    """Up to `limit` rows of `scope` (a query of `model`) whose folded key (or one of
    `keys`, such as a member's organization's) holds every word of `query`. An unusable
    query matches nothing."""
    if unusable(query) is not None:
        return []
    return list(db.session.scalars(
        scope.where(search.matches((model.search_key, *keys), query))
        .order_by(*ORDERS[model]).limit(limit)))


@dataclass(frozen=True)
class Chosen:
    """What a submitted look-up field names: one row (chosen by its id, or the only match
    of the typed text), or a text that several rows match (`text`), or nothing at all
    (`missing`: the text matched nothing, or the id is not one the user may choose)."""

    one: Any = None
    text: str = ""
    missing: bool = False


def choose(scope: Select, model: type, raw_id: str | None, text: str | None,
           label, *, keys: tuple = ()) -> Chosen:
    """The row behind a look-up field sent as an id (`raw_id`, set by the typeahead or a
    link) and the text shown in the field (`text`, typed by hand without JavaScript; None
    when the field was not sent at all, as from a link). The id holds while the text is
    still its row's label; a text typed over it is searched, a blank one chooses nothing."""
    number = parse_id(raw_id)
    if number is not None and (text is None or search.typed(text)):
        row = db.session.scalar(scope.where(model.id == number))
        if row is None and text is None:
            return Chosen(missing=True)
        if row is not None and (text is None or search.typed(text) == label(row)):
            return Chosen(one=row)
    text = search.typed(text)
    if not text:
        return Chosen()
    if unusable(text) is not None:
        return Chosen(missing=True)
    rows = matches(scope, model, text, keys=keys)
    folded = search.fold(text)
    exact = [row for row in rows if search.fold(label(row)) == folded]
    if len(rows) == 1 or len(exact) == 1:
        return Chosen(one=(exact or rows)[0])
    return Chosen(text=text) if rows else Chosen(missing=True)

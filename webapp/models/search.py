"""Folded search keys: what a search box matches, stored beside the row it describes.

A name is matched as people type it: "etienne", "ÉTIENNE" and "Étienne" all find
"Étienne Moreau", "lodz" finds "Łódź", "strasse" finds "Straße". A word with ä, ö, ü, ø
or å is kept under both of the ways people write it in plain letters: "Søren" is found
by "soren" and by "soeren", "Ærø" by "aero" and by "aeroe", "Müller" by "mueller".
Folding is done here in Python, once, when a row is written (every ORM flush recomputes
the key of a new or changed row), and stored in a `search_key` column; the database then
compares plain lower-case ASCII with LIKE on SQLite and PostgreSQL alike, through an
index (a trigram index on PostgreSQL, so a match inside a word is indexed too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from anyascii import anyascii
from babel import Locale
from sqlalchemy import ColumnElement, Index, and_, event, false, or_, true
from sqlalchemy.orm import Session

# The longest key stored: names are short; an event's key has its title, summary, city,
# venue and country. Longer keys are cut (the end of a long summary is not searched).
KEY_LENGTH = 1000
# The most a search box takes into account: a longer query is cut, not refused.
QUERY_LENGTH = 200
MAX_TERMS = 8

_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """The text as it is compared: transliterated to ASCII, lower case, one space between
    words, no control characters."""
    value = unicodedata.normalize("NFKC", value or "")
    value = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch
                    for ch in value)
    return _SPACES.sub(" ", anyascii(value).lower()).strip()


# The letters that German and the Nordic languages spell out when only plain letters
# are at hand (transliteration alone makes "ø" an "o").
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa",
                              "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "Ø": "Oe", "Å": "Aa"})


def key(text: str) -> str:
    """The stored key of `text`: its folded words, then the other spelling of those that
    have one, cut to KEY_LENGTH."""
    words = fold(text).split(" ")
    # Composed first, so that an "o" typed with a combining diaeresis is spelled out too.
    spelled = fold(unicodedata.normalize("NFC", text or "").translate(_SPELLED_OUT))
    seen = set(words)
    others = dict.fromkeys(word for word in spelled.split(" ") if word not in seen)
    return " ".join(word for word in (*words, *others) if word)[:KEY_LENGTH]


def typed(query: str | None) -> str:
    """What is searched of what someone typed, and shown back in the box: at most
    QUERY_LENGTH characters (a longer query is cut, not refused), no spaces around."""
    return (query or "")[:QUERY_LENGTH].strip()


def terms(query: str | None) -> list[str]:
    """The words of what someone typed in a search box, folded; every one must match."""
    folded = fold((query or "")[:QUERY_LENGTH])
    return [word for word in folded.split(" ") if word][:MAX_TERMS]


def matches(columns, query: str | None) -> ColumnElement[bool]:
    """Every word of `query` is contained in `columns` (a folded key, or a tuple of keys
    of which any one may hold the word: a person's name or their organization's). `%`,
    `_` and quotes are plain characters; an empty query matches everything, and one with
    nothing searchable in it (only invisible characters) matches nothing."""
    words = terms(query)
    if not words:
        return true() if not typed(query) else nothing_matches()
    keys = columns if isinstance(columns, tuple | list) else (columns,)
    return and_(*(or_(*(column.contains(word, autoescape=True) for column in keys))
                  for word in words))


# The columns a table's search index holds besides its key: the admins find accounts by
# their email as typed too, and one index serves "name or email" (a condition on a column
# no index holds would make PostgreSQL read the whole table).
INDEXED_BESIDE_KEY = {"users": ("email",)}


def search_index(table: str) -> Index:
    """The index of a table's `search_key`: trigrams on PostgreSQL (LIKE '%word%' uses
    it), a plain index elsewhere."""
    columns = ("search_key", *INDEXED_BESIDE_KEY.get(table, ()))
    return Index(f"ix_{table}_search_key", *columns, postgresql_using="gin",
                 postgresql_ops=dict.fromkeys(columns, "gin_trgm_ops"))


def nothing_matches() -> ColumnElement[bool]:
    return false()


def country_names(code: str) -> str:
    """The country's English name (and its code) for an event's key."""
    code = (code or "").upper()
    return f"{Locale('en').territories.get(code, '')} {code}"


class Searchable:
    """A model with a `search_key` column, and the text it is folded from."""

    def search_text(self) -> Iterable[str | None]:  # pragma: no cover - each model says
        raise NotImplementedError

    def refresh_search_key(self) -> None:
        self.search_key = key(" ".join(part for part in self.search_text() if part))


@event.listens_for(Session, "before_flush")
def _refresh_search_keys(session: Session, flush_context, instances) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Searchable):
            obj.refresh_search_key()

"""Names in the order each language sorts them (ICU's collation, through PyICU).

Python compares code points ("Åland" after "Zimbabwe", every Greek name after every Latin
one); Babel names countries and languages but does not collate. ICU's collator for a
language orders names as its readers expect: accents and case after the letters ("Émile"
among the E's, "Łódź" beside "Lodz"), each language's own letters where its alphabet puts
them (Danish "Æ Ø Å" after "Z"), and the reader's own script first (a Greek reader meets
"Άλφα" before "Alpha").

- `key(text, language)`: the collation key, bytes that compare as the language orders
  the texts. Short lists sorted in Python (a form's choices) use it directly.
- Lists paged in SQL (the admin's users and partners) join the stored keys
  (`SortKey`, one row per named row and offered language), written with the row by
  `_keep_sort_keys` on every ORM flush, by the bulk loaders through `rows_for`, and
  for rows that have none (a language added to LANGUAGES) by `flask sort-keys`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

import click
import icu
from flask import Flask, has_app_context
from flask_babel import get_locale
from sqlalchemy import and_, delete, event, insert, inspect, select, tuple_
from sqlalchemy.orm import Session, aliased

from . import languages
from .extensions import db
from .models import Organization, Partner, SortKey, User

# What is named, by model: its subject type and the text it sorts by.
NAMED = {User: ("user", "name"), Organization: ("organization", "name"),
         Partner: ("partner", "name")}


@cache
def _collator(language: str) -> icu.Collator:
    return icu.Collator.createInstance(icu.Locale(language))


@lru_cache(maxsize=8192)
def key(text: str, language: str | None = None) -> bytes:
    """`text`'s collation key in `language` (by default the one being read)."""
    return _collator(language or str(get_locale() or languages.DEFAULT)).getSortKey(text or "")


def sorted_by(items: Iterable, text, language: str | None = None) -> list:
    """`items` in the order `language` reads `text(item)`."""
    return sorted(items, key=lambda item: key(text(item), language))


def _languages() -> list[str]:
    return languages.offered() if has_app_context() else [languages.DEFAULT]


def rows_for(subject_type: str, subject_id: int, text: str) -> list[dict]:
    """The stored keys of one named row, one per offered language."""
    return [{"subject_type": subject_type, "subject_id": subject_id, "language": language,
             "key": key(text, language)} for language in _languages()]


def ordered(query, model, language: str | None = None):
    """`query` (of `model`'s rows) in the order `language` (by default the reader's)
    sorts their names, then by id; a row without a stored key comes last."""
    subject_type, _ = NAMED[model]
    sort = aliased(SortKey)
    language = language or str(get_locale() or languages.DEFAULT)
    return query.outerjoin(sort, and_(sort.subject_type == subject_type,
                                      sort.subject_id == model.id,
                                      sort.language == language)).order_by(
        sort.key.is_(None), sort.key, model.id)


@event.listens_for(Session, "after_flush")
def _keep_sort_keys(session: Session, flush_context) -> None:
    """A named row written (its name new or changed) gets its keys again; a deleted one
    loses them."""
    written, gone = [], []
    for obj in (*session.new, *session.dirty):
        named = NAMED.get(type(obj))
        if named is None:
            continue
        subject_type, attribute = named
        if obj in session.new or _changed(obj, attribute):
            written.append((subject_type, obj.id, getattr(obj, attribute) or ""))
    for obj in session.deleted:
        named = NAMED.get(type(obj))
        if named is not None:
            gone.append((named[0], obj.id))
    subjects = [(subject_type, subject_id) for subject_type, subject_id, _ in written] + gone
    if not subjects:
        return
    connection = session.connection()
    for start in range(0, len(subjects), 500):
        connection.execute(delete(SortKey.__table__).where(tuple_(
            SortKey.subject_type, SortKey.subject_id).in_(subjects[start:start + 500])))
    rows = [row for subject_type, subject_id, text in written
            for row in rows_for(subject_type, subject_id, text)]
    if rows:
        connection.execute(insert(SortKey.__table__), rows)


def _changed(obj, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def fill_missing() -> int:
    """Write the keys every named row lacks in an offered language (a bulk load that wrote
    none, a language added to LANGUAGES); how many were written. The caller commits."""
    written = 0
    for model, (subject_type, attribute) in NAMED.items():
        for language in _languages():
            have = select(SortKey.subject_id).where(SortKey.subject_type == subject_type,
                                                    SortKey.language == language)
            rows = db.session.execute(select(model.id, getattr(model, attribute)).where(
                model.id.not_in(have))).all()
            for start in range(0, len(rows), 1000):
                chunk = [{"subject_type": subject_type, "subject_id": row_id,
                          "language": language, "key": key(text or "", language)}
                         for row_id, text in rows[start:start + 1000]]
                db.session.execute(insert(SortKey.__table__), chunk)
            written += len(rows)
    # Keys of languages no longer offered are left: a language offered again finds them.
    return written


def init_app(app: Flask) -> None:
    from . import unit

    @app.cli.command("sort-keys")
    @unit.command
    def sort_keys_command() -> None:
        """Store the sort keys of every name in each offered language (after a language
        was added to LANGUAGES); keys already stored stay."""
        unit.write_step()
        click.echo(f"{fill_missing()} sort key(s) written.")


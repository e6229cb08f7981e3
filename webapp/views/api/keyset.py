"""The API's lists, page by page on a stable order: each page ends with a cursor that
names its last row's sort key, and the next page is the rows after that key (keyset
pagination). A page costs the same at the first row and the ten-thousandth, a row
inserted meanwhile neither repeats nor hides another, and the whole list is counted only
when the client asks (`count=true`).

The cursor is opaque: the last row's key and the list's filters, signed with the app's
secret for this list alone, so a cursor edited by hand, cut short or taken from another
list or other filters is refused with a 400 problem, never read.

`page` (the earlier offset pages) is still accepted on the first request, for clients
written before the cursor: it skips (page - 1) * per_page rows, and the page's `next`
goes on by cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from ...extensions import db
from ...problems import ApiProblem

# The query parameters that move along a list rather than choose which list it is.
PAGING = frozenset({"cursor", "page", "per_page", "count"})


@dataclass(frozen=True)
class Key:
    """One column of a list's order: ascending, or descending."""

    column: InstrumentedAttribute
    descending: bool = False

    def after(self, value: Any):
        return self.column < value if self.descending else self.column > value

    def ordered(self):
        return self.column.desc() if self.descending else self.column.asc()


@dataclass
class Page:
    rows: list
    per_page: int
    next_cursor: str | None
    total: int | None

    def fields(self) -> dict[str, Any]:
        """The page's paging fields of the response: the next page's cursor and URL (the
        same filters), the total when asked."""
        next_url = None
        if self.next_cursor is not None:
            args = {name: value for name, value in request.args.items()
                    if name not in ("cursor", "page")}
            next_url = url_for(request.endpoint, **(request.view_args or {}), **args,
                               cursor=self.next_cursor, _external=True)
        return {"per_page": self.per_page, "total": self.total,
                "next_cursor": self.next_cursor, "next": next_url}


def page(query: Select, keys: Sequence[Key], *, cursor: str | None, per_page: int,
         page_number: int | None = None, count: bool = False, columns: bool = False) -> Page:
    """The rows of `query` after `cursor` in the order of `keys` (the last a unique
    column, so the order is total), one more read to tell whether a next page exists:
    its entities, or with `columns` its rows of columns (which hold the keys' columns)."""
    if cursor is not None and page_number is not None:
        raise ApiProblem(400, "Give either `cursor` (from the previous page's `next`) or "
                              "`page`, not both.", errors=[
                                  {"pointer": "query/page", "detail": "with a cursor"}])
    total = None
    if count:
        total = db.session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery()))
    ordered = query.order_by(*(key.ordered() for key in keys))
    if cursor is not None:
        ordered = ordered.where(_after(keys, _read(cursor, keys)))
    elif page_number is not None and page_number > 1:
        ordered = ordered.offset((page_number - 1) * per_page)
    result = db.session.execute(ordered.limit(per_page + 1))
    rows = list(result.all() if columns else result.scalars().unique())
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = _written(_values(rows[-1], keys))
    return Page(rows, per_page, next_cursor, total)


def _after(keys: Sequence[Key], values: list[Any]):
    """Rows after `values` in the order of `keys`: (a > x) or (a = x and b > y) ..."""
    alternatives = []
    for n, key in enumerate(keys):
        equal = [k.column == v for k, v in zip(keys[:n], values[:n], strict=True)]
        alternatives.append(and_(*equal, key.after(values[n])))
    return or_(*alternatives)


def _values(row: Any, keys: Sequence[Key]) -> list[Any]:
    if isinstance(row, Row):
        return [row._mapping[key.column] for key in keys]
    values = []
    for key in keys:
        owner = row
        # A key on a related row (an event's start for a registration) is read through
        # the relationship the query loaded.
        if key.column.class_ is not type(row):
            owner = next(getattr(row, rel.key) for rel in type(row).__mapper__.relationships
                         if rel.mapper.class_ is key.column.class_)
        values.append(getattr(owner, key.column.key))
    return values


# --------------------------------------------------------------------------- the cursor


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=f"api-cursor:{request.endpoint}")


def _filters() -> str:
    """A digest of the list's filters: a cursor goes on only the list it came from."""
    chosen = sorted((name, value) for name, value in request.args.items(multi=True)
                    if name not in PAGING)
    return hashlib.sha256(json.dumps(chosen).encode()).hexdigest()[:16]


def _written(values: list[Any]) -> str:
    encoded = [{"t": value.isoformat()} if isinstance(value, datetime) else value
               for value in values]
    return _serializer().dumps([_filters(), encoded])


def _refused(detail: str) -> ApiProblem:
    return ApiProblem(400, detail, errors=[{"pointer": "query/cursor", "detail": detail}])


def _read(cursor: str, keys: Sequence[Key]) -> list[Any]:
    try:
        filters, encoded = _serializer().loads(cursor)
    except (BadData, TypeError, ValueError):
        raise _refused("This cursor is not one this list gave: take the `next` link of the "
                       "previous page as it is, or start again without a cursor.") from None
    if filters != _filters():
        raise _refused("This cursor belongs to the same list with other filters: keep the "
                       "filters of the page that gave it, or start again without a cursor.")
    if not isinstance(encoded, list) or len(encoded) != len(keys):
        raise _refused("This cursor is not one this list gave.")
    values = []
    for value in encoded:
        if isinstance(value, dict):
            try:
                value = datetime.fromisoformat(value["t"])
            except (KeyError, TypeError, ValueError):
                raise _refused("This cursor is not one this list gave.") from None
        values.append(value)
    return values

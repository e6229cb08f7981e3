"""One page of a list: the rows of the page, and whether there is a next one.

A page reads one row more than it shows to know whether a next page exists, instead of
counting every row the list holds: the count grows with the partnership, the look-ahead
does not. Where a page tells its users how many rows there are, the view counts them
itself, in one query, and hands the total over (`total=`).

The query must order its rows by something unique (an id last), so that rows neither
repeat nor go missing from one page to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select

from .extensions import db
from .ids import page_arg


@dataclass
class Page:
    """What the pager macro (templates/macros/pagination.html) reads: the same names as
    Flask-SQLAlchemy's Pagination, with `pages` and `total` None when nothing counted."""

    items: list[Any]
    page: int
    per_page: int
    has_next: bool
    total: int | None = None
    first: int = field(init=False)

    def __post_init__(self) -> None:
        self.first = (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def page_of(query: Select, per_page: int, *, page: int | None = None,
            total: int | None = None, page_number: int | None = None) -> Page:
    """Page `page` (by default the one the query string asks for) of `query`'s entities,
    `per_page` to a page. A page past the end is empty; its pager leads back.

    `page_number`: the number the pager shows, when `query` already reads only that
    page's rows (and one more), picked in a subquery (`page=1` then)."""
    page = page_arg() if page is None else page
    rows = list(db.session.scalars(
        query.limit(per_page + 1).offset((page - 1) * per_page)).unique())
    return Page(rows[:per_page], page_number or page, per_page, len(rows) > per_page, total)

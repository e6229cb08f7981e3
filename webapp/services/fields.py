"""Checks the administrative services share: a refusal that names the field it is about,
countries, web addresses and free slugs."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from slugify import slugify
from sqlalchemy import select

from ..extensions import db
from .errors import DomainError

# Ids are database integers; a larger number names nothing (and SQLite cannot bind it).
MAX_ID = 2**31 - 1

# Codes Babel lists among territories that are not places an event or partner is in:
# pseudo-locales, the unknown region, the euro zone and the United Nations. "EU" stays:
# a fellow partnership such as EC2I is European rather than national.
_NOT_PLACES = frozenset({"QO", "XA", "XB", "ZZ", "EZ", "UN"})


class Refused(DomainError):
    """Values the domain refuses: its `code` and `params` are about `field`, `reasons`
    maps each input to its refusal (None: the request as a whole) and `errors` to its
    message, so a form can show every message beside its field at once."""

    def __init__(self, code: str, field: str | None = None, /, *,
                 others: Mapping[str | None, DomainError] | None = None,
                 **params: Any) -> None:
        super().__init__(code, **params)
        self.field = field
        self.reasons: dict[str | None, DomainError] = {field: self, **(others or {})}

    @classmethod
    def of(cls, refusal: DomainError, field: str | None = None) -> Refused:
        """Another service's refusal, about `field`."""
        return cls(refusal.code, field, **refusal.params)

    @property
    def errors(self) -> dict[str | None, str]:
        return {field: reason.message for field, reason in self.reasons.items()}


class Problems:
    """Collects refusals while every value is checked, then raises them together."""

    def __init__(self) -> None:
        self.reasons: dict[str | None, DomainError] = {}

    @property
    def errors(self) -> dict[str | None, DomainError]:
        return self.reasons

    def add(self, field: str | None, code: str, **params: Any) -> None:
        if field not in self.reasons:
            self.reasons[field] = Refused(code, field, **params)

    def take(self, refusal: Refused) -> None:
        for field, reason in refusal.reasons.items():
            self.reasons.setdefault(field, reason)

    def raise_any(self) -> None:
        if self.reasons:
            (field, first), *rest = self.reasons.items()
            raise Refused(first.code, field, others=dict(rest), **first.params)


@cache
def territory_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes (and "EU"), as Babel knows them."""
    return frozenset(
        code for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in _NOT_PLACES
    )


def check_territory(code: str, field: str) -> str:
    code = (code or "").strip().upper()
    if code not in territory_codes():
        raise Refused("field.country_unknown", field)
    return code


def check_web_address(url: str, field: str) -> str:
    """"" or an absolute http(s) address: other schemes (javascript:, data:) never reach a
    page as a link."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Refused("field.web_address", field)
    return url


def free_slug(column, wanted: str, *, own_id: int | None, explicit: bool, field: str = "slug",
              max_length: int = 120) -> str:
    """`wanted` made URL-safe and unique in `column`. A slug the user typed must be free
    (they meant that one); one derived from a name gets -2, -3... until it is."""
    base = slugify(wanted or "", max_length=max_length - 4) or "untitled"
    model = column.class_

    def taken(slug: str) -> bool:
        query = select(model.id).where(column == slug)
        if own_id is not None:
            query = query.where(model.id != own_id)
        return db.session.scalar(query) is not None

    if not taken(base):
        return base
    if explicit:
        raise Refused("field.slug_taken", field)
    n = 2
    while taken(f"{base}-{n}"):
        n += 1
    return f"{base}-{n}"


class EventCancelled(Refused):
    def __init__(self) -> None:
        super().__init__("event.cancelled_unchangeable")

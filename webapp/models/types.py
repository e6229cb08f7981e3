"""Column types shared by the models."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored as naive UTC (portable to SQLite), always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; attach a timezone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the values (not names)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def render_migration_item(type_: str, obj, autogen_context) -> str | bool:
    """Alembic hook: write our column types as the plain types they store, so migrations
    do not import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


# Crockford's base 32: no I, L, O or U, so a code read aloud or typed from a badge has no
# look-alikes. A code is 15 random symbols (75 bits) and a check symbol.
BADGE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BADGE_CODE_RANDOM = 15


def badge_check_symbol(body: str) -> str:
    """A weighted sum modulo the prime 31: a typo in one symbol or two neighbours typed
    the wrong way round changes it (but for 0 and Z, which differ by 31)."""
    total = sum((position + 1) * BADGE_ALPHABET.index(char)
                for position, char in enumerate(body))
    return BADGE_ALPHABET[total % 31]


def new_badge_code() -> str:
    body = "".join(secrets.choice(BADGE_ALPHABET) for _ in range(BADGE_CODE_RANDOM))
    return body + badge_check_symbol(body)


# A personal join link's token: 32 random bytes (256 bits), URL-safe base 64 (43
# characters), so the link itself is the key and cannot be guessed.
JOIN_TOKEN_BYTES = 32


def new_join_token() -> str:
    return secrets.token_urlsafe(JOIN_TOKEN_BYTES)

"""Personal API tokens and the per-token request counters of the API's rate limit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User


class ApiToken(db.Model):
    """A token a user made on their profile: it acts with its owner's roles and scope.
    Only the SHA-256 digest of its secret is kept; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret ("bh_a1b2c3"), so its owner recognises it.
    hint: Mapped[str] = mapped_column(String(16))
    read_only: Mapped[bool] = mapped_column(default=True)
    # The last day it works (UTC); None: until revoked.
    expires_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_expired(self, now: datetime) -> bool:
        return self.expires_on is not None and now.date() > self.expires_on

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)


class ApiRateWindow(db.Model):
    """How many API requests a token made in one fixed window (a minute): in the
    database, so every gunicorn worker counts the same requests."""

    __tablename__ = "api_rate_windows"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

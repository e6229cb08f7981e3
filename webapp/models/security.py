"""What one-time links and throttling remember."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class UsedToken(db.Model):
    """A one-time link that has been used: its digest, so the token itself is not kept."""

    __tablename__ = "used_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleHit(db.Model):
    """One failed attempt (a wrong password, a sign-up, a reset request) under a key such
    as "login:ip:203.0.113.9"; every worker counts the same rows."""

    __tablename__ = "throttle_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

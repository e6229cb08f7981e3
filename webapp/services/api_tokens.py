"""Personal API tokens: made on the profile, shown once, kept only as a digest; and the
per-token rate limit of the API.

A secret is "bh_" and 43 URL-safe characters (256 random bits): the prefix lets secret
scanners and people recognise it. Only its SHA-256 is stored; a high-entropy secret needs
no slow hash, and a digest lets the API find the token with one indexed look-up.

The rate limit counts requests per token in fixed windows of a minute, in Redis when
REDIS_URL is set, otherwise in the database (`api_rate_windows`, one row per token and
window, incremented atomically), so every gunicorn worker counts the same requests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiRateWindow, ApiToken, User, utcnow
from . import audit
from .errors import DomainError
from .jobs import connection

PREFIX = "bh_"
MAX_TOKENS = 20
WINDOW = timedelta(minutes=1)
# How exactly a token's last use is kept.
USE_PRECISION = timedelta(minutes=1)


class TokenRefused(DomainError):
    pass


class TokenNotAccepted(DomainError):
    """The API refuses the credentials: unknown, revoked or expired (all a 401)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def create(user: User, name: str, *, read_only: bool, expires_on: date | None = None,
           now: datetime | None = None) -> NewToken:
    """A new token of `user` (its name and last day as `inputs.accounts.ApiTokenIn` states
    them); audited."""
    now = now or utcnow()
    if len(usable_of(user, now)) >= MAX_TOKENS:
        raise TokenRefused("api_token.too_many", limit=MAX_TOKENS)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, digest=digest(secret), hint=secret[:9],
                     read_only=read_only, expires_on=expires_on, created_at=now)
    db.session.add(token)
    audit.record(user, "api_token.created", token, changes={
        "name": [None, token.name], "read_only": [None, read_only],
        "expires_on": [None, audit.plain(expires_on)]})
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """Every token of `user`, newest first, revoked and expired ones included."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def usable_of(user: User, now: datetime | None = None) -> list[ApiToken]:
    now = now or utcnow()
    return [t for t in tokens_of(user) if t.is_usable(now)]


def revoke(user: User, token_id: int, *, now: datetime | None = None) -> ApiToken:
    """Revoke one of `user`'s own tokens (another user's id is unknown)."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise TokenRefused("api_token.unknown")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit.record(user, "api_token.revoked", token,
                     changes={"revoked_at": [None, token.revoked_at.isoformat()]})
    return token


def authenticate(secret: str, *, now: datetime | None = None) -> ApiToken:
    """The usable token behind `secret`, with its active owner and their roles loaded;
    raises TokenNotAccepted. Reads only: `record_use` notes the use."""
    now = now or utcnow()
    if not secret.startswith(PREFIX) or len(secret) > 100:
        raise TokenNotAccepted("api_token.not_ours")
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.digest == digest(secret))
        .options(joinedload(ApiToken.user).joinedload(User.grants))).unique().one_or_none()
    if token is None:
        raise TokenNotAccepted("api_token.not_known")
    if token.revoked_at is not None:
        raise TokenNotAccepted("api_token.revoked")
    if token.is_expired(now):
        raise TokenNotAccepted("api_token.expired", last_day=token.expires_on.isoformat())
    if not token.user.is_active:
        raise TokenNotAccepted("api_token.account_closed")
    return token


def use_to_record(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Whether this use of `token` changes its `last_used_at`, kept to the minute: a
    client calling many times a minute does not write it on every call."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= USE_PRECISION


def record_use(token: ApiToken, *, now: datetime | None = None) -> None:
    """Note the use (the API does it with the request's count, in `unit.aside`)."""
    token.last_used_at = now or utcnow()


# --------------------------------------------------------------------------- the rate limit


def _window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def count_request(token: ApiToken, *, now: datetime | None = None) -> tuple[int, int]:
    """Count one request of `token`; returns (requests in this window, seconds until the
    window ends). Counted in the database, it must stand whatever the request does next:
    the caller runs it in `unit.aside("rate_limit")`."""
    now = now or utcnow()
    start = _window_start(now)
    retry_after = max(1, int((start + WINDOW - now).total_seconds() + 0.999))
    if current_app.config.get("REDIS_URL"):
        # By digest, not id: an id can come back (a rolled-back test, a restored database).
        key = f"beachhead:api-rate:{token.digest[:24]}:{int(start.timestamp())}"
        pipe = connection().pipeline()
        pipe.incr(key)
        pipe.expire(key, int(WINDOW.total_seconds()) + 5)
        count, _ = pipe.execute()
        return int(count), retry_after
    return count_in_database(token, now=now)


def count_in_database(token: ApiToken, *, now: datetime | None = None) -> tuple[int, int]:
    """`count_request` in the database: without Redis, and while Redis does not answer."""
    now = now or utcnow()
    start = _window_start(now)
    retry_after = max(1, int((start + WINDOW - now).total_seconds() + 0.999))
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ApiRateWindow).values(token_id=token.id, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ApiRateWindow.token_id, ApiRateWindow.window_start],
        set_={"count": ApiRateWindow.count + 1},
    ).returning(ApiRateWindow.count)
    count = db.session.execute(statement).scalar_one()
    if count == 1:
        # A new window: the earlier ones can never block again.
        db.session.execute(delete(ApiRateWindow).where(
            ApiRateWindow.token_id == token.id, ApiRateWindow.window_start < start))
    return count, retry_after


def rate_limit() -> int:
    return int(current_app.config["API_RATE_LIMIT"])

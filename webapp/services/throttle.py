"""Throttling of password guessing and of the forms that send mail.

Each attempt that counts (a failed sign-in, a sign-up, a reset request, ...) is a row in
`throttle_hits` under two keys: the account (the email as typed, whether or not an account
has it, so the answer never tells) and the client's IP address. Rows live in the database,
not in a worker's memory, so every gunicorn worker counts the same attempts.

`check` before doing anything (a read), `hit` for a counted attempt, `clear` an account
after a successful sign-in (in the sign-in's own write). A hit must stand even when the
request writes nothing or rolls back (a wrong password answers with the form again), so
the caller counts it in a transaction of its own, `unit.aside("throttle")`, before the
unit writes. Check and hit are not one atomic step: under concurrent requests a few
attempts past the limit can slip through, which is fine for slowing guessing down.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import ThrottleHit, normalize_email, utcnow
from .errors import DomainError


class Throttled(DomainError):
    """Too many attempts; `wait` says how long until the next one is allowed."""

    def __init__(self, wait: timedelta) -> None:
        self.wait = wait
        self.minutes = max(1, math.ceil(wait.total_seconds() / 60))
        # Deliberately the same words for every key: it must not tell whether the
        # account exists, nor whether the address or the account was the one counted.
        super().__init__("throttle.wait", num=self.minutes)


def keys(action: str, *, account: str | None = None, ip: str | None = None) -> list[str]:
    """The counters an attempt touches: "login:account:anna@example.org", "login:ip:..."."""
    result = []
    if account:
        result.append(f"{action}:account:{normalize_email(account)}")
    if ip:
        result.append(f"{action}:ip:{ip}")
    return result


def _limit() -> int:
    return current_app.config["THROTTLE_LIMIT"]


def _window() -> timedelta:
    return current_app.config["THROTTLE_WINDOW"]


def wait_for(key: str, now: datetime | None = None) -> timedelta | None:
    """How long `key` stays blocked, or None when another attempt is allowed."""
    now = now or utcnow()
    since = now - _window()
    limit = _limit()
    recent = (ThrottleHit.key == key, ThrottleHit.created_at > since)
    count = db.session.scalar(select(func.count()).select_from(ThrottleHit).where(*recent))
    if count < limit:
        return None
    # The key unblocks when enough of its hits age out to leave it under the limit: when
    # the (count - limit + 1)th oldest recent hit leaves the window.
    freeing_hit = db.session.scalar(
        select(ThrottleHit.created_at).where(*recent)
        .order_by(ThrottleHit.created_at).offset(count - limit).limit(1)
    )
    return freeing_hit + _window() - now


def check(action: str, *, account: str | None = None, ip: str | None = None) -> None:
    """Raise Throttled when the account or the address is over the limit for `action`."""
    now = utcnow()
    waits = [w for key in keys(action, account=account, ip=ip)
             if (w := wait_for(key, now)) is not None]
    if waits:
        raise Throttled(max(waits))


def hit(action: str, *, account: str | None = None, ip: str | None = None) -> None:
    """Count one attempt (the caller runs it in `unit.aside("throttle")`)."""
    now = utcnow()
    db.session.add_all(ThrottleHit(key=key, created_at=now)
                       for key in keys(action, account=account, ip=ip))
    # Old hits can never block again; dropping them here keeps the table small without
    # a scheduled job (the created_at index makes it cheap).
    db.session.execute(delete(ThrottleHit).where(ThrottleHit.created_at <= now - _window()))


def clear(action: str, *, account: str) -> None:
    """Forget the account's attempts (after it signed in); the address keeps its count,
    so one good password does not reset guessing across many accounts."""
    counted = keys(action, account=account)
    db.session.execute(delete(ThrottleHit).where(ThrottleHit.key.in_(counted)))

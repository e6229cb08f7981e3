"""Signed, expiring links (verification, password reset, ...) that work once.

A token is signed with the app's secret and a purpose (so a reset token cannot verify an
email); using it records its digest, so a second use is refused. Links only show a page
on GET; the token is consumed by the POST from that page, so mail scanners that prefetch
links cannot burn it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import UsedToken
from .errors import DomainError


class TokenInvalid(DomainError):
    pass


class TokenExpired(DomainError):
    pass


class TokenUsed(DomainError):
    pass


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"beachhead.{purpose}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def verify(purpose: str, token: str) -> Any:
    """The payload of a correctly signed token that neither expires nor is used up (a
    calendar feed link: revoked by changing what it signs, not by time)."""
    try:
        return _serializer(purpose).loads(token)
    except BadSignature:
        raise TokenInvalid("link.invalid") from None


def read(purpose: str, token: str, max_age: int) -> Any:
    """The payload of a valid, unexpired, unused token; raises otherwise."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenExpired("link.expired") from None
    except BadSignature:
        raise TokenInvalid("link.incomplete") from None
    if db.session.get(UsedToken, _digest(token)) is not None:
        raise TokenUsed("link.used")
    return payload


def consume(purpose: str, token: str, max_age: int) -> Any:
    """Read the token and mark it used, in the unit's write step (it commits together
    with whatever the token allows, so a failure leaves the link usable)."""
    payload = read(purpose, token, max_age)
    db.session.add(UsedToken(digest=_digest(token), purpose=purpose))
    db.session.flush()  # a concurrent second use fails here on the primary key
    return payload


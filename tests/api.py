"""Helpers for the API tests: tokens for factory users, and calls with them."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.services import api_tokens


def token_for(user, *, read_only: bool = False, **kw) -> str:
    secret = api_tokens.create(user, "test", read_only=read_only, **kw).secret
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def call(client):
    """`call(method, path, secret=None, **kw)`: an API request with the token."""

    def _call(method: str, path: str, secret: str | None = None, **kw):
        headers = dict(kw.pop("headers", {}))
        if secret:
            headers.update(bearer(secret))
        return client.open(path, method=method, headers=headers, **kw)

    return _call

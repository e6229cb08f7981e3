"""Helpers for the API tests: tokens for factory users, and calls with them."""

from __future__ import annotations

import pytest
from flask import request

from webapp.extensions import db
from webapp.problems import MIMETYPE
from webapp.services import api_tokens


def token_for(user, *, read_only: bool = False, **kw) -> str:
    secret = api_tokens.create(user, "test", read_only=read_only, **kw).secret
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def document_every_problem(app) -> None:
    """Under test, a problem an API operation answers that its document does not list,
    or whose body does not match the listed schema, fails the test that caused it."""

    @app.after_request
    def _documented(response):
        operation = getattr(app.view_functions.get(request.endpoint or ""), "operation", None)
        if operation is not None and response.mimetype == MIMETYPE:
            if response.status_code not in operation.problems:
                raise AssertionError(f"{operation.method} {operation.path} answered "
                                     f"{response.status_code}, not in its document")
            operation.problem_model(response.status_code).model_validate_json(
                response.get_data())
        return response


@pytest.fixture
def call(client):
    """`call(method, path, secret=None, **kw)`: an API request with the token."""

    def _call(method: str, path: str, secret: str | None = None, **kw):
        headers = dict(kw.pop("headers", {}))
        if secret:
            headers.update(bearer(secret))
        return client.open(path, method=method, headers=headers, **kw)

    return _call

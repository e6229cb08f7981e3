"""Errors of the API as RFC 9457 problem details (`application/problem+json`).

Every answer under /api/ that is a refusal is one, whoever refuses: the API's operations,
and the error pages and text rules of the whole application (`webapp.errors`,
`webapp.text`), which is why this module sits below all of them and imports nothing of
the application.

Every refusal carries `type` (a URN naming the kind of problem), `title` (the same for
every problem of that type), `status` and `detail` (what went wrong this time); validation
problems add `errors`, one per field, each with a JSON pointer into the request. Every
problem has `code` and `params`: a refusal of the domain (webapp/services/errors.py) names
its stable code and the values its message names, for a client to act on (its `detail`
is in the language Accept-Language asks for); other problems have null there.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response

MIMETYPE = "application/problem+json"
# The API's paths, its reference pages included: their errors are problems, not pages.
PREFIX = "/api/"

# A type per status of the plain HTTP problems; others name themselves (ApiProblem.kind).
KINDS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 406: "not-acceptable", 409: "conflict",
    413: "body-too-large", 415: "unsupported-media-type", 422: "validation-error",
    429: "rate-limited", 500: "server-error", 503: "unavailable",
}

DETAILS = {
    400: "The request could not be understood.",
    401: "Send a valid API token as `Authorization: Bearer <token>`.",
    403: "Your roles do not allow this.",
    404: "No such resource, or it is outside what you may see.",
    405: "This method is not allowed on this resource.",
    406: "This resource cannot be served in the format the Accept header asks for.",
    409: "The request conflicts with the resource's current state.",
    413: "The request body is larger than 64 KB.",
    415: "Send the request body as application/json.",
    422: "The request body does not match the schema.",
    429: "Too many requests for this token: wait for Retry-After seconds.",
    500: "Something went wrong on our side; nothing was changed.",
    503: "The service is temporarily unavailable: try again after Retry-After seconds.",
}


def is_api_request(path: str) -> bool:
    return path.startswith(PREFIX)


def type_uri(kind: str) -> str:
    return f"urn:beachhead:problem:{kind}"


class ApiProblem(Exception):
    """Raised by the API's views and their wrapper; turned into a problem response."""

    def __init__(self, status: int, detail: str | None = None, *, kind: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or DETAILS.get(status, ""))
        self.status = status
        self.detail = detail or DETAILS.get(status, HTTPStatus(status).phrase)
        self.kind = kind or KINDS.get(status, "problem")
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def refusing(cls, status: int, refusal: Any, *, kind: str | None = None,
                 **extra: Any) -> ApiProblem:
        """A domain error (its `code`, `params` and `message`) as a problem: the message,
        in the request's language, is the detail."""
        return cls(status, refusal.message, kind=kind, code=refusal.code,
                   params=refusal.params, **extra)

    def response(self) -> Response:
        return problem_response(self.status, self.detail, kind=self.kind,
                                headers=self.headers, **self.extra)


def problem_response(status: int, detail: str | None = None, *, kind: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = {
        "type": type_uri(kind or KINDS.get(status, "problem")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or DETAILS.get(status, HTTPStatus(status).phrase),
        "code": None,
        "params": None,
        **extra,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MIMETYPE)
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="beachhead"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unavailable_response(retry_after: str) -> Response:
    """503 while the database does not answer (webapp.errors.unavailable): the call's unit
    was rolled back, but a failure at its very commit cannot tell whether the server
    committed, so a client reads before it repeats a write."""
    return problem_response(
        503, "The service is temporarily unavailable: its database does not answer. Try "
             "again after Retry-After seconds; before repeating a write, read whether it "
             "was made.",
        kind="unavailable", headers={"Retry-After": retry_after})


def field_errors(errors: list[dict], *, prefix: str = "") -> list[dict[str, str]]:
    """pydantic's errors as {"pointer", "detail"}: "/reason", or "query/page"."""
    result = []
    for error in errors:
        location = "/".join(str(part) for part in error.get("loc", ()))
        result.append({"pointer": f"{prefix}/{location}" if location else prefix or "/",
                       "detail": error.get("msg", "invalid")})
    return result

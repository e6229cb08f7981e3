"""The REST API under /api/v1: a second face on the same services and the same access
policy as the pages (see registry.py for how an operation is declared), and its
reference at /api/docs.

Only `Authorization: Bearer <token>` authenticates an API call: every request starts
anonymous, whatever cookies it carries, so CSRF does not apply and the blueprint is
exempt from it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for

from ... import access
from .openapi import document
from .problems import problem_response
from .registry import anonymous_request, operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
bp.before_request(anonymous_request)

PREFIX = "/api/"


def is_api_request(path: str) -> bool:
    return path.startswith(PREFIX)


def error_response(status: int) -> Response:
    """Problem details for errors raised outside an operation (routing, 405, 413, 500)."""
    return problem_response(status)


def unavailable_response(retry_after: str) -> Response:
    """503 while the database does not answer (webapp.errors.unavailable): the call's unit
    was rolled back, but a failure at its very commit cannot tell whether the server
    committed, so a client reads before it repeats a write."""
    return problem_response(
        503, "The service is temporarily unavailable: its database does not answer. Try "
             "again after Retry-After seconds; before repeating a write, read whether it "
             "was made.",
        kind="unavailable", headers={"Retry-After": retry_after})


@operation("GET", "/openapi.json", bp=bp, public=True, tag="reference",
           summary="This document: OpenAPI 3.1")
def openapi() -> Response:
    response = current_app.json.response(document(url_for("api.openapi", _external=True)
                                                  .rsplit("/", 1)[0]))
    response.headers["Cache-Control"] = "no-cache"
    return response


@docs_bp.get("/docs")
@access.public
def reference():
    """Swagger UI on the document, under the site's own Content Security Policy: its
    bundle is served from static/ and sets styles through the DOM, which the policy
    allows (tests/browser/test_api_docs_journey.py watches for refusals)."""
    return render_template("api/docs.html")


from . import (  # noqa: E402,F401 - they declare the operations
    applying,
    checkin,
    delegation,
    events,
    me,
    registrations,
)

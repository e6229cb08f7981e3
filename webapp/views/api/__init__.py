"""The REST API under /api/v1: a second face on the same services and the same access
policy as the pages (see registry.py for how an operation is declared), and its
reference at /api/docs.

Only `Authorization: Bearer <token>` authenticates an API call: every request starts
anonymous, whatever cookies it carries, so CSRF does not apply and the blueprint is
exempt from it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_openapi3 import APISpec, Components, Info, SecurityScheme, Server

from ... import access
from .registry import anonymous_request, bp, operation, parameters_refused  # noqa: F401

URL_PREFIX = "/api/v1"
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
bp.before_request(anonymous_request)

INFO = Info(title="Beachhead API", version="1.0.0", description=(
    "The partners' API: events, your registrations and, for partner managers, organizers "
    "and hosts, the applications in your scope, exactly as the desk shows them; an event's "
    "matchmaking: its marketplace, your profile and opportunities, and meeting requests. "
    "Authenticate with a personal token from your profile page (`Authorization: Bearer "
    "bh_...`); a token acts with your roles. Errors are RFC 9457 problem details; a refusal "
    "of the domain adds its stable `code` (and `params`), and its `detail` is in the "
    "language Accept-Language asks for. Times are ISO 8601 with their offset."))


@operation("GET", "/openapi.json", public=True, tag="reference",
           summary="This document: OpenAPI 3.1")
def openapi() -> Response:
    # The framework's paths and components, under the API's own server and security.
    server = url_for("api.openapi", _external=True).rsplit("/", 1)[0]
    spec = APISpec(
        openapi="3.1.0", info=INFO, servers=[Server(url=server)], paths=bp.paths,
        security=[{"bearer": []}],
        components=Components(schemas=bp.components_schemas, securitySchemes={
            "bearer": SecurityScheme(type="http", scheme="bearer",
                                     bearerFormat="bh_<43 characters>")}))
    response = current_app.json.response(
        spec.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False))
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
    matchmaking,
    me,
    registrations,
)

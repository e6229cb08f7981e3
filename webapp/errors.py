"""Friendly error pages (and JSON for clients that ask for it).

When the database does not answer (webapp/database_limits.py: refused, dropped, timed out,
locked), every page answers 503 "temporarily unavailable" with Retry-After, and the API
its problem+json 503: the unit rolls back first, and the page is rendered from a layout
that reads nothing from the database, with no signed-in user loaded (auth_session), so
the answer comes as fast as the failure did.
"""

from __future__ import annotations

import logging

from flask import (
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from . import database_limits, problems, unit
from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have permission to open this page."),
    404: lambda: _("We could not find that page. It may have moved, or you may not have access."),
    405: lambda: _("That action is not available here."),
    410: lambda: _("This is no longer available."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. The team has been told; please try again."),
}


def render_error(code: int, message: str | None = None):
    if problems.is_api_request(request.path):
        return problems.problem_response(code)
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if request.accept_mimetypes.best == "application/json":
        return {"status": code, "detail": message}, code
    try:
        # The layout reads the signed-in user, who may live in a database that just failed.
        return render_template("errors/error.html", code=code, message=message), code
    except Exception as error:
        if database_limits.is_unavailable(error):
            return unavailable(error)
        raise


def unavailable(error: BaseException) -> Response:
    """The database does not answer: roll the unit back and say so, at once, without
    asking the database anything more."""
    log.warning("%s %s: the database does not answer (%s: %s); answered 503",
                request.method, request.path, type(error).__name__, error)
    _roll_back()
    database_limits.mark_unavailable()
    retry_after = str(current_app.config["UNAVAILABLE_RETRY_AFTER"])
    if problems.is_api_request(request.path):
        return problems.unavailable_response(retry_after)
    message = _("The service is temporarily unavailable. Please try again in a minute.")
    if request.blueprint == "health":
        response = make_response({"status": "unavailable"}, 503)
    elif request.accept_mimetypes.best == "application/json":
        response = make_response({"status": 503, "detail": message}, 503)
    else:
        # A page is tried again where it was; a form's answer is not sent twice by a link.
        retry_url = (request.full_path.rstrip("?") if request.method == "GET"
                     else url_for("public.index"))
        response = make_response(render_template("errors/unavailable.html", message=message,
                                                 retry_url=retry_url), 503)
    response.headers["Retry-After"] = retry_after
    response.headers["Cache-Control"] = "no-store"
    return response


def _roll_back() -> None:
    """Nothing of the unit stays. A connection the failure left unusable is dropped
    rather than asked to roll back (the server rolls back what it never saw committed)."""
    try:
        unit.abandon()
    except Exception:
        db.session.invalidate()
        unit.abandon()


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _(
            "Your form expired or was sent from elsewhere. Please reload the page and try again."
        ))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        # A description given where the error was raised names what is wrong (webapp.ids).
        return render_error(error.code, vars(error).get("description"))

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)
    @app.errorhandler(sa_exc.DisconnectionError)
    def database_unavailable(error: Exception):
        return unavailable(error)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        # A failure outside the view (the unit's commit, an after_request hook) arrives
        # here wrapped.
        if database_limits.is_unavailable(error.original_exception):
            return unavailable(error.original_exception)
        unit.abandon()
        return render_error(500)

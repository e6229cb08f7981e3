"""Friendly error pages (and JSON for clients that ask for it)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import unit

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
    from .views import api

    if api.is_api_request(request.path):
        return api.error_response(code)
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if request.accept_mimetypes.best == "application/json":
        return {"status": code, "detail": message}, code
    return render_template("errors/error.html", code=code, message=message), code


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
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        unit.abandon()
        return render_error(500)

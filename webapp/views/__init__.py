"""Thin blueprints: a view parses, asks `access`, calls one service, renders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response

from .. import unit

# Not `calendar`: this package's own `calendar` is the blueprint module.
from ..services import calendar as calendar_files

if TYPE_CHECKING:
    from flask_wtf import FlaskForm

    from ..services.fields import Refused


def private_download(body: bytes | str, mimetype: str, filename: str) -> Response:
    """A file to save (`filename`) that holds personal data: never kept by a shared proxy
    or the browser cache."""
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


def show_refusal(form: FlaskForm, refusal: Refused) -> None:
    """A service's refusal on its form, nothing written: each message beside its field,
    the others above the form."""
    unit.discard()
    for field, message in refusal.errors.items():
        if field and field in form:
            form[field].errors = [*form[field].errors, message]
        else:
            form.form_errors.append(message)


def ics_download(cal, filename: str, *, cache: str = "no-cache") -> Response:
    """An iCalendar file to save or open. Built on request and changed with the event, so
    a client must revalidate (`cache`)."""
    response = Response(calendar_files.to_bytes(cal), mimetype="text/calendar")
    response.mimetype_params["charset"] = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    return response


"""Thin blueprints: a view parses, asks `access`, calls one service, renders."""

from __future__ import annotations

from flask import Response


def private_download(body: bytes | str, mimetype: str, filename: str) -> Response:
    """A file to save (`filename`) that holds personal data: never kept by a shared proxy
    or the browser cache."""
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })

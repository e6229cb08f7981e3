"""Static files under addresses that change with their content, kept by browsers for a year.

Every `url_for("static", filename=...)` gets `?v=` and a digest of the file's bytes; a
request that names the digest the file has now is answered with a year's `max-age`, so a
page costs the browser no request for its stylesheets, scripts and images once it has
them. A new release changes the digest of what changed, and with it the address, so
nobody is served a stale file. A request without the digest, or with another one (a page
kept from before a release), is answered as before: to be revalidated on every use.

A static file is the same for everyone, so its answer neither varies with nor touches the
session: otherwise it would say `Vary: Cookie`, and a session cookie that changes from one
request to the next would make the browser fetch the file again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from functools import lru_cache
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

# A year: what browsers and shared caches keep at most in practice.
MAX_AGE = 365 * 24 * 60 * 60
DIGEST_LENGTH = 12


def digest(static_folder: str, filename: str) -> str | None:
    """The digest of the static file `filename` as it is now (None: there is no such
    file). Keyed by the file's size and modification time, so a file changed while the
    app runs (in development) gets a new one."""
    path = safe_join(static_folder, filename)
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _digest_of(path, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=1024)
def _digest_of(path: str, _mtime_ns: int, _size: int) -> str:
    with open(path, "rb") as content:
        return hashlib.sha256(content.read()).hexdigest()[:DIGEST_LENGTH]


def max_age(app: Flask, filename: str) -> int | None:
    """A year for a request that names the file's digest; None (revalidate) otherwise."""
    asked = request.args.get("v")
    if asked and app.static_folder and asked == digest(app.static_folder, filename):
        return MAX_AGE
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, left alone by requests for static files."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()

    @app.url_defaults
    def _add_digest(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or not app.static_folder:
            return
        found = digest(app.static_folder, values.get("filename", ""))
        if found:
            values["v"] = found

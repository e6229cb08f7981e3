"""The demo site the bench scripts measure: the app on a throwaway SQLite file with the demo data.

The scripts run as files (`.venv/bin/python bench/pages.py`), so the project root is put on
the import path here, before anything imports `webapp`.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import downgrade, upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def migrated_app(url: str | None = None, *, fill: Callable[[], object] | None = None,
                 take_down: bool = False, **overrides) -> Iterator[Flask]:
    """A fresh app, its schema built by the migrations and `fill()` (the demo, say)
    committed; no app context is left pushed, so each request gets its own context and
    database session, as in production. On a throwaway SQLite file, or on the empty
    database at `url` (its schema taken down again afterwards with `take_down`). Pages
    are rendered for every request (`KEEP_USER_PAGES` off): the in-process benches
    measure rendering; throughput.py measures pages as users meet them, kept included."""
    overrides.setdefault("KEEP_USER_PAGES", False)

    with tempfile.TemporaryDirectory(prefix="beachhead-bench-") as folder:
        app = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=url or f"sqlite:///{folder}/bench.db",
            **overrides
        )
        with app.app_context():
            upgrade()
            if fill is not None:
                fill()
                db.session.commit()
            db.session.remove()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                if url and take_down:
                    downgrade(revision="base")
                db.engine.dispose()


@contextmanager
def demo_app(url: str | None = None, **overrides) -> Iterator[Flask]:
    """`migrated_app` with the demo data (on `url`, the database is left as it is)."""
    from webapp import demo

    with migrated_app(url, fill=demo.load, **overrides) as app:
        yield app


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

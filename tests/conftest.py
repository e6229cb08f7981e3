"""Fixtures: one app per run, one rolled-back transaction per test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
Tests that need PostgreSQL, Redis or a browser carry the `postgres`, `redis` or
`browser` marker; `.ci/run` selects them where those run (see the Makefile).
"""

from __future__ import annotations

import contextvars
import os
import re
from contextlib import contextmanager

# The scheduler's solver loads pandas, whose first import crashes the interpreter under
# freezegun's patched clock: loaded here, before any test freezes it.
import ortools.sat.python.cp_model  # noqa: F401
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.backends import BACKENDS
from tests.factories import Factory
from webapp import create_app
from webapp.extensions import db as _db

# Fixtures for online events (webinar, member, seat, ...) and API calls, for every module.
pytest_plugins = ["tests.webinars", "tests.api"]


def pytest_collection_modifyitems(config, items):
    """A test marked `sqlite` runs in the SQLite run only, and tests that need PostgreSQL
    or Redis in the other run only: one marked both would run in neither."""
    both = [item.nodeid for item in items if item.get_closest_marker("sqlite") and (
        item.get_closest_marker("postgres") or item.get_closest_marker("redis"))]
    if both:
        raise pytest.UsageError(f"marked sqlite and postgres or redis, so run nowhere: {both}")


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    """A test marked `postgres` or `redis` fails, never skips, when its server is missing:
    the Makefile decides which runs select them."""
    on_postgres = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
    if request.node.get_closest_marker("postgres") and not on_postgres:
        pytest.fail("needs TEST_DATABASE_URL=postgresql+psycopg://... (or -m 'not postgres')")
    if request.node.get_closest_marker("redis"):
        import redis

        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as error:
            pytest.fail(f"needs Redis at {url}: {error}")


@pytest.fixture(autouse=True)
def _downloads_built_in_the_test_session(request, monkeypatch):
    """A download asked for by a test's request is built right after that request's
    commit, in the test's own session: the test's data is never committed, so a thread
    of its own would not see it (tests/test_downloads.py runs the real thread and the
    RQ worker on committed apps)."""
    if "db" not in request.fixturenames:
        return
    from webapp.services import downloads, jobs

    monkeypatch.setattr(downloads, "start",
                        lambda download_id: jobs.enqueue(downloads.build, download_id))


class _UnitLedger:
    """Counts, per unit of work, the transactions that flushed changes (its aside
    transactions apart); a unit with more than one broke the one-owner rule."""

    def __init__(self) -> None:
        self.offenders: list[str] = []

    def after_flush(self, session: Session, flush_context) -> None:
        unit = session.info.get("unit")
        if unit is not None and not unit.ended and not unit.aside:
            session.info["ledger_flushed"] = True

    def after_transaction_end(self, session: Session, transaction) -> None:
        if transaction.parent is not None or not session.info.pop("ledger_flushed", False):
            return
        unit = session.info.get("unit")
        unit.ledger_writes = getattr(unit, "ledger_writes", 0) + 1
        if unit.ledger_writes == 2:
            self.offenders.append(unit.name)


_ledger = _UnitLedger()
sa_event.listen(Session, "after_flush", _ledger.after_flush)
sa_event.listen(Session, "after_transaction_end", _ledger.after_transaction_end)


@pytest.fixture(autouse=True)
def _one_write_transaction_per_unit():
    """Across the whole suite: every request, command and job that writes does so in one
    transaction, committed or rolled back once."""
    seen = len(_ledger.offenders)
    yield
    offenders = _ledger.offenders[seen:]
    if offenders:
        pytest.fail(f"units that wrote in more than one transaction: {offenders}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    default = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    return os.environ.get("TEST_DATABASE_URL") or default


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        _reset_schema()
        upgrade()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty database, whatever an earlier run left."""
    engine = _db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            _db.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


class _ConnectionBoundSession(Session):
    """Flask-SQLAlchemy's session picks its engine itself and would bypass the test's
    connection; the plain SQLAlchemy session uses the bind it was given."""

    def __init__(self, db=None, **options):
        super().__init__(**options)


@contextmanager
def bound_session(app, connection, *, keep: bool = False):
    """The app's session bound to `connection`, in a transaction of its own (a savepoint
    where the connection is in one already) that is rolled back at the end, or kept
    (`keep`): what the test and its requests write, they write there. Pages kept for
    visitors and users are forgotten: they belong to the data of the test that rendered
    them."""
    with app.app_context():
        transaction = (connection.begin_nested() if connection.in_transaction()
                       else connection.begin())
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint",
             "class_": _ConnectionBoundSession}
        )
        app.extensions["public_pages"].clear()
        app.extensions["user_pages"].clear()
        try:
            yield _db
            if keep:
                _db.session.commit()
        finally:
            _db.session.remove()
            _db.session = original
            if transaction.is_active:
                (transaction.commit if keep else transaction.rollback)()


@pytest.fixture
def db(app):
    """The test's database session: everything it and its requests write is rolled back."""
    with app.app_context():
        connection = _db.engine.connect()
        try:
            with bound_session(app, connection) as bound:
                yield bound
        finally:
            connection.close()


@pytest.fixture
def open_app(request, tmp_path, database_url):
    """`open_app(backend, **config)`: an app whose sessions commit for real (tests.live),
    context pushed: a fresh SQLite file, or the session's PostgreSQL database (its rows
    deleted at the end of the test). For races through real connections."""
    from tests.live import committed_app

    opened = []

    def _open(backend: str, **config):
        if backend == "postgres":
            request.getfixturevalue("app")  # the session's app has migrated the database
            url = database_url
        else:
            url = f"sqlite:///{tmp_path}/committed-{len(opened)}.db"
        context = committed_app(url, **config)
        app = context.__enter__()
        opened.append(context)
        return app

    yield _open
    for context in reversed(opened):
        context.__exit__(None, None, None)


@pytest.fixture(params=BACKENDS)
def two_workers(request, open_app):
    """Two apps on one database, committing for real, each with its own kept pages and
    its own connections: two worker processes (SQLite, and PostgreSQL where marked)."""
    first = open_app(request.param)
    second = create_app("testing", SQLALCHEMY_DATABASE_URI=str(
        first.config["SQLALCHEMY_DATABASE_URI"]))
    first.test_client_class = second.test_client_class = IsolatedClient
    yield first, second
    with second.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def frozen(request):
    """The clock frozen at the test module's NOW (a module may define its own)."""
    from freezegun import freeze_time

    with freeze_time(request.module.NOW) as clock:
        yield clock


@pytest.fixture
def on_rq(open_app):
    """A committed app (SQLite file) whose jobs go to Redis (TEST_REDIS_URL); the queue
    emptied around."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    app = open_app("sqlite", REDIS_URL=url)
    app.test_client_class = IsolatedClient
    redis.Redis.from_url(url).flushdb()
    yield app
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def make(db) -> Factory:
    return Factory()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, `g`,
    signed-in user and database session, even though the test holds an app context."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def session_transaction(self, *args, **kwargs):
        return _ContextRunner(super().session_transaction(*args, **kwargs))


class _ContextRunner:
    def __init__(self, cm):
        self._cm = cm
        self._ctx = contextvars.Context()

    def __enter__(self):
        return self._ctx.run(self._cm.__enter__)

    def __exit__(self, *exc):
        return self._ctx.run(self._cm.__exit__, *exc)


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


def login(client: FlaskClient, user) -> None:
    """Sign in by session cookie, for tests where signing in is not what is tested."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def login_as(client):
    def _login(user):
        login(client, user)
        return client

    return _login


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


class _Mailbox:
    """What the loopback SMTP server received, as parsed email messages."""

    # Recipients at this address are refused (550), as a server refuses an unknown mailbox.
    REFUSED = "refused@example.org"

    def __init__(self) -> None:
        self.messages: list = []
        self.connections: list = []  # the client's address of each message's connection

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() == self.REFUSED:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        self.connections.append(session.peer)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def mailbox(app, monkeypatch):
    """A real SMTP server on 127.0.0.1; the app sends its mail there during the test."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    try:
        yield box
    finally:
        controller.stop()


def download_pdf(client, user, url) -> bytes:
    """`url`'s PDF as `user` downloads it: an attachment with a plain file name, never
    cached on the way."""
    login(client, user)
    return private_pdf(client.get(url))


def private_pdf(response) -> bytes:
    """The PDF `response` carries, checked to be an attachment with a plain file name,
    never cached on the way."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="[\w.-]+\.pdf"', disposition), disposition
    assert response.headers["Cache-Control"] == "no-store"
    return response.data


@pytest.fixture
def rendering(app, monkeypatch):
    """Every page rendered for its request, none served as kept for its user: for the
    tests that count a page's statements as its rows grow (tests/test_kept_user_pages.py
    tests the kept answers)."""
    monkeypatch.setitem(app.config, "KEEP_USER_PAGES", False)


@contextmanager
def count_queries():
    """The SQL statements run inside the block (savepoints aside), on any engine (the
    app's, and the one a kept page's key is read through on PostgreSQL), to assert that a
    page's query count does not grow with its rows."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    sa_event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(Engine, "before_cursor_execute", record)


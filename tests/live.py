"""Races through real connections: committed data, a live HTTP server on 127.0.0.1, and
members who apply through it at the same moment.

Used by tests/test_races.py and by bench/race.py, so the benchmark measures exactly the
race the tests prove.
"""

from __future__ import annotations

import http.client
import logging
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from flask import Flask
from flask_login import login_user
from flask_migrate import upgrade
from sqlalchemy import func, select, tuple_

from tests.factories import Factory
from webapp import create_app
from webapp.extensions import csrf, db
from webapp.models import EventKind, Registration, User
from webapp.models import RegistrationStatus as S

LOCKED = "database is locked"


# -- committed data ------------------------------------------------------------------------

def _row_keys() -> dict[str, set[tuple]]:
    """The primary keys of every row that exists now, table by table."""
    keys = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = list(table.primary_key.columns)
            keys[table.name] = {tuple(row) for row in conn.execute(select(*columns))}
    return keys


def _delete_rows_since(before: dict[str, set[tuple]]) -> None:
    """Delete the rows that were not there in `before`, children first."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            columns = list(table.primary_key.columns)
            new = {tuple(row) for row in conn.execute(select(*columns))} - before[table.name]
            for chunk in _chunks(sorted(new), 500):
                conn.execute(table.delete().where(tuple_(*columns).in_(chunk)))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@contextmanager
def committed_app(url: str, *, migrate: bool | None = None, **overrides) -> Iterator[Flask]:
    """An app whose sessions commit for real, with its app context pushed.

    SQLite: `url` names a fresh file, migrated here. PostgreSQL: `url` is a database that
    is migrated already (or here, with `migrate`); the rows made meanwhile are deleted
    afterwards, nothing else."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **overrides)
    with app.app_context():
        if url.startswith("sqlite") if migrate is None else migrate:
            upgrade()
        before = _row_keys()
        try:
            yield app
        finally:
            db.session.remove()
            if not url.startswith("sqlite"):
                _delete_rows_since(before)
            db.engine.dispose()


def without_capacity_lock(monkeypatch) -> None:
    """Take the capacity lock away, to show the race it prevents: no row lock on the event
    (PostgreSQL), deferred transactions rather than BEGIN IMMEDIATE (SQLite)."""
    from webapp import unit
    from webapp.models import Event
    from webapp.services import events, locking, registrations

    def unlocked(event_id: int) -> Event:
        return db.session.execute(select(Event).where(Event.id == event_id)
                                  .execution_options(populate_existing=True)).scalar_one()

    def lock_nothing(event_id: int) -> Event:
        unit.write_step()
        return unlocked(event_id)

    for module in (locking, registrations, events):
        monkeypatch.setattr(module, "lock_event", lock_nothing)
    monkeypatch.setattr(registrations, "_lock_more", unlocked)
    monkeypatch.setattr(unit, "_takes_write_lock", lambda session: False)


def after_seat_count(monkeypatch, hook) -> None:
    """Run `hook(event, registration)` each time a decision has counted the seats and
    before it writes: where the race tests hold a decider, or widen the window."""
    from webapp.services import registrations

    counted = registrations.seat_problem

    def counting(event, reg):
        problem = counted(event, reg)
        hook(event, reg)
        return problem

    monkeypatch.setattr(registrations, "seat_problem", counting)


def counts(event_id: int) -> dict[S, int]:
    """Registrations of the event by status, read afresh (in a new transaction: on SQLite
    an open read transaction would go on showing its old snapshot)."""
    db.session.commit()
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    return {status: n for status, n in rows}


@dataclass(frozen=True)
class Webinar:
    event_id: int
    slug: str
    user_ids: list[int]
    emails: list[str]


def instant_webinar(seats: int, applicants: int) -> Webinar:
    """A published webinar that confirms at once, with `seats` seats, and `applicants`
    verified members (each of their own company in one cluster) who have not applied yet."""
    make = Factory()
    cluster = make.partner()
    event = make.event(
        organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
        capacity=seats, starts_in=timedelta(days=30), duration=timedelta(hours=2),
    )
    users = [make.user(make.organization(cluster)) for _ in range(applicants)]
    db.session.commit()
    return Webinar(event.id, event.slug, [u.id for u in users], [u.email for u in users])


# -- the server ----------------------------------------------------------------------------

def add_race_routes(app: Flask) -> None:
    """Test-only routes: sign a member in by id (the race is not about passwords), and a
    bare route to compare with."""

    @app.post("/race/sign-in/<int:user_id>")
    @csrf.exempt
    def race_sign_in(user_id: int):
        login_user(db.session.get(User, user_id))
        return "signed in"

    @app.post("/race/bare")
    @csrf.exempt
    def race_bare():
        return "ok"


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` with werkzeug's threaded server on a free port of 127.0.0.1."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Hundreds of clients connect at the same instant: the default backlog (128) would make
    # the kernel drop SYNs and the clients retry a second later.
    server.socket.listen(1024)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with the traceback, if there is one


@contextmanager
def recorded_logs() -> Iterator[list[str]]:
    """Warnings and errors logged meanwhile (werkzeug's request lines are left out)."""
    recorder = _Recorder()
    root, werkzeug = logging.getLogger(), logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    root.addHandler(recorder)
    try:
        yield recorder.lines
    finally:
        root.removeHandler(recorder)
        werkzeug.setLevel(level)


# -- mail ----------------------------------------------------------------------------------

class _Sink:
    """Counts what an SMTP server on loopback received, by recipient."""

    def __init__(self) -> None:
        self.received: dict[str, int] = {}
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self._lock:
            for address in envelope.rcpt_tos:
                self.received[address.lower()] = self.received.get(address.lower(), 0) + 1
        return "250 OK"


@contextmanager
def loopback_smtp(handler) -> Iterator[int]:
    """A real SMTP server on a free port of 127.0.0.1 that hands what it receives to
    `handler` (an aiosmtpd handler); yields the port."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def smtp_server(app: Flask) -> Iterator[dict[str, int]]:
    """A real SMTP server on 127.0.0.1 for `app`'s mail; yields the messages per recipient."""
    sink = _Sink()
    with loopback_smtp(sink) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False,
                          MAIL_USE_SSL=False, MAIL_USERNAME=None)
        yield sink.received


# -- the members ---------------------------------------------------------------------------

class _FormReader(HTMLParser):
    """The fields a browser would submit, as they stand, from the page's form that posts to
    `action`."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.fields: list[tuple[str, str]] = []
        self._state = "before"  # before, in, after the form
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and self._state == "before" and a.get("action") == self.action:
            self._state = "in"
        if self._state != "in" or "disabled" in a:
            return
        name = a.get("name")
        kind = a.get("type", "text").lower()
        if tag == "input" and name and kind not in ("submit", "button", "file", "image"):
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._state == "in":
            self._state = "after"
        elif tag == "textarea" and self._textarea is not None:
            name, value = self.fields[-1]
            # Browsers drop the one line break that may follow <textarea>.
            self.fields[-1] = (name, value.removeprefix("\r\n") if value.startswith("\r\n")
                               else value.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


@dataclass
class Response:
    status: int
    body: str
    seconds: float = 0.0


class Member:
    """One member's browser: a cookie jar and a fresh connection per request."""

    def __init__(self, base_url: str, user_id: int) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.user_id = user_id
        self.cookies: dict[str, str] = {}
        self.form: list[tuple[str, str]] = []

    def request(self, method: str, path: str, form: dict | list | None = None) -> Response:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            text = reply.read().decode("utf-8", "replace")
            for header in reply.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Response(reply.status, text)
        finally:
            conn.close()

    def sign_in(self) -> None:
        reply = self.request("POST", f"/race/sign-in/{self.user_id}", {})
        assert reply.status == 200, reply.body

    def open_application(self, webinar: Webinar) -> None:
        """What a member does before pressing the button: open the applying page and tick
        the profile consent (the company profile and everything else stay as they are)."""
        page = f"/events/{webinar.slug}/apply"
        reply = self.request("GET", page)
        assert reply.status == 200, reply.body[:500]
        fields = [(k, v) for k, v in form_fields(reply.body, page) if k != "profile_consent"]
        assert "csrf_token" in dict(fields), "no form with a CSRF token on the page"
        self.form = [*fields, ("profile_consent", "y")]

    def apply(self, webinar: Webinar) -> Response:
        return self.request("POST", f"/events/{webinar.slug}/apply", self.form)


@dataclass
class Race:
    responses: list[Response] = field(default_factory=list)
    seconds: float = 0.0  # from the release to the last response

    @property
    def per_second(self) -> float:
        return len(self.responses) / self.seconds

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(r.seconds for r in self.responses) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles([r.seconds for r in self.responses], n=20)[18] * 1000

    def server_errors(self) -> list[Response]:
        return [r for r in self.responses if r.status >= 500]


def at_once(members: list[Member], act) -> Race:
    """Run `act(member)` in one thread per member, all released by one barrier."""
    race = Race(responses=[None] * len(members))
    barrier = threading.Barrier(len(members) + 1)
    failures: list[BaseException] = []

    def run(index: int, member: Member) -> None:
        try:
            barrier.wait(timeout=60)
            start = time.perf_counter()
            response = act(member)
            response.seconds = time.perf_counter() - start
            race.responses[index] = response
        except BaseException as error:  # reported by the caller, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, m), name=f"member-{m.user_id}")
               for i, m in enumerate(members)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=120)
    race.seconds = time.perf_counter() - start
    if failures:
        raise failures[0]
    return race


def members_of(base_url: str, webinar: Webinar) -> list[Member]:
    """Signed-in members with the applying form open, ready to press the button."""
    members = [Member(base_url, user_id) for user_id in webinar.user_ids]
    for member in members:
        member.sign_in()
        member.open_application(webinar)
    return members


def apply_race(base_url: str, webinar: Webinar, *, sector: str | None = None) -> Race:
    """Every member of `webinar` applies at the same moment through the live server's
    applying page; with `sector`, each also corrects their company's sector there."""
    members = members_of(base_url, webinar)
    if sector is not None:
        for member in members:
            assert "org_sector" in dict(member.form), "the form offers no profile to correct"
            member.form = [(k, sector if k == "org_sector" else v) for k, v in member.form]
    return at_once(members, lambda member: member.apply(webinar))


def bare_race(base_url: str, webinar: Webinar) -> Race:
    """The same clients, the same moment, against a route that does nothing."""
    members = [Member(base_url, user_id) for user_id in webinar.user_ids]
    return at_once(members, lambda member: member.request("POST", "/race/bare", {}))


def in_threads(app: Flask, jobs: list, *, together: bool = True) -> list:
    """Run each job in its own thread with its own app context and database session;
    return what each returned or raised. `together`: all released by one barrier."""
    results: list = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(index: int, job) -> None:
        with app.app_context():
            try:
                if together:
                    barrier.wait(timeout=30)
                results[index] = job()
            except Exception as error:
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return results


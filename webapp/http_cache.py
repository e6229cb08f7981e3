"""HTTP caching: the public pages a visitor reads, rendered once per data version and
revalidated with an ETag; every other page with a session or a CSRF token kept out of
every cache.

What a visitor's public page shows (the home page, the catalogue, an event's page) comes
from the events, their agenda, their questions, their organizing and hosting partners, and
the clock. `content_version` reads, in one query over the events, a version of all of it
(and keeps it on the database connection until the database reports a commit: SQLite's
data version, PostgreSQL's snapshot):

- how many events there are and the sum of their `updated_at` (in microseconds): any
  insert, delete or update of an event changes it, whichever order concurrent writers
  commit in (a maximum would miss the earlier-stamped of two commits);
- the next instant at which the clock changes a page: an event ending, its registration
  opening or closing. Until then the same data renders the same page.

Changes to what belongs to an event (agenda sessions, questions, organizers and hosts, a
partner's name or place) stamp the event's `updated_at` in the same flush
(`_stamp_events`), so they change the version too.

Each worker process keeps its own rendered pages (`PageCache`, one per app), keyed by the
path and query, the language, the viewer's zone and that version. Every request reads
the version first, in its own transaction, so a commit on any worker or server is seen by
the next request everywhere: a page is never served from before a commit it could show.
Only visitors' pages are kept: not signed in, no message waiting in the session, no CSRF
token rendered, no cookie set.

A signed-in user's list pages (the desk, My registrations, the delegation list, the
admin lists) and the API's lists are kept too, per user (`kept_for_user`), but only while
the database holds exactly what they were rendered from: their key is the database's
state as the request reads it (`database_state`: the same marker, which changes with any
commit anywhere, on any table), the user and their session, the URL, the language and the
events' clock, and a kept page lives at most USER_PAGE_SECONDS for the clocks that are
not the events'. The access check runs on every request before a kept page is looked
up; a page that wrote, queued work, set a cookie, changed the session or issued a
one-time token (`not_kept`) is not kept.

Headers (`init_app`): a kept page says `Cache-Control: no-cache` with its ETag (a browser
or proxy may keep it and asks again with If-None-Match: 304 while unchanged); a page for
a signed-in user, or one that carries a CSRF token, says `private, no-store` and never
answers 304.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial, wraps
from itertools import chain
from typing import TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import (
    BigInteger,
    bindparam,
    case,
    cast,
    create_engine,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import database_limits
from .extensions import db, login_manager
from .models import (
    Event,
    EventSession,
    EventText,
    Partner,
    Question,
    SessionText,
    event_hosts,
    event_organizers,
    utcnow,
)
from .models.types import UTCDateTime

T = TypeVar("T")
# Rendered pages kept per worker: a few hundred pages of 20-60 kB each.
MAX_PAGES = 500
# How long a signed-in user's page may be kept while nothing is committed: a bound for
# the clocks a page may show besides the events' (a download's expiry, a token's).
USER_PAGE_SECONDS = 60
PUBLIC_CACHE_CONTROL = "no-cache"
PRIVATE_CACHE_CONTROL = "private, no-store"
# What a visitor's page depends on besides its URL (the language comes from the browser
# once the app speaks more than one); the cookie says whether they are signed in.
PUBLIC_VARY = ("Cookie", "Accept-Language")
# Microseconds within which the per-row stamps are summed: exact integers on both
# databases (1e12 us is about 11.6 days; no sum of a million rows can overflow).
_STAMP_MODULUS = 10**12
# The partner columns an event's pages show.
_SHOWN_PARTNER_COLUMNS = ("name", "short_name", "city", "country")


def _stamp_micros(dialect: str):
    """An event's `updated_at` as whole microseconds (modulo `_STAMP_MODULUS`)."""
    if dialect == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff": the seconds, then the six digits.
        column = Event.__table__.c.updated_at
        micros = (cast(func.strftime("%s", column), BigInteger) * 1_000_000
                  + cast(func.substr(column, 21, 6), BigInteger))
    else:
        micros = cast(func.extract("epoch", Event.__table__.c.updated_at) * 1_000_000,
                      BigInteger)
    return micros % literal_column(str(_STAMP_MODULUS))


@dataclass(frozen=True)
class Version:
    """What the public pages are rendered from, as of one read."""

    data: tuple
    # The next instant the clock changes a page (None: no event time is ahead).
    next_change: datetime | None


_UNREAD = object()


def content_version(now: datetime, marker=_UNREAD, connection=None) -> Version:
    """The public pages' version at `now`: one query over the events, or none when the
    database says nothing was committed since this connection last read it (`marker`:
    `_unchanged_marker` of the connection, when the caller read it; `connection`: the
    session's unless given)."""
    connection = connection or db.session.connection()
    if marker is _UNREAD:
        marker = _unchanged_marker(connection)
    kept = connection.connection.info.get(_VERSION_KEY)
    if marker is not None and kept is not None and kept[0] == marker and (
            kept[1].next_change is None or now < kept[1].next_change):
        return kept[1]
    count, stamps, *times = connection.execute(
        _version_query(connection.dialect.name), {"now": now}).one()
    upcoming = [t for t in times if t is not None]
    version = Version((count, int(stamps or 0)), min(upcoming) if upcoming else None)
    if marker is not None:
        connection.connection.info[_VERSION_KEY] = (marker, version)
    return version


def _read_key(reading: Callable[[Connection], T]) -> T:
    """`reading(connection)` where a request reads what its kept page is keyed by. On
    PostgreSQL, before the request has begun a transaction: on a connection of the
    reader's pool (`_reader`), so that a kept page costs one round trip, not four with the
    ping, BEGIN and COMMIT (a snapshot per statement is what READ COMMITTED gives a
    transaction too; the page, when rendered, is read after the key, so never from before
    it); a pooled connection the server had closed is replaced, and read on once. Otherwise
    on the session's connection."""
    session = db.session()
    # A session bound to a connection of its own (inside an outer transaction) reads
    # only through it: another connection would not see what that transaction holds.
    if (session.in_transaction() or isinstance(session.bind, Connection)
            or db.engine.dialect.name != "postgresql"):
        return reading(session.connection())
    try:
        with _reader().connect() as connection:
            return reading(connection)
    except DBAPIError as error:
        # Closed by the server (a restart, pg_terminate_backend): the pool has dropped
        # it and every connection made before it. A database that did not answer is not
        # asked again.
        if not error.connection_invalidated or database_limits.unavailable_in_this_request():
            raise
    with _reader().connect() as connection:
        return reading(connection)


_READER_KEY = "beachhead.version_reader"


def _reader() -> Engine:
    """The app's PostgreSQL database with its limits (webapp/database_limits.py), in
    autocommit and without a ping before each use: a pooled connection the server has
    closed fails its one statement, which `content_version` then reads again on a new
    connection. One per app and process (made on first use, so after a fork)."""
    app = current_app._get_current_object()
    reader = app.extensions.get(_READER_KEY)
    if reader is None or reader[0] != os.getpid():
        engine = create_engine(
            db.engine.url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=9,
            pool_timeout=database_limits.pool_options(app)["pool_timeout"])
        database_limits.guard(engine, app)
        reader = app.extensions[_READER_KEY] = (os.getpid(), engine)

        # Its connections close with the app's (a test's teardown, a restore).
        @event.listens_for(db.engine, "engine_disposed", once=True)
        def _dispose_reader(_engine) -> None:
            app.extensions.pop(_READER_KEY, None)
            engine.dispose()

    return reader[1]


# Where a pooled database connection keeps the last version it read, with its marker.
_VERSION_KEY = "beachhead.public_version"


def _unchanged_marker(connection) -> tuple | None:
    """What stays the same on this connection while nothing is committed anywhere (None:
    not known, read the version).

    SQLite: `PRAGMA data_version` changes when another connection commits (it is read in
    this request's read transaction, so it names the snapshot the pages are read from);
    the connection's own writes count in its `total_changes`.
    PostgreSQL: the transaction's snapshot (the transactions it sees as committed or
    running) changes with every commit of a writing transaction; none is trusted once this
    transaction has written itself."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        data_version = connection.exec_driver_sql("PRAGMA data_version").scalar()
        return (data_version, connection.connection.driver_connection.total_changes)
    if dialect == "postgresql":
        snapshot, own = connection.exec_driver_sql(
            "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()").one()
        return None if own is not None else (snapshot,)
    return None


# A number per SQLite connection of this process: its data version counts only for itself.
_SERIALS = itertools.count(1)
_SERIAL_KEY = "beachhead.connection_serial"


def database_state(connection=None, marker=_UNREAD) -> tuple | None:
    """What the database holds as this request reads it, named so that two requests read
    the same data whenever they get the same name, on any connection (None: not known).
    Anything committed anywhere changes it (`marker`: as in `content_version`)."""
    connection = connection or db.session.connection()
    if marker is _UNREAD:
        marker = _unchanged_marker(connection)
    if marker is None:
        return None
    if connection.dialect.name == "sqlite":
        # A data version is a count of one connection's: named with the connection.
        info = connection.connection.info
        serial = info.get(_SERIAL_KEY) or info.setdefault(_SERIAL_KEY, next(_SERIALS))
        return ("sqlite", serial, *marker)
    return (connection.dialect.name, *marker)


@cache
def _version_query(dialect: str):
    """Built once per process (the request only binds `now`)."""
    now = bindparam("now", type_=UTCDateTime())
    ahead = [func.min(case((column >= now, column)))
             for column in (Event.ends_at, Event.registration_opens_at,
                            Event.registration_closes_at)]
    return select(func.count(), func.sum(_stamp_micros(dialect)), *ahead).select_from(
        Event.__table__)


@dataclass(frozen=True)
class Page:
    body: bytes
    mimetype: str
    etag: str
    # Rendered with `TOKEN_STAND_IN` where its CSRF token goes: each visitor gets their own.
    has_token: bool = False
    # A signed-in user's page: its own headers, and when it stops being served.
    headers: tuple[tuple[str, str], ...] = ()
    expires: datetime | None = None


class PageCache:
    """Rendered visitors' pages of one worker, least recently used dropped first."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions["public_pages"]


def user_page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions["user_pages"]


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


# What a kept page holds where its CSRF token goes (a form for visitors: sign-in, a
# webinar's quick registration): random per process, replaced by the visitor's own token.
TOKEN_STAND_IN = f"csrf-stand-in-{secrets.token_hex(16)}"
_CSRF_FIELD = "csrf_token"


def _visitor_without_state() -> bool:
    """A visitor (not signed in) whose page cannot differ from anyone else's: no message
    waiting for them in the session."""
    return not current_user.is_authenticated and "_flashes" not in session


def _answer(page: Page) -> Response:
    """A kept page for this visitor: revalidated against its ETag; a page with a form
    gets the visitor's own CSRF token, no validator and no place in any cache."""
    if page.has_token:
        g.pop(_CSRF_FIELD, None)
        body = page.body.replace(TOKEN_STAND_IN.encode(), generate_csrf().encode())
        response = Response(body, mimetype=page.mimetype)
        response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response
    if request.if_none_match.contains_weak(page.etag):
        response = Response(status=304)
    else:
        response = Response(page.body, mimetype=page.mimetype)
    response.set_etag(page.etag)
    response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    response.vary.update(PUBLIC_VARY)
    return response


def _rendered(view: Callable, args, kwargs) -> Page | Response:
    """The view's page for any visitor, or its own response when that is not one (a
    redirect, an error, a cookie set, a token of its own)."""
    setattr(g, _CSRF_FIELD, TOKEN_STAND_IN)
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        stand_in = g.pop(_CSRF_FIELD, None) == TOKEN_STAND_IN
    if not (_may_keep(response, stand_in) and "Cache-Control" not in response.headers):
        return _without_stand_in(response)
    body = response.get_data()
    return Page(body, response.mimetype, etag_of(body),
                has_token=TOKEN_STAND_IN.encode() in body)


def _may_keep(response: Response, stand_in: bool) -> bool:
    """Whether `response` is the same for the next request with the same key: a whole
    200 that set no cookie, left the session and the CSRF token as they were and issued
    no one-time token."""
    return (response.status_code == 200 and stand_in and not response.direct_passthrough
            and not response.is_streamed and not session.modified
            and "Set-Cookie" not in response.headers and not g.get(_NOT_KEPT))


def _without_stand_in(response: Response) -> Response:
    if not response.direct_passthrough and not response.is_streamed:
        body = response.get_data()
        if TOKEN_STAND_IN.encode() in body:
            response.set_data(body.replace(TOKEN_STAND_IN.encode(), generate_csrf().encode()))
    return response


def visitor_page(view: Callable | None = None, *, reads_data: bool = True):
    """A public page kept for visitors (see the module's note): per data version, or, for
    a page that shows nothing from the database (`reads_data=False`: the sign-in form),
    once. Signed-in users and visitors with a message waiting get the view's own answer."""
    if view is None:
        return partial(visitor_page, reads_data=reads_data)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method not in ("GET", "HEAD") or not _visitor_without_state():
            return view(*args, **kwargs)
        version = next_change = None
        if reads_data:
            now = utcnow()
            version = _read_key(lambda connection: content_version(now, connection=connection))
            next_change = version.next_change
            if next_change == now:
                # At the very instant a page changes: neither read nor kept.
                return view(*args, **kwargs)
        key = (request.script_root, request.path, request.query_string,
               str(get_locale() or ""), version)
        cache = page_cache()
        page = cache.get(key)
        if page is None:
            page = _rendered(view, args, kwargs)
            if isinstance(page, Response):
                return page
            # Kept only if rendered wholly before the clock changed the page.
            if next_change is None or utcnow() < next_change:
                cache.put(key, page)
        return _answer(page)

    return wrapped


# --------------------------------------------------------------------------- signed-in pages

_NOT_KEPT = "beachhead_not_kept"
# Headers a kept page does not carry over: computed again for each answer.
_PER_ANSWER_HEADERS = frozenset({"content-length", "set-cookie"})


def not_kept() -> None:
    """This request's page holds something for this request only (a one-time token):
    no cache keeps it."""
    setattr(g, _NOT_KEPT, True)


def kept_for_user(view: Callable) -> Callable:
    """A signed-in user's page (or an API token's list), kept per user while the database
    holds what it was rendered from (see the module's note). Place it below the access
    check: a page is kept only once the check has passed for its user at that state of
    the database; `serve_kept_page` answers the next request for it before the user is
    even loaded (nothing they are or may do can differ while nothing is committed). A
    visitor, a request with a message waiting and any method but GET or HEAD get the
    view's own answer."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        read: _Read | None = g.get(_READ)
        if read is None or not current_user.is_authenticated or "_flashes" in session:
            return view(*args, **kwargs)
        who = g.get(_WHO)
        if who is None:  # the API: the token's owner, whose token was checked just now
            who = ("token", current_user.get_id())
            if (kept := _kept_answer(who, read)) is not None:
                return kept
        elif who[1] != current_user.get_id():
            return view(*args, **kwargs)
        page = _rendered_for_user(view, args, kwargs, read)
        if isinstance(page, Response):
            return page
        user_page_cache().put(_user_key(who, read), page)
        return _answer_user(page)

    wrapped.kept_for_user = True  # type: ignore[attr-defined]
    return wrapped


@dataclass(frozen=True)
class _Read:
    """What a kept page's request read first, before anything else: the database's state,
    the events' version and the time."""

    state: tuple
    version: Version
    now: datetime

    @property
    def expires(self) -> datetime:
        until = self.now + timedelta(seconds=USER_PAGE_SECONDS)
        return min(until, self.version.next_change) if self.version.next_change else until


_READ = "beachhead_kept_read"
_WHO = "beachhead_kept_who"


def _read_first() -> _Read | None:
    """The state a kept page is keyed by, read before the user or anything else, so that
    whatever the request renders is at least as new (None: not known, or the clock
    changes a page at this very instant)."""
    now = utcnow()

    def reading(connection: Connection) -> _Read | None:
        marker = _unchanged_marker(connection)
        state = database_state(connection, marker)
        if state is None:
            return None
        version = content_version(now, marker, connection)
        return None if version.next_change == now else _Read(state, version, now)

    return _read_key(reading)


def _user_key(who: tuple, read: _Read) -> tuple:
    """A kept page's key: who asked (their session's user id and freshness, or their
    token's owner), where and how (the cookies besides the session's, the languages the
    browser asks for), and what the database held."""
    ignored = (current_app.config["SESSION_COOKIE_NAME"],
               current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    cookies = tuple(sorted((name, value) for name, value in request.cookies.items()
                           if name not in ignored))
    return (who, request.host_url, request.path, request.query_string, cookies,
            request.headers.get("Accept-Language", ""), read.state, read.version)


def _session_user() -> tuple | None:
    """The signed-in user the session names, when Flask-Login would take the session as it
    is: the same browser (its session protection), or one already marked not fresh."""
    user_id = session.get("_user_id")
    if not user_id or "_flashes" in session:
        return None
    # Flask-Login's own check, as loading the user would make it: a session it ends
    # (strong protection) or marks not fresh (basic) is left to the view, which renders
    # the page that follows, not a kept one.
    modified = session.modified
    if login_manager._session_protection_failed() or session.modified != modified:
        return None
    return ("session", user_id, session.get("_fresh"))


def _kept_answer(who: tuple, read: _Read) -> Response | None:
    """The page kept for `who` at the state `read`, while it lives, or None."""
    page = user_page_cache().get(_user_key(who, read))
    if page is None or read.now >= page.expires:
        return None
    return _answer_user(page)


def serve_kept_page() -> Response | None:
    """Before anything else of a request for a kept page: read the state it is keyed by
    and, for a page kept for the session's user, answer it (the API's lists first check
    and count the token, in their view)."""
    if (request.method not in ("GET", "HEAD") or not current_app.config["KEEP_USER_PAGES"]
            or not getattr(current_app.view_functions.get(request.endpoint or ""),
                           "kept_for_user", False)):
        return None
    api = request.blueprint == "api"
    who = None if api else _session_user()
    if not api and who is None:
        return None
    read = _read_first()
    if read is None:
        return None
    setattr(g, _READ, read)
    if api:
        return None
    setattr(g, _WHO, who)
    return _kept_answer(who, read)


def _rendered_for_user(view: Callable, args, kwargs, read: _Read) -> Page | Response:
    """The view's page, to keep unless the request changed anything (the database's state
    after rendering is still the one read first, nothing waits to be written or queued),
    or the view's own response when it is not a page to keep."""
    from . import unit  # the unit imports the models; this module is imported earlier

    setattr(g, _CSRF_FIELD, TOKEN_STAND_IN)
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        stand_in = g.pop(_CSRF_FIELD, None) == TOKEN_STAND_IN
    work = unit.current()
    if not (_may_keep(response, stand_in) and (work is None or not work.jobs)
            and not (db.session.new or db.session.dirty or db.session.deleted)
            and database_state() == read.state):
        return _without_stand_in(response)
    body = response.get_data()
    headers = tuple((name, value) for name, value in response.headers.items()
                    if name.lower() not in _PER_ANSWER_HEADERS)
    return Page(body, response.mimetype, "", has_token=TOKEN_STAND_IN.encode() in body,
                headers=headers, expires=read.expires)


def _answer_user(page: Page) -> Response:
    """A kept signed-in page: the user's own CSRF token in it, kept by no other cache."""
    body = page.body
    if page.has_token:
        g.pop(_CSRF_FIELD, None)
        body = body.replace(TOKEN_STAND_IN.encode(), generate_csrf().encode())
    response = Response(body, headers=list(page.headers))
    response.headers.setdefault("Cache-Control", PRIVATE_CACHE_CONTROL)
    return response


# --------------------------------------------------------------------------- stamps


def _stamp_events(session: Session, _context, _instances) -> None:
    """Stamp the events whose public pages a flush changes: their own row, their agenda,
    questions, organizers, hosts, their texts or their sessions' in other languages, or
    a partner's name or place. A stamp always moves forward, by a microsecond at least,
    so the version changes even where two writes read the same clock."""
    event_ids: set[int] = set()
    partner_ids: set[int] = set()
    session_ids: set[int] = set()
    stamped: list[Event] = []
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Event):
            # A stamp set by hand (the demo's announcement dates) changes the version
            # itself, and is kept.
            if (obj in session.dirty and session.is_modified(obj)
                    and not _changed(obj, "updated_at")):
                stamped.append(obj)
        elif isinstance(obj, EventSession | Question):
            if obj.event_id is not None:
                event_ids.add(obj.event_id)
            elif obj.event is not None and obj.event.id is not None:
                event_ids.add(obj.event.id)
        elif isinstance(obj, EventText | SessionText) and (
                obj in session.dirty and not session.is_modified(obj)):
            continue
        elif isinstance(obj, EventText):
            # A translation taken off its event (deleted as an orphan) keeps its event_id.
            owner = obj.event_id if obj.event_id is not None else getattr(obj.event, "id", None)
            if owner is not None:
                event_ids.add(owner)
        elif isinstance(obj, SessionText):
            item = obj.session
            if item is not None and item.event_id is not None:
                event_ids.add(item.event_id)
            elif obj.session_id is not None:
                session_ids.add(obj.session_id)
        elif isinstance(obj, Partner) and obj.id is not None and (
                obj in session.deleted
                or any(_changed(obj, name) for name in _SHOWN_PARTNER_COLUMNS)):
            partner_ids.add(obj.id)
    if partner_ids:
        linked = select(event_organizers.c.event_id).where(
            event_organizers.c.partner_id.in_(partner_ids)).union(
            select(event_hosts.c.event_id).where(event_hosts.c.partner_id.in_(partner_ids)))
        event_ids.update(session.execute(linked).scalars())
    if session_ids:
        event_ids.update(session.scalars(select(EventSession.event_id).where(
            EventSession.id.in_(session_ids))))
    event_ids -= {obj.id for obj in stamped}
    if event_ids:
        stamped.extend(session.scalars(select(Event).where(Event.id.in_(event_ids))))
    now = utcnow()
    for obj in stamped:
        if obj not in session.deleted:
            previous = obj.updated_at
            obj.updated_at = now if previous is None or now > previous else (
                previous + timedelta(microseconds=1))


def _changed(obj, name: str) -> bool:
    from sqlalchemy import inspect

    return inspect(obj).attrs[name].history.has_changes()


# --------------------------------------------------------------------------- headers


def init_app(app: Flask) -> None:
    app.extensions["public_pages"] = PageCache()
    app.extensions["user_pages"] = PageCache()
    app.config.setdefault("KEEP_USER_PAGES", True)
    # After the unit has begun (webapp/unit.py registers its hook first).
    app.before_request(serve_kept_page)
    if not event.contains(Session, "before_flush", _stamp_events):
        event.listen(Session, "before_flush", _stamp_events)

    @app.after_request
    def keep_private_pages_private(response: Response) -> Response:
        """A page for a signed-in user, or with a CSRF token, is kept by no cache and
        never revalidated (no validator: a 304 could hand one user's page to another)."""
        if "Cache-Control" in response.headers:
            return response
        if current_user.is_authenticated or "csrf_token" in g:
            response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
            response.headers.pop("ETag", None)
            response.headers.pop("Last-Modified", None)
        return response

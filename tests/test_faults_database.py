"""Database trouble gets a fast, honest answer, and health says so: faults made for real.

On PostgreSQL the app reaches its own scratch database through a TCP proxy written for
these tests (tests/network_faults.py) that refuses, drops and stalls connections; the
limit is set short (DATABASE_TIMEOUT = 2 s). A signed-in page and an API call answer 503
within the limit (a styled page that says the service is temporarily unavailable; a
problem+json), with Retry-After; a write cut off by a stall leaves nothing behind; once
the link passes again, pages work and the user is still signed in. `/healthz` answers
200 and 503 both ways; `/healthz/details` answers admins and the monitoring token, and
a wrong or missing token gets a 401 that reveals nothing. On SQLite: a database file that
cannot be opened, and a write lock held beyond the busy timeout.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.api import bearer, token_for
from tests.conftest import IsolatedClient, csrf_token, login
from tests.factories import Factory
from tests.live import after_seat_count
from tests.network_faults import DROP, REFUSE, STALL, FaultyLink
from tests.processes import free_port, scratch_database, wait_for
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEntry, EventKind, OutboxMessage, Registration

LIMIT = 2.0  # DATABASE_TIMEOUT here, in seconds
MARGIN = 1.5  # what a request may take beyond it: Flask, the 503 page, the loopback
AT_ONCE = 1.0  # a refused or dropped connection is known at once
TOKEN = "monitoring-token-0123456789abcdef0123456789abcdef"
UNAVAILABLE = "Temporarily unavailable"
STYLESHEETS = ("vendor/bootstrap/bootstrap.min.css", "css/beachhead.css")


@dataclass
class Site:
    app: Flask
    link: FaultyLink | None
    member: str  # Flask-Login ids
    admin: str
    member_id: int
    member_name: str
    event_id: int
    event_slug: str
    second_event_slug: str  # for a test that must apply afresh after another applied
    api_token: str

    def client(self) -> IsolatedClient:
        self.app.test_client_class = IsolatedClient
        return self.app.test_client()

    def member_client(self) -> IsolatedClient:
        """A client signed in as the member."""
        client = self.client()
        with client.session_transaction() as session:
            session["_user_id"] = self.member
        return client


def _build(app: Flask) -> dict:
    """A member with an API token, an admin, and a webinar that approves at once."""
    with app.app_context():
        make = Factory()
        cluster = make.partner()
        member = make.user(make.organization(cluster), name="Mira Member")
        admin = make.admin()
        event, second = (make.event(organizers=[cluster], kind=EventKind.WEBINAR,
                                    requires_approval=False, capacity=10,
                                    duration=timedelta(hours=1)) for _ in range(2))
        db.session.commit()
        built = dict(member=member.get_id(), admin=admin.get_id(), member_id=member.id,
                     member_name=member.name, event_id=event.id, event_slug=event.slug,
                     second_event_slug=second.slug, api_token=token_for(member))
        db.session.remove()
    return built


def _timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def _assert_unavailable_page(response, member_name: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert UNAVAILABLE in html
    for sheet in STYLESHEETS:  # styled: the site's layout and CSS
        assert sheet in html
    assert member_name not in html  # rendered without loading the user


def _assert_unavailable_problem(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["status"] == 503
    assert response.json["type"] == "urn:beachhead:problem:unavailable"


def _applications(site: Site) -> tuple[int, int, int]:
    """The member's registrations, and the audit entries and mail written for them."""
    with site.app.app_context():
        registrations = db.session.scalar(select(func.count()).select_from(Registration)
                                          .where(Registration.user_id == site.member_id))
        audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
        mail = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.user_id == site.member_id))
        db.session.remove()
    return registrations, audit, mail


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_site():
    """A scratch database, migrated and filled directly, then reached through the proxy."""
    server_url = os.environ.get("TEST_DATABASE_URL", "")
    if not server_url.startswith("postgresql"):
        pytest.fail("needs TEST_DATABASE_URL=postgresql+psycopg://...")
    with scratch_database(server_url, "beachhead_faults_database") as direct_url:
        setup = create_app("testing", SQLALCHEMY_DATABASE_URI=direct_url)
        with setup.app_context():
            upgrade()
        built = _build(setup)
        with setup.app_context():
            db.engine.dispose()
        address = urlsplit(direct_url.replace("postgresql+psycopg", "postgresql"))
        link = FaultyLink(address.hostname, address.port or 5432)
        proxied = direct_url.replace(address.netloc.rsplit("@", 1)[-1], f"127.0.0.1:{link.port}")
        # Errors outside the view (the unit's commit) reach the app's handlers, as in
        # production, instead of the test.
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=proxied, DATABASE_TIMEOUT=LIMIT,
                         HEALTH_TOKEN=TOKEN, PROPAGATE_EXCEPTIONS=False)
        try:
            yield Site(app=app, link=link, **built)
        finally:
            link.close()
            with app.app_context():
                db.engine.dispose()


@pytest.mark.postgres
def test_a_stalled_database_answers_a_styled_page_and_an_api_problem_within_the_limit(pg_site):
    site, client = pg_site, pg_site.member_client()
    # Warm: the pool holds connections that the stall will freeze mid-use.
    assert client.get("/account/registrations").status_code == 200
    assert client.get("/api/v1/me", headers=bearer(site.api_token)).status_code == 200

    assert site.client().get("/events").status_code == 200

    with site.link.fault(STALL):
        page, page_took = _timed(client.get, "/account/registrations")
        _assert_unavailable_page(page, site.member_name)
        assert page_took < LIMIT + MARGIN, page_took
        page, page_took = _timed(site.client().get, "/events")
        _assert_unavailable_page(page, site.member_name)
        assert page_took < LIMIT + MARGIN, page_took
        call, call_took = _timed(client.get, "/api/v1/me", headers=bearer(site.api_token))
        _assert_unavailable_problem(call)
        assert call_took < LIMIT + MARGIN, call_took
        health, health_took = _timed(client.get, "/healthz")
        assert (health.status_code, health.json) == (503, {"status": "unavailable"})
        assert health_took < LIMIT + MARGIN, health_took

    # The link passes again: the same browser is still signed in, the same token works.
    page = client.get("/account/registrations")
    assert page.status_code == 200 and site.member_name in page.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(site.api_token)).status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}


@pytest.mark.postgres
@pytest.mark.parametrize("fault", [REFUSE, DROP])
def test_a_refused_or_dropped_database_answers_503_at_once(pg_site, fault):
    site, client = pg_site, pg_site.member_client()
    assert client.get("/account/registrations").status_code == 200
    with site.link.fault(fault):
        page, page_took = _timed(client.get, "/account/registrations")
        _assert_unavailable_page(page, site.member_name)
        call, call_took = _timed(client.get, "/api/v1/me", headers=bearer(site.api_token))
        _assert_unavailable_problem(call)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.headers["Retry-After"]
        assert page_took < AT_ONCE and call_took < AT_ONCE, (page_took, call_took)
    assert client.get("/account/registrations").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_a_write_cut_off_by_a_stall_leaves_nothing_behind(pg_site, monkeypatch):
    """The stall begins in the middle of applying, after the seats were counted and
    before the registration, its audit entry and its mail are written: the member gets
    the 503 within the limit, and after the recovery none of it is there."""
    site, client = pg_site, pg_site.member_client()
    token = csrf_token(client, "/")
    before = _applications(site)
    assert before[0] == 0
    stalling = True
    after_seat_count(monkeypatch, lambda event, reg: stalling and site.link.stalls())
    try:
        page, took = _timed(client.post, f"/events/{site.event_slug}/apply",
                            data={"profile_consent": "y", "csrf_token": token})
        _assert_unavailable_page(page, site.member_name)
        assert took < LIMIT + MARGIN, took
        assert 'href="/"' in page.get_data(as_text=True)  # "try again" does not re-post
        call, took = _timed(client.post, f"/api/v1/events/{site.event_id}/registrations",
                            headers=bearer(site.api_token), json={"answers": []})
        _assert_unavailable_problem(call)
        assert took < LIMIT + MARGIN, took
    finally:
        site.link.passes()
        stalling = False

    assert _applications(site) == before  # nothing half-written stayed
    applied = client.post(f"/events/{site.event_slug}/apply",
                          data={"profile_consent": "y", "csrf_token": token})
    assert applied.status_code == 302, applied.get_data(as_text=True)[:300]
    registrations, audit, _mail = _applications(site)
    assert registrations == 1 and audit > before[1]


@pytest.mark.postgres
def test_a_stall_at_the_commit_answers_503_and_leaves_nothing_behind(pg_site):
    """The stall begins as the request's unit commits, after the view has answered: the
    member still gets the styled 503 within the limit, and the write is not there."""
    site, client = pg_site, pg_site.member_client()
    token = csrf_token(client, "/")
    before = _applications(site)

    def stall_before_the_commit(session):
        # The unit's own commit, of what it wrote (not the end of a read phase).
        unit = session.info.get("unit")
        if unit is not None and (unit.wrote or session.new or session.dirty):
            site.link.stalls()

    sa_event.listen(Session, "before_commit", stall_before_the_commit)
    try:
        page, took = _timed(client.post, f"/events/{site.second_event_slug}/apply",
                            data={"profile_consent": "y", "csrf_token": token})
    finally:
        sa_event.remove(Session, "before_commit", stall_before_the_commit)
        site.link.passes()
    _assert_unavailable_page(page, site.member_name)
    assert took < LIMIT + MARGIN, took
    assert _applications(site) == before


@pytest.mark.postgres
def test_health_details_for_a_monitor_while_the_database_stalls(pg_site):
    client = pg_site.client()
    assert client.get("/healthz/details", headers=bearer(TOKEN)).json["status"] == "ok"
    with pg_site.link.fault(STALL):
        details, took = _timed(client.get, "/healthz/details", headers=bearer(TOKEN))
    assert took < LIMIT + MARGIN, took
    assert details.status_code == 503
    assert details.json["status"] == "unavailable"
    parts = details.json["parts"]
    assert parts["database"]["ok"] is False
    assert parts["mail"]["ok"] is None  # read from the database: unknown meanwhile


# --------------------------------------------------------------------------- any database


def test_health_answers_a_load_balancer_with_nothing_more(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_details_for_a_signed_in_admin(client, make, db):
    admin = make.admin()
    db.session.commit()
    login(client, admin)
    details = client.get("/healthz/details")
    assert details.status_code == 200
    body = details.json
    assert body["status"] == "ok"
    assert set(body["parts"]) == {"database", "redis", "worker", "mail", "jobs"}
    assert body["parts"]["database"]["ok"] is True
    # Without REDIS_URL jobs run in the web process: no Redis, no worker, no queue.
    assert body["parts"]["redis"]["ok"] is None
    assert body["parts"]["worker"]["ok"] is None
    assert body["parts"]["mail"]["unsent"] >= 0


def test_health_details_for_the_monitoring_token(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_TOKEN", TOKEN)
    details = client.get("/healthz/details", headers=bearer(TOKEN))
    assert details.status_code == 200
    assert details.json["parts"]["database"]["ok"] is True


@pytest.mark.parametrize("headers", [
    {}, bearer("wrong-" + TOKEN), bearer(TOKEN[:-1]), bearer(""), {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"},
], ids=["missing", "wrong", "prefix", "empty", "no scheme", "basic"])
def test_a_wrong_or_missing_monitoring_token_reveals_nothing(client, app, monkeypatch,
                                                             headers):
    monkeypatch.setitem(app.config, "HEALTH_TOKEN", TOKEN)
    refused = client.get("/healthz/details", headers=headers)
    assert refused.status_code == 401
    assert refused.json == {"status": 401, "detail": (
        "Send the monitoring token as `Authorization: Bearer <token>`, or sign in as an "
        "administrator.")}
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.headers["Cache-Control"] == "no-store"


def test_without_a_configured_token_no_token_opens_the_details(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_TOKEN", None)
    assert client.get("/healthz/details", headers=bearer("")).status_code == 401
    assert client.get("/healthz/details", headers=bearer("None")).status_code == 401


def test_a_member_sending_a_wrong_token_or_none_is_refused(client, make, db, app,
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_TOKEN", TOKEN)
    member = make.user(make.organization(make.partner()))
    admin = make.admin()
    db.session.commit()
    login(client, member)
    assert client.get("/healthz/details").status_code == 401
    login(client, admin)
    # A request that sends a token is judged by it, even from an admin's browser.
    assert client.get("/healthz/details", headers=bearer("wrong")).status_code == 401


# --------------------------------------------------------------------------- Redis


class _PrivateRedis:
    """A redis-server of this test alone on a free port, nothing persisted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        probe = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            try:
                return bool(probe.ping())
            except redis.RedisError:
                return False

        wait_for(answers, f"redis-server on port {self.port}", deadline=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.mark.redis
def test_health_with_redis_up_then_away(client, app, monkeypatch):
    """The queue's oldest job is reported while Redis answers; once it is away the load
    balancer's /healthz still answers 200 (pages work without Redis) and the details say
    what is wrong."""
    from rq import Queue

    from webapp.services import jobs

    redis_server = _PrivateRedis()
    try:
        monkeypatch.setitem(app.config, "REDIS_URL", redis_server.url)
        monkeypatch.setitem(app.config, "HEALTH_TOKEN", TOKEN)
        queue = Queue(jobs.QUEUE_NAME, connection=jobs.connection())
        queue.enqueue("webapp.services.jobs.in_background")  # no worker: it waits
        time.sleep(0.2)
        up = client.get("/healthz/details", headers=bearer(TOKEN)).json["parts"]
        assert up["redis"]["ok"] is True
        assert up["jobs"]["queued"] == 1
        assert up["jobs"]["oldest_queued_age_seconds"] >= 0.1
        redis_server.stop()
        assert client.get("/healthz").json == {"status": "ok"}
        away = client.get("/healthz/details", headers=bearer(TOKEN))
        assert away.status_code == 200 and away.json["status"] == "degraded"
        assert away.json["parts"]["redis"]["ok"] is False
        assert away.json["parts"]["jobs"]["ok"] is None
        assert away.json["parts"]["database"]["ok"] is True
    finally:
        redis_server.stop()
        app.extensions.pop("beachhead_redis", None)
        app.extensions.pop("beachhead_health_redis", None)


# --------------------------------------------------------------------------- SQLite


@pytest.mark.sqlite
def test_an_sqlite_file_that_cannot_be_opened_answers_503(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/gone/x.db")
    site = Site(app=app, link=None, member="1:1", admin="2:1", member_id=1,
                member_name="Mira Member", event_id=1, event_slug="x", second_event_slug="y",
                api_token="")
    client = site.client()
    health, took = _timed(client.get, "/healthz")
    assert (health.status_code, health.json) == (503, {"status": "unavailable"})
    assert took < AT_ONCE
    _assert_unavailable_page(client.get("/"), site.member_name)
    with client.session_transaction() as session:
        session["_user_id"] = site.member
    _assert_unavailable_page(client.get("/account/registrations"), site.member_name)
    _assert_unavailable_problem(client.get("/api/v1/me", headers=bearer("anything")))


@pytest.mark.sqlite
def test_an_sqlite_write_lock_held_beyond_the_busy_timeout_answers_503(tmp_path):
    import sqlite3

    path = tmp_path / "locked.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                     SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        upgrade()
    site = Site(app=app, link=None, **_build(app))
    client = site.member_client()
    token = csrf_token(client, "/")
    before = _applications(site)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        page, took = _timed(client.post, f"/events/{site.event_slug}/apply",
                            data={"profile_consent": "y", "csrf_token": token})
        _assert_unavailable_page(page, site.member_name)
        assert took < 0.3 + MARGIN, took
        # Readers are not held up by a writer (WAL): the node is up.
        assert client.get("/healthz").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _applications(site) == before
    applied = client.post(f"/events/{site.event_slug}/apply",
                          data={"profile_consent": "y", "csrf_token": token})
    assert applied.status_code == 302
    with app.app_context():
        db.engine.dispose()


def _server_closes_the_apps_connections(site: Site) -> None:
    """The server ends every other session on the app's database (a restart, an admin's
    pg_terminate_backend): the app's pooled connections are dead and it does not know."""
    import psycopg

    url = str(site.app.config["SQLALCHEMY_DATABASE_URI"]).replace("postgresql+psycopg",
                                                                  "postgresql")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.mark.postgres
def test_a_pooled_connection_the_server_closed_is_replaced_unseen(pg_site):
    site, client, visitor = pg_site, pg_site.member_client(), pg_site.client()
    # Both pools hold a connection: the session's (pinged before use), and the one a
    # kept page's key is read through (not pinged: read once more on a new connection).
    assert client.get("/account/registrations").status_code == 200
    assert visitor.get("/events").status_code == 200
    _server_closes_the_apps_connections(site)
    page = visitor.get("/events")
    assert page.status_code == 200 and f'href="/events/{site.event_slug}"' in page.text
    page = client.get("/account/registrations")
    assert page.status_code == 200 and site.member_name in page.get_data(as_text=True)

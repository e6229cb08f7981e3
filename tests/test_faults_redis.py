"""Redis trouble, survived and shown: faults made with a private `redis-server` that the
test stops and starts, real worker and gunicorn processes, and a real SMTP server.

While Redis is down the API answers (its rate limit counted in the database, said once
in the log), a request that mails commits and leaves its mail in the outbox for `tick`,
and the admin's jobs page shows the stall; the worker outlives the outage and, once Redis
is back, every mail that fell due meanwhile arrives exactly once. A worker killed with
`kill -9` mid-delivery sends a message killed before its SMTP handover once, and one
killed after the handover at most twice, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import requests
from sqlalchemy import func, select, update

from tests.api import token_for
from tests.conftest import CSRF_RE, IsolatedClient, csrf_token, login
from tests.factories import PASSWORD, Factory
from tests.processes import (
    Mailbox,
    Processes,
    flask,
    free_port,
    mail_server,
    production_env,
    wait_for,
)
from webapp.extensions import db
from webapp.models import (
    ApiRateWindow,
    EventKind,
    Meeting,
    OutboxMessage,
    OutboxStatus,
    ScheduleRun,
    WorkerHeartbeat,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import jobs, notifications

# Short waits, so an outage of about 15 s is seen, waited out and recovered from quickly.
FAST_WORKER = dict(WORKER_RECONNECT_INITIAL="0.2", WORKER_RECONNECT_MAX="2",
                   WORKER_HEARTBEAT_EVERY="1", REDIS_TIMEOUT="1")


class PrivateRedis:
    """A redis-server of this test alone on a free port, nothing persisted: `stop()` is
    an outage (and, as a restarted Redis without persistence, the queue is lost with
    it), `start()` the recovery on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for(lambda: _answers(probe), f"redis-server on port {self.port}", deadline=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _answers(connection) -> bool:
    import redis

    try:
        return bool(connection.ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _redis_answered_last():
    """Each test begins with nothing said about Redis yet in this process's log."""
    jobs._unanswered.clear()


class _Said(logging.Handler):
    """What the jobs service logged, read directly from its logger (migrating a database
    inside a test reconfigures the root logger, and pytest's caplog with it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


@pytest.fixture
def said():
    logger = logging.getLogger("webapp.services.jobs")
    handler, level = _Said(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- in process


@pytest.mark.redis
def test_while_redis_is_down_the_api_answers_and_keeps_its_limit_in_the_database(
    open_app, private_redis, said
):
    app = open_app("sqlite", REDIS_URL=private_redis.url, API_RATE_LIMIT=3)
    app.test_client_class = IsolatedClient
    member = Factory().user()
    db.session.commit()
    secret = token_for(member)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    _not_at_a_minute_boundary()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # counted in Redis
    assert _windows() == 0
    private_redis.stop()
    answers = [client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
    # The window counted 1 in Redis; the database counts afresh: 3 allowed, the 4th is 429.
    assert answers == [200, 200, 200, 429]
    assert _windows() == 4
    # Once, not once per request.
    assert said.count("API rate limits are counted in the database") == 1, said.lines

    private_redis.start()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # Redis again
    assert said.count("Redis answers again") == 1, said.lines
    private_redis.stop()
    client.get("/api/v1/me", headers=headers)
    # A new outage is said again.
    assert said.count("API rate limits are counted in the database") == 2, said.lines


def _not_at_a_minute_boundary() -> None:
    """Rate-limit windows are whole minutes: start well inside one."""
    if utcnow().second >= 55:
        time.sleep(61 - utcnow().second)


def _windows() -> int:
    db.session.commit()
    return db.session.scalar(select(func.sum(ApiRateWindow.count))) or 0


@pytest.mark.redis
def test_mail_written_while_redis_is_down_waits_for_tick_and_the_jobs_page_says_so(
    open_app, private_redis, said
):
    app = open_app("sqlite", REDIS_URL=private_redis.url)
    app.test_client_class = IsolatedClient
    make = Factory()
    member = make.user(email="waiting@example.org", email_verified_at=None)
    admin = make.admin()
    db.session.commit()
    private_redis.stop()

    client = app.test_client()
    login(client, member)
    for _ in range(2):
        response = client.post("/resend-verification", data={
            "csrf_token": csrf_token(client, "/"), "next": "/events"})
        assert response.status_code == 302  # committed, whatever the queue
    db.session.commit()
    waiting = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == "waiting@example.org")).all()
    assert [m.status for m in waiting] == [OutboxStatus.PENDING] * 2
    assert said.count("jobs are not queued") == 1, said.lines

    login(client, admin)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="stalled-queue_unreachable"' in html
    assert "2 messages wait: the job queue (Redis) does not answer" in html
    assert "Nothing failed" not in html and 'data-testid="nothing-failed"' not in html

    # Redis is back; as if the outage had lasted a while, tick finds the mail without a
    # job of its own and queues it; a worker sends each message once.
    db.session.execute(update(OutboxMessage).values(
        created_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    private_redis.start()
    with mail_server() as (port, box):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        output = app.test_cli_runner().invoke(args=["tick"]).output
        assert "2 message(s) for the workers" in output, output
        jobs.work(burst=True)
        assert len(box.to("waiting@example.org")) == 2
    db.session.commit()
    assert notifications.counts()[OutboxStatus.PENDING] == 0


@pytest.mark.redis
def test_a_schedule_asked_for_while_redis_is_down_runs_in_the_web_process(
    open_app, private_redis, said
):
    """Work someone follows on a progress page (a schedule of meetings, as a badge batch
    or a download) does not wait for a worker it cannot reach: it runs here."""
    from tests.test_meeting_requests import with_meetings

    app = open_app("sqlite", REDIS_URL=private_redis.url, REDIS_TIMEOUT=1)
    app.test_client_class = IsolatedClient
    market = with_meetings(Factory(), people=4, pairs=((0, 1), (0, 2), (1, 3)))
    db.session.commit()
    private_redis.stop()

    client = app.test_client()
    login(client, market.organizer)
    schedule = f"/events/{market.event_id}/matchmaking/schedule/"
    response = client.post(schedule + "runs", data={
        "seconds": "5", "csrf_token": csrf_token(client, schedule)})
    assert response.status_code == 303
    progress = wait_for(
        lambda: (found := client.get(response.location + "/progress").get_json())
        ["status"] != "running" and found, "the schedule run to end", deadline=60)
    assert progress["status"] == "done", progress
    db.session.rollback()  # a fresh read: the run was written by the request's thread
    run = db.session.scalar(select(ScheduleRun))
    assert run.finished_at is not None and run.error is None and run.placed == 3
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.event_id == market.event_id, Meeting.starts_at.is_not(None))) == 3
    assert said.count("runs in the web process") == 1, said.lines
    assert said.count("jobs are not queued") == 0, said.lines


def test_the_jobs_page_shows_retrying_mail_and_overdue_mail_with_their_last_error(
    client, db, make
):
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
    user = make.user(email="later@example.org")
    retrying = notifications.queue(user, "Second try", "base", body="...")
    overdue = notifications.queue(user, "Long due", "base", body="...")
    db.session.flush()
    db.session.info.pop(jobs._WAITING, None)  # as if their delivery jobs had been lost
    retrying.attempts, retrying.last_error = 1, "Traceback ...\nSMTPServerDisconnected: gone"
    retrying.next_attempt_at = utcnow() + timedelta(minutes=5)
    overdue.next_attempt_at = overdue.created_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    login(client, make.admin())

    html = client.get("/admin/jobs").get_data(as_text=True)
    assert html.count('data-testid="retrying-mail"') == 1
    assert "SMTPServerDisconnected: gone" in html and "later@example.org" in html
    assert 'data-testid="stalled-mail_overdue"' in html
    assert "1 message has been due since" in html
    assert "Nothing failed" not in html and 'data-testid="nothing-given-up"' in html


# --------------------------------------------------------------------------- processes


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.production
def test_the_worker_outlives_a_redis_outage_and_every_mail_arrives_once(
    open_app, database_url, private_redis, tmp_path
):
    """Redis stops while 20 applications (by API) and 40 reminders fall due, for about
    15 s; the API answers throughout, the admin's jobs page shows the stall, the worker
    is still running when Redis is back, and each of the 60 mails arrives exactly once."""
    open_app("postgres", REDIS_URL=private_redis.url)
    make = Factory()
    cluster = make.partner()
    webinar = dict(kind=EventKind.WEBINAR, organizers=[cluster], requires_approval=False,
                   registration_opens_at=None, duration=timedelta(hours=1),
                   online_url="https://meet.example.com/j/room", timezone="Europe/Brussels")
    reminded = make.event(title="Reminded webinar", starts_in=timedelta(days=2), **webinar)
    opened = make.event(title="Open webinar", starts_in=timedelta(days=9), **webinar)
    organizer = make.manager(cluster)
    registrants = [make.user(make.organization(cluster)) for _ in range(40)]
    for user in registrants:
        make.registration(reminded, user, S.SUBMITTED, S.APPROVED, actor=organizer)
    applicants = [make.user(make.organization(cluster)) for _ in range(20)]
    admin = make.admin(email="ops@example.org")
    db.session.commit()
    secrets = [token_for(user) for user in applicants]
    due = (reminded.starts_at - timedelta(hours=24) + timedelta(minutes=1)).isoformat()
    opened_id, admin_email = opened.id, admin.email
    db.session.commit()

    processes = Processes(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with mail_server() as (mail_port, box):
            env = production_env(database_url, private_redis.url, mail_port, BASE_URL=base,
                                 **FAST_WORKER)
            processes.gunicorn(env, port, workers=2)
            worker = processes.worker(env)
            http = requests.Session()
            wait_for(lambda: _page(http, f"{base}/") == 200, "gunicorn", processes=processes)
            wait_for(lambda: _state() == "working", "the worker's heartbeat",
                     processes=processes)
            _sign_in(http, base, admin_email)
            before = box.count()
            db.session.commit()
            last_seeded = db.session.scalar(select(func.max(OutboxMessage.id))) or 0

            # The outage: Redis stops while the applications and the reminders fall due.
            private_redis.stop()
            outage_began = time.monotonic()
            for secret in secrets:
                applied = requests.post(
                    f"{base}/api/v1/events/{opened_id}/registrations", json={},
                    headers={"Authorization": f"Bearer {secret}"}, timeout=10)
                assert applied.status_code == 201, applied.text  # never a 500
            during = flask(env, "tick", "--now", due)
            assert "reminders of 1 event(s) for the workers" in during
            assert "Redis did not answer, so" in during  # the tick says what it could not do
            wait_for(lambda: _state() == "reconnecting", "the worker to notice",
                     processes=processes)
            page = http.get(f"{base}/admin/jobs", timeout=10)
            assert page.status_code == 200
            assert 'data-testid="stalled-queue_unreachable"' in page.text
            assert "20 messages wait: the job queue (Redis) does not answer" in page.text
            assert "waiting for Redis to answer" in page.text
            assert "Nothing failed" not in page.text
            assert box.count() == before  # nothing could be sent
            time.sleep(max(0.0, 15 - (time.monotonic() - outage_began)))
            processes.check_running()  # the worker outlived the outage

            # Redis is back (empty): the worker queues the mail that fell due, and the next
            # tick the reminders (their jobs were never queued).
            private_redis.start()
            wait_for(lambda: _state() == "working", "the worker to reconnect",
                     processes=processes)
            assert "reminders of 1 event(s) for the workers" in flask(env, "tick", "--now", due)
            wait_for(lambda: box.count() - before >= 60 and _unsent() == 0,
                     "the 60 mails", deadline=60, processes=processes)
            time.sleep(1)  # nothing more comes
            assert worker.poll() is None
            page = http.get(f"{base}/admin/jobs", timeout=10).text
            assert 'data-testid="stalled' not in page and 'data-testid="nothing-failed"' in page
    finally:
        processes.stop_all()

    # Every message written since the outage began arrived exactly once.
    mails = box.messages[before:]
    written = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.id > last_seeded)).all()
    arrived = Counter(m["Message-ID"].strip() for m in mails)
    assert arrived == Counter(notifications.message_id(m.id, m.created_at) for m in written)
    assert {m["To"] for m in mails if m["Subject"].startswith("Starts in 24 hours")} == {
        u.email for u in registrants}
    assert {m["To"] for m in mails if "Open webinar" in m["Subject"]} == {
        u.email for u in applicants}
    errors = [line for line in processes.output("gunicorn").splitlines()
              if "Traceback" in line or " 500 " in line]
    assert not errors, processes.output("gunicorn")[-3000:]
    assert "found an unhandled exception" not in processes.output("worker")


def _state() -> str | None:
    db.session.commit()
    beat = jobs.last_heartbeat()
    return beat.state if beat is not None else None


def _unsent() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status != OutboxStatus.SENT))


def _page(http: requests.Session, url: str) -> int | None:
    try:
        return http.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def _sign_in(http: requests.Session, base: str, email: str) -> None:
    page = http.get(f"{base}/login", timeout=10).text
    match = CSRF_RE.search(page)
    signed_in = http.post(f"{base}/login", allow_redirects=False, timeout=10, data={
        "email": email, "password": PASSWORD,
        "csrf_token": match.group(1) or match.group(2)})
    assert signed_in.status_code == 302, signed_in.text[:2000]


# --------------------------------------------------------------------------- kill -9

# How long the SMTP server stalls an exchange: far longer than the test needs to kill the
# worker in the middle of it.
STALL = 30


class StallingRelay(Mailbox):
    """An SMTP server that stalls the first exchange with some recipients: "before" ones
    at RCPT (the message not yet handed over), "after" ones once the message is received
    (handed over, the 250 not yet sent). `stalled` is set when a stall begins."""

    def __init__(self, stall: dict[str, str]) -> None:
        super().__init__()
        self.stall = dict(stall)
        self.stalled = threading.Event()

    async def _hold(self, address: str, phase: str) -> None:
        if self.stall.get(address) == phase:
            del self.stall[address]
            self.stalled.set()
            await asyncio.sleep(STALL)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        await self._hold(address, "before")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        await self._hold(envelope.rcpt_tos[0], "after")
        return "250 OK"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.production
def test_a_worker_killed_mid_delivery_sends_once_before_the_handover_and_at_most_twice_after(
    open_app, database_url, private_redis, tmp_path
):
    before, after = "before@example.org", "after@example.org"
    lease = 3
    with mail_server(StallingRelay({before: "before", after: "after"})) as (mail_port, relay):
        app = open_app("postgres", REDIS_URL=private_redis.url)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_port)
        env = production_env(database_url, private_redis.url, mail_port,
                             MAIL_CLAIM_LEASE=str(lease), **FAST_WORKER)
        processes = Processes(tmp_path)
        try:
            for address in (before, after):
                # One delivery job each (the commit queues it); written a while ago, so
                # that tick, which leaves fresh mail to its own job, retries it.
                notifications.queue(address, f"For {address}", "base", body="...")
                db.session.flush()
                db.session.execute(update(OutboxMessage).values(
                    created_at=utcnow() - timedelta(minutes=2)))
                db.session.commit()
                jobs.run_committed()
                relay.stalled.clear()
                killed = processes.worker(env, f"killed-{address}")
                wait_for(relay.stalled.is_set, f"the stall with {address}",
                         processes=processes)
                _kill_dash_9(killed)

                # A new worker; once the dead one's claim has lapsed, tick queues the mail.
                processes.worker(env, f"next-{address}")
                time.sleep(lease + 0.5)
                assert "message(s) for the workers" in flask(env, "tick")
                wait_for(lambda: _unsent() == 0, f"the mail to {address}",
                         processes=processes)
                processes.stop_all()
                processes.started.clear()
        finally:
            processes.stop_all()
        received = {address: relay.to(address) for address in (before, after)}

    assert len(received[before]) == 1  # killed before the handover: sent once
    assert 1 <= len(received[after]) <= 2  # killed after it: at most twice ...
    assert len(received[after]) == 2  # (here: twice, the handover happened)
    assert len({m["Message-ID"].strip() for m in received[after]}) == 1  # ... as one message
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address.in_((before, after)))).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}


def _kill_dash_9(process: subprocess.Popen) -> None:
    """SIGKILL the worker, and with it the RQ scheduler it forked (its child), which
    would otherwise go on alone."""
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                              text=True).stdout.split()
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    for child in children:
        with suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)


def test_worker_heartbeat_is_read_from_the_database(db, make):
    db.session.add(WorkerHeartbeat(worker="host:1:a", host="host", pid=1, state="working",
                                   beat_at=utcnow() - timedelta(minutes=5), jobs_done=3))
    db.session.add(WorkerHeartbeat(worker="host:2:b", host="host", pid=2,
                                   state="reconnecting", redis_error="ConnectionError: x",
                                   beat_at=utcnow(), jobs_done=0))
    db.session.commit()
    beat = jobs.last_heartbeat()
    assert (beat.worker, beat.state, beat.redis_error) == (
        "host:2:b", "reconnecting", "ConnectionError: x")

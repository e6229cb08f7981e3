"""The production set-up, end to end, with the real processes: gunicorn with two workers
and an RQ worker (production config) over a fresh PostgreSQL database and Redis, mail
through an aiosmtpd server on loopback, `flask tick --now` as cron would run it.

Over plain HTTP a member signs up, verifies, registers for a webinar and receives the
confirmation with its invitation; a tick past the 24-hour mark sends the reminder and a
second tick does not send it again; the join link of a webinar that starts within 30
minutes opens its meeting.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.conftest import CSRF_RE
from tests.live import form_fields
from tests.processes import (
    ROOT,
    Processes,
    flask,
    free_port,
    mail_server,
    production_env,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.production]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BOSTON_ROOM = "https://meet.example.com/j/boston-room"
SINGAPORE_ROOM = "https://meet.example.com/j/singapore-room"
EMAIL = "lena@kowalska.example"
PASSWORD = "tram lines over the harbour"

SEED = """
import json
import sys
from datetime import timedelta
from tests.factories import Factory
from webapp import create_app
from webapp.extensions import db
from webapp.models import EventKind

with create_app().app_context():
    make = Factory()
    cluster = make.partner(name="Smart City Cluster Gent")
    webinar = dict(kind=EventKind.WEBINAR, organizers=[cluster], requires_approval=False,
                   registration_opens_at=None, duration=timedelta(hours=1),
                   timezone="America/New_York", target_country="US", target_city="Boston")
    later = make.event(title="Meet Boston", slug="meet-boston", online_url=sys.argv[1],
                       starts_in=timedelta(days=3), **webinar)
    soon = make.event(title="Meet Singapore", slug="meet-singapore", online_url=sys.argv[2],
                      starts_in=timedelta(minutes=20), **webinar)
    db.session.commit()
    print(json.dumps({"later_starts_at": later.starts_at.isoformat()}))
"""


@pytest.fixture
def fresh_database(database_url):
    """A new, empty PostgreSQL database next to the test database; dropped at the end."""
    import psycopg

    parts = urlsplit(database_url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"beachhead_production_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_queue():
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def _link(text: str, path: str) -> str:
    match = re.search(rf"http://127\.0\.0\.1:\d+(/{path}/[^\s\"<>]+)", text)
    assert match, f"no /{path}/ link in:\n{text}"
    return match.group(1)


def _idle(connection) -> bool:
    """The queue is empty and no job is running (scheduled retries aside)."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue("beachhead", connection=connection)
    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0


def test_a_member_signs_up_registers_and_is_reminded_once(fresh_database, redis_queue,
                                                           tmp_path):
    processes = Processes(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with mail_server() as (mail_port, box):
            env = production_env(fresh_database, REDIS_URL, mail_port, BASE_URL=base)
            flask(env, "db", "upgrade")
            seeded = subprocess.run([sys.executable, "-c", SEED, BOSTON_ROOM, SINGAPORE_ROOM],
                                    cwd=ROOT, env=env, capture_output=True, text=True,
                                    check=True, timeout=60)
            later_starts_at = datetime.fromisoformat(
                json.loads(seeded.stdout.splitlines()[-1])["later_starts_at"])
            processes.gunicorn(env, port, workers=2)
            processes.worker(env)
            http = requests.Session()
            wait_for(lambda: _answers(http, base), "gunicorn", processes=processes)

            # Sign up, verify, sign in: all over HTTP, the mail through the worker.
            page = http.get(f"{base}/signup").text
            form = dict(form_fields(page, "/signup"))
            form.update(name="Lena Kowalska", email=EMAIL, password=PASSWORD,
                        confirm=PASSWORD, timezone="Europe/Warsaw", organization_mode="new",
                        organization_name="Kowalska Mobility", country="PL",
                        sector="mobility", size="micro", helix="industry", privacy="y")
            signed_up = http.post(f"{base}/signup", data=form, allow_redirects=False)
            assert signed_up.status_code == 302, signed_up.text[:2000]
            [verification] = wait_for(lambda: box.to(EMAIL), "the verification mail",
                                      processes=processes)
            verify = _link(box.text(verification), "verify")
            page = http.get(f"{base}{verify}").text
            verified = http.post(f"{base}{verify}", data={"csrf_token": _csrf(page)},
                                 allow_redirects=False)
            assert verified.status_code == 302, verified.text[:2000]
            page = http.get(f"{base}/login").text
            signed_in = http.post(f"{base}/login", allow_redirects=False, data={
                "email": EMAIL, "password": PASSWORD, "csrf_token": _csrf(page)})
            assert signed_in.status_code == 302, signed_in.text[:2000]

            # Register for both webinars: each confirmed at once, with its invitation.
            for slug in ("meet-boston", "meet-singapore"):
                path = f"/events/{slug}/apply"
                fields = [(k, v) for k, v in form_fields(http.get(f"{base}{path}").text, path)
                          if k != "profile_consent"]
                applied = http.post(f"{base}{path}", data=[*fields, ("profile_consent", "y")],
                                    allow_redirects=False)
                assert applied.status_code in (302, 303), applied.text[:2000]
            mails = wait_for(lambda: len(box.to(EMAIL)) >= 3 and box.to(EMAIL),
                             "the two confirmations", processes=processes)
            confirmations = {m["Subject"]: m for m in mails[1:]}
            boston = next(m for s, m in confirmations.items() if "Meet Boston" in s)
            singapore = next(m for s, m in confirmations.items() if "Meet Singapore" in s)
            [invitation] = [p for p in boston.walk() if p.get_content_type() == "text/calendar"]
            assert invitation.get_param("method") == "REQUEST"
            assert "SUMMARY:Meet Boston" in invitation.get_content()

            # Cron's tick, as of just past the 24-hour mark: the reminder, once.
            now = (later_starts_at - timedelta(hours=24) + timedelta(minutes=1)).isoformat()
            # Meet Singapore is over by then: its reminders are recorded as skipped, started.
            assert "reminders of 2 event(s) for the workers" in flask(env, "tick", "--now", now)
            reminder = wait_for(
                lambda: [m for m in box.to(EMAIL) if m["Subject"].startswith("Starts in 24")],
                "the reminder", processes=processes)
            assert reminder[0]["Subject"] == "Starts in 24 hours: Meet Boston"
            assert _link(box.text(reminder[0]), "join") == _link(box.text(boston), "join")
            second = flask(env, "tick", "--now", now)
            assert "reminders of 0 event(s) for the workers" in second
            wait_for(lambda: _idle(redis_queue), "the worker to finish", processes=processes)
            assert len(box.to(EMAIL)) == 4  # verification, two confirmations, one reminder

            # Within 30 minutes of its start, the join link opens the meeting.
            join = http.get(f"{base}{_link(box.text(singapore), 'join')}",
                            allow_redirects=False)
            assert join.status_code in (302, 303), join.text[:2000]
            assert join.headers["Location"] == SINGAPORE_ROOM
            early = http.get(f"{base}{_link(box.text(boston), 'join')}", allow_redirects=False)
            assert early.status_code == 200 and BOSTON_ROOM not in early.text
            processes.check_running()
    finally:
        processes.stop_all()
    errors = [line for line in processes.output("gunicorn").splitlines()
              if "Traceback" in line or " 500 " in line]
    assert not errors, processes.output("gunicorn")[-3000:]


def _answers(http: requests.Session, base: str) -> bool:
    try:
        return http.get(f"{base}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False

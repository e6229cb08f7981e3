"""Background jobs (webapp/services/jobs.py): run after the commit and never after a
rollback, inline without Redis and on real RQ workers with it; a failing job retried, then
listed on the admin page of failed jobs and retried from there; mail given up on, retried
from the same page; and each reminder sent once when two worker processes run the same
event's reminders on PostgreSQL."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import csrf_token, login
from tests.factories import Factory
from tests.processes import Processes, mail_server, production_env, wait_for
from webapp import unit
from webapp.extensions import db as _db
from webapp.models import (
    BadgeBatch,
    BadgeFormat,
    BatchStatus,
    OutboxMessage,
    OutboxStatus,
    ReminderDelivery,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import badge_batches, jobs, notifications

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RAN: list[tuple] = []


def record(*args) -> None:
    """A job that notes that it ran."""
    RAN.append(args)


def refuse(reason: str) -> None:
    """A job that always fails."""
    RAN.append((reason,))
    raise RuntimeError(f"the relay refused: {reason}")


@unit.job
def welcome(email: str) -> None:
    """A job whose service writes an account and mails it."""
    user = Factory().user(email=email)
    notifications.queue(user, "Welcome", "base", body="...")
    _db.session.flush()
    RAN.append(("welcomed", email))


@unit.job
def welcome_then_break(email: str) -> None:
    """A job that raises after its service wrote an account and its mail."""
    welcome(email)  # part of this job's unit
    raise RuntimeError("the job broke after writing")


@pytest.fixture(autouse=True)
def _nothing_ran_yet():
    RAN.clear()


# --------------------------------------------------------------------------- inline


def test_without_redis_a_job_runs_after_the_commit_and_never_after_a_rollback(app, db, make):
    assert not jobs.in_background()
    make.user()  # the session is in a transaction
    jobs.enqueue(record, "committed")
    assert RAN == []
    db.session.commit()
    jobs.run_committed()
    assert RAN == [("committed",)]

    make.user()
    jobs.enqueue(record, "rolled back")
    db.session.rollback()
    db.session.commit()
    jobs.run_committed()
    assert RAN == [("committed",)]


def test_outside_a_transaction_a_job_runs_at_once(app, db):
    db.session.commit()
    jobs.enqueue(record, 1, "2027-02-09T15:00:00+00:00")
    assert RAN == [(1, "2027-02-09T15:00:00+00:00")]


def test_a_transaction_that_only_read_holds_no_job_back(app, db, make):
    make.user()
    db.session.commit()
    db.session.scalar(select(OutboxMessage.id).limit(1))
    assert db.session().in_transaction()
    jobs.enqueue(record, "at once")
    assert RAN == [("at once",)]


def test_a_job_that_raises_after_writing_leaves_no_row_and_no_mail(app, db, mailbox):
    with pytest.raises(RuntimeError, match="broke after writing"):
        welcome_then_break("broken@example.org")

    assert RAN == [("welcomed", "broken@example.org")]  # it did write, then raised
    assert db.session.scalar(select(User.id).where(User.email == "broken@example.org")) is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.to_address == "broken@example.org")) == 0
    jobs.run_committed()  # nothing is left waiting to be handed on either
    assert mailbox.messages == []


@pytest.mark.sqlite
def test_a_jobs_mail_is_handed_over_only_after_its_commit(open_app, monkeypatch):
    app = open_app("sqlite")
    handed: list[tuple[str, int]] = []
    hand_on = jobs._hand_on

    def watching(job, args):
        # Another connection sees only what the job's unit has committed.
        with _db.engine.connect() as other:
            visible = other.scalar(select(func.count()).select_from(OutboxMessage))
        handed.append((job.__name__, visible))
        hand_on(job, args)

    monkeypatch.setattr(jobs, "_hand_on", watching)
    with mail_server() as (port, box):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        welcome("welcome@example.org")
        assert handed == [("deliver", 1)]
        [mail] = box.to("welcome@example.org")
    assert mail["Subject"] == "Welcome"
    assert _db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT


def test_the_worker_refuses_to_start_without_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


# --------------------------------------------------------------------------- on RQ


@pytest.mark.redis
def test_with_redis_the_jobs_wait_in_the_queue_for_the_commit(on_rq):
    Factory().user()
    jobs.enqueue(record, "rolled back")
    _db.session.rollback()
    Factory().user()
    jobs.enqueue(record, "committed")
    assert jobs.queue().count == 0
    _db.session.commit()
    jobs.run_committed()
    assert jobs.queue().count == 1
    assert RAN == []  # nothing ran here
    jobs.work(burst=True)
    assert RAN == [("committed",)]


@pytest.mark.redis
def test_with_redis_a_request_leaves_its_mail_to_the_worker(on_rq):
    user = Factory().user(email="queued@example.org", email_verified_at=None)
    _db.session.commit()
    with mail_server() as (port, box):
        on_rq.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        client = on_rq.test_client()
        login(client, user)
        response = client.post("/resend-verification", data={
            "csrf_token": csrf_token(client, "/"), "next": "/events"})
        assert response.status_code == 302
        assert box.count() == 0 and jobs.queue().count == 1  # the request sent nothing
        jobs.work(burst=True)
        [message] = box.to("queued@example.org")
        assert "/verify/" in box.text(message)
    _db.session.commit()
    assert _db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT


@pytest.mark.redis
def test_with_redis_a_big_badge_batch_is_built_by_the_worker(on_rq):
    make = Factory()
    cluster = make.partner()
    event = make.event(organizers=[cluster])
    organizer = make.manager(cluster)
    for name in ("Anna Alpha", "Bart Bravo"):
        make.registration(event, make.user(make.organization(cluster), name=name),
                          S.SUBMITTED, S.APPROVED)
    _db.session.commit()
    batch = badge_batches.request_batch(organizer, event, BadgeFormat.A6)
    _db.session.commit()
    batch_id = batch.id
    assert badge_batches.start(batch_id) is None  # no thread: a job
    assert jobs.queue().count == 1
    assert _db.session.get(BadgeBatch, batch_id).status == BatchStatus.QUEUED
    jobs.work(burst=True)
    row = _db.session.get(BadgeBatch, batch_id)
    assert (row.status, row.done, row.total) == (BatchStatus.DONE, 2, 2)
    assert row.pdf.startswith(b"%PDF")


@pytest.mark.redis
def test_a_failing_job_is_retried_then_listed_and_retried_by_an_admin(on_rq, monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_INTERVALS", (0, 0))  # retried at once, twice
    client = on_rq.test_client()
    login(client, Factory().admin())
    _db.session.commit()
    jobs.enqueue(refuse, "mailbox full")
    jobs.work(burst=True)
    assert len(RAN) == 3  # the first run and two retries

    page = client.get("/admin/jobs").get_data(as_text=True)
    [failed] = jobs.failed()
    assert failed.attempts == 3
    assert failed.error == "RuntimeError: the relay refused: mailbox full"
    assert "refuse(&#39;mailbox full&#39;,)" in page or "refuse('mailbox full',)" in page
    assert "RuntimeError: the relay refused: mailbox full" in page

    response = client.post(f"/admin/jobs/{failed.id}/retry",
                           data={"csrf_token": csrf_token(client, "/admin/jobs")})
    assert response.status_code == 302
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "The job is back in the queue" in page
    assert jobs.failed() == [] and jobs.queue().count == 1
    jobs.work(burst=True)
    assert len(RAN) == 4

    again = client.post("/admin/jobs/no-such-job/retry",
                        data={"csrf_token": csrf_token(client, "/admin/jobs")},
                        follow_redirects=True)
    assert "There is no failed job no-such-job any more" in again.get_data(as_text=True)


@pytest.mark.redis
def test_a_job_waiting_for_its_retry_is_listed_as_retrying_with_its_error(on_rq, monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_INTERVALS", (600,))
    client = on_rq.test_client()
    login(client, Factory().admin())
    _db.session.commit()
    jobs.enqueue(refuse, "greylisted")
    jobs.work(burst=True)
    assert len(RAN) == 1  # ran once; its retry waits in RQ's schedule

    html = client.get("/admin/jobs").get_data(as_text=True)
    assert html.count('data-testid="retrying-job"') == 1
    assert "RuntimeError: the relay refused: greylisted" in html
    assert 'data-testid="failed-job"' not in html
    assert "Nothing failed" not in html and 'data-testid="nothing-given-up"' in html


@pytest.mark.redis
def test_with_redis_tick_queues_the_retries_due_for_the_workers(on_rq):
    user = Factory().user(email="retried@example.org")
    message = notifications.queue(user, "Second try", "base", body="...")
    _db.session.flush()
    message.attempts, message.last_error = 1, "ConnectionRefusedError: [Errno 111]"
    message.created_at = message.next_attempt_at = utcnow() - timedelta(minutes=2)
    _db.session.commit()
    jobs.queue().empty()  # as if its own delivery job had been lost
    with mail_server() as (port, box):
        on_rq.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        output = on_rq.test_cli_runner().invoke(args=["tick"]).output
        assert "1 message(s) for the workers" in output, output
        assert box.count() == 0
        jobs.work(burst=True)
        [sent] = box.to("retried@example.org")
        assert sent["Subject"] == "Second try"


def test_when_redis_is_down_pages_still_answer_and_mail_waits_in_the_outbox(
    app, client, db, make, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    member = make.user(email="waiting@example.org", email_verified_at=None)
    admin = make.admin()
    db.session.commit()
    login(client, member)
    response = client.post("/resend-verification", data={
        "csrf_token": csrf_token(client, "/"), "next": "/events"})
    assert response.status_code == 302  # committed, whatever the queue
    db.session.expire_all()
    [waiting] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == "waiting@example.org")).all()
    assert waiting.status == OutboxStatus.PENDING  # for the next tick

    login(client, admin)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert "The job queue cannot be reached" in page.get_data(as_text=True)
    retried = client.post("/admin/jobs/some-job/retry", follow_redirects=True,
                          data={"csrf_token": csrf_token(client, "/admin/jobs")})
    assert retried.status_code == 200
    assert "The job queue cannot be reached" in retried.get_data(as_text=True)


def test_once_redis_answers_again_the_worker_queues_the_mail_written_meanwhile(
    app, db, make, mailbox, monkeypatch
):
    """The mail service tells the queue what to catch up on (notifications.init_app); the
    worker does it when Redis answers again, and the message that got no job is sent."""
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    with unit.of_work("written while Redis is down"):
        notifications.queue(make.user(email="waited@example.org"), "Welcome", "base",
                            body="...")
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.PENDING

    monkeypatch.setitem(app.config, "REDIS_URL", None)  # back; the job runs inline here
    jobs._catch_up_after_outage()
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT
    assert [message["To"] for message in mailbox.messages] == ["waited@example.org"]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_retry_button_needs_the_csrf_token(client, db, make):
    login(client, make.admin())
    assert client.post("/admin/jobs/mail/1/retry").status_code == 400


# --------------------------------------------------------------------------- mail given up


def test_mail_given_up_on_is_listed_and_sent_again_after_retry(client, db, make, mailbox):
    db.session.execute(delete(OutboxMessage))
    user = make.user(email="far@example.org")
    message = notifications.queue(user, "Your badge", "base", body="...")
    db.session.flush()
    message.status, message.attempts = OutboxStatus.FAILED, 6
    message.last_error = "SMTPRecipientsRefused: {'far@example.org': (550, b'no such user')}"
    db.session.commit()
    login(client, make.admin())

    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Background jobs run inline" in page and page.count("data-testid=\"failed-mail\"") == 1
    assert "far@example.org" in page and "Your badge" in page and "no such user" in page
    response = client.post(f"/admin/jobs/mail/{message.id}/retry",
                           data={"csrf_token": csrf_token(client, "/admin/jobs")},
                           follow_redirects=True)
    assert "The message to far@example.org is back in the outbox" in response.get_data(
        as_text=True)
    [sent] = mailbox.to("far@example.org")
    assert sent["Subject"] == "Your badge"
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.SENT
    assert 'data-testid="nothing-failed"' in client.get("/admin/jobs").get_data(as_text=True)

    again = client.post(f"/admin/jobs/mail/{message.id}/retry",
                        data={"csrf_token": csrf_token(client, "/admin/jobs")},
                        follow_redirects=True)
    assert "That message is not waiting for a retry" in again.get_data(as_text=True)


def test_other_roles_cannot_see_failed_jobs(client, db, make):
    login(client, make.manager(make.partner()))
    assert client.get("/admin/jobs").status_code == 403


# --------------------------------------------------------------------------- two workers


@pytest.mark.postgres
@pytest.mark.redis
def test_two_worker_processes_send_each_reminder_once(open_app, database_url, tmp_path):
    """Two overlapping ticks queue the same event's reminders twice; two worker processes,
    released together, run both jobs: the database's key lets each reminder through once."""
    import redis
    from rq import Worker
    from rq.suspension import resume, suspend

    from tests.test_reminders import DAY_BEFORE, committed_webinar

    app = open_app("postgres", REDIS_URL=REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    w = committed_webinar(registrants=40)
    processes = Processes(tmp_path)
    try:
        with mail_server() as (port, box):
            for _ in range(2):
                result = app.test_cli_runner().invoke(
                    args=["tick", "--now", DAY_BEFORE.isoformat()])
                assert "reminders of 1 event(s) for the workers" in result.output, result.output
            assert jobs.queue().count == 2
            suspend(connection)  # both workers wait, then start at the same moment
            env = production_env(database_url, REDIS_URL, port)
            processes.worker(env, "worker-1")
            processes.worker(env, "worker-2")
            wait_for(lambda: len(Worker.all(connection=connection)) == 2, "two workers",
                     processes=processes)
            resume(connection)
            wait_for(lambda: box.count() >= 40 and jobs.queue().count == 0,
                     "the reminders", processes=processes)
            _db.session.commit()
            wait_for(lambda: _sent(w) == 40, "the outbox to be sent", processes=processes)
            assert box.count() == 40
            assert all(m["Subject"].startswith("Starts in 24 hours") for m in box.messages)
            assert len({m["To"] for m in box.messages}) == 40
    finally:
        processes.stop_all()
        connection.flushdb()
    rows = _db.session.scalar(select(func.count()).select_from(ReminderDelivery).where(
        ReminderDelivery.registration_id.in_(w.reg_ids)))
    assert rows == 40
    both = processes.output("worker-1") + processes.output("worker-2")
    assert both.count("reminders.remind") >= 2, both  # each worker ran one of the two jobs


def _sent(w) -> int:
    _db.session.commit()
    return _db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.subject.like("Starts in 24 hours%"),
        OutboxMessage.status == OutboxStatus.SENT))


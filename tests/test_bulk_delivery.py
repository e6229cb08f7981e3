"""A bulk decision's mails leave in one delivery job per DELIVERY_CHUNK messages, after
the commit (webapp/services/notifications.py): on the RQ queue with Redis, in the request
without it. Real Redis, a real RQ worker in burst mode, a real SMTP server."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from tests.conftest import IsolatedClient, csrf_token, login
from tests.factories import Factory
from tests.processes import mail_server
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus, Registration
from webapp.models import RegistrationStatus as S
from webapp.services import jobs, notifications, registrations

APPLICANTS = 120  # more than two chunks of DELIVERY_CHUNK (50)


def _applications(count: int):
    """A mission of one cluster with `count` applications and that cluster's manager."""
    make = Factory()
    cluster = make.partner()
    mission = make.event(organizers=[cluster], capacity=None)
    members = [make.user(make.organization(cluster)) for _ in range(count)]
    regs = [registrations.apply(m, mission.id, profile_consent=True) for m in members]
    manager = make.manager(cluster)
    db.session.commit()
    return manager, [r.id for r in regs], [m.email for m in members]


def _bulk_approve(app, manager, ids):
    client = app.test_client()
    login(client, manager)
    return client.post("/desk/bulk", data={
        "csrf_token": csrf_token(client, "/"), "ids": ids, "decision": "approve"})


def _approvals(box, email: str) -> list:
    return [m for m in box.to(email) if "approved" in m["Subject"].lower()]


def _approvals_unsent() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.subject.ilike("%approved%"), OutboxMessage.status != OutboxStatus.SENT))


def _deliveries_queued() -> list:
    return [job for job in jobs.queue().get_jobs()
            if job.func_name == f"{notifications.__name__}.deliver"]


@pytest.mark.redis
def test_a_bulk_approval_queues_one_delivery_job_per_chunk_and_mails_each_once(on_rq):
    manager, ids, emails = _applications(APPLICANTS)
    jobs.work(burst=True)  # the applications' own mails, out of the way
    with mail_server() as (port, box):
        on_rq.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        response = _bulk_approve(on_rq, manager, ids)
        assert response.status_code == 302
        assert box.count() == 0  # the request sent nothing
        queued = _deliveries_queued()
        assert len(queued) == math.ceil(APPLICANTS / notifications.DELIVERY_CHUNK)
        assert sorted(len(job.args[0]) for job in queued) == [20, 50, 50]
        jobs.work(burst=True)
        for email in emails:
            assert len(_approvals(box, email)) == 1, email
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.status == S.APPROVED)) == APPLICANTS
    assert _approvals_unsent() == 0


@pytest.mark.sqlite
def test_without_redis_a_bulk_approval_sends_its_mails_after_the_commit(open_app):
    app = open_app("sqlite")
    app.test_client_class = IsolatedClient
    manager, ids, emails = _applications(7)
    with mail_server() as (port, box):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        before = box.count()
        response = _bulk_approve(app, manager, ids)
        assert response.status_code == 302
        assert [len(_approvals(box, email)) for email in emails] == [1] * 7
        assert box.count() - before == 7
    assert _approvals_unsent() == 0

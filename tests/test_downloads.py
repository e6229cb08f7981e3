"""Files built in the background (services/downloads.py, views/downloads.py): the KPI
report, a KPI table's export and the delegation brochure are started by a POST, show their
progress, are readable only by whoever asked and may read what they hold, are joined by
a second request while one is built, expire, mail their link, and fail visibly.

Most tests build right after the request's commit in the test's session (tests/conftest.py);
the last ones run the real thread of the process and a real RQ worker on committed apps.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select, update

from tests.conftest import IsolatedClient, count_queries, csrf_token, login
from tests.downloading import press_build
from tests.factories import Factory, at
from tests.processes import mail_server
from tests.test_kpis import agreement, attended, delegate
from webapp import access
from webapp.extensions import db as _db
from webapp.models import (
    AgreementKind,
    AgreementStatus,
    Download,
    DownloadStatus,
    EventStatus,
    utcnow,
)
from webapp.services import downloads, jobs, kpis

REPORT = "/kpis/report.pdf?start=2019-01-01&end=2019-12-31"
YEAR_2019 = kpis.Period(date(2019, 1, 1), date(2019, 12, 31))


class Partnership:
    """Two clusters with an SME each on a 2019 mission, an agreement each; two managers
    of cluster A, one of cluster B, an admin."""

    def __init__(self, make):
        self.a = make.partner(name="Alpha Cluster", short_name="Alpha")
        self.b = make.partner(name="Beta Cluster", short_name="Beta")
        self.mission = make.event(organizers=[self.a], starts_at=at(2019, 6, 3, 1))
        alpha = make.organization(self.a, name="Alpha Sensors")
        beta = make.organization(self.b, name="Beta Mobility")
        attended(delegate(make, self.mission, alpha))
        attended(delegate(make, self.mission, beta))
        guest = make.organization(None, country="SG", name="Guest Pte")
        agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, self.a, [alpha, guest],
                  signed_on=date(2019, 7, 1), title="Alpha with Guest")
        self.manager_a = make.manager(self.a, name="Ada Alpha")
        self.other_manager_a = make.manager(self.a, name="Abel Alpha")
        self.manager_b = make.manager(self.b, name="Bea Beta")
        self.admin = make.admin()
        _db.session.flush()


@pytest.fixture
def partnership(make):
    return Partnership(make)


def progress(client, download_id: int) -> dict:
    response = client.get(f"/downloads/{download_id}/progress")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def count_downloads() -> int:
    return _db.session.scalar(select(func.count()).select_from(Download))


# --------------------------------------------------------------------------- the report


def test_the_report_is_started_by_a_post_shows_progress_and_mails_its_link(
        client, partnership, mailbox):
    login(client, partnership.manager_a)

    assert client.get(REPORT).status_code == 200
    assert count_downloads() == 0  # a GET starts nothing
    download_id = press_build(client, REPORT)

    state = progress(client, download_id)
    assert state["status"] == "ready" and state["done"] == state["total"] > 1
    page = client.get(f"/downloads/{download_id}").get_data(as_text=True)
    assert "kpi-report-2019-01-01-2019-12-31.pdf" in page
    assert 'data-testid="nav-downloads"' in page
    file = client.get(state["download_url"])
    assert file.status_code == 200 and file.data.startswith(b"%PDF")
    assert file.headers["Content-Disposition"] == (
        'attachment; filename="kpi-report-2019-01-01-2019-12-31.pdf"')
    assert file.headers["Cache-Control"] == "no-store"

    [mail] = mailbox.to(partnership.manager_a.email)
    assert "Your file is ready" in mail["Subject"]
    link = re.search(r"https?://\S+/downloads/(\d+)", mailbox.text(mail))
    assert link and int(link.group(1)) == download_id
    assert client.get(f"/downloads/{download_id}").status_code == 200

    listing = client.get("/downloads/").get_data(as_text=True)
    assert "KPI report" in listing and "Ready" in listing


def test_a_report_is_readable_only_by_whoever_asked_and_may_read_its_clusters(
        client, partnership):
    login(client, partnership.manager_a)
    download_id = press_build(client, REPORT)

    for stranger in (partnership.manager_b, partnership.admin, partnership.other_manager_a):
        login(client, stranger)
        for suffix in ("", "/progress", "/file"):
            assert client.get(f"/downloads/{download_id}{suffix}").status_code == 404
    login(client, partnership.manager_a)
    assert client.get("/downloads/999999/file").status_code == 404
    assert client.get(f"/downloads/{download_id}/file").status_code == 200

    # A requester who no longer manages the cluster the report holds may not read it.
    [grant] = partnership.manager_a.grants
    grant.partner = partnership.b
    _db.session.flush()
    assert client.get(f"/downloads/{download_id}/file").status_code == 404


def test_a_second_request_while_one_is_built_joins_it(client, partnership, mailbox):
    running, joined = downloads.request_kpi_report(partnership.manager_a, YEAR_2019,
                                                   {partnership.a.id})
    _db.session.flush()
    assert not joined

    login(client, partnership.other_manager_a)  # same cluster: the same file
    assert press_build(client, REPORT) == running.id
    login(client, partnership.manager_a)  # asked again: still one requester each
    assert press_build(client, REPORT) == running.id
    login(client, partnership.manager_b)  # another cluster: a file of its own
    assert press_build(client, REPORT) != running.id

    _db.session.refresh(running)
    assert {u.id for u in running.requesters} == {partnership.manager_a.id,
                                                  partnership.other_manager_a.id}
    downloads.build(running.id)
    for manager in (partnership.manager_a, partnership.other_manager_a):
        assert len(mailbox.to(manager.email)) == 1, manager.email
        login(client, manager)
        assert client.get(f"/downloads/{running.id}/file").status_code == 200


def test_an_expired_file_is_dropped_by_tick_and_its_link_says_so(app, client, partnership):
    login(client, partnership.manager_a)
    download_id = press_build(client, REPORT)
    later = utcnow() + downloads.KEPT_FOR + timedelta(minutes=1)

    assert downloads.purge_expired(now=later - timedelta(hours=2)) == 0
    assert downloads.purge_expired(now=later) == 1
    _db.session.execute(update(Download).where(Download.id == download_id)
                        .values(expires_at=utcnow() - timedelta(minutes=1)))

    response = client.get(f"/downloads/{download_id}/file")
    assert response.status_code == 410
    assert "kept for 24 hours and is gone" in response.get_data(as_text=True)
    page = client.get(f"/downloads/{download_id}").get_data(as_text=True)
    assert "This file was kept for a day and is gone." in page
    assert progress(client, download_id)["download_url"] is None


def test_a_failing_build_shows_failed_and_can_be_built_again(client, partnership,
                                                            monkeypatch):
    def broken(content, progress=None):
        raise RuntimeError("the renderer fell over")

    renders = kpis.render_report_pdf
    monkeypatch.setattr(kpis, "render_report_pdf", broken)
    login(client, partnership.manager_a)
    failed_id = press_build(client, REPORT)

    state = progress(client, failed_id)
    assert state["status"] == "failed"
    assert state["error"] == "The file could not be built. Please try again."
    assert client.get(f"/downloads/{failed_id}/file").status_code == 404
    page = client.get(f"/downloads/{failed_id}").get_data(as_text=True)
    assert 'data-testid="build-again"' in page

    monkeypatch.setattr(kpis, "render_report_pdf", renders)
    response = client.post(f"/downloads/{failed_id}/again",
                           data={"csrf_token": csrf_token(client, f"/downloads/{failed_id}")})
    assert response.status_code == 303
    again_id = int(response.location.rsplit("/", 1)[1])
    assert again_id != failed_id
    assert progress(client, again_id)["status"] == "ready"


def test_a_build_that_stopped_advancing_reads_as_failed_and_is_not_joined(
        client, partnership):
    stalled, _ = downloads.request_kpi_report(partnership.manager_a, YEAR_2019,
                                              {partnership.a.id})
    _db.session.flush()
    _db.session.execute(update(Download).where(Download.id == stalled.id).values(
        status=DownloadStatus.RUNNING,
        updated_at=utcnow() - downloads.STALE_AFTER - timedelta(seconds=1)))
    login(client, partnership.manager_a)

    state = progress(client, stalled.id)
    assert state["status"] == "failed"
    assert "stopped" in state["error"]
    fresh = press_build(client, REPORT)
    assert fresh != stalled.id and progress(client, fresh)["status"] == "ready"


# --------------------------------------------------------------------------- tables, brochure


def test_a_kpi_table_export_is_built_in_the_background(client, partnership):
    login(client, partnership.manager_a)
    download_id = press_build(client, "/kpis/tables/by_cluster.csv?start=2019-01-01")

    response = client.get(f"/downloads/{download_id}/file")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "Alpha" in response.data.decode("utf-8-sig")
    login(client, partnership.manager_b)
    assert client.get(f"/downloads/{download_id}/file").status_code == 404


def test_the_brochure_is_built_for_its_requester_alone(client, make, partnership):
    organizer = partnership.manager_a  # cluster A organizes the mission
    url = f"/events/{partnership.mission.id}/brochure.pdf"
    login(client, organizer)
    assert client.get(url).status_code == 200 and count_downloads() == 0
    download_id = press_build(client, url)

    assert progress(client, download_id)["status"] == "ready"
    assert client.get(f"/downloads/{download_id}/file").data.startswith(b"%PDF")
    # Manager B sees the delegation too, but this book is prepared for the organizer.
    login(client, partnership.manager_b)
    assert client.get(f"/downloads/{download_id}/file").status_code == 404
    login(client, make.user(make.organization(partnership.a)))
    response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403


def test_the_downloads_page_lists_ones_own_files_newest_first_a_page_at_a_time(
        client, partnership):
    for day in range(1, downloads.PAGE_SIZE + 2):
        downloads.request_kpi_report(partnership.manager_a,
                                     kpis.Period(date(2019, 1, day)), {partnership.a.id})
    _db.session.flush()
    login(client, partnership.manager_a)

    first = client.get("/downloads/").get_data(as_text=True)
    assert first.count("kpi-report-") == downloads.PAGE_SIZE
    assert first.index("2019-01-21") < first.index("2019-01-20")
    assert "?page=2" in first
    second = client.get("/downloads/?page=2").get_data(as_text=True)
    assert second.count("kpi-report-") == 1 and "2019-01-01" in second
    login(client, partnership.manager_b)
    assert "kpi-report-" not in client.get("/downloads/").get_data(as_text=True)


def test_a_downloads_page_is_full_though_unreadable_files_lie_between_its_rows(
        client, partnership):
    """The page is cut from the files the reader may read, not filtered after the cut:
    reports of wider scope the manager asked for (or joined) and other people's files
    lie between theirs, and the first page still holds PAGE_SIZE of their own."""
    a, both = {partnership.a.id}, {partnership.a.id, partnership.b.id}
    for day in range(1, downloads.PAGE_SIZE + 2):
        downloads.request_kpi_report(partnership.manager_a, kpis.Period(date(2019, 1, day)), a)
        downloads.request_kpi_report(partnership.admin, kpis.Period(date(2019, 2, day)), both)
        downloads.request_kpi_report(partnership.manager_a, kpis.Period(date(2019, 2, day)),
                                     both)  # joins the admin's: its rows hold cluster B's
        downloads.request_kpi_report(partnership.manager_b, kpis.Period(date(2019, 3, day)),
                                     {partnership.b.id})
    _db.session.flush()
    login(client, partnership.manager_a)

    first = client.get("/downloads/").get_data(as_text=True)
    assert first.count("kpi-report-2019-01-") == downloads.PAGE_SIZE
    assert "kpi-report-2019-02-" not in first and "kpi-report-2019-03-" not in first
    assert "?page=2" in first
    second = client.get("/downloads/?page=2").get_data(as_text=True)
    assert second.count("kpi-report-") == 1 and "2019-01-01" in second
    assert "?page=3" not in second


def test_the_downloads_listed_are_those_access_lets_one_read(make, partnership):
    """`access.downloads_visible_to` agrees with `download.view` over every kind, scope
    and role, each user having asked for every file."""
    beachhead = make.partner(name="Harbour Hub", short_name="Harbour")
    host = make.host(beachhead)
    draft = make.event(organizers=[partnership.a], hosts=[beachhead], status=EventStatus.DRAFT)
    hosted = make.event(organizers=[partnership.b], hosts=[beachhead])
    member = make.user(make.organization(partnership.a))
    users = [partnership.manager_a, partnership.other_manager_a, partnership.manager_b,
             partnership.admin, host, member]
    a, b = partnership.a.id, partnership.b.id
    files = [downloads.request_kpi_report(partnership.admin, YEAR_2019, clusters)[0]
             for clusters in ({a}, {b}, {a, b}, None)]
    files.append(downloads.request_kpi_table(partnership.manager_a, "agreements", "csv",
                                             YEAR_2019, {a})[0])
    for requester in users:
        for event in (partnership.mission, draft, hosted):
            files.append(downloads.request_brochure(requester, event)[0])
    for download in files:
        for user in users:
            if user not in download.requesters:
                download.requesters.append(user)
    _db.session.flush()

    for user in users:
        listed = set(_db.session.scalars(access.downloads_visible_to(user)))
        readable = {d for d in files if access.can(user, "download.view", d)}
        assert listed == readable, user.name
    assert set(_db.session.scalars(access.downloads_visible_to(AnonymousUserMixin()))) == set()


def test_the_downloads_page_costs_the_same_queries_for_3_files_as_for_12(
        client, make, partnership):
    def page_queries(count: int) -> int:
        manager = make.manager(partnership.a)
        mission = make.event(organizers=[partnership.a])
        for day in range(1, count + 1):
            if day % 2:
                downloads.request_kpi_report(manager, kpis.Period(date(2019, 1, day)),
                                             {partnership.a.id})
            else:
                downloads.request_brochure(manager, mission)
                _db.session.flush()
                mission = make.event(organizers=[partnership.a])
        _db.session.flush()
        login(client, manager)
        client.get("/downloads/")  # the session's first page
        with count_queries() as statements:
            page = client.get("/downloads/").get_data(as_text=True)
        assert page.count('href="/downloads/') - page.count('href="/downloads/"') == count
        return len(statements)

    assert page_queries(3) == page_queries(12)


# --------------------------------------------------------------------------- where it runs


def _committed_partnership() -> Partnership:
    found = Partnership(Factory())
    _db.session.commit()
    return found


@pytest.mark.sqlite
def test_without_redis_the_file_is_built_on_a_thread_of_the_process(open_app):
    app = open_app("sqlite")
    partnership = _committed_partnership()
    with mail_server() as (port, box):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        download, _ = downloads.request_kpi_report(partnership.manager_a, YEAR_2019,
                                                   {partnership.a.id})
        _db.session.commit()
        thread = downloads.start(download.id)
        assert isinstance(thread, threading.Thread)
        thread.join(timeout=120)
        assert not thread.is_alive()
        _db.session.rollback()
        row = _db.session.get(Download, download.id)
        assert row.status == DownloadStatus.READY and row.body.startswith(b"%PDF")
        assert len(box.to(partnership.manager_a.email)) == 1


@pytest.mark.sqlite
def test_a_request_answers_at_once_and_the_thread_builds_after_its_commit(open_app):
    app = open_app("sqlite")
    app.test_client_class = IsolatedClient
    partnership = _committed_partnership()
    client = app.test_client()
    login(client, partnership.manager_a)

    download_id = press_build(client, REPORT)
    seen, deadline = [], time.monotonic() + 120
    while not seen or seen[-1] in ("queued", "running"):
        assert time.monotonic() < deadline, seen
        seen.append(progress(client, download_id)["status"])
        time.sleep(0.05)
    assert seen[-1] == "ready", seen
    assert client.get(f"/downloads/{download_id}/file").data.startswith(b"%PDF")


@pytest.mark.redis
def test_with_redis_the_file_is_built_by_the_worker(on_rq):
    partnership = _committed_partnership()
    email = partnership.manager_a.email  # the worker ends this session's objects
    with mail_server() as (port, box):
        on_rq.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        client = on_rq.test_client()
        login(client, partnership.manager_a)
        download_id = press_build(client, REPORT)
        assert progress(client, download_id)["status"] == "queued"
        jobs.work(burst=True)
        assert progress(client, download_id)["status"] == "ready"
        assert client.get(f"/downloads/{download_id}/file").data.startswith(b"%PDF")
        assert len(box.to(email)) == 1

"""Big badge batches: built in the background, their progress read from the database,
the file offered to its requester alone and for an hour; and the progress `render`
reports while it lays the badges out."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from tests.conftest import download_pdf, login
from tests.factories import Factory
from tests.live import committed_app, form_fields
from tests.render_badges import badge as sample_badge
from tests.test_badges import page_sizes, pages_text
from webapp.extensions import db as _db
from webapp.models import BadgeBatch, BadgeFormat, BatchStatus, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import badge_batches, badges, jobs

NAMES = ["Anna Alpha", "Bart Bravo", "Carla Charlie", "Dirk Delta", "Emma Echo"]


@pytest.fixture
def background(app, monkeypatch):
    """Five badges count as a big batch: what is tested is the way above the threshold,
    not its size, and 101 badges would take seconds to render. The batch is built inline,
    in the request's session: the test's data is never committed, so a thread of its own
    would not see it."""
    monkeypatch.setattr(badges, "BACKGROUND_THRESHOLD", 3)
    monkeypatch.setattr(badge_batches, "start",
                        lambda batch_id: jobs.enqueue(badge_batches.build, batch_id))


class Mission:
    def __init__(self, make):
        cluster = make.partner(name="Alpha Smart Cities")
        organizing = make.partner(name="Organizing Cluster")
        self.event = make.event(organizers=[organizing])
        self.organizer = make.manager(organizing)
        self.other_organizer = make.manager(organizing)
        self.manager = make.manager(cluster)
        self.admin = make.admin()
        for name in NAMES:
            make.registration(self.event, make.user(make.organization(cluster), name=name),
                              S.SUBMITTED, S.APPROVED)

    @property
    def page_url(self) -> str:
        return f"/events/{self.event.id}/badges"


@pytest.fixture
def mission(make, background):
    return Mission(make)


def start_batch(client, mission) -> int:
    """Press "Build the badges" on the event's badge page, as a browser would."""
    action = f"{mission.page_url}/batches"
    fields = form_fields(client.get(mission.page_url).get_data(as_text=True), action)
    assert fields, "the page offers no batch to build"
    response = client.post(action, data=MultiDict(fields))
    assert response.status_code == 303, response.status_code
    prefix = "/badges/batches/"
    assert response.location.startswith(prefix)
    return int(response.location.removeprefix(prefix))


def progress(client, batch_id: int) -> dict:
    response = client.get(f"/badges/batches/{batch_id}/progress")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_a_big_batch_goes_to_the_badge_page_instead_of_downloading(client, mission):
    login(client, mission.organizer)
    response = client.get(f"/events/{mission.event.id}/badges.pdf?format=a6&partner=all")
    assert response.status_code == 302
    assert response.location == mission.page_url
    page = client.get(mission.page_url).get_data(as_text=True)
    assert "5 badges are built in the background" in page
    assert form_fields(page, f"{mission.page_url}/batches")


def test_a_background_batch_reports_done_and_holds_every_badge(client, mission, tmp_path):
    login(client, mission.organizer)
    batch_id = start_batch(client, mission)
    assert client.get(f"/badges/batches/{batch_id}").status_code == 200
    state = progress(client, batch_id)
    assert state["status"] == "done"
    assert state["done"] == state["total"] == len(NAMES)
    assert state["percent"] == 100
    assert state["download_url"] == f"/badges/batches/{batch_id}/badges.pdf"
    assert state["expired"] is False and state["expires_at"]

    body = download_pdf(client, mission.organizer, state["download_url"])
    pages = pages_text(body, tmp_path)
    assert len(pages) == len(NAMES)
    assert all(name in page for name, page in zip(NAMES, pages, strict=True))


def test_a_batch_is_its_requesters_alone(client, mission):
    login(client, mission.organizer)
    batch_id = start_batch(client, mission)
    for other in (mission.other_organizer, mission.manager, mission.admin):
        login(client, other)
        for suffix in ("", "/progress", "/badges.pdf"):
            assert client.get(f"/badges/batches/{batch_id}{suffix}").status_code == 404, (
                other.name, suffix)


def test_after_an_hour_the_file_is_gone_and_purged(client, db, mission):
    login(client, mission.organizer)
    old = start_batch(client, mission)
    finished = utcnow() - badge_batches.KEPT_FOR - timedelta(minutes=1)
    db.session.execute(update(BadgeBatch).where(BadgeBatch.id == old)
                       .values(finished_at=finished))
    # A batch finished a minute ago: a few bytes stand in for its file.
    fresh = BadgeBatch(event_id=mission.event.id, requested_by_id=mission.organizer.id,
                       format=BadgeFormat.A6, status=BatchStatus.DONE, total=len(NAMES),
                       done=len(NAMES), finished_at=utcnow() - timedelta(minutes=1),
                       pdf=b"%PDF-1.7\n%%EOF\n")
    db.session.add(fresh)
    db.session.flush()
    fresh = fresh.id

    assert client.get(f"/badges/batches/{old}/badges.pdf").status_code == 410
    state = progress(client, old)
    assert state["expired"] is True and state["download_url"] is None
    assert client.get(f"/badges/batches/{fresh}/badges.pdf").status_code == 200

    assert badge_batches.purge_expired() >= 1
    files = dict(db.session.execute(
        select(BadgeBatch.id, BadgeBatch.pdf.is_not(None)).where(
            BadgeBatch.id.in_([old, fresh]))).all())
    assert files == {old: False, fresh: True}


@pytest.mark.parametrize("status", [BatchStatus.QUEUED, BatchStatus.RUNNING])
def test_a_batch_that_stopped_advancing_reads_as_failed(client, db, mission, status):
    now = utcnow()

    def batch(updated_at) -> int:
        row = BadgeBatch(event_id=mission.event.id, requested_by_id=mission.organizer.id,
                         format=BadgeFormat.A6, status=status, total=len(NAMES), done=2,
                         created_at=updated_at, updated_at=updated_at)
        db.session.add(row)
        db.session.flush()
        return row.id

    stale = batch(now - badge_batches.STALE_AFTER - timedelta(seconds=5))
    advancing = batch(now - timedelta(seconds=5))
    login(client, mission.organizer)
    state = progress(client, stale)
    assert state["status"] == "failed" and state["error"] and state["download_url"] is None
    assert progress(client, advancing)["status"] == status.value


@pytest.mark.parametrize("paper, layout_badges, steps, pages", [
    ("a6", 1, [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)], 6),  # after every badge
    ("a6", 4, [(4, 6), (6, 6)], 6),  # after every group of four pages
    ("a4", 1, [(4, 6), (6, 6)], 2),  # after every sheet of four
    ("a4", 8, [(6, 6)], 2),  # two sheets laid out together
])
def test_render_reports_progress_per_group_of_pages(db, tmp_path, monkeypatch, paper,
                                                   layout_badges, steps, pages):
    # Pages are written in chunks of two here, so the merged file is checked as well.
    monkeypatch.setattr(badges, "CHUNK_PAGES", 2)
    monkeypatch.setattr(badges, "LAYOUT_BADGES", layout_badges)
    reported = []
    body = badges.render([sample_badge(n, f"Delegate {n}") for n in range(1, 7)],
                         BadgeFormat(paper), progress=lambda done, total:
                         reported.append((done, total)))
    assert reported == steps
    texts = pages_text(body, tmp_path)
    assert len(texts) == pages
    text = " ".join(texts)
    assert sorted(range(1, 7), key=lambda n: text.index(f"Delegate {n}")) == list(range(1, 7))


def test_a_batch_on_a_thread_of_its_own_advances_to_its_total(tmp_path, monkeypatch):
    """Committed data, a real thread, and a poller reading the row as another server
    would."""
    # One page laid out at a time and every step written, so the poller has steps to see
    # (a real batch lays out 25 badges at a time and writes at most five steps a second,
    # which four badges would not reach).
    monkeypatch.setattr(badge_batches._Progress, "WRITE_EVERY", 0.0)
    monkeypatch.setattr(badges, "LAYOUT_BADGES", 1)
    written: list[int] = []
    step = badge_batches._step

    def recording_step(batch_id, **values):
        if "done" in values:
            written.append(values["done"])
        step(batch_id, **values)

    monkeypatch.setattr(badge_batches, "_step", recording_step)
    with committed_app(f"sqlite:///{tmp_path / 'batches.db'}"):
        make = Factory()
        cluster = make.partner()
        event = make.event(organizers=[cluster])
        organizer = make.manager(cluster)
        for name in NAMES[:4]:
            make.registration(event, make.user(make.organization(cluster), name=name),
                              S.SUBMITTED, S.APPROVED)
        _db.session.commit()
        batch = badge_batches.request_batch(organizer, event, BadgeFormat.A6)
        _db.session.commit()
        batch_id, total = batch.id, batch.total
        thread = badge_batches.start(batch_id)
        assert isinstance(thread, threading.Thread)

        seen, deadline = [], time.monotonic() + 60
        while True:
            status, done = _db.session.execute(
                select(BadgeBatch.status, BadgeBatch.done).where(BadgeBatch.id == batch_id)
            ).one()
            _db.session.rollback()  # a fresh snapshot for the next look
            seen.append(done)
            if status in (BatchStatus.DONE, BatchStatus.FAILED) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        thread.join(timeout=30)
        assert not thread.is_alive()
        row = _db.session.get(BadgeBatch, batch_id)
        assert (row.status, row.done, row.total, row.error) == (BatchStatus.DONE, 4, 4, "")
        body = row.pdf

    assert total == 4
    assert written == [0, 1, 2, 3, 4]
    assert seen == sorted(seen) and seen[-1] == total
    assert len(page_sizes(body, tmp_path)) == total

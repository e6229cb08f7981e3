"""The unit of work (webapp.unit): one owner commits or rolls back once, mail leaves only
after the commit, writes happen in the write step, and the aside transaction never runs
while the unit holds SQLite's write lock."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from flask import render_template_string
from sqlalchemy import func, insert, select

from tests.conftest import IsolatedClient
from webapp import unit
from webapp.extensions import csrf, db
from webapp.models import OutboxMessage, ThrottleHit, utcnow
from webapp.services import notifications

ROOT = Path(__file__).resolve().parent.parent
COMMIT_OR_ROLLBACK = re.compile(r"\.(commit|rollback)\(\)")


@pytest.mark.parametrize("layer", ["services", "views"])
def test_no_service_or_view_commits_or_rolls_back(layer):
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "webapp" / layer).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COMMIT_OR_ROLLBACK.search(line)
    ]
    assert offenders == []


# -- a committed app with routes of its own ------------------------------------------------


def _hit(key: str) -> None:
    db.session.add(ThrottleHit(key=key, created_at=utcnow()))


def _count(model, *where) -> int:
    db.session.commit()  # a fresh snapshot (SQLite keeps showing the old one otherwise)
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _other_writer(app) -> sqlite3.Connection:
    """A second connection to the same SQLite file that never waits for a lock."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def _can_write_now(app) -> bool:
    other = _other_writer(app)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


@pytest.fixture
def unit_app(open_app, app, mailbox):
    """A committed SQLite app with test routes that write, fail, render and read; its
    mail goes to the `mailbox`."""
    mail_port = app.config["MAIL_PORT"]
    app = open_app("sqlite", MAIL_PORT=mail_port)
    app.test_client_class = IsolatedClient
    seen: dict[str, bool] = {}

    def write_and_mail(key: str) -> None:
        _hit(key)
        notifications.queue(f"{key}@example.org", f"About {key}", "base", body=key)
        db.session.flush()

    @app.post("/unit/ok/<key>")
    @csrf.exempt
    def ok(key):
        write_and_mail(key)
        return "written"

    @app.post("/unit/raises/<key>")
    @csrf.exempt
    def raises(key):
        write_and_mail(key)
        raise RuntimeError("after the service call")

    @app.post("/unit/refused/<key>")
    @csrf.exempt
    def refused(key):
        write_and_mail(key)
        return "no", 409

    @app.get("/unit/get-writes/<key>")
    def get_writes(key):
        _hit(key)
        db.session.flush()
        return "written"

    @app.get("/unit/get-write-step/<key>")
    def get_write_step(key):
        unit.write_step()
        _hit(key)
        return "written"

    @app.post("/unit/renders")
    @csrf.exempt
    def renders():
        db.session.scalar(select(func.count()).select_from(ThrottleHit))
        seen["locked before rendering"] = not _can_write_now(app)
        return render_template_string("{{ free() }}", free=lambda: _can_write_now(app))

    @app.post("/unit/statement-then-refused/<key>")
    @csrf.exempt
    def statement_then_refused(key):
        db.session.execute(insert(ThrottleHit).values(key=key, created_at=utcnow()))
        return render_template_string("no"), 409

    @app.post("/unit/reads-slowly")
    @csrf.exempt
    def reads_slowly():
        with unit.reading():
            db.session.scalar(select(func.count()).select_from(ThrottleHit))
            seen["free while reading"] = _can_write_now(app)
        db.session.scalar(select(func.count()).select_from(ThrottleHit))
        seen["locked after reading"] = not _can_write_now(app)
        _hit("after-reading")
        return "read"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.unit_seen = seen
    return app


def test_a_unit_that_succeeds_commits_once_and_mails_after_the_commit(unit_app, mailbox):
    response = unit_app.test_client().post("/unit/ok/anna")
    assert response.status_code == 200
    assert _count(ThrottleHit, ThrottleHit.key == "anna") == 1
    assert [m["Subject"] for m in mailbox.messages] == ["About anna"]


def test_an_exception_after_a_service_call_leaves_no_row_and_no_mail(unit_app, mailbox):
    response = unit_app.test_client().post("/unit/raises/bruno")
    assert response.status_code == 500
    assert _count(ThrottleHit, ThrottleHit.key == "bruno") == 0
    assert _count(OutboxMessage, OutboxMessage.to_address == "bruno@example.org") == 0
    assert mailbox.messages == []


def test_an_error_answer_rolls_the_unit_back(unit_app, mailbox):
    response = unit_app.test_client().post("/unit/refused/carla")
    assert response.status_code == 409
    assert _count(ThrottleHit, ThrottleHit.key == "carla") == 0
    assert _count(OutboxMessage) == 0
    assert mailbox.messages == []


def test_a_get_that_writes_outside_a_write_step_is_refused(unit_app):
    response = unit_app.test_client().get("/unit/get-writes/dora")
    assert response.status_code == 500
    assert _count(ThrottleHit, ThrottleHit.key == "dora") == 0


def test_a_get_that_begins_its_write_step_writes(unit_app):
    assert unit_app.test_client().get("/unit/get-write-step/emil").status_code == 200
    assert _count(ThrottleHit, ThrottleHit.key == "emil") == 1


def test_a_writing_request_holds_the_lock_from_its_first_read_but_not_while_rendering(
        unit_app):
    response = unit_app.test_client().post("/unit/renders")
    assert response.status_code == 200
    assert unit_app.unit_seen["locked before rendering"] is True
    assert response.get_data(as_text=True) == "True"


def test_a_write_by_statement_is_not_committed_by_the_page_rendered_after_it(unit_app):
    """An INSERT/UPDATE/DELETE statement (not a flush) counts as the unit's write: the
    page rendered after it does not end the write step, so a refusal rolls it back."""
    response = unit_app.test_client().post("/unit/statement-then-refused/fritz")
    assert response.status_code == 409
    assert _count(ThrottleHit, ThrottleHit.key == "fritz") == 0


def test_a_reading_phase_holds_no_lock_and_the_write_step_follows_it(unit_app):
    assert unit_app.test_client().post("/unit/reads-slowly").status_code == 200
    assert unit_app.unit_seen == {"free while reading": True, "locked after reading": True}
    assert _count(ThrottleHit, ThrottleHit.key == "after-reading") == 1


# -- the aside transaction -----------------------------------------------------------------


def test_an_aside_outlives_the_unit_that_rolls_back(unit_app):
    with pytest.raises(RuntimeError, match="later"), unit.of_work("test"):
        with unit.aside("throttle"):
            _hit("kept")
        _hit("dropped")
        raise RuntimeError("later")
    assert _count(ThrottleHit, ThrottleHit.key == "kept") == 1
    assert _count(ThrottleHit, ThrottleHit.key == "dropped") == 0


def test_an_aside_never_runs_while_the_unit_holds_the_write_lock(unit_app):
    with pytest.raises(RuntimeError, match="already under way"), unit.of_work("test"):
        _hit("first")
        db.session.flush()
        assert not _can_write_now(unit_app)  # the unit holds SQLite's write lock
        with unit.aside("throttle"):
            _hit("aside")
    assert _count(ThrottleHit) == 0


def test_an_aside_after_a_write_step_that_wrote_nothing_ends_it_first(unit_app):
    with unit.of_work("test"):
        unit.write_step()
        assert not _can_write_now(unit_app)
        with unit.aside("throttle"):
            _hit("aside")
        assert _can_write_now(unit_app)  # the aside committed, the lock is free again
        _hit("unit")
    assert _count(ThrottleHit) == 2


def test_only_the_named_kinds_go_aside(unit_app):
    with pytest.raises(ValueError, match="the unit commits it"), unit.aside("registration"):
        pass


def test_the_suites_ledger_catches_a_unit_that_commits_twice(unit_app):
    """The ledger every test runs under (conftest's _one_write_transaction_per_unit)
    names a unit that writes in two transactions, and not one that writes in one plus an
    aside."""
    from tests.conftest import _ledger

    seen = len(_ledger.offenders)
    with unit.of_work("command proper"):
        with unit.aside("throttle"):
            _hit("counted aside")
        _hit("the unit's own")
    with unit.of_work("command twice"):
        _hit("first")
        db.session.commit()  # what no service or view may do
        _hit("second")
    caught = _ledger.offenders[seen:]
    del _ledger.offenders[seen:]  # this test's own offender fails nothing else
    assert caught == ["command twice"]

"""The capacity lock: what the deciding step sends to the database."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import event as sa_event

from tests.factories import Factory
from webapp import create_app
from webapp.extensions import db
from webapp.services import registrations


@pytest.fixture
def committed_app(tmp_path, database_url):
    """An app whose sessions commit for real (no per-test rollback): on SQLite its own file."""
    url = database_url if database_url.startswith("postgresql") else f"sqlite:///{tmp_path}/lock.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if url.startswith("sqlite"):
            upgrade()
        yield app
        db.session.remove()
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
        db.engine.dispose()


def _statements(engine):
    seen: list[str] = []

    @sa_event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    return seen


def test_decision_takes_the_write_lock_before_counting(committed_app):
    make = Factory()
    cluster = make.partner()
    event = make.event(organizers=[cluster])
    member = make.user(make.organization(cluster))
    manager = make.manager(cluster)
    db.session.commit()
    reg = registrations.apply(member, event.id, profile_consent=True)
    db.session.commit()  # the application's own unit
    db.session.expire_all()
    _ = manager.name  # a read transaction is open, as in a request

    seen = _statements(db.engine)
    registrations.decide(reg.id, "approve", actor=manager)

    lock_at = next(i for i, s in enumerate(seen) if "FROM events" in s)
    if db.engine.dialect.name == "sqlite":
        assert "BEGIN IMMEDIATE" in seen[:lock_at]
    else:
        assert seen[lock_at].endswith("FOR UPDATE")
    update_at = next(i for i, s in enumerate(seen) if s.startswith("UPDATE registrations"))
    assert lock_at < update_at

"""The public pages' cost does not grow with the data: the SQL statements a page runs are
the same with 3 events as with 30, rendered afresh or answered from the pages kept for
visitors (one statement: the data version, webapp/http_cache.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import count_queries
from tests.factories import at

NOW = at(2027, 1, 10, 12)
PAGES = ["/", "/events", "/events?when=past", "/events?kind=webinar&country=SG",
         "/events?start=2026-01-01&end=2028-12-31", "/events?page=2", "/events/event-0",
         "/login"]


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield


def _events(make, count: int, start: int = 0) -> None:
    cluster, beachhead = make.partner(), make.beachhead()
    for n in range(start, start + count):
        event = make.event(slug=f"event-{n}", organizers=[cluster], hosts=[beachhead],
                           starts_at=NOW + timedelta(days=(n % 7) - 3, hours=n, minutes=7))
        make.session(event)
        make.session(event, title="Reception")


def _statements(app, client, path: str, *, kept: bool) -> list[str]:
    # A first request reads the new data's version; the measured one renders the page
    # again (not kept) or answers from the kept page.
    client.get(path)
    if not kept:
        app.extensions["public_pages"].clear()
    with count_queries() as statements:
        assert client.get(path).status_code == 200, path
    return statements


@pytest.mark.parametrize("path", PAGES)
def test_a_public_page_runs_as_many_statements_with_30_events_as_with_3(
        app, client, make, frozen, path, monkeypatch):
    # Two per page: the second page of the catalogue has events with 3 of them too.
    monkeypatch.setitem(app.config, "EVENTS_PER_PAGE", 2)
    _events(make, 3)
    client.get(path)
    few = _statements(app, client, path, kept=False)
    _events(make, 27, start=3)
    many = _statements(app, client, path, kept=False)
    assert len(many) == len(few), (few, many)


@pytest.mark.parametrize("path", [p for p in PAGES if p != "/login"])
def test_a_kept_page_answers_with_one_statement(app, client, make, frozen, path):
    _events(make, 30)
    client.get(path)
    statements = _statements(app, client, path, kept=True)
    # SQLite's data version says nothing changed; PostgreSQL's snapshot cannot inside the
    # test's open transaction, so the version is read again there: one query on events.
    assert len(statements) <= 2
    assert all("partners" not in s and "event_sessions" not in s for s in statements)


def test_the_sign_in_page_kept_runs_no_statement(app, client, db):
    client.get("/login")
    assert _statements(app, client, "/login", kept=True) == []

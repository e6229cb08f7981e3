"""The organizers' schedule pages (webapp/views/schedule.py): the grid of slots and
meeting points with each placed meeting, the meetings waiting and why, the last run's
report, in a fixed number of queries; "schedule all" started by a POST and followed on
its progress page, a second one joining it; a meeting moved by hand onto a valid target
only (another event's meeting is unknown, a taken slot is refused and nothing changes);
publishing and reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import count_queries, csrf_token
from tests.test_meeting_requests import NOW as MARKET_NOW
from tests.test_meeting_requests import with_meetings
from webapp.extensions import db as _db
from webapp.forms.schedule import target_value
from webapp.models import AuditEntry, Matchmaking, Meeting, ScheduleRun, ScheduleState
from webapp.services import jobs, meeting_schedule

NOW = MARKET_NOW


@pytest.fixture(autouse=True)
def runs_in_the_test_session(monkeypatch):
    """A run asked for by a request is worked out right after its commit, in the test's
    own session (its data is never committed, so a thread would not see it)."""
    monkeypatch.setattr(meeting_schedule, "start",
                        lambda run_id: jobs.enqueue(meeting_schedule.run_job, run_id))


def market_with(make, people: int, pairs):
    return with_meetings(make, people=people, pairs=pairs)


@pytest.fixture
def market(make, frozen):
    return market_with(make, 4, ((0, 1), (0, 2), (1, 3)))


def url(market, suffix: str = "") -> str:
    return f"/events/{market.event_id}/matchmaking/schedule/{suffix}"


def post(client, market, suffix: str, data: dict | None = None):
    return client.post(url(market, suffix),
                       data={**(data or {}), "csrf_token": csrf_token(client, url(market))})


def meetings(event_id: int) -> list[Meeting]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(Meeting).where(Meeting.event_id == event_id)
                                    .order_by(Meeting.request_id)))


def test_schedule_all_from_the_page_shows_its_progress_then_the_grid_and_report(
        client, login_as, market):
    login_as(market.organizer)
    response = post(client, market, "runs", {"seconds": "5"})
    assert response.status_code == 303
    progress = client.get(response.location + "/progress").get_json()
    assert progress["status"] == "done" and progress["download_url"]
    run = _db.session.scalar(select(ScheduleRun))
    assert run.finished_at is not None and run.error is None and run.seconds_limit == 5

    page = client.get(url(market)).get_data(as_text=True)
    assert page.count('data-testid="placed-meeting"') == 3
    assert "3 of at most 3 possible" in page and "proven the most possible" in page
    assert "Firm 0" in page and "Firm 3" in page
    assert "None: every accepted meeting has a slot" in page


def test_a_second_run_asked_while_one_is_under_way_joins_it(client, login_as, market,
                                                             monkeypatch):
    monkeypatch.setattr(meeting_schedule, "start", lambda run_id: None)  # never finishes
    login_as(market.organizer)
    first = post(client, market, "runs", {"seconds": "5"})
    second = post(client, market, "runs", {"seconds": "30"})
    assert first.location == second.location
    assert _db.session.scalar(select(func.count()).select_from(ScheduleRun)) == 1
    assert client.get(first.location + "/progress").get_json()["status"] == "running"


def test_a_run_whose_process_died_says_so_and_the_next_one_starts_afresh(
        client, login_as, market, monkeypatch, frozen):
    monkeypatch.setattr(meeting_schedule, "start", lambda run_id: None)  # its worker died
    login_as(market.organizer)
    first = post(client, market, "runs", {"seconds": "5"})
    assert client.get(first.location + "/progress").get_json()["status"] == "running"

    frozen.tick(timedelta(seconds=5) + meeting_schedule.STALE_AFTER + timedelta(seconds=1))
    progress = client.get(first.location + "/progress").get_json()
    assert progress["status"] == "failed"
    assert progress["error"] == "The run stopped without finishing. Please try again."
    assert "The run stopped without finishing" in client.get(first.location).get_data(
        as_text=True)

    monkeypatch.setattr(meeting_schedule, "start",
                        lambda run_id: jobs.enqueue(meeting_schedule.run_job, run_id))
    second = post(client, market, "runs", {"seconds": "5"})
    assert second.status_code == 303 and second.location != first.location
    assert client.get(second.location + "/progress").get_json()["status"] == "done"
    assert len(meetings(market.event_id)) == 3
    assert all(m.starts_at is not None for m in meetings(market.event_id))


@pytest.mark.parametrize("seconds", ["0", "601", "soon"])
def test_a_time_limit_out_of_bounds_is_refused_and_nothing_runs(client, login_as, market,
                                                                 seconds):
    login_as(market.organizer)
    response = post(client, market, "runs", {"seconds": seconds})
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(ScheduleRun)) == 0


def test_the_page_costs_the_same_queries_for_3_meetings_as_for_12(client, login_as, make,
                                                                   frozen):
    def queries(people: int, pairs) -> int:
        market = market_with(make, people, pairs)
        meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
        login_as(market.organizer)
        client.get(url(market))  # what a first page reads once (caches) is not counted
        with count_queries() as statements:
            assert client.get(url(market)).status_code == 200
        return len(statements)

    few = queries(4, ((0, 1), (0, 2), (1, 3)))
    many = queries(8, [(a, b) for a in range(4) for b in range(4, 7)])
    assert few == many


def test_a_meeting_moves_only_to_a_free_target_and_is_locked_there(client, login_as,
                                                                    make, frozen):
    market = market_with(make, 4, ((0, 1), (0, 2), (2, 3)))
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    first, second = meetings(market.event_id)[:2]  # both with participant 0
    login_as(market.organizer)
    page = client.get(url(market, f"meetings/{first.request_id}/move")).get_data(as_text=True)
    assert "Here now" in page and "has another meeting in that slot" in page
    free = page.count('data-testid="target-valid"')
    assert free > 0

    # Onto the slot where participant 0 meets someone else: refused, nothing changed.
    before = [(m.starts_at, m.point_id, m.locked) for m in meetings(market.event_id)]
    entries = _db.session.scalar(select(func.count()).select_from(AuditEntry))
    refused = post(client, market, f"meetings/{first.request_id}/move",
                   {"target": target_value(second.starts_at, first.point_id)})
    assert refused.status_code == 409
    assert "has another meeting in that slot" in refused.get_data(as_text=True)
    assert [(m.starts_at, m.point_id, m.locked) for m in meetings(market.event_id)] == before
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries

    # Onto a free one: moved and locked, audited.
    target = next(t for t in meeting_schedule.targets(first.request, _settings(market))
                  if t.refusal is None and t.starts_at != first.starts_at)
    moved = post(client, market, f"meetings/{first.request_id}/move",
                 {"target": target_value(target.starts_at, target.free_points[0])})
    assert moved.status_code == 303
    found = meetings(market.event_id)[0]
    assert (found.starts_at, found.point_id, found.locked) == (
        target.starts_at, target.free_points[0], True)
    assert _db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "schedule.moved")).subject_id == found.id


def _settings(market) -> Matchmaking:
    return _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id))


def test_another_events_meeting_or_slot_is_not_found_or_refused(client, login_as, market,
                                                                make):
    other = market_with(make, 2, ((0, 1),))
    meeting_schedule.schedule_all(other.event_id, actor=other.organizer, seconds=5)
    foreign = meetings(other.event_id)[0]
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    mine = meetings(market.event_id)[0]
    login_as(market.organizer)
    # Another event's meeting under this event: unknown.
    assert client.get(url(market, f"meetings/{foreign.request_id}/move")).status_code == 404
    assert post(client, market, f"meetings/{foreign.request_id}/lock").status_code == 404
    # Another event's meeting point for this event's meeting: refused, nothing moved.
    response = post(client, market, f"meetings/{mine.request_id}/move",
                    {"target": target_value(mine.starts_at, foreign.point_id)})
    assert response.status_code == 400
    assert "Choose among the event&#39;s meeting points" in response.get_data(as_text=True)
    response = post(client, market, f"meetings/{mine.request_id}/move", {"target": "junk"})
    assert response.status_code == 400
    assert (meetings(market.event_id)[0].starts_at,
            meetings(market.event_id)[0].point_id) == (mine.starts_at, mine.point_id)


def test_publishing_then_final_refuses_runs_and_moves_until_reopened(client, login_as,
                                                                     market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    login_as(market.organizer)
    assert post(client, market, "publish", {"state": "preliminary"}).status_code == 303
    assert _settings(market).schedule_state == ScheduleState.PRELIMINARY
    assert post(client, market, "publish", {"state": "final"}).status_code == 303
    _db.session.expire_all()
    assert _settings(market).schedule_state == ScheduleState.FINAL

    refused = post(client, market, "runs", {"seconds": "5"})
    assert refused.status_code == 409 and "The schedule is final" in refused.get_data(
        as_text=True)
    first = meetings(market.event_id)[0]
    refused = post(client, market, f"meetings/{first.request_id}/move",
                   {"target": target_value(first.starts_at, first.point_id)})
    assert refused.status_code == 409

    assert post(client, market, "reopen").status_code == 303
    _db.session.expire_all()
    assert _settings(market).schedule_state == ScheduleState.PRELIMINARY
    assert post(client, market, "runs", {"seconds": "5"}).status_code == 303


def test_lock_and_unlock_in_place(client, login_as, market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    first = meetings(market.event_id)[0]
    login_as(market.organizer)
    assert post(client, market, f"meetings/{first.request_id}/lock").status_code == 303
    assert meetings(market.event_id)[0].locked
    assert "Unlock" in client.get(url(market)).get_data(as_text=True)
    assert post(client, market, f"meetings/{first.request_id}/unlock").status_code == 303
    assert not meetings(market.event_id)[0].locked
    actions = set(_db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.like("schedule.%"))))
    assert {"schedule.locked", "schedule.unlocked"} <= actions


def test_the_settings_page_links_the_schedule(client, login_as, market):
    login_as(market.organizer)
    page = client.get(f"/events/{market.event_id}/matchmaking/").get_data(as_text=True)
    assert url(market) in page


def test_the_schedule_links_the_print_outs_the_table_scanner_and_the_outcomes(
        client, login_as, market):
    login_as(market.organizer)
    page = client.get(url(market)).get_data(as_text=True)
    base = f"/events/{market.event_id}"
    for path in ("/matchmaking/print/schedule", "/matchmaking/print/table-signs.pdf",
                 "/meetings/scan", "/meetings/outcomes"):
        assert f'href="{base}{path}"' in page
        assert client.get(base + path).status_code == 200, path

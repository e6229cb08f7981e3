"""The organizers' matchmaking pages (webapp/views/matchmaking.py): switching it on with
the request window in the event's wall clock, the settings, meeting blocks and points,
participant types and the request matrix, each refused with its message and nothing
changed; another event's block is an unknown id; a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import count_queries, csrf_token
from tests.test_meeting_requests import NOW as MARKET_NOW
from tests.test_meeting_requests import ask, build_market, wall
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import (
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    ParticipantTypeIn,
)
from webapp.models import (
    AuditEntry,
    EventStatus,
    Matchmaking,
    MeetingBlock,
    MeetingPoint,
    ParticipantType,
    RequestMode,
    RequestRule,
)
from webapp.services import matchmaking, matchmaking_settings

NOW = MARKET_NOW  # the clock `frozen` holds for the markets of build_market
# Brussels moves its clocks from 02:00 to 03:00 on 28 March 2027.
BRUSSELS = dict(timezone="Europe/Brussels", starts_at=datetime(2027, 3, 27, 8, tzinfo=UTC),
                ends_at=datetime(2027, 3, 29, 17, tzinfo=UTC))




@pytest.fixture
def organizing(make):
    return make.partner()


@pytest.fixture
def organizer(make, organizing):
    return make.manager(organizing)


@pytest.fixture
def event(make, organizing):
    return make.event(organizers=[organizing], **BRUSSELS)


@pytest.fixture
def on(event, organizer):
    """The event with matchmaking switched on."""
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=organizer)
    return event


def _url(event, suffix: str = "") -> str:
    return f"/events/{event.id}/matchmaking/{suffix}"


def _post(client, event, suffix: str, data: dict, prefix: str = ""):
    token = csrf_token(client, _url(event))
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(_url(event, suffix), data={**data, name: token})


def _stored(event_id: int) -> Matchmaking | None:
    """The event's matchmaking as the requests left it."""
    _db.session.expire_all()
    return matchmaking_settings.of_event(event_id)


def _count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def _written() -> tuple:
    """What a refused post must leave as it was."""
    return tuple(_count(model) for model in (Matchmaking, MeetingBlock, MeetingPoint,
                                             ParticipantType, RequestRule, AuditEntry))


# --------------------------------------------------------------------------- switching on


def test_switched_off_the_page_explains_it_and_offers_to_switch_it_on(client, login_as,
                                                                      organizer, event):
    login_as(organizer)
    page = client.get(_url(event)).get_data(as_text=True)
    assert "Switch matchmaking on" in page and "default participant types" in page
    assert "Meeting blocks" not in page


def test_switching_on_reads_the_window_in_the_events_zone(client, login_as, organizer,
                                                          event):
    login_as(organizer)
    response = _post(client, event, "", {
        "requests_open_local": "2027-03-01T09:00", "requests_close_local": "2027-03-29T09:00",
        "meeting_minutes": "20", "break_minutes": "5", "request_mode": "instant",
        "request_expiry_hours": "48"})
    assert response.status_code == 302
    found = _stored(event.id)
    # 09:00 in Brussels: UTC+1 in winter, UTC+2 once the clocks have moved.
    assert found.requests_open_at == datetime(2027, 3, 1, 8, tzinfo=UTC)
    assert found.requests_close_at == datetime(2027, 3, 29, 7, tzinfo=UTC)
    assert (found.enabled, found.meeting_minutes, found.break_minutes, found.request_mode,
            found.request_expiry_hours) == (True, 20, 5, RequestMode.INSTANT, 48)
    page = client.get(_url(event)).get_data(as_text=True)
    # Shown again as typed, in the event's wall clock.
    assert 'value="2027-03-01T09:00"' in page and 'value="2027-03-29T09:00"' in page


def test_a_time_the_clocks_skip_is_refused_beside_its_field(client, login_as, organizer,
                                                             event):
    login_as(organizer)
    before = _written()
    response = _post(client, event, "", {"requests_open_local": "2027-03-28T02:30",
                                         "meeting_minutes": "30", "break_minutes": "10",
                                         "request_expiry_hours": "72"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="requests_open_local-error"' in page and "02:30" in page
    assert _written() == before and _stored(event.id) is None


@pytest.mark.parametrize("data", [
    {"meeting_minutes": "0"},
    {"meeting_minutes": "thirty"},
    {"request_mode": "whenever"},
    {"requests_open_local": "2027-03-02T09:00", "requests_close_local": "2027-03-01T09:00"},
    {"requests_open_local": "yesterday"},
])
def test_bad_settings_are_refused_and_nothing_changes(client, login_as, organizer, on, data):
    login_as(organizer)
    before = _written()
    response = _post(client, on, "", {"meeting_minutes": "30", "break_minutes": "10",
                                      "request_expiry_hours": "72", **data})
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    assert _written() == before
    assert _stored(on.id).meeting_minutes == 30


def test_settings_change_and_switching_off_keeps_them(client, login_as, organizer, on):
    login_as(organizer)
    assert _post(client, on, "", {"meeting_minutes": "45", "break_minutes": "15",
                                  "request_expiry_hours": "24"}).status_code == 302
    assert _stored(on.id).meeting_minutes == 45
    assert _post(client, on, "off", {}).status_code == 302
    found = _stored(on.id)
    assert not found.enabled and found.meeting_minutes == 45
    page = client.get(_url(on)).get_data(as_text=True)
    assert "was switched off" in page


def test_a_cancelled_events_matchmaking_is_not_switched_on(client, login_as, organizer,
                                                           organizing, make):
    cancelled = make.event(organizers=[organizing], status=EventStatus.CANCELLED, **BRUSSELS)
    login_as(organizer)
    page = client.get(_url(cancelled)).get_data(as_text=True)
    assert "can no longer be switched on" in page and "requests_open_local" not in page
    before = _written()
    response = _post(client, cancelled, "", {"meeting_minutes": "30"})
    assert response.status_code == 400
    assert _written() == before and _stored(cancelled.id) is None


def test_a_post_without_its_csrf_token_is_refused(client, login_as, organizer, event):
    login_as(organizer)
    before = _written()
    response = client.post(_url(event), data={"meeting_minutes": "30"})
    assert response.status_code == 400
    assert _written() == before


# --------------------------------------------------------------------------- blocks, points


def test_a_block_is_added_in_the_events_wall_clock_and_removed(client, login_as, organizer,
                                                               on):
    login_as(organizer)
    response = _post(client, on, "blocks", {"block-starts_local": "2027-03-29T10:00",
                                            "block-ends_local": "2027-03-29T12:00"}, "block")
    assert response.status_code == 302
    block = _db.session.scalar(select(MeetingBlock))
    assert (block.starts_at, block.ends_at) == (datetime(2027, 3, 29, 8, tzinfo=UTC),
                                                datetime(2027, 3, 29, 10, tzinfo=UTC))
    page = client.get(_url(on)).get_data(as_text=True)
    assert "Brussels" in page and "10:00" in page
    # Two hours of 30-minute meetings with 10-minute breaks: 10:00, 10:40, 11:20.
    assert "<td>3</td>" in page
    assert _post(client, on, f"blocks/{block.id}/remove", {}).status_code == 302
    assert _count(MeetingBlock) == 0
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "matchmaking.block_removed")) == 1


@pytest.mark.parametrize("data, field", [
    ({"block-starts_local": "2027-03-28T02:30", "block-ends_local": "2027-03-28T04:00"},
     "block-starts_local"),
    ({"block-starts_local": "2027-03-29T12:00", "block-ends_local": "2027-03-29T10:00"},
     "block-ends_local"),
    ({"block-starts_local": "2027-04-20T10:00", "block-ends_local": "2027-04-20T12:00"},
     "block-starts_local"),
    ({"block-ends_local": "2027-03-29T12:00"}, "block-starts_local"),
])
def test_a_bad_block_is_refused_beside_its_field(client, login_as, organizer, on, data,
                                                  field):
    login_as(organizer)
    before = _written()
    response = _post(client, on, "blocks", data, "block")
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _written() == before


def test_a_point_is_added_and_removed_and_a_taken_name_refused(client, login_as, organizer,
                                                               on):
    login_as(organizer)
    data = {"point-name": "Room A", "point-kind": "online",
            "point-url": "https://meet.example.org/a"}
    assert _post(client, on, "points", data, "point").status_code == 302
    point = _db.session.scalar(select(MeetingPoint))
    assert (point.name, point.kind.value, point.url) == ("Room A", "online",
                                                         "https://meet.example.org/a")
    before = _written()
    again = _post(client, on, "points", data, "point")
    assert again.status_code == 400
    assert 'id="point-name-error"' in again.get_data(as_text=True)
    assert _written() == before
    assert "Online room" in client.get(_url(on)).get_data(as_text=True)
    assert _post(client, on, f"points/{point.id}/remove", {}).status_code == 302
    assert _count(MeetingPoint) == 0


def test_another_events_block_or_point_is_an_unknown_id(client, login_as, organizer, on,
                                                        make, organizing):
    other = make.event(organizers=[organizing], **BRUSSELS)
    matchmaking.switch_on(other.id, MatchmakingIn.from_values(), actor=None)
    block = matchmaking.add_block(other.id, MeetingBlockIn.from_values(
        starts_local=datetime(2027, 3, 29, 10), ends_local=datetime(2027, 3, 29, 12)),
        actor=None)
    point = matchmaking.add_point(other.id, MeetingPointIn.from_values(name="Table 1"),
                                  actor=None)
    login_as(organizer)
    assert _post(client, on, f"blocks/{block.id}/remove", {}).status_code == 404
    assert _post(client, on, f"points/{point.id}/remove", {}).status_code == 404
    assert _count(MeetingBlock) == 1 and _count(MeetingPoint) == 1


# --------------------------------------------------------------------------- types, matrix


def test_a_type_is_added_and_the_matrix_saved_in_one_go(client, login_as, organizer, on):
    login_as(organizer)
    assert _post(client, on, "types", {"type-key": "startup", "type-label": "Start-up"},
                 "type").status_code == 302
    found = _stored(on.id)
    keys = [kind.key for kind in found.participant_types]
    assert keys[-1] == "startup" and len(found.rules) == len(keys) ** 2
    page = client.get(_url(on)).get_data(as_text=True)
    assert "Start-up may ask SME" in page and '<th scope="row"' in page
    # Only SMEs may ask, and only investors and start-ups.
    allowed = ["sme:investor", "sme:startup"]
    response = _post(client, on, "rules", {"rules-allowed": allowed}, "rules")
    assert response.status_code == 302
    found = _stored(on.id)
    ids = {kind.id: kind.key for kind in found.participant_types}
    assert sorted(f"{ids[r.requester_type_id]}:{ids[r.receiver_type_id]}"
                  for r in found.rules) == allowed
    changed = _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "matchmaking.rule_changed"))
    assert changed == len(keys) ** 2 - 2
    page = client.get(_url(on)).get_data(as_text=True)
    assert page.count(" checked>") == 2


@pytest.mark.parametrize("data", [
    {"type-key": "Start Up", "type-label": "Start-ups"},
    {"type-key": "sme", "type-label": "Small firms"},
    {"type-key": "startup", "type-label": ""},
])
def test_a_bad_type_is_refused(client, login_as, organizer, on, data):
    login_as(organizer)
    before = _written()
    response = _post(client, on, "types", data, "type")
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    assert _written() == before


@pytest.mark.parametrize("cells", [["sme:nobody"], ["sme-investor"], ["SME:investor"]])
def test_a_matrix_naming_unknown_types_is_refused(client, login_as, organizer, on, cells):
    login_as(organizer)
    before = _written()
    response = _post(client, on, "rules", {"rules-allowed": cells}, "rules")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert _written() == before


# --------------------------------------------------------------------------- the page


def test_the_page_counts_participants_and_requests_and_links_the_requests(
        client, login_as, make, frozen):
    market = build_market(make, people=3)
    ask(market, 0, 1)
    matchmaking.withdraw_consent(market.people[2].id, actor=None)
    login_as(market.organizer)
    page = client.get(f"/events/{market.event_id}/matchmaking/").get_data(as_text=True)
    assert 'data-testid="participants">3<' in page and 'data-testid="consenting">2<' in page
    assert '<tr data-testid="requests-requested"><td>requested</td><td class="text-end">1' \
        in page
    requests = f"/events/{market.event_id}/marketplace/requests"
    assert f'href="{requests}"' in page
    assert client.get(requests).status_code == 200


def test_the_event_page_links_the_settings_for_its_organizers(client, login_as, organizer,
                                                              event, make):
    login_as(organizer)
    page = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert _url(event) in page


def test_the_page_reads_a_fixed_number_of_queries(client, login_as, make, frozen):
    market = build_market(make, people=2)
    login_as(market.organizer)
    url = f"/events/{market.event_id}/matchmaking/"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    event_id = market.event_id
    start = _stored(event_id).event.starts_at
    event = _stored(event_id).event
    for n in range(1, 6):
        at = start + timedelta(hours=3 * n)
        matchmaking.add_block(event_id, MeetingBlockIn.from_values(
            starts_local=wall(event, at), ends_local=wall(event, at + timedelta(hours=1))),
            actor=None)
        matchmaking.add_point(event_id, MeetingPointIn.from_values(name=f"Table {n}"),
                              actor=None)
        matchmaking.add_participant_type(event_id, ParticipantTypeIn.from_values(
            key=f"kind_{n}", label=f"Kind {n}"), actor=None)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


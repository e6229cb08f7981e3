"""Placing one meeting by hand (webapp/services/meeting_schedule.py `place`, `targets`):
each slot says whether the meeting fits and why not, and a placement refused leaves
everything as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import test_meeting_requests, test_meeting_schedule
from tests.test_meeting_requests import ask
from tests.test_meeting_schedule import meetings, slot_starts
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import UnavailableSlotsIn
from webapp.models import Matchmaking, MeetingRequest, ScheduleState
from webapp.services import matchmaking, meeting_requests, meeting_schedule
from webapp.services.errors import MatchmakingRefused

NOW = test_meeting_requests.NOW  # the frozen clock's time
market = test_meeting_schedule.market


def _request(market, frm: int, to: int) -> MeetingRequest:
    low, high = sorted((market.people[frm].id, market.people[to].id))
    return _db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.pair_low == low, MeetingRequest.pair_high == high))


def _settings(market) -> Matchmaking:
    return _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id))


def _refused(code: str, call) -> None:
    with pytest.raises(MatchmakingRefused) as refused:
        call()
    assert refused.value.code == code


def test_each_slot_says_why_a_meeting_does_not_fit_there(market):
    first, second, third = slot_starts(market.event_id)[:3]
    settings = _settings(market)
    points = [p.id for p in settings.points]
    zero_one, zero_two = _request(market, 0, 1), _request(market, 0, 2)
    meeting_schedule.place(zero_one, first)
    matchmaking.set_unavailable(market.people[2].id, UnavailableSlotsIn.from_values(
        slots=[second]), actor=market.user(2))
    one_three = _request(market, 1, 3)
    meeting_schedule.place(one_three, third, points[0])

    found = {t.starts_at: t for t in meeting_schedule.targets(zero_two, settings)}

    assert found[first].refusal == "schedule.side_busy"  # participant 0 meets 1 then
    assert found[second].refusal == "schedule.slot_blocked"  # participant 2 blocked it
    assert (found[third].refusal, found[third].free_points) == (None, tuple(points[1:]))
    here = meetings(market.event_id)[0]
    assert (here.starts_at, here.point_id, here.locked, here.sequence) == (
        first, points[0], True, 1)


def test_a_placement_refused_changes_nothing(market):
    first, second = slot_starts(market.event_id)[:2]
    points = [p.id for p in _settings(market).points]
    zero_one, zero_two, one_three = (_request(market, *pair)
                                     for pair in ((0, 1), (0, 2), (1, 3)))
    meeting_schedule.place(zero_one, first, points[0])
    before = [(m.starts_at, m.point_id, m.sequence) for m in meetings(market.event_id)]

    _refused("schedule.side_busy", lambda: meeting_schedule.place(zero_two, first))
    two_three = meeting_requests.accept(ask(market, 2, 3).id, actor=market.user(3))
    _refused("schedule.point_taken",
             lambda: meeting_schedule.place(two_three, first, points[0]))
    _refused("schedule.not_a_point",
             lambda: meeting_schedule.place(one_three, second, 999999))
    _refused("matchmaking.not_a_slot",
             lambda: meeting_schedule.place(one_three, first.replace(minute=7)))
    _settings(market).schedule_state = ScheduleState.FINAL
    _refused("schedule.final", lambda: meeting_schedule.place(one_three, second))
    unasked = ask(market, 3, 0)
    _refused("schedule.not_accepted",
             lambda: meeting_schedule.place(unasked, second, while_final=True))

    assert [(m.starts_at, m.point_id, m.sequence)
            for m in meetings(market.event_id)] == before


def test_a_slot_that_has_begun_takes_no_meeting(market, frozen):
    first, second = slot_starts(market.event_id)[:2]
    zero_one = _request(market, 0, 1)
    frozen.move_to(first)

    found = {t.starts_at: t.refusal for t in meeting_schedule.targets(
        zero_one, _settings(market))}

    assert (found[first], found[second]) == ("schedule.slot_past", None)
    _refused("schedule.slot_past", lambda: meeting_schedule.place(zero_one, first))
    assert meeting_schedule.place(zero_one, second).starts_at == second

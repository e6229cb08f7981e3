"""Scheduling an event's accepted meetings from its data (webapp/services/meeting_schedule.py):
"schedule all" places them without double booking, keeps locked meetings, respects the
slots people blocked, records its run, writes nothing when the data changed while it
worked; the database itself refuses a participant or a meeting point twice in a slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests import test_meeting_requests
from tests.test_meeting_requests import ask, build_market, with_meetings
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn, UnavailableSlotsIn
from webapp.models import (
    AuditEntry,
    Matchmaking,
    Meeting,
    MeetingSeat,
    OutboxMessage,
    ScheduleRun,
    ScheduleState,
)
from webapp.services import (
    matchmaking,
    meeting_requests,
    meeting_schedule,
    notifications,
    scheduling,
)
from webapp.services.errors import MatchmakingRefused

NOW = test_meeting_requests.NOW  # the frozen clock's time
SECONDS = 10


@pytest.fixture
def market(make, frozen):
    """Four participants, two tables, three slots on the event's first morning, and
    three accepted meetings: 0 with 1, 0 with 2, 1 with 3."""
    return with_meetings(make, people=4, pairs=((0, 1), (0, 2), (1, 3)))


def meetings(event_id: int) -> list[Meeting]:
    return list(_db.session.scalars(select(Meeting).where(Meeting.event_id == event_id)
                                    .order_by(Meeting.request_id)))


def slot_starts(event_id: int):
    return _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == event_id)).slot_starts()


def test_schedule_all_places_every_meeting_without_double_booking(market):
    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    placed = meetings(market.event_id)
    assert len(placed) == 3 and all(m.starts_at is not None for m in placed)
    seats = [(seat.participant_id, seat.starts_at) for m in placed for seat in m.seats]
    assert len(seats) == 6 == len(set(seats))
    assert len({(m.point_id, m.starts_at) for m in placed}) == 3
    assert {m.starts_at for m in placed} <= set(slot_starts(market.event_id))
    assert (run.placed, run.most, run.meetings_outcome) == (3, 3, "optimal")
    assert (run.idle, run.idle_bound, run.idle_outcome) == (0, 0, "optimal")
    assert run.unplaced == {} and run.requested_by == market.organizer
    assert all(m.sequence == 1 for m in placed)
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "schedule.run"))
    assert entry.subject_id == run.id and entry.details["moved"] == 3


def test_running_again_moves_nothing_that_need_not_move(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    before = [(m.starts_at, m.point_id, m.sequence) for m in meetings(market.event_id)]

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    assert run.placed == 3
    assert [(m.starts_at, m.point_id, m.sequence) for m in meetings(market.event_id)] == before


def test_a_locked_meeting_keeps_its_place_and_blocked_slots_stay_free(market):
    starts = slot_starts(market.event_id)
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    meeting_schedule.unplace(meetings(market.event_id))
    _db.session.flush()
    first = meetings(market.event_id)[0]  # participant 0 with participant 1
    point = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id)).points[1].id
    meeting_schedule.move(market.event_id, first.request_id, starts[2], point,
                          actor=market.organizer)
    # Participant 2 cannot meet in the first slot.
    matchmaking.set_unavailable(market.people[2].id, UnavailableSlotsIn.from_values(
        slots=[starts[0]]), actor=market.user(2))

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    assert run.placed == 3
    placed = {m.request_id: m for m in meetings(market.event_id)}
    assert (placed[first.request_id].starts_at, placed[first.request_id].point_id,
            placed[first.request_id].locked) == (starts[2], point, True)
    with_two = next(m for m in placed.values()
                    if market.people[2].id in (m.request.requester_id, m.request.receiver_id))
    assert with_two.starts_at != starts[0]


def test_a_cancelled_meeting_frees_its_slot_and_table_at_once(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    cancelled = meetings(market.event_id)[2]
    sequence = cancelled.sequence

    meeting_requests.cancel(cancelled.request_id, actor=market.user(3), reason="Ill")

    _db.session.refresh(cancelled)
    assert (cancelled.starts_at, cancelled.point_id, cancelled.seats) == (None, None, [])
    assert cancelled.sequence == sequence + 1  # its calendar entry is withdrawn
    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)
    assert run.placed == 2


def test_with_too_few_tables_the_run_says_which_meetings_wait_and_why(make, frozen):
    market = build_market(make, people=6)
    matchmaking.add_point(market.event_id, MeetingPointIn.from_values(name="The one table"),
                          actor=market.organizer)
    for frm, to in ((0, 1), (2, 3), (4, 5), (0, 2)):
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))

    run = meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                        seconds=SECONDS)

    # Three slots and one table: three meetings at most, proven.
    assert (run.placed, run.most, run.meetings_outcome) == (3, 3, "optimal")
    assert list(run.unplaced.values()) == [scheduling.Unplaced.NO_FREE_POINT.value]


def test_nothing_is_written_when_the_meetings_changed_while_the_solver_worked(
        market, monkeypatch):
    solve = scheduling.solve

    def solve_while_someone_accepts(problem, **options):
        meeting_requests.accept(ask(market, 2, 3).id, actor=market.user(3))
        return solve(problem, **options)

    monkeypatch.setattr(scheduling, "solve", solve_while_someone_accepts)

    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                      seconds=SECONDS)

    assert refused.value.code == "schedule.changed_meanwhile"
    assert _db.session.scalar(select(func.count()).select_from(ScheduleRun)) == 0
    assert all(m.starts_at is None for m in meetings(market.event_id))


def test_a_final_schedule_is_not_scheduled_again(market):
    settings = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id))
    settings.schedule_state = ScheduleState.FINAL
    _db.session.flush()

    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                      seconds=SECONDS)

    assert refused.value.code == "schedule.final"


def test_removing_a_table_sends_its_meetings_back_to_wait(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    table = meetings(market.event_id)[0].point_id
    at_table = [m.request_id for m in meetings(market.event_id) if m.point_id == table]

    matchmaking.remove_point(market.event_id, table, actor=market.organizer)

    waiting = [m for m in meetings(market.event_id) if m.request_id in at_table]
    assert waiting and all(m.starts_at is None and m.seats == [] for m in waiting)


def test_the_database_refuses_a_participant_twice_in_one_slot(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    seat = meetings(market.event_id)[0].seats[0]
    other = next(m for m in meetings(market.event_id) if m.id != seat.meeting_id)
    start = slot_starts(market.event_id)[0] + timedelta(days=365)

    with pytest.raises(IntegrityError), _db.session.begin_nested():
        _db.session.add_all([MeetingSeat(meeting=other, participant_id=seat.participant_id,
                                         starts_at=start),
                             MeetingSeat(meeting=other, participant_id=seat.participant_id,
                                         starts_at=start)])
        _db.session.flush()


def test_the_database_refuses_a_table_twice_in_one_slot(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    first, second = meetings(market.event_id)[:2]
    meeting_schedule.unplace([second])
    _db.session.flush()

    with pytest.raises(IntegrityError), _db.session.begin_nested():
        second.starts_at, second.point_id = first.starts_at, first.point_id
        _db.session.flush()



# --------------------------------------------------------------------------- organizers


def settings_of(event_id: int) -> Matchmaking:
    return _db.session.scalar(select(Matchmaking).where(Matchmaking.event_id == event_id))


def schedule_mail() -> list[tuple[int, str]]:
    """The schedule's mail queued so far: (recipient, template)."""
    return [(m.user_id, m.render["template"]) for m in _db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id))
        if m.render and m.render["template"].startswith("meeting_schedule_")]


def test_lock_and_unlock_keep_the_place_and_an_unplaced_meeting_is_not_locked(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    first = meetings(market.event_id)[0]
    where = (first.starts_at, first.point_id, first.sequence)

    meeting_schedule.set_locked(market.event_id, first.request_id, True,
                                actor=market.organizer)
    assert first.locked and (first.starts_at, first.point_id, first.sequence) == where
    meeting_schedule.set_locked(market.event_id, first.request_id, False,
                                actor=market.organizer)
    assert not first.locked
    assert [e.action for e in _db.session.scalars(select(AuditEntry).where(
        AuditEntry.subject_type == "meeting").order_by(AuditEntry.id))] == [
        "schedule.locked", "schedule.unlocked"]

    meeting_schedule.unplace([first])
    _db.session.flush()
    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.set_locked(market.event_id, first.request_id, True,
                                    actor=market.organizer)
    assert refused.value.code == "schedule.not_placed"


def test_publishing_mails_each_participant_once_then_changes_mail_both_sides(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    assert schedule_mail() == []  # a draft's changes are nobody's business yet

    meeting_schedule.publish(market.event_id, ScheduleState.PRELIMINARY,
                             actor=market.organizer)

    settings = settings_of(market.event_id)
    assert settings.schedule_state == ScheduleState.PRELIMINARY
    assert settings.schedule_published_at == NOW
    published = schedule_mail()
    assert sorted(user for user, _template in published) == sorted(
        market.user(n).id for n in range(4))
    assert {template for _user, template in published} == {"meeting_schedule_published"}

    # 1 with 3 moved by hand: both of them, and only they, are told.
    last = meetings(market.event_id)[2]
    target = next(t for t in meeting_schedule.targets(last.request, settings)
                  if t.refusal is None and t.starts_at != last.starts_at)
    meeting_schedule.move(market.event_id, last.request_id, target.starts_at,
                          target.free_points[0], actor=market.organizer)
    changed = schedule_mail()[len(published):]
    assert sorted(changed) == sorted((market.user(n).id, "meeting_schedule_changed")
                                     for n in (1, 3))

    # A removed table: the sides of its meetings hear that they wait for a new place.
    table = last.point_id
    sides = {side for m in meetings(market.event_id) if m.point_id == table
             for side in (m.request.requester.registration.user_id,
                          m.request.receiver.registration.user_id)}
    before = len(schedule_mail())
    matchmaking.remove_point(market.event_id, table, actor=market.organizer)
    assert {user for user, _t in schedule_mail()[before:]} == sides


def test_the_change_mail_reads_the_new_time_and_place_in_the_readers_language(
        market, mailbox):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    meeting_schedule.publish(market.event_id, ScheduleState.PRELIMINARY,
                             actor=market.organizer)
    last = meetings(market.event_id)[2]  # participant 1, who reads French, with 3
    settings = settings_of(market.event_id)
    target = next(t for t in meeting_schedule.targets(last.request, settings)
                  if t.refusal is None and t.starts_at != last.starts_at)
    meeting_schedule.move(market.event_id, last.request_id, target.starts_at,
                          target.free_points[0], actor=market.organizer)
    _db.session.commit()
    notifications.send_due()

    def last_mail(n: int) -> str:
        return mailbox.text(mailbox.to(market.user(n).email)[-1])

    english, french = last_mail(3), last_mail(1)
    point = next(p.name for p in settings.points if p.id == target.free_points[0])
    when = target.starts_at.astimezone(settings.event.zone).strftime("%H:%M")
    assert "changed" in english and "Firm 1" in english and point in english
    assert when in english
    assert "Firm 3" in french and point in french and "Bonjour" in french


def test_a_final_schedule_refuses_moves_until_reopened(market):
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    meeting_schedule.publish(market.event_id, ScheduleState.FINAL, actor=market.organizer)
    first = meetings(market.event_id)[0]
    settings = settings_of(market.event_id)

    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.move(market.event_id, first.request_id, first.starts_at,
                              first.point_id, actor=market.organizer)
    assert refused.value.code == "schedule.final"
    with pytest.raises(MatchmakingRefused) as refused:
        meeting_schedule.publish(market.event_id, ScheduleState.PRELIMINARY,
                                 actor=market.organizer)
    assert refused.value.code == "schedule.final"

    meeting_schedule.reopen(market.event_id, actor=market.organizer)
    assert settings.schedule_state == ScheduleState.PRELIMINARY
    assert meeting_schedule.schedule_all(market.event_id, actor=market.organizer,
                                         seconds=SECONDS).placed == 3
    assert "schedule.reopened" in set(_db.session.scalars(select(AuditEntry.action)))


def test_a_run_that_is_refused_records_its_error_and_changes_nothing(market):
    settings = settings_of(market.event_id)
    run, joined = meeting_schedule.request_run(market.event_id, actor=market.organizer,
                                               seconds=5)
    assert not joined
    assert meeting_schedule.request_run(market.event_id, actor=market.organizer,
                                        seconds=5) == (run, True)
    settings.schedule_state = ScheduleState.FINAL
    _db.session.flush()

    meeting_schedule.run_job(run.id)

    _db.session.refresh(run)
    assert run.error == "schedule.final" and run.finished_at is not None
    assert run.placed is None
    assert all(m.starts_at is None for m in meetings(market.event_id))

"""The meeting request state machine (webapp/services/meeting_requests.py): every
transition, each refusal leaving everything as it was, expiry by tick, the cascades when
a registration or the event ends, audit entries, mail to both sides in each one's
language, and many accepts and cancels of the same pairs at once."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.backends import BACKENDS
from tests.factories import Factory
from tests.live import in_threads
from webapp import unit
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    MeetingRequestIn,
    UnavailableSlotsIn,
)
from webapp.models import (
    AuditEntry,
    Matchmaking,
    Meeting,
    MeetingRequest,
    OutboxMessage,
    Participant,
    RequestMode,
    ScheduleState,
    User,
)
from webapp.models import MeetingRequestStatus as M
from webapp.models import RegistrationStatus as S
from webapp.services import events, matchmaking, meeting_requests, notifications, registrations
from webapp.services.errors import MatchmakingRefused

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Market:
    event_id: int
    organizer: User
    people: list[Participant]

    def user(self, n: int) -> User:
        return self.people[n].registration.user


def wall(event, instant: datetime) -> datetime:
    """`instant` as the event's wall clock shows it (what organizers type)."""
    return instant.astimezone(event.zone).replace(tzinfo=None)


def build_market(make: Factory, *, people: int = 3, mode=RequestMode.RECEIVER_ACCEPTS,
                 locales=("en", "fr", "el", "en", "en", "en"),
                 window: tuple[datetime, datetime] | None = None, **settings) -> Market:
    """An event with matchmaking on (one block of slots on its first morning) and
    `people` participants who opted in, the second of them reading French."""
    cluster, organizing = make.partner(), make.partner()
    organizer = make.manager(organizing)
    event = make.event(organizers=[organizing], starts_at=NOW + timedelta(days=30))
    if window is not None:
        settings.update(requests_open_local=wall(event, window[0]),
                        requests_close_local=wall(event, window[1]))
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(request_mode=mode, **settings),
                          actor=organizer)
    matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall(event, event.starts_at),
        ends_local=wall(event, event.starts_at + timedelta(hours=2))), actor=organizer)
    joined = []
    for n in range(people):
        user = make.user(make.organization(cluster, name=f"Firm {n}"), name=f"Person {n}",
                         locale=locales[n % len(locales)])
        reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
        joined.append(matchmaking.join(reg.id, JoinIn.from_values(
            participant_type="sme", consent=True), actor=user))
    return Market(event.id, organizer, joined)


def ask(market: Market, frm: int, to: int, **values) -> MeetingRequest:
    return meeting_requests.request(
        market.people[frm].id,
        MeetingRequestIn.from_values(receiver_id=market.people[to].id, **values),
        actor=market.user(frm))


def entries(req: MeetingRequest) -> list[tuple[str | None, str | None, str]]:
    return [(e.from_status, e.to_status, e.action) for e in _db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "meeting_request",
                                 AuditEntry.subject_id == req.id).order_by(AuditEntry.id))]


def mails_to(user: User) -> list[OutboxMessage]:
    return _db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.user_id == user.id).order_by(OutboxMessage.id)).all()


def snapshot() -> tuple:
    """Everything a refusal must leave as it was."""
    count = lambda model: _db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return (count(MeetingRequest), count(AuditEntry), count(OutboxMessage),
            tuple(_db.session.execute(select(MeetingRequest.id, MeetingRequest.status)
                                      .order_by(MeetingRequest.id)).all()))


@pytest.fixture
def market(make, frozen) -> Market:
    return build_market(make)


# --------------------------------------------------------------------------- transitions


def test_a_request_is_requested_audited_and_mailed_to_both_sides(market):
    before = [len(mails_to(market.user(n))) for n in (0, 1)]
    req = ask(market, 0, 1, message="Smart lighting pilots?")
    assert req.status == M.REQUESTED
    assert (req.pair_low, req.pair_high) == tuple(sorted((market.people[0].id,
                                                          market.people[1].id)))
    assert req.expires_at == NOW + timedelta(hours=72)
    assert entries(req) == [(None, "requested", "meeting_request.requested")]
    sent, received = mails_to(market.user(0))[before[0]:], mails_to(market.user(1))[before[1]:]
    title = market.people[0].event.title
    assert [m.subject for m in sent] == [f"Meeting request sent to Person 1: {title}"]
    # The French reader's subject is in French.
    with force_locale("fr"):
        expected = _("%(name)s asks to meet you: %(event)s", name="Person 0",
                     event=market.people[0].event.title)
    assert [m.subject for m in received] == [expected]
    assert expected != f"Person 0 asks to meet you: {market.people[0].event.title}"


def test_the_receiver_accepts_and_both_get_the_others_contact_details(market, app):
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    assert req.status == M.ACCEPTED and req.decided_at == NOW
    assert entries(req)[-1] == ("requested", "accepted", "meeting_request.accepted")
    requester_mail = mails_to(market.user(0))[-1]
    text = notifications._render_recipe(requester_mail.render, "")[0]
    assert market.user(1).email in text
    receiver_mail = mails_to(market.user(1))[-1]
    assert market.user(0).email in notifications._render_recipe(receiver_mail.render, "")[0]


def test_the_receiver_declines_with_a_reason(market):
    req = ask(market, 0, 1)
    meeting_requests.decline(req.id, actor=market.user(1), reason="Not our field.")
    assert (req.status, req.reason) == (M.DECLINED, "Not our field.")
    assert entries(req)[-1] == ("requested", "declined", "meeting_request.declined")
    text = notifications._render_recipe(mails_to(market.user(0))[-1].render, "")[0]
    assert "Not our field." in text and market.user(1).email not in text


@pytest.mark.parametrize("side", [0, 1])
def test_either_side_cancels_a_request_or_a_meeting(market, side):
    req = ask(market, 0, 1)
    meeting_requests.cancel(req.id, actor=market.user(side), reason="Plans changed.")
    assert req.status == M.CANCELLED and req.cancelled_by_participant_id == market.people[side].id
    other = ask(market, 0, 1)
    meeting_requests.accept(other.id, actor=market.user(1))
    meeting_requests.cancel(other.id, actor=market.user(side), reason="Flight moved.")
    assert entries(other)[-1] == ("accepted", "cancelled", "meeting_request.cancelled")
    for n in (0, 1):
        assert "Flight moved." in notifications._render_recipe(
            mails_to(market.user(n))[-1].render, "")[0]


def test_an_organizer_cancels_a_meeting(market):
    req = ask(market, 0, 1)
    meeting_requests.cancel(req.id, actor=market.organizer, reason="Room closed.")
    assert (req.status, req.cancelled_by_user_id) == (M.CANCELLED, market.organizer.id)


def test_instant_mode_accepts_at_once(make, frozen):
    market = build_market(make, mode=RequestMode.INSTANT)
    req = ask(market, 0, 1)
    assert req.status == M.ACCEPTED and req.expires_at is None
    assert entries(req) == [(None, "accepted", "meeting_request.accepted_at_once")]


def test_finished_requests_move_no_further(market):
    req = ask(market, 0, 1)
    meeting_requests.decline(req.id, actor=market.user(1), reason="No.")
    for move in (lambda: meeting_requests.accept(req.id, actor=market.user(1)),
                 lambda: meeting_requests.cancel(req.id, actor=market.user(0), reason="x")):
        before = snapshot()
        with pytest.raises(MatchmakingRefused) as refused:
            move()
        assert refused.value.code == "meeting_request.no_longer_open"
        assert snapshot() == before
    assert meeting_requests.TRANSITIONS[M.ACCEPTED] == {M.CANCELLED}
    assert not any(meeting_requests.TRANSITIONS[s] for s in (M.DECLINED, M.EXPIRED,
                                                             M.CANCELLED))


def test_only_the_receiver_answers_and_only_the_sides_cancel(market):
    req = ask(market, 0, 1)
    before = snapshot()
    with pytest.raises(MatchmakingRefused) as refused:
        meeting_requests.accept(req.id, actor=market.user(0))
    assert refused.value.code == "meeting_request.receiver_only"
    with pytest.raises(MatchmakingRefused) as refused:
        meeting_requests.cancel(req.id, actor=market.user(2), reason="Mine now.")
    assert refused.value.code == "meeting_request.sides_only"
    assert snapshot() == before


# --------------------------------------------------------------------------- bad input


def _refused(code: str, act) -> None:
    before = snapshot()
    with pytest.raises(MatchmakingRefused) as refused:
        act()
    assert refused.value.code == code
    assert refused.value.message  # a sentence, in the reader's language
    assert snapshot() == before


def test_a_request_to_oneself_is_refused(market):
    _refused("meeting_request.to_oneself", lambda: ask(market, 0, 0))


def test_a_request_the_matrix_forbids_is_refused(market, make):
    matchmaking.set_rule(market.event_id, "sme", "sme", False, actor=market.organizer)
    _refused("meeting_request.type_not_allowed", lambda: ask(market, 0, 1))


def test_requests_to_or_from_someone_without_consent_are_refused(market):
    matchmaking.withdraw_consent(market.people[1].id, actor=market.user(1))
    _refused("meeting_request.not_in_marketplace", lambda: ask(market, 0, 1))
    _refused("meeting_request.own_consent_needed", lambda: ask(market, 1, 0))


def test_requests_outside_the_window_are_refused(make, frozen):
    market = build_market(make, window=(NOW + timedelta(days=1), NOW + timedelta(days=2)))
    _refused("meeting_request.window_closed", lambda: ask(market, 0, 1))
    frozen.move_to(NOW + timedelta(days=2))
    _refused("meeting_request.window_closed", lambda: ask(market, 0, 1))
    frozen.move_to(NOW + timedelta(days=1, hours=1))
    assert ask(market, 0, 1).status == M.REQUESTED


def test_a_slot_the_receiver_blocked_or_no_slot_at_all_is_refused(market):
    first = market.people[0].event.starts_at
    matchmaking.set_unavailable(market.people[1].id, UnavailableSlotsIn.from_values(
        slots=[first]), actor=market.user(1))
    _refused("meeting_request.slot_blocked", lambda: ask(market, 0, 1, preferred_slots=[first]))
    _refused("matchmaking.not_a_slot",
             lambda: ask(market, 0, 1, preferred_slots=[first + timedelta(minutes=7)]))
    later = first + timedelta(minutes=40)  # 30 minutes and a 10-minute break
    assert ask(market, 0, 1, preferred_slots=[later]).preferred_slots == [later.isoformat()]


def test_a_second_open_request_for_a_pair_is_refused_either_way(market):
    req = ask(market, 0, 1)
    _refused("meeting_request.already_open", lambda: ask(market, 0, 1))
    _refused("meeting_request.already_open", lambda: ask(market, 1, 0))
    meeting_requests.accept(req.id, actor=market.user(1))
    _refused("meeting_request.already_open", lambda: ask(market, 1, 0))
    meeting_requests.cancel(req.id, actor=market.user(0), reason="Later.")
    assert ask(market, 1, 0).status == M.REQUESTED  # a closed one is no obstacle


def test_the_database_itself_keeps_one_open_request_per_pair(market):
    req = ask(market, 0, 1)
    twin = MeetingRequest(event_id=req.event_id, requester_id=req.receiver_id,
                          receiver_id=req.requester_id, pair_low=req.pair_low,
                          pair_high=req.pair_high, status=M.ACCEPTED)
    nested = _db.session.begin_nested()
    _db.session.add(twin)
    with pytest.raises(IntegrityError):
        _db.session.flush()
    nested.rollback()


def test_a_request_to_another_events_participant_is_refused(market, make):
    elsewhere = build_market(make, people=1)
    _refused("meeting_request.other_event", lambda: meeting_requests.request(
        market.people[0].id, MeetingRequestIn.from_values(
            receiver_id=elsewhere.people[0].id), actor=market.user(0)))


def test_a_request_whose_requester_is_no_longer_approved_is_not_accepted(market):
    req = ask(market, 0, 1)
    registrations.reopen(market.people[0].registration_id, actor=market.organizer,
                         reason="Check the company.")
    _refused("meeting_request.not_in_marketplace",
             lambda: meeting_requests.accept(req.id, actor=market.user(1)))
    assert req.status == M.REQUESTED  # declining or cancelling it still works
    meeting_requests.decline(req.id, actor=market.user(1), reason="Another time.")


# --------------------------------------------------------------------------- expiry


def test_tick_expires_unanswered_requests_past_their_time(market, app, frozen):
    req, answered = ask(market, 0, 1), ask(market, 0, 2)
    meeting_requests.accept(answered.id, actor=market.user(2))
    frozen.move_to(NOW + timedelta(hours=71))
    assert meeting_requests.expire_due() == 0
    frozen.move_to(NOW + timedelta(hours=72))
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 meeting request(s) expired" in result.output
    _db.session.expire_all()
    assert (req.status, answered.status) == (M.EXPIRED, M.ACCEPTED)
    assert entries(req)[-1] == ("requested", "expired", "meeting_request.expired")
    assert {m.subject.split(":")[0] for m in mails_to(market.user(0))[-1:]} == {
        "Meeting request expired"}


def test_a_request_past_its_time_is_not_accepted_before_tick(market, frozen):
    req = ask(market, 0, 1)
    frozen.move_to(NOW + timedelta(hours=73))
    _refused("meeting_request.no_longer_open",
             lambda: meeting_requests.accept(req.id, actor=market.user(1)))


# --------------------------------------------------------------------------- cascades


def _cause(req: MeetingRequest) -> str:
    entry = _db.session.scalars(select(AuditEntry).where(
        AuditEntry.subject_type == "meeting_request", AuditEntry.subject_id == req.id)
        .order_by(AuditEntry.id.desc())).first()
    return entry.details.get("cause")


def test_withdrawing_a_registration_cancels_its_requests_and_meetings(market):
    asked, met, others = ask(market, 0, 1), ask(market, 2, 0), ask(market, 1, 2)
    meeting_requests.accept(met.id, actor=market.user(0))
    registrations.withdraw(market.people[0].registration_id, actor=market.user(0))
    assert (asked.status, met.status, others.status) == (M.CANCELLED, M.CANCELLED, M.REQUESTED)
    assert _cause(asked) == _cause(met) == "registration_withdrawn"
    text = notifications._render_recipe(mails_to(market.user(2))[-1].render, "")[0]
    with force_locale("el"):  # the third person reads Greek
        assert _("%(other)s no longer takes part in the event's matchmaking.",
                 other="Person 0") in text


def test_cancelling_a_registration_cancels_its_requests(market):
    req = ask(market, 0, 1)
    registrations.cancel_one(market.people[1].registration_id, actor=market.organizer,
                             reason="Duplicate.")
    assert req.status == M.CANCELLED and _cause(req) == "registration_cancelled"


def test_cancelling_the_event_cancels_every_open_request(market):
    first, second = ask(market, 0, 1), ask(market, 1, 2)
    meeting_requests.accept(second.id, actor=market.user(2))
    events.cancel(market.organizer, market.event_id, reason="Storm.")
    assert first.status == second.status == M.CANCELLED
    assert _cause(first) == _cause(second) == "event_cancelled"
    # Told once each, as the event's end, not again per registration.
    assert len([m for m in mails_to(market.user(1))
                if m.render["template"] == "meeting_request_cancelled"]) == 2


def test_withdrawing_consent_cancels_open_requests(market):
    req = ask(market, 0, 1)
    matchmaking.withdraw_consent(market.people[1].id, actor=market.user(1))
    assert req.status == M.CANCELLED and _cause(req) == "consent_withdrawn"


# --------------------------------------------------------------------------- races


def _race_market() -> tuple[list[int], dict[int, tuple[int, int]]]:
    """Ten participants, five pairs with a request each, committed (on the real clock:
    the event is still ahead, the requests far from expiring)."""
    make = Factory()
    market = build_market(make, people=10)
    requests = {}
    for pair in range(5):
        req = ask(market, 2 * pair, 2 * pair + 1)
        requests[req.id] = (market.user(2 * pair).id, market.user(2 * pair + 1).id)
    _db.session.commit()
    return list(requests), requests


@pytest.mark.parametrize("backend", BACKENDS)
def test_fifty_accepts_and_cancels_at_once_leave_one_consistent_state(open_app, backend,
                                                                     monkeypatch):
    app = open_app(backend, DATABASE_TIMEOUT=30)
    monkeypatch.setattr(notifications, "deliver", lambda ids: 0)  # mail is not the race
    ids, sides = _race_market()

    def act(request_id: int, n: int):
        requester_id, receiver_id = sides[request_id]

        def job():
            with unit.of_work("meeting request"):
                if n % 2:
                    return meeting_requests.accept(
                        request_id, actor=_db.session.get(User, receiver_id)).status
                return meeting_requests.cancel(
                    request_id, actor=_db.session.get(User, requester_id),
                    reason="Changed my mind.").status
        return job

    results = in_threads(app, [act(ids[n % 5], n) for n in range(50)])
    unexpected = [r for r in results if not isinstance(r, M | MatchmakingRefused)]
    assert not unexpected, unexpected[:3]
    _db.session.commit()
    for request_id in ids:
        req = _db.session.get(MeetingRequest, request_id)
        moves = [(e.from_status, e.to_status) for e in _db.session.scalars(
            select(AuditEntry).where(AuditEntry.subject_type == "meeting_request",
                                     AuditEntry.subject_id == request_id)
            .order_by(AuditEntry.id))]
        # One chain of moves, each from the status the one before it left.
        assert moves[0] == (None, "requested")
        assert all(a[1] == b[0] for a, b in itertools.pairwise(moves))
        assert moves[-1][1] == req.status.value == M.CANCELLED.value
        assert moves in ([(None, "requested"), ("requested", "cancelled")],
                         [(None, "requested"), ("requested", "accepted"),
                          ("accepted", "cancelled")])
        # Both sides told of each move, once.
        mails = _db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.user_id.in_(sides[request_id])))
        assert mails == 2 * len(moves)
    refused = [r for r in results if isinstance(r, MatchmakingRefused)]
    assert {r.code for r in refused} <= {"meeting_request.no_longer_open"}



@pytest.mark.postgres
def test_without_the_pair_lock_an_accept_and_a_cancel_both_move_one_request(open_app,
                                                                             monkeypatch):
    """The race the pair's lock closes: without it, an accept and a cancel that both read
    the request as requested both move it, and the history says it went two ways."""
    app = open_app("postgres")
    monkeypatch.setattr(notifications, "deliver", lambda ids: 0)
    ids, sides = _race_market()
    request_id = ids[0]
    requester_id, receiver_id = sides[request_id]
    monkeypatch.setattr(meeting_requests, "lock_participants",
                        lambda participant_ids: unit.write_step())
    both_read = threading.Barrier(2)
    checked = meeting_requests._check_actor

    def check_then_wait(actor, req, rule, refusal):
        checked(actor, req, rule, refusal)
        both_read.wait(timeout=10)

    monkeypatch.setattr(meeting_requests, "_check_actor", check_then_wait)

    def accept():
        with unit.of_work("accept"):
            return meeting_requests.accept(
                request_id, actor=_db.session.get(User, receiver_id)).status

    def cancel():
        with unit.of_work("cancel"):
            return meeting_requests.cancel(
                request_id, actor=_db.session.get(User, requester_id), reason="No.").status

    results = in_threads(app, [accept, cancel])
    assert sorted(results) == [M.ACCEPTED, M.CANCELLED]
    _db.session.commit()
    from_requested = _db.session.scalars(select(AuditEntry.to_status).where(
        AuditEntry.subject_type == "meeting_request", AuditEntry.subject_id == request_id,
        AuditEntry.from_status == "requested")).all()
    assert sorted(from_requested) == ["accepted", "cancelled"]  # two ways at once


# --------------------------------------------------------------------------- reads for pages


def test_the_slots_offered_leave_out_those_the_receiver_blocked(market):
    first = market.people[0].event.starts_at
    starts = [first + timedelta(minutes=40 * n) for n in range(3)]
    assert meeting_requests.offered_slots(market.people[1]) == [
        (start, start + timedelta(minutes=30)) for start in starts]
    matchmaking.set_unavailable(market.people[1].id, UnavailableSlotsIn.from_values(
        slots=[starts[1]]), actor=market.user(1))
    assert [start for start, _end in meeting_requests.offered_slots(market.people[1])] == [
        starts[0], starts[2]]


def test_the_requester_at_an_event_is_the_users_consenting_participant(market, make):
    assert meeting_requests.requester_in(market.event_id, market.user(0)) == market.people[0]
    assert meeting_requests.own_participant(market.event_id, make.user()) is None
    _refused("meeting_request.own_consent_needed",
             lambda: meeting_requests.requester_in(market.event_id, make.user()))
    matchmaking.withdraw_consent(market.people[0].id, actor=market.user(0))
    assert meeting_requests.own_participant(market.event_id, market.user(0)) is not None
    _refused("meeting_request.own_consent_needed",
             lambda: meeting_requests.requester_in(market.event_id, market.user(0)))


def test_a_requests_history_lists_its_moves_in_order(market):
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    meeting_requests.cancel(req.id, actor=market.user(0), reason="Flight moved.")
    assert [(e.to_status, e.reason) for e in meeting_requests.history(req.id)] == [
        ("requested", ""), ("accepted", ""), ("cancelled", "Flight moved.")]


# --------------------------------------------------------------------------- time and place


def with_tables(market: Market, count: int) -> list[int]:
    """`count` meeting points at the market's event; their ids."""
    return [matchmaking.add_point(market.event_id, MeetingPointIn.from_values(
        name=f"Table {n + 1}"), actor=market.organizer).id for n in range(count)]


def with_meetings(make: Factory, *, people: int = 4, pairs=((0, 1),), tables: int = 2
                  ) -> Market:
    """A market with `tables` meeting points and a request accepted for each pair
    (requester, receiver) of `pairs`."""
    market = build_market(make, people=people)
    with_tables(market, tables)
    for frm, to in pairs:
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))
    return market


def slot_starts(market: Market) -> list[datetime]:
    first = market.people[0].event.starts_at
    return [first + timedelta(minutes=40 * n) for n in range(3)]


def slot_starts_of(event_id: int) -> list[datetime]:
    return _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == event_id)).slot_starts()


def placed(req: MeetingRequest) -> tuple | None:
    meeting = _db.session.scalar(select(Meeting).where(Meeting.request_id == req.id))
    if meeting is None or meeting.starts_at is None:
        return None
    return meeting.starts_at, meeting.point_id, meeting.locked


def test_accepting_in_a_free_slot_places_the_meeting_there_locked_and_mails_it(market):
    tables = with_tables(market, 2)
    starts = slot_starts(market)
    req = ask(market, 0, 1, preferred_slots=[starts[2]])
    # The requester's preferred slot first, marked; then the others in time order.
    assert [(s.starts_at, s.preferred) for s in meeting_requests.free_slots(req)] == [
        (starts[2], True), (starts[0], False), (starts[1], False)]

    meeting_requests.accept(req.id, actor=market.user(1), starts_at=starts[2])

    assert req.status == M.ACCEPTED
    assert placed(req) == (starts[2], tables[0], True)
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "meeting.placed"))
    assert entry.actor == market.user(1) and entry.details["point_id"] == tables[0]
    # Both sides' acceptance mails say when and where, the French reader's in French.
    english = notifications._render_recipe(mails_to(market.user(0))[-1].render, "")[0]
    assert "Table 1" in english and "When: " in english
    french = notifications._render_recipe(mails_to(market.user(1))[-1].render, "")[0]
    assert "Table 1" in french and "When: " not in french
    # Both are busy then: the slot is no longer free for either of them.
    other = ask(market, 2, 0)
    assert starts[2] not in {s.starts_at for s in meeting_requests.free_slots(other)}


def test_a_slot_no_longer_free_refuses_the_accept_and_changes_nothing(make, frozen):
    market = build_market(make, people=5)
    with_tables(market, 1)
    starts = slot_starts(market)
    meeting_requests.accept(ask(market, 0, 1).id, actor=market.user(1), starts_at=starts[0])
    busy, no_table, blocked = ask(market, 2, 1), ask(market, 2, 3), ask(market, 4, 3)
    matchmaking.set_unavailable(market.people[4].id, UnavailableSlotsIn.from_values(
        slots=[starts[1]]), actor=market.user(4))
    meetings = lambda: _db.session.scalar(select(func.count()).select_from(Meeting))  # noqa: E731
    before = meetings()
    for req, start, code in (
            (busy, starts[0], "schedule.side_busy"),  # participant 1 meets participant 0
            (no_table, starts[0], "schedule.no_free_point"),  # the one table is taken
            (blocked, starts[1], "schedule.slot_blocked"),  # participant 4 blocked it
            (blocked, starts[1] + timedelta(minutes=5), "matchmaking.not_a_slot")):
        receiver = market.user(market.people.index(req.receiver))
        _refused(code, lambda req=req, start=start, receiver=receiver: meeting_requests.accept(
            req.id, actor=receiver, starts_at=start))
        _db.session.refresh(req)
        assert req.status == M.REQUESTED and placed(req) is None
    assert meetings() == before
    # A slot of another event is no slot of this one.
    elsewhere = build_market(make, people=2)
    other_event = elsewhere.people[0].event
    matchmaking.add_block(other_event.id, MeetingBlockIn.from_values(
        starts_local=wall(other_event, other_event.starts_at + timedelta(days=1)),
        ends_local=wall(other_event, other_event.starts_at + timedelta(days=1, hours=1))),
        actor=elsewhere.organizer)
    other_start = other_event.starts_at + timedelta(days=1)
    assert other_start in slot_starts_of(other_event.id) and other_start not in starts
    _refused("matchmaking.not_a_slot", lambda: meeting_requests.accept(
        busy.id, actor=market.user(1), starts_at=other_start))
    # Someone else's request is not theirs to accept, with a slot or without.
    _refused("meeting_request.receiver_only", lambda: meeting_requests.accept(
        busy.id, actor=market.user(0), starts_at=starts[1]))


def test_either_side_picks_a_free_slot_later_until_the_meeting_has_a_place(make, frozen):
    market = build_market(make, people=4)
    tables = with_tables(market, 2)
    starts = slot_starts(market)
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    assert placed(req) is None
    mails = [len(mails_to(market.user(n))) for n in (0, 1)]

    meeting_requests.choose_slot(req.id, actor=market.user(0), starts_at=starts[1])

    assert placed(req) == (starts[1], tables[0], True)
    # Each in their language: the second participant reads French.
    for n, subject in ((0, "Time set for your meeting"),
                       (1, "Heure fixée pour votre rendez-vous")):
        told = mails_to(market.user(n))[mails[n]:]
        assert len(told) == 1 and told[0].subject.startswith(subject)
    # Its place is settled: the organizers move it, the sides no longer.
    _refused("meeting_request.placed_already", lambda: meeting_requests.choose_slot(
        req.id, actor=market.user(1), starts_at=starts[2]))
    other = ask(market, 2, 3)
    _refused("schedule.not_accepted", lambda: meeting_requests.choose_slot(
        other.id, actor=market.user(2), starts_at=starts[0]))
    meeting_requests.accept(other.id, actor=market.user(3))
    _refused("meeting_request.sides_place", lambda: meeting_requests.choose_slot(
        other.id, actor=market.organizer, starts_at=starts[0]))
    settings = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id))
    settings.schedule_state = ScheduleState.FINAL
    _db.session.flush()
    assert not meeting_requests.may_choose_slot(other, market.user(2))
    _refused("schedule.final", lambda: meeting_requests.choose_slot(
        other.id, actor=market.user(2), starts_at=starts[0]))

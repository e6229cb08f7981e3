"""Matchmaking's settings and participants (webapp/services/matchmaking.py): switching it
on with its defaults, the matrix, slots, joining with a consent of its own, the profile
and opportunities, and a withdrawn consent hiding the participant at once; and its
migration, up and down."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import func, inspect, select

from tests.test_meeting_requests import NOW, ask, build_market, snapshot, wall
from webapp import access, create_app
from webapp.extensions import db as _db
from webapp.inputs import ValidationError
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    OpportunityIn,
    ParticipantTypeIn,
    ProfileIn,
    UnavailableSlotsIn,
)
from webapp.models import (
    DEFAULT_PARTICIPANT_TYPES,
    AuditEntry,
    MeetingRequest,
    RequestMode,
    RequestRule,
)
from webapp.models import MeetingRequestStatus as M
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, matchmaking_settings
from webapp.services.errors import MatchmakingRefused
from webapp.services.fields import Refused

TABLES = {"matchmakings", "meeting_blocks", "meeting_points", "participant_types",
          "request_rules", "opportunity_types", "participants", "opportunities",
          "meeting_requests", "unavailable_slots"}


@pytest.fixture
def event(make, frozen):
    organizing = make.partner()
    return make.event(organizers=[organizing], starts_at=NOW + timedelta(days=30))


def _audited(action: str) -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action))


# --------------------------------------------------------------------------- settings


def test_switching_on_creates_the_default_types_and_an_open_matrix(event, make):
    organizer = make.admin()
    found = matchmaking.switch_on(event.id, MatchmakingIn.from_values(
        meeting_minutes=20, break_minutes=5, request_mode="instant"), actor=organizer)
    assert [t.key for t in found.participant_types] == list(DEFAULT_PARTICIPANT_TYPES)
    assert [t.key for t in found.opportunity_types] == ["offer", "request"]
    assert len(found.rules) == len(DEFAULT_PARTICIPANT_TYPES) ** 2
    assert (found.meeting_minutes, found.request_mode) == (20, RequestMode.INSTANT)
    assert _audited("matchmaking.switched_on") == 1
    # Again: settings change, the defaults stay as they are.
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(meeting_minutes=25),
                          actor=organizer)
    assert found.meeting_minutes == 25 and len(found.participant_types) == 5
    assert _audited("matchmaking.updated") == 1


def test_an_added_type_may_ask_and_be_asked_by_every_type_until_the_matrix_says_no(event):
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    added = matchmaking.add_participant_type(
        event.id, ParticipantTypeIn.from_values(key="incubator", label="Incubator"), actor=None)
    found = matchmaking_settings.of_event(event.id)
    assert len(found.rules) == 6 * 6
    matchmaking.set_rule(event.id, "incubator", "investor", False, actor=None)
    assert len(found.rules) == 35
    assert not _db.session.scalar(select(func.count()).select_from(RequestRule).where(
        RequestRule.requester_type_id == added.id,
        RequestRule.receiver_type_id == found.participant_types[3].id))
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.add_participant_type(
            event.id, ParticipantTypeIn.from_values(key="incubator", label="Again"), actor=None)
    assert refused.value.code == "matchmaking.type_taken"


def test_blocks_are_cut_into_slots_of_meeting_and_break(event):
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(meeting_minutes=30,
                                                              break_minutes=15), actor=None)
    start = event.starts_at
    matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall(event, start), ends_local=wall(event, start + timedelta(hours=2))),
        actor=None)
    matchmaking.add_point(event.id, MeetingPointIn.from_values(name="Table 1"), actor=None)
    slots = matchmaking_settings.of_event(event.id).slot_starts()
    assert slots == [start + timedelta(minutes=m) for m in (0, 45, 90)]
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.add_block(event.id, MeetingBlockIn.from_values(
            starts_local=wall(event, start - timedelta(days=1)), ends_local=wall(event, start)),
            actor=None)
    assert refused.value.code == "matchmaking.block_outside_event"


def test_the_window_and_blocks_are_the_events_wall_clock_and_a_skipped_time_is_refused(
        make, cluster):
    # Brussels moves its clocks from 02:00 to 03:00 on 28 March 2027.
    event = make.event(organizers=[cluster], timezone="Europe/Brussels",
                       starts_at=datetime(2027, 3, 27, 8, tzinfo=UTC),
                       ends_at=datetime(2027, 3, 29, 17, tzinfo=UTC))
    found = matchmaking.switch_on(event.id, MatchmakingIn.from_values(
        requests_open_local=datetime(2027, 3, 1, 9), requests_close_local=datetime(2027, 3, 29, 9)),
        actor=None)
    # 09:00 in Brussels: UTC+1 in winter, UTC+2 once the clocks have moved.
    assert found.requests_open_at == datetime(2027, 3, 1, 8, tzinfo=UTC)
    assert found.requests_close_at == datetime(2027, 3, 29, 7, tzinfo=UTC)
    block = matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=datetime(2027, 3, 29, 10), ends_local=datetime(2027, 3, 29, 12)), actor=None)
    assert (block.starts_at, block.ends_at) == (datetime(2027, 3, 29, 8, tzinfo=UTC),
                                                datetime(2027, 3, 29, 10, tzinfo=UTC))
    before = snapshot()
    with pytest.raises(Refused) as refused:
        matchmaking.add_block(event.id, MeetingBlockIn.from_values(
            starts_local=datetime(2027, 3, 28, 2, 30), ends_local=datetime(2027, 3, 28, 4)),
            actor=None)
    assert refused.value.code == "input.refused" and refused.value.field == "starts_local"
    assert snapshot() == before


def test_settings_refuse_a_window_or_block_out_of_order():
    with pytest.raises(ValidationError):
        MatchmakingIn.from_values(requests_open_local=datetime(2027, 1, 1, 9),
                                  requests_close_local=datetime(2027, 1, 1, 9))
    with pytest.raises(ValidationError):
        MeetingBlockIn.from_values(starts_local=datetime(2027, 1, 1, 9),
                                   ends_local=datetime(2027, 1, 1, 8))
    with pytest.raises(ValidationError):
        MatchmakingIn.from_values(meeting_minutes=0)
    with pytest.raises(ValidationError):  # outside the years events are held in
        MeetingBlockIn.from_values(starts_local=datetime(1850, 1, 1, 9),
                                   ends_local=datetime(1850, 1, 1, 10))


def test_the_matrix_is_saved_whole_and_only_changed_cells_are_audited(event):
    found = matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    keys = [kind.key for kind in found.participant_types]
    allowed = {("sme", "investor"), ("investor", "sme")}
    assert matchmaking.set_matrix(event.id, allowed, actor=None) == len(keys) ** 2 - 2
    ids = {kind.id: kind.key for kind in found.participant_types}
    assert {(ids[r.requester_type_id], ids[r.receiver_type_id]) for r in found.rules} == allowed
    assert _audited("matchmaking.rule_changed") == len(keys) ** 2 - 2
    # The same matrix again changes nothing, and writes nothing.
    assert matchmaking.set_matrix(event.id, allowed, actor=None) == 0
    assert _audited("matchmaking.rule_changed") == len(keys) ** 2 - 2


def test_a_matrix_naming_an_unknown_type_changes_nothing(event):
    found = matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    rules = len(found.rules)
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.set_matrix(event.id, {("sme", "pirate")}, actor=None)
    assert refused.value.code == "matchmaking.type_unknown"
    assert len(found.rules) == rules and _audited("matchmaking.rule_changed") == 0


def test_blocks_and_points_are_removed_audited_and_only_the_events_own(event, make):
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    start = event.starts_at
    block = matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall(event, start), ends_local=wall(event, start + timedelta(hours=2))),
        actor=None)
    point = matchmaking.add_point(event.id, MeetingPointIn.from_values(name="Table 1"),
                                  actor=None)
    other = make.event(organizers=event.organizers, starts_at=event.starts_at)
    matchmaking.switch_on(other.id, MatchmakingIn.from_values(), actor=None)
    assert matchmaking.remove_block(other.id, block.id, actor=None) is None
    assert matchmaking.remove_point(other.id, point.id, actor=None) is None
    assert matchmaking.remove_block(event.id, block.id, actor=None) is block
    assert matchmaking.remove_point(event.id, point.id, actor=None) is point
    found = matchmaking_settings.of_event(event.id)
    assert (found.blocks, found.points, found.slot_starts()) == ([], [], [])
    assert _audited("matchmaking.block_removed") == _audited("matchmaking.point_removed") == 1
    matchmaking.switch_off(event.id, actor=None)
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.remove_point(event.id, point.id, actor=None)
    assert refused.value.code == "matchmaking.not_enabled"


def test_figures_count_participants_in_the_marketplace_and_requests_by_status(make, frozen):
    market = build_market(make, people=3)
    ask(market, 0, 1)
    matchmaking.withdraw_consent(market.people[2].id, actor=None)
    found = matchmaking.figures(market.event_id)
    assert (found.participants, found.consenting) == (3, 2)
    assert found.requests == {status: int(status == M.REQUESTED) for status in M}


# --------------------------------------------------------------------------- participants


def test_joining_needs_an_approved_registration_matchmaking_and_consent(event, make):
    member = make.user(make.organization())
    submitted = make.registration(event, member)
    join = JoinIn.from_values(participant_type="sme", consent=True)
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.join(submitted.id, join, actor=member)
    assert refused.value.code == "matchmaking.not_enabled"
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    before = snapshot()
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.join(submitted.id, join, actor=member)
    assert refused.value.code == "matchmaking.not_approved" and snapshot() == before
    with pytest.raises(ValidationError):
        JoinIn.from_values(participant_type="sme", consent=False)
    registrations_approve = make.registration(event, make.user(make.organization()),
                                              S.SUBMITTED, S.APPROVED)
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.join(registrations_approve.id, JoinIn.from_values(
            participant_type="pirate", consent=True), actor=None)
    assert refused.value.code == "matchmaking.type_unknown"
    joined = matchmaking.join(registrations_approve.id, join, actor=None)
    assert joined.consent_given_at == NOW and joined.consent_version == "2026-11"
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.join(registrations_approve.id, join, actor=None)
    assert refused.value.code == "matchmaking.already_joined"


def test_a_withdrawn_consent_hides_the_participant_at_once(make, frozen):
    market = build_market(make)
    visible = lambda: set(_db.session.scalars(  # noqa: E731
        access.visible_participants(market.event_id)))
    assert visible() == set(market.people)
    assert access.can(market.user(0), "participant.view", market.people[1])
    matchmaking.withdraw_consent(market.people[1].id, actor=market.user(1))
    assert visible() == {market.people[0], market.people[2]}
    assert not access.can(market.user(0), "participant.view", market.people[1])
    assert access.can(market.user(1), "participant.view", market.people[1])  # their own
    assert not access.can(market.user(1), "matchmaking.marketplace",
                          market.people[1].event)
    # Given again: shown again, with the new consent's time.
    frozen.tick(timedelta(hours=1))
    again = matchmaking.join(market.people[1].registration_id, JoinIn.from_values(
        participant_type="research", consent=True), actor=market.user(1))
    assert again.id == market.people[1].id and again.consent_withdrawn_at is None
    assert again.consent_given_at == NOW + timedelta(hours=1)
    assert visible() == set(market.people)


def test_a_registration_that_is_not_approved_hides_the_participant(make, frozen):
    market = build_market(make)
    from webapp.services import registrations

    registrations.withdraw(market.people[2].registration_id, actor=market.user(2))
    assert set(_db.session.scalars(access.visible_participants(market.event_id))) == set(
        market.people[:2])


def test_the_profile_keeps_tags_once_each_and_audits_the_change(make, frozen):
    market = build_market(make)
    person = market.people[0]
    matchmaking.update_profile(person.id, ProfileIn.from_values(
        participant_type="research", sectors="Mobility, energy\nmobility\n",
        technologies="IoT\n\n  smart   lighting "), actor=market.user(0))
    assert person.participant_type.key == "research"
    assert matchmaking.tags(person.sectors) == ["Mobility", "energy"]
    assert person.technologies == "IoT\nsmart lighting"
    assert _audited("matchmaking.profile_updated") == 1


def test_opportunities_are_added_changed_and_removed(make, frozen):
    market = build_market(make)
    person = market.people[0]
    offer = matchmaking.add_opportunity(person.id, OpportunityIn.from_values(
        opportunity_type="offer", title="Smart lighting pilots", text="Two cities so far.",
        tags="lighting, IoT"), actor=market.user(0))
    assert (offer.opportunity_type.key, offer.tags) == ("offer", "lighting\nIoT")
    matchmaking.update_opportunity(offer.id, OpportunityIn.from_values(
        opportunity_type="request", title="Pilot sites wanted"), actor=market.user(0))
    assert (offer.opportunity_type.key, offer.title) == ("request", "Pilot sites wanted")
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.add_opportunity(person.id, OpportunityIn.from_values(
            opportunity_type="gift", title="x"), actor=market.user(0))
    assert refused.value.code == "matchmaking.opportunity_type_unknown"
    matchmaking.remove_opportunity(offer.id, actor=market.user(0))
    assert person.opportunities == []
    assert [_audited(f"matchmaking.opportunity_{verb}") for verb in
            ("added", "updated", "removed")] == [1, 1, 1]


def test_unavailable_slots_must_be_slots_and_replace_the_earlier_ones(make, frozen):
    market = build_market(make)
    person, start = market.people[0], market.people[0].event.starts_at
    slots = [start, start + timedelta(minutes=40)]
    assert matchmaking.set_unavailable(person.id, UnavailableSlotsIn.from_values(
        slots=slots), actor=market.user(0)) == slots
    matchmaking.set_unavailable(person.id, UnavailableSlotsIn.from_values(
        slots=slots[1:]), actor=market.user(0))
    assert [s.starts_at for s in person.unavailable] == slots[1:]
    with pytest.raises(MatchmakingRefused) as refused:
        matchmaking.set_unavailable(person.id, UnavailableSlotsIn.from_values(
            slots=[start + timedelta(minutes=1)]), actor=market.user(0))
    assert refused.value.code == "matchmaking.not_a_slot"


def test_switched_off_nobody_asks(make, frozen):
    market = build_market(make)
    matchmaking.switch_off(market.event_id, actor=market.organizer)
    before = snapshot()
    with pytest.raises(MatchmakingRefused) as refused:
        ask(market, 0, 1)
    assert refused.value.code == "matchmaking.not_enabled" and snapshot() == before


# --------------------------------------------------------------------------- migration


@pytest.mark.sqlite
def test_the_migration_upgrades_and_downgrades_on_sqlite(tmp_path):
    """0025 on a database at 0024: its tables come, the open-pair index refuses a second
    open request of a pair (either way) and takes a closed one; and they go again."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'mm.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0024_sort_keys")
        assert not TABLES & set(inspect(_db.engine).get_table_names())
        flask_migrate.upgrade(revision="0025_matchmaking")
        assert set(inspect(_db.engine).get_table_names()) >= TABLES
        insert = ("INSERT INTO meeting_requests (event_id, requester_id, receiver_id, "
                  "pair_low, pair_high, message, preferred_slots, status, created_at, "
                  "reason, updated_at) VALUES (1, {a}, {b}, 1, 2, '', '[]', '{status}', "
                  "CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP)")
        # A plain connection, without the app's foreign keys: only the index is tried.
        with closing(sqlite3.connect(tmp_path / "mm.db")) as conn:
            conn.execute(insert.format(a=1, b=2, status="requested"))
            conn.execute(insert.format(a=2, b=1, status="declined"))
            with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
                conn.execute(insert.format(a=2, b=1, status="accepted"))
            conn.rollback()
        flask_migrate.downgrade(revision="0024_sort_keys")
        assert not TABLES & set(inspect(_db.engine).get_table_names())
        _db.engine.dispose()


def test_models_and_migration_agree(db):
    """What the partial index names in SQL is what the model calls open."""
    from webapp.models.matchmaking import OPEN_PAIR_WHERE, OPEN_REQUEST_STATUSES

    listed = ", ".join(f"'{s.value}'" for s in (M.REQUESTED, M.ACCEPTED))
    assert f"status IN ({listed})" == OPEN_PAIR_WHERE
    assert {M.REQUESTED, M.ACCEPTED} == OPEN_REQUEST_STATUSES
    indexes = {index.name: index for index in MeetingRequest.__table__.indexes}
    assert indexes["uq_meeting_requests_open_pair"].unique

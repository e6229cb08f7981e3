"""Fifty receivers accepting at the same moment, each with a slot for the meeting, over
real HTTP against a live server, on SQLite and PostgreSQL: the slots and tables are far
fewer than the meetings, and the requests share people. Each accept either places its
meeting, or is refused with the slot's reason and leaves its request requested; nobody and
no table is booked twice, and the numbers add up.

Committed data and real connections (tests.live): its own SQLite file and, marked
`postgres`, TEST_DATABASE_URL (the rows it makes there are deleted afterwards).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime, timedelta
from html import unescape

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.backends import BACKENDS
from tests.factories import Factory
from tests.live import Member, add_race_routes, at_once, form_fields, recorded_logs, serve
from tests.test_meeting_requests import ask, build_market, with_tables
from webapp import languages
from webapp.extensions import db
from webapp.models import AuditEntry, Meeting, MeetingRequest, MeetingSeat
from webapp.models import MeetingRequestStatus as M
from webapp.services import notifications
from webapp.services.errors import render

PEOPLE, REQUESTS, TABLES = 12, 50, 2
TAKEN = ("schedule.side_busy", "schedule.no_free_point")


def _market():
    """Twelve participants, two tables, and fifty requests between them (every person in
    several), each to be accepted in one of the first two slots; committed."""
    market = build_market(Factory(), people=PEOPLE)
    with_tables(market, TABLES)
    first = market.people[0].event.starts_at
    slots = [first, first + timedelta(minutes=40)]
    pairs = list(itertools.combinations(range(PEOPLE), 2))
    random.Random(26).shuffle(pairs)
    chosen = {}
    for n, (frm, to) in enumerate(pairs[:REQUESTS]):
        req = ask(market, frm, to)
        chosen[req.id] = (market.user(to).id, slots[n % 2])
    db.session.commit()
    return market, chosen


def _accepting(base_url: str, event_id: int, chosen: dict[int, tuple[int, datetime]]):
    """A receiver's browser per request, signed in, its request's page open, the slot
    chosen on the accept form."""
    members = []
    for request_id, (user_id, start) in chosen.items():
        member = Member(base_url, user_id)
        member.sign_in()
        page = f"/events/{event_id}/marketplace/requests/{request_id}"
        action = f"{page}/accept"
        reply = member.request("GET", page)
        assert reply.status == 200, reply.body[:500]
        fields = form_fields(reply.body, action)
        assert start.isoformat() in reply.body  # offered: every slot is free yet
        member.form = [*[(k, v) for k, v in fields if k != "starts_at"],
                       ("starts_at", start.isoformat())]
        member.action, member.request_id = action, request_id
        members.append(member)
    return members


@pytest.mark.parametrize("backend", BACKENDS)
def test_fifty_accepts_racing_for_few_slots_book_nobody_and_no_table_twice(
        open_app, monkeypatch, backend):
    app = open_app(backend, DATABASE_TIMEOUT=30)
    add_race_routes(app)
    monkeypatch.setattr(notifications, "deliver", lambda ids: 0)  # mail is not the race
    market, chosen = _market()
    with recorded_logs() as logs, serve(app) as base_url:
        members = _accepting(base_url, market.event_id, chosen)
        race = at_once(members, lambda member: member.request("POST", member.action,
                                                              member.form))

    assert not race.server_errors() and not logs, logs[:3]
    db.session.commit()  # read afresh
    outcome = {m.request_id: r for m, r in zip(members, race.responses, strict=True)}
    statuses = {r: db.session.get(MeetingRequest, r).status for r in chosen}
    meetings = {m.request_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.event_id == market.event_id))}
    # Each receiver reads the refusal in their own language.
    reasons = set()
    with app.test_request_context():
        for language in languages.offered():
            with force_locale(language):
                reasons |= {render(code, {}) for code in TAKEN}
    placed, refused = [], []
    for request_id, response in outcome.items():
        if response.status == 302:
            placed.append(request_id)
            meeting = meetings[request_id]
            assert statuses[request_id] == M.ACCEPTED
            assert (meeting.starts_at, meeting.locked) == (chosen[request_id][1], True)
        else:
            refused.append(request_id)
            assert response.status == 409, response.body[:500]
            body = unescape(response.body)
            assert any(reason in body for reason in reasons), body[:2000]
            assert statuses[request_id] == M.REQUESTED and request_id not in meetings
    # The numbers add up: each accept placed its meeting or changed nothing.
    assert len(placed) + len(refused) == REQUESTS
    assert Counter(statuses.values()) == {M.ACCEPTED: len(placed), M.REQUESTED: len(refused)}
    assert sorted(meetings) == sorted(placed)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "meeting_request.accepted",
        AuditEntry.subject_id.in_(list(chosen)))) == len(placed)
    # Nobody and no table twice in a slot; two slots of two tables hold four at most, and
    # the first accept in each slot found it free.
    seats = db.session.execute(select(MeetingSeat.participant_id, MeetingSeat.starts_at)
                               .join(Meeting).where(Meeting.event_id == market.event_id)).all()
    assert len(seats) == 2 * len(placed) == len(set(seats))
    tables = [(m.point_id, m.starts_at) for m in meetings.values()]
    assert len(tables) == len(set(tables))
    assert 2 <= len(placed) <= 2 * TABLES

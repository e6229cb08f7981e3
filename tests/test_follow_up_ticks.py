"""Two `flask tick`s at the same moment, each with its own connection, on SQLite and on
PostgreSQL: each side of a meeting that took place gets its follow-up question mailed
exactly once (services.meeting_outcomes: the follow-up row, unique per meeting and side,
is the claim). The mail goes through a real SMTP server on loopback."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.backends import BACKENDS
from tests.factories import Factory
from tests.live import in_threads, loopback_smtp
from tests.test_meeting_requests import ask, build_market
from webapp.cli import tick_command
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn
from webapp.inputs.meeting_outcomes import MeetingRatingIn
from webapp.models import Meeting, MeetingFollowUp, OutboxMessage, OutboxStatus
from webapp.services import matchmaking, meeting_outcomes, meeting_requests, meeting_schedule


class Received:
    """Whom an SMTP server received mail for, one entry per message and recipient."""

    def __init__(self) -> None:
        self.recipients: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self._lock:
            self.recipients.extend(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"


def took_place() -> tuple[list[str], object]:
    """Committed: two meetings at one table that took place (one scanned at its table,
    one rated by a side) and one never held nor rated; the sides' addresses of the first
    two, and when their follow-ups are due."""
    make = Factory()
    market = build_market(make, people=6)
    matchmaking.add_point(market.event_id, MeetingPointIn.from_values(name="Table 1"),
                          actor=market.organizer)
    for frm, to in ((0, 1), (2, 3), (4, 5)):
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    _db.session.commit()
    first, second, _third = _db.session.scalars(select(Meeting).where(
        Meeting.event_id == market.event_id).order_by(Meeting.request_id)).all()
    meeting_outcomes.scan_at_point(
        market.event_id, first.point_id, market.people[0].registration.badge_code,
        actor=market.organizer, now=first.starts_at + timedelta(minutes=5))
    _db.session.commit()
    meeting_outcomes.rate(second.id, MeetingRatingIn.from_values(answer="informative"),
                          actor=market.user(3), now=second.starts_at + timedelta(hours=1))
    _db.session.commit()
    sides = [market.user(n).email.lower() for n in range(4)]
    return sides, max(first.starts_at, second.starts_at) + timedelta(days=183)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ticks_at_once_mail_each_sides_follow_up_once(open_app, backend, monkeypatch):
    app = open_app(backend)
    sides, due = took_place()
    # Both ticks hold what they read (no follow-up asked yet) when they claim; on SQLite
    # the second cannot read before the first has committed, so the pause gives up.
    both_read = threading.Barrier(2)
    claim = meeting_outcomes.claim
    met: list[bool] = []
    waited = threading.local()

    def claim_once_both_have_read(*args):
        if not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=1)
                met.append(True)
        return claim(*args)

    received = Received()
    with loopback_smtp(received) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False,
                          MAIL_USE_SSL=False, MAIL_USERNAME=None)
        # The mail of the requests and the schedule goes out first, on its own, with no
        # follow-up due yet: all that the two ticks send next is the questions.
        tick_command.main(["--now", (due - timedelta(days=30)).isoformat()],
                          standalone_mode=False)
        assert received.recipients
        received.recipients.clear()
        monkeypatch.setattr(meeting_outcomes, "claim", claim_once_both_have_read)
        ticks = in_threads(app, [lambda: tick_command.main(
            ["--now", due.isoformat()], standalone_mode=False)] * 2)
    assert not [t for t in ticks if isinstance(t, Exception)], ticks
    assert bool(met) == (backend == "postgres")  # PostgreSQL: both claimed at once

    assert sorted(received.recipients) == sorted(sides)  # each side once, no one else
    with app.app_context():
        follow_ups = _db.session.scalars(select(MeetingFollowUp)).all()
        assert len(follow_ups) == 4
        statuses = _db.session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.id.in_([f.outbox_message_id for f in follow_ups]))).all()
        assert statuses == [OutboxStatus.SENT] * 4
        assert {f.meeting.request.requester.registration.user.email.lower()
                for f in follow_ups} == {sides[0], sides[2]}

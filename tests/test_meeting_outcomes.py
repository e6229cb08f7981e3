"""What meetings led to (webapp/services/meeting_outcomes.py and its pages): a meeting held
by a badge scanned at its table or by both sides' "we met", a no-show after its slot,
ratings after the slot by its sides only, the follow-up mailed once by tick months later,
and "agreement reached" ending in an agreement counted in the KPIs; the organizers'
figures in a fixed number of statements."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import count_queries, csrf_token, login
from tests.test_meeting_requests import NOW, build_market, with_meetings
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn
from webapp.inputs.meeting_outcomes import MeetingRatingIn
from webapp.models import (
    Agreement,
    AuditEntry,
    Event,
    HeldHow,
    Meeting,
    MeetingFollowUp,
    MeetingHeld,
    MeetingRating,
    MeetingRatingAnswer,
)
from webapp.services import (
    kpis,
    matchmaking,
    meeting_outcomes,
    meeting_schedule,
)
from webapp.services.checkin import BadgeRefused
from webapp.services.meeting_outcomes import MeetingRefused

__all__ = ["NOW"]  # the `frozen` fixture's clock
LINK = re.compile(r"https?://[^/\s]+(/meeting-follow-up/\S+)")


def _placed(make, *, people=4, pairs=((0, 1), (2, 3))):
    """A market with two tables and its accepted meetings scheduled."""
    market = with_meetings(make, people=people, pairs=pairs)
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=5)
    meetings = list(_db.session.scalars(select(Meeting).where(
        Meeting.event_id == market.event_id).order_by(Meeting.request_id)))
    assert all(m.starts_at is not None for m in meetings)
    return market, meetings


@pytest.fixture
def placed(make, frozen):
    return _placed(make)


def _count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def _badge(market, n: int) -> str:
    return market.people[n].registration.badge_code


def test_a_badge_scanned_at_its_table_marks_the_meeting_held_once(placed, frozen, make):
    market, (first, second) = placed
    staff = market.organizer
    other_point = next(p.id for p in meeting_outcomes.points_of(market.event_id)
                       if p.id != first.point_id)
    frozen.move_to(first.starts_at - timedelta(days=3))
    with pytest.raises(BadgeRefused) as early:  # check-in is not open yet
        meeting_outcomes.scan_at_point(market.event_id, first.point_id, _badge(market, 0),
                                       actor=staff)
    assert early.value.code == "checkin.not_open_yet" and _count(MeetingHeld) == 0

    frozen.move_to(first.starts_at + timedelta(minutes=5))
    if second.point_id == first.point_id:  # participant 0 has no meeting at the other table
        with pytest.raises(MeetingRefused) as elsewhere:
            meeting_outcomes.scan_at_point(market.event_id, other_point, _badge(market, 0),
                                           actor=staff)
        assert elsewhere.value.code == "meeting.none_at_point"
    another = build_market(make, people=1)
    foreign = matchmaking.add_point(another.event_id, MeetingPointIn.from_values(
        name="Foreign table"), actor=another.organizer)
    with pytest.raises(MeetingRefused) as foreign_point:
        meeting_outcomes.scan_at_point(market.event_id, foreign.id, _badge(market, 0),
                                       actor=staff)
    assert foreign_point.value.code == "meeting.point_unknown"
    assert _count(MeetingHeld) == 0

    scan = meeting_outcomes.scan_at_point(market.event_id, first.point_id,
                                          _badge(market, 1), actor=staff)
    again = meeting_outcomes.scan_at_point(market.event_id, first.point_id,
                                           _badge(market, 0), actor=staff)

    assert scan.meeting.id == first.id and scan.new and not again.new
    assert (scan.held.how, scan.held.marked_by, scan.held.scanned_participant) == (
        HeldHow.TABLE_SCAN, staff, market.people[1])
    assert _count(MeetingHeld) == 1
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "meeting.held", AuditEntry.subject_id == first.id)) == 1
    # After the slot: the other meeting, never scanned, is a no-show; this one is not.
    frozen.move_to(max(first.starts_at, second.starts_at) + timedelta(hours=1))
    assert not meeting_outcomes.is_no_show(first) and meeting_outcomes.is_no_show(second)


def test_a_meeting_is_held_once_both_sides_say_we_met(placed, frozen, make):
    market, (first, _second) = placed
    frozen.move_to(first.starts_at - timedelta(minutes=1))
    with pytest.raises(MeetingRefused) as early:
        meeting_outcomes.tap_met(first.id, actor=market.user(0))
    assert early.value.code == "meeting.not_started"
    frozen.move_to(first.starts_at + timedelta(minutes=10))
    with pytest.raises(MeetingRefused) as outsider:
        meeting_outcomes.tap_met(first.id, actor=market.user(2))
    assert outsider.value.code == "meeting.sides_only"

    assert meeting_outcomes.tap_met(first.id, actor=market.user(0)) is None
    assert meeting_outcomes.tap_met(first.id, actor=market.user(0)) is None  # once a side
    held = meeting_outcomes.tap_met(first.id, actor=market.user(1))

    assert (held.how, held.marked_by) == (HeldHow.BOTH_MET, market.user(1))
    event_end = first.request.event.ends_at
    frozen.move_to(event_end + timedelta(minutes=1))
    with pytest.raises(MeetingRefused) as closed:
        meeting_outcomes.tap_met(_second.id, actor=market.user(2))
    assert closed.value.code == "meeting.marking_closed"


def test_a_rating_is_refused_before_the_slot_ends_and_to_others_nothing_changed(
        placed, frozen, app, client):
    market, (first, _second) = placed
    frozen.move_to(first.starts_at + timedelta(minutes=10))  # the slot is under way
    url = f"/events/{market.event_id}/meetings/{first.id}/rating"
    login(client, market.user(0))
    early = client.post(url, data={"csrf_token": csrf_token(client, "/"),
                                   "answer": "cooperation_possible"})
    assert early.status_code == 409
    assert "once its slot has ended" in early.get_data(as_text=True)
    frozen.move_to(first.starts_at + timedelta(hours=1))
    bad = client.post(url, data={"csrf_token": csrf_token(client, "/"), "answer": "great"})
    assert bad.status_code == 400
    login(client, market.user(2))  # a participant of the other meeting
    outsider = client.post(url, data={"csrf_token": csrf_token(client, "/"),
                                      "answer": "informative"})
    assert outsider.status_code == 404
    assert _count(MeetingRating) == 0


def test_ratings_and_the_follow_up_end_in_an_agreement_counted_in_the_kpis(
        make, frozen, app, client, mailbox):
    market, (first, _second) = _placed(make)
    # The other side is a company of the target region: a collaboration agreement.
    market.user(1).organization.country = "SG"
    _db.session.commit()
    frozen.move_to(first.starts_at + timedelta(minutes=45))
    meeting_outcomes.rate(first.id, MeetingRatingIn.from_values(
        answer="informative", comment="Too early to tell."), actor=market.user(0))
    rating = meeting_outcomes.rate(first.id, MeetingRatingIn.from_values(
        answer="cooperation_possible", comment="Promising."), actor=market.user(0))
    meeting_outcomes.rate(first.id, MeetingRatingIn.from_values(
        answer="cooperation_possible"), actor=market.user(1))
    assert (rating.answer, rating.comment) == (MeetingRatingAnswer.COOPERATION_POSSIBLE,
                                               "Promising.")
    assert _count(MeetingRating) == 2
    _db.session.commit()

    tick = app.test_cli_runner()
    soon = tick.invoke(args=["tick", "--now", (first.starts_at + timedelta(days=180))
                             .isoformat()])
    assert "0 meeting follow-up(s) queued" in soon.output, soon.output
    due = (first.starts_at + timedelta(days=183)).isoformat()
    sent = tick.invoke(args=["tick", "--now", due])
    assert "2 meeting follow-up(s) queued" in sent.output, sent.output
    again = tick.invoke(args=["tick", "--now", due])
    assert "0 meeting follow-up(s) queued" in again.output  # once per side
    assert _count(MeetingFollowUp) == 2
    # The second meeting was neither held nor rated: no follow-up for it.
    assert {f.meeting_id for f in _db.session.scalars(select(MeetingFollowUp))} == {first.id}

    frozen.move_to(first.starts_at + timedelta(days=184))
    with pytest.raises(MeetingRefused) as closed:  # the follow-up has been sent
        meeting_outcomes.rate(first.id, MeetingRatingIn.from_values(
            answer="insufficient_interest"), actor=market.user(0))
    assert closed.value.code == "meeting.rating_closed"

    [message] = [m for m in mailbox.to(market.user(0).email)
                 if "what came of it" in m["Subject"]]
    path = LINK.search(mailbox.text(message)).group(1)
    assert client.get(path).status_code == 200
    token = csrf_token(client, path)
    answered = client.post(path, data={"csrf_token": token,
                                       "answer": "agreement_reached"})
    assert answered.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "Record the agreement" in page
    too_late = client.post(path, data={"csrf_token": token,
                                       "answer": "no_further_contact"})
    assert too_late.status_code == 409
    recorded = client.post(path + "/agreement", data={
        "csrf_token": token, "type": "business_partnership",
        "title": "Sensors for Singapore", "signed_on": (first.starts_at + timedelta(days=170))
        .date().isoformat()})
    assert recorded.status_code == 302, recorded.get_data(as_text=True)

    [agreement] = _db.session.scalars(select(Agreement)).all()
    assert (agreement.origin_event_id, agreement.kind.value) == (market.event_id,
                                                                 "collaboration")
    assert {p.organization_id for p in agreement.parties} == {
        market.user(0).organization_id, market.user(1).organization_id}
    assert meeting_outcomes.recorded_agreement(first.id) == agreement
    headline = kpis.headline(kpis.Period())
    assert headline.collaboration_agreements == 1
    [row] = kpis.signed_agreement_rows(kpis.Period(), None).rows
    event_title = _db.session.get(Event, market.event_id).title
    assert (row[0], row[5]) == ("Sensors for Singapore", f"A B2B meeting at {event_title}")
    figures = meeting_outcomes.figures(market.event_id)
    assert (figures.requests_sent, figures.scheduled, figures.held, figures.no_shows) == (
        2, 2, 0, 2)
    assert figures.ratings == {"cooperation_possible": 2}
    assert (figures.follow_ups_sent, figures.follow_ups, figures.agreements) == (
        2, {"agreement_reached": 1}, 1)
    assert [c[3] for c in figures.comments] == ["Promising."]
    twice = client.post(path + "/agreement", data={
        "csrf_token": token, "type": "other", "title": "Again",
        "signed_on": agreement.signed_on.isoformat()})
    assert twice.status_code == 409 and _count(Agreement) == 1


def test_the_organizers_figures_take_as_many_statements_for_more_meetings(make, frozen,
                                                                          client):
    small, _meetings = _placed(make, people=2, pairs=((0, 1),))
    large, _meetings = _placed(make, people=6, pairs=((0, 1), (2, 3), (4, 5), (0, 3)))
    login(client, small.organizer)
    with count_queries() as few:
        assert client.get(f"/events/{small.event_id}/meetings/outcomes").status_code == 200
    login(client, large.organizer)
    with count_queries() as many:
        page = client.get(f"/events/{large.event_id}/meetings/outcomes")
    assert page.status_code == 200
    assert 'data-figure="scheduled">4<' in page.get_data(as_text=True)
    assert len(many) == len(few)


def test_the_door_leads_to_the_table_scanner_which_scans_by_camera_or_typing_at_one_table(
        placed, frozen, client):
    market, (first, _second) = placed
    base = f"/events/{market.event_id}"
    frozen.move_to(first.starts_at + timedelta(minutes=5))
    login(client, market.organizer)
    door = client.get(f"{base}/checkin").get_data(as_text=True)
    assert f'href="{base}/meetings/scan"' in door
    assert 'data-badge-input="code"' in door  # the door's camera as before
    settings = client.get(f"{base}/matchmaking/").get_data(as_text=True)
    assert f'href="{base}/meetings/outcomes"' in settings

    page = client.get(f"{base}/meetings/scan").get_data(as_text=True)
    # The door's camera, reading into the badge code field of the table's form.
    assert 'data-badge-input="token"' in page and 'id="camera-start"' in page
    assert "js/checkin.js" in page and 'id="token"' in page
    token = csrf_token(client, f"{base}/meetings/scan")
    held = client.post(f"{base}/meetings/scan", data={
        "csrf_token": token, "point_id": str(first.point_id), "token": _badge(market, 1)})
    html = held.get_data(as_text=True)
    assert held.status_code == 200
    assert re.search(rf"Held: the meeting of {market.user(1).name} with "
                     rf"{market.user(0).name} at {first.point.name}, ", html), html
    # Ready for the next badge at the same table.
    assert re.search(rf'<option selected value="{first.point_id}"', html)
    assert re.search(r'<input[^>]*id="token"[^>]*value=""', html)
    refused = client.post(f"{base}/meetings/scan", data={
        "csrf_token": token, "point_id": str(first.point_id), "token": "AAAA AAAA"})
    assert refused.status_code == 400
    assert 'role="alert" data-testid="refusal"' in refused.get_data(as_text=True)
    assert re.search(rf'<option selected value="{first.point_id}"',
                     refused.get_data(as_text=True))
    assert _count(MeetingHeld) == 1

    matchmaking.switch_off(market.event_id, actor=market.organizer)
    _db.session.commit()
    assert f"{base}/meetings/scan" not in client.get(f"{base}/checkin").get_data(as_text=True)

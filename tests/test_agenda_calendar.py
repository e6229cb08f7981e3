"""Meetings in calendars (webapp/services/calendar.py): each meeting's own .ics, filed by a
real CalDAV server (Radicale), replaced when the meeting moves and cancelled when it is
called off; the personal feed holds the meetings shown to its owner, at their table or
online link, with the other side's organization and contact person."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests import test_meeting_requests
from tests.conftest import login
from tests.test_agenda import AWKWARD_NAME, AWKWARD_ORG, build, publish, schedule, settings_of
from tests.test_calendar import parse_both, vevents
from tests.test_radicale import CALENDAR, caldav  # noqa: F401 - the CalDAV server fixture
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn
from webapp.models import MeetingPoint, MeetingSeat
from webapp.services import calendar, matchmaking, meeting_requests, meeting_schedule

NOW = test_meeting_requests.NOW  # the frozen clock's time


def _file(client, market, meeting):
    response = client.get(f"/events/{market.event_id}/marketplace/meetings/{meeting.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = parse_both(response.data)
    (vevent,) = vevents(cal)
    return cal, vevent


def _free_slot(market, meeting):
    """A slot in which neither side of `meeting` meets anyone."""
    sides = (meeting.request.requester_id, meeting.request.receiver_id)
    busy = set(_db.session.scalars(select(MeetingSeat.starts_at).where(
        MeetingSeat.participant_id.in_(sides))))
    return next(s for s in settings_of(market).slot_starts() if s not in busy)


def test_a_meetings_file_moves_and_cancels_in_a_caldav_calendar(client, make, frozen,
                                                                caldav):  # noqa: F811
    market = build(make, 4, ((0, 1), (0, 2)))
    meeting = schedule(market)[0]  # participant 0 with participant 1
    publish(market)
    login(client, market.user(0))

    cal, placed = _file(client, market, meeting)
    uid, old = str(placed["uid"]), meeting.starts_at
    assert uid == calendar.meeting_uid(meeting)
    assert str(placed["location"]) == meeting.point.name
    assert int(placed["sequence"]) == meeting.sequence
    assert placed["dtstart"].params["TZID"] == market.people[0].event.timezone
    description = str(placed["description"])
    for expected in (AWKWARD_ORG, AWKWARD_NAME, market.user(1).email, meeting.point.name):
        assert expected in description, expected
    assert caldav.put(cal) == 201
    assert caldav.found_at(uid, old) and not caldav.found_just_before(uid, old)

    # The organizers move it to another slot and table: the same entry, replaced.
    later = _free_slot(market, meeting)
    other = next(p for p in settings_of(market).points if p.id != meeting.point_id)
    meeting_schedule.move(market.event_id, meeting.request_id, later, other.id,
                          actor=market.organizer)
    cal, moved = _file(client, market, meeting)
    assert str(moved["uid"]) == uid and moved["sequence"] > placed["sequence"]
    assert str(moved["location"]) == other.name
    assert caldav.put(cal) == 204
    assert caldav.found_at(uid, later) and not caldav.found_just_before(uid, later)
    assert not caldav.found_at(uid, old)

    # Called off: the file cancels the entry the server holds.
    meeting_requests.cancel(meeting.request_id, actor=market.user(1), reason="Flight moved.")
    cal, cancelled = _file(client, market, meeting)
    assert str(cal["method"]) == "CANCEL" and str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == uid and cancelled["sequence"] > moved["sequence"]
    assert market.user(1).email not in cal.to_ical().decode()
    del cal["method"]  # what a client files from it
    assert caldav.put(cal) == 204
    status, body = caldav.request("GET", CALENDAR + uid.replace("@", "_") + ".ics")
    assert status == 200 and b"STATUS:CANCELLED" in body
    assert f"SEQUENCE:{cancelled['sequence']}".encode() in body


def test_the_feed_holds_the_meetings_shown_at_their_table_or_link(client, make, frozen):
    market = build(make, 4, ((0, 1),))
    link = "https://meet.example.org/room-1?a=1&b=2"
    matchmaking.add_point(market.event_id, MeetingPointIn.from_values(
        name="Online room", kind="online", url=link), actor=market.organizer)
    (meeting,) = schedule(market)
    uid = calendar.meeting_uid(meeting)

    def entry(n: int):
        response = client.get(f"/calendar/{calendar.feed_token(market.user(n))}.ics")
        assert response.status_code == 200
        return next((v for v in vevents(parse_both(response.data)) if str(v["uid"]) == uid),
                    None)

    assert entry(0) is None  # a draft schedule is not shown
    publish(market)
    mine, theirs = entry(0), entry(1)
    assert str(mine["location"]) == meeting.point.name
    assert AWKWARD_ORG in str(mine["description"]) and "Firm 0" in str(theirs["description"])
    length = timedelta(minutes=settings_of(market).meeting_minutes)
    assert (mine["dtstart"].dt, mine["dtend"].dt) == (meeting.starts_at,
                                                      meeting.starts_at + length)
    assert entry(2) is None  # not theirs

    online = _db.session.scalar(select(MeetingPoint).where(MeetingPoint.name == "Online room"))
    meeting_schedule.move(market.event_id, meeting.request_id, meeting.starts_at, online.id,
                          actor=market.organizer)
    assert str(entry(0)["location"]) == link

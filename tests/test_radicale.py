"""Our files read by a real CalDAV server: Radicale stores each entry the way a calendar
client imports it (one resource per UID, with the VTIMEZONEs it uses) and answers
time-range queries with its own reading of TZID, VTIMEZONE and DATE values.

Expected instants are written out by hand in UTC: the check is that the server, from the
file alone, lands on the instant we meant, and not one second before it.
"""

from __future__ import annotations

import base64
import http.client
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.test_calendar import parse_both, vevents
from webapp.models import RegistrationStatus as S
from webapp.services import calendar

AUTH = "Basic " + base64.b64encode(b"delegate:any").decode()
CALENDAR = "/delegate/missions/"


class CalDAV:
    """Just enough of a CalDAV client: MKCALENDAR, PUT, calendar-query REPORT."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body,
                         headers={"Authorization": AUTH, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def put(self, cal: icalendar.Calendar) -> int:
        (vevent,) = vevents(cal)
        name = str(vevent["uid"]).replace("@", "_") + ".ics"
        status, body = self.request("PUT", CALENDAR + name, cal.to_ical(),
                                    {"Content-Type": "text/calendar; charset=utf-8"})
        assert status in (201, 204), body
        return status

    def uids_between(self, start: datetime, end: datetime) -> set[str]:
        """The UIDs of the entries the server says overlap [start, end)."""
        fmt = "%Y%m%dT%H%M%SZ"
        query = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start.strftime(fmt)}" end="{end.strftime(fmt)}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
        status, body = self.request("REPORT", CALENDAR, query.encode(),
                                    {"Depth": "1", "Content-Type": "application/xml"})
        assert status == 207, body
        text = body.decode()
        return {line.split(":", 1)[1].strip() for line in text.replace("&#13;", "").splitlines()
                if line.startswith("UID:")}

    def found_at(self, uid: str, instant: datetime) -> bool:
        return uid in self.uids_between(instant, instant + timedelta(seconds=1))

    def found_just_before(self, uid: str, instant: datetime) -> bool:
        return uid in self.uids_between(instant - timedelta(seconds=1), instant)


@pytest.fixture
def caldav(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "radicale.conf"
    config.write_text(f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = {tmp_path / "collections"}
[logging]
level = warning
""")
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"Radicale did not start: {process.stderr.read().decode()}")
            time.sleep(0.05)
    client = CalDAV(port)
    status, body = client.request("MKCALENDAR", CALENDAR)
    assert status == 201, body
    try:
        yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


def local(tz: str, *args: int) -> datetime:
    """A wall-clock time in `tz`, as the organizers type it."""
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))


def one_per_uid(cal: icalendar.Calendar) -> list[icalendar.Calendar]:
    """Split a file as a CalDAV client imports it: one resource per VEVENT, each with the
    VTIMEZONEs it references."""
    zones = {str(tz["tzid"]): tz for tz in cal.walk("VTIMEZONE")}
    result = []
    for vevent in vevents(cal):
        single = icalendar.Calendar()
        for key in ("prodid", "version", "calscale"):
            single.add(key, cal[key])
        tzid = vevent["dtstart"].params.get("TZID")
        if tzid:
            single.add_component(zones[tzid])
        single.add_component(vevent)
        result.append(single)
    return result


# (zone, local start, local end, the UTC instant it must start at): summer and winter.
TIMED = [
    ("Asia/Singapore", (2019, 7, 9, 9), (2019, 7, 9, 12), "20190709T010000Z"),
    ("Asia/Singapore", (2019, 1, 15, 9), (2019, 1, 15, 12), "20190115T010000Z"),
    ("America/New_York", (2019, 7, 10, 9), (2019, 7, 10, 17), "20190710T130000Z"),
    ("America/New_York", (2019, 1, 16, 9), (2019, 1, 16, 17), "20190116T140000Z"),
    ("Europe/Madrid", (2019, 6, 12, 10), (2019, 6, 12, 18), "20190612T080000Z"),
    ("Europe/Madrid", (2019, 12, 11, 10), (2019, 12, 11, 18), "20191211T090000Z"),
    ("Europe/Copenhagen", (2019, 8, 20, 10), (2019, 8, 20, 15), "20190820T080000Z"),
    ("Europe/Copenhagen", (2019, 2, 20, 10), (2019, 2, 20, 15), "20190220T090000Z"),
]


def test_single_events_land_on_their_instant_summer_and_winter(client, make, caldav):
    expected = {}
    for n, (tz, start, end, instant) in enumerate(TIMED):
        event = make.event(slug=f"timed-{n}", timezone=tz, starts_at=local(tz, *start),
                           ends_at=local(tz, *end))
        cal = parse_both(client.get(f"/events/{event.slug}.ics").data)
        for resource in one_per_uid(cal):
            caldav.put(resource)
        expected[calendar.event_uid(event)] = utc(instant)
    for uid, instant in expected.items():
        assert caldav.found_at(uid, instant), uid
        assert not caldav.found_just_before(uid, instant), uid


def test_new_york_agenda_across_the_november_switch(client, make, caldav):
    """EDT ends on Sunday 3 November 2019: the same 09:00 is 13:00Z before, 14:00Z after,
    and the all-day Sunday covers that local date."""
    tz = "America/New_York"
    event = make.event(slug="nyc-nov", timezone=tz, starts_at=local(tz, 2019, 11, 1, 9),
                       ends_at=local(tz, 2019, 11, 5, 18))
    friday = make.session(event, title="Friday briefing", starts_at=local(tz, 2019, 11, 1, 9),
                          ends_at=local(tz, 2019, 11, 1, 11))
    sunday = make.session(event, title="Expo Sunday", all_day=True, starts_at=None,
                          ends_at=None, start_date=date(2019, 11, 3),
                          end_date=date(2019, 11, 3))
    monday = make.session(event, title="Monday visit", starts_at=local(tz, 2019, 11, 4, 9),
                          ends_at=local(tz, 2019, 11, 4, 11))
    cal = parse_both(client.get("/events/nyc-nov.ics").data)
    for resource in one_per_uid(cal):
        caldav.put(resource)
    for session, instant in [(friday, "20191101T130000Z"), (monday, "20191104T140000Z")]:
        uid = calendar.session_uid(session)
        assert caldav.found_at(uid, utc(instant))
        assert not caldav.found_just_before(uid, utc(instant))
    # A DATE is floating: the server reads it in UTC unless told the calendar's zone.
    all_day = calendar.session_uid(sunday)
    assert caldav.found_at(all_day, utc("20191103T000000Z"))
    assert caldav.found_at(all_day, utc("20191103T235959Z"))
    assert not caldav.found_just_before(all_day, utc("20191103T000000Z"))
    assert not caldav.found_at(all_day, utc("20191104T000000Z"))  # DTEND is exclusive


def test_moved_event_replaces_the_old_entry(client, db, make, caldav):
    tz = "Europe/Madrid"
    event = make.event(slug="moved", timezone=tz, starts_at=local(tz, 2019, 10, 24, 10),
                       ends_at=local(tz, 2019, 10, 24, 12))
    first = parse_both(client.get("/events/moved.ics").data)
    assert caldav.put(first) == 201
    # A week later, after the switch to winter time: 10:00 CET.
    event.starts_at = local(tz, 2019, 10, 31, 10)
    event.ends_at = local(tz, 2019, 10, 31, 12)
    event.calendar_sequence += 1
    db.session.flush()
    second = parse_both(client.get("/events/moved.ics").data)
    (old,), (new,) = vevents(first), vevents(second)
    assert new["uid"] == old["uid"]
    assert new["sequence"] > old["sequence"]
    assert caldav.put(second) == 204  # the same resource, replaced
    uid = str(new["uid"])
    assert caldav.found_at(uid, utc("20191031T090000Z"))
    assert not caldav.found_just_before(uid, utc("20191031T090000Z"))
    assert not caldav.found_at(uid, utc("20191024T080000Z"))


def test_invitation_update_and_cancel_keep_the_uid(db, make, caldav, monkeypatch):
    tz = "Asia/Singapore"
    event = make.event(timezone=tz, starts_at=local(tz, 2019, 7, 9, 9),
                       ends_at=local(tz, 2019, 7, 12, 18))
    make.session(event, title="Day one")
    reg = make.registration(event, make.user(), S.SUBMITTED, S.APPROVED)
    clock = iter([datetime(2019, 5, 1, 8, tzinfo=ZoneInfo("UTC")),
                  datetime(2019, 5, 2, 8, tzinfo=ZoneInfo("UTC")),
                  datetime(2019, 5, 3, 8, tzinfo=ZoneInfo("UTC"))])
    monkeypatch.setattr(calendar, "utcnow", lambda: next(clock))

    def imported(text: str) -> icalendar.Calendar:
        """What a client files from an iTIP message: the entry, without METHOD."""
        cal = parse_both(text)
        del cal["method"]
        return cal

    request = calendar.invitation(reg, "REQUEST", sequence=0)
    assert caldav.put(imported(request)) == 201
    event.starts_at, event.ends_at = local(tz, 2019, 7, 10, 9), local(tz, 2019, 7, 13, 18)
    update = calendar.invitation(reg, "REQUEST", sequence=1)
    cancel = calendar.invitation(reg, "CANCEL", sequence=2)
    (a,), (b,), (c,) = (vevents(parse_both(t)) for t in (request, update, cancel))
    assert a["uid"] == b["uid"] == c["uid"]
    assert a["sequence"] < b["sequence"] < c["sequence"]
    assert a["dtstamp"].dt < b["dtstamp"].dt < c["dtstamp"].dt
    assert parse_both(cancel)["method"] == "CANCEL" and c["status"] == "CANCELLED"
    assert caldav.put(imported(update)) == 204
    uid = str(b["uid"])
    assert caldav.found_at(uid, utc("20190710T010000Z"))
    assert not caldav.found_just_before(uid, utc("20190710T010000Z"))
    assert not caldav.found_at(uid, utc("20190709T010000Z"))


def test_feed_entries_are_accepted_one_by_one(client, make, caldav):
    member = make.user()
    for tz in ("Asia/Singapore", "America/New_York", "Europe/Madrid", "Europe/Copenhagen"):
        event = make.event(timezone=tz, starts_at=local(tz, 2030, 3, 30, 9),
                           ends_at=local(tz, 2030, 4, 2, 17))
        make.session(event, starts_at=local(tz, 2030, 3, 30, 9),
                     ends_at=local(tz, 2030, 3, 30, 11))
        make.session(event, starts_at=local(tz, 2030, 4, 1, 9), ends_at=local(tz, 2030, 4, 1, 11))
        make.registration(event, member, S.SUBMITTED, S.APPROVED)
    cal = parse_both(client.get(f"/calendar/{calendar.feed_token(member)}.ics").data)
    resources = one_per_uid(cal)
    assert len(resources) == 8
    for resource in resources:
        caldav.put(resource)
    # Copenhagen and Madrid switch to summer time on 31 March 2030: 09:00 is 08:00Z
    # on the Saturday before and 07:00Z on the Monday after.
    copenhagen = [v for v in vevents(cal) if v["dtstart"].params["TZID"] == "Europe/Copenhagen"]
    uids = sorted(str(v["uid"]) for v in copenhagen)
    found = {uid for uid in uids if caldav.found_at(uid, utc("20300330T080000Z"))}
    found_after = {uid for uid in uids if caldav.found_at(uid, utc("20300401T070000Z"))}
    assert len(found) == 1 and len(found_after) == 1 and found != found_after

"""Event and session .ics files, invitations and "add to calendar" links."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from tests.factories import at
from webapp.models import EventKind, EventStatus
from webapp.models import RegistrationStatus as S
from webapp.services import calendar

UTC = ZoneInfo("UTC")


def parse_both(text: str | bytes) -> icalendar.Calendar:
    """Both parsers must accept the file; returns icalendar's reading."""
    raw = text.encode() if isinstance(text, str) else text
    vobject.readOne(raw.decode()).validate()
    return icalendar.Calendar.from_ical(raw)


def vevents(cal: icalendar.Calendar) -> list:
    return list(cal.walk("VEVENT"))


def assert_wire_format(raw: bytes) -> None:
    """CRLF line ends and no line longer than 75 octets (RFC 5545 3.1)."""
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75


@pytest.fixture
def mission(make):
    """A New York mission of two days and three agenda items, one of them all-day."""
    event = make.event(
        title="Smart Mobility Mission", slug="nyc-mobility", target_country="US",
        target_city="New York", timezone="America/New_York", venue="Cornell Tech",
        starts_at=at(2019, 11, 2, 13), ends_at=at(2019, 11, 4, 22),
        online_url="https://meet.example.com/secret-room", calendar_sequence=2,
    )
    make.session(event, title="Welcome briefing", starts_at=at(2019, 11, 2, 13),
                 ends_at=at(2019, 11, 2, 15), venue="Bridge offices")
    make.session(event, title="Expo day", all_day=True, starts_at=None, ends_at=None,
                 start_date=date(2019, 11, 3), end_date=date(2019, 11, 3))
    make.session(event, title="Site visit", starts_at=at(2019, 11, 4, 14),
                 ends_at=at(2019, 11, 4, 16), calendar_sequence=1)
    return event


# --------------------------------------------------------------------------- invitations


def test_invitation_is_one_request_vevent_for_the_whole_event(make, mission):
    member = make.user(name="Ana Pérez", email="ana@example.org")
    reg = make.registration(mission, member, S.SUBMITTED, S.APPROVED)
    text = calendar.invitation(reg, "REQUEST", sequence=3)
    cal = parse_both(text)
    assert_wire_format(text.encode())
    assert cal["method"] == "REQUEST"
    (vevent,) = vevents(cal)
    assert str(vevent["uid"]) == f"event-{mission.id}@beachhead.smartcitytech.eu"
    assert vevent["sequence"] == 3
    assert vevent["dtstart"].dt == at(2019, 11, 2, 13)
    assert vevent["dtend"].dt == at(2019, 11, 4, 22)
    assert vevent["dtstart"].params["TZID"] == "America/New_York"
    assert str(vevent["organizer"]) == "mailto:missions@smartcitytech.eu"
    attendee = vevent["attendee"]
    assert str(attendee) == "mailto:ana@example.org"
    assert attendee.params["RSVP"] == "FALSE"
    description = str(vevent["description"])
    assert "Welcome briefing" in description and "Site visit" in description
    assert "meet.example.com" not in text
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_invitation_uses_the_registrations_uid_and_cancel_marks_it_cancelled(make, mission):
    reg = make.registration(mission, make.user(), S.SUBMITTED, S.APPROVED)
    reg.calendar_uid = "registration-77@beachhead.smartcitytech.eu"
    first = vevents(parse_both(calendar.invitation(reg, "REQUEST", sequence=0)))[0]
    cancel = parse_both(calendar.invitation(reg, "cancel", sequence=1))
    assert cancel["method"] == "CANCEL"
    (vevent,) = vevents(cancel)
    assert vevent["uid"] == first["uid"] == reg.calendar_uid
    assert vevent["sequence"] == 1
    assert vevent["status"] == "CANCELLED"


def test_invitation_refuses_other_methods(make, mission):
    reg = make.registration(mission, make.user(), S.SUBMITTED, S.APPROVED)
    with pytest.raises(ValueError):
        calendar.invitation(reg, "PUBLISH", sequence=0)


# --------------------------------------------------------------------------- files


def test_event_file_has_a_vevent_per_session_with_zone_and_sequence(client, mission):
    response = client.get("/events/nyc-mobility.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert_wire_format(response.data)
    cal = parse_both(response.data)
    items = {str(v["summary"]).split(" · ")[0]: v for v in vevents(cal)}
    assert set(items) == {"Welcome briefing", "Expo day", "Site visit"}
    ids = sorted(s.id for s in mission.sessions)
    assert sorted(int(str(v["uid"]).split("-")[1].split("@")[0]) for v in items.values()) == ids
    briefing = items["Welcome briefing"]
    assert briefing["dtstart"].params["TZID"] == "America/New_York"
    assert briefing["dtstart"].dt.replace(tzinfo=None).hour == 9  # 13:00 UTC is 09:00 EDT
    assert items["Site visit"]["sequence"] == 3  # event's 2 + the session's 1
    expo = items["Expo day"]
    assert expo["dtstart"].dt == date(2019, 11, 3)
    assert expo["dtend"].dt == date(2019, 11, 4)  # exclusive
    assert str(briefing["location"]).startswith("Bridge offices")
    assert str(briefing["url"]).endswith("/events/nyc-mobility")
    assert str(briefing["url"]) in str(briefing["description"])
    assert "dtstamp" in briefing
    tz = cal.walk("VTIMEZONE")[0]
    offsets = {c["tzoffsetto"].to_ical() for c in tz.subcomponents}
    assert {"-0400", "-0500"} <= {o.decode() if isinstance(o, bytes) else o for o in offsets}


def test_event_file_never_contains_the_online_url_or_personal_data(client, make, mission):
    member = make.user(name="Very Private", email="private@example.org")
    make.registration(mission, member, S.SUBMITTED, S.APPROVED)
    data = client.get("/events/nyc-mobility.ics").get_data(as_text=True)
    assert "secret-room" not in data
    assert "private@example.org" not in data and "Very Private" not in data
    assert "ATTENDEE" not in data and "ORGANIZER" not in data


def test_event_without_sessions_is_one_vevent(client, make):
    event = make.event(slug="webinar-x", kind=EventKind.WEBINAR, timezone="Europe/Madrid",
                       starts_at=at(2030, 1, 15, 9), ends_at=at(2030, 1, 15, 10))
    cal = parse_both(client.get("/events/webinar-x.ics").data)
    (vevent,) = vevents(cal)
    assert str(vevent["uid"]) == f"event-{event.id}@beachhead.smartcitytech.eu"
    assert vevent["dtstart"].dt == at(2030, 1, 15, 9)
    assert vevent["dtstart"].dt.utcoffset() == timedelta(hours=1)


def test_session_file_holds_that_session_only(client, mission):
    session = next(s for s in mission.sessions if s.title == "Site visit")
    response = client.get(f"/events/nyc-mobility/sessions/{session.id}.ics")
    (vevent,) = vevents(parse_both(response.data))
    assert str(vevent["uid"]) == f"session-{session.id}@beachhead.smartcitytech.eu"


def test_session_of_another_event_is_not_found(client, make, mission):
    other = make.event()
    session = make.session(other)
    assert client.get(f"/events/nyc-mobility/sessions/{session.id}.ics").status_code == 404


def test_cancelled_event_file_says_cancelled_with_a_higher_sequence(client, make):
    make.event(slug="gone", status=EventStatus.CANCELLED, calendar_sequence=4)
    (vevent,) = vevents(parse_both(client.get("/events/gone.ics").data))
    assert vevent["status"] == "CANCELLED"
    assert vevent["sequence"] == 5


def test_draft_event_file_is_only_for_its_organizers(client, make, login_as):
    partner = make.partner()
    make.event(slug="draft-x", status=EventStatus.DRAFT, organizers=[partner])
    assert client.get("/events/draft-x.ics").status_code == 404
    login_as(make.user())
    assert client.get("/events/draft-x.ics").status_code == 404
    login_as(make.manager(partner))
    assert client.get("/events/draft-x.ics").status_code == 200


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("title,description", [
    ("Mobility, Energy; Water", "Line one\nLine two; with, punctuation"),
    ("Smart 🏙️ city <b>tour</b>", "<script>alert('x')</script> & \"quotes\" \\ backslash"),
    ("A" * 190, "é" * 400 + " long text that must be folded on octet boundaries"),
])
def test_awkward_text_comes_through_escaped_and_intact(client, make, title, description):
    make.event(slug="awkward", title=title, description=description, summary="",
               venue="Hall 3, Level 2; Room A")
    response = client.get("/events/awkward.ics")
    assert_wire_format(response.data)
    (vevent,) = vevents(parse_both(response.data))
    assert str(vevent["summary"]) == title
    assert str(vevent["description"]).startswith(description)
    assert str(vevent["location"]).startswith("Hall 3, Level 2; Room A")
    parsed = vobject.readOne(response.get_data(as_text=True))
    assert parsed.vevent.summary.value == title


# --------------------------------------------------------------------------- links


def test_event_page_offers_file_google_and_outlook(client, mission):
    html = client.get("/events/nyc-mobility").get_data(as_text=True)
    assert "/events/nyc-mobility.ics" in html
    assert "https://calendar.google.com/calendar/render?" in html
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html


def test_google_and_outlook_links_carry_utc_times_and_the_zone(app, mission):
    with app.test_request_context():
        google = parse_qs(urlsplit(calendar.google_link(mission)).query)
        outlook = parse_qs(urlsplit(calendar.outlook_link(mission)).query)
    assert google["dates"] == ["20191102T130000Z/20191104T220000Z"]
    assert google["ctz"] == ["America/New_York"]
    assert google["text"] == ["Smart Mobility Mission"]
    assert "secret-room" not in google["details"][0]
    assert outlook["startdt"] == ["2019-11-02T13:00:00Z"]
    assert outlook["enddt"] == ["2019-11-04T22:00:00Z"]


def test_registration_page_offers_add_to_calendar(client, make, login_as, mission):
    member = make.user()
    reg = make.registration(mission, member, S.SUBMITTED, S.APPROVED)
    login_as(member)
    html = client.get(f"/account/registrations/{reg.id}").get_data(as_text=True)
    assert "/events/nyc-mobility.ics" in html
    assert "calendar.google.com" in html


# --------------------------------------------------------------------------- times on pages


def test_viewer_in_another_zone_sees_their_time_too(client, make, login_as):
    make.event(slug="sg-july", starts_at=at(2019, 7, 9, 1), ends_at=at(2019, 7, 9, 4))
    login_as(make.user(timezone="Europe/Paris"))
    html = client.get("/events/sg-july").get_data(as_text=True)
    assert "Tue 9 Jul 2019, 09:00 – 12:00 (Singapore, UTC+8)" in html
    assert "03:00 – 06:00 on Tue 9 Jul your time (CEST)" in html


def test_viewer_in_the_events_offset_or_signed_out_sees_one_time(client, make, login_as):
    make.event(slug="madrid-x", timezone="Europe/Madrid", starts_at=at(2019, 7, 9, 8),
               ends_at=at(2019, 7, 9, 10))
    assert 'data-testid="your-time"' not in client.get("/events/madrid-x").get_data(as_text=True)
    login_as(make.user(timezone="Europe/Paris"))  # another name, the same clock
    assert 'data-testid="your-time"' not in client.get("/events/madrid-x").get_data(as_text=True)


def test_viewer_time_names_the_day_when_it_differs(app):
    from webapp import localtime

    with app.test_request_context():
        text = localtime.viewer_span(at(2019, 7, 9, 1), at(2019, 7, 9, 4), "Asia/Singapore",
                                     "America/New_York")
    assert text == "21:00 on Mon 8 Jul – 00:00 on Tue 9 Jul your time (EDT)"

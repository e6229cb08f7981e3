"""Personal join links (webapp/services/join.py, webapp/views/join.py): the window and its
edges, who is let through, the attendance a click records, the countdown, the recording
after the end; the links in mail, invitations and "My registrations"; the recording link
in the event form; and the meeting address never showing where it must not."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import icalendar
import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select

from tests.conftest import csrf_token, login
from tests.factories import at
from tests.inputs_table import refusals
from tests.webinars import ENDS, MEETING, STARTS, approved, event_details, event_form, field_error
from webapp.inputs import ValidationError
from webapp.models import (
    Attendance,
    AttendanceSource,
    Event,
    EventKind,
    OutboxMessage,
)
from webapp.models import RegistrationStatus as S
from webapp.models.types import new_join_token
from webapp.services import calendar, events, join, notifications, registrations
from webapp.services.join import OPENS_BEFORE, Outcome, UnknownJoinLink

PANEL = "https://meet.example.com/j/panel-room-777"
RECORDING = "https://video.example.com/recordings/boston-webinar"
BASE = "http://127.0.0.1:5000"
OPENS = STARTS - OPENS_BEFORE


def attendances(db, reg) -> list[Attendance]:
    return db.session.scalars(select(Attendance).where(
        Attendance.registration_id == reg.id).order_by(Attendance.id)).all()


def path(reg, session=None) -> str:
    return f"/join/{reg.join_token}" + (f"?session={session.id}" if session else "")


def open_at(client, url, when, user=None):
    with freeze_time(when):
        if user is not None:
            login(client, user)  # at that time: a sign-in from "now" would have expired
        return client.get(url)


def assert_private(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def assert_no_meeting(response, *urls):
    """Neither the body nor any header carries a meeting address."""
    body = response.get_data(as_text=True)
    headers = str(response.headers)
    for url in urls or (MEETING, PANEL):
        assert url not in body and url not in headers
    assert "meet.example.com" not in body and "meet.example.com" not in headers


# --------------------------------------------------------------------------- the token


def test_every_registration_gets_its_own_long_url_safe_token(make, webinar, organizer):
    regs = [approved(make, webinar, make.user(), organizer) for _ in range(20)]
    tokens = {r.join_token for r in regs}
    assert len(tokens) == 20
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes: 256 bits
    assert len(new_join_token()) == 43


# --------------------------------------------------------------------------- the window


@pytest.mark.parametrize(("now", "outcome"), [
    (OPENS - timedelta(days=3), Outcome.NOT_YET),
    (OPENS - timedelta(seconds=1), Outcome.NOT_YET),
    (OPENS, Outcome.REDIRECT),  # the window opens 30 minutes before the start...
    (STARTS, Outcome.REDIRECT),
    (ENDS - timedelta(seconds=1), Outcome.REDIRECT),
    (ENDS, Outcome.ENDED),  # ...and closes at the end
    (ENDS + timedelta(days=30), Outcome.ENDED),
])
def test_the_window_opens_half_an_hour_before_the_start_and_closes_at_the_end(
    seat, now, outcome
):
    answer = join.open_link(seat.join_token, now)
    assert answer.outcome == outcome
    assert (answer.meeting_url == MEETING) == (outcome == Outcome.REDIRECT)
    assert (answer.opens_at, answer.starts_at, answer.ends_at) == (OPENS, STARTS, ENDS)


def test_the_click_is_recorded_once_inside_the_window_with_its_source(db, seat):
    first = join.open_link(seat.join_token, STARTS + timedelta(minutes=5))
    again = join.open_link(seat.join_token, STARTS + timedelta(minutes=20))
    assert (first.recorded, again.recorded) == (True, False)
    [attendance] = attendances(db, seat)
    assert attendance.source == AttendanceSource.JOIN_LINK
    assert attendance.recorded_at == STARTS + timedelta(minutes=5)
    assert attendance.recorded_by_id is None and attendance.session_id is None


def test_opens_outside_the_window_are_not_counted(db, seat):
    # A mail scanner fetching the link as the confirmation arrives, and a late visit.
    for now in (OPENS - timedelta(days=2), OPENS - timedelta(seconds=1), ENDS,
                ENDS + timedelta(hours=3)):
        assert not join.open_link(seat.join_token, now).recorded
    assert attendances(db, seat) == []


def test_a_join_after_a_check_in_at_the_door_keeps_the_one_attendance(db, make, seat,
                                                                       organizer):
    from webapp.services import checkin

    checkin.check_in(organizer, seat, seat.event, now=STARTS - timedelta(minutes=5))
    answer = join.open_link(seat.join_token, STARTS)
    assert answer.outcome == Outcome.REDIRECT and not answer.recorded
    [attendance] = attendances(db, seat)
    assert attendance.source == AttendanceSource.CHECK_IN


def test_unknown_tokens_are_a_domain_error(seat):
    for token in ("", "x", seat.join_token[:-1], seat.join_token + "A", "A" * 43, "A" * 500):
        with pytest.raises(UnknownJoinLink):
            join.open_link(token, STARTS)


# --------------------------------------------------------------------------- over HTTP


def test_inside_the_window_the_link_redirects_to_the_meeting(client, db, seat):
    response = open_at(client, path(seat), STARTS + timedelta(minutes=1))
    assert response.status_code == 303
    assert response.headers["Location"] == MEETING
    assert_private(response)
    [attendance] = attendances(db, seat)
    assert attendance.source == AttendanceSource.JOIN_LINK


def test_before_the_window_a_countdown_in_the_event_zone_for_visitors(client, db, seat):
    response = open_at(client, path(seat), at(2027, 2, 9, 15, 0))
    assert response.status_code == 200
    assert_private(response)
    assert_no_meeting(response)
    html = response.get_data(as_text=True)
    assert "has not started yet" in html
    assert "Wed 10 Feb 2027, 10:00 (New York, UTC-5)" in unescape(html)
    assert 'data-testid="start-your-zone"' not in html
    # The browser's own zone and the live countdown come from a file, not inline script.
    assert f'data-browser-time="{STARTS.isoformat()}"' in html
    assert f'data-countdown-to="{OPENS.isoformat()}"' in html
    assert "Opens in 24 hours." in html  # without JavaScript the page says it too
    assert re.search(r'<script src="/static/js/join\.js[^"]*" defer>', html)
    assert "<script>" not in html and " style=" not in html.split("<main", 1)[-1]
    assert attendances(db, seat) == []


def test_signed_in_viewers_see_the_start_in_their_own_zone(client, seat, member):
    response = open_at(client, path(seat), at(2027, 2, 1, 0, 0), user=member)
    html = unescape(response.get_data(as_text=True))
    assert "Wed 10 Feb 2027, 10:00 (New York, UTC-5)" in html
    your = re.search(r'data-testid="start-your-zone">(.*?)</dd>', html).group(1)
    assert your == "Wed 10 Feb 2027, 23:00 (Singapore, UTC+8)"


def test_after_the_end_the_recording_is_offered(client, db, seat, webinar):
    webinar.recording_url = RECORDING
    db.session.flush()
    response = open_at(client, path(seat), ENDS + timedelta(days=1))
    assert response.status_code == 200
    assert_private(response)
    assert_no_meeting(response)
    html = response.get_data(as_text=True)
    assert "This event has ended." in html
    assert f'href="{RECORDING}"' in html
    assert attendances(db, seat) == []


def test_after_the_end_without_a_recording_says_so(client, seat):
    html = open_at(client, path(seat), ENDS).get_data(as_text=True)
    assert "This event has ended." in html and "no recording yet" in html


def test_an_online_event_without_its_meeting_address_says_the_link_is_not_ready(
    client, db, seat, webinar
):
    webinar.online_url = ""
    db.session.flush()
    response = open_at(client, path(seat), STARTS)
    assert response.status_code == 200
    assert "not ready yet" in response.get_data(as_text=True)
    assert attendances(db, seat) == []


@pytest.mark.parametrize("steps", [
    (S.SUBMITTED, S.APPROVED, S.WITHDRAWN),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED,),
    (S.SUBMITTED, S.WAITLISTED),
    (S.SUBMITTED, S.APPROVED, S.CANCELLED),
], ids=lambda steps: steps[-1].value)
def test_a_registration_without_a_seat_never_sees_the_meeting(
    client, db, make, webinar, member, organizer, steps
):
    reg = make.registration(webinar, member, *steps, actor=organizer)
    for when in (OPENS - timedelta(hours=1), STARTS, ENDS + timedelta(hours=1)):
        response = open_at(client, path(reg), when)
        assert response.status_code == 403
        assert_private(response)
        assert_no_meeting(response)
        assert "does not give access to the meeting" in response.get_data(as_text=True)
    assert attendances(db, reg) == []


def test_tampered_and_guessed_tokens_are_not_found_and_reveal_nothing(client, db, seat):
    token = seat.join_token
    tampered = ("B" if token[0] != "B" else "C") + token[1:]
    for url in (f"/join/{tampered}", f"/join/{token[:-1]}", f"/join/{token}x",
                "/join/" + "A" * 43, "/join/1", f"/join/{seat.badge_code}",
                f"/join/{token}?session=abc", f"/join/{token}?session=999999"):
        response = open_at(client, url, STARTS)
        assert response.status_code == 404, url
        assert_private(response)
        assert_no_meeting(response)
        assert "This join link is not valid." in response.get_data(as_text=True)
    assert attendances(db, seat) == []


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def mission_with_panel(make, organizing):
    """A mission whose agenda has an online panel with a meeting of its own."""
    mission = make.event(organizers=[organizing], title="Boston mission", slug="boston-mission",
                         timezone="America/New_York", target_country="US",
                         starts_at=STARTS, ends_at=STARTS + timedelta(days=2))
    panel = make.session(mission, title="Online panel", online_url=PANEL,
                         starts_at=STARTS + timedelta(days=1),
                         ends_at=STARTS + timedelta(days=1, hours=1))
    return mission, panel


def test_a_session_link_follows_the_session_window_and_its_meeting(
    client, db, make, member, organizer, mission_with_panel
):
    mission, panel = mission_with_panel
    reg = approved(make, mission, member, organizer)
    # The event has started, but the panel's window has not opened.
    early = open_at(client, path(reg, panel), STARTS + timedelta(hours=2))
    assert early.status_code == 200 and "has not started yet" in early.get_data(as_text=True)
    assert_no_meeting(early)

    response = open_at(client, path(reg, panel), panel.starts_at - timedelta(minutes=30))
    assert response.status_code == 303
    assert response.headers["Location"] == PANEL
    open_at(client, path(reg, panel), panel.starts_at)  # a second click
    [attendance] = attendances(db, reg)
    assert attendance.session_id == panel.id
    assert attendance.source == AttendanceSource.JOIN_LINK

    assert open_at(client, path(reg, panel), panel.ends_at).status_code == 200  # over


def test_a_session_without_its_own_meeting_uses_the_events(make, webinar, seat):
    session = make.session(webinar, title="Q&A", starts_at=STARTS + timedelta(minutes=60),
                           ends_at=ENDS)
    answer = join.open_link(seat.join_token, session.starts_at, session_id=session.id)
    assert answer.outcome == Outcome.REDIRECT and answer.meeting_url == MEETING


def test_another_events_session_is_refused(make, seat, mission_with_panel):
    _, panel = mission_with_panel
    with pytest.raises(UnknownJoinLink):
        join.open_link(seat.join_token, panel.starts_at, session_id=panel.id)


# --------------------------------------------------------------------------- mail


def _forget_outbox(db):
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _vevent(message):
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [vevent] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return vevent


def test_the_confirmation_and_its_invitation_carry_the_join_link(db, mailbox, make,
                                                                 organizing, member):
    webinar = make.event(kind=EventKind.WEBINAR, organizers=[organizing], title="Smart lighting",
                         requires_approval=False, online_url=MEETING, registration_opens_at=None)
    _forget_outbox(db)
    reg = registrations.apply(member, webinar.id)
    notifications.send_due()
    [message] = mailbox.to("sme@example.org")
    assert message["Subject"] == "You're registered: Smart lighting"
    link = f"{BASE}/join/{reg.join_token}"
    assert link in _text(message)
    assert f'href="{link}"' in _html(message)
    vevent = _vevent(message)
    assert str(vevent["URL"]) == link
    assert link in str(vevent["DESCRIPTION"])
    raw = message.as_string()
    assert "secret-room" not in raw


def test_the_approval_of_a_mission_with_an_online_panel_links_the_event_and_the_panel(
    db, mailbox, make, member, organizer, mission_with_panel
):
    mission, panel = mission_with_panel
    reg = make.registration(mission, member)
    _forget_outbox(db)
    registrations.decide(reg.id, "approve", actor=organizer)
    notifications.send_due()
    [message] = mailbox.to("sme@example.org")
    assert "approved" in message["Subject"]
    text = _text(message)
    assert f"{BASE}/join/{reg.join_token}" in text
    assert f"{BASE}/join/{reg.join_token}?session={panel.id}" in text
    assert f"{BASE}/join/{reg.join_token}?session={panel.id}" in str(
        _vevent(message)["DESCRIPTION"])
    assert "panel-room" not in message.as_string()


def test_an_event_on_site_only_sends_no_join_link(db, mailbox, make, organizing, member,
                                                  organizer):
    mission = make.event(organizers=[organizing], title="On site", registration_opens_at=None)
    reg = make.registration(mission, member)
    _forget_outbox(db)
    registrations.decide(reg.id, "approve", actor=organizer)
    notifications.send_due()
    [message] = mailbox.to("sme@example.org")
    assert "/join/" not in message.as_string()
    assert str(_vevent(message)["URL"]) == f"{BASE}/events/{mission.slug}"


def test_a_cancelled_invitation_no_longer_carries_the_join_link(db, mailbox, make, webinar,
                                                                member, organizer):
    reg = make.registration(webinar, member)
    registrations.decide(reg.id, "approve", actor=organizer)
    _forget_outbox(db)
    registrations.withdraw(reg.id, actor=member)
    notifications.send_due()
    [message] = mailbox.to("sme@example.org")
    assert str(_vevent(message)["URL"]) == f"{BASE}/events/{webinar.slug}"
    assert reg.join_token not in message.as_string()


# --------------------------------------------------------------------------- pages


def test_my_registrations_show_the_join_link_of_approved_online_seats_only(
    client, make, webinar, member, organizer, organizing
):
    seat = approved(make, webinar, member, organizer)
    other = make.event(kind=EventKind.WEBINAR, organizers=[organizing], online_url=MEETING)
    gone = make.registration(other, member, S.SUBMITTED, S.APPROVED, S.WITHDRAWN,
                             actor=organizer)
    on_site = approved(make, make.event(organizers=[organizing]), member, organizer)
    login(client, member)

    listing = client.get("/account/registrations").get_data(as_text=True)
    assert f'href="{BASE}/join/{seat.join_token}"' in listing
    assert gone.join_token not in listing and on_site.join_token not in listing

    detail = client.get(f"/account/registrations/{seat.id}").get_data(as_text=True)
    assert f'value="{BASE}/join/{seat.join_token}"' in detail
    for page in (f"/account/registrations/{gone.id}", f"/account/registrations/{on_site.id}"):
        assert "/join/" not in client.get(page).get_data(as_text=True)
    for html in (listing, detail):
        assert "meet.example.com" not in html


def test_public_pages_files_and_the_feed_never_carry_the_meeting_address(
    client, make, member, organizer, organizing, mission_with_panel
):
    mission, panel = mission_with_panel
    webinar = make.event(kind=EventKind.WEBINAR, organizers=[organizing], slug="public-webinar",
                         online_url=MEETING)
    seats = [approved(make, e, member, organizer) for e in (webinar, mission)]
    login(client, member)
    feed = calendar.feed_urls(member)["https"].removeprefix(BASE)
    pages = ["/", "/events", f"/events/{webinar.slug}", f"/events/{webinar.slug}.ics",
             f"/events/{mission.slug}", f"/events/{mission.slug}.ics",
             f"/events/{mission.slug}/sessions/{panel.id}.ics", feed]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        body = response.get_data(as_text=True)
        assert "meet.example.com" not in body, page
        assert all(s.join_token not in body for s in seats), page


# --------------------------------------------------------------------------- admin




def test_a_recording_link_is_refused_until_the_event_has_ended(db, webinar, organizer):
    db.session.commit()  # a refusal rolls back
    for now in (OPENS, ENDS - timedelta(seconds=1)):
        with freeze_time(now), pytest.raises(ValidationError) as refused:
            event_details(webinar, recording_url=RECORDING)
        assert refusals(refused.value)["recording_url"] == (
            "The event has not ended yet: add the recording link once it is over.")
        db.session.rollback()
    assert db.session.get(Event, webinar.id).recording_url == ""
    with freeze_time(ENDS):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING))
    assert db.session.get(Event, webinar.id).recording_url == RECORDING


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://video.example.com/x",
                                 "video.example.com/x", "https://"])
def test_a_recording_link_must_be_a_web_address(db, webinar, organizer, url):
    with freeze_time(ENDS + timedelta(days=1)), pytest.raises(ValidationError) as refused:
        event_details(webinar, recording_url=url)
    assert "http:// or https://" in refusals(refused.value)["recording_url"]






def test_the_event_form_refuses_a_recording_before_the_end_beside_its_field(
    client, db, webinar, organizer
):
    db.session.commit()
    with freeze_time(STARTS):
        login(client, organizer)
        form = event_form(webinar, recording_url=RECORDING, csrf_token=csrf_token(client, "/"))
        response = client.post(f"/admin/events/{webinar.id}", data=form)
    assert response.status_code == 400
    assert "has not ended yet" in field_error(response, "recording_url")
    with freeze_time(ENDS + timedelta(hours=1)):
        login(client, organizer)
        form = event_form(webinar, recording_url="javascript:alert(1)",
                           csrf_token=csrf_token(client, "/"))
        response = client.post(f"/admin/events/{webinar.id}", data=form)
        assert response.status_code == 400
        assert "http:// or https://" in field_error(response, "recording_url")
        form["recording_url"] = RECORDING
        response = client.post(f"/admin/events/{webinar.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).recording_url == RECORDING
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0

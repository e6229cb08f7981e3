"""The check-in window (webapp/services/checkin.py): check-in opens CHECKIN_OPENS_BEFORE
(24 hours by default) before the event starts and closes at its end, both instants
included. Outside it every way of checking in (the door's scanner, a badge's page, the API,
the service any later way will call) refuses and records nothing, and the pages say when
it opens, in the event's zone and the viewer's, or that it has closed. The door's list and
the KPIs never count a check-in stored outside it. A badge checked in twice, or one of
another event: a clear message, nothing changed.

What check-in does inside the window is in tests/test_checkin.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.api import token_for
from tests.conftest import count_queries, csrf_token, login
from webapp.extensions import db as _db
from webapp.models import Attendance, AttendanceSource, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import checkin, kpis
from webapp.services.checkin import BadgeRefused, CheckinClosed

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SINGAPORE = ZoneInfo("Asia/Singapore")
NEW_YORK = ZoneInfo("America/New_York")
YEAR_2026 = kpis.Period(date(2026, 1, 1), date(2026, 12, 31))


def local(*args: int) -> datetime:
    """A wall-clock time in Copenhagen, as the instant it names."""
    return datetime(*args, tzinfo=COPENHAGEN).astimezone(UTC)


def delegate(make, event, cluster, name):
    user = make.user(make.organization(cluster, name=f"{name} Ltd"), name=name)
    return make.registration(event, user, S.SUBMITTED, S.APPROVED)


@pytest.fixture
def door(make) -> SimpleNamespace:
    """A mission in Copenhagen over the weekend the clocks go forward: it starts on Sunday
    29 March 2026 at 09:00 (CEST, UTC+2) and ends on Tuesday 31 March at 17:00. Its
    check-in opens 24 hours before the start: Saturday 08:00 CET (UTC+1), not 09:00."""
    cluster, organizing, beachhead = make.partner(name="Alpha"), make.partner(), make.beachhead()
    event = make.event(organizers=[organizing], hosts=[beachhead], timezone="Europe/Copenhagen",
                       starts_at=local(2026, 3, 29, 9), ends_at=local(2026, 3, 31, 17),
                       title="Copenhagen Mission")
    w = SimpleNamespace(event=event, cluster=cluster, host=make.host(beachhead, name="Hana Host"),
                        visit=make.session(event, title="Harbour visit"))
    for name in ("Ana", "Bo", "Cem", "Dan", "Eve"):
        setattr(w, name.lower(), delegate(make, event, cluster, name))
    w.elsewhere = delegate(make, make.event(organizers=[organizing], hosts=[beachhead],
                                            starts_at=local(2026, 3, 29, 9)),
                           cluster, "Elsa")
    return w


def attendances(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance))


# --------------------------------------------------------------------------- the edges


@pytest.mark.parametrize("when, admitted", [
    (local(2026, 3, 28, 7, 59), False),
    (local(2026, 3, 28, 8, 0), True),
    (local(2026, 3, 29, 3, 0), True),  # the first hour of summer time
    (local(2026, 3, 31, 17, 0), True),
    (local(2026, 3, 31, 17, 1), False),
], ids=["a minute before it opens", "as it opens", "overnight", "as the event ends",
        "a minute after the end"])
def test_check_in_opens_a_day_before_the_start_and_closes_at_the_end_both_included(
        db, door, when, admitted):
    if admitted:
        result = checkin.check_in(door.host, door.ana, door.event, now=when)
        assert result.created and result.attendance.recorded_at == when
        assert attendances(db) == 1
    else:
        with pytest.raises(CheckinClosed):
            checkin.check_in(door.host, door.ana, door.event, now=when)
        assert attendances(db) == 0


def test_the_window_is_24_hours_not_the_same_clock_time_the_day_before(door):
    window = checkin.window(door.event)
    assert window.opens_at.astimezone(COPENHAGEN).strftime("%a %d %H:%M %Z") == "Sat 28 08:00 CET"
    assert window.closes_at.astimezone(COPENHAGEN).strftime("%a %d %H:%M %Z") == \
        "Tue 31 17:00 CEST"


def test_the_refusal_says_when_check_in_opens_or_that_it_closed_in_the_events_zone(door):
    with pytest.raises(CheckinClosed) as early:
        checkin.check_in(door.host, door.ana, door.event, now=local(2026, 3, 1, 12))
    assert early.value.early
    assert early.value.message == "Check-in for this event opens at 2026-03-28 08:00 UTC+1."

    with pytest.raises(CheckinClosed) as late:
        checkin.check_in(door.host, door.ana, door.event, now=local(2026, 4, 1, 9))
    assert not late.value.early
    assert late.value.message == ("Check-in for this event closed at 2026-03-31 17:00 UTC+2, "
                                  "when it ended.")


def test_the_time_before_the_start_is_a_setting(app, db, door, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIN_OPENS_BEFORE", timedelta(hours=2))
    with pytest.raises(CheckinClosed, match="opens at 2026-03-29 07:00 UTC"):
        checkin.check_in(door.host, door.ana, door.event, now=local(2026, 3, 29, 6, 59))
    checkin.check_in(door.host, door.bo, door.event, now=local(2026, 3, 29, 7))
    # Counted by the same rule: Bo at 07:00 counts, a check-in stored at 06:59 does not.
    db.session.add(Attendance(registration_id=door.ana.id, recorded_at=local(2026, 3, 29, 6, 59),
                              source=AttendanceSource.CHECK_IN))
    db.session.flush()
    assert [row.registration.user.name for row in checkin.attendance_of(door.event).present] \
        == ["Bo"]


# --------------------------------------------------------------------------- at the door


def _text(html: str, testid: str) -> str | None:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:p|div)>', html, re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(1)))).strip() \
        if match else None


def _shown(at: datetime) -> tuple[str, str]:
    """How the page writes `at`: in Singapore, and on a New York viewer's clock."""
    there, here = at.astimezone(SINGAPORE), at.astimezone(NEW_YORK)
    return (f"{there:%a} {there.day} {there:%b %Y}, {there:%H:%M} (Singapore, UTC+8)",
            f"{here:%H:%M} on {here:%a} {here.day} {here:%b} your time ({here:%Z})")


@pytest.fixture
def soon(make) -> SimpleNamespace:
    """A mission in Singapore whose check-in opens in an hour and a half (it starts a day
    later), one that ended an hour ago, an approved delegate of each, and their host, who
    reads times in New York."""
    beachhead, cluster = make.beachhead(), make.partner()
    start = (utcnow() + timedelta(hours=25, minutes=30)).replace(second=0, microsecond=0)
    upcoming = make.event(hosts=[beachhead], starts_at=start, title="Upcoming Mission")
    ended = make.event(hosts=[beachhead], title="Ended Mission",
                       starts_at=start - timedelta(days=5),
                       ends_at=start - timedelta(hours=26, minutes=30))
    return SimpleNamespace(
        upcoming=upcoming, ended=ended,
        ana=delegate(make, upcoming, cluster, "Ana"), bo=delegate(make, ended, cluster, "Bo"),
        host=make.host(beachhead, timezone="America/New_York"))


def test_before_it_opens_the_scanner_says_when_in_both_zones_and_offers_no_form(client, soon):
    login(client, soon.host)

    html = client.get(f"/events/{soon.upcoming.id}/checkin").get_data(as_text=True)

    opens = soon.upcoming.starts_at - timedelta(hours=24)
    there, here = _shown(opens)
    assert _text(html, "checkin-opens") == f"Check-in opens on {there}. {here}"
    assert 'id="checkin-form"' not in html and "js/checkin.js" not in html
    assert "Attendance: who came, who is missing" in html


def test_after_the_end_the_badge_page_says_check_in_closed_and_offers_no_button(client, soon):
    login(client, soon.host)

    html = client.get(f"/checkin/{soon.bo.badge_code}").get_data(as_text=True)

    there, here = _shown(soon.ended.ends_at)
    assert _text(html, "checkin-ended") == (
        f"Check-in closed on {there}, when the event ended. {here}")
    assert 'data-testid="person-name"><bdi>Bo</bdi>' in html  # staff still see who it is
    assert 'data-testid="checkin-submit"' not in html


def _scanner(client, event, registration):
    token = csrf_token(client, "/account/profile")
    return client.post(f"/events/{event.id}/checkin", data={
        "code": registration.badge_code, "session": "event", "csrf_token": token})


def _badge_page(client, event, registration):
    token = csrf_token(client, "/account/profile")
    return client.post(f"/checkin/{registration.badge_code}",
                       data={"session": "event", "csrf_token": token})


@pytest.mark.parametrize("path", [_scanner, _badge_page], ids=["scanner", "badge page"])
@pytest.mark.parametrize("which, notice", [("upcoming", "checkin-opens"),
                                           ("ended", "checkin-ended")])
def test_a_page_refuses_a_check_in_outside_the_window_and_records_nothing(
        client, db, soon, path, which, notice):
    event = getattr(soon, which)
    registration = soon.ana if which == "upcoming" else soon.bo
    login(client, soon.host)

    response = path(client, event, registration)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _text(html, notice).startswith("Check-in ")
    assert "This badge was not checked in: nothing was recorded." in html
    assert 'data-testid="checkin-result"' not in html
    assert attendances(db) == 0


@pytest.mark.parametrize("which, detail", [
    ("upcoming", r"^Check-in for this event opens at \d{4}-\d\d-\d\d \d\d:\d\d UTC\+8\.$"),
    ("ended", r"^Check-in for this event closed at .* UTC\+8, when it ended\.$"),
])
def test_the_api_answers_409_outside_the_window_and_records_nothing(
        call, db, soon, which, detail):
    event = getattr(soon, which)
    code = (soon.ana if which == "upcoming" else soon.bo).badge_code

    response = call("POST", f"/api/v1/events/{event.id}/checkins", token_for(soon.host),
                    json={"token": code})

    assert response.status_code == 409
    assert re.match(detail, response.json["detail"]), response.json
    assert attendances(db) == 0


# --------------------------------------------------------------------------- bad input


def test_a_badge_checked_in_twice_is_recorded_once_and_not_again_after_the_end(db, door):
    during = local(2026, 3, 29, 9, 5)
    first = checkin.check_in(door.host, door.ana, door.event, now=during)
    again = checkin.check_in(door.host, door.ana, door.event, now=during + timedelta(hours=1))
    assert (first.created, again.created) == (True, False)
    assert again.attendance.id == first.attendance.id

    with pytest.raises(CheckinClosed):
        checkin.check_in(door.host, door.ana, door.event, now=local(2026, 4, 1, 9))

    [stored] = db.session.scalars(select(Attendance)).all()
    assert (stored.id, stored.recorded_at) == (first.attendance.id, during)
    assert [row.registration.id for row in checkin.attendance_of(door.event).present] \
        == [door.ana.id]


def test_a_badge_of_another_event_is_refused_at_this_door_while_both_are_open(
        call, db, door):
    with pytest.raises(BadgeRefused, match=r"^This badge is for another event\.$"):
        checkin.check_in(door.host, door.elsewhere, door.event, now=local(2026, 3, 29, 10))
    assert attendances(db) == 0


def test_outside_the_window_a_badge_that_is_not_valid_says_so_first(db, make, door):
    withdrawn = make.registration(door.event, make.user(name="Walt"),
                                  S.SUBMITTED, S.APPROVED, S.WITHDRAWN)
    before = local(2026, 3, 1, 12)
    with pytest.raises(BadgeRefused, match="the registration is withdrawn"):
        checkin.check_in(door.host, withdrawn, door.event, now=before)
    with pytest.raises(BadgeRefused, match="for another event"):
        checkin.check_in(door.host, door.elsewhere, door.event, now=before)
    assert attendances(db) == 0


def test_the_api_refuses_a_badge_of_another_event_inside_the_window(call, db, soon, make):
    other = delegate(make, soon.ended, make.partner(), "Otto")
    soon.upcoming.starts_at = utcnow() - timedelta(hours=1)  # the door is open now
    db.session.flush()

    response = call("POST", f"/api/v1/events/{soon.upcoming.id}/checkins",
                    token_for(soon.host), json={"token": other.badge_code})

    assert response.status_code == 422
    assert response.json["detail"] == "This badge is for another event."
    assert attendances(db) == 0


# --------------------------------------------------------------------------- what counts


def stored(registration, at: datetime, session=None) -> None:
    """A check-in as it may sit in the database whatever the door says now (imported, or
    recorded before the event was moved)."""
    _db.session.add(Attendance(registration_id=registration.id, recorded_at=at,
                               session_id=session.id if session else None,
                               source=AttendanceSource.CHECK_IN))
    _db.session.flush()


@pytest.fixture
def history(door) -> SimpleNamespace:
    """Check-ins stored months before the mission (Ana), a minute before its window
    (Bo), as it opens (Cem, who also has a visit's check-in from months before), at its
    end (Dan) and a minute after (Eve)."""
    stored(door.ana, local(2025, 11, 20, 10))
    stored(door.bo, local(2026, 3, 28, 7, 59))
    stored(door.cem, local(2026, 3, 28, 8))
    stored(door.cem, local(2025, 11, 20, 10), door.visit)
    stored(door.dan, local(2026, 3, 31, 17))
    stored(door.eve, local(2026, 3, 31, 17, 1))
    return door


def test_the_kpis_count_only_check_ins_inside_the_window(db, history):
    assert kpis.headline(YEAR_2026).delegates == 2
    assert kpis.headline(YEAR_2026).smes == 2
    rows = kpis.detail_rows("delegates", YEAR_2026, kpis.Filters(), None).rows
    assert [(person, seen) for person, _org, _cluster, _event, seen in rows] == [
        ("Cem", "2026-03-28 07:00 UTC"), ("Dan", "2026-03-31 15:00 UTC")]


def test_the_attendance_page_and_its_csv_count_only_check_ins_inside_the_window(
        client, db, history):
    login(client, history.host)

    html = client.get(f"/events/{history.event.id}/attendance").get_data(as_text=True)

    assert re.search(r'data-count="present">2<', html)
    assert re.search(r'data-count="missing">3<', html)
    assert _text(html, "checkin-window") == (
        "Badges checked in from Sat 28 Mar 2026, 08:00 (Copenhagen, UTC+1) to Tue 31 Mar "
        "2026, 17:00 (Copenhagen, UTC+2) count here; check-in is open only then.")
    csv = client.get(f"/events/{history.event.id}/attendance.csv").get_data(as_text=True)
    present = {row.split(",")[0]: row.split(",")[4] for row in csv.splitlines()[1:]}
    assert present == {"Ana": "no", "Bo": "no", "Cem": "yes", "Dan": "yes", "Eve": "no"}
    visit = client.get(f"/events/{history.event.id}/attendance?session={history.visit.id}")
    assert re.search(r'data-count="present">0<', visit.get_data(as_text=True))


def test_the_attendance_page_asks_as_many_queries_however_many_check_ins_it_weighs(
        client, make, history):
    login(client, history.host)
    page = f"/events/{history.event.id}/attendance"
    with count_queries() as few:
        assert client.get(page).status_code == 200
    for number in range(6):
        stored(delegate(make, history.event, history.cluster, f"Late {number}"),
               local(2026, 3, 31, 18 + number))
        stored(delegate(make, history.event, history.cluster, f"On time {number}"),
               local(2026, 3, 29, 9, number))
    with count_queries() as many:
        assert client.get(page).status_code == 200
    assert len(many) == len(few), "\n".join(many)

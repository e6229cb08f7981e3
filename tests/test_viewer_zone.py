"""Times in the reader's own zone (webapp/filters.py, webapp/localtime.py): timestamps
on the desk and admin pages named as people know their zone, an event's time with the
viewer's own beside it, and the zone an account does not have yet, reported once by the
browser (POST /account/timezone) and otherwise shown as UTC."""

from __future__ import annotations

import re

import pytest
from flask import json
from sqlalchemy import func, select

from tests.api import token_for
from tests.conftest import csrf_token
from tests.factories import at
from webapp.models import AuditEntry, EventKind, User
from webapp.models import RegistrationStatus as S
from webapp.services import privacy, registration_mail

# Monday 15 July 2024, 12:05 UTC: 14:05 in Copenhagen (summer time); in January, 14:05
# is 13:05 UTC (standard time).
SUMMER = at(2024, 7, 15, 12, 5)
WINTER = at(2024, 1, 15, 13, 5)
DETECT = "/account/timezone"


@pytest.fixture
def desk(make):
    """A cluster's manager and two applicants of theirs, who applied in summer and in
    winter, to a mission in Singapore on Tuesday 4 May 2027, 09:00-11:00 local time."""
    cluster = make.partner(short_name="Alpha")
    mission = make.event(organizers=[cluster], title="Singapore mission", slug="sg-may",
                         starts_at=at(2027, 5, 4, 1), ends_at=at(2027, 5, 4, 3))
    summer = make.registration(mission, make.user(make.organization(cluster), name="Anna"))
    winter = make.registration(mission, make.user(make.organization(cluster), name="Bert"))
    summer.applied_at, winter.applied_at = SUMMER, WINTER
    return dict(cluster=cluster, mission=mission, summer=summer, winter=winter,
                manager=make.manager(cluster, name="Mette Manager"))


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _detect(client, zone: str, *, token: bool = True):
    data = {"timezone": zone}
    if token:
        data["csrf_token"] = csrf_token(client, "/account/profile")
    return client.post(DETECT, data=data)


def _audit_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


# --------------------------------------------------------------------------- timestamps


def test_a_manager_in_copenhagen_reads_desk_times_in_central_european_time(
    db, desk, login_as
):
    desk["manager"].timezone = "Europe/Copenhagen"
    db.session.commit()
    page = _page(login_as(desk["manager"]), "/desk/")
    assert "Mon 15 Jul 2024, 14:05 (CEST)" in page
    assert "Mon 15 Jan 2024, 14:05 (CET)" in page
    assert "UTC+0" not in page and "(UTC)" not in page


def test_an_admin_in_copenhagen_reads_the_audit_log_and_a_history_in_local_time(
    db, make, desk, login_as
):
    admin = make.admin(timezone="Europe/Copenhagen")
    [entry] = desk["summer"].history
    entry.created_at = SUMMER
    db.session.commit()
    client = login_as(admin)
    audit = _page(client, "/admin/audit")
    assert "Mon 15 Jul 2024, 14:05 (CEST)" in audit
    assert "UTC+0" not in audit
    history = _page(client, f"/desk/registrations/{desk['summer'].id}")
    assert "Mon 15 Jul 2024, 14:05 (CEST)</time>" in history


def test_an_account_whose_zone_is_not_known_reads_utc_named_so(db, desk, login_as):
    assert desk["manager"].timezone is None
    page = _page(login_as(desk["manager"]), "/desk/")
    assert "Mon 15 Jul 2024, 12:05 (UTC)" in page
    assert "UTC+0" not in page
    # The event's own time stands alone: there is no "your time" to add yet.
    event_page = _page(login_as(desk["manager"]), "/events/sg-may")
    assert "Tue 4 May 2027, 09:00 – 11:00 (Singapore, UTC+8)" in event_page
    assert 'data-testid="your-time"' not in event_page


# --------------------------------------------------------------------------- event times


@pytest.fixture
def new_yorker(db, make, desk):
    """A member in New York, approved for the Singapore mission, which has one session."""
    member = make.user(make.organization(desk["cluster"]), name="Nora York",
                       timezone="America/New_York")
    make.session(desk["mission"], title="Port visit", starts_at=at(2027, 5, 4, 6),
                 ends_at=at(2027, 5, 4, 8))
    registration = make.registration(desk["mission"], member, S.SUBMITTED, S.APPROVED)
    db.session.commit()
    return dict(member=member, registration=registration)


YOUR_TIME = re.compile(r'data-testid="your-time">([^<]*)<')


@pytest.mark.parametrize("path", ["/events/sg-may", "/events", "/account/registrations",
                                  "/account/registrations/{id}"])
def test_a_member_in_new_york_sees_the_singapore_time_and_their_own_with_its_date(
    new_yorker, login_as, path
):
    page = _page(login_as(new_yorker["member"]),
                 path.format(id=new_yorker["registration"].id))
    assert "Tue 4 May 2027, 09:00 – 11:00 (Singapore, UTC+8)" in page
    assert "21:00 – 23:00 on Mon 3 May your time (EDT)" in YOUR_TIME.findall(page)


def test_the_agenda_gives_each_session_the_viewers_time_too(new_yorker, login_as):
    page = _page(login_as(new_yorker["member"]), "/events/sg-may")
    # Port visit: 14:00-16:00 in Singapore, 02:00-04:00 on the 4th in New York.
    assert "Tue 4 May 2027, 14:00 – 16:00 (Singapore, UTC+8)" in page
    assert "02:00 – 04:00 on Tue 4 May your time (EDT)" in YOUR_TIME.findall(page)


def test_a_manager_on_the_desk_sees_the_event_in_their_own_time(db, desk, login_as):
    desk["manager"].timezone = "Europe/Copenhagen"
    db.session.commit()
    page = _page(login_as(desk["manager"]), f"/desk/registrations/{desk['summer'].id}")
    assert ("03:00 – 05:00 on Tue 4 May your time (CEST)"
            in YOUR_TIME.findall(page))


def test_visitors_see_the_events_time_alone(client, desk):
    page = _page(client, "/events/sg-may")
    assert "Tue 4 May 2027, 09:00 – 11:00 (Singapore, UTC+8)" in page
    assert 'data-testid="your-time"' not in page


# --------------------------------------------------------------------------- detection


def test_the_page_asks_the_browser_only_while_the_zone_is_unknown(db, make, login_as):
    member = make.user()
    db.session.commit()
    client = login_as(member)
    page = _page(client, "/events")
    tag = re.search(r'<script src="/static/js/timezone.js\?v=\w+" data-zone-url="([^"]+)" '
                    r'data-csrf-token="([^"]+)" defer></script>', page)
    assert tag and tag.group(1) == DETECT
    member.timezone = "Europe/Copenhagen"
    db.session.commit()
    assert "data-zone-url" not in _page(client, "/events")


def test_the_browsers_zone_is_stored_once(db, make, login_as):
    member = make.user()
    db.session.commit()
    client = login_as(member)
    response = _detect(client, "Europe/Copenhagen")
    assert response.status_code == 200
    assert response.json == {"timezone": "Europe/Copenhagen", "stored": True}
    db.session.refresh(member)
    assert member.timezone == "Europe/Copenhagen"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "account.zone_detected")).one()
    assert entry.details["changes"] == {"timezone": [None, "Europe/Copenhagen"]}
    # Another tab, or another browser later: the stored zone stays and nothing is written.
    entries = _audit_count(db)
    again = _detect(client, "America/New_York")
    assert again.status_code == 200
    assert again.json == {"timezone": "Europe/Copenhagen", "stored": False}
    db.session.refresh(member)
    assert member.timezone == "Europe/Copenhagen" and _audit_count(db) == entries
    # The next page asks no more.
    assert "data-zone-url" not in _page(client, "/account/registrations")


def test_a_zone_the_person_chose_is_never_overwritten(db, make, login_as):
    member = make.user(timezone="Asia/Singapore")
    db.session.commit()
    response = _detect(login_as(member), "Europe/Copenhagen")
    assert response.status_code == 200 and response.json["stored"] is False
    db.session.refresh(member)
    assert member.timezone == "Asia/Singapore"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "America", "",
                                  "Europe/Copenhagen" * 10, "Europe/\x00Copenhagen"])
def test_a_zone_this_server_does_not_know_is_refused_and_nothing_written(
    db, make, login_as, zone
):
    member = make.user()
    db.session.commit()
    entries = _audit_count(db)
    response = _detect(login_as(member), zone)
    assert response.status_code == 400
    assert response.json["message"]  # says why, in words
    db.session.refresh(member)
    assert member.timezone is None and _audit_count(db) == entries


def test_an_unknown_zone_is_refused_with_a_clear_message(db, make, login_as):
    member = make.user()
    db.session.commit()
    response = _detect(login_as(member), "Mars/Olympus_Mons")
    assert response.json == {"message": "This is not a timezone we know."}


def test_detection_needs_the_csrf_token(db, make, login_as):
    member = make.user()
    db.session.commit()
    response = _detect(login_as(member), "Europe/Copenhagen", token=False)
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.timezone is None


def test_detection_needs_a_signed_in_account(client, db):
    users = db.session.scalar(select(func.count()).select_from(User))
    response = client.post(DETECT, data={"timezone": "Europe/Copenhagen",
                                         "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_the_profile_can_go_back_to_the_browsers_zone_which_is_then_detected_again(
    db, make, login_as
):
    member = make.user(timezone="Asia/Singapore")
    db.session.commit()
    client = login_as(member)
    response = client.post("/account/profile", data={
        "name": member.name, "phone": "", "timezone": "", "locale": "en",
        "csrf_token": csrf_token(client, "/account/profile")})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.timezone is None
    assert 'data-zone-url="/account/timezone"' in _page(client, "/account/profile")
    assert _detect(client, "Europe/Copenhagen").json["stored"] is True


# --------------------------------------------------------------------------- elsewhere


def test_mail_about_an_event_uses_its_zone_until_the_readers_is_known(db, make):
    event = make.event(timezone="Asia/Singapore")
    unknown, known = make.user(), make.user(timezone="Europe/Copenhagen")
    assert registration_mail.recipient_zone(unknown, event) == "Asia/Singapore"
    assert registration_mail.recipient_zone(unknown) == "UTC"
    assert registration_mail.recipient_zone(known, event) == "Europe/Copenhagen"


def test_the_reminder_of_a_reader_without_a_zone_says_the_events_time_once(app, db, make):
    event = make.event(kind=EventKind.WEBINAR, timezone="Asia/Singapore")
    registration = make.registration(event, make.user(), S.SUBMITTED, S.APPROVED)
    with app.test_request_context():
        text = app.jinja_env.get_template("mail/reminder.txt").render(
            recipient=registration.user, registration=registration, event=event, lead="Soon",
            recipient_zone=registration_mail.recipient_zone(registration.user, event))
    assert "Starts in the event's time" in text and "Starts in your time" not in text


def test_the_digest_hour_of_a_manager_without_a_zone_is_utcs(app, db, make):
    manager = make.manager(make.partner())
    hour = app.config["DIGEST_HOUR"]
    day = at(2024, 7, 15)
    assert not registration_mail.digest_due(manager, day.replace(hour=hour - 1, minute=59))
    assert registration_mail.digest_due(manager, day.replace(hour=hour))


def test_the_api_says_null_for_a_zone_not_known_yet(call, db, make):
    member = make.user()
    secret = token_for(member)
    db.session.commit()
    me = call("GET", "/api/v1/me", secret)
    assert me.status_code == 200 and me.json["timezone"] is None
    member.timezone = "Europe/Copenhagen"
    db.session.commit()
    assert call("GET", "/api/v1/me", secret).json["timezone"] == "Europe/Copenhagen"


def test_erasing_an_account_forgets_its_zone(db, make):
    member = make.user(timezone="Europe/Copenhagen")
    privacy.erase(member)
    db.session.flush()
    assert member.timezone is None


def test_the_data_export_says_null_for_a_zone_not_known_yet(db, make, login_as):
    member = make.user()
    db.session.commit()
    exported = json.loads(login_as(member).get("/account/data").get_data(as_text=True))
    assert exported["account"]["timezone"] is None

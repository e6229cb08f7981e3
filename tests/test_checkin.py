"""Check-in at the door: which badges are admitted, what a second scan says, agenda sessions,
the codes people scan and type, the database's own guard against a second attendance, the
attendance page and its CSV, and who may open a badge's URL.

The event is on (it started an hour ago): check-in is open. When it is not, and what
the counts leave out, is in tests/test_checkin_window.py; the races between two phones
scanning one badge are in tests/test_checkin_races.py.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape
from types import SimpleNamespace
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, at
from tests.live import form_fields
from tests.test_error_summary import assert_summary_links
from webapp.models import Attendance, EventStatus, utcnow
from webapp.models import RegistrationStatus as S
from webapp.models.types import BADGE_ALPHABET, badge_check_symbol
from webapp.services import checkin
from webapp.services.badges import checkin_url, printed_code
from webapp.services.checkin import BadgeRefused

SINGAPORE = ZoneInfo("Asia/Singapore")
TYPO = "This code has a typo: please check it against the badge."
NOT_A_CODE = "This is not a badge code: a badge code has 16 letters and digits."
EMPTY = "Scan a badge or type the code printed under its QR code."


def _code(body: str) -> str:
    """A well-formed badge code: `body` (15 symbols) and its check symbol."""
    return body + badge_check_symbol(body)


@pytest.fixture
def door(make) -> SimpleNamespace:
    """A mission in Singapore that started an hour ago, with two agenda sessions, organized
    by one partner and hosted by a beachhead; approved delegates of clusters A and B, and
    the staff of the door."""
    cluster_a = make.partner(name="Alpha Smart Cities")
    cluster_b = make.partner(name="Bravo Mobility")
    organizing = make.partner(name="Organizing Cluster")
    beachhead = make.beachhead(name="IPI Singapore")
    event = make.event(organizers=[organizing], hosts=[beachhead], timezone="Asia/Singapore",
                       title="Smart Cities Mission", starts_in=-timedelta(hours=1))
    w = SimpleNamespace(
        cluster_a=cluster_a, cluster_b=cluster_b, beachhead=beachhead, event=event,
        visit=make.session(event, title="Port visit"),
        conference=make.session(event, title="Conference day",
                                starts_at=event.starts_at + timedelta(days=1),
                                ends_at=event.starts_at + timedelta(days=1, hours=8)),
        organizer=make.manager(organizing, name="Olga Organizer"),
        host=make.host(beachhead, name="Hana Host"),
        other_host=make.host(make.beachhead(name="NECEC"), name="Otto Otherhost"),
        manager_a=make.manager(cluster_a, name="Mads Manager"),
        admin=make.admin(name="Ada Admin"),
    )
    w.ana = delegate(make, event, cluster_a, "Ana Alpha", "Alpha Sensors")
    w.bo = delegate(make, event, cluster_b, "Bo Bravo", "Bravo Bikes")
    w.cem = delegate(make, event, cluster_b, "Cem Cyan", "Cyan Charging")
    other_event = make.event(organizers=[organizing], hosts=[beachhead], title="Other Mission",
                             starts_in=-timedelta(hours=1))
    w.other_event = other_event
    w.other_session = make.session(other_event, title="Elsewhere")
    w.elsewhere = delegate(make, other_event, cluster_a, "Elsa Elsewhere", "Elsewhere Labs")
    return w


def delegate(make, event, cluster, name, company, *path):
    user = make.user(make.organization(cluster, name=company), name=name)
    return make.registration(event, user, *(path or (S.SUBMITTED, S.APPROVED)))


def attendances(db, reg=None) -> int:
    query = select(func.count()).select_from(Attendance)
    if reg is not None:
        query = query.where(Attendance.registration_id == reg.id)
    return db.session.scalar(query)


def scan(client, event, code, session="event"):
    """What the door's form sends: the code as scanned or typed, and what it checks in for."""
    token = csrf_token(client, f"/events/{event.id}/checkin")
    return client.post(f"/events/{event.id}/checkin",
                       data={"code": code, "session": session, "csrf_token": token})


def result_text(response) -> str:
    """The heading of the person card: "Checked in" or when and by whom it was."""
    match = re.search(r'data-testid="checkin-result">(.*?)</div>',
                      response.get_data(as_text=True), re.S)
    assert match, "no check-in result on the page"
    return unescape(match.group(1)).strip()


def refusal_text(response) -> str:
    match = re.search(r'data-testid="checkin-refused">(.*?)</div>',
                      response.get_data(as_text=True), re.S)
    assert match, "no refusal on the page"
    return unescape(match.group(1)).strip()


def shown_person(response) -> str | None:
    match = re.search(r'data-testid="person-name"><bdi>(.*?)</bdi>',
                      response.get_data(as_text=True))
    return unescape(match.group(1)) if match else None


def field_error(response, name) -> str:
    """The error message shown for a form field."""
    html = response.get_data(as_text=True)
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</', html, re.S)
    assert match, f"no error shown for {name}"
    return unescape(match.group(1)).strip()


# --------------------------------------------------------------------------- scanning twice


def test_a_second_scan_says_when_and_by_whom_and_records_nothing_new(client, db, door):
    login(client, door.host)
    first = scan(client, door.event, door.ana.badge_code)
    assert first.status_code == 200
    assert result_text(first) == "Checked in"
    assert shown_person(first) == "Ana Alpha"

    login(client, door.organizer)  # a second phone at the same door
    second = scan(client, door.event, door.ana.badge_code)

    assert second.status_code == 200
    recorded = db.session.scalar(select(Attendance).where(
        Attendance.registration_id == door.ana.id))
    local = recorded.recorded_at.astimezone(SINGAPORE)
    assert result_text(second) == (
        f"Already checked in at {local:%H:%M} (Singapore, UTC+8) by Hana Host.")
    assert shown_person(second) == "Ana Alpha"
    assert attendances(db, door.ana) == 1
    assert recorded.recorded_by_id == door.host.id


def test_a_scan_on_a_later_day_says_the_day_of_the_first(client, db, door):
    yesterday = (utcnow() - timedelta(days=1)).replace(second=0, microsecond=0)
    db.session.add(Attendance(registration_id=door.ana.id, recorded_by_id=door.host.id,
                              recorded_at=yesterday))
    db.session.flush()
    login(client, door.organizer)

    response = scan(client, door.event, door.ana.badge_code)

    local = yesterday.astimezone(SINGAPORE)
    assert result_text(response) == (
        f"Already checked in on {local:%a} {local.day} {local:%b %Y} at {local:%H:%M} "
        "(Singapore, UTC+8) by Hana Host.")
    assert attendances(db, door.ana) == 1


def test_the_service_gives_the_first_attendance_back_to_a_second_scan(db, door):
    first = checkin.check_in(door.host, door.ana, door.event)
    second = checkin.check_in(door.organizer, door.ana, door.event)

    assert (first.created, second.created) == (True, False)
    assert second.attendance.id == first.attendance.id
    assert second.attendance.recorded_by.name == "Hana Host"
    assert attendances(db, door.ana) == 1


# --------------------------------------------------------------------------- agenda sessions


def test_an_agenda_session_is_checked_in_apart_from_the_event_and_other_sessions(
    client, db, door
):
    login(client, door.host)
    answers = [
        result_text(scan(client, door.event, door.ana.badge_code, session))
        for session in ("event", str(door.visit.id), str(door.conference.id),
                        str(door.visit.id), "event")
    ]

    assert answers[:3] == ["Checked in"] * 3
    assert answers[3].startswith("Already checked in") and "Hana Host" in answers[3]
    assert answers[4].startswith("Already checked in")
    rows = db.session.execute(select(Attendance.session_id).where(
        Attendance.registration_id == door.ana.id)).scalars().all()
    assert sorted(rows, key=lambda s: s or 0) == [None, door.visit.id, door.conference.id]
    # Each report counts its own check-ins only.
    assert [r.registration.id for r in checkin.attendance_of(door.event, door.visit).present] \
        == [door.ana.id]
    assert checkin.attendance_of(door.event, door.visit).expected == 3


def test_the_scanner_keeps_the_chosen_session_for_the_next_badge(client, door):
    login(client, door.host)
    response = scan(client, door.event, door.ana.badge_code, str(door.visit.id))
    fields = dict(form_fields(response.get_data(as_text=True), f"/events/{door.event.id}/checkin"))
    assert fields["session"] == str(door.visit.id)
    assert fields["code"] == ""


def test_a_session_of_another_event_is_refused(client, db, door):
    with pytest.raises(BadgeRefused, match="not on the event's agenda"):
        checkin.session_of(door.event, door.other_session.id)
    login(client, door.host)

    response = scan(client, door.event, door.ana.badge_code, str(door.other_session.id))

    assert response.status_code == 400
    assert attendances(db) == 0
    # Nor can a link pick it: the scanner and the attendance pages know no such session.
    for path in ("checkin", "attendance", "attendance.csv"):
        assert client.get(f"/events/{door.event.id}/{path}?session={door.other_session.id}"
                          ).status_code == 404


def test_a_badge_of_another_event_is_refused_at_this_events_door(client, db, door):
    login(client, door.host)  # who hosts both events

    response = scan(client, door.event, door.elsewhere.badge_code)

    assert response.status_code == 400
    assert refusal_text(response) == "This badge is for another event."
    assert shown_person(response) is None
    assert attendances(db) == 0


@pytest.mark.parametrize("path, status", [
    ((S.SUBMITTED, S.APPROVED, S.WITHDRAWN), "withdrawn"),
    ((S.SUBMITTED, S.REJECTED), "rejected"),
    ((S.SUBMITTED,), "submitted"),
    ((S.SUBMITTED, S.WAITLISTED), "waitlisted"),
    ((S.SUBMITTED, S.APPROVED, S.CANCELLED), "cancelled"),
])
def test_a_badge_whose_registration_is_not_approved_is_refused_with_its_status(
    client, db, make, door, path, status
):
    reg = delegate(make, door.event, door.cluster_a, "Nora Notnow", "Notnow Ltd", *path)
    login(client, door.host)

    response = scan(client, door.event, reg.badge_code)

    assert response.status_code == 400
    assert refusal_text(response) == f"This badge is not valid: the registration is {status}."
    assert shown_person(response) is None
    assert attendances(db) == 0
    with pytest.raises(BadgeRefused, match=status):
        checkin.check_in(door.host, reg, door.event)


def test_the_badge_page_of_a_withdrawn_registration_says_so_and_offers_no_check_in(
    client, make, door
):
    reg = delegate(make, door.event, door.cluster_a, "Walt Withdrawn", "Walt Co",
                   S.SUBMITTED, S.APPROVED, S.WITHDRAWN)
    login(client, door.host)

    response = client.get(f"/checkin/{reg.badge_code}")

    assert response.status_code == 200
    assert refusal_text(response) == "This badge is not valid: the registration is withdrawn."
    assert 'data-testid="checkin-submit"' not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- what is typed


def test_one_symbol_changed_is_a_typo(client, db, door):
    login(client, door.host)
    code = door.ana.badge_code
    for position in (0, 7, len(code) - 1):
        wrong = next(c for c in BADGE_ALPHABET if c != code[position]
                     and abs(BADGE_ALPHABET.index(c) - BADGE_ALPHABET.index(code[position]))
                     != 31)  # 0 and Z differ by the modulus: the one swap a check misses
        tampered = code[:position] + wrong + code[position + 1:]
        response = scan(client, door.event, tampered)
        assert response.status_code == 400
        assert refusal_text(response) == TYPO, position
    assert attendances(db) == 0


def test_two_neighbours_typed_the_wrong_way_round_are_a_typo(door):
    code = _code("K7QM2XPA9RTEH3W")
    with pytest.raises(BadgeRefused, match="typo"):
        checkin.find_badge(code[:4] + code[5] + code[4] + code[6:])


@pytest.mark.parametrize("typed", [
    "hello", "https://example.org/", "K7QM 2XPA 9RTE", "K7QM-2XPA-9RTE-H3WD-XYZ",
    "K7QM2XPA9RTEH3W#", "<script>alert(1)</script>",
])
def test_garbage_is_not_a_badge_code(client, db, door, typed):
    login(client, door.host)
    response = scan(client, door.event, typed)
    assert response.status_code == 400
    assert refusal_text(response) == NOT_A_CODE
    assert "<script>alert" not in response.get_data(as_text=True)


def test_a_well_formed_code_that_no_badge_has_is_refused(client, door):
    login(client, door.host)
    response = scan(client, door.event, _code("0" * 15))
    assert response.status_code == 400
    assert refusal_text(response).startswith("No badge has this code.")


@pytest.mark.parametrize("typed", ["", "   "])
def test_an_empty_field_asks_for_a_badge(client, db, door, typed):
    login(client, door.host)
    response = scan(client, door.event, typed)
    assert response.status_code == 400
    assert field_error(response, "code") == EMPTY
    assert_summary_links(response, "code")
    assert attendances(db) == 0


def test_a_scanned_url_checks_in(client, db, door):
    login(client, door.host)
    with client.application.test_request_context():
        url = checkin_url(door.ana)  # what the QR code holds
    assert url.endswith(f"/checkin/{door.ana.badge_code}")

    for scanned in (url, url + "/", url + "?utm_source=qr"):
        response = scan(client, door.event, scanned)
        assert response.status_code == 200, scanned
        assert shown_person(response) == "Ana Alpha"
    assert attendances(db, door.ana) == 1


def test_the_printed_code_typed_in_lower_case_with_spaces_checks_in(client, db, door):
    login(client, door.host)
    typed = f"  {printed_code(door.ana.badge_code).lower()} "
    assert " " in typed.strip()

    response = scan(client, door.event, typed)

    assert response.status_code == 200
    assert result_text(response) == "Checked in"
    assert attendances(db, door.ana) == 1


def test_look_alikes_for_zero_and_one_are_mended(db, door):
    door.ana.badge_code = _code("01ABCDEFGHJKMN0")
    db.session.flush()
    typed = "oiab cdef-ghjk mnO" + door.ana.badge_code[-1].lower()
    assert checkin.find_badge(typed).id == door.ana.id
    assert checkin.find_badge(typed.replace("i", "l")).id == door.ana.id


# --------------------------------------------------------------------------- the database


def _row(reg, session=None) -> dict:
    return {"registration_id": reg.id, "session_id": session.id if session else None,
            "recorded_at": utcnow(), "recorded_by_id": None}


def test_the_database_refuses_a_second_attendance_for_the_whole_event(db, door):
    db.session.execute(insert(Attendance), [_row(door.ana)])
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(Attendance), [_row(door.ana)])
    assert attendances(db, door.ana) == 1


def test_the_database_refuses_a_second_attendance_for_one_session(db, door):
    db.session.execute(insert(Attendance), [_row(door.ana, door.visit)])
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(Attendance), [_row(door.ana, door.visit)])
    assert attendances(db, door.ana) == 1


def test_the_database_allows_one_attendance_per_session_besides_the_event(db, door):
    db.session.execute(insert(Attendance), [
        _row(door.ana), _row(door.ana, door.visit), _row(door.ana, door.conference),
        _row(door.bo), _row(door.bo, door.visit),
    ])
    assert attendances(db, door.ana) == 3
    assert attendances(db, door.bo) == 2


# --------------------------------------------------------------------------- attendance


def _count(html: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', html).group(1))


def _names_in(html: str, testid: str) -> list[str]:
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', html, re.S)
    if table is None:
        return []
    return [unescape(name) for name in re.findall(r"<tr><td>(.*?)</td>", table.group(1))]


def test_the_attendance_page_counts_who_came_and_lists_who_is_missing(client, make, door):
    delegate(make, door.event, door.cluster_a, "Paul Pending", "Pending Co", S.SUBMITTED)
    delegate(make, door.event, door.cluster_a, "Walt Withdrawn", "Walt Co",
             S.SUBMITTED, S.APPROVED, S.WITHDRAWN)
    checkin.check_in(door.host, door.ana, door.event)
    checkin.check_in(door.host, door.bo, door.event, door.visit)  # a session, not the event
    login(client, door.organizer)

    html = client.get(f"/events/{door.event.id}/attendance").get_data(as_text=True)

    assert (_count(html, "expected"), _count(html, "present"), _count(html, "missing")) \
        == (3, 1, 2)
    assert _names_in(html, "attendance-missing") == ["Bo Bravo", "Cem Cyan"]
    assert _names_in(html, "attendance-present") == ["Ana Alpha"]
    assert "Paul Pending" not in html and "Walt Withdrawn" not in html

    visit = client.get(f"/events/{door.event.id}/attendance?session={door.visit.id}"
                       ).get_data(as_text=True)
    assert (_count(visit, "expected"), _count(visit, "present"), _count(visit, "missing")) \
        == (3, 1, 2)
    assert _names_in(visit, "attendance-missing") == ["Ana Alpha", "Cem Cyan"]
    assert _names_in(visit, "attendance-present") == ["Bo Bravo"]


def test_when_everyone_came_nobody_is_missing(client, door):
    for reg in (door.ana, door.bo, door.cem):
        checkin.check_in(door.host, reg, door.event)
    login(client, door.host)
    html = client.get(f"/events/{door.event.id}/attendance").get_data(as_text=True)
    assert _count(html, "missing") == 0
    assert "everyone expected has checked in" in html


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("timezone, local", [
    ("Asia/Singapore", "2026-07-09 09:14 UTC+8"),
    ("America/New_York", "2026-07-08 21:14 UTC-4"),
    ("Asia/Kolkata", "2026-07-09 06:44 UTC+5:30"),
])
def test_the_attendance_csv_guards_formulas_and_gives_the_time_with_its_offset(
    client, db, make, door, timezone, local
):
    door.event.timezone = timezone
    door.event.starts_at, door.event.ends_at = at(2026, 7, 9), at(2026, 7, 12)
    sly = delegate(make, door.event, door.cluster_a, '=HYPERLINK("http://x")', "@Evil Corp")
    checkin.check_in(door.host, sly, door.event, now=at(2026, 7, 9, 1, 14))
    login(client, door.organizer)

    response = client.get(f"/events/{door.event.id}/attendance.csv")

    rows = _csv(response)
    assert rows[0] == ["Name", "Organization", "Cluster", "Role", "Present", "Recorded at",
                       "Recorded by", "How"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["'=HYPERLINK(\"http://x\")"] == [
        "'=HYPERLINK(\"http://x\")", "'@Evil Corp", "Alpha Smart Cities", "Delegate", "yes",
        local, "Hana Host", "badge scanned"]
    assert by_name["Bo Bravo"][4:] == ["no", "", "", ""]
    assert len(rows) == 1 + 4
    assert response.headers["Cache-Control"] == "no-store"
    assert f'filename="attendance-{door.event.slug}-' in response.headers["Content-Disposition"]


def test_the_attendance_csv_of_a_session_lists_that_sessions_check_ins(client, door):
    checkin.check_in(door.host, door.bo, door.event, door.visit)
    checkin.check_in(door.host, door.ana, door.event)
    login(client, door.host)

    response = client.get(f"/events/{door.event.id}/attendance.csv?session={door.visit.id}")

    present = {row[0]: row[4] for row in _csv(response)[1:]}
    assert present == {"Ana Alpha": "no", "Bo Bravo": "yes", "Cem Cyan": "no"}
    assert f"-session-{door.visit.id}-" in response.headers["Content-Disposition"]


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role, door_status, badge_status", [
    ("host", 200, 200),
    ("organizer", 200, 200),
    ("admin", 200, 200),
    ("other_host", 403, 404),  # a host of another beachhead: sees the event, not the door
    ("manager_a", 403, 404),  # Ana's own cluster's manager: decides, does not check in
])
def test_only_the_events_staff_check_people_in(client, db, door, role, door_status,
                                               badge_status):
    login(client, getattr(door, role))
    event_id, code = door.event.id, door.ana.badge_code

    assert client.get(f"/events/{event_id}/checkin").status_code == door_status
    assert client.get(f"/events/{event_id}/attendance").status_code == door_status
    assert client.get(f"/events/{event_id}/attendance.csv").status_code == door_status
    page = client.get(f"/checkin/{code}")
    assert page.status_code == badge_status
    token = csrf_token(client, "/account/profile")
    posted = [
        client.post(f"/events/{event_id}/checkin",
                    data={"code": code, "session": "event", "csrf_token": token}),
        client.post(f"/checkin/{code}", data={"session": "event", "csrf_token": token}),
    ]
    assert [r.status_code for r in posted] == [door_status, badge_status]
    if badge_status == 404:
        for response in (page, *posted):
            html = response.get_data(as_text=True)
            assert "Ana Alpha" not in html and "Alpha Sensors" not in html
        assert attendances(db) == 0
    else:
        assert shown_person(page) == "Ana Alpha"
        assert attendances(db, door.ana) == 1


def test_a_drafts_hosts_do_not_check_in_for_it_before_it_is_published(client, db, make, door):
    draft = make.event(organizers=door.event.organizers, hosts=[door.beachhead],
                       status=EventStatus.DRAFT, title="Secret Mission")
    staff = delegate(make, draft, door.cluster_a, "Sam Staff", "Staff Co")
    login(client, door.host)

    assert client.get(f"/events/{draft.id}/checkin").status_code == 404
    page = client.get(f"/checkin/{staff.badge_code}")
    assert page.status_code == 404
    assert "Sam Staff" not in page.get_data(as_text=True)
    assert "Secret Mission" not in page.get_data(as_text=True)
    token = csrf_token(client, "/account/profile")
    assert client.post(f"/checkin/{staff.badge_code}",
                       data={"session": "event", "csrf_token": token}).status_code == 404
    assert attendances(db) == 0
    login(client, door.organizer)
    assert shown_person(client.get(f"/checkin/{staff.badge_code}")) == "Sam Staff"


def test_the_delegate_themselves_cannot_open_their_badge_url(client, door):
    login(client, door.ana.user)
    assert client.get(f"/checkin/{door.ana.badge_code}").status_code == 404
    assert client.get(f"/events/{door.event.id}/checkin").status_code == 403


def test_a_badge_url_sends_visitors_to_sign_in_and_shows_nothing_of_the_person(
    client, db, door
):
    path = f"/checkin/{door.ana.badge_code}"

    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={quote(path, safe='')}"
    for shown in (response, client.get(response.headers["Location"])):
        html = shown.get_data(as_text=True)
        for private in ("Ana Alpha", "Alpha Sensors", "Alpha Smart Cities",
                        door.event.title):
            assert private not in html
    posted = client.post(path, data={"session": "event",
                                     "csrf_token": csrf_token(client, "/login")})
    assert posted.status_code == 302
    assert posted.headers["Location"].startswith("/login?next=")
    assert attendances(db) == 0


def test_a_host_signing_in_from_a_badge_url_lands_on_the_badge(client, door):
    path = f"/checkin/{door.ana.badge_code}"
    login_page = client.get(path).headers["Location"]
    assert f'value="{path}"' in client.get(login_page).get_data(as_text=True)
    token = csrf_token(client, login_page)

    response = client.post("/login", data={"email": door.host.email, "password": PASSWORD,
                                           "next": path, "csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == path
    assert shown_person(client.get(path)) == "Ana Alpha"


def test_the_badge_page_records_a_check_in_for_a_session(client, db, door):
    login(client, door.host)
    path = f"/checkin/{door.ana.badge_code}"
    token = csrf_token(client, path)

    first = client.post(path, data={"session": str(door.visit.id), "csrf_token": token})
    again = client.post(path, data={"session": str(door.visit.id), "csrf_token": token})

    assert result_text(first) == "Checked in"
    assert result_text(again).startswith("Already checked in at ")
    assert db.session.scalars(select(Attendance.session_id).where(
        Attendance.registration_id == door.ana.id)).all() == [door.visit.id]

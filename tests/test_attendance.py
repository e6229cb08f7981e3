"""The webinar attendance report (webapp/services/attendance.py, /events/<id>/webinar-report):
registered, approved and opened the join link, with the ratio, in all, by cluster and by
country; its CSV; who may read it; and its query count."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import count_queries, login
from tests.webinars import STARTS, approved
from webapp.models import Attendance, AttendanceSource, EventSession, SessionKind
from webapp.models import RegistrationStatus as S
from webapp.services import attendance

DURING = STARTS + timedelta(minutes=10)


def opened(db, reg, session=None) -> None:
    db.session.add(Attendance(registration_id=reg.id, session_id=session.id if session else None,
                              recorded_at=DURING, source=AttendanceSource.JOIN_LINK))
    db.session.flush()


@pytest.fixture
def audience(db, make, webinar, organizer, cluster):
    """Gent (Belgium): three approved (two opened the link, one also a session's link
    twice over), one withdrawn. Porto (Portugal): one approved who opened it, one
    approved who was only scanned at a door, one still to be decided. A company of no
    cluster (Netherlands): one approved who did not open it."""
    porto = make.partner(name="Porto Digital")
    gent_org, porto_org = make.organization(cluster), make.organization(porto, country="PT")
    loose_org = make.organization(None, country="NL")
    panel = EventSession(event=webinar, title="Panel", kind=SessionKind.WEBINAR,
                         starts_at=STARTS, ends_at=STARTS + timedelta(minutes=30),
                         online_url="https://meet.example.com/j/panel")
    db.session.add(panel)
    db.session.flush()
    people = SimpleNamespace(porto=porto, panel=panel)
    gent = [approved(make, webinar, make.user(gent_org), organizer) for _ in range(3)]
    opened(db, gent[0])
    opened(db, gent[1])
    opened(db, gent[1], panel)
    make.registration(webinar, make.user(gent_org), S.SUBMITTED, S.APPROVED, S.WITHDRAWN,
                      actor=organizer)
    porto_seat = approved(make, webinar, make.user(porto_org), organizer)
    opened(db, porto_seat)
    scanned = approved(make, webinar, make.user(porto_org), organizer)
    db.session.add(Attendance(registration_id=scanned.id, recorded_at=DURING,
                              source=AttendanceSource.CHECK_IN))
    make.registration(webinar, make.user(porto_org))
    approved(make, webinar, make.user(loose_org), organizer)
    db.session.flush()
    return people


def line(found) -> tuple:
    return (found.label, found.registered, found.approved, found.opened)


def test_the_report_counts_registered_approved_and_opened_by_cluster_and_country(
        db, webinar, audience):
    report = attendance.webinar_report(webinar)

    # 8 registrations, 6 approved; 3 opened the link (a session's link adds nobody twice,
    # a badge scanned at a door is not an opened link).
    assert line(report.total) == ("", 8, 6, 3)
    assert report.total.ratio == pytest.approx(0.5)
    assert [line(x) for x in report.by_cluster] == [
        ("Porto Digital", 3, 2, 1), ("Smart City Cluster Gent", 4, 3, 2), ("", 1, 1, 0)]
    assert [line(x) for x in report.by_country] == [
        ("Belgium", 4, 3, 2), ("Netherlands", 1, 1, 0), ("Portugal", 3, 2, 1)]


def test_a_report_with_nobody_approved_has_no_ratio(db, make, webinar, member):
    make.registration(webinar, member)
    report = attendance.webinar_report(webinar)
    assert line(report.total) == ("", 1, 0, 0)
    assert report.total.ratio is None


def test_the_report_page_shows_the_figures(client, webinar, organizer, audience):
    login(client, organizer)
    response = client.get(f"/events/{webinar.id}/webinar-report")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for count, value in (("registered", 8), ("approved", 6), ("opened", 3), ("ratio", "50%")):
        assert f'data-count="{count}">{value}<' in html
    assert "Porto Digital" in html and "Portugal" in html and "No cluster" in html


def test_the_event_page_of_the_admin_area_links_to_the_report(client, webinar, organizer):
    login(client, organizer)
    page = client.get(f"/admin/events/{webinar.id}").get_data(as_text=True)
    assert f'href="/events/{webinar.id}/webinar-report"' in page


def test_the_report_csv_opens_in_excel_with_every_breakdown(client, webinar, organizer,
                                                            audience):
    login(client, organizer)
    response = client.get(f"/events/{webinar.id}/webinar-report.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert f'filename="webinar-report-{webinar.slug}-' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Breakdown", "Group", "Registered", "Approved",
                       "Opened the join link", "Opened / approved"]
    assert rows[1] == ["Total", "Meet Boston", "8", "6", "3", "50%"]
    assert ["Cluster", "(no cluster)", "1", "1", "0", "0%"] in rows
    assert ["Country", "Portugal", "3", "2", "1", "50%"] in rows


def test_the_report_csv_guards_a_cluster_name_against_formulas(client, db, make, webinar,
                                                               organizer):
    sly = make.partner(name="=cmd|' /C calc'!A0")
    approved(make, webinar, make.user(make.organization(sly)), organizer)
    login(client, organizer)
    rows = list(csv.reader(io.StringIO(
        client.get(f"/events/{webinar.id}/webinar-report.csv").data.decode("utf-8-sig"))))
    assert ["Cluster", "'=cmd|' /C calc'!A0", "1", "1", "0", "0%"] in rows


@pytest.mark.parametrize("who, status", [
    ("organizer", 200), ("admin", 200), ("host", 200),
    ("member", 403), ("other_manager", 403), ("visitor", 302),
])
def test_only_the_events_staff_read_the_report(client, make, webinar, organizer, member,
                                               who, status):
    beachhead = make.beachhead(name="Boston Beachhead")
    webinar.hosts = [beachhead]
    users = dict(organizer=organizer, admin=make.admin(), host=make.host(beachhead),
                 member=member, other_manager=make.manager(make.partner(name="Elsewhere")))
    if who != "visitor":
        login(client, users[who])
    for suffix in ("", ".csv"):
        assert client.get(f"/events/{webinar.id}/webinar-report{suffix}").status_code == status


def test_an_unknown_event_has_no_report(client, organizer):
    login(client, organizer)
    assert client.get("/events/999999/webinar-report").status_code == 404
    assert client.get("/events/999999/webinar-report.csv").status_code == 404


def test_the_reports_query_count_does_not_grow_with_the_audience(client, db, make, webinar,
                                                                 organizer, cluster):
    login(client, organizer)

    def grow(start, n):
        for i in range(start, start + n):
            org = make.organization(make.partner(name=f"Cluster {i}"), country="FR")
            reg = approved(make, webinar, make.user(org), organizer)
            opened(db, reg)

    grow(0, 2)
    with count_queries() as few:
        assert client.get(f"/events/{webinar.id}/webinar-report").status_code == 200
    grow(2, 20)
    with count_queries() as many:
        assert client.get(f"/events/{webinar.id}/webinar-report").status_code == 200
    assert len(many) == len(few), "\n".join(many)

"""At the next Barcelona expo, whose schedule of meetings is out, staff who check people in
open the table scanner from the door's check-in page, choose a table and enter the badge
of a participant who has a meeting there: the page says the meeting is held, who met
whom and at which table, and is ready for the next badge at the same table. Check-in is
opened early enough (CHECKIN_OPENS_BEFORE) that the expo's door is open today. The same
scanner reads a badge held in front of the camera, as the door's check-in does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Playwright, expect
from sqlalchemy import select

from webapp import access, demo
from webapp.extensions import db
from webapp.models import (
    Event,
    Matchmaking,
    Meeting,
    MeetingHeld,
    MeetingRequest,
    MeetingRequestStatus,
    User,
    utcnow,
)
from webapp.services.badges import printed_code

from .camera import filming_badge
from .conftest import AccessibilityCheck, AxeFindings, LiveServer, sign_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Table:
    event_id: int
    title: str
    staff_email: str
    meeting_id: int
    point_id: int
    point: str
    badge: str  # as printed under the scanned side's QR code
    registration_id: int  # the scanned side's
    name: str
    other: str


def next_table(live_server: LiveServer, nth: int = 0) -> Table:
    """The `nth` placed meeting of the next expo with matchmaking on whose requester meets
    nobody else at its table, and a demo account that may scan badges at its tables; its
    check-in opened today."""
    with live_server.app.app_context():
        meetings = db.session.scalars(
            select(Meeting).join(MeetingRequest).join(Event, Event.id == Meeting.event_id)
            .join(Matchmaking, Matchmaking.event_id == Event.id)
            .where(Event.starts_at > utcnow(), Matchmaking.enabled,
                   Meeting.starts_at.is_not(None), Meeting.point_id.is_not(None),
                   MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
            .order_by(Event.starts_at, Meeting.starts_at, Meeting.id)).all()
        at_table: dict[tuple[int, int | None], int] = {}
        for meeting in meetings:
            for side in (meeting.request.requester_id, meeting.request.receiver_id):
                at_table[side, meeting.point_id] = at_table.get((side, meeting.point_id), 0) + 1
        alone = [meeting for meeting in meetings
                 if at_table[meeting.request.requester_id, meeting.point_id] == 1]
        assert len(alone) > nth, "the demo's next expo should have a schedule of meetings"
        meeting = alone[nth]
        event = db.session.get(Event, meeting.event_id)
        staff = next(user for user in (
            db.session.scalar(select(User).where(User.email == account.email))
            for account in demo.DEMO_ACCOUNTS)
            if user is not None and access.can(user, "meeting.scan", event))
        side, other = meeting.request.requester, meeting.request.receiver
        live_server.app.config["CHECKIN_OPENS_BEFORE"] = (event.starts_at - utcnow()
                                                          + timedelta(hours=1))
        found = Table(event.id, event.title, staff.email, meeting.id, meeting.point_id,
                      meeting.point.name, printed_code(side.registration.badge_code),
                      side.registration_id,
                      side.registration.user.name, other.registration.user.name)
        db.session.remove()
        return found


def held(live_server: LiveServer, meeting_id: int) -> MeetingHeld | None:
    with live_server.app.app_context():
        found = db.session.scalar(select(MeetingHeld).where(
            MeetingHeld.meeting_id == meeting_id))
        db.session.remove()
        return found


def open_scanner(page: Page, check: AccessibilityCheck, table: Table) -> None:
    """Sign in at the door's check-in page, follow its link to the table scanner, and
    choose the table."""
    sign_in(page, check, table.staff_email, f"/events/{table.event_id}/checkin")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Check-in: {table.title}")
    page.get_by_role("link", name="Scan badges at the tables").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Meetings at the tables: {table.title}")
    check()
    page.get_by_label("Meeting point").select_option(label=table.point)


def expect_held(page: Page, table: Table) -> None:
    """The scan's result names both sides and the table, and the table stays chosen."""
    result = page.locator("[aria-live]").get_by_role("status").filter(has_text="Held")
    expect(result).to_have_text(re.compile(
        rf"^\s*Held: the meeting of {re.escape(table.name)} with {re.escape(table.other)} "
        rf"at {re.escape(table.point)}, .+\.\s*$"))
    expect(page.get_by_label("Meeting point")).to_have_value(str(table.point_id))


def test_staff_open_the_table_scanner_from_the_door_and_mark_a_meeting_held(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer
):
    table = next_table(live_server)
    open_scanner(page, assert_accessible, table)
    page.get_by_label("Badge code").fill(table.badge)
    with page.expect_navigation():
        page.get_by_role("button", name="Mark the meeting as held").click()
    expect_held(page, table)
    # Ready for the next badge at the same table.
    expect(page.get_by_label("Badge code")).to_have_value("")
    expect(page.get_by_label("Badge code")).to_be_focused()
    assert_accessible()
    assert held(live_server, table.meeting_id) is not None


@pytest.fixture
def camera_table(live_server: LiveServer) -> Table:
    return next_table(live_server, nth=1)


@pytest.fixture
def camera_page(playwright: Playwright, live_server: LiveServer, camera_table: Table,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A Chromium whose camera films the badge of the camera table's scanned side."""
    with filming_badge(playwright, live_server, camera_table.registration_id,
                       tmp_path_factory.mktemp("table-camera")) as page:
        yield page


def test_staff_hold_a_badge_in_front_of_the_camera_at_a_table_and_the_meeting_is_held(
    camera_page: Page, camera_table: Table, axe_findings: AxeFindings,
    live_server: LiveServer
):
    page, table = camera_page, camera_table
    check = AccessibilityCheck(page, axe_findings)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" and "/scan" in request.url else None)
    open_scanner(page, check, table)
    assert held(live_server, table.meeting_id) is None
    with page.expect_navigation():
        page.get_by_role("button", name="Scan with the camera").click()
    expect_held(page, table)
    check()
    # The camera comes back on for the next badge at this table, and the badge just
    # read, still in front of it, is not sent a second time.
    expect(page.get_by_role("button", name="Stop the camera")).to_be_visible()
    page.wait_for_timeout(1_500)
    assert len(sent) == 1, f"the badge was sent {len(sent)} times"
    found = held(live_server, table.meeting_id)
    assert found is not None and found.how.value == "table_scan"
    check.assert_every_page_checked()

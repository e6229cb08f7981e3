"""At the door of the upcoming mission to Boston and New York, NECEC's host checks delegates
in: by the code printed under a badge's QR code, typed, then by holding the badge in front
of the camera. A badge checked in twice says when and by whom it was first; a mistyped
code says it has a typo; the attendance page counts who came. Check-in opens a day before
an event by default: this server opens it early enough (CHECKIN_OPENS_BEFORE) that the
mission's door is open today."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Playwright, expect
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Attendance, Registration
from webapp.services.badges import BadgeCodeError, normalize_code

from .camera import filming_badge
from .conftest import (
    AccessibilityCheck,
    AxeFindings,
    Delegate,
    Door,
    LiveServer,
    open_door,
    sign_in,
)

pytestmark = pytest.mark.browser

TYPO = "This code has a typo: please check it against the badge."


@pytest.fixture(scope="module")
def door(live_server: LiveServer) -> Door:
    return open_door(live_server)


def tampered(code: str) -> str:
    """`code` with one symbol changed so that its check symbol no longer matches."""
    symbols = list(code)
    position = next(i for i, c in enumerate(symbols) if c != " ")
    for replacement in "23456789ABCDEFGH":
        if replacement == symbols[position]:
            continue
        symbols[position] = replacement
        candidate = "".join(symbols)
        try:
            normalize_code(candidate)
        except BadgeCodeError as error:
            if str(error) == TYPO:
                return candidate
    raise AssertionError(f"no single-symbol typo of {code} fails its check")


def expect_person(page: Page, delegate: Delegate, heading: str | re.Pattern) -> None:
    card = page.get_by_test_id("person")
    expect(card.get_by_test_id("checkin-result")).to_have_text(heading)
    expect(card.get_by_test_id("person-name")).to_have_text(delegate.name)
    expect(card.get_by_test_id("person-organization")).to_have_text(delegate.organization)
    expect(card.get_by_test_id("person-cluster")).to_have_text(delegate.cluster)


def type_code(page: Page, code: str) -> None:
    page.get_by_label("Badge code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Check in", exact=True).click()


def attendances(live_server: LiveServer, event_id: int) -> int:
    with live_server.app.app_context():
        count = db.session.scalar(select(func.count(Attendance.id)).join(Registration).where(
            Registration.event_id == event_id, Attendance.session_id.is_(None)))
        db.session.remove()
        return count


def test_host_checks_a_delegate_in_by_the_printed_code_once_and_sees_the_attendance(
    page: Page, assert_accessible: AccessibilityCheck, door: Door, live_server: LiveServer
):
    sign_in(page, assert_accessible, door.staff_email)
    page.goto(f"/events/{door.event_slug}")
    assert_accessible()
    page.get_by_role("link", name="Delegation list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delegation")
    assert_accessible()
    page.get_by_test_id("checkin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Check-in: {door.event_title}")
    assert_accessible()

    delegate = door.typed
    type_code(page, delegate.code)
    expect_person(page, delegate, "Checked in")
    expect(page.get_by_label("Badge code")).to_have_value("")
    assert_accessible()

    type_code(page, delegate.code)
    expect_person(page, delegate, re.compile(
        rf"^Already checked in at \d\d:\d\d \(.+\) by {re.escape(door.staff_name)}\.$"))
    assert_accessible()

    type_code(page, tampered(delegate.code))
    expect(page.get_by_test_id("checkin-refused")).to_have_text(TYPO)
    expect(page.get_by_test_id("person")).to_have_count(0)
    assert_accessible()

    page.get_by_role("link", name="Attendance: who came, who is missing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Attendance: {door.event_title}")
    assert_accessible()
    present = page.get_by_test_id("attendance-present")
    row = present.get_by_role("row").filter(has_text=delegate.name)
    expect(row).to_contain_text(delegate.organization)
    expect(row).to_contain_text(delegate.cluster)
    expect(row).to_contain_text(door.staff_name)
    expect(page.get_by_test_id("attendance-missing")).not_to_contain_text(delegate.name)
    checked_in = attendances(live_server, door.event_id)
    counts = page.get_by_test_id("attendance-counts")
    expected = int(counts.locator('[data-count="expected"]').inner_text())
    assert expected >= 2
    expect(counts.locator('[data-count="present"]')).to_have_text(str(checked_in))
    expect(counts.locator('[data-count="missing"]')).to_have_text(str(expected - checked_in))
    expect(present.locator("tbody tr")).to_have_count(checked_in)


# --------------------------------------------------------------------------- the camera


@pytest.fixture(scope="module")
def camera_page(playwright: Playwright, live_server: LiveServer, door: Door,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A Chromium whose camera films the scanned delegate's badge."""
    with filming_badge(playwright, live_server, door.scanned.registration_id,
                       tmp_path_factory.mktemp("camera")) as page:
        yield page


def test_host_holds_a_badge_in_front_of_the_camera_and_the_form_sends_itself(
    camera_page: Page, door: Door, axe_findings: AxeFindings
):
    page = camera_page
    check = AccessibilityCheck(page, axe_findings)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" and request.url.endswith("/checkin") else None)
    # The door's phone opens the check-in page; its sign-in leads back there.
    sign_in(page, check, door.staff_email, f"/events/{door.event_id}/checkin")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Check-in: {door.event_title}")
    camera = page.get_by_role("button", name="Scan with the camera")
    expect(camera).to_be_visible()
    with page.expect_navigation():
        camera.click()
    expect_person(page, door.scanned, "Checked in")
    check()
    # The camera comes back on for the next badge, and the badge just checked in, still
    # in front of it, is not sent a second time.
    expect(page.get_by_role("button", name="Stop the camera")).to_be_visible()
    page.wait_for_timeout(1_500)
    expect_person(page, door.scanned, "Checked in")
    assert len(sent) == 1, f"the badge was sent {len(sent)} times"
    check.assert_every_page_checked()

"""The coordinator prints a mission's badges: a batch too big to wait for is built in the
background while the page's progress bar advances, then offered as one PDF holding every
delegate's badge."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from webapp import access, demo
from webapp.extensions import db
from webapp.models import Event, Registration, RegistrationStatus, User
from webapp.services import badges

from .conftest import AccessibilityCheck, LiveServer
from .test_desk_journey import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def biggest_delegation(live_server: LiveServer) -> tuple[int, str, int, list[str]]:
    """The demo event with the most approved delegates: its id, title, size and names."""
    with live_server.app.app_context():
        event_id, size = db.session.execute(
            select(Registration.event_id, func.count())
            .where(Registration.status == RegistrationStatus.APPROVED)
            .group_by(Registration.event_id).order_by(func.count().desc()).limit(1)).one()
        event = db.session.get(Event, event_id)
        admin = db.session.scalar(select(User).where(User.email == demo.ADMIN.email))
        names = [r.user.name for r in db.session.scalars(access.delegates_served_by(admin, event))]
        assert len(names) == size > 3
        return event_id, event.title, size, names


def test_a_batch_in_the_background_shows_its_progress_then_downloads_every_badge(
    page: Page, assert_accessible: AccessibilityCheck, biggest_delegation, monkeypatch
):
    event_id, title, size, names = biggest_delegation
    # The demo's delegations are smaller than a real 60-person mission's; lowering the
    # threshold (the live server runs in this process) sends this one to the background.
    monkeypatch.setattr(badges, "BACKGROUND_THRESHOLD", 3)
    sign_in(page, assert_accessible, demo.ADMIN.email)
    page.goto(f"/events/{event_id}/badges")
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_test_id("badge-count")).to_have_text(f"{size} badges")
    assert_accessible()

    page.get_by_label("A4, four badges per sheet").check()
    page.get_by_role("button", name="Build the badges").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    assert_accessible()
    # The bar fills as the badges are built, and the download appears when all are.
    download_link = page.get_by_test_id("batch-download")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("value", str(size))
    expect(page.get_by_test_id("batch-status")).to_have_text(f"All {size} badges are ready.")
    assert_accessible()

    with page.expect_download() as download_info:
        download_link.click()
    pdf = download_info.value.path().read_bytes()
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    assert f"Pages:           {-(-size // 4)}".encode() in info
    assert b"A4" in info
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    flat = " ".join(text.split())
    assert all(name in flat for name in names), [n for n in names if n not in flat]

    # The batch is listed on the event's badge page for the hour its file is kept.
    page.goto(f"/events/{event_id}/badges")
    expect(page.get_by_test_id("batches").get_by_role("link", name="Download")).to_be_visible()
    assert_accessible()

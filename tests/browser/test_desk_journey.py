"""The manager of the demo SME's cluster finds its pending application on the desk and
approves it; the SME sees "approved"; a manager of another cluster finds nothing of it,
neither on the desk nor at its address."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp import access, demo
from webapp.extensions import db
from webapp.models import Registration, RegistrationStatus, User
from webapp.services import accounts

from .conftest import AccessibilityCheck, LiveServer, sign_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Pending:
    registration_id: int
    event_title: str
    sme_email: str
    sme_name: str
    manager_email: str
    other_manager_email: str


@pytest.fixture(scope="module")
def pending(live_server: LiveServer) -> Pending:
    """The demo SME's undecided application, its cluster's manager, and a manager who may
    not see it (checked with the policy, so the journey tests what it means to)."""
    with live_server.app.app_context():
        sme = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
        reg = db.session.scalars(
            select(Registration)
            .where(Registration.user_id == sme.id,
                   Registration.status == RegistrationStatus.SUBMITTED)
            .options(joinedload(Registration.event))
        ).first()
        assert reg is not None, "the demo SME should have a pending application"
        manager = db.session.scalar(select(User).where(User.email == demo.AALBORG.manager_email))
        assert access.can(manager, "registration.decide", reg)
        # Another cluster's manager whose partner does not organize the event either.
        others = db.session.scalars(select(User).where(User.email.in_(
            [c.manager_email for c in demo.CLUSTER_BY_KEY.values()]))).all()
        other = next((u for u in others if access.can(u, "desk.use")
                      and not access.can(u, "registration.view", reg)), None)
        assert other is not None, "every demo manager may see the SME's application"
        if not accounts.authenticate(other.email, demo.DEMO_PASSWORD):
            # Only the showcased demo accounts have the demo password.
            other.password_hash = accounts.hash_password(demo.DEMO_PASSWORD)
            db.session.commit()
        return Pending(reg.id, reg.event.title, sme.email, sme.name, manager.email, other.email)


def sign_out(page: Page, check: AccessibilityCheck) -> None:
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "button", name="Sign out").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    check()


def search_desk(page: Page, check: AccessibilityCheck, text: str) -> None:
    # The Desk link's name also says how many applications are new ("Desk 3 new ...").
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name=re.compile(r"^Desk\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Desk")
    check()
    page.get_by_label("Name or company").fill(text)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"/desk/\?"))
    check()


def test_manager_approves_the_sme_which_sees_it_and_another_cluster_sees_nothing(
    page: Page, assert_accessible: AccessibilityCheck, pending: Pending
):
    sign_in(page, assert_accessible, pending.manager_email)
    search_desk(page, assert_accessible, pending.sme_name)
    row = page.locator(f'tr[data-registration="{pending.registration_id}"]')
    expect(row).to_contain_text(pending.event_title)
    row.get_by_role("link", name=pending.sme_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(pending.sme_name)
    assert_accessible()
    page.get_by_role("button", name="Approve", exact=True).click()
    approved = page.get_by_role("alert").filter(has_text="The application is approved.")
    expect(approved).to_be_visible()
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status", "approved")
    assert_accessible()
    sign_out(page, assert_accessible)

    sign_in(page, assert_accessible, pending.sme_email)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="My registrations", exact=True).click()
    assert_accessible()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=pending.event_title, exact=True))
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "approved")
    sign_out(page, assert_accessible)

    sign_in(page, assert_accessible, pending.other_manager_email)
    search_desk(page, assert_accessible, pending.sme_name)
    expect(page.locator(f'tr[data-registration="{pending.registration_id}"]')).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(pending.sme_name)
    response = page.goto(f"/desk/registrations/{pending.registration_id}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text(pending.event_title)
    assert_accessible()
    sign_out(page, assert_accessible)

    # The mission's beachhead host: the delegation list now holds the SME, and the
    # brochure, built in the background, downloads as a PDF that names its company.
    host = next(a for a in demo.DEMO_ACCOUNTS if a.email.startswith("host.ipi@"))
    sign_in(page, assert_accessible, host.email)
    page.goto("/events")
    assert_accessible()
    page.get_by_role("link", name=pending.event_title, exact=True).click()
    assert_accessible()
    page.get_by_role("link", name="Delegation list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delegation")
    expect(page.locator("main")).to_contain_text(pending.sme_name)
    assert_accessible()
    # Built in the background: the button starts it, its page offers the file once ready.
    page.get_by_test_id("brochure").click()
    assert_accessible()
    page.get_by_test_id("build-file").click()
    expect(page.get_by_test_id("download-status")).to_contain_text("ready", timeout=60_000)
    assert_accessible()
    with page.expect_download() as download_info:
        page.get_by_test_id("download-file").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert pending.sme_name in text

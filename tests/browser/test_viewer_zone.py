"""A manager in Copenhagen whose account has no zone yet signs in: the first page reports
the browser's zone, the account keeps it, and from then on the desk shows when people
applied in Copenhagen time, named as people there know it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.localtime import format_timestamp
from webapp.models import Registration, RegistrationStatus, User

from .conftest import AccessibilityCheck, LiveServer, sign_in

pytestmark = pytest.mark.browser

COPENHAGEN = "Europe/Copenhagen"


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "timezone_id": COPENHAGEN}


@dataclass(frozen=True)
class Application:
    registration_id: int
    applicant: str
    manager_email: str
    applied_in_copenhagen: str  # as the desk should show it


def _zone_of(live_server: LiveServer, email: str) -> str | None:
    with live_server.app.app_context():
        zone = db.session.scalar(select(User.timezone).where(User.email == email))
        db.session.remove()
        return zone


@pytest.fixture(scope="module")
def application(live_server: LiveServer) -> Application:
    """The demo SME's undecided application and the manager who decides it, whose
    account (like every demo account) leaves the zone to the browser."""
    with live_server.app.app_context():
        sme = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
        reg = db.session.scalars(select(Registration).where(
            Registration.user_id == sme.id,
            Registration.status == RegistrationStatus.SUBMITTED)).first()
        assert reg is not None, "the demo SME should have a pending application"
        with live_server.app.test_request_context():
            shown = format_timestamp(reg.applied_at, COPENHAGEN)
        found = Application(reg.id, sme.name, demo.AALBORG.manager_email, shown)
        db.session.remove()
    assert _zone_of(live_server, found.manager_email) is None
    return found


def test_a_manager_without_a_zone_gets_the_browsers_and_reads_desk_times_in_it(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer,
    application: Application,
):
    # The first page after signing in reports the browser's zone, once.
    with page.expect_response(lambda r: r.url.endswith("/account/timezone")) as reported:
        sign_in(page, assert_accessible, application.manager_email)
    # The answer is a signed-in user's, so no cache keeps it (and the browser's tools
    # cannot read a body that is not stored: the account is what tells).
    assert reported.value.status == 200
    assert reported.value.headers["cache-control"] == "private, no-store"
    assert _zone_of(live_server, application.manager_email) == COPENHAGEN

    page.goto(f"/desk/?q={application.applicant}")
    row = page.locator(f'tr[data-registration="{application.registration_id}"]')
    applied = row.locator("time")
    expect(applied).to_have_text(application.applied_in_copenhagen)
    expect(applied).to_contain_text(re.compile(r"\(CES?T\)"))
    # Known now: the page no longer asks the browser.
    expect(page.locator("script[data-zone-url]")).to_have_count(0)
    assert_accessible()

    page.goto(f"/desk/registrations/{application.registration_id}")
    history = page.get_by_role("list", name="History").locator("time").first
    expect(history).to_contain_text(re.compile(r"\(CES?T\)"))
    assert_accessible()

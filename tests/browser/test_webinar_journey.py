"""Webinars from New York: the browser runs in America/New_York while the demo's webinars
are given from Brussels. A member registers and opens their personal join link before it
opens: the countdown and the start are in their own time. A visitor registers quickly
with name, email, organization and country, confirms from the mail, and their join link
counts down the same way. The page's clock is Playwright's, moved by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.localtime import format_instant
from webapp.models import Event, EventKind, Organization, User, utcnow
from webapp.services import accounts
from webapp.services.join import OPENS_BEFORE

from .conftest import AccessibilityCheck, Inbox, LiveServer
from .test_desk_journey import sign_in

pytestmark = pytest.mark.browser

NEW_YORK = "America/New_York"
# The viewer's own time, named as English readers know New York's zone.
EASTERN_TIME = re.compile(r"on \w{3} \d{1,2} \w{3} your time \(E[SD]T\)")
MEMBER_EMAIL = "nora@hudson-grid.example"
VISITOR_EMAIL = "visitor@brooklyn-sensors.example"


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "timezone_id": NEW_YORK}


@dataclass(frozen=True)
class Webinar:
    title: str
    slug: str
    starts_at: datetime
    opens_at: datetime  # when its join links open
    start_new_york: str  # the start as the countdown page shows it in New York
    start_brussels: str


def _webinar(live_server: LiveServer, title_start: str) -> Webinar:
    with live_server.app.app_context():
        event = db.session.scalar(select(Event).where(
            Event.kind == EventKind.WEBINAR, Event.starts_at > utcnow(),
            Event.title.startswith(title_start)))
        assert event is not None and event.timezone == "Europe/Brussels"
        with live_server.app.test_request_context():
            shown = (format_instant(event.starts_at, NEW_YORK),
                     format_instant(event.starts_at, event.timezone))
        return Webinar(event.title, event.slug, event.starts_at,
                       event.starts_at - OPENS_BEFORE, *shown)


@pytest.fixture(scope="module")
def member(live_server: LiveServer) -> str:
    """A verified member who signed up from New York (their profile's zone)."""
    with live_server.app.app_context():
        organization = Organization(name="Hudson Grid Analytics", country="US", size="small")
        user = accounts.create_user(MEMBER_EMAIL, "Nora Hudson", demo.DEMO_PASSWORD,
                                    organization=organization)
        user.timezone = NEW_YORK
        db.session.commit()
        return user.name


def _check_countdown(page: Page, webinar: Webinar) -> None:
    """Before the window: the start in the event's zone and in New York, and a countdown
    that runs on the page's clock until the link opens."""
    expect(page.get_by_test_id("join-not-yet")).to_contain_text("It has not started yet.")
    expect(page.get_by_test_id("start-event-zone")).to_have_text(webinar.start_brussels)
    expect(page.get_by_test_id("start-your-zone")).to_have_text(webinar.start_new_york)
    assert "New York" in webinar.start_new_york and "Brussels" in webinar.start_brussels
    countdown = page.locator("[data-countdown-to]")
    expect(countdown).to_have_text("Opens in 1 d 02:00:00")
    page.clock.run_for(1000)
    expect(countdown).to_have_text("Opens in 1 d 01:59:59")
    page.clock.run_for((26 * 3600 - 2) * 1000)
    expect(countdown).to_have_text("Opens in 00:00:01")
    page.clock.run_for(1000)
    expect(countdown).to_have_text("The meeting is open: reload this page to join.")


def _open_join_link(page: Page, path: str, webinar: Webinar) -> None:
    # The page's clock stands 26 hours before the link opens, and moves only when told.
    page.clock.install(time=webinar.opens_at - timedelta(hours=26))
    page.clock.pause_at(webinar.opens_at - timedelta(hours=26))
    page.goto(path)


def check_with_the_clock_running(page: Page, assert_accessible: AccessibilityCheck) -> None:
    """axe-core waits on timers, which a paused clock never fires."""
    page.clock.resume()
    assert_accessible()


def test_a_member_in_new_york_registers_and_sees_the_countdown_in_their_own_time(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer, member: str
):
    webinar = _webinar(live_server, "Webinar: doing business in Singapore")
    sign_in(page, assert_accessible, MEMBER_EMAIL)
    expect(page.get_by_test_id("current-user")).to_have_text(member)

    page.goto(f"/events/{webinar.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(webinar.title)
    # Members apply as usual: no quick form for them.
    expect(page.get_by_test_id("quick-form")).to_have_count(0)
    expect(page.get_by_test_id("your-time").first).to_contain_text(EASTERN_TIME)
    assert_accessible()
    page.get_by_test_id("apply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply: {webinar.title}")
    assert_accessible()
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("alert").filter(has_text="You are registered")).to_be_visible()
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status",
                                                                       "approved")
    assert_accessible()

    link = page.get_by_test_id("join-link").get_attribute("href")
    _open_join_link(page, urlsplit(link).path, webinar)
    _check_countdown(page, webinar)
    check_with_the_clock_running(page, assert_accessible)


def test_a_visitor_registers_quickly_confirms_from_the_mail_and_gets_a_join_link(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer, inbox: Inbox
):
    webinar = _webinar(live_server, "Webinar: meet the Boston and New York beachheads")
    page.goto(f"/events/{webinar.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(webinar.title)
    assert_accessible()

    form = page.get_by_test_id("quick-form")
    # Sent incomplete, the form explains and nothing is mailed.
    form.get_by_role("button", name="Register").click()
    summary = page.get_by_role("alert").filter(has_text="Please correct the following")
    expect(summary).to_contain_text("Please accept the privacy notice")
    expect(page.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")
    assert_accessible()

    page.get_by_label("Your name").fill("Vic Visitor")
    page.get_by_label("Email", exact=True).fill(VISITOR_EMAIL)
    page.get_by_label("Organization").fill("Brooklyn Sensors")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("I have read the privacy notice and agree to it").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert_accessible()

    mail = inbox.wait_for(VISITOR_EMAIL, subject="Confirm your registration")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert EASTERN_TIME.search(text), text
    link = re.search(r"https?://\S+/register/\S+", text)
    assert link, text
    page.goto(urlsplit(link.group(0)).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your registration")
    expect(page.locator("main")).to_contain_text("Brooklyn Sensors (United States)")
    assert_accessible()
    page.get_by_role("button", name="Confirm my registration").click()
    expect(page.get_by_role("alert").filter(has_text="You are registered for")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_text("Vic Visitor")
    assert_accessible()
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == VISITOR_EMAIL))
        # The browser's zone, sent by the form: the join page shows New York time.
        assert user.timezone == NEW_YORK and user.password_hash is None

    confirmation = inbox.wait_for(VISITOR_EMAIL, subject="You're registered")
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    join = re.search(r"https?://\S+/join/\S+", text)
    assert join, text
    _open_join_link(page, urlsplit(join.group(0)).path, webinar)
    _check_countdown(page, webinar)
    check_with_the_clock_running(page, assert_accessible)

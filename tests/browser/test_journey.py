"""A visitor finds the Singapore mission and reads its agenda in Singapore time; the demo SME
signs in, finds their application, and signs out again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp import demo
from webapp.extensions import db
from webapp.models import Event, EventKind, EventStatus, Registration, User, utcnow

from .conftest import AccessibilityCheck, LiveServer

pytestmark = pytest.mark.browser

SME_EMAIL = "sme@demo.smartcitytech.eu"
SINGAPORE = ZoneInfo("Asia/Singapore")
WRONG_CREDENTIALS = "The email or password is not right."


def singapore_start(at: datetime) -> str:
    """The start of a session as the site writes it in Singapore time: "Tue 9 Jul 2019, 09:00".

    Computed here with zoneinfo alone, not with the app's formatting code it checks."""
    local = at.astimezone(SINGAPORE)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


@dataclass(frozen=True)
class Mission:
    title: str
    slug: str
    first_item_title: str
    first_item_starts_at: datetime


@dataclass(frozen=True)
class Application:
    event_title: str
    status: str


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    applications: tuple[Application, ...]


@pytest.fixture(scope="module")
def singapore_mission(live_server: LiveServer) -> Mission:
    """The next outbound mission to Singapore, as the database has it."""
    with live_server.app.app_context():
        event = db.session.scalars(
            select(Event)
            .where(
                Event.kind == EventKind.OUTBOUND_MISSION,
                Event.target_country == "SG",
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > utcnow(),
            )
            .order_by(Event.starts_at)
        ).first()
        assert event is not None, "the demo data has no upcoming outbound mission to Singapore"
        assert event.timezone == "Asia/Singapore"
        assert event.agenda, f"{event.title} has no agenda"
        first = event.agenda[0]
        assert not first.all_day, "the mission's agenda should open with a timed session"
        return Mission(event.title, event.slug, first.title, first.starts_at)


@pytest.fixture(scope="module")
def sme(live_server: LiveServer) -> Member:
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == SME_EMAIL))
        assert user is not None, f"the demo data has no {SME_EMAIL}"
        regs = db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id)
            .options(joinedload(Registration.event))
        ).all()
        assert regs, "the demo SME has no application"
        applications = tuple(Application(r.event.title, r.status.value) for r in regs)
        return Member(user.email, user.name, applications)


def navigation(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main navigation")


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_visitor_sees_singapore_agenda_then_sme_signs_in(
    page: Page, assert_accessible: AccessibilityCheck, singapore_mission: Mission, sme: Member
):
    mission = singapore_mission
    page.goto("/")
    assert_accessible()

    missions = page.get_by_role("region", name="Upcoming missions")
    missions.get_by_role("link", name=mission.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    assert_accessible()
    expect(page.locator("main")).to_contain_text(re.compile(r"\d{2}:\d{2} \(Singapore, UTC\+8\)"))
    first_item = page.get_by_test_id("agenda-item").first
    expect(first_item).to_contain_text(mission.first_item_title)
    first_time = first_item.locator("time")
    expect(first_time).to_have_attribute("datetime", mission.first_item_starts_at.isoformat())
    expect(first_time).to_contain_text(
        re.compile("^" + re.escape(singapore_start(mission.first_item_starts_at)) + r"\b")
    )

    navigation(page).get_by_role("link", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible()
    sign_in(page, sme.email, demo.DEMO_PASSWORD)
    expect(page.get_by_test_id("current-user")).to_have_text(sme.name)
    # Signing in returns to the page the visitor came from.
    expect(page).to_have_url(re.compile(rf"/events/{re.escape(mission.slug)}$"))
    assert_accessible()

    navigation(page).get_by_role("link", name="My registrations", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My registrations")
    assert_accessible()
    assert mission.title in {a.event_title for a in sme.applications}, (
        "the demo SME should have applied to the Singapore mission"
    )
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(1 + len(sme.applications))
    for application in sme.applications:
        row = page.get_by_role("row").filter(
            has=page.get_by_role("link", name=application.event_title, exact=True)
        )
        expect(row.locator("[data-status]")).to_have_attribute("data-status", application.status)


def test_wrong_password_is_explained_beside_the_field_and_in_the_summary_and_sign_out_works(
    page: Page, assert_accessible: AccessibilityCheck, sme: Member
):
    page.goto("/login")
    assert_accessible()
    sign_in(page, sme.email, "not the password at all")

    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(WRONG_CREDENTIALS)
    expect(page.locator("#password-error")).to_be_visible()
    summary = page.get_by_role("alert").filter(has_text="Please correct the following")
    expect(summary).to_contain_text(WRONG_CREDENTIALS)
    expect(summary.get_by_role("link", name="Password")).to_have_attribute("href", "#password")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    assert_accessible()

    sign_in(page, sme.email, demo.DEMO_PASSWORD)
    expect(page.get_by_test_id("current-user")).to_have_text(sme.name)
    assert_accessible()

    navigation(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert").filter(has_text="You have been signed out.")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    expect(navigation(page).get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    assert_accessible()

    # The session is gone, not just hidden: a member page asks to sign in again.
    page.goto("/account/registrations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible()

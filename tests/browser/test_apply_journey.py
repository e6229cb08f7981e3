"""A new SME signs up with its organization, confirms its address from the mail it receives,
signs in, applies to the upcoming Singapore mission with answers, sees "submitted" and the
history, withdraws, and applies again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Event, EventKind, EventStatus, utcnow
from webapp.services import questions

from .conftest import (
    AccessibilityCheck,
    Inbox,
    LiveServer,
    Newcomer,
    confirm_and_sign_in,
    first_member_cluster,
    sign_up,
)

pytestmark = pytest.mark.browser

EMAIL = "founder@sensorium.example"
PASSWORD = "Harbour lights over Marina Bay 2027"
NAME = "Frida Founder"
COMPANY = "Sensorium Mobility"


@dataclass(frozen=True)
class Mission:
    title: str
    slug: str
    required: tuple[str, ...]  # labels of its required questions
    cluster: str  # a member cluster for the new company


@pytest.fixture(scope="module")
def mission(live_server: LiveServer) -> Mission:
    """The next outbound mission with registration open, given the default mission
    questions, as its organizers would with one button."""
    with live_server.app.app_context():
        now = utcnow()
        candidates = db.session.scalars(
            select(Event).where(Event.kind == EventKind.OUTBOUND_MISSION,
                                Event.status == EventStatus.PUBLISHED, Event.starts_at > now)
            .order_by(Event.starts_at)
        ).all()
        event = next((e for e in candidates if e.registration_is_open(now)), None)
        assert event is not None, "the demo data has no upcoming mission open for applications"
        if not event.questions:
            questions.add_mission_defaults(None, event)
        required = tuple(q.label for q in event.questions if q.required)
        assert required, "the mission should ask required questions"
        return Mission(event.title, event.slug, required, first_member_cluster())


def _answer_questions(page: Page, mission: Mission, suffix: str) -> None:
    for label in mission.required:
        page.get_by_label(label).fill(f"{label.rstrip('?')}: {suffix}")
    page.get_by_label("I agree to share my company's profile with the event's hosts").check()


def _history_statuses(page: Page) -> list[str]:
    items = page.get_by_role("list", name="History").get_by_role("listitem")
    return [item.locator("strong[data-status]").get_attribute("data-status")
            for item in items.all()]


def test_a_new_sme_signs_up_verifies_applies_withdraws_and_applies_again(
    page: Page, assert_accessible: AccessibilityCheck, inbox: Inbox, mission: Mission
):
    newcomer = Newcomer(NAME, EMAIL, PASSWORD, COMPANY, mission.cluster)
    sign_up(page, assert_accessible, newcomer)

    # The confirmation link arrives by mail; its page confirms on a button press.
    mail = inbox.wait_for(EMAIL)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/verify/\S+", text)
    assert link, text
    page.goto(urlsplit(link.group(0)).path)
    confirm_and_sign_in(page, assert_accessible, newcomer)

    page.goto(f"/events/{mission.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    assert_accessible()
    page.get_by_test_id("apply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply: {mission.title}")
    expect(page.get_by_test_id("company-profile")).to_contain_text(COMPANY)
    assert_accessible()

    # Submitting without the answers and the consent explains every problem.
    page.get_by_role("button", name="Submit my application").click()
    summary = page.get_by_role("alert").filter(has_text="Please correct the following")
    expect(summary).to_contain_text("This question needs an answer.")
    expect(summary).to_contain_text("Missions share your company profile")
    first = page.get_by_label(mission.required[0])
    expect(first).to_have_attribute("aria-invalid", "true")
    expect(first).to_have_accessible_description(re.compile("This question needs an answer."))
    assert_accessible()

    _answer_questions(page, mission, "first try")
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("alert").filter(
        has_text="Your application is submitted")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status",
                                                                       "submitted")
    expect(page.get_by_test_id("answers")).to_contain_text("first try")
    assert _history_statuses(page) == ["submitted"]
    assert_accessible()

    page.get_by_role("link", name="Withdraw my application").click()
    expect(page.get_by_test_id("consequences")).to_contain_text(
        "you may apply again while registration is open")
    assert_accessible()
    page.get_by_label("Reason (optional, shared with the organizers)").fill(
        "Our CTO cannot travel that week.")
    page.get_by_role("button", name="Withdraw my application").click()
    expect(page.get_by_role("alert").filter(
        has_text="Your application has been withdrawn")).to_be_visible()
    assert _history_statuses(page) == ["submitted", "withdrawn"]
    assert_accessible()

    page.get_by_role("link", name="Apply again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply: {mission.title}")
    # The earlier answers are there to start from.
    expect(page.get_by_label(mission.required[0])).to_have_value(re.compile("first try"))
    assert_accessible()
    _answer_questions(page, mission, "second try")
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("alert").filter(
        has_text="Your application is submitted")).to_be_visible()
    expect(page.get_by_test_id("answers")).to_contain_text("second try")
    assert _history_statuses(page) == ["submitted", "withdrawn", "submitted"]
    assert_accessible()

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="My registrations", exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=mission.title,
                                                               exact=True))
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "submitted")
    assert_accessible()

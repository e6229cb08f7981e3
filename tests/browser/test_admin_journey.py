"""The coordinator creates a mission to Singapore a few months ahead, gives it an agenda and
quotas, publishes it and signs out; a visitor then finds it and reads its agenda in
Singapore time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.models import Event, EventStatus, Partner, PartnerKind, User, utcnow

from .conftest import AccessibilityCheck, LiveServer

pytestmark = pytest.mark.browser

ADMIN_EMAIL = f"admin@{demo.DEMO_DOMAIN}"
SINGAPORE = ZoneInfo("Asia/Singapore")
TITLE = "Water-smart cities mission to Singapore"


@dataclass(frozen=True)
class AgendaItem:
    title: str
    kind: str
    day: date
    starts: str  # local "HH:MM"
    ends: str

    def local(self, hhmm: str) -> str:
        return f"{self.day.isoformat()}T{hhmm}"

    @property
    def starts_at(self) -> datetime:
        """The instant, computed here with zoneinfo alone, not with the app's code."""
        hour, minute = map(int, self.starts.split(":"))
        return datetime.combine(self.day, datetime.min.time()).replace(
            hour=hour, minute=minute, tzinfo=SINGAPORE).astimezone(UTC)

    @property
    def shown(self) -> str:
        """How the site writes the span in Singapore time: "Tue 9 Mar 2027, 10:00 – 12:00"."""
        return (f"{self.day:%a} {self.day.day} {self.day:%b %Y}, "
                f"{self.starts} – {self.ends} (Singapore, UTC+8)")


@dataclass(frozen=True)
class Journey:
    admin_name: str
    clusters: tuple[str, str]  # two member clusters: organizer and quota holders
    beachhead: str
    first_day: date
    agenda: tuple[AgendaItem, AgendaItem]


@pytest.fixture(scope="module")
def journey(live_server: LiveServer) -> Journey:
    with live_server.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert admin is not None, f"the demo data has no {ADMIN_EMAIL}"
        clusters = db.session.scalars(
            select(Partner).where(Partner.kind == PartnerKind.CLUSTER, Partner.is_member)
            .order_by(Partner.name).limit(2)
        ).all()
        beachhead = db.session.scalar(select(Partner).where(Partner.slug == "ipi-singapore"))
        assert len(clusters) == 2 and beachhead is not None
        assert db.session.scalar(select(Event.id).where(Event.title == TITLE)) is None
        names = (admin.name, (clusters[0].name, clusters[1].name), beachhead.name)
    # A Monday about four months ahead: the mission runs Monday to Thursday.
    start = (utcnow() + timedelta(days=120)).date()
    first_day = start + timedelta(days=(7 - start.weekday()) % 7)
    agenda = (
        AgendaItem("Welcome briefing at IPI", "Conference", first_day, "10:00", "12:00"),
        AgendaItem("Visit to the PUB water reclamation plant", "Visit",
                   first_day + timedelta(days=1), "14:00", "16:30"),
    )
    return Journey(names[0], names[1], names[2], first_day, agenda)


def navigation(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main navigation")


def form_with(page: Page, button: str) -> Locator:
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def test_admin_publishes_a_singapore_mission_and_a_visitor_reads_its_agenda(
    page: Page, assert_accessible: AccessibilityCheck, journey: Journey, live_server: LiveServer
):
    page.goto("/login")
    assert_accessible()
    page.get_by_label("Email", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("current-user")).to_have_text(journey.admin_name)
    assert_accessible()

    navigation(page).get_by_role("link", name="Administration", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible()
    page.get_by_role("link", name="New event", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New event")
    assert_accessible()

    last_day = journey.first_day + timedelta(days=3)
    page.get_by_label("Kind", exact=True).select_option(label="Outbound mission")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Summary", exact=True).fill("Meet Singapore's water agencies and SMEs.")
    page.get_by_label("Target country", exact=True).select_option(label="Singapore")
    page.get_by_label("Target city", exact=True).fill("Singapore")
    page.get_by_label("Timezone", exact=True).select_option("Asia/Singapore")
    page.get_by_label("Starts (local time)", exact=True).fill(
        f"{journey.first_day.isoformat()}T09:00")
    page.get_by_label("Ends (local time)", exact=True).fill(f"{last_day.isoformat()}T18:00")
    page.get_by_label("Capacity (seats)", exact=True).fill("12")
    organizers = page.get_by_role("group", name="Organizing partners", exact=True)
    for cluster in journey.clusters:
        organizers.get_by_label(cluster, exact=True).check()
    page.get_by_role("group", name="Hosting beachheads", exact=True).get_by_label(
        journey.beachhead, exact=True).check()
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("[data-event-status]")).to_have_attribute("data-event-status", "draft")
    assert_accessible()

    for item in journey.agenda:
        form = form_with(page, "Add the session")
        form.get_by_label("Title", exact=True).fill(item.title)
        form.get_by_label("Kind", exact=True).select_option(label=item.kind)
        form.get_by_label("Starts (local time)", exact=True).fill(item.local(item.starts))
        form.get_by_label("Ends (local time)", exact=True).fill(item.local(item.ends))
        form.get_by_role("button", name="Add the session").click()
        expect(page.get_by_role("alert").filter(has_text="added to the agenda")).to_be_visible()
        assert_accessible()
    expect(page.get_by_test_id("admin-agenda-item")).to_have_count(2)

    quotas = form_with(page, "Save the quotas")
    quotas.get_by_label(journey.clusters[0], exact=True).fill("6")
    quotas.get_by_label(journey.clusters[1], exact=True).fill("4")
    quotas.get_by_role("button", name="Save the quotas").click()
    expect(page.get_by_role("alert").filter(has_text="quotas were saved")).to_be_visible()
    assert_accessible()

    page.get_by_test_id("status-actions").get_by_role("link", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish this event?")
    assert_accessible()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("[data-event-status]")).to_have_attribute(
        "data-event-status", "published")
    assert_accessible()

    navigation(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    assert_accessible()

    with live_server.app.app_context():
        event = db.session.scalar(select(Event).where(Event.title == TITLE))
        assert event.status == EventStatus.PUBLISHED
        assert event.starts_at == datetime.combine(
            journey.first_day, datetime.min.time()).replace(hour=1, tzinfo=UTC)
        assert sorted(q.seats for q in event.quotas) == [4, 6]

    # The visitor narrows the list to outbound missions to Singapore.
    navigation(page).get_by_role("link", name="Missions & events", exact=True).click()
    assert_accessible()
    page.get_by_label("Kind", exact=True).select_option(label="Outbound mission")
    page.get_by_label("Target region", exact=True).select_option(label="Singapore")
    page.get_by_role("button", name="Show events").click()
    assert_accessible()
    page.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_accessible()

    items = page.get_by_test_id("agenda-item")
    expect(items).to_have_count(2)
    for row, item in zip(items.all(), journey.agenda, strict=True):
        expect(row).to_contain_text(item.title)
        time = row.locator("time")
        expect(time).to_have_attribute("datetime", item.starts_at.isoformat())
        expect(time).to_have_text(re.compile("^" + re.escape(item.shown) + "$"))

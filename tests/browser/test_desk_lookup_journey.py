"""The desk's event filter is a look-up field: a manager types part of an event's title,
picks it from the matches with the keyboard and sees that event's applications only; with
JavaScript off, typing the title and submitting filters the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.models import Event, Registration, User
from webapp.services import desk

from .conftest import AccessibilityCheck, LiveServer, sign_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Chosen:
    manager_email: str
    event_id: int
    title: str
    applications: int  # in the manager's desk, for that event


@pytest.fixture(scope="module")
def chosen(live_server: LiveServer) -> Chosen:
    """A demo manager and the event with the most applications in their desk."""
    with live_server.app.app_context():
        manager = db.session.scalar(select(User).where(User.email == demo.AALBORG.manager_email))
        rows = db.session.scalars(desk.applications(manager, desk.DeskFilters())).all()
        counts: dict[int, int] = {}
        for reg in rows:
            counts[reg.event_id] = counts.get(reg.event_id, 0) + 1
        event_id = max(counts, key=counts.get)
        assert len(counts) > 1, "the manager's desk should span several events"
        event = db.session.get(Event, event_id)
        return Chosen(manager.email, event_id, event.title, counts[event_id])


def _rows_are_the_events(page: Page, chosen: Chosen) -> None:
    rows = page.locator("tr[data-registration]")
    expect(rows.first).to_be_visible()
    assert rows.count() == min(chosen.applications, 25)
    for text in rows.locator("td:nth-child(5)").all_inner_texts():
        assert text.strip() == chosen.title


def test_manager_picks_an_event_with_the_keyboard(
    page: Page, assert_accessible: AccessibilityCheck, chosen: Chosen
):
    sign_in(page, assert_accessible, chosen.manager_email)
    page.goto("/desk/")
    assert_accessible()
    field = page.get_by_role("combobox", name="Event")
    expect(field).to_have_attribute("aria-expanded", "false")
    words = chosen.title.split()
    field.press_sequentially(" ".join(words[:2]), delay=30)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    labels = [options.nth(i).get_attribute("data-label") for i in range(options.count())]
    assert chosen.title in labels and len(labels) <= 20
    for _ in range(labels.index(chosen.title) + 1):
        field.press("ArrowDown")
    active = field.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_have_attribute("data-label", chosen.title)
    assert_accessible()
    field.press("Enter")  # chooses the match; the form is not sent yet
    expect(field).to_have_value(chosen.title)
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(page.locator('input[type="hidden"][name="event"]')).to_have_value(
        str(chosen.event_id))
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(rf"[?&]event={chosen.event_id}\b"))
    _rows_are_the_events(page, chosen)
    expect(page.get_by_role("combobox", name="Event")).to_have_value(chosen.title)
    assert_accessible()
    # Escape closes the matches without choosing.
    field = page.get_by_role("combobox", name="Event")
    field.fill("")
    field.press_sequentially(words[0][:4], delay=30)
    expect(page.get_by_role("listbox")).to_be_visible()
    field.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(page.locator('input[type="hidden"][name="event"]')).to_have_value("")


def test_without_javascript_the_typed_title_filters(
    browser: Browser, live_server: LiveServer, chosen: Chosen
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(chosen.manager_email)
        page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.goto("/desk/")
        field = page.get_by_label("Event", exact=True)
        expect(field).not_to_have_attribute("role", "combobox")
        field.fill(chosen.title)
        page.get_by_role("button", name="Show", exact=True).click()
        expect(page).to_have_url(re.compile(r"event_q="))
        _rows_are_the_events(page, chosen)
        # The server chose the event: its id now travels with the field.
        expect(page.locator('input[type="hidden"][name="event"]')).to_have_value(
            str(chosen.event_id))
    finally:
        context.close()
    assert Registration  # the desk's rows are registrations of that event

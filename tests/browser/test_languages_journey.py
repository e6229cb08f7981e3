"""Each role's main pages in French and in Greek, the language chosen once by the browser's
Accept-Language and once with the switcher: the page's `lang`, known phrases as the
catalogue translates them, and dates as the language writes them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from webapp import demo, languages
from webapp.extensions import db
from webapp.models import Event, EventStatus, User, utcnow

from .conftest import VIEWPORT, LiveServer

pytestmark = pytest.mark.browser

ROLES = {
    "sme": (demo.DEMO_SME.email, "/account/registrations", "My registrations"),
    "manager": (demo.AALBORG.manager_email, "/desk/", "Desk"),
    "host": ("host.ipi@" + demo.DEMO_DOMAIN, "/desk/", "Desk"),
    "admin": (demo.ADMIN.email, "/admin/events", "Outcomes"),
}


def _translated(server: LiveServer, language: str, message: str) -> str:
    with server.app.test_request_context(), force_locale(language):
        translated = gettext(message)
    assert translated != message, f"{message!r} has no {language} translation"
    return translated


def _context(browser: Browser, server: LiveServer, language: str | None):
    options = {"base_url": server.url, "viewport": VIEWPORT}
    if language is not None:
        # Chromium's Accept-Language follows the context's locale.
        options["locale"] = {"fr": "fr-FR", "el": "el-GR", "pl": "pl-PL",
                             "pt_PT": "pt-PT"}[language]
    return browser.new_context(**options)


def _switch(page: Page, language: str) -> None:
    page.get_by_test_id("language-switcher").click()
    page.get_by_test_id("language-choices").locator(
        f'[lang="{languages.tag(language)}"]').click()


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo.DEMO_PASSWORD)
    page.locator("form:has(#password) [type=submit]").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def _first_upcoming(server: LiveServer):
    with server.app.app_context():
        # The catalogue's first card: the next published event still to end.
        event = db.session.scalars(
            select(Event).where(Event.status == EventStatus.PUBLISHED,
                                Event.ends_at > utcnow())
            .order_by(Event.starts_at, Event.id)).first()
        found = event.starts_at, event.timezone
        db.session.remove()
    return found


@pytest.mark.parametrize("chooser", ["browser", "switcher"])
@pytest.mark.parametrize("language", ["fr", "el", "pl", "pt_PT"])
def test_every_roles_pages_in_the_chosen_language(browser: Browser, live_server: LiveServer,
                                                  language, chooser):
    context = _context(browser, live_server, language if chooser == "browser" else None)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/events")
        if chooser == "switcher":
            expect(page.locator("html")).to_have_attribute("lang", "en")
            _switch(page, language)
            expect(page).to_have_url(f"{live_server.url}/events")
        expect(page.locator("html")).to_have_attribute("lang", languages.tag(language))
        expect(page.get_by_role("navigation").first).to_contain_text(
            _translated(live_server, language, "Missions & events"))
        # A date as the language writes it, computed here with Babel from the data.
        starts_at, zone = _first_upcoming(live_server)
        day = format_datetime(starts_at, "EEE d MMM y", tzinfo=ZoneInfo(zone), locale=language)
        expect(page.locator("main")).to_contain_text(day)

        for role, (email, path, heading) in ROLES.items():
            _sign_in(page, email)
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", languages.tag(language))
            expect(page.get_by_role("navigation").first).to_contain_text(
                _translated(live_server, language, heading))
            expect(page.get_by_role("navigation").first).not_to_contain_text(heading)
            page.locator("form[action='/logout'] [type=submit]").click()
            expect(page.get_by_test_id("current-user")).to_have_count(0), role
    finally:
        context.close()


def test_a_signed_in_switch_follows_the_person_to_another_browser(browser: Browser,
                                                                  live_server: LiveServer):
    email = demo.DEMO_SME.email
    first = _context(browser, live_server, None)
    second = _context(browser, live_server, None)
    try:
        page = first.new_page()
        _sign_in(page, email)
        page.goto("/account/registrations")
        _switch(page, "el")
        expect(page).to_have_url(f"{live_server.url}/account/registrations")
        expect(page.locator("html")).to_have_attribute("lang", "el")
        other = second.new_page()
        _sign_in(other, email)
        other.goto("/account/registrations")
        expect(other.locator("html")).to_have_attribute("lang", "el")
        # Back to English, chosen the same way.
        _switch(other, "en")
        expect(other.locator("html")).to_have_attribute("lang", "en")
    finally:
        first.close()
        second.close()
        with live_server.app.app_context():
            person = db.session.scalar(select(User).where(User.email == email))
            person.locale = None
            db.session.commit()
            db.session.remove()

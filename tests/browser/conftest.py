"""A live server with the demo data, Debian's Chromium for pytest-playwright, and axe-core.

The live app runs on its own SQLite file, never on the session database of
tests/conftest.py: the browser talks to it over HTTP from another thread, so its data must
be committed, and what the browser sees does not depend on the database kind under test.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.serving import make_server

from tests.live import loopback_smtp
from webapp import access, create_app, demo
from webapp.extensions import db
from webapp.models import (
    Event,
    Organization,
    Partner,
    PartnerKind,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from webapp.services.badges import printed_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
# Every violation of a WCAG 2.1 A or AA rule fails, whatever its impact; axe's other rules
# (best practices) fail when serious or critical.
WCAG_TAGS = frozenset({"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"})
BLOCKING_IMPACTS = ("serious", "critical")


def missing_chromium_message(path: Path) -> str:
    if os.environ.get("CI"):
        return (
            f"Browser tests run in CI and need Debian's Chromium at {path}, which is missing: "
            "add `apt-get install -y chromium` to the CI image (Playwright's own browser "
            "download does not work on these machines)."
        )
    return (
        f"Browser tests need Debian's Chromium at {path}. Install it with "
        "`sudo apt-get update && sudo apt-get install -y chromium` (about 600 MB; "
        "Playwright's own browser download does not work here), or leave these tests out with "
        "-m 'not browser'."
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # A missing browser fails the run, never skips it: a skipped browser suite looks green.
    if not CHROMIUM.exists():
        pytest.fail(missing_chromium_message(CHROMIUM), pytrace=False)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, migrated and loaded once per run into a SQLite file that no server uses:
    each module's live server starts from a copy of it."""
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    with app.app_context():
        upgrade()
        demo.load()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return database


def copy_database(source: Path, target: Path) -> None:
    """`source` copied to `target` through SQLite's backup API, which reads a database in
    WAL mode whole, as a file copy might not."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as copy:
        reading.backup(copy)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory,
                demo_database: Path) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "browser.db"
    copy_database(demo_database, database)
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        # SQLite in WAL mode leaves -wal and -shm files beside the database.
        for path in folder.glob(f"{database.name}*"):
            path.unlink()
        folder.rmdir()


class Inbox:
    """What the loopback SMTP server the live app sends to has received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, address: str, timeout: float = 10.0, *, subject: str = ""):
        """The newest mail to `address` (whose subject starts with `subject`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages
                     if address in m["To"] and m["Subject"].startswith(subject)]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address} within {timeout} s")


@pytest.fixture(scope="module")
def inbox(live_server: LiveServer) -> Iterator[Inbox]:
    """A real SMTP server on loopback that the live app sends its mail to."""
    box = Inbox()
    config = live_server.app.config
    previous = config["MAIL_SERVER"], config["MAIL_PORT"]
    with loopback_smtp(box) as port:
        config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        try:
            yield box
        finally:
            config["MAIL_SERVER"], config["MAIL_PORT"] = previous


@pytest.fixture(scope="session")
def base_url() -> None:
    """No session-wide URL: each module's live server sets it in `browser_context_args`.
    This also replaces pytest-playwright's fallback `base_url`, a fixture method that
    pytest 9 warns about and pytest 10 refuses."""
    return None


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict, live_server: LiveServer) -> dict:
    return {**browser_context_args, "base_url": live_server.url, "viewport": VIEWPORT}


@pytest.fixture
def page(page: Page) -> Page:
    # A local server answers in milliseconds: fail fast instead of after Playwright's 30 s.
    page.set_default_timeout(10_000)
    return page


def blocking(violations: list[dict]) -> list[dict]:
    """The violations that fail a page: any of WCAG 2.1 A and AA, the others when serious
    or critical."""
    return [v for v in violations
            if WCAG_TAGS.intersection(v["tags"]) or v["impact"] in BLOCKING_IMPACTS]


def describe_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"\n  {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend(f"       {line}" for line in summary.splitlines())
    return "\n".join(lines)


# What axe-core's rules read of a page, without its words: each kind of element (its tag,
# classes, role, the ARIA and form attributes it has, its parent's tag, and for one that
# holds text of its own the colours, size and visibility that text is drawn with), the
# page's language, the order of its headings and landmarks, and the layout's breakpoint.
# Two pages alike in all of these get the same findings from axe.
MARKUP_KINDS = """() => {
  const named = ['role', 'type', 'lang', 'dir', 'tabindex', 'scope', 'alt', 'for', 'id',
    'href', 'disabled', 'required', 'hidden', 'style', 'title', 'name', 'autocomplete',
    'headers', 'src', 'value', 'placeholder', 'label', 'open', 'checked', 'selected'];
  const kept = (name) => name.startsWith('aria-') || named.includes(name);
  const valued = new Set(['role', 'type', 'lang', 'dir', 'tabindex', 'scope', 'style',
    'aria-hidden', 'aria-expanded', 'aria-current', 'autocomplete']);
  // What the contrast rule reads of text: its colour, the background it is drawn on (the
  // nearest box with one), its size and weight, and whether it is shown at all.
  const backgrounds = new Map();
  const background = (el) => {
    if (!el) return 'canvas';
    if (!backgrounds.has(el)) {
      const colour = getComputedStyle(el).backgroundColor;
      backgrounds.set(el, colour === 'rgba(0, 0, 0, 0)' || colour === 'transparent'
        ? background(el.parentElement) : colour);
    }
    return backgrounds.get(el);
  };
  const look = (el) => {
    const style = getComputedStyle(el);
    const shown = el.getClientRects().length > 0 && style.visibility !== 'hidden';
    return `${style.color}/${background(el)}/${style.fontSize}/${style.fontWeight}/` +
      `${style.opacity}/${shown}`;
  };
  const kinds = new Set();
  for (const el of document.querySelectorAll('*')) {
    const attrs = [...el.attributes].filter(a => kept(a.name))
      .map(a => valued.has(a.name) ? `${a.name}=${a.value}` : (a.value ? a.name : `${a.name}=`))
      .sort().join(' ');
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    kinds.add(`${el.parentElement ? el.parentElement.tagName : ''}>${el.tagName}` +
      `.${[...el.classList].sort().join('.')}[${attrs}]` + (text ? `T${look(el)}` : ''));
  }
  const order = [...document.querySelectorAll(
    'h1,h2,h3,h4,h5,h6,header,nav,main,footer,aside,form,[role]')]
    .map(el => el.getAttribute('role') || el.tagName).join(',');
  const width = window.innerWidth;
  const breakpoint = [576, 768, 992, 1200, 1400].filter(w => width >= w).length;
  return [document.documentElement.lang, breakpoint, order, ...[...kinds].sort()].join('\\n');
}"""


class AxeFindings:
    """axe-core's findings (those that fail a page: `blocking`), kept for the run: a page
    whose path and markup (`MARKUP_KINDS`) axe has already read, under another role, in
    another journey or after another visit, gets the findings of that reading."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.read: dict[tuple[str, str], list[dict]] = {}

    def __call__(self, page: Page) -> list[dict]:
        key = (re.sub(r"\d+", "#", urlsplit(page.url).path), page.evaluate(MARKUP_KINDS))
        if key not in self.read:
            self.read[key] = blocking(self.axe.run(page).response["violations"])
        return self.read[key]


@pytest.fixture(scope="session")
def axe_findings() -> AxeFindings:
    return AxeFindings()


@dataclass
class AccessibilityCheck:
    """Runs axe-core on the page in view. Every navigation must be checked before the next
    one, so a test cannot visit a page axe has not seen."""

    page: Page
    findings: AxeFindings = field(default_factory=AxeFindings)
    unchecked: str | None = None
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame != self.page.main_frame:
            return
        if self.unchecked is not None:
            self.skipped.append(self.unchecked)
        self.unchecked = frame.url

    def __call__(self) -> None:
        self.page.wait_for_load_state("load")
        self.unchecked = None
        found = self.findings(self.page)
        if found:
            pytest.fail(describe_violations(self.page.url, found), pytrace=False)

    def assert_every_page_checked(self) -> None:
        missed = [*self.skipped, *([self.unchecked] if self.unchecked else [])]
        if missed:
            pytest.fail(f"pages visited without an axe check: {missed}", pytrace=False)


@pytest.fixture
def assert_accessible(page: Page, request: pytest.FixtureRequest,
                      axe_findings: AxeFindings) -> Iterator[AccessibilityCheck]:
    """`assert_accessible()` after every navigation; at the end, no page went unchecked."""
    failures_before = request.session.testsfailed
    check = AccessibilityCheck(page, axe_findings)
    yield check
    if request.session.testsfailed == failures_before:
        check.assert_every_page_checked()


def sign_in(page: Page, check: AccessibilityCheck, email: str, path: str = "/login") -> None:
    """Sign in with the demo password on the sign-in page `path` leads to (a staff page
    sends visitors there), each page checked with axe-core."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login"))
    check()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    check()


def first_member_cluster() -> str:
    """The name of the member cluster a journey's newcomer joins: the first by name (in an
    app context)."""
    return db.session.scalar(
        select(Partner.name).where(Partner.kind == PartnerKind.CLUSTER, Partner.is_member)
        .order_by(Partner.name))


@dataclass(frozen=True)
class Newcomer:
    """Who signs up in a journey, with a new organization in a member cluster."""

    name: str
    email: str
    password: str
    company: str
    cluster: str


def sign_up(page: Page, check: AccessibilityCheck, who: Newcomer) -> None:
    """Create the account on the sign-up page, up to "Check your inbox"."""
    page.goto("/signup")
    check()
    page.get_by_label("Your name").fill(who.name)
    page.get_by_label("Email", exact=True).fill(who.email)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_label("Password, again").fill(who.password)
    page.get_by_label("Organization name").fill(who.company)
    page.get_by_label("Country").select_option("DK")
    page.get_by_label("Sector", exact=True).fill("Mobility")
    page.get_by_label("Size").select_option("small")
    page.get_by_label("Home cluster").select_option(label=who.cluster)
    page.get_by_label("I have read the privacy notice and agree to it").check()
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    check()


def confirm_and_sign_in(page: Page, check: AccessibilityCheck, who: Newcomer) -> None:
    """On the page of the confirmation link: confirm the address on a button press, then
    sign in on the page that leads to."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    check()
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("alert").filter(has_text="is confirmed")).to_be_visible()
    check()
    page.get_by_label("Email", exact=True).fill(who.email)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("current-user")).to_have_text(who.name)
    check()


# --------------------------------------------------------------------------- the door

@dataclass(frozen=True)
class Delegate:
    registration_id: int
    name: str
    organization: str
    cluster: str
    code: str  # as printed on the badge: "K7QM 2XPA 9RTE H3WD"


@dataclass(frozen=True)
class Door:
    event_id: int
    event_slug: str
    event_title: str
    staff_email: str
    staff_name: str
    typed: Delegate
    scanned: Delegate


def _delegate(registration: Registration) -> Delegate:
    organization = registration.user.organization
    return Delegate(registration.id, registration.user.name, organization.name,
                    organization.home_cluster.name, printed_code(registration.badge_code))


def open_door(live_server: LiveServer) -> Door:
    """The door of the next mission NECEC hosts: its host (who may check people in, by the
    policy) and two of its approved delegates with an organization and a cluster, one to
    type in and one to scan; its check-in opened today (CHECKIN_OPENS_BEFORE)."""
    host = next(a for a in demo.DEMO_ACCOUNTS if a.email.startswith("host.necec@"))
    with live_server.app.app_context():
        staff = db.session.scalar(select(User).where(User.email == host.email))
        upcoming = db.session.scalars(
            select(Event).where(Event.starts_at > utcnow()).order_by(Event.starts_at)).all()
        event = next(e for e in upcoming if access.can(staff, "event.checkin", e)
                     and e.slug.startswith("outbound-mission-usa-"))
        approved = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id,
                   Registration.status == RegistrationStatus.APPROVED)
            .options(joinedload(Registration.user).joinedload(User.organization)
                     .joinedload(Organization.home_cluster))
            .order_by(Registration.id)).unique().all()
        people = [r for r in approved if r.user.organization
                  and r.user.organization.home_cluster]
        assert len(people) >= 2, "the demo's next USA mission should have two approved delegates"
        live_server.app.config["CHECKIN_OPENS_BEFORE"] = (event.starts_at - utcnow()
                                                          + timedelta(hours=1))
        return Door(event.id, event.slug, event.title, staff.email, staff.name,
                    _delegate(people[0]), _delegate(people[1]))

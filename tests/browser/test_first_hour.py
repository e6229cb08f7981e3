"""A newcomer's first hour, following only the README: `make run` on a port of their own
and a database of their own, no mail server. They sign up, read the confirmation in the
local mailbox (/dev/mail), confirm, apply to an open webinar; the demo SME forgets their
password and resets it the same way. Every link in those mails, their invitations and the
event's calendar files points at the address the app is served on; instance/ is never
touched. A mail's own script never runs in the mailbox."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from config import INSTANCE_DIR
from tests.processes import ROOT, free_port
from webapp import create_app, demo
from webapp.extensions import db
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

from .conftest import (
    VIEWPORT,
    AccessibilityCheck,
    Newcomer,
    confirm_and_sign_in,
    first_member_cluster,
    sign_up,
)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Ferries crossing the Øresund at dawn"
SME_EMAIL = "sme@demo.smartcitytech.eu"
# Settings of this machine's shell that a newcomer's would not have.
NOT_A_NEWCOMERS = ("TEST_", "BEACHHEAD_", "MAIL_", "FLASK_", "REDIS_URL", "BASE_URL",
                   "SERVER_NAME", "DATABASE_URL", "HOST", "PORT")
# A web or calendar address in a mail or an unfolded .ics (where `\,` and `\n` escape).
LINK = re.compile(r"(?:https?|webcal)://[^\s\"'<>\\]+")


@dataclass(frozen=True)
class Served:
    url: str
    database: str


def _instance_files() -> dict[str, tuple[int, int]]:
    if not INSTANCE_DIR.exists():
        return {}
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in INSTANCE_DIR.rglob("*")}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """`make` and the flask it started: the process group of our own start."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`make run PORT=<free port> DATABASE_URL=sqlite:///<temporary file>`, as the README
    says, until it answers; stopped at the end. `-o .venv/.runtime`: the suite runs in that
    environment already, so make must not install it again."""
    folder = tmp_path_factory.mktemp("first-hour")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{folder / 'first-hour.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_A_NEWCOMERS)}
    env.update(SECRET_KEY="first-hour-secret-0123456789abcdef0123",
               UPLOAD_FOLDER=str(folder / "uploads"), PYTHONUNBUFFERED="1")
    instance_before = _instance_files()
    log = folder / "make-run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "-o", ".venv/.runtime", "run", f"PORT={port}", f"DATABASE_URL={database}"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not serve {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        # It says where the mail goes, on the port it serves.
        assert f"{url}/dev/mail" in log.read_text(), log.read_text()
        yield Served(url, database)
    finally:
        _stop(process)
    assert _instance_files() == instance_before, "make run wrote into instance/"


@pytest.fixture(scope="module")
def browser_context_args(served: Served) -> dict:
    return {"base_url": served.url, "viewport": VIEWPORT, "accept_downloads": True}


@pytest.fixture(scope="module")
def beside(served: Served):
    """The served database opened from here, to read what a newcomer would pick (and to
    plant one mail), never through the server's own process."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=served.database, BASE_URL=served.url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def webinar(beside) -> tuple[str, str]:
    """(slug, title) of the next published webinar open for registration."""
    now = utcnow()
    events = db.session.scalars(
        select(Event).where(Event.kind == EventKind.WEBINAR, Event.status == EventStatus.PUBLISHED,
                            Event.starts_at > now).order_by(Event.starts_at)).all()
    event = next((e for e in events if e.registration_is_open(now)), None)
    assert event is not None, "the demo has no webinar open for registration"
    picked = event.slug, event.title
    db.session.rollback()  # no snapshot kept open beside the server's writes
    return picked


def _destinations(link: str, served: Served) -> list[str]:
    """Where a link leads: itself, or for a calendar service's "subscribe" link the
    addresses it hands that service (Google's `cid`, Outlook's `url`)."""
    if urlsplit(link).netloc == urlsplit(served.url).netloc:
        return [link]
    carried = [value for values in parse_qs(urlsplit(link).query).values() for value in values
               if LINK.fullmatch(value)]
    return carried or [link]


@pytest.fixture(scope="module")
def newcomer(beside) -> Newcomer:
    """Someone new, whose company joins the first member cluster on the list."""
    cluster = first_member_cluster()
    db.session.rollback()
    return Newcomer("Inês Harbour", "ines@harbourlight.example",
                    "Lanterns along the Nyhavn quay 2027", "Harbourlight Sensing", cluster)


def assert_served(links: list[str], served: Served, where: str) -> None:
    """Every link goes to the served address (webcal: the same host and port)."""
    expected = urlsplit(served.url)
    wrong = [link for link in links for destination in _destinations(link, served)
             if urlsplit(destination).netloc != expected.netloc
             or urlsplit(destination).scheme not in (expected.scheme, "webcal")]
    assert links, f"no links in {where}"
    assert wrong == [], f"links in {where} that do not point at {served.url}: {wrong}"


def calendar_links(ics: str) -> list[str]:
    unfolded = re.sub(r"\r?\n[ \t]", "", ics)
    return LINK.findall(unfolded)


def open_mail(page: Page, check: AccessibilityCheck, to: str, subject: str) -> None:
    """The newest mail to `to` whose subject says `subject`, from the mailbox's list."""
    page.goto("/dev/mail")
    expect(page.get_by_role("heading", level=1)).to_have_text("Local mailbox")
    check()
    row = page.get_by_test_id("mailbox").get_by_role("row").filter(has_text=to).filter(
        has_text=subject).first
    expect(row).to_contain_text("UTC")  # when it arrived, with the zone
    row.get_by_role("link").click()
    expect(page.get_by_test_id("mail-subject")).to_contain_text(subject)
    expect(page.get_by_test_id("mail-to")).to_have_text(to)
    check()


def links_of_open_mail(page: Page, served: Served) -> list[str]:
    """The links of the mail on screen as its reader sees them: in its text, in its HTML
    frame, and in its invitation file, downloaded."""
    links = page.get_by_test_id("mail-text").locator("a[href]").evaluate_all(
        "anchors => anchors.map(a => a.href)")
    if page.get_by_test_id("mail-html").count():
        links += page.frame_locator("[data-testid=mail-html]").locator("a[href]").evaluate_all(
            "anchors => anchors.map(a => a.href)")
    invitation = page.get_by_test_id("mail-files").get_by_role("link", name="invite.ics")
    if invitation.count():
        with page.expect_download() as download:
            invitation.click()
        assert download.value.suggested_filename == "invite.ics"
        links += calendar_links(Path(download.value.path()).read_text())
    return links


def test_a_newcomer_signs_up_confirms_from_the_local_mailbox_and_applies(
    page: Page, assert_accessible: AccessibilityCheck, served: Served,
    webinar: tuple[str, str], newcomer: Newcomer
):
    slug, title = webinar
    sign_up(page, assert_accessible, newcomer)

    open_mail(page, assert_accessible, newcomer.email, "Confirm your email address")
    links = links_of_open_mail(page, served)
    assert_served(links, served, "the confirmation mail")
    page.get_by_test_id("mail-text").locator('a[href*="/verify/"]').click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(served.url)}/verify/"))
    confirm_and_sign_in(page, assert_accessible, newcomer)

    page.goto(f"/events/{slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert_accessible()
    page.get_by_test_id("apply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply: {title}")
    assert_accessible()
    # A webinar is met online: nothing is shared with hosts, so no consent is asked.
    expect(page.get_by_label("I agree to share my company's profile with the event's hosts")
           ).to_have_count(0)
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("alert").filter(has_text="You are registered")).to_be_visible()
    assert_accessible()

    # The event's calendar files, as its page offers them.
    page.goto(f"/events/{slug}")
    assert_accessible()
    files = page.locator('main a[href*=".ics"]')
    hrefs = files.evaluate_all("anchors => anchors.map(a => a.href)")
    assert any(urlsplit(h).path == f"/events/{slug}.ics" for h in hrefs), hrefs
    assert_served(hrefs, served, "the event page's calendar links")
    with page.expect_download() as download:
        page.locator(f'main a[href$="/events/{slug}.ics"]').first.click()
    assert download.value.suggested_filename == f"{slug}.ics"
    event_file = Path(download.value.path()).read_text()
    assert event_file.startswith("BEGIN:VCALENDAR")
    calendar = calendar_links(event_file)
    for href in hrefs:
        if urlsplit(href).netloc == urlsplit(served.url).netloc:
            # A webcal:// subscription is fetched over http, as calendar apps do.
            response = page.request.get(re.sub(r"^webcal:", "http:", href))
            assert response.ok and response.headers["content-type"].startswith("text/calendar")
            calendar += calendar_links(response.text())
    assert_served(calendar, served, "the event's .ics files")

    # The registration's mail: its HTML's links work from the mailbox's frame.
    open_mail(page, assert_accessible, newcomer.email, f"You're registered: {title}")
    links = links_of_open_mail(page, served)
    assert_served(links, served, "the registration's mail")
    assert any("/join/" in link for link in links), links  # the webinar's personal link
    frame = page.frame_locator("[data-testid=mail-html]")
    registration = frame.locator('a[href*="/account/registrations/"]').first
    target = registration.get_attribute("href")
    registration.click()
    expect(page).to_have_url(target)
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status",
                                                                       "approved")
    assert_accessible()


def test_the_demo_sme_resets_a_forgotten_password_from_the_local_mailbox(
    page: Page, assert_accessible: AccessibilityCheck, served: Served
):
    page.goto("/login")
    assert_accessible()
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_accessible()
    page.get_by_label("Email", exact=True).fill(SME_EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert_accessible()

    open_mail(page, assert_accessible, SME_EMAIL, "Reset your password")
    assert_served(links_of_open_mail(page, served), served, "the reset mail")
    page.get_by_test_id("mail-text").locator('a[href*="/reset/"]').click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(served.url)}/reset/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert_accessible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my new password").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    assert_accessible()

    page.get_by_role("button", name="Sign out").click()
    assert_accessible()
    page.goto("/login")
    assert_accessible()
    page.get_by_label("Email", exact=True).fill(SME_EMAIL)
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("The email or password is not right.", exact=True)).to_be_visible()
    assert_accessible()
    page.get_by_label("Email", exact=True).fill(SME_EMAIL)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    assert_accessible()


def test_a_mails_own_script_never_runs_in_the_local_mailbox(
    page: Page, assert_accessible: AccessibilityCheck, served: Served, beside
):
    """Mail templates escape what people write, so this takes a mail whose HTML carries
    a script anyway: the frame's sandbox and policy keep it from running, in the frame or
    in the app's window."""
    script = ("<script>document.body.dataset.ran = 'yes'; "
              "window.top.mailScriptRan = true;</script>")
    planted = OutboxMessage(
        to_address="curious@example.org", subject="A mail with a script",
        body_text="Look at the HTML.", status=OutboxStatus.SENT, sent_at=utcnow(),
        body_html=f"<html><head></head><body><p>Hello</p>{script}"
                  f'<img src="x" onerror="document.body.dataset.ran = \'yes\'"></body></html>')
    db.session.add(planted)
    db.session.commit()

    open_mail(page, assert_accessible, "curious@example.org", "A mail with a script")
    frame = page.frame_locator("[data-testid=mail-html]")
    expect(frame.get_by_text("Hello")).to_be_visible()
    expect(frame.locator("body")).not_to_have_attribute("data-ran", "yes")
    assert page.evaluate("window.mailScriptRan") is None

"""Keyboard-only journeys: signing up, applying, the desk's decision and the door's check-in
are done with Tab, Shift+Tab, Enter and Space alone, with text typed into the focused
field. Every step asserts where the focus is (the order it moves in), that the focused
element shows it (an outline or Bootstrap's focus ring), and that the step completes.

The pages are opened by address only at the start of each journey and from a mail's link;
everything else is the keyboard. A page without an autofocused field starts with the skip
link as its first Tab stop; a form sent back with errors starts on its error summary,
whose links lead to the fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp import access, demo
from webapp.extensions import db
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)

from .conftest import (
    AccessibilityCheck,
    Door,
    Inbox,
    LiveServer,
    Newcomer,
    first_member_cluster,
    open_door,
)

pytestmark = pytest.mark.browser

SKIP_LINK = "Skip to content"


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict) -> dict:
    # Bootstrap's focus ring is a box-shadow that fades in: without motion it is there at
    # once, so a focus indicator is judged as it looks, not halfway through its transition.
    return {**browser_context_args, "reduced_motion": "reduce"}


# --------------------------------------------------------------------------- the focus


@dataclass(frozen=True)
class Focused:
    """The element that has the focus, as a keyboard user meets it."""

    tag: str
    id: str
    type: str
    name: str  # its accessible name, near enough: aria-label, label, or text
    testid: str
    href: str
    checked: bool | None

    @property
    def key(self) -> str:
        """What a focus order names it by: its id, else its test id, else its name."""
        return self.id or self.testid or self.name


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const text = s => (s || "").replace(/\\s+/g, " ").trim();
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.getAttribute("aria-labelledby")) {
    name = el.getAttribute("aria-labelledby").split(/\\s+/)
      .map(id => document.getElementById(id)).filter(Boolean).map(n => n.textContent).join(" ");
  }
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name && ["A", "BUTTON", "SUMMARY"].includes(el.tagName)) name = el.textContent;
  return {tag: el.tagName.toLowerCase(), id: el.id || "", type: el.type || "",
          name: text(name), testid: el.dataset.testid || "", href: el.getAttribute("href") || "",
          checked: "checked" in el && ["checkbox", "radio"].includes(el.type) ? el.checked : null};
}"""

# Whether the focused element shows that it has the focus: an outline that is drawn, or a
# box-shadow with some colour and some size (Bootstrap's focus ring); and where it is.
FOCUS_INDICATOR = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none" && style.boxShadow.split(/,(?![^(]*\\))/).some(part => {
    const colour = part.match(/rgba?\\([^)]*\\)/);
    const alpha = colour && colour[0].startsWith("rgba(")
      ? parseFloat(colour[0].split(",")[3]) : 1;
    const sizes = (part.replace(/rgba?\\([^)]*\\)/, "").match(/-?[\\d.]+px/g) || [])
      .map(parseFloat);
    return alpha > 0 && sizes.some(size => size !== 0);
  });
  const box = el.getBoundingClientRect();
  return {outline, shadow, width: box.width, height: box.height,
          style: `outline: ${style.outlineStyle} ${style.outlineWidth}; `
                 + `box-shadow: ${style.boxShadow}`};
}"""


def focused(page: Page) -> Focused | None:
    found = page.evaluate(FOCUSED)
    return Focused(**found) if found else None


def assert_focus_visible(page: Page) -> Focused:
    """The focused element is drawn and shows its focus: an outline or a focus ring."""
    now = focused(page)
    assert now is not None, "nothing has the focus"
    indicator = page.evaluate(FOCUS_INDICATOR)
    assert indicator["width"] > 0 and indicator["height"] > 0, f"{now} is not drawn"
    assert indicator["outline"] or indicator["shadow"], (
        f"{now} shows no focus: {indicator['style']}")
    return now


def press(page: Page, key: str) -> Focused:
    """One key that moves the focus (Tab or Shift+Tab); where it lands, visibly focused."""
    page.keyboard.press(key)
    return assert_focus_visible(page)


Target = str | Callable[[Focused], bool]


def _matches(target: Target, element: Focused) -> bool:
    if callable(target):
        return target(element)
    return target in (element.id, element.testid, element.name)


def tab_to(page: Page, target: Target, max_steps: int = 60, *, key: str = "Tab"
           ) -> list[Focused]:
    """Tab (or Shift+Tab) until the focus is on `target` (an id, a test id, an accessible
    name, or a predicate): every element on the way, the target last, each visibly
    focused."""
    path: list[Focused] = []
    for _ in range(max_steps):
        path.append(press(page, key))
        if _matches(target, path[-1]):
            return path
    raise AssertionError(f"{target!r} not reached in {max_steps} {key}: "
                         f"{[element.key for element in path]}")


def assert_focus_on(page: Page, target: Target) -> Focused:
    now = assert_focus_visible(page)
    assert _matches(target, now), f"the focus is on {now}, not on {target!r}"
    return now


def activate(page: Page, key: str = "Enter") -> None:
    """Enter (or Space) on the focused link or button, which opens another page."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state("load")


def skip_to_main(page: Page, check: AccessibilityCheck) -> None:
    """On a page just opened: the first Tab stop is the skip link, shown where it can be
    seen; Enter on it puts the focus on the page's main content."""
    link = press(page, "Tab")
    assert (link.name, link.href) == (SKIP_LINK, "#main"), f"the first Tab stop is {link}"
    box = page.get_by_role("link", name=SKIP_LINK).bounding_box()
    viewport = page.viewport_size
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
    page.keyboard.press("Enter")
    now = focused(page)
    assert now is not None and (now.tag, now.id) == ("main", "main"), (
        f"the skip link left the focus on {now}")
    check()  # the link's #main is a navigation of its own


def type_text(page: Page, text: str) -> None:
    """Text typed into the focused field, as a keyboard user types it."""
    page.keyboard.type(text)


def choose_by_typing(page: Page, option: str) -> None:
    """In the focused list (a closed <select>), the option `option`, chosen as a keyboard
    user does: by typing the first letters of its label, as few as tell it from the others
    (Chromium's type-ahead, which forgets what was typed after a second)."""
    labels = page.evaluate("[...document.activeElement.options].map(o => o.text.trim())")
    assert option in labels, f"{option!r} is not one of {labels}"
    others = [label.casefold() for label in labels if label != option]
    prefix = next(option[:n] for n in range(1, len(option) + 1)
                  if not any(other.startswith(option[:n].casefold()) for other in others))
    page.keyboard.type(prefix)
    chosen = page.evaluate("document.activeElement.selectedOptions[0].text.trim()")
    assert chosen == option, f"typing {prefix!r} chose {chosen!r}, not {option!r}"


def sign_in_by_keyboard(page: Page, check: AccessibilityCheck, email: str,
                        password: str = demo.DEMO_PASSWORD) -> None:
    """On the sign-in page: the email field has the focus; the password, "keep me signed
    in" and the button follow it."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check()
    assert_focus_on(page, "email")
    type_text(page, email)
    assert press(page, "Tab").id == "password"
    type_text(page, password)
    assert press(page, "Tab").id == "remember"
    button = press(page, "Tab")
    assert (button.tag, button.name) == ("button", "Sign in"), button
    activate(page)
    expect(page.get_by_test_id("current-user")).to_be_visible()
    check()


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Mission:
    title: str
    slug: str
    questions: tuple[str, ...]  # field ids of its text questions, in order


@pytest.fixture(scope="module")
def open_mission(live_server: LiveServer) -> Mission:
    """An upcoming mission open for applications that the demo SME has not applied to,
    other than the USA mission whose door the check-in journey opens."""
    with live_server.app.app_context():
        now = utcnow()
        sme = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
        applied = set(db.session.scalars(
            select(Registration.event_id).where(Registration.user_id == sme.id)))
        events = db.session.scalars(
            select(Event).where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
                                Event.kind != EventKind.WEBINAR)
            .order_by(Event.starts_at)).all()
        event = next((e for e in events if e.registration_is_open(now) and e.id not in applied
                      and e.meets_in_person and not e.slug.startswith("outbound-mission-usa-")),
                     None)
        assert event is not None, "the demo SME has no mission left to apply to"
        kinds = {q.kind.value for q in event.questions}
        assert kinds <= {"short_text", "long_text"}, kinds
        assert event.questions, "the mission should ask questions"
        mission = Mission(event.title, event.slug,
                          tuple(f"q_{q.id}" for q in event.questions))
        db.session.remove()
        return mission


@dataclass(frozen=True)
class Pending:
    registration_id: int
    event_title: str
    applicant: str
    manager_email: str


@pytest.fixture(scope="module")
def pending(live_server: LiveServer) -> Pending:
    """An application to the Singapore mission waiting on the Aalborg manager's desk, of
    someone other than the demo SME (who applies elsewhere in the journeys)."""
    with live_server.app.app_context():
        manager = db.session.scalar(select(User).where(User.email == demo.AALBORG.manager_email))
        waiting = db.session.scalars(
            select(Registration)
            .join(Registration.event).join(Registration.user)
            .where(Registration.status == RegistrationStatus.SUBMITTED,
                   Event.slug.startswith("outbound-mission-singapore-"),
                   User.email != demo.DEMO_SME.email)
            .options(joinedload(Registration.event), joinedload(Registration.user))
            .order_by(Registration.id)).all()
        reg = next((r for r in waiting if access.can(manager, "registration.decide", r)), None)
        assert reg is not None, "the Aalborg manager should have an application to decide"
        found = Pending(reg.id, reg.event.title, reg.user.name, manager.email)
        db.session.remove()
        return found


@pytest.fixture(scope="module")
def door(live_server: LiveServer) -> Door:
    return open_door(live_server)


@pytest.fixture(scope="module")
def newcomer(live_server: LiveServer) -> Newcomer:
    with live_server.app.app_context():
        cluster = first_member_cluster()
        db.session.remove()
    return Newcomer("Keyla Tabstop", "keyla@tabstop-mobility.example",
                    "Only the keys under my fingers 2027", "Tabstop Mobility", cluster)


# --------------------------------------------------------------------------- the journeys


def test_the_skip_link_is_the_first_tab_stop_and_leads_into_the_main_content(
    page: Page, assert_accessible: AccessibilityCheck
):
    page.goto("/")
    assert_accessible()
    skip_to_main(page, assert_accessible)

    # The next Tab stop is the first one inside the main content, not the navigation's.
    first_in_main = page.evaluate("""() => {
      const main = document.getElementById("main");
      const tabbable = main.querySelectorAll(
        'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), '
        + 'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])');
      const shown = [...tabbable].find(el => el.getClientRects().length > 0);
      return shown ? shown.textContent.replace(/\\s+/g, " ").trim() : null;
    }""")
    assert first_in_main == "Browse missions and events"
    now = press(page, "Tab")
    assert now.name == first_in_main and now.tag == "a", now
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")

    # Shift+Tab goes back to the last stop before the main content: the navigation's.
    back = press(page, "Shift+Tab")
    assert (back.tag, back.name) == ("a", "Sign in"), back
    assert page.evaluate("document.querySelector('header').contains(document.activeElement)")


def test_a_visitor_signs_up_corrects_a_mistake_confirms_and_signs_in_by_keyboard(
    page: Page, assert_accessible: AccessibilityCheck, inbox: Inbox, newcomer: Newcomer
):
    who = newcomer
    page.goto("/signup")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    assert_accessible()

    # The form starts on its first field; the others follow in the order they are shown.
    assert_focus_on(page, "name")
    type_text(page, who.name)
    order = ["name"]
    answers = {
        "email": who.email,
        "password": who.password,
        "confirm": "Not the same password at all",
        "organization_name": who.company,
        "sector": "Mobility",
    }
    choices = {"country": "Denmark", "size": "Small (10 to 49 people)",
               "home_cluster": who.cluster}
    while True:
        now = press(page, "Tab")
        order.append(now.key)
        if now.id in answers:
            type_text(page, answers[now.id])
        if now.id in choices:
            choose_by_typing(page, choices[now.id])
        if now.id == "confirm":
            # Shift+Tab goes back to the field before, Tab forward again.
            assert press(page, "Shift+Tab").id == "password"
            assert press(page, "Tab").id == "confirm"
        if now.id == "privacy":
            assert now.checked is False
            page.keyboard.press("Space")
            assert focused(page).checked is True
        if now.tag == "button" or len(order) > 30:
            break
    assert order == [
        "name", "email", "password", "confirm",
        "organization_mode-0",  # the chosen "Register my organization"; its group is one stop
        "organization_name", "country", "sector", "size", "helix", "website", "profile",
        "home_cluster",
        "Read our privacy notice", "privacy", "Create my account",
    ], order
    expect(page.get_by_label("Country")).to_have_value("DK")
    expect(page.get_by_label("Size")).to_have_value("small")
    expect(page.get_by_label("Home cluster").locator("option:checked")).to_have_text(who.cluster)
    activate(page)

    # The form comes back with the focus on its error summary, which links to the field.
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    assert_accessible()
    summary = page.locator("#error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_have_attribute("tabindex", "-1")
    expect(summary).to_have_attribute("autofocus", "")
    expect(summary).to_be_focused()
    assert_focus_visible(page)
    link = summary.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "#confirm")
    expect(link).to_have_text("Password, again")
    assert press(page, "Tab").href == "#confirm"
    page.keyboard.press("Enter")
    assert_focus_on(page, "confirm")
    assert_accessible()  # #confirm: a navigation of its own

    # Passwords are not sent back: both are typed again, the first reached with Shift+Tab.
    assert press(page, "Shift+Tab").id == "password"
    type_text(page, who.password)
    assert press(page, "Tab").id == "confirm"
    type_text(page, who.password)
    path = tab_to(page, "Create my account")
    assert [element.key for element in path] == [
        "organization_mode-0", "organization_name", "country", "sector", "size", "helix",
        "website", "profile", "home_cluster", "Read our privacy notice", "privacy",
        "Create my account"]
    assert path[-2].checked is True, "the privacy consent was not kept"
    activate(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert_accessible()

    # The mail's link: its page confirms on the button, then the sign-in page follows.
    mail = inbox.wait_for(who.email)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://\S+/verify/\S+", text)
    assert found, text
    page.goto(urlsplit(found.group(0)).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    assert_accessible()
    skip_to_main(page, assert_accessible)
    tab_to(page, "Confirm my address", max_steps=5)
    activate(page)
    expect(page.get_by_role("alert").filter(has_text="is confirmed")).to_be_visible()
    sign_in_by_keyboard(page, assert_accessible, who.email, who.password)
    expect(page.get_by_test_id("current-user")).to_have_text(who.name)


def test_the_demo_sme_signs_in_and_applies_to_a_mission_by_keyboard(
    page: Page, assert_accessible: AccessibilityCheck, open_mission: Mission
):
    mission = open_mission
    page.goto(f"/events/{mission.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    assert_accessible()
    path = tab_to(page, "Sign in", max_steps=15)
    assert path[0].name == SKIP_LINK, path[0]
    assert path[-1].tag == "a", path[-1]
    activate(page)
    sign_in_by_keyboard(page, assert_accessible, demo.DEMO_SME.email)
    # Back on the event's page, where the Apply button is reached from the main content.
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    skip_to_main(page, assert_accessible)
    tab_to(page, "apply")
    activate(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply: {mission.title}")
    assert_accessible()
    skip_to_main(page, assert_accessible)
    tab_to(page, mission.questions[0])
    answered = [mission.questions[0]]
    type_text(page, "To meet the city's mobility office.")
    for question in mission.questions[1:]:
        assert press(page, "Tab").id == question  # the questions in their order
        answered.append(question)
        type_text(page, f"Keyboard answer to {question}")
    path = tab_to(page, "profile_consent")
    # The profile to correct comes between the answers and the consents.
    keys = [element.key for element in path]
    assert keys[keys.index("org_name"):] == ["org_name", "org_sector", "org_website",
                                             "org_profile", "profile_consent"], keys
    page.keyboard.press("Space")
    assert focused(page).checked is True
    assert press(page, "Tab").id == "contact_consent"
    page.keyboard.press("Space")
    assert focused(page).checked is True
    button = press(page, "Tab")
    assert (button.tag, button.name) == ("button", "Submit my application"), button
    activate(page)

    expect(page.get_by_role("alert").filter(
        has_text="Your application is submitted")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(mission.title)
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status",
                                                                       "submitted")
    expect(page.get_by_test_id("answers")).to_contain_text("To meet the city's mobility office.")
    assert_accessible()


def test_a_manager_finds_and_approves_an_application_on_the_desk_by_keyboard(
    page: Page, assert_accessible: AccessibilityCheck, pending: Pending
):
    page.goto("/desk/")  # a staff page: the sign-in page first, then back
    sign_in_by_keyboard(page, assert_accessible, pending.manager_email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Desk")

    # The search: its field is reached in the filter's order; Enter in it sends it.
    skip_to_main(page, assert_accessible)
    path = tab_to(page, "q", max_steps=15)
    keys = [element.key for element in path]
    assert keys[-4:] == ["event_q", "status", "country", "q"], keys
    type_text(page, pending.applicant)
    activate(page)
    expect(page).to_have_url(re.compile(r"/desk/\?"))
    assert_accessible()

    row = page.locator(f'tr[data-registration="{pending.registration_id}"]')
    expect(row).to_contain_text(pending.event_title)
    skip_to_main(page, assert_accessible)
    path = tab_to(page, lambda e: e.href.endswith(
        f"/desk/registrations/{pending.registration_id}"))
    # The row's tick box comes just before its applicant's link.
    assert path[-2].id == f"tick-{pending.registration_id}", path[-2]
    assert path[-1].name == pending.applicant, path[-1]
    activate(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(pending.applicant)
    assert_accessible()

    skip_to_main(page, assert_accessible)
    tab_to(page, "reason")
    type_text(page, "A strong fit for the delegation.")
    button = press(page, "Tab")
    assert (button.tag, button.name) == ("button", "Approve"), button
    activate(page)
    expect(page.get_by_role("alert").filter(
        has_text="The application is approved.")).to_be_visible()
    expect(page.locator("main [data-status]").first).to_have_attribute("data-status", "approved")
    assert_accessible()


def test_a_host_checks_a_delegate_in_at_the_door_by_keyboard(
    page: Page, assert_accessible: AccessibilityCheck, door: Door
):
    page.goto(f"/events/{door.event_id}/checkin")  # the sign-in page first, then back
    sign_in_by_keyboard(page, assert_accessible, door.staff_email)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Check-in: {door.event_title}")

    # The door's page opens on the code field, ready for the first badge; what the check-in
    # is for and the camera's button come before it.
    assert_focus_on(page, "code")
    path = tab_to(page, "session", max_steps=3, key="Shift+Tab")
    assert [element.key for element in path] == ["camera-start", "session"], path
    tab_to(page, "code", max_steps=2)
    type_text(page, door.typed.code)
    activate(page)
    card = page.get_by_test_id("person")
    expect(card.get_by_test_id("checkin-result")).to_have_text("Checked in")
    expect(card.get_by_test_id("person-name")).to_have_text(door.typed.name)
    expect(card.get_by_test_id("person-organization")).to_have_text(door.typed.organization)
    assert_accessible()
    # Ready for the next badge at once.
    assert_focus_on(page, "code")

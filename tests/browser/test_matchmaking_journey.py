"""B2B matchmaking at the next Barcelona expo, entirely through the pages.

The IPI host invites a stakeholder of the host region from the event's delegation page;
the stakeholder accepts by the mailed one-time link (in a second browser), joins the
marketplace and offers smart lighting pilots. A delegate joins too (every approved
delegate of the demo's expo is in its marketplace already, so the event's organizer first
approves a pending application on the desk), asks for smart lighting, finds the
stakeholder among the suggested matches with the reason, sees no contact details yet and
asks for a meeting; the stakeholder accepts and sees the delegate's contact details, and
the delegate then sees theirs. Asking again while that meeting stands is refused.
"""

from __future__ import annotations

import re
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
    Organization,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from webapp.services import accounts, marketplace, matchmaking_settings

from .conftest import AccessibilityCheck, AxeFindings, Inbox, LiveServer, sign_in

pytestmark = pytest.mark.browser

STAKEHOLDER_NAME = "Montserrat Puig"
STAKEHOLDER_EMAIL = "montserrat.puig@poblenou-lab.example"
STAKEHOLDER_ORGANIZATION = "Poblenou Urban Lab"
STAKEHOLDER_PASSWORD = "Streetlights along the Rambla del Poblenou 2027"
OFFER = "Smart lighting pilots in Poblenou"
REQUEST = "A pilot site for our adaptive street lighting"
TAG = "smart lighting"
MESSAGE = "Our adaptive dimming fits your pilots: could we meet at the expo?"


@dataclass(frozen=True)
class Expo:
    event_id: int
    slug: str
    title: str
    host_email: str
    organizer_email: str
    # A pending application of an SME delegate, whom the organizer approves first.
    registration_id: int
    delegate_name: str
    delegate_email: str
    delegate_organization: str


@pytest.fixture(scope="module")
def expo(live_server: LiveServer) -> Expo:
    """The next Barcelona expo the IPI host may invite stakeholders to, with its
    marketplace on; its organizer (the Barcelona cluster's manager); and an SME's
    undecided application, its applicant not in the marketplace (checked with the policy
    and the services, so the journey tests what it means to)."""
    host_account = next(a for a in demo.DEMO_ACCOUNTS if a.email.startswith("host.ipi@"))
    with live_server.app.app_context():
        host = db.session.scalar(select(User).where(User.email == host_account.email))
        upcoming = db.session.scalars(
            select(Event).where(Event.starts_at > utcnow()).order_by(Event.starts_at)).all()
        event = next(e for e in upcoming if access.can(host, "matchmaking.invite", e)
                     and "barcelona" in e.slug and (m := matchmaking_settings.of_event(e.id))
                     and m.enabled)
        organizer = db.session.scalar(select(User).where(
            User.email == demo.BARCELONA.manager_email))
        pending = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id,
                   Registration.status == RegistrationStatus.SUBMITTED)
            .options(joinedload(Registration.user).joinedload(User.organization)
                     .joinedload(Organization.home_cluster))
            .order_by(Registration.id)).unique().all()
        reg = next(r for r in pending if r.user.organization
                   and r.user.organization.home_cluster
                   and access.can(organizer, "registration.decide", r))
        assert marketplace.participant_of(reg) is None
        delegate = reg.user
        if not accounts.authenticate(delegate.email, demo.DEMO_PASSWORD):
            # Only the showcased demo accounts have the demo password.
            delegate.password_hash = accounts.hash_password(demo.DEMO_PASSWORD)
            db.session.commit()
        return Expo(event.id, event.slug, event.title, host.email, organizer.email, reg.id,
                    delegate.name, delegate.email, delegate.organization.name)


def sign_out(page: Page, check: AccessibilityCheck) -> None:
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "button", name="Sign out").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    check()


def alert(page: Page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def join_marketplace(page: Page, check: AccessibilityCheck, participant_type: str) -> None:
    """On the join page: the type, the consent, the button; lands on the profile."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the event's marketplace")
    check()
    page.get_by_label("You take part as").select_option(label=participant_type)
    page.get_by_label(re.compile(r"^Show me in the event's marketplace")).check()
    page.get_by_role("button", name="Join the marketplace").click()
    expect(alert(page, "You take part in the event's marketplace.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("My marketplace profile")
    check()


def add_opportunity(page: Page, check: AccessibilityCheck, kind: str, title: str) -> None:
    """On one's marketplace profile: an opportunity tagged TAG."""
    page.get_by_role("combobox", name="Type", exact=True).select_option(label=kind)
    page.get_by_role("textbox", name="Title", exact=True).fill(title)
    page.get_by_role("textbox", name="Description", exact=True).fill(
        f"{title}: LED retrofits, adaptive dimming and lighting controls.")
    page.get_by_role("textbox", name="Tags", exact=True).fill(TAG)
    page.get_by_role("button", name="Add the opportunity").click()
    expect(alert(page, f"The opportunity “{title}” was added.")).to_be_visible()
    expect(page.get_by_test_id("own-opportunities")).to_contain_text(title)
    check()


def test_a_host_invites_a_stakeholder_whom_a_delegate_meets_through_the_marketplace(
    page: Page, assert_accessible: AccessibilityCheck, inbox: Inbox, expo: Expo, new_context,
    axe_findings: AxeFindings,
):
    check = assert_accessible

    # 1. The host invites a stakeholder from the event's delegation page.
    sign_in(page, check, expo.host_email)
    page.goto(f"/events/{expo.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(expo.title)
    check()
    page.get_by_role("link", name="Delegation list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delegation")
    check()
    page.get_by_role("link", name="Host region's stakeholders").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Host region's stakeholders")
    expect(page.get_by_test_id("matchmaking-off")).to_have_count(0)
    check()
    page.get_by_label("Name", exact=True).fill(STAKEHOLDER_NAME)
    page.get_by_label("Email", exact=True).fill(STAKEHOLDER_EMAIL)
    page.get_by_label("Organization", exact=True).fill(STAKEHOLDER_ORGANIZATION)
    page.get_by_label("Country", exact=True).select_option("ES")
    page.get_by_label("Language of the invitation").select_option("en")
    page.get_by_role("button", name="Send the invitation").click()
    expect(alert(page, f"The invitation to {STAKEHOLDER_NAME} is on its way to "
                       f"{STAKEHOLDER_EMAIL}.")).to_be_visible()
    row = page.get_by_test_id("invitation-row").filter(has_text=STAKEHOLDER_EMAIL)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "pending")
    check()
    sign_out(page, check)

    # 2. The stakeholder, in a browser of their own, accepts by the mailed link, joins the
    # marketplace and offers smart lighting pilots.
    mail = inbox.wait_for(STAKEHOLDER_EMAIL)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/stakeholders/invitation/\S+", text)
    assert link, text
    theirs = new_context().new_page()
    theirs.set_default_timeout(10_000)
    their_check = AccessibilityCheck(theirs, axe_findings)
    theirs.goto(urlsplit(link.group(0)).path)
    expect(theirs.get_by_role("heading", level=1)).to_have_text(
        f"Your invitation to {expo.title}")
    their_check()
    theirs.get_by_label("Password", exact=True).fill(STAKEHOLDER_PASSWORD)
    theirs.get_by_label("Password, again").fill(STAKEHOLDER_PASSWORD)
    theirs.get_by_label("I have read the privacy notice and agree to it").check()
    theirs.get_by_role("button", name="Accept the invitation").click()
    expect(alert(theirs, f"Welcome, {STAKEHOLDER_NAME}: you are registered as a host of "
                         "the event.")).to_be_visible()
    expect(theirs.get_by_test_id("current-user")).to_have_text(STAKEHOLDER_NAME)
    their_check()
    theirs.get_by_test_id("marketplace-entry").get_by_role(
        "link", name="Join the marketplace").click()
    join_marketplace(theirs, their_check, "Host-region stakeholder")
    add_opportunity(theirs, their_check, "Offer", OFFER)

    # 3. The organizer approves a pending application on the desk; its delegate joins,
    # asks for smart lighting, and finds the stakeholder suggested, with the reason.
    sign_in(page, check, expo.organizer_email)
    page.goto(f"/desk/registrations/{expo.registration_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(expo.delegate_name)
    check()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(alert(page, "The application is approved.")).to_be_visible()
    check()
    sign_out(page, check)

    sign_in(page, check, expo.delegate_email)
    page.goto(f"/events/{expo.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(expo.title)
    check()
    page.get_by_test_id("marketplace-entry").get_by_role(
        "link", name="Join the marketplace").click()
    join_marketplace(page, check, "SME")
    add_opportunity(page, check, "Request", REQUEST)
    page.get_by_role("link", name="Browse the marketplace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Marketplace of {expo.title}")
    check()
    suggestion = page.get_by_test_id("suggestions").get_by_test_id("suggestion").filter(
        has=page.get_by_role("link", name=STAKEHOLDER_ORGANIZATION, exact=True))
    expect(suggestion.get_by_test_id("reasons").get_by_role("listitem").filter(
        has_text=TAG)).to_have_text(
        f"Offers {TAG} in “{OFFER}”, which you request in “{REQUEST}”.")

    # Their page shows no contact details before a meeting is agreed.
    suggestion.get_by_role("link", name=STAKEHOLDER_ORGANIZATION, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STAKEHOLDER_ORGANIZATION)
    expect(page.get_by_test_id("opportunity")).to_contain_text(OFFER)
    expect(page.get_by_test_id("contact")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(STAKEHOLDER_EMAIL)
    expect(page.locator("main")).not_to_contain_text(STAKEHOLDER_NAME)
    check()
    page.get_by_role("link", name="Request a meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Ask {STAKEHOLDER_ORGANIZATION} for a meeting")
    expect(page.get_by_test_id("already-open")).to_have_count(0)
    check()
    page.get_by_label("Message").fill(MESSAGE)
    page.get_by_role("group", name="Preferred slots (optional)").get_by_role(
        "checkbox").first.check()
    page.get_by_role("button", name="Send the request").click()
    expect(alert(page, f"Your meeting request was sent to {STAKEHOLDER_ORGANIZATION}.")
           ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meeting requests")
    sent = page.get_by_test_id("request-row").filter(has_text=STAKEHOLDER_ORGANIZATION)
    expect(sent).to_have_count(1)
    expect(sent.locator("[data-status]")).to_have_attribute("data-status", "requested")
    expect(sent).to_contain_text(MESSAGE)
    expect(sent.get_by_test_id("preferred-slots").get_by_role("listitem")).to_have_count(1)
    expect(sent.get_by_test_id("contact-details")).to_have_count(0)
    check()

    # 4. The stakeholder accepts from their requests and sees the delegate's details.
    theirs.get_by_role("link", name="Browse the marketplace").click()
    expect(theirs.get_by_role("heading", level=1)).to_have_text(
        f"Marketplace of {expo.title}")
    their_check()
    theirs.get_by_role("link", name="Meeting requests", exact=True).click()
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Meeting requests")
    received = theirs.get_by_test_id("request-row").filter(has_text=expo.delegate_organization)
    expect(received.locator("[data-status]")).to_have_attribute("data-status", "requested")
    expect(received).to_contain_text(MESSAGE)
    expect(theirs.locator("main")).not_to_contain_text(expo.delegate_email)
    their_check()
    received.get_by_role("button", name="Accept").click()
    expect(alert(theirs, "You accepted the meeting: you now see each other's contact "
                         "details.")).to_be_visible()
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Meeting request")
    expect(theirs.locator("main [data-status]").first).to_have_attribute("data-status",
                                                                         "accepted")
    details = theirs.get_by_test_id("contact-details")
    expect(details).to_contain_text(expo.delegate_name)
    expect(details.get_by_role("link", name=expo.delegate_email)).to_be_visible()
    their_check()

    # 5. The delegate's list: accepted, with the stakeholder's details.
    page.reload()
    expect(sent.locator("[data-status]")).to_have_attribute("data-status", "accepted")
    expect(sent.get_by_test_id("contact-details")).to_contain_text(STAKEHOLDER_NAME)
    expect(sent.get_by_role("link", name=STAKEHOLDER_EMAIL)).to_be_visible()
    check()

    # 6. Asking them again while that meeting stands is refused, and nothing is sent.
    sent.get_by_role("link", name=re.compile(r"^Profile\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STAKEHOLDER_ORGANIZATION)
    expect(page.get_by_test_id("contact")).to_contain_text(STAKEHOLDER_EMAIL)
    check()
    page.get_by_role("link", name="Request a meeting").click()
    expect(page.get_by_test_id("already-open")).to_contain_text(
        "You two already have an open meeting request.")
    check()
    page.get_by_label("Message").fill("One more meeting, please.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("alert").filter(has_text="There is already an open meeting "
                                                     "request between you two.")
           ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Ask {STAKEHOLDER_ORGANIZATION} for a meeting")
    check()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Meeting requests").click()
    check()
    page.get_by_label("Requests", exact=True).select_option("sent")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"box=sent"))
    expect(page.get_by_test_id("request-row").filter(
        has_text=STAKEHOLDER_ORGANIZATION)).to_have_count(1)
    check()

    their_check.assert_every_page_checked()

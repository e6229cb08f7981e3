"""Every page fits the screen it is read on and passes axe-core, in English and in Greek: on
the demo's data, each role opens every page it may see (one URL per GET endpoint that
answers HTML, taken from the application's own URL map with ids the role may open), and

- at 360, 768, 1280 and 1920 px nothing reaches past the right edge
  (`document.documentElement.scrollWidth` <= the window's width);
- axe-core finds no violation of the WCAG 2.1 A and AA rules, of any impact (conftest's
  `blocking`): in English on the widest window, in Greek on a phone's, so that both
  layouts are checked (a table scrolls in its box only on the phone);
- no mark tells something by its colour alone (a status badge without words).

A new page is swept as soon as it exists: an endpoint with neither a URL here nor a reason
to leave it out fails the sweep. On a phone the KPI charts keep their labels whole,
readable and apart.

Speed: one browser; each role signs in once per language, and each URL is loaded once per
language, measured at the four widths by resizing the window, then checked with axe, which
reads each page's markup once per run: a page another role already saw with the same kinds
of elements (its navigation shorter, its names other) gets that reading's findings
(conftest's `AxeFindings`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, current_app
from flask_login import AnonymousUserMixin
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from werkzeug.routing import Rule

from webapp import access, demo, languages
from webapp.extensions import db
from webapp.inputs.matchmaking import MatchmakingIn
from webapp.inputs.quick_registration import QuickRegistrationIn
from webapp.inputs.stakeholders import StakeholderInvitationIn
from webapp.models import (
    Agreement,
    BadgeBatch,
    BadgeFormat,
    Download,
    Event,
    EventKind,
    EventStatus,
    Matchmaking,
    Meeting,
    MeetingFollowUp,
    MeetingRequest,
    MeetingRequestStatus,
    Opportunity,
    Organization,
    Participant,
    Partner,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    ScheduleRun,
    SurveyInvitation,
    SurveyResponse,
    User,
    utcnow,
)
from webapp.services import (
    accounts,
    api_tokens,
    applications,
    badge_batches,
    downloads,
    jobs,
    kpis,
    marketplace,
    matchmaking,
    matchmaking_settings,
    meeting_outcomes,
    notifications,
    quick_registration,
    registrations,
    stakeholder_invitations,
    surveys,
)
from webapp.services.errors import DomainError

from .conftest import AxeFindings, LiveServer, describe_violations

pytestmark = pytest.mark.browser

WIDTHS = (360, 768, 1280, 1920)
HEIGHT = 800
PHONE = WIDTHS[0]

# GET endpoints that answer no page, or whose page is not ours to lay out, with why.
NOT_PAGES = {
    "static": "stylesheets, scripts and images",
    "account.export_data": "a JSON download of one's data",
    "admin.index": "leads to the events list",
    "agenda.meeting_file": "an iCalendar file",
    "agenda.participant_pdf": "a PDF",
    "agenda.table_signs": "a PDF",
    "badges.batch_file": "a PDF",
    "badges.batch_progress": "JSON polled by the batch page",
    "schedule.run_progress": "JSON polled by the run's page",
    "badges.event_badges": "a PDF",
    "badges.registration_badge": "a PDF",
    "calendar.event_file": "an iCalendar file",
    "calendar.feed": "an iCalendar feed",
    "calendar.session_file": "an iCalendar file",
    "checkin.attendance_csv": "a CSV file",
    "checkin.webinar_report_csv": "a CSV file",
    "delegation.export_csv": "a CSV file",
    "delegation.export_xlsx": "a spreadsheet",
    "dev_mail.html_body": "a mail's own markup, shown in the frame of its message page",
    "dev_mail.invitation": "an iCalendar file",
    "dev_mail.raw": "a mail as sent (.eml)",
    "downloads.file": "the file built in the background",
    "downloads.progress": "JSON polled by the download's page",
    "health.details": "JSON for monitoring",
    "health.status": "JSON for monitoring",
    "language.follow": "the language switcher's link: sets a cookie and leads back",
    "organization.logo": "an image",
    "surveys.results_csv": "a CSV file",
}
# Whole blueprints that answer no page.
NOT_PAGE_BLUEPRINTS = {"api": "the JSON API (its reference, api_docs.reference, is a page)",
                       "lookup": "JSON matches for the look-up fields as one types"}


@dataclass(frozen=True)
class Viewer:
    role: str
    email: str | None  # None: a visitor, not signed in


def _demo_account(grant: Role) -> str:
    return next(a.email for a in demo.DEMO_ACCOUNTS if a.grant == grant)


VIEWERS = (
    Viewer("visitor", None),
    Viewer("member", demo.DEMO_SME.email),
    Viewer("beachhead host", _demo_account(Role.BEACHHEAD_HOST)),
    Viewer("partner manager", _demo_account(Role.PARTNER_MANAGER)),
    Viewer("admin", demo.ADMIN.email),
)


def not_a_page(endpoint: str) -> str | None:
    """Why the sweep leaves `endpoint` out, or None: it is a page."""
    return NOT_PAGES.get(endpoint) or NOT_PAGE_BLUEPRINTS.get(endpoint.partition(".")[0])


def get_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())),
                  key=lambda r: r.endpoint)


# ------------------------------------------------------------------ what the demo lacks

def _deliver_mail() -> None:
    db.session.commit()
    jobs.run_committed()


def _links_mailed() -> list[str]:
    """Every link in the mailbox, newest message first."""
    return [link for message in db.session.scalars(notifications.delivered())
            for link in notifications.links_in(message.body_text, message.body_html or "")]


def mail_with_links() -> None:
    """The mails whose links open pages (a password reset, a new account's confirmation,
    an address change, a visitor's quick registration), delivered to the local mailbox."""
    accounts.request_password_reset(demo.DEMO_SME.email)
    newcomer = accounts.create_user(f"newcomer@{demo.DEMO_DOMAIN}", "Noor Newcomer", None,
                                    verified=False)
    db.session.flush()
    accounts.resend_verification(newcomer)
    member = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    verified = accounts.check_password(member, demo.DEMO_PASSWORD)
    accounts.request_email_change(verified, f"astrid.new@{demo.DEMO_DOMAIN}")
    webinar = next(e for e in db.session.scalars(select(Event).order_by(Event.starts_at))
                   if quick_registration.refusal(e) is None)
    quick_registration.request(
        webinar,
        QuickRegistrationIn(name="Vera Visitor", email=f"vera@{demo.DEMO_DOMAIN}",
                            organization="Visiting Ventures", country="DK",
                            timezone="Europe/Copenhagen", privacy=True),
        privacy_version=current_app.config["PRIVACY_VERSION"])
    _deliver_mail()


def queued_badge_batch() -> None:
    """A batch of badges waiting to be built (its page shows the progress)."""
    admin = db.session.scalar(select(User).where(User.email == demo.ADMIN.email))
    event = db.session.scalars(select(Event).where(Event.kind == EventKind.OUTBOUND_MISSION)
                               .order_by(Event.starts_at.desc())).first()
    badge_batches.request_batch(admin, event, BadgeFormat.A6)
    db.session.commit()


def queued_downloads() -> None:
    """A KPI report waiting to be built for the admin and one for a partner manager (their
    pages show the progress)."""
    for email in (demo.ADMIN.email, _demo_account(Role.PARTNER_MANAGER)):
        user = db.session.scalar(select(User).where(User.email == email))
        downloads.request_kpi_report(user, kpis.Period(), access.kpi_clusters_of(user))
    db.session.commit()


def stakeholder_invited() -> None:
    """A stakeholder of the host region invited to the next Barcelona expo's matchmaking by
    its host, the link delivered to the local mailbox (the demo mails none)."""
    host = db.session.scalar(select(User).where(
        User.email == _demo_account(Role.BEACHHEAD_HOST)))
    event = next(e for e in db.session.scalars(select(Event).order_by(Event.starts_at.desc()))
                 if access.can(host, "matchmaking.invite", e))
    stakeholder_invitations.invite(event.id, StakeholderInvitationIn.from_values(
        email=f"stakeholder@{demo.DEMO_DOMAIN}", name="Sofía Stakeholder",
        organization="Barcelona Urban Lab", country="ES", language="en"), actor=host)
    _deliver_mail()


def member_may_join() -> None:
    """Matchmaking on a coming event the demo member is approved for, whose marketplace
    they have not joined (the demo's delegates have joined theirs)."""
    member = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    event = next(r.event for r in db.session.scalars(
        select(Registration).join(Registration.event)
        .where(Registration.user_id == member.id,
               Registration.status == RegistrationStatus.APPROVED,
               Event.starts_at > utcnow()).order_by(Event.starts_at))
        if matchmaking_settings.of_event(r.event_id) is None)
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
    db.session.commit()


def member_api_token() -> None:
    """An API token of the demo member, listed on the profile and revocable."""
    member = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    api_tokens.create(member, "Spreadsheet sync", read_only=True)
    db.session.commit()


def open_survey() -> SurveyInvitation:
    """An unanswered survey invitation, as if sent today: the demo's have all closed."""
    invitation = db.session.scalars(select(SurveyInvitation).where(
        SurveyInvitation.answered_at.is_(None)).order_by(SurveyInvitation.id.desc())).first()
    invitation.remind_at += utcnow() - invitation.sent_at
    invitation.sent_at = utcnow()
    db.session.commit()
    return invitation


def open_follow_up() -> MeetingFollowUp:
    """An unanswered follow-up of a meeting, as if sent today: the demo's have all closed."""
    follow_up = db.session.scalars(select(MeetingFollowUp).where(
        MeetingFollowUp.answered_at.is_(None)).order_by(MeetingFollowUp.id)).first()
    follow_up.due_at = follow_up.sent_at = utcnow()
    db.session.commit()
    return follow_up


# ------------------------------------------------------------------ URLs

def _by_size(model: type, column: str) -> Callable[[], Any]:
    """The rows of `model`, those with the most registrations first: the widest pages."""
    count = (select(func.count()).select_from(Registration)
             .where(Registration.__table__.c[column] == model.id)
             .correlate(model).scalar_subquery())
    return lambda: select(model).order_by(count.desc(), model.id)


# The rows a page may show, in the order a URL is chosen: the first one the viewer may
# open. Big events first; applications still to decide first (their pages do the most).
CANDIDATES: dict[type, Callable[[], Any]] = {
    Event: _by_size(Event, "event_id"),
    Registration: lambda: select(Registration).join(Registration.event).order_by(
        (Registration.status != RegistrationStatus.SUBMITTED), Event.starts_at.desc(),
        Registration.id),
    Organization: lambda: select(Organization).order_by(Organization.id),
    Agreement: lambda: select(Agreement).order_by(Agreement.id),
    SurveyResponse: lambda: select(SurveyResponse).order_by(SurveyResponse.id),
    BadgeBatch: lambda: select(BadgeBatch).order_by(BadgeBatch.id),
    Download: lambda: select(Download).order_by(Download.id),
    # The participants with the most opportunities and the meeting requests with the
    # longest histories first.
    Participant: lambda: select(Participant).order_by(
        select(func.count(Opportunity.id)).where(Opportunity.participant_id == Participant.id)
        .correlate(Participant).scalar_subquery().desc(), Participant.id),
    MeetingRequest: lambda: select(MeetingRequest).order_by(
        MeetingRequest.status, MeetingRequest.id),
    # Placed meetings, the earliest (held and rated: the most to show) first.
    Meeting: lambda: select(Meeting).where(Meeting.starts_at.is_not(None)).order_by(
        Meeting.starts_at, Meeting.id),
}


def _not_applied(event: Event, user) -> bool:
    return applications.closed_reason(event) is None and db.session.scalar(
        select(Registration.id).where(Registration.event_id == event.id,
                                      Registration.user_id == user.id)) is None


def _correctable(to_status: RegistrationStatus) -> Callable[[Registration, Any], bool]:
    def correctable(registration: Registration, _user) -> bool:
        try:
            registrations.check_correction(registration, to_status)
        except DomainError:
            return False
        return True
    return correctable


# Pages that show only for some of their rows (a status they change, an open call).
WANTED: dict[str, Callable[[Any, Any], bool]] = {
    "admin.event_publish": lambda event, _user: event.status == EventStatus.DRAFT,
    "admin.event_close": lambda event, _user: event.status == EventStatus.PUBLISHED,
    "admin.event_cancel": lambda event, _user: event.status == EventStatus.PUBLISHED,
    "apply.event_form": _not_applied,
    "desk.reopen": _correctable(RegistrationStatus.SUBMITTED),
    "desk.cancel_registration": _correctable(RegistrationStatus.CANCELLED),
    "quick_registration.event_form": lambda event, _user: (
        quick_registration.refusal(event) is None),
}


def _may_open_without_object(declared: access.Declared, user) -> bool:
    if declared.action in ("public", "link"):
        return True
    if (declared.signed_in or declared.action == "login") and not user.is_authenticated:
        return False
    if declared.action == "login":
        return True
    if declared.model is not None:
        return declared.first is None or access.can(user, declared.first)
    return access.can(user, declared.action)


def _first_row(endpoint: str, declared: access.Declared, user) -> Any:
    """The first candidate row `user` may open at `endpoint`, or None."""
    wanted = WANTED.get(endpoint, lambda _row, _user: True)
    for row in db.session.scalars(CANDIDATES[declared.model]()):
        if declared.visible and not access.can(user, declared.visible, row):
            continue
        if access.can(user, declared.action, row) and wanted(row, user):
            return row
    return None


@dataclass
class Values:
    """The values of a URL's variables for one viewer, beside its declared object's:
    each method is named after the variable it gives (None: the viewer has none)."""

    user: Any
    row: Any
    endpoint: str = ""

    def _event(self) -> Event:
        return self.row if isinstance(self.row, Event) else self.row.event

    def question_id(self) -> int | None:
        return self._event().questions[0].id if self._event().questions else None

    def session_id(self) -> int | None:
        return self._event().sessions[0].id if self._event().sessions else None

    def partner_id(self) -> int:
        return db.session.scalar(select(Partner.id).where(Partner.slug == demo.AALBORG.slug))

    def user_id(self) -> int:
        """A partner manager: an account with a role to remove, besides its own pages."""
        return db.session.scalar(select(User.id).where(
            User.email == _demo_account(Role.PARTNER_MANAGER)))

    def grant_id(self) -> int:
        return db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == self.user_id())
                                 .order_by(RoleGrant.id))

    def figure(self) -> str:
        return kpis.FIGURES[0]

    def name(self) -> str:
        """A KPI table's export."""
        return "kpis"

    def fmt(self) -> str:
        return "csv"

    def message_id(self) -> int:
        return db.session.scalars(notifications.delivered()).first().id

    def token_id(self) -> int | None:
        return next((t.id for t in api_tokens.tokens_of(self.user)), None)

    def _participation(self) -> Participant | None:
        """The viewer's own place in a marketplace, one with opportunities first."""
        if not self.user.is_authenticated:
            return None
        return db.session.scalars(
            select(Participant).join(Participant.registration)
            .where(Registration.user_id == self.user.id,
                   Participant.consent_given_at.is_not(None),
                   Participant.consent_withdrawn_at.is_(None))
            .order_by(Participant.opportunities.any().desc(), Participant.id)).first()

    def event_id(self) -> int | None:
        """The row's event, or the viewer's marketplace for their own pages (joining: an
        event whose marketplace they may join, not yet joined)."""
        if self.row is not None:
            return self.row.event_id
        if self.endpoint == "marketplace.join":
            return next((r.event_id for r in db.session.scalars(
                select(Registration).where(Registration.user_id == self.user.id)
                .order_by(Registration.id)) if access.can(self.user, "matchmaking.join", r)
                and marketplace.participant_of(r) is None), None)
        own = self._participation()
        return own.event_id if own else None

    def opportunity_id(self) -> int | None:
        own = self._participation()
        return own.opportunities[0].id if own and own.opportunities else None

    def request_id(self) -> int | None:
        """An accepted meeting of the event's schedule, to move."""
        return db.session.scalar(select(MeetingRequest.id).where(
            MeetingRequest.event_id == self._event().id,
            MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
            .order_by(MeetingRequest.id).limit(1))

    def run_id(self) -> int | None:
        """The event's latest "schedule all"."""
        return db.session.scalar(select(ScheduleRun.id).join(ScheduleRun.matchmaking).where(
            Matchmaking.event_id == self._event().id).order_by(ScheduleRun.id.desc()).limit(1))

    def code(self) -> str | None:
        """A badge of a delegate whom the viewer checks in."""
        found = db.session.scalars(CANDIDATES[Registration]().where(
            Registration.status == RegistrationStatus.APPROVED))
        return next((r.badge_code for r in found
                     if access.can(self.user, "event.checkin", r.event)), None)


def links_by_endpoint(app: Flask) -> dict[str, str]:
    """The demo's personal links, each under the endpoint it opens: what the mailbox
    holds, a survey invitation and a join link to a coming webinar."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, str] = {}
    invitation = open_survey()
    member = db.session.scalar(select(User).where(User.email == demo.DEMO_SME.email))
    joining = next(r for r in db.session.scalars(
        select(Registration).join(Registration.event)
        .where(Registration.user_id == member.id, Event.kind == EventKind.WEBINAR,
               Event.status == EventStatus.PUBLISHED,
               Registration.status == RegistrationStatus.APPROVED)))
    with app.test_request_context():
        links = [*_links_mailed(), notifications.absolute_url(
            "surveys.answer", token=surveys.link_token(invitation)),
            notifications.absolute_url("meeting_outcomes.follow_up",
                                       token=meeting_outcomes.link_token(open_follow_up())),
            notifications.absolute_url("join.open_link", token=joining.join_token)]
    for link in links:
        path = re.sub(r"^https?://[^/]+", "", link)
        endpoint, _values = adapter.match(path.partition("?")[0], method="GET")
        found.setdefault(endpoint, path)
    return found


def page_urls(app: Flask, viewer: Viewer, links: dict[str, str]) -> dict[str, str]:
    """endpoint -> the URL `viewer` opens it at, for every page they may open."""
    user = (AnonymousUserMixin() if viewer.email is None else
            db.session.scalar(select(User).where(User.email == viewer.email)))
    adapter = app.url_map.bind("localhost")
    urls = {}
    for rule in get_rules(app):
        declared = access.declared_rule(app.view_functions[rule.endpoint])
        if (not_a_page(rule.endpoint) or declared is None
                or not _may_open_without_object(declared, user)):
            continue
        if rule.endpoint in links:
            urls[rule.endpoint] = links[rule.endpoint]
            continue
        row = None
        if declared.model is not None:
            row = _first_row(rule.endpoint, declared, user)
            if row is None:
                continue
        given = Values(user, row, rule.endpoint)
        values = {name: (getattr(row, declared.by or "id") if name == declared.id_arg
                         else getattr(given, name, lambda: None)())
                  for name in rule.arguments}
        if None not in values.values():
            urls[rule.endpoint] = adapter.build(rule.endpoint, values)
    return urls


@dataclass
class Site:
    url: str
    endpoints: list[str]  # the GET endpoints that are pages
    urls: dict[str, dict[str, str]]  # role -> endpoint -> URL


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> Iterator[Site]:
    app = live_server.app
    previous = app.config["MAIL_TRANSPORT"]
    app.config["MAIL_TRANSPORT"] = "mailbox"  # so /dev/mail has pages to show
    with app.app_context():
        mail_with_links()
        stakeholder_invited()
        member_may_join()
        queued_badge_batch()
        queued_downloads()
        member_api_token()
        links = links_by_endpoint(app)
        endpoints = [r.endpoint for r in get_rules(app) if not not_a_page(r.endpoint)]
        urls = {viewer.role: page_urls(app, viewer, links) for viewer in VIEWERS}
        db.session.remove()
    try:
        yield Site(live_server.url, endpoints, urls)
    finally:
        app.config["MAIL_TRANSPORT"] = previous


# ------------------------------------------------------------------ measuring

# The innermost elements that reach past the right edge, named for the failure message;
# not those a box that fits scrolls or clips, unless positioned out of its flow.
OVERFLOWING = """() => {
  const edge = window.innerWidth + 0.5;
  const past = (el) => el.getBoundingClientRect().right > edge;
  const held = (el) => {
    if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) return false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible' && !past(up)) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll('*')]
    .filter((el) => past(el) && ![...el.children].some(past) && !held(el))
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join('') +
         ` (right ${Math.round(el.getBoundingClientRect().right)}): ` +
         (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60));
}"""


def overflows(page: Page) -> list[str]:
    """What reaches past the window's right edge at each width, for the page in view."""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            found.append(f"at {width} px: {scroll - inner} px too wide; "
                         f"{'; '.join(page.evaluate(OVERFLOWING))}")
    return found


# Marks whose colour says something (a status badge, a warning's text): each must say it in
# words too, as text or an accessible name; colour alone tells nothing to whom cannot see it.
COLOUR_ONLY = """() => [...document.querySelectorAll(
    '.badge, [class*="text-bg-"], .bg-success, .bg-danger, .bg-warning, .bg-info, ' +
    '.text-success, .text-danger, .text-warning')]
  .filter((el) => !(el.textContent || '').trim() && !el.getAttribute('aria-label')
                  && !el.getAttribute('title'))
  .slice(0, 5)
  .map((el) => el.outerHTML.slice(0, 120))"""


def sign_in(page: Page, email: str) -> None:
    """Sign in on the sign-in page, whatever its language."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo.DEMO_PASSWORD)
    page.locator("form:has(#password) [type=submit]").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


# The sweep's languages, each with the width axe checks it at: the source language, and the
# one whose script and long words differ most from it.
LANGUAGES = {"en": WIDTHS[-1], "el": PHONE}
# The one page axe leaves out: the vendored viewer of the API reference, not ours to mark up
# (and in English only).
NOT_AXED = {"api_docs.reference"}
# Pages in the language of the person they were sent to, whoever opens them.
ADDRESSED = {"surveys.answer", "meeting_outcomes.follow_up"}


@dataclass
class Sweep:
    language: str
    measured: set[str] = field(default_factory=set)
    too_wide: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    colour_only: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # pages that did not show


def sweep(page: Page, viewer: Viewer, urls: dict[str, str], into: Sweep,
          axe_findings: AxeFindings) -> None:
    for endpoint, url in urls.items():
        page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        response = page.goto(url)
        assert response is not None
        where = f"{viewer.role} at {url} ({endpoint})"
        kind = response.headers.get("content-type", "")
        if response.status >= 500:
            into.answers.append(f"{where}: {response.status}")
            continue
        if response.request.redirected_from is not None or response.status != 200:
            into.answers.append(f"{where}: {response.status}, led to {page.url}")
            continue
        if not kind.startswith("text/html"):
            into.answers.append(f"{where}: {kind}, not a page (list it in NOT_PAGES)")
            continue
        shown_in = page.evaluate("document.documentElement.lang")
        if (shown_in != languages.tag(into.language)
                and endpoint not in NOT_AXED | ADDRESSED):
            into.answers.append(f"{where}: in {shown_in!r}, not {into.language!r}")
            continue
        into.measured.add(endpoint)
        into.too_wide += [f"{where} {problem}" for problem in overflows(page)]
        into.colour_only += [f"{where}: {mark}" for mark in page.evaluate(COLOUR_ONLY)]
        if endpoint in NOT_AXED:
            continue
        page.set_viewport_size({"width": LANGUAGES[into.language], "height": HEIGHT})
        found = axe_findings(page)
        if found:
            into.violations.append(describe_violations(f"{where}, {into.language}", found))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_from_a_phone_to_a_wide_screen_and_passes_axe(
        browser: Browser, site: Site, language: str, axe_findings: AxeFindings):
    found = Sweep(language)
    for viewer in VIEWERS:
        # Chromium's Accept-Language follows the context's locale; the demo's accounts have
        # chosen no language, so they are served in their browser's.
        context = browser.new_context(base_url=site.url, locale=languages.tag(language),
                                      viewport={"width": WIDTHS[-1], "height": HEIGHT})
        try:
            page = context.new_page()
            page.set_default_timeout(10_000)
            if viewer.email:
                sign_in(page, viewer.email)
            sweep(page, viewer, site.urls[viewer.role], found, axe_findings)
        finally:
            context.close()

    unswept = [e for e in site.endpoints if e not in found.measured]
    assert not unswept, (
        f"pages no role was shown: {unswept}; give each a URL a role may open (Values) "
        "or list it in NOT_PAGES with the reason. Answers that were not pages:\n"
        + "\n".join(found.answers))
    assert not found.too_wide, "pages wider than the window:\n" + "\n".join(found.too_wide)
    assert not found.violations, "\n".join(found.violations)
    assert not found.colour_only, "told by colour alone:\n" + "\n".join(found.colour_only)


# Each piece of text in each KPI chart (a label, a figure): its box, and the height of
# its first line as drawn (a scaled-down drawing shrinks it, whatever the font size says).
CHART_TEXTS = """() => [...document.querySelectorAll('.kpi-chart')].map(chart => {
  const walker = document.createTreeWalker(chart, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    const lines = range.getClientRects();
    if (!lines.length) continue;  // not drawn (an SVG title)
    const box = range.getBoundingClientRect(), line = lines[0];
    texts.push({text, left: box.left, right: box.right, top: box.top, bottom: box.bottom,
                line: line.height});
  }
  return {name: chart.getAttribute('aria-label'), texts};
})"""


def _overlap(a: dict, b: dict) -> bool:
    slack = 0.5
    return (a["left"] < b["right"] - slack and b["left"] < a["right"] - slack
            and a["top"] < b["bottom"] - slack and b["top"] < a["bottom"] - slack)


def test_kpi_chart_labels_stay_whole_readable_and_apart_on_a_phone(page: Page, site: Site):
    sign_in(page, demo.ADMIN.email)
    page.set_viewport_size({"width": PHONE, "height": HEIGHT})
    page.goto(site.urls["admin"]["kpis.dashboard"])

    charts = page.evaluate(CHART_TEXTS)

    assert len(charts) >= 4 and all(c["texts"] for c in charts), charts
    problems = []
    for chart in charts:
        texts = chart["texts"]
        problems += [f"{chart['name']}: {a['text']!r} overlaps {b['text']!r}"
                     for i, a in enumerate(texts) for b in texts[i + 1:] if _overlap(a, b)]
        problems += [f"{chart['name']}: {t['text']!r} is drawn {t['line']:.0f} px high"
                     for t in texts if t["line"] < 14]
        problems += [f"{chart['name']}: {t['text']!r} is cut" for t in texts
                     if t["text"].endswith("…") or t["right"] > PHONE or t["left"] < 0]
    assert not problems, "\n".join(problems)


FORM = """<!doctype html><html lang="en"><head><title>Form</title></head><body><main>
<h1>{heading}</h1><form><label for="name">Name</label><input id="name" name="name">{more}
</form></main></body></html>"""


def test_axe_reads_a_page_again_when_its_kinds_of_elements_change_not_its_words(
        page: Page, axe_findings: AxeFindings):
    page.set_content(FORM.format(heading="Apply", more=""))
    assert axe_findings(page) == []
    read = len(axe_findings.read)

    page.set_content(FORM.format(heading="Another title, longer than the first", more=""))
    assert axe_findings(page) == []
    assert len(axe_findings.read) == read  # the same markup: the first reading serves

    page.set_content(FORM.format(heading="Apply", more='<input name="unlabelled">'))
    assert [finding["id"] for finding in axe_findings(page)] == ["label"]
    assert len(axe_findings.read) == read + 1

"""The delegation brochure: a printed A4 book hosts use to plan B2B meetings.

A cover (the mission, its dates in the event's zone, the target city, the hosts), a table
of contents by cluster, then one page per participating company: its logo, profile, what
it offers and seeks (the answers to the mission's default questions), sector, country,
cluster, and its delegates with their roles. Email and phone appear only where
`registration.contact` allows it for the viewer; the caller has checked `event.delegation`.

`services.pdf` renders it: our fonts, and a URL fetcher that reads only our static files
and the stored logos.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..localtime import local_dates
from ..models import Answer, Event, Organization, Partner, Registration, User
from . import logos, pdf
from .names import alphabetical, role_label
from .questions import MISSION_DEFAULTS

# The mission's default questions whose answers the company pages show, by their wording.
OFFERS_LABEL = MISSION_DEFAULTS[1].label
SEEKS_LABEL = MISSION_DEFAULTS[2].label



# --------------------------------------------------------------------------- what it shows


@dataclass(frozen=True)
class Delegate:
    name: str
    role: str
    # Empty unless the viewer may see this delegate's contact details.
    email: str = ""
    phone: str = ""

    @property
    def shows_contact(self) -> bool:
        return bool(self.email or self.phone)


@dataclass
class Company:
    organization: Organization
    cluster: str
    logo_url: str = ""
    offers: list[str] = field(default_factory=list)
    seeks: list[str] = field(default_factory=list)
    delegates: list[Delegate] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"company-{self.organization.id}"


@dataclass
class ClusterSection:
    partner: Partner | None  # None: companies without a home cluster
    label: str
    companies: list[Company] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"cluster-{self.partner.id if self.partner else 'none'}"


@dataclass
class Brochure:
    event: Event
    viewer_name: str
    sections: list[ClusterSection]
    # Approved people without an organization (staff, say): listed on a last page.
    individuals: list[Delegate]

    @property
    def first_day(self) -> date:
        return local_dates(self.event.starts_at, self.event.ends_at, self.event.timezone)[0]

    @property
    def last_day(self) -> date:
        return local_dates(self.event.starts_at, self.event.ends_at, self.event.timezone)[1]

    @property
    def companies(self) -> list[Company]:
        return [company for section in self.sections for company in section.companies]

    @property
    def delegate_count(self) -> int:
        return sum(len(c.delegates) for c in self.companies) + len(self.individuals)


def brochure_for(viewer: Any, event: Event, *, upload_folder: str) -> Brochure:
    """The approved delegation of `event` as companies grouped by their home cluster.

    Three statements whatever the size of the delegation: the registrations with their
    people, organizations and clusters, the answers to the offer/seek questions, and the
    event's hosts (for the cover)."""
    registrations = db.session.scalars(
        access.delegation_of(event).options(
            joinedload(Registration.user)
            .joinedload(User.organization)
            .joinedload(Organization.home_cluster),
        )
    ).unique().all()
    offers, seeks = _offer_and_seek_answers(event) if registrations else ({}, {})

    companies: dict[int, Company] = {}
    individuals: list[Delegate] = []
    for reg in sorted(registrations, key=lambda r: (alphabetical(r.user.name), r.id)):
        delegate = _delegate(viewer, reg)
        organization = reg.user.organization
        if organization is None:
            individuals.append(delegate)
            continue
        company = companies.get(organization.id)
        if company is None:
            cluster = organization.home_cluster
            company = companies[organization.id] = Company(
                organization, cluster.name if cluster else _("No cluster"),
                logo_url=_logo_url(organization, upload_folder),
            )
        company.delegates.append(delegate)
        # Several delegates of one company may have answered alike: say it once.
        for answer, into in ((offers.get(reg.id), company.offers),
                             (seeks.get(reg.id), company.seeks)):
            if answer and answer not in into:
                into.append(answer)

    sections: dict[int | None, ClusterSection] = {}
    for company in companies.values():
        partner = company.organization.home_cluster
        key = partner.id if partner else None
        if key not in sections:
            sections[key] = ClusterSection(partner, company.cluster)
        sections[key].companies.append(company)
    ordered = sorted(sections.values(), key=lambda s: (s.partner is None, alphabetical(s.label)))
    for section in ordered:
        section.companies.sort(key=lambda c: (alphabetical(c.organization.name), c.organization.id))
    return Brochure(event, getattr(viewer, "name", ""), ordered, individuals)


def _delegate(viewer: Any, reg: Registration) -> Delegate:
    role = role_label(reg.role)
    if not access.can(viewer, "registration.contact", reg):
        return Delegate(reg.user.name, role)
    return Delegate(reg.user.name, role, reg.user.email, reg.user.phone)


def _offer_and_seek_answers(event: Event) -> tuple[dict[int, str], dict[int, str]]:
    """The answers to "What does your company offer?" and "What are you looking for?",
    by registration id. Events that do not ask them (by wording) leave both empty."""
    wanted = {OFFERS_LABEL.casefold(): "offers", SEEKS_LABEL.casefold(): "seeks"}
    question_ids = {
        q.id: wanted[q.label.strip().casefold()] for q in event.questions
        if q.label.strip().casefold() in wanted
    }
    found: dict[str, dict[int, str]] = {"offers": {}, "seeks": {}}
    if not question_ids:
        return found["offers"], found["seeks"]
    # A subquery, not a list of ids: a large delegation stays one statement.
    delegates = access.delegation_of(event).with_only_columns(Registration.id)
    rows = db.session.execute(
        select(Answer.registration_id, Answer.question_id, Answer.value).where(
            Answer.question_id.in_(question_ids), Answer.registration_id.in_(delegates))
    ).all()
    for registration_id, question_id, value in rows:
        if isinstance(value, str) and value.strip():
            found[question_ids[question_id]][registration_id] = value.strip()
    return found["offers"], found["seeks"]


def _logo_url(organization: Organization, upload_folder: str) -> str:
    if not logos.is_stored_name(organization.logo_filename):
        return ""
    path = Path(upload_folder) / organization.logo_filename
    # A logo whose file went missing (another machine, a restore) leaves the space empty.
    return path.resolve().as_uri() if path.is_file() else ""


# --------------------------------------------------------------------------- the document


def render_html(brochure: Brochure) -> str:
    return render_template("brochure/brochure.html", brochure=brochure)


def render_pdf(viewer: Any, event: Event) -> bytes:
    """The brochure of `event` as `viewer` may see it, as PDF bytes."""
    renderer = pdf.Renderer()
    brochure = brochure_for(viewer, event, upload_folder=str(renderer.files.upload_folder))
    return renderer.pdf(render_html(brochure))

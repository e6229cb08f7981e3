"""Badges: what one shows, who gets which, and the PDF of one or of a whole delegation.

A badge belongs to an approved registration. It shows the person's name (large, smaller
for long names so it always fits), organization, country, role on the event, cluster,
the event's title and local dates, and a QR code of the check-in URL of the registration's
badge code: 15 random symbols and a check symbol, nothing about the person. The code is
printed under the QR as well, for typing at a door whose camera fails.

Two layouts, from `templates/badges/`: A6 (one badge per page, for badge printers and
pre-cut card) and A4 (four smaller badges a sheet, inside the margins office printers
need, with cut marks in those margins). Pages are laid out in groups of about
LAYOUT_BADGES badges, after each of which a batch reports its progress (pages lay out
faster together than one by one); every CHUNK_PAGES pages are
written as one PDF and the chunks merged, so memory stays flat however big the batch.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import segno
from flask import render_template
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..localtime import format_days, local_dates
from ..models import (
    BadgeFormat,
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    User,
)
from ..models.types import BADGE_ALPHABET, BADGE_CODE_RANDOM, badge_check_symbol
from . import pdf
from .errors import DomainError
from .names import by_cluster_then_surname, cluster_name, role_label
from .notifications import absolute_url, event_lang, event_title
from .places import country_name

# Batches above this size are built in the background (services.badge_batches).
BACKGROUND_THRESHOLD = 100
CHUNK_PAGES = 50
# Pages laid out together: per-document work (the cascade's setup, parsing) is shared, and
# progress is reported after each group (a 500-badge batch advances in steps of 5 %).
LAYOUT_BADGES = 25
BADGES_PER_SHEET = {BadgeFormat.A6: 1, BadgeFormat.A4: 4}
# The width the name may take, in points: the badge less its padding (see badges.css).
NAME_WIDTH_PT = {BadgeFormat.A6: 91 * 72 / 25.4, BadgeFormat.A4: 78 * 72 / 25.4}
NAME_LARGEST_PT = 30.0
NAME_SMALLEST_PT = 9.0


# --------------------------------------------------------------------------- the code


class BadgeCodeError(DomainError, ValueError):
    """What was scanned or typed is not a badge code of ours; the message says why."""


def normalize_code(typed: str) -> str:
    """The code in `typed`: a scanned check-in URL or the printed code, with or without its
    spaces, in any case, with the look-alikes people type for 0 and 1 (O, I, L) mended.
    Raises BadgeCodeError when it cannot be one of ours, or has a typo."""
    text = (typed or "").strip()
    if "/" in text:  # a scanned URL: the code is its last path segment
        text = text.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    cleaned = "".join(c for c in text.upper() if c not in " -\u00a0\t")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if not cleaned:
        raise BadgeCodeError("badge.code_missing")
    if len(cleaned) != BADGE_CODE_RANDOM + 1 or any(c not in BADGE_ALPHABET for c in cleaned):
        raise BadgeCodeError("badge.not_a_code", length=BADGE_CODE_RANDOM + 1)
    if badge_check_symbol(cleaned[:-1]) != cleaned[-1]:
        raise BadgeCodeError("badge.code_typo")
    return cleaned


def printed_code(code: str) -> str:
    """"K7QM 2XPA 9RTE H3WD": four groups of four, easy to read out and type."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def checkin_url(registration: Registration) -> str:
    return absolute_url("checkin.badge", code=registration.badge_code)


# --------------------------------------------------------------------------- what it shows


@dataclass(frozen=True)
class Badge:
    registration_id: int
    name: str
    organization: str
    country: str
    role: str
    role_key: str
    cluster: str
    event_title: str
    dates: str
    place: str
    code: str
    url: str
    # The language the event's title is in (its main one where the reader's is not given).
    event_lang: str = ""

    @property
    def printed_code(self) -> str:
        return printed_code(self.code)

    def qr_svg(self) -> Markup:
        # Medium error correction survives a crease or a pen mark; the SVG has a viewBox
        # and no size, so CSS sizes it and it stays sharp at any print resolution.
        qr = segno.make(self.url, error="m")
        return Markup(qr.svg_inline(omitsize=True, dark="#000", light="#fff"))  # noqa: S704 - segno's own SVG

    def name_size(self, badge_format: BadgeFormat) -> float:
        return name_size(self.name, NAME_WIDTH_PT[badge_format])


def _em_width(char: str) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char.isspace():
        return 0.26
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0  # combining marks and invisible format characters take no room
    return 0.62  # a bold Latin letter, slightly generous


# (lines, share of each line a wrapped name really fills, the smallest size worth that
# many lines): a name stays on one line while it can be 20 pt, on two down to 14 pt.
NAME_LAYOUTS = ((1, 1.0, 20.0), (2, 0.88, 14.0))
NAME_LAST_LAYOUT = (3, 0.85)
NAME_WORD_FILL = 0.9


def name_size(name: str, width_pt: float) -> float:
    """The largest size (in points) at which `name` fits the badge: one line when it can
    stay large, two or three when it must, never below NAME_SMALLEST_PT (a longer name
    wraps further rather than shrinking out of sight)."""
    width_em = sum(_em_width(c) for c in name) or 1.0
    # Lines break between words: the longest word must fit one line, with room for what
    # the estimate misses (bold Greek and Cyrillic run wider), or it is cut mid-word.
    longest_em = max((sum(_em_width(c) for c in word) for word in name.split()),
                     default=0.0) or 1.0

    def fitting(lines: int, fill: float) -> float:
        return min(NAME_LARGEST_PT, width_pt * lines * fill / width_em,
                   width_pt * NAME_WORD_FILL / longest_em)

    size = next((fitting(lines, fill) for lines, fill, at_least in NAME_LAYOUTS
                 if fitting(lines, fill) >= at_least), fitting(*NAME_LAST_LAYOUT))
    return max(NAME_SMALLEST_PT, round(size * 2) / 2)


def badge_of(registration: Registration) -> Badge:
    """What the badge shows, in the language being rendered (the role, the dates, the
    country names and the event's title are the reader's)."""
    event = registration.event
    user = registration.user
    organization: Organization | None = user.organization
    first, last = local_dates(event.starts_at, event.ends_at, event.timezone)
    country = country_name(event.target_country)
    place = country if event.target_city in ("", country) else f"{event.target_city}, {country}"
    return Badge(
        registration_id=registration.id,
        name=user.name,
        organization=organization.name if organization else "",
        country=country_name(organization.country) if organization else "",
        role=role_label(registration.role),
        role_key=str(registration.role),
        cluster=cluster_name(registration),
        event_title=event_title(event),
        event_lang=event_lang(event),
        dates=format_days(first, last),
        place=place,
        code=registration.badge_code,
        url=checkin_url(registration),
    )


def _with_people(query):
    return query.options(
        joinedload(Registration.user).joinedload(User.organization)
        .joinedload(Organization.home_cluster),
        joinedload(Registration.event),
    )


def batch_registrations(viewer: Any, event: Event, partner_id: int | None = None
                        ) -> list[Registration]:
    """The approved registrations whose badges `viewer` may print for `event` (optionally
    one partner's), by cluster, then surname: the order a desk hands them out in."""
    query = access.delegates_served_by(viewer, event)
    if partner_id is not None:
        query = query.where(Registration.responsible_partner_id == partner_id)
    registrations = db.session.scalars(_with_people(query)).unique().all()
    return sorted(registrations, key=by_cluster_then_surname)



def batch_size(viewer: Any, event: Event, partner_id: int | None = None) -> int:
    query = access.delegates_served_by(viewer, event)
    if partner_id is not None:
        query = query.where(Registration.responsible_partner_id == partner_id)
    return db.session.scalar(query.with_only_columns(db.func.count(Registration.id))) or 0


# --------------------------------------------------------------------------- the document


Progress = Callable[[int, int], None]


def _pages(badges: Sequence[Badge], badge_format: BadgeFormat) -> list[list[Badge]]:
    per_page = BADGES_PER_SHEET[badge_format]
    return [list(badges[start:start + per_page]) for start in range(0, len(badges), per_page)]


class NothingToPrint(DomainError):
    """No badge to print: nobody approved, or none the requester may print."""


def render(badges: Sequence[Badge], badge_format: BadgeFormat = BadgeFormat.A6, *,
           progress: Progress | None = None) -> bytes:
    """The PDF of `badges` in `badge_format`; `progress(done, total)` after every group
    of pages holding about LAYOUT_BADGES badges."""
    if not badges:
        raise NothingToPrint("badge.none_left_to_print")
    renderer = pdf.Renderer()
    stylesheet = renderer.stylesheet(render_template("badges/badges.css"))
    pages = _pages(badges, badge_format)
    chunks: list[bytes] = []
    laid_out: list[Any] = []
    in_chunk = done = 0
    per_group = max(1, LAYOUT_BADGES // BADGES_PER_SHEET[badge_format])
    for start in range(0, len(pages), per_group):
        group = pages[start:start + per_group]
        html = render_template("badges/page.html", pages=group, format=badge_format)
        laid_out.append(renderer.layout(html, [stylesheet]))
        in_chunk += len(group)
        done += sum(len(page) for page in group)
        if progress:
            progress(done, len(badges))
        if in_chunk >= CHUNK_PAGES:
            chunks.append(_write(renderer, laid_out))
            laid_out, in_chunk = [], 0
    if laid_out:
        chunks.append(_write(renderer, laid_out))
    return chunks[0] if len(chunks) == 1 else merge(chunks)


def _write(renderer: pdf.Renderer, documents: list[Any]) -> bytes:
    return renderer.write([page for document in documents for page in document.pages],
                          documents[0])


def merge(chunks: Sequence[bytes]) -> bytes:
    """One PDF of several, page after page."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for chunk in chunks:
        writer.append(PdfReader(io.BytesIO(chunk)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def badge_pdf(registration: Registration, badge_format: BadgeFormat = BadgeFormat.A6) -> bytes:
    """One person's badge. The caller has checked `registration.badge`."""
    if registration.status != RegistrationStatus.APPROVED:
        raise ValueError("only an approved registration has a badge")
    return render([badge_of(registration)], badge_format)


def batch_pdf(viewer: Any, event: Event, badge_format: BadgeFormat, *,
              partner_id: int | None = None, progress: Progress | None = None) -> bytes:
    """The badges `viewer` may print for `event`, built from the database as it is now."""
    badges = [badge_of(reg) for reg in batch_registrations(viewer, event, partner_id)]
    return render(badges, badge_format, progress=progress)

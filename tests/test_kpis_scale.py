"""The KPIs at scale: the dashboard's, the detail rows' and the exports' statements do not
grow with the data; the PDF report holds every figure the dashboard shows; and on the demo
data the figures equal a count made independently, row by row, from the ORM."""

from __future__ import annotations

import subprocess
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.conftest import count_queries
from tests.factories import at
from webapp import demo
from webapp.extensions import db as _db
from webapp.models import (
    DIRECT_ROLES,
    MISSION_KINDS,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Attendance,
    AttendanceSource,
    Event,
    EventKind,
    Helix,
    OrganizationSize,
    OutcomeConfirmation,
    PartnerKind,
    Registration,
    SurveyInvitation,
    SurveyResponse,
)
from webapp.models import RegistrationStatus as S
from webapp.services import checkin, kpis

ALL_TIME = kpis.Period()


def attended(registration) -> None:
    _db.session.add(Attendance(registration_id=registration.id, session_id=None,
                               recorded_at=registration.event.starts_at,
                               source=AttendanceSource.CHECK_IN))


@pytest.fixture
def clusters(make):
    return dict(a=make.partner(short_name="Cluster A"), b=make.partner(short_name="Cluster B"))


def grow(make, clusters, missions: int) -> None:
    """`missions` missions (two SMEs of each cluster on each) and as many webinars and
    signed agreements, in 2019 and 2020."""
    guest = make.organization(None, country="SG", name="Guest Pte")
    for n in range(missions):
        year = 2019 + n % 2
        mission = make.event(organizers=[clusters["a"]], starts_at=at(year, 3, 1 + n),
                             title=f"Mission M{n}")
        webinar = make.event(kind=EventKind.WEBINAR, starts_at=at(year, 4, 1 + n),
                             title=f"Webinar W{n}", requires_approval=False)
        for cluster in (clusters["a"], clusters["b"]):
            for _ in range(2 + n % 3):
                sme = make.organization(cluster)
                attended(make.registration(mission, make.user(sme), S.SUBMITTED, S.APPROVED))
            attended(make.registration(webinar, make.user(make.organization(cluster)),
                                       S.SUBMITTED, S.APPROVED))
        _db.session.add(Agreement(
            kind=AgreementKind.COLLABORATION if n % 2 else AgreementKind.PARTNERSHIP,
            type=AgreementType.MEMORANDUM, status=AgreementStatus.SIGNED,
            title=f"Agreement G{n}", responsible_partner=clusters["b" if n % 2 else "a"],
            signed_on=date(year, 5, 1 + n), origin_event=mission,
            parties=[AgreementParty(position=0, partner=clusters["a"]),
                     AgreementParty(position=1, organization=guest)]))
    _db.session.flush()


# --------------------------------------------------------------------------- statements


def _statements(client, path: str) -> int:
    with count_queries() as statements:
        assert client.get(path).status_code == 200, path
    return len(statements)


def _built_statements(app, name: str, clusters) -> int:
    with app.test_request_context(), count_queries() as statements:
        assert kpis.table(name, ALL_TIME, clusters).rows
    return len(statements)


def test_no_statement_count_grows_with_the_data(app, client, login_as, make, clusters):
    pages = ["/kpis/", *(f"/kpis/rows/{figure}" for figure in kpis.FIGURES)]
    tables = ["kpis", *kpis.BREAKDOWNS, "agreements"]
    viewers = [("admin", make.admin(), None),
               ("manager", make.manager(clusters["a"]), [clusters["a"].id])]
    counted = []
    for missions in (1, 6):
        grow(make, clusters, missions)
        sizes = {}
        for who, user, scope in viewers:
            login_as(user)
            sizes |= {(who, path): _statements(client, path) for path in pages}
            sizes |= {(who, name): _built_statements(app, name, scope) for name in tables}
        counted.append(sizes)

    assert counted[0] == counted[1]


def test_a_report_counts_once_for_the_partnership_once_for_a_managers_clusters(make,
                                                                               clusters):
    grow(make, clusters, 3)
    with count_queries() as admin:
        report = kpis.report(ALL_TIME, None)
        [report.tables[name] for name in kpis.BREAKDOWNS if name != "delegations"]
    with count_queries() as manager:
        report = kpis.report(ALL_TIME, [clusters["a"].id])
        [report.tables[name] for name in kpis.BREAKDOWNS if name != "delegations"]

    grouped = [s for s in admin if "GROUP BY" in s and "attended" in s]
    assert len(grouped) == 1
    assert len([s for s in manager if "GROUP BY" in s and "attended" in s]) == 2


# --------------------------------------------------------------------------- the PDF


class _Cells(HTMLParser):
    """The dashboard's figures: each KPI cell's text (`figure-...` links) and the cells of
    every row of its tables, by table name."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.hidden = 0
        self.figure: str | None = None
        self.table: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "visually-hidden" in (attrs.get("class") or "").split():
            self.hidden += 1
        elif self.hidden:
            self.hidden += tag != "br"
        testid = attrs.get("data-testid") or ""
        if tag == "a" and testid.startswith("figure-"):
            self.figure = testid
            self.figures[testid] = ""
        if tag == "table":
            self.table = testid.removeprefix("table-") or "agreements"
            self.tables[self.table] = []
        if tag == "tr" and self.table is not None:
            self.tables[self.table].append([])
        if tag in ("td", "th") and self.table is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if self.hidden:
            self.hidden -= 1
            return
        if tag == "a":
            self.figure = None
        if tag in ("td", "th") and self.cell is not None:
            self.tables[self.table][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.hidden:
            return
        if self.figure:
            self.figures[self.figure] += data.strip()
        if self.cell is not None:
            self.cell.append(data)


def _pdf_text(body: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True,
                          check=True).stdout.decode()


def _line_with(lines: list[str], cells: list[str]) -> bool:
    """Whether a line of the PDF holds `cells` (the first and then the others, in order)."""
    for line in lines:
        if cells[0] not in line:
            continue
        rest = " ".join(line.split(cells[0], 1)[1].split())
        position = 0
        for cell in cells[1:]:
            found = f" {rest} ".find(f" {cell} ", position)
            if found < 0:
                break
            position = found + len(cell) + 1
        else:
            return True
    return False


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_the_pdf_report_holds_every_figure_the_dashboard_shows(app, client, login_as, make,
                                                                clusters, monkeypatch, who):
    monkeypatch.setattr(kpis, "SHOWN_ROWS", 4)  # the growing tables show their top rows
    grow(make, clusters, 6)
    viewer, scope = ((make.admin(), None) if who == "admin"
                     else (make.manager(clusters["a"]), [clusters["a"].id]))
    login_as(viewer)
    html = client.get("/kpis/").get_data(as_text=True)
    page = _Cells()
    page.feed(html)
    with app.test_request_context():
        body = kpis.render_report_pdf(kpis.report(ALL_TIME, scope))
    lines = _pdf_text(body).splitlines()

    assert len(page.figures) == len(kpis.FIGURES) * (1 if who == "admin" else 2)
    for figure in kpis.FIGURES:
        shown = [page.figures[f"figure-{figure}"]]
        if who == "manager":
            shown.append(page.figures[f"figure-{figure}-own"])
        assert _line_with(lines, [kpis.FIGURE_LABELS[figure].split(" (")[0], *shown]), figure
    assert {"by_year", "by_mission", "by_region", "by_cluster", "webinars",
            "agreements"} <= set(page.tables)
    assert len(page.tables["by_mission"]) == 1 + 4  # the header and the top rows
    note = "The 4 rows with the largest figures of 6; the dashboard's download holds"
    assert note in unescape(html) and note in " ".join(" ".join(lines).split())
    for name, rows in page.tables.items():
        for cells in rows[1:] if name != "kpis" else ():  # the KPI table: checked above
            kept = cells[:1] + [cell for cell in cells[1:] if cell.isdigit()]
            assert _line_with(lines, kept), (name, cells)
    assert "Missions: delegations by cluster" in "\n".join(lines)


# --------------------------------------------------------------------------- the demo


def test_the_demos_figures_equal_a_count_row_by_row(db):
    """Every headline figure and the by-cluster breakdown, made by kpis, against the same
    definitions applied to the demo's rows one by one in Python."""
    demo.load()
    period = kpis.Period(date(2018, 1, 1), date(2019, 12, 31))

    def in_period(event) -> bool:
        return date(2018, 1, 1) <= event.starts_at.date() <= date(2019, 12, 31)

    registrations = _db.session.scalars(select(Registration)).all()

    def counts(registration) -> bool:
        return any(a.source != AttendanceSource.CHECK_IN
                   or checkin.window(registration.event).holds(a.recorded_at)
                   for a in _db.session.scalars(select(Attendance).where(
                       Attendance.registration_id == registration.id)))

    attended_rows = [r for r in registrations
                     if r.status == S.APPROVED and r.role not in DIRECT_ROLES
                     and in_period(r.event) and counts(r)]

    def sme(registration) -> bool:
        organization = registration.user.organization
        return (registration.event.kind in MISSION_KINDS
                and registration.responsible_partner_id is not None
                and organization is not None and organization.helix == Helix.INDUSTRY
                and organization.size in (OrganizationSize.MICRO, OrganizationSize.SMALL,
                                          OrganizationSize.MEDIUM))

    served = {(r.user.organization_id, r.responsible_partner_id)
              for r in attended_rows if sme(r)}
    for confirmation in _db.session.scalars(select(OutcomeConfirmation)):
        response = _db.session.get(SurveyResponse, confirmation.response_id)
        invitation = _db.session.get(SurveyInvitation, response.invitation_id)
        registration = _db.session.get(Registration, invitation.registration_id)
        agreement = _db.session.get(Agreement, confirmation.agreement_id)
        if (agreement.status in kpis.SIGNED and in_period(registration.event)
                and sme(registration)):
            served.add((registration.user.organization_id,
                        registration.responsible_partner_id))
    organizing = {p for event in _db.session.scalars(select(Event)) if in_period(event)
                  for p in event.organizers}
    involved = ({p.id for p in organizing if p.kind == PartnerKind.CLUSTER}
                | {r.responsible_partner_id for r in attended_rows
                   if r.responsible_partner is not None
                   and r.responsible_partner.kind == PartnerKind.CLUSTER})
    signed = [a for a in _db.session.scalars(select(Agreement))
              if a.status in kpis.SIGNED and date(2018, 1, 1) <= a.signed_on
              <= date(2019, 12, 31)]

    figures = kpis.headline(period)

    assert figures.smes == len({organization for organization, _ in served}) > 0
    assert figures.delegates == len([r for r in attended_rows
                                     if r.event.kind in MISSION_KINDS]) > 0
    assert figures.webinar_attendance == len([r for r in attended_rows
                                              if r.event.kind == EventKind.WEBINAR])
    assert figures.clusters == len(involved) > 0
    assert figures.partnership_agreements == len(
        [a for a in signed if a.kind == AgreementKind.PARTNERSHIP]) > 0
    assert figures.collaboration_agreements == len(
        [a for a in signed if a.kind == AgreementKind.COLLABORATION]) > 0
    by_cluster = kpis.breakdown("by_cluster", period, None)
    for row, filters in zip(by_cluster.rows, by_cluster.filters, strict=True):
        cluster = filters.cluster_id
        assert row[3] == len([r for r in attended_rows if r.responsible_partner_id == cluster
                              and r.event.kind in MISSION_KINDS]), row
        assert row[4] == len({o for o, c in served if c == cluster}), row
        assert row[5:] == [len([a for a in signed if a.responsible_partner_id == cluster
                                and a.kind == kind])
                           for kind in (AgreementKind.PARTNERSHIP,
                                        AgreementKind.COLLABORATION)], row
    assert {f.cluster_id for f in by_cluster.filters} == involved

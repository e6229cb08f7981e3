"""The KPI service's definitions on hand-built data, the dashboard's scope, its exports and
its query count."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import count_queries
from tests.downloading import built_file, download_built_pdf
from tests.factories import at
from webapp.extensions import db as _db
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Attendance,
    AttendanceSource,
    EventKind,
    Helix,
    OrganizationSize,
    OutcomeConfirmation,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from webapp.models import RegistrationStatus as S
from webapp.services import kpis

YEAR_2019 = kpis.Period(date(2019, 1, 1), date(2019, 12, 31))


def attended(registration):
    _db.session.add(Attendance(registration_id=registration.id, session_id=None,
                               recorded_at=registration.event.starts_at,
                               source=AttendanceSource.CHECK_IN))
    _db.session.flush()
    return registration


def delegate(make, event, organization, *path):
    """A delegate of `organization` who went through `path` (default: approved)."""
    user = make.user(organization)
    return make.registration(event, user, *(path or (S.SUBMITTED, S.APPROVED)))


def agreement(kind, status, responsible, parties, signed_on=None, **kw):
    row = Agreement(kind=kind, type=AgreementType.MEMORANDUM, status=status,
                    title=kw.pop("title", f"{kind} {status} {signed_on}"),
                    responsible_partner=responsible, signed_on=signed_on,
                    parties=[AgreementParty(position=n,
                                            partner=p if hasattr(p, "is_member") else None,
                                            organization=None if hasattr(p, "is_member") else p)
                             for n, p in enumerate(parties)], **kw)
    _db.session.add(row)
    _db.session.flush()
    return row


@pytest.fixture
def world(make):
    cluster_a, cluster_b = make.partner(short_name="Cluster A"), make.partner(short_name="B")
    fellow = make.partner(is_member=False, short_name="Fellow")
    beachhead = make.beachhead(short_name="Beachhead")
    mission = make.event(organizers=[cluster_a, fellow], hosts=[beachhead],
                         starts_at=at(2019, 6, 3, 1))
    return dict(a=cluster_a, b=cluster_b, fellow=fellow, beachhead=beachhead, mission=mission)


# --------------------------------------------------------------------------- SMEs served


def test_an_sme_with_two_delegates_counts_once(make, world):
    sme = make.organization(world["a"])
    attended(delegate(make, world["mission"], sme))
    attended(delegate(make, world["mission"], sme))

    figures = kpis.headline(YEAR_2019)

    assert (figures.smes, figures.delegates) == (1, 2)


def test_an_sme_on_two_missions_counts_once_in_the_period_and_once_each_year(make, world):
    sme = make.organization(world["a"])
    later = make.event(organizers=[world["a"]], starts_at=at(2020, 3, 1))
    attended(delegate(make, world["mission"], sme))
    registration = make.registration(later, sme_user := make.user(sme), S.SUBMITTED, S.APPROVED)
    attended(registration)
    assert sme_user.organization_id == sme.id

    assert kpis.headline(kpis.Period(date(2019, 1, 1), date(2020, 12, 31))).smes == 1
    rows = kpis.breakdown("by_year", kpis.Period(), None).rows
    assert [(row[0], row[1]) for row in rows] == [(2019, 1), (2020, 1)]


def test_a_withdrawn_delegate_does_not_count_even_if_checked_in_before(make, world):
    sme = make.organization(world["a"])
    attended(delegate(make, world["mission"], sme, S.SUBMITTED, S.APPROVED, S.WITHDRAWN))

    figures = kpis.headline(YEAR_2019)

    assert (figures.smes, figures.delegates) == (0, 0)


def test_an_approved_delegate_who_never_came_is_not_served(make, world):
    delegate(make, world["mission"], make.organization(world["a"]))

    assert kpis.headline(YEAR_2019).smes == 0


@pytest.mark.parametrize(("helix", "size"), [
    (Helix.INDUSTRY, OrganizationSize.LARGE),
    (Helix.RESEARCH, OrganizationSize.SMALL),
    (Helix.INDUSTRY, None),
])
def test_only_micro_small_and_medium_companies_are_smes(make, world, helix, size):
    organization = make.organization(world["a"], helix=helix, size=size)
    attended(delegate(make, world["mission"], organization))

    figures = kpis.headline(YEAR_2019)

    assert (figures.smes, figures.delegates) == (0, 1)


def test_an_sme_without_a_cluster_is_a_target_region_guest_not_served(make, world):
    attended(delegate(make, world["mission"], make.organization(None, country="SG")))

    assert kpis.headline(YEAR_2019).smes == 0


def test_a_webinar_is_not_a_mission_but_counts_its_attendance(make, world):
    webinar = make.event(kind=EventKind.WEBINAR, organizers=[world["a"]],
                         starts_at=at(2019, 5, 1, 8), timezone="Europe/Brussels")
    attended(delegate(make, webinar, make.organization(world["a"])))
    delegate(make, webinar, make.organization(world["a"]))  # registered, never joined

    figures = kpis.headline(YEAR_2019)

    assert (figures.smes, figures.delegates, figures.webinar_attendance) == (0, 0, 1)


def test_events_outside_the_period_do_not_count(make, world):
    attended(delegate(make, world["mission"], make.organization(world["a"])))

    assert kpis.headline(kpis.Period(date(2020, 1, 1), date(2020, 12, 31))).smes == 0
    assert kpis.headline(kpis.Period(date(2019, 6, 3), date(2019, 6, 3))).smes == 1


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(kpis.Refused, match="before its start"):
        kpis.Period(date(2019, 2, 1), date(2019, 1, 31))


# --------------------------------------------------------------------------- clusters involved


def test_clusters_involved_co_organize_or_send_delegates_beachheads_aside(make, world):
    attended(delegate(make, world["mission"], make.organization(world["b"])))
    make.partner(short_name="Idle")  # a cluster that did nothing

    figures = kpis.headline(YEAR_2019)

    # A and the fellow cluster organize, B sent a delegate; the beachhead hosts only.
    assert figures.clusters == 3
    assert kpis.headline(YEAR_2019, [world["b"].id]).clusters == 1


def test_a_cluster_whose_delegate_withdrew_is_not_involved(make, world):
    other = make.event(organizers=[world["a"]], starts_at=at(2019, 9, 1))
    attended(delegate(make, other, make.organization(world["b"]),
                      S.SUBMITTED, S.APPROVED, S.WITHDRAWN))

    assert kpis.headline(YEAR_2019).clusters == 2  # A and the fellow cluster


# --------------------------------------------------------------------------- agreements


def test_an_agreement_in_negotiation_is_not_signed(make, world):
    sme, guest = make.organization(world["a"]), make.organization(None, country="SG")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.IN_NEGOTIATION, world["a"],
              [sme, guest])
    agreement(AgreementKind.PARTNERSHIP, AgreementStatus.IN_NEGOTIATION, world["a"],
              [world["a"], world["beachhead"]])

    figures = kpis.headline(YEAR_2019)

    assert (figures.partnership_agreements, figures.collaboration_agreements) == (0, 0)


def test_signed_and_since_ended_agreements_count_in_the_year_they_were_signed(make, world):
    sme, guest = make.organization(world["a"]), make.organization(None, country="US")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["a"], [sme, guest],
              signed_on=date(2019, 3, 1))
    agreement(AgreementKind.COLLABORATION, AgreementStatus.ENDED, world["b"], [sme, guest],
              signed_on=date(2019, 4, 1), ended_on=date(2020, 4, 1))
    agreement(AgreementKind.PARTNERSHIP, AgreementStatus.SIGNED, world["a"],
              [world["a"], world["fellow"]], signed_on=date(2018, 12, 31))

    assert kpis.headline(YEAR_2019).collaboration_agreements == 2
    assert kpis.headline(YEAR_2019).partnership_agreements == 0
    assert kpis.headline(kpis.Period()).partnership_agreements == 1
    assert kpis.headline(YEAR_2019, [world["b"].id]).collaboration_agreements == 1


# --------------------------------------------------------------------------- satisfaction


def answered(registration, satisfaction, round_=SurveyRound.FIRST):
    invitation = SurveyInvitation(registration_id=registration.id, round=round_,
                                  due_at=registration.event.ends_at,
                                  sent_at=registration.event.ends_at,
                                  remind_at=registration.event.ends_at)
    invitation.response = SurveyResponse(satisfaction=satisfaction,
                                         answered_at=registration.event.ends_at)
    _db.session.add(invitation)
    _db.session.flush()


def test_satisfaction_is_the_mean_of_the_first_rounds_answers_in_scope(make, world):
    alpha, beta = make.organization(world["a"]), make.organization(world["b"])
    first = attended(delegate(make, world["mission"], alpha))
    answered(first, 5)
    answered(first, 1, SurveyRound.SIX_MONTHS)  # what came of it: not the satisfaction
    answered(attended(delegate(make, world["mission"], alpha)), 4)
    answered(attended(delegate(make, world["mission"], beta)), 3)

    figures = kpis.headline(YEAR_2019)
    assert (figures.satisfaction, figures.satisfaction_answers) == (4.0, 3)
    assert figures.value("satisfaction") == "4.0 (3 answers)"
    own = kpis.headline(YEAR_2019, [world["a"].id])
    assert (own.satisfaction, own.satisfaction_answers) == (4.5, 2)
    assert kpis.headline(kpis.Period(date(2020, 1, 1), None)).value("satisfaction") == "-"
    rows = kpis.detail_rows("satisfaction", YEAR_2019, kpis.Filters(), [world["b"].id])
    assert [row[4] for row in rows.rows] == [3]


def test_an_sme_with_a_confirmed_outcome_is_served_once_and_in_its_clusters_scope(
        make, world):
    sme = make.organization(world["a"])
    registration = attended(delegate(make, world["mission"], sme))
    answered(registration, 5)
    response = _db.session.scalar(select(SurveyResponse))
    guest = make.organization(None, country="SG")
    signed = agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["a"],
                       [sme, guest], signed_on=date(2019, 9, 1))
    response.confirmations.append(OutcomeConfirmation(agreement=signed))
    _db.session.flush()

    sources = kpis.served_sme_sources(YEAR_2019, None)
    assert [len(_db.session.execute(source).all()) for source in sources] == [1, 1]
    assert kpis.headline(YEAR_2019).smes == 1  # attended and confirmed: one SME
    assert kpis.headline(YEAR_2019, [world["b"].id]).smes == 0


# --------------------------------------------------------------------------- the pages


@pytest.fixture
def two_clusters(make, world):
    """Cluster A's SME Alpha and cluster B's SME Beta on the mission, an agreement each."""
    alpha = make.organization(world["a"], name="Alpha Sensors")
    beta = make.organization(world["b"], name="Beta Mobility")
    attended(delegate(make, world["mission"], alpha))
    attended(delegate(make, world["mission"], beta))
    guest = make.organization(None, country="SG", name="Guest Pte")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["a"], [alpha, guest],
              signed_on=date(2019, 7, 1), title="Alpha with Guest")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["b"], [beta, guest],
              signed_on=date(2019, 8, 1), title="Beta with Guest")
    return dict(manager_a=make.manager(world["a"]), admin=make.admin())


def test_a_partner_manager_sees_only_their_clusters_detail_rows(client, login_as, two_clusters):
    login_as(two_clusters["manager_a"])

    smes = client.get("/kpis/rows/smes?start=2019-01-01&end=2019-12-31").get_data(as_text=True)
    signed = client.get("/kpis/rows/collaboration_agreements").get_data(as_text=True)
    delegates = client.get("/kpis/rows/delegates").get_data(as_text=True)

    assert "Alpha Sensors" in smes and "Beta Mobility" not in smes
    assert "Alpha with Guest" in signed and "Beta with Guest" not in signed
    assert "Alpha Sensors" in delegates and "Beta Mobility" not in delegates


def test_an_admin_sees_every_row(client, login_as, two_clusters):
    login_as(two_clusters["admin"])

    smes = client.get("/kpis/rows/smes").get_data(as_text=True)

    assert "Alpha Sensors" in smes and "Beta Mobility" in smes


def test_a_manager_sees_the_partnerships_totals_beside_their_own(client, login_as,
                                                                two_clusters):
    login_as(two_clusters["manager_a"])

    page = client.get("/kpis/?start=2019-01-01&end=2019-12-31").get_data(as_text=True)

    assert 'data-testid="figure-smes">2<' in page
    assert 'data-testid="figure-smes-own">1<' in page
    assert 'data-testid="figure-collaboration_agreements">2<' in page
    assert 'data-testid="figure-collaboration_agreements-own">1<' in page
    assert "<svg" in page and 'role="img"' in page


def test_a_figure_links_to_its_rows_narrowed_by_the_breakdown(client, login_as, two_clusters,
                                                             world):
    login_as(two_clusters["admin"])
    page = client.get("/kpis/").get_data(as_text=True)
    link = f"/kpis/rows/smes?cluster={world['b'].id}"

    assert link in page
    rows = client.get(link).get_data(as_text=True)
    assert "Beta Mobility" in rows and "Alpha Sensors" not in rows


def test_a_period_ending_before_it_starts_is_refused_with_a_message(client, login_as,
                                                                   two_clusters):
    login_as(two_clusters["admin"])

    response = client.get("/kpis/?start=2019-12-31&end=2019-01-01")

    assert response.status_code == 400
    assert "The end of the period is before its start." in response.get_data(as_text=True)
    assert client.get("/kpis/tables/kpis.csv?start=2019-12-31&end=2019-01-01").status_code == 400


def test_csv_and_xlsx_exports_hold_the_tables_with_the_formula_guard(client, login_as, make,
                                                                    world, two_clusters):
    world["b"].short_name = "=HYPERLINK(\"http://evil\")"
    _db.session.flush()
    login_as(two_clusters["admin"])

    csv_text = built_file(client, "/kpis/tables/by_cluster.csv").data.decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(built_file(client, "/kpis/tables/kpis.xlsx").data))

    assert "'=HYPERLINK" in csv_text and "\n=HYPERLINK" not in csv_text
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == ("Figure", "Partnership")
    assert ("SMEs served", "2") in rows


def test_the_pdf_report_holds_the_kpi_table(client, two_clusters):
    pdf = download_built_pdf(client, two_clusters["admin"],
                             "/kpis/report.pdf?start=2019-01-01&end=2019-12-31")

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "Key performance indicators" in text
    for label, value in (("SMEs served", 2), ("Collaboration agreements signed", 2),
                         ("Regional clusters involved", 3)):
        line = next(line for line in text.splitlines() if label in line)
        assert line.split()[-1] == str(value), line
    assert "Alpha with" in text and "Missions: delegations by cluster" in text


def _grow(make, world, n):
    for _ in range(n):
        event = make.event(organizers=[world["a"]], starts_at=at(2019, 4, 1))
        sme = make.organization(world["b"])
        attended(delegate(make, event, sme))
        attended(delegate(make, event, make.organization(world["a"])))
        agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["a"],
                  [sme, make.organization(None, country="US")], signed_on=date(2019, 5, 1))


def test_the_dashboards_query_count_does_not_grow_with_the_data(rendering, client, login_as, make,
                                                               world, two_clusters):
    login_as(two_clusters["manager_a"])
    counts = []
    for size in (1, 6):
        _grow(make, world, size)
        with count_queries() as statements:
            assert client.get("/kpis/").status_code == 200
        counts.append(len(statements))
        with count_queries() as statements:
            assert client.get("/kpis/rows/delegates").status_code == 200
        counts.append(len(statements))

    assert counts[0] == counts[2] and counts[1] == counts[3], counts


@pytest.mark.parametrize("query", ["year=99999999999999999999", "event=abc", "cluster=0"])
def test_a_tampered_filter_is_refused_not_a_server_error(client, login_as, two_clusters,
                                                         query):
    login_as(two_clusters["admin"])

    response = client.get(f"/kpis/rows/smes?{query}")

    assert response.status_code == 400
    assert "This filter is not valid" in response.get_data(as_text=True)


def test_a_period_up_to_the_last_representable_day_is_shown(client, login_as, two_clusters):
    login_as(two_clusters["admin"])

    assert client.get("/kpis/?start=0001-01-01&end=9999-12-31").status_code == 200


def test_agreements_break_down_by_target_country_cluster_and_mission(client, login_as, make,
                                                                     world, two_clusters):
    india = make.organization(None, country="IN", name="Pune Works")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, world["a"],
              [make.organization(world["a"]), india], signed_on=date(2019, 9, 1),
              title="Aalborg with Pune", origin_event=world["mission"])

    regions = {row[0]: row[-1] for row in kpis.breakdown("by_region", YEAR_2019, None).rows}
    clusters = {row[0]: row[-1] for row in kpis.breakdown("by_cluster", YEAR_2019, None).rows}
    missions = {row[0]: row[-1] for row in kpis.breakdown("by_mission", YEAR_2019, None).rows}

    assert regions == {"SG": 2, "IN": 1}  # the mission's SG, and India without a mission
    assert clusters["Cluster A"] == 2 and clusters["B"] == 1
    assert missions[world["mission"].title] == 1
    login_as(two_clusters["admin"])
    rows = client.get("/kpis/rows/collaboration_agreements?country=IN").get_data(as_text=True)
    assert "Aalborg with Pune" in rows and "Alpha with Guest" not in rows


def test_each_chart_says_in_its_tables_text_what_it_draws(client, login_as, two_clusters):
    """A chart is one image to a screen reader, named by its title; the table beside it,
    in the same section, holds every label and figure it draws, as text."""
    login_as(two_clusters["admin"])
    page = client.get("/kpis/").get_data(as_text=True)

    sections = re.findall(r"<section\b.*?</section>", page, re.S)
    charted = [s for s in sections if 'class="kpi-chart"' in s]
    assert len(charted) >= 4
    for section in charted:
        chart = re.search(r'<div class="kpi-chart" id="([^"]+)" role="img" aria-label="([^"]+)"',
                          section)
        assert chart, section[:200]
        table = section[section.index("<table"):section.index("</table>")]
        drawn = re.findall(r'<span class="kpi-chart-label">(.*?)</span>.*?'
                           r'<span class="kpi-chart-value">(.*?)</span>', section, re.S)
        assert drawn, chart.group(1)
        # Each cell as shown (a figure's link also says, to a screen reader, what it counts).
        cells = [unescape(re.sub(r"<[^>]+>", "", re.sub(
                     r'<span class="visually-hidden">.*?</span>', "", cell))).strip()
                 for cell in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", table, re.S)]
        for label, value in drawn:
            assert unescape(label).strip() in cells, (chart.group(1), label)
            assert unescape(value).strip() in cells, (chart.group(1), label, value)

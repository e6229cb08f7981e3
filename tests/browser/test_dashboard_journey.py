"""The coordinator opens the KPI dashboard for the 2018-2019 programme, sees the report's
figures, and follows one to the rows behind it; a partner manager following the same figure
finds only their own clusters' rows. Every page is axe-core clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from webapp import demo

from .conftest import AccessibilityCheck, LiveServer, sign_in

pytestmark = pytest.mark.browser

PROGRAMME = "?start=2018-01-01&end=2019-12-31"


def open_programme(page: Page, check: AccessibilityCheck) -> None:
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("KPI dashboard")
    check()
    page.get_by_label("From", exact=True).fill("2018-01-01")
    page.get_by_label("To", exact=True).fill("2019-12-31")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"/kpis/\?start=2018-01-01&end=2019-12-31"))
    check()


def test_the_coordinator_follows_the_smes_served_to_their_rows(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer
):
    sign_in(page, assert_accessible, demo.ADMIN.email)
    open_programme(page, assert_accessible)
    for figure, value in (("clusters", "18"), ("partnership_agreements", "4"),
                          ("smes", "109"), ("collaboration_agreements", "8")):
        expect(page.get_by_test_id(f"figure-{figure}")).to_contain_text(value)
    expect(page.locator(".kpi-chart[role=img]").first).to_be_visible()

    page.get_by_test_id("figure-smes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SMEs served")
    expect(page.get_by_test_id("row-count")).to_have_text("109")
    expect(page.get_by_test_id("detail-rows")).to_contain_text(demo.DEMO_SME_ORGANIZATION)
    assert_accessible()

    page.go_back()
    assert_accessible()
    page.get_by_test_id("figure-collaboration_agreements").click()
    expect(page.get_by_test_id("row-count")).to_have_text("8")
    expect(page.get_by_test_id("detail-rows")).to_contain_text(demo.INDIA_PARTNER)
    assert_accessible()


def test_a_partner_manager_follows_a_figure_to_their_own_clusters_rows(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer
):
    sign_in(page, assert_accessible, demo.AALBORG.manager_email)
    open_programme(page, assert_accessible)
    expect(page.get_by_test_id("figure-smes")).to_contain_text("109")
    own = page.get_by_test_id("figure-smes-own").inner_text().split(":")[0].strip()
    assert 0 < int(own) < 109

    page.get_by_test_id("figure-smes").click()
    expect(page.get_by_test_id("row-count")).to_have_text(own)
    expect(page.locator("main")).to_contain_text("Only the rows of your clusters")
    cluster_cells = page.get_by_test_id("detail-rows").locator("tbody td:nth-child(3)")
    assert set(cluster_cells.all_inner_texts()) == {"Smart City Nord"}
    assert_accessible()

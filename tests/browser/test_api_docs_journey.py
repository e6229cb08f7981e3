"""A partner's developer makes an API token on their profile and reads the API reference:
the secret is shown once, the token answers the API, and Swagger UI renders the OpenAPI
document from the vendored assets under the site's Content Security Policy, with nothing
refused by the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from webapp import demo

from .conftest import AccessibilityCheck, LiveServer

pytestmark = pytest.mark.browser


def test_the_reference_renders_under_its_policy(page: Page, live_server: LiveServer):
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(
        "window.refusedByPolicy = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.refusedByPolicy.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_role("heading", name="Beachhead API")).to_be_visible()
    decision = page.get_by_text("/registrations/{registration_id}/decision").first
    expect(decision).to_be_visible()
    decision.click()  # an operation opens, with its schemas
    expect(page.get_by_text("expected_status").first).to_be_visible()
    assert page.evaluate("window.refusedByPolicy") == []
    assert refused == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests)


def test_a_token_made_on_the_profile_answers_the_api(
    page: Page, assert_accessible: AccessibilityCheck, live_server: LiveServer
):
    page.goto("/login")
    assert_accessible()
    page.get_by_label("Email", exact=True).fill("sme@demo.smartcitytech.eu")
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert_accessible()
    page.goto("/account/profile")
    assert_accessible()
    tokens = page.locator("#api-tokens")
    tokens.get_by_label("Name").fill("Our CRM")
    tokens.get_by_label("Access").select_option("read_only")
    tokens.get_by_role("button", name="Create a token").click()
    assert_accessible()
    secret = page.get_by_test_id("token-secret").input_value()
    assert re.fullmatch(r"bh_[A-Za-z0-9_-]{43}", secret)
    me = page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status == 200 and me.json()["token"]["read_only"] is True
    page.goto("/account/profile")
    assert_accessible()
    assert secret not in page.content()
    # Revoking is confirmed on a page of its own, which says what will happen.
    page.locator("#api-tokens").get_by_role("link", name="Revoke").click()
    assert_accessible()
    page.get_by_role("button", name="Revoke the token").click()
    assert_accessible()
    assert page.request.get("/api/v1/me", headers={
        "Authorization": f"Bearer {secret}"}).status == 401

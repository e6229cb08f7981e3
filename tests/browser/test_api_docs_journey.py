"""A partner's developer reads the API reference: Swagger UI renders the OpenAPI document
from the vendored assets, under the page's own Content Security Policy, with nothing
refused by the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer

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

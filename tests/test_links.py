"""Absolute links follow BASE_URL, never the Host header a request arrives with: whoever
forges that header must not be able to put their own host into a mail or a file."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import url_for

from tests.conftest import CSRF_RE

BASE = "https://events.example.org/platform"
FORGED_HOST = "attacker.example"
FORGED = f"http://{FORGED_HOST}"
LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture
def base_url(app, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    return BASE


def test_a_forged_host_leaves_the_reset_link_on_base_url(client, make, db, mailbox, base_url):
    anna = make.user(email="anna.sorensen@example.org")
    db.session.commit()
    # The whole exchange says it is for the attacker's host (cookies and CSRF token too).
    form = client.get("/reset", base_url=FORGED).get_data(as_text=True)
    token = CSRF_RE.search(form)
    answer = client.post("/reset", base_url=FORGED, data={
        "email": anna.email, "csrf_token": token.group(1) or token.group(2)})
    assert answer.status_code == 302
    assert answer.request.host == FORGED_HOST

    [mail] = mailbox.to(anna.email)
    bodies = [part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"]
    links = [link for body in bodies for link in LINK.findall(body)]
    assert links and all(link.startswith(f"{BASE}/") for link in links), links
    assert "attacker" not in mail.as_string()
    # The link is this app's: without its path prefix (which the proxy strips), it opens
    # the page that sets a new password.
    [reset] = [urlsplit(link).path for link in links if "/reset/" in link]
    opened = client.get(reset.removeprefix(urlsplit(BASE).path))
    assert opened.status_code == 200
    assert "Choose a new password" in opened.get_data(as_text=True)


def test_a_forged_host_leaves_the_api_server_and_the_calendar_file_on_base_url(
        client, make, db, base_url):
    event = make.event()
    db.session.commit()

    document = client.get("/api/v1/openapi.json", base_url=FORGED).get_json()
    assert [server["url"] for server in document["servers"]] == [f"{BASE}/api/v1"]

    calendar = client.get(f"/events/{event.slug}.ics", base_url=FORGED).get_data(as_text=True)
    unfolded = calendar.replace("\r\n ", "")
    assert f"URL:{BASE}/events/{event.slug}" in unfolded
    assert "attacker" not in unfolded


def test_links_outside_a_request_come_from_base_url(app, base_url):
    """`flask tick` and the worker render mail with no request at all."""
    with app.app_context():
        assert url_for("public.events") == f"{BASE}/events"
        assert url_for("public.events", _external=True, _anchor="upcoming") \
            == f"{BASE}/events#upcoming"
        assert url_for("public.events", _scheme="http", _external=True) \
            == "http://events.example.org/platform/events"


def test_links_inside_the_site_stay_relative_to_the_request(app, base_url):
    with app.test_request_context("/", base_url="http://127.0.0.1:8000/"):
        assert url_for("public.events") == "/events"
        assert url_for("public.events", _external=True) == f"{BASE}/events"
        assert url_for("public.events", _external=False) == "/events"

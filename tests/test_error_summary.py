"""Every form error is announced at the top of its page: a summary (role alert) that takes
the focus when the page opens and links each error to its field, on every page that shows
a form's fields, for visitors and staff alike."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import config
from tests.conftest import csrf_token
from webapp.models import EventKind, EventStatus

TEMPLATES = config.BASE_DIR / "templates"
# What renders a form's fields (macros/forms.html and apply/_questions.html).
FIELD_CALLS = re.compile(r"\b(?:field|question_field|choice_group|lookup_field)\(")
USES = re.compile(r'{%-?\s*(?:include|from|import)\s+"([^"]+)"')
# Pages that take something else than fields from a partial that renders fields.
NOT_FORMS = {"account/registration.html": "shows the answers (answers_list), not the fields"}


def _field_templates() -> dict[str, str]:
    """name -> source of every template that renders fields, itself or through a partial
    it includes or imports (macros/ aside: they are the fields)."""
    sources = {p.relative_to(TEMPLATES).as_posix(): p.read_text(encoding="utf-8")
               for p in TEMPLATES.rglob("*.html")}
    rendering = {name for name, source in sources.items()
                 if not name.startswith("macros/") and FIELD_CALLS.search(source)}
    grown = True
    while grown:
        found = {name for name, source in sources.items() if name not in rendering
                 and not name.startswith("macros/")
                 and any(used in rendering for used in USES.findall(source))}
        rendering |= found
        grown = bool(found)
    return {name: sources[name] for name in sorted(rendering)}


def test_every_page_with_form_fields_has_an_error_summary():
    rendering = _field_templates()
    summarised = {name for name, source in rendering.items() if "error_summary(" in source}
    pages = {name: source for name, source in rendering.items()
             if not Path(name).name.startswith("_") and name not in NOT_FORMS}
    assert len(pages) > 20, sorted(pages)  # the scan finds the forms
    # A page has the summary itself or through the partial whose fields it shows.
    missing = [name for name, source in pages.items() if name not in summarised
               and not summarised.intersection(USES.findall(source))]
    assert not missing, f"pages showing form fields without error_summary(): {missing}"


class _Summary(HTMLParser):
    """The error summary of a page (its attributes and links), and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] | None = None
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.count = 0
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("id") == "error-summary":
            self.attrs, self._depth = attrs, 1
            self.count += 1
        elif self._depth and tag not in ("br", "img", "input"):
            self._depth += 1
            if tag == "a":
                self.links.append(attrs.get("href") or "")

    def handle_endtag(self, tag):
        if self._depth and tag not in ("br", "img", "input"):
            self._depth -= 1


def assert_summary_links(response, *fields: str) -> None:
    """The page has one summary, focused on opening and announced, linking to `fields`,
    each of which is on the page."""
    page = _Summary()
    page.feed(response.get_data(as_text=True))
    assert page.count == 1, f"{page.count} error summaries"
    assert page.attrs.get("role") == "alert" and "autofocus" in page.attrs
    assert page.attrs.get("tabindex") == "-1"
    for name in fields:
        assert f"#{name}" in page.links, (name, page.links)
        assert name in page.ids, f"the summary links to #{name}, which is not on the page"


def test_sign_up_errors_are_summarised_and_linked(client, db):
    token = csrf_token(client, "/signup")
    response = client.post("/signup", data={
        "csrf_token": token, "name": "", "email": "not-an-address",
        "password": "tram lines over the harbour", "confirm": "something else"})
    assert_summary_links(response, "name", "email", "privacy")


def test_a_token_form_error_on_the_profile_is_summarised(client, login_as, make):
    login_as(make.user())
    token = csrf_token(client, "/account/profile")
    response = client.post("/account/api-tokens", data={
        "token-csrf_token": token, "token-name": "", "token-access": "read"})
    assert response.status_code == 400
    assert_summary_links(response, "token-name")


def test_a_quick_registration_error_is_summarised_once(client, make, cluster):
    webinar = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
                         status=EventStatus.PUBLISHED)
    path = f"/events/{webinar.slug}/register"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "name": "", "email": "x"})
    assert response.status_code == 400
    assert_summary_links(response, "name", "email")


def test_a_filter_out_of_range_is_summarised_on_the_public_list(client, db):
    response = client.get("/events?start=1850-01-01")
    assert_summary_links(response, "start")


@pytest.mark.parametrize("path", ["/signup", "/events", "/login"])
def test_a_page_without_errors_has_no_summary(client, db, path):
    page = _Summary()
    page.feed(client.get(path).get_data(as_text=True))
    assert page.attrs is None

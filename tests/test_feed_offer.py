"""The personal calendar feed, offered where members look: their profile, "My
registrations" and the page of each event they applied to; only ever to its owner."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.test_calendar import parse_both, vevents
from webapp.models import EventStatus
from webapp.models import RegistrationStatus as S
from webapp.services import calendar

BASE = "https://beachhead.example.org:8443"
FEED_NAME = "SmartCityTech · Beachhead"


class _Marked(HTMLParser):
    """The page's elements that carry a data-testid: their attributes and their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, dict] = {}
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-testid" in attrs:
            element = {**attrs, "tag": tag, "text": ""}
            self.found.setdefault(attrs["data-testid"], element)
            if tag not in ("input", "br"):
                self._open.append(element)
        elif tag not in ("input", "br") and self._open:
            self._open.append({"text": ""})  # a child: its text belongs to the parent too

    def handle_endtag(self, tag):
        if self._open:
            done = self._open.pop()
            if self._open:
                self._open[-1]["text"] += done["text"]

    def handle_data(self, data):
        if self._open:
            self._open[-1]["text"] += data


def marked(html: str) -> dict[str, dict]:
    parser = _Marked()
    parser.feed(html)
    return parser.found


@pytest.fixture
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    return BASE


@pytest.fixture
def member(make):
    return make.user(name="Mia Member")


def assert_offers_the_feed_of(page: dict[str, dict], user) -> None:
    """The subscribe links and the links to copy all lead to `user`'s own feed. (The link's
    token is signed with the second it was made in: it is read back, not compared with
    one made here, which may fall in the next second.)"""
    https = page["feed-https"]["value"]
    assert https.startswith(f"{BASE}/calendar/") and https.endswith(".ics"), https
    token = https.removeprefix(f"{BASE}/calendar/").removesuffix(".ics")
    assert calendar.user_for_feed_token(token) == user
    webcal = "webcal://" + https.removeprefix("https://")
    assert page["feed-https"]["value"] == https
    assert page["feed-webcal"]["value"] == webcal
    assert page["feed-apple"]["href"] == webcal
    google = page["feed-google"]["href"]
    assert google == "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")
    assert parse_qs(urlsplit(google).query) == {"cid": [webcal]}
    for testid, host in (("feed-outlook", "outlook.live.com"),
                         ("feed-office", "outlook.office.com")):
        link = page[testid]["href"]
        assert link == (f"https://{host}/calendar/0/addfromweb?url={quote(https, safe='')}"
                        f"&name={quote(FEED_NAME, safe='')}")
        assert parse_qs(urlsplit(link).query) == {"url": [https], "name": [FEED_NAME]}


def subscribe_as_a_calendar_would(client, page: dict[str, dict]) -> set[str]:
    """The events in the feed the page's https link leads to, fetched without a cookie."""
    client.delete_cookie("session")
    response = client.get(urlsplit(page["feed-https"]["value"]).path)
    assert response.status_code == 200
    return {str(v["summary"]) for v in vevents(parse_both(response.data))}


def test_my_registrations_offers_the_feed_with_subscribe_links(client, login_as, make,
                                                               member, base_url):
    approved = make.event(title="Boston mission")
    make.registration(approved, member, S.SUBMITTED, S.APPROVED)
    response = login_as(member).get("/account/registrations")
    assert response.status_code == 200
    page = marked(response.get_data(as_text=True))
    assert_offers_the_feed_of(page, member)
    assert "once your application is approved" in page["feed-note"]["text"]
    # The page holds the member's secret: no cache keeps it.
    assert response.headers["Cache-Control"] == "no-store"
    assert subscribe_as_a_calendar_would(client, page) == {"Boston mission"}


def test_my_registrations_offers_the_feed_before_any_application(login_as, member, base_url):
    page = marked(login_as(member).get("/account/registrations").get_data(as_text=True))
    assert_offers_the_feed_of(page, member)


def test_profile_offers_the_same_feed_and_its_reset(login_as, member, base_url):
    html = login_as(member).get("/account/profile").get_data(as_text=True)
    assert_offers_the_feed_of(marked(html), member)
    assert 'href="/account/calendar/reset"' in html
    # One copy script for the feed's and the API token's copy buttons alike.
    assert html.count("js/copy.js") == 1


@pytest.mark.parametrize("status, note", [
    ((S.SUBMITTED,), "This event appears in your calendar feed once your application is approved."),
    ((S.SUBMITTED, S.WAITLISTED), "This event appears in your calendar feed once your "
                                  "application is approved."),
    ((S.SUBMITTED, S.APPROVED), "This event is in your calendar feed."),
])
def test_event_page_offers_the_feed_to_its_applicant(login_as, make, member, base_url,
                                                     status, note):
    event = make.event(title="Singapore mission")
    make.registration(event, member, *status)
    response = login_as(member).get(f"/events/{event.slug}")
    page = marked(response.get_data(as_text=True))
    assert_offers_the_feed_of(page, member)
    assert page["feed-note"]["text"] == note
    assert response.headers["Cache-Control"] == "no-store"
    # Resetting is the profile's business: the event page only leads there.
    assert "/account/calendar/reset" not in response.get_data(as_text=True)


def test_event_page_keeps_the_feed_from_everyone_but_its_applicant(client, login_as, make,
                                                                   member, base_url):
    organizing = make.partner()
    event = make.event(title="Singapore mission", organizers=[organizing])
    make.registration(event, member, S.SUBMITTED, S.APPROVED)
    others = {
        "a signed-out visitor": None,
        "a member who did not apply": make.user(),
        "a member who withdrew": make.user(),
        "a rejected applicant": make.user(),
        "the event's organizer": make.manager(organizing),
    }
    make.registration(event, others["a member who withdrew"], S.SUBMITTED, S.WITHDRAWN)
    make.registration(event, others["a rejected applicant"], S.SUBMITTED, S.REJECTED)
    for who, user in others.items():
        client.delete_cookie("session")
        if user is not None:
            login_as(user)
        response = client.get(f"/events/{event.slug}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, who
        assert "feed-offer" not in html and "webcal://" not in html, who
        # Never anyone's link: neither the applicant's nor the viewer's own.
        assert calendar.feed_token(member) not in html, who
        if user is not None:
            assert calendar.feed_token(user) not in html, who


def test_cancelled_event_offers_no_feed(login_as, make, member, base_url):
    event = make.event(status=EventStatus.CANCELLED)
    make.registration(event, member, S.SUBMITTED, S.APPROVED)
    html = login_as(member).get(f"/events/{event.slug}").get_data(as_text=True)
    assert "feed-offer" not in html


def test_feed_links_follow_base_url(app, login_as, member, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "http://127.0.0.1:8123")
    page = marked(login_as(member).get("/account/registrations").get_data(as_text=True))
    assert page["feed-https"]["value"].startswith("http://127.0.0.1:8123/calendar/")
    assert page["feed-apple"]["href"].startswith("webcal://127.0.0.1:8123/calendar/")

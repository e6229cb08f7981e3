"""Small things a user trips over: a webinar offering a badge and consents it does not
use, "1 rows", a time in a mail closed by two parentheses, a file that declares its
charset twice, and a message whose line breaks the page's own security policy hid."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.downloading import built_file
from tests.factories import at
from tests.webinars import approved
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    EventKind,
    Registration,
)
from webapp.services import messages

STATIC = Path(__file__).resolve().parent.parent / "static"


@pytest.fixture
def mission(make, organizing):
    beachhead = make.beachhead(name="IPI Singapore")
    return make.event(organizers=[organizing], hosts=[beachhead], title="Singapore mission")


@pytest.fixture
def delegate(make, mission, member, organizer):
    return approved(make, mission, member, organizer)


# --------------------------------------------------------------------------- webinars


def test_a_webinar_registrant_is_offered_no_badge(client, login_as, seat, delegate):
    login_as(seat.user)

    listed = client.get("/account/registrations").get_data(as_text=True)
    own_page = client.get(f"/account/registrations/{seat.id}").get_data(as_text=True)

    # The mission's delegate gets one, beside it; the webinar's seat does not.
    assert listed.count('data-testid="badge-download"') == 1
    assert f"/registrations/{delegate.id}/badge.pdf" in listed
    assert 'data-testid="badge-download"' not in own_page
    assert client.get(f"/registrations/{seat.id}/badge.pdf").status_code == 404
    assert client.get(f"/registrations/{delegate.id}/badge.pdf").status_code == 200


def test_a_webinars_organizer_is_offered_no_badges_to_print(client, login_as, organizer,
                                                           webinar, seat, mission, delegate):
    login_as(organizer)

    assert 'data-testid="badges"' not in client.get(
        f"/events/{webinar.id}/delegation").get_data(as_text=True)
    assert client.get(f"/events/{webinar.id}/badges").status_code == 403
    assert 'data-testid="badges"' in client.get(
        f"/events/{mission.id}/delegation").get_data(as_text=True)


def test_applying_to_a_webinar_asks_for_no_consent_to_share_with_hosts(
    client, login_as, make, db, organizing, organizer, member, mission
):
    webinar = make.event(kind=EventKind.WEBINAR, organizers=[organizing], hosts=mission.hosts,
                         title="Meet Singapore", slug="meet-singapore")
    login_as(member)

    form = client.get(f"/events/{webinar.slug}/apply").get_data(as_text=True)
    assert "Consents" not in form and 'name="profile_consent"' not in form
    assert 'name="contact_consent"' not in form
    response = client.post(f"/events/{webinar.slug}/apply",
                           data={"csrf_token": csrf_token(client, f"/events/{webinar.slug}/apply")})
    assert response.status_code == 302, response.get_data(as_text=True)
    registration_page = client.get(response.headers["Location"], follow_redirects=True)
    assert 'data-testid="consents"' not in registration_page.get_data(as_text=True)
    # Nor does its decider read of consents ("not agreed") that were never asked.
    registration = db.session.scalar(
        select(Registration).where(Registration.event_id == webinar.id))
    login_as(organizer)
    desk_page = client.get(f"/desk/registrations/{registration.id}").get_data(as_text=True)
    assert registration.user.name in desk_page and 'data-testid="consents"' not in desk_page

    mission_form = client.get(f"/events/{mission.slug}/apply").get_data(as_text=True)
    assert 'name="profile_consent"' in mission_form and 'name="contact_consent"' in mission_form


# --------------------------------------------------------------------------- plural forms


def test_a_figure_with_one_row_says_row(client, login_as, make, db):
    cluster = make.partner(short_name="Alpha")
    guest = make.organization(None, country="SG", name="Guest Pte")
    alpha = make.organization(cluster, name="Alpha Sensors")
    db.session.add(Agreement(
        kind=AgreementKind.COLLABORATION, type=AgreementType.MEMORANDUM,
        status=AgreementStatus.SIGNED, title="Alpha with Guest", responsible_partner=cluster,
        signed_on=date(2019, 7, 1),
        parties=[AgreementParty(position=0, organization=alpha),
                 AgreementParty(position=1, organization=guest)]))
    login_as(make.admin())

    page = client.get("/kpis/rows/collaboration_agreements").get_data(as_text=True)

    said = re.sub(r"<[^>]+>", "", re.search(r'<p>[^\n]*data-testid="row-count".*?</p>',
                                            page).group(0))
    assert said == "1 row"


# --------------------------------------------------------------------------- times in mail


def test_the_quick_registration_mail_closes_each_parenthesis_once(client, make, db, mailbox):
    cluster = make.partner(name="Smart City Cluster Gent")
    make.event(kind=EventKind.WEBINAR, title="Webinar: Singapore", slug="webinar-winter",
               timezone="Europe/Brussels", starts_at=at(2031, 1, 15, 9, 0),
               ends_at=at(2031, 1, 15, 10, 0), requires_approval=False, capacity=100,
               online_url="https://meet.example.com/winter", organizers=[cluster])
    db.session.commit()

    response = client.post("/events/webinar-winter/register", data={
        "name": "Ines Nordlicht", "email": "ines@nordlicht.example",
        "organization": "Nordlicht Mobility", "country": "DE", "timezone": "America/New_York",
        "privacy": "y", "csrf_token": csrf_token(client, "/login")})

    assert response.status_code == 302
    [mail] = mailbox.to("ines@nordlicht.example")
    text = mailbox.text(mail).replace("\r\n", "\n")
    assert "))" not in text
    assert "When: Wed 15 Jan 2031, 10:00 – 11:00 (Brussels, UTC+1)\n" in text
    assert "That is 04:00 – 05:00 on Wed 15 Jan your time (EST)\n" in text


# --------------------------------------------------------------------------- files


def test_a_csv_file_declares_its_charset_once(client, login_as, organizer, mission, delegate):
    login_as(organizer)

    for path, fetch in ((f"/events/{mission.id}/delegation.csv", client.get),
                        ("/kpis/tables/kpis.csv", lambda path: built_file(client, path))):
        response = fetch(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", path


# --------------------------------------------------------------------------- styles


class _Styles(HTMLParser):
    """The inline styles of a page, and the classes of the element holding `text`."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text, self.inline, self.open, self.holder = text, [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.inline.append((tag, attrs["style"]))
        if tag not in ("br", "img", "input", "link", "meta", "hr"):
            self.open.append(attrs.get("class") or "")

    def handle_endtag(self, tag):
        if self.open and tag not in ("br", "img", "input", "link", "meta", "hr"):
            self.open.pop()

    def handle_data(self, data):
        if self.text in data and self.holder is None:
            self.holder = self.open[-1] if self.open else ""


def _rules_for(class_name: str) -> str:
    css = (STATIC / "css" / "beachhead.css").read_text()
    found = re.search(rf"\.{class_name}\s*\{{([^}}]*)\}}", css)
    return found.group(1) if found else ""


def test_a_delegation_message_keeps_its_line_breaks_under_the_security_policy(
    client, login_as, organizer, mission, delegate
):
    body = "Dear delegates,\nthe bus leaves at 08:00.\nBring your badge."
    messages.send(organizer, mission, partner_id=None, subject="The first day", body=body)
    for who, path in ((delegate.user, f"/account/registrations/{delegate.id}"),
                      (organizer, f"/events/{mission.id}/delegation/messages")):
        login_as(who)
        response = client.get(path)
        page = response.get_data(as_text=True)
        styles = _Styles("the bus leaves at 08:00.")
        styles.feed(page)

        # The policy admits stylesheets of the site only: an inline style would be dropped.
        assert "style-src 'self'" in response.headers["Content-Security-Policy"]
        assert styles.inline == [], path
        assert "beachhead.css" in page
        classes = styles.holder.split()
        assert any("white-space: pre-line" in _rules_for(name) for name in classes), path

"""The marketplace's pages (webapp/views/marketplace.py): joining with consent, the profile
and its opportunities, availability, leaving, browsing with the search and the suggested
matches, a participant's page and whose contact details it shows, and query counts that
do not grow with the participants."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import count_queries, csrf_token
from tests.test_marketplace import Market
from tests.test_meeting_requests import NOW as REQUESTS_NOW
from tests.test_meeting_requests import wall
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingBlockIn, MeetingRequestIn
from webapp.models import AuditEntry, Opportunity, Participant, UnavailableSlot
from webapp.models import RegistrationStatus as S
from webapp.services import marketplace, matchmaking, matchmaking_settings, meeting_requests

NOW = REQUESTS_NOW


@pytest.fixture
def market(make, frozen) -> Market:
    return Market(make)


def base(market: Market) -> str:
    return f"/events/{market.event.id}/marketplace"


def post(client, path: str, data: dict | None = None):
    return client.post(path, data=dict(data or {}, csrf_token=csrf_token(client, "/")))


def user_of(participant: Participant):
    return participant.registration.user


def registrant(market: Market, name: str = "Newcomer", **org):
    """An approved registrant of the market's event who has not joined."""
    user = market.make.user(market.make.organization(market.cluster, name=name, **org),
                            name=f"Person of {name}")
    market.make.registration(market.event, user, S.SUBMITTED, S.APPROVED)
    return user


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- joining


def test_joining_needs_the_consent_and_stores_its_version(app, market, login_as):
    client = login_as(registrant(market))
    page = client.get(f"{base(market)}/join")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "name, country, sector, website and profile text" in html
    # The host region's stakeholders' type is not offered to a cluster's member.
    assert 'value="sme"' in html and 'value="host_stakeholder"' not in html

    refused = post(client, f"{base(market)}/join", {"participant_type": "sme"})
    assert refused.status_code == 400
    assert "Agree to be shown in the event" in refused.get_data(as_text=True)
    assert count(Participant) == 0

    stakeholder = post(client, f"{base(market)}/join",
                       {"participant_type": "host_stakeholder", "consent": "y"})
    assert stakeholder.status_code == 400 and count(Participant) == 0

    joined = post(client, f"{base(market)}/join", {"participant_type": "sme", "consent": "y"})
    assert joined.status_code == 302
    assert joined.headers["Location"].endswith(f"{base(market)}/profile")
    participant = _db.session.scalars(select(Participant)).one()
    assert participant.consents
    assert participant.consent_version == app.config["CONSENT_VERSION"]
    # Joined: the join page leads to the profile.
    assert client.get(f"{base(market)}/join").status_code == 302


def test_a_registrant_who_may_join_is_sent_to_join_others_are_refused(market, make, login_as):
    client = login_as(registrant(market))
    for path in ("/", "/profile", "/availability"):
        response = client.get(base(market) + path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith(f"{base(market)}/join")
    outsider = login_as(make.user(make.organization(market.cluster)))
    assert outsider.get(f"{base(market)}/").status_code == 403
    assert outsider.get(f"{base(market)}/join").status_code == 404
    assert outsider.get(f"{base(market)}/profile").status_code == 404


# --------------------------------------------------------------------------- profile


def test_the_profile_is_saved_with_its_tags_one_per_line(market, login_as):
    me = market.join("Mine")
    client = login_as(user_of(me))
    page = client.get(f"{base(market)}/profile")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mine" in html and "Edit the company profile" in html
    saved = post(client, f"{base(market)}/profile", {
        "participant_type": "research", "sectors": "Energy, Mobility",
        "technologies": "LoRaWAN\nDigital twins"})
    assert saved.status_code == 302
    _db.session.refresh(me)
    assert (me.participant_type.key, me.sectors, me.technologies) == (
        "research", "Energy\nMobility", "LoRaWAN\nDigital twins")


@pytest.mark.parametrize("data", [
    {"participant_type": "nobody", "sectors": "Energy"},
    {"participant_type": "host_stakeholder", "sectors": "Energy"},
    {"participant_type": "sme", "sectors": "x" * 1001},
    {"participant_type": "sme", "technologies": "bad\x00tag"},
])
def test_a_bad_profile_is_refused_with_400_and_nothing_changes(market, login_as, data):
    me = market.join("Mine", sectors="Water")
    client = login_as(user_of(me))
    audits = count(AuditEntry)
    refused = post(client, f"{base(market)}/profile", data)
    assert refused.status_code == 400
    assert 'id="error-summary"' in refused.get_data(as_text=True)
    _db.session.refresh(me)
    assert (me.participant_type.key, me.sectors) == ("sme", "Water")
    assert count(AuditEntry) == audits


def test_organizers_edit_a_participants_profile_others_may_not(market, login_as):
    me, other = market.join("Mine"), market.join("Other")
    path = f"{base(market)}/participants/{me.id}/profile"
    organizer = login_as(market.organizer)
    assert organizer.get(path).status_code == 200
    assert post(organizer, path, {"participant_type": "investor",
                                  "sectors": "Finance"}).status_code == 302
    _db.session.refresh(me)
    assert (me.participant_type.key, me.sectors) == ("investor", "Finance")
    assert login_as(user_of(other)).get(path).status_code == 404


# --------------------------------------------------------------------------- opportunities


def test_opportunities_are_added_edited_and_removed(market, login_as):
    me = market.join("Mine")
    client = login_as(user_of(me))
    added = post(client, f"{base(market)}/opportunities", {
        "opportunity_type": "offer", "title": "Smart poles", "tags": "lighting, poles"})
    assert added.status_code == 302
    opportunity = _db.session.scalars(select(Opportunity)).one()
    assert (opportunity.title, opportunity.tags) == ("Smart poles", "lighting\npoles")
    path = f"{base(market)}/opportunities/{opportunity.id}"
    assert "Smart poles" in client.get(path).get_data(as_text=True)
    assert post(client, path, {"opportunity_type": "request", "title": "Pilot sites",
                               "tags": "pilots"}).status_code == 302
    _db.session.refresh(opportunity)
    assert (opportunity.opportunity_type.key, opportunity.title) == ("request", "Pilot sites")
    assert post(client, f"{path}/remove").status_code == 302
    assert count(Opportunity) == 0


def test_a_bad_opportunity_is_refused_and_nothing_is_written(market, login_as):
    me = market.join("Mine")
    client = login_as(user_of(me))
    for data in ({"opportunity_type": "offer", "title": ""},
                 {"opportunity_type": "gift", "title": "Free lunch"}):
        refused = post(client, f"{base(market)}/opportunities", data)
        assert refused.status_code == 400
        assert 'id="error-summary"' in refused.get_data(as_text=True)
    assert count(Opportunity) == 0


def test_another_participants_opportunity_is_unknown(market, login_as):
    market.join("Mine")
    other = market.join("Other", offers=[("Theirs", "tag")])
    theirs = other.opportunities[0]
    client = login_as(user_of(market.join("Third")))
    path = f"{base(market)}/opportunities/{theirs.id}"
    assert client.get(path).status_code == 404
    assert post(client, path, {"opportunity_type": "offer", "title": "Mine now"}
                ).status_code == 404
    assert post(client, f"{path}/remove").status_code == 404
    _db.session.refresh(theirs)
    assert theirs.title == "Theirs"


# --------------------------------------------------------------------------- leaving


def test_leaving_hides_the_profile_from_the_others_at_once(market, login_as, client):
    me = market.join("Leaving Firm")
    other = market.join("Staying Firm")
    page = f"{base(market)}/participants/{me.id}"
    assert login_as(user_of(other)).get(page).status_code == 200
    assert "Leaving Firm" in client.get(f"{base(market)}/").get_data(as_text=True)

    login_as(user_of(me))
    left = post(client, f"{base(market)}/leave")
    assert left.status_code == 302
    _db.session.refresh(me)
    assert not me.consents

    login_as(user_of(other))
    assert client.get(page).status_code == 404
    assert "Leaving Firm" not in client.get(f"{base(market)}/").get_data(as_text=True)
    # The one who left may join again.
    login_as(user_of(me))
    assert client.get(f"{base(market)}/").headers["Location"].endswith("/join")


# --------------------------------------------------------------------------- browsing


@pytest.fixture
def crowd(market):
    viewer = market.join("Viewer", sectors="Mobility",
                         requests=[("Lighting pilots", "smart lighting")])
    market.join("Lumière Systèmes", country="FR", sectors="Energy\nMobility",
                offers=[("Éclairage intelligent", "Smart Lighting")])
    market.join("Aalborg Water", country="DK", sector="Water", kind="research",
                requests=[("Leak detection", "sensors")])
    market.join("Tallinn Gov", country="EE", kind="government", offers=[("Open data", "data")])
    return viewer


def listed(client, path: str) -> set[str]:
    html = client.get(path).get_data(as_text=True)
    return {name for name in ("Lumière Systèmes", "Aalborg Water", "Tallinn Gov")
            if name in html.split('data-testid="result-count"')[1]}


@pytest.mark.parametrize(("query", "found"), [
    ("", {"Lumière Systèmes", "Aalborg Water", "Tallinn Gov"}),
    ("?q=eclairage", {"Lumière Systèmes"}),
    ("?type=request", {"Aalborg Water"}),
    ("?sector=water", {"Aalborg Water"}),
    ("?country=EE", {"Tallinn Gov"}),
    ("?participant_type=research", {"Aalborg Water"}),
    ("?type=gift&country=XX&participant_type=nobody", {"Lumière Systèmes", "Aalborg Water",
                                                    "Tallinn Gov"}),
])
def test_the_search_filters_the_participants(market, crowd, login_as, query, found):
    assert listed(login_as(user_of(crowd)), f"{base(market)}/{query}") == found


def test_the_country_filter_offers_the_countries_participants_come_from(market, crowd,
                                                                         login_as):
    html = login_as(user_of(crowd)).get(f"{base(market)}/").get_data(as_text=True)
    field = html.split('name="country"')[1].split("</select>")[0]
    offered = set(re.findall(r'<option[^>]*value="([A-Z]{2})"', field))
    assert {"FR", "DK", "EE"} <= offered
    assert "SG" not in offered  # nobody in this marketplace comes from Singapore


def test_suggestions_show_each_reason_as_a_sentence(market, crowd, login_as):
    client = login_as(user_of(crowd))
    html = client.get(f"{base(market)}/").get_data(as_text=True)
    suggestions = html.split('data-testid="suggestions"')[1].split('id="search-heading"')[0]
    assert "Lumière Systèmes" in suggestions
    assert ("Offers Smart Lighting in “Éclairage intelligent”, which you request in "
            "“Lighting pilots”.") in suggestions
    assert "Shares your sector: Mobility." in suggestions
    # A search shows no suggestions.
    assert 'data-testid="suggestions"' not in client.get(
        f"{base(market)}/?q=water").get_data(as_text=True)


def test_the_participant_page_offers_a_meeting_request(market, crowd, login_as):
    other = _db.session.scalars(select(Participant).where(Participant.id != crowd.id)).first()
    html = login_as(user_of(crowd)).get(
        f"{base(market)}/participants/{other.id}").get_data(as_text=True)
    assert f"{base(market)}/participants/{other.id}/request" in html
    assert other.opportunities[0].title in html


def test_a_participant_of_another_event_is_unknown_here(market, make, login_as):
    me = market.join("Mine")
    elsewhere = make.event(organizers=market.event.organizers,
                           starts_at=NOW + timedelta(days=30))
    assert login_as(market.organizer).get(
        f"/events/{elsewhere.id}/marketplace/participants/{me.id}").status_code == 404


# --------------------------------------------------------------------------- contact details


def test_contact_details_only_after_an_accepted_request(market, login_as, client):
    me = market.join("Mine")
    other = market.join("Other")
    user_of(other).phone = "+32 2 555 01 01"
    page = f"{base(market)}/participants/{other.id}"
    login_as(user_of(me))

    def shows_contact() -> bool:
        html = client.get(page).get_data(as_text=True)
        return user_of(other).email in html or "+32 2 555 01 01" in html

    assert not shows_contact()
    asked = meeting_requests.request(me.id, MeetingRequestIn.from_values(receiver_id=other.id),
                                     actor=user_of(me))
    assert not shows_contact()
    meeting_requests.accept(asked.id, actor=user_of(other))
    assert shows_contact()
    meeting_requests.cancel(asked.id, actor=user_of(me), reason="Plans changed")
    assert not shows_contact()
    # The organizers see them, as everywhere.
    login_as(market.organizer)
    assert shows_contact()


# --------------------------------------------------------------------------- availability


def test_availability_is_saved_by_slot(market, login_as):
    event = market.event
    matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=wall(event, event.starts_at),
        ends_local=wall(event, event.starts_at + timedelta(hours=2))), actor=market.organizer)
    me = market.join("Mine")
    client = login_as(user_of(me))
    page = client.get(f"{base(market)}/availability")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('name="slots"') == 3  # 30 minutes and a 10-minute break, in 2 hours
    starts = matchmaking_settings.of_event(event.id).slot_starts()
    saved = client.post(f"{base(market)}/availability", data={
        "slots": [starts[0].isoformat(), starts[2].isoformat()],
        "csrf_token": csrf_token(client, "/")})
    assert saved.status_code == 302
    assert [s.starts_at for s in _db.session.scalars(select(UnavailableSlot).order_by(
        UnavailableSlot.starts_at))] == [starts[0], starts[2]]
    refused = post(client, f"{base(market)}/availability",
                   {"slots": (starts[0] + timedelta(minutes=1)).isoformat()})
    assert refused.status_code == 400
    assert count(UnavailableSlot) == 2


# --------------------------------------------------------------------------- query counts


def _crowd_of(market: Market, first: int, last: int) -> None:
    for n in range(first, last):
        market.join(f"Firm {n:02d}", sectors="Mobility", technologies="LoRaWAN",
                    offers=[(f"Offer {n}", "smart lighting")],
                    requests=[(f"Request {n}", "data")])


@pytest.mark.parametrize("role", ["participant", "organizer"])
def test_the_marketplace_takes_as_many_queries_for_10_as_for_40(rendering, market, login_as,
                                                                 role):
    viewer = market.join("Viewer", sectors="Mobility", requests=[("Lights", "smart lighting")],
                         offers=[("Data", "data")])
    client = login_as(user_of(viewer) if role == "participant" else market.organizer)
    _crowd_of(market, 0, 10)
    with count_queries() as few:
        assert client.get(f"{base(market)}/").status_code == 200
    _crowd_of(market, 10, 40)
    with count_queries() as many:
        assert client.get(f"{base(market)}/").status_code == 200
    assert len(many) == len(few), "\n".join(many)


# --------------------------------------------------------------------------- links in


def test_the_event_and_registration_pages_lead_into_the_marketplace(rendering, market, login_as,
                                                                    client):
    newcomer = registrant(market)
    event_page = f"/events/{market.event.slug}"
    login_as(newcomer)

    def entry(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        return html.split('data-testid="marketplace-entry"')[1] if (
            'data-testid="marketplace-entry"' in html) else ""

    reg = marketplace.registration_of(market.event.id, newcomer.id)
    own_page = f"/account/registrations/{reg.id}"
    for path in (event_page, own_page):
        assert f"{base(market)}/join" in entry(path), path
    post(client, f"{base(market)}/join", {"participant_type": "sme", "consent": "y"})
    for path in (event_page, own_page):
        assert f'href="{base(market)}/"' in entry(path), path
    # Matchmaking off: no way in.
    matchmaking.switch_off(market.event.id, actor=market.organizer)
    _db.session.flush()
    assert entry(event_page) == "" and entry(own_page) == ""
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert entry(event_page) == ""

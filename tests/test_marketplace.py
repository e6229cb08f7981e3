"""The marketplace's search and suggested matches (webapp/services/marketplace.py): each
filter, the folded text search, only the event's consenting participants and never the
viewer, the matrix and open requests leaving suggestions out, the ranking and its
reasons, and query counts that do not grow with the participants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import count_queries
from tests.test_meeting_requests import NOW as REQUESTS_NOW
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingRequestIn,
    OpportunityIn,
    ProfileIn,
)
from webapp.models import Participant
from webapp.models import RegistrationStatus as S
from webapp.services import marketplace, matchmaking, meeting_requests
from webapp.services.marketplace import Reason

NOW = REQUESTS_NOW


class Market:
    """An event with matchmaking on, and a helper that adds participants to it."""

    def __init__(self, make):
        self.make = make
        self.cluster = make.partner()
        organizing = make.partner()
        self.organizer = make.manager(organizing)
        self.event = make.event(organizers=[organizing], starts_at=NOW + timedelta(days=30))
        matchmaking.switch_on(self.event.id, MatchmakingIn.from_values(), actor=self.organizer)

    def join(self, name: str, *, kind: str = "sme", country: str = "BE", sector: str = "",
             sectors: str = "", technologies: str = "", offers=(), requests=(),
             event=None) -> Participant:
        event = event or self.event
        organization = self.make.organization(self.cluster, name=name, country=country,
                                              sector=sector)
        user = self.make.user(organization, name=f"Person of {name}")
        reg = self.make.registration(event, user, S.SUBMITTED, S.APPROVED)
        participant = matchmaking.join(reg.id, JoinIn.from_values(
            participant_type=kind, consent=True), actor=user)
        matchmaking.update_profile(participant.id, ProfileIn.from_values(
            participant_type=kind, sectors=sectors, technologies=technologies), actor=user)
        for type_key, items in (("offer", offers), ("request", requests)):
            for title, tags, *text in items:
                matchmaking.add_opportunity(participant.id, OpportunityIn.from_values(
                    opportunity_type=type_key, title=title, tags=tags,
                    text=text[0] if text else ""), actor=user)
        return participant


@pytest.fixture
def market(make, frozen) -> Market:
    return Market(make)


def names(page) -> list[str]:
    return [item.participant.registration.user.organization.name for item in page]


def suggested(viewer: Participant, **kw) -> list[str]:
    return [s.participant.registration.user.organization.name
            for s in marketplace.suggestions(viewer, **kw)]


@pytest.fixture
def crowd(market):
    """A viewer and four others of every kind."""
    viewer = market.join("Viewer", requests=[("Lighting pilots", "smart lighting")])
    market.join("Lumière Systèmes", country="FR", sectors="Energy\nMobility",
                technologies="LoRaWAN",
                offers=[("Éclairage intelligent", "Smart Lighting", "Lampadaires connectés")])
    market.join("Aalborg Water", country="DK", sector="Water", kind="research",
                requests=[("Leak detection", "sensors\nwater")])
    market.join("Tallinn Gov", country="EE", kind="government",
                sectors="Mobility", offers=[("Open data", "data")])
    market.join("Quiet Firm", country="BE")
    return viewer


# --------------------------------------------------------------------------- search


def test_search_lists_the_others_by_name_with_their_opportunities(market, crowd):
    page = marketplace.search(crowd, market.event)
    assert names(page) == ["Aalborg Water", "Lumière Systèmes", "Quiet Firm", "Tallinn Gov"]
    assert page.total == 4 and not page.has_next
    lumiere = page.items[1]
    assert [o.title for o in lumiere.opportunities] == ["Éclairage intelligent"]
    # A user (an organizer) sees them all; the viewer as a user does not see themself.
    assert len(marketplace.search(market.organizer, market.event)) == 5
    assert "Viewer" not in names(marketplace.search(crowd.registration.user, market.event.id))


def test_search_pages(market, crowd):
    first = marketplace.search(crowd, market.event, limit=3)
    second = marketplace.search(crowd, market.event, limit=3, page=2)
    assert names(first) == ["Aalborg Water", "Lumière Systèmes", "Quiet Firm"]
    assert first.has_next and names(second) == ["Tallinn Gov"] and not second.has_next


def test_search_filters_by_opportunity_type_and_lists_only_those(market, crowd):
    offers = marketplace.search(crowd, market.event, opportunity_type="offer")
    assert names(offers) == ["Lumière Systèmes", "Tallinn Gov"]
    requests = marketplace.search(crowd, market.event, opportunity_type="request")
    assert names(requests) == ["Aalborg Water"]
    assert [o.title for o in requests.items[0].opportunities] == ["Leak detection"]


def test_search_filters_by_sector_folded_the_participants_or_their_organizations(
        market, crowd):
    assert names(marketplace.search(crowd, market.event, sector="MOBILITY")) == [
        "Lumière Systèmes", "Tallinn Gov"]
    assert names(marketplace.search(crowd, market.event, sector="water")) == ["Aalborg Water"]
    assert names(marketplace.search(crowd, market.event, sector="mobil")) == []


def test_search_filters_by_country_and_participant_type(market, crowd):
    assert names(marketplace.search(crowd, market.event, country="fr")) == ["Lumière Systèmes"]
    assert names(marketplace.search(crowd, market.event, country="BE")) == ["Quiet Firm"]
    assert names(marketplace.search(crowd, market.event, participant_type="research")) == [
        "Aalborg Water"]
    assert names(marketplace.search(crowd, market.event, participant_type="sme",
                                    country="DK")) == []


@pytest.mark.parametrize(("text", "found"), [
    ("lumiere", ["Lumière Systèmes"]),              # organization name, accents folded
    ("ECLAIRAGE", ["Lumière Systèmes"]),            # opportunity title
    ("lampadaires", ["Lumière Systèmes"]),          # opportunity text
    ("smart light", ["Lumière Systèmes"]),          # tag, every word, inside words
    ("lorawan", ["Lumière Systèmes"]),              # technologies
    ("mobility", ["Lumière Systèmes", "Tallinn Gov"]),  # sectors
    ("sensors water", ["Aalborg Water"]),
    ("water zoltan", []),                           # every word must occur
    ("Person", []),                                 # not the person's name
    ("", ["Aalborg Water", "Lumière Systèmes", "Quiet Firm", "Tallinn Gov"]),
    ("\u200b", []),                                 # nothing searchable typed: nothing
])
def test_text_search_is_folded_over_names_opportunities_sectors_and_technologies(
        market, crowd, text, found):
    assert names(marketplace.search(crowd, market.event, text=text)) == found


def test_a_withdrawn_consent_disappears_at_once(market, crowd):
    lumiere = marketplace.search(crowd, market.event, text="lumiere").items[0].participant
    matchmaking.withdraw_consent(lumiere.id, actor=None)
    assert marketplace.search(crowd, market.event, text="lumiere").items == []
    assert "Lumière Systèmes" not in suggested(crowd)


def test_another_events_participants_never_appear(market, crowd, make):
    other = make.event(organizers=[make.partner()], starts_at=NOW + timedelta(days=40))
    matchmaking.switch_on(other.id, MatchmakingIn.from_values(), actor=None)
    stranger = market.join("Stranger Lighting", event=other,
                           offers=[("Smart lighting", "smart lighting")])
    assert "Stranger Lighting" not in names(marketplace.search(crowd, market.event))
    assert "Stranger Lighting" not in suggested(crowd)
    assert names(marketplace.search(stranger, other)) == []
    assert marketplace.suggestions(stranger) == []


def test_a_marketplace_read_once_serves_the_search_the_suggestions_and_the_countries(
        market, crowd, make):
    with count_queries() as reading:
        once = marketplace.read(market.event)
    with count_queries() as alone:
        listed = names(marketplace.search(crowd, market.event))
        found = suggested(crowd)
    with count_queries() as shared:
        page = marketplace.search(crowd, market.event, market=once)
        shared_found = suggested(crowd, market=once)
    assert names(page) == listed and shared_found == found
    # Each of the two would read the marketplace's two statements again.
    assert len(reading) == 2 and len(shared) == len(alone) - 2 * len(reading)
    viewers = crowd.registration.user.organization.country
    assert once.countries() == {"FR", "DK", "EE", "BE", viewers}
    other = make.event(organizers=[make.partner()], starts_at=NOW + timedelta(days=40))
    with pytest.raises(ValueError):
        marketplace.search(crowd, other, market=once)


# --------------------------------------------------------------------------- suggestions


def test_an_offer_request_pair_outranks_shared_tags_with_its_reasons(market):
    viewer = market.join("Viewer", sectors="Energy", technologies="IoT",
                         requests=[("Lighting pilots", "smart lighting\niot")],
                         offers=[("Sensor kits", "sensors")])
    market.join("Zeta Lights", offers=[("Street lights", "Smart Lighting\nIoT")])
    market.join("Alpha Tags", sectors="énergie\nEnergy", technologies="iot")
    market.join("Beta Buyers", requests=[("We need sensors", "Sensors")])
    market.join("Nothing In Common", technologies="blockchain")
    found = marketplace.suggestions(viewer)
    assert [(s.participant.registration.user.organization.name, s.score) for s in found] == [
        ("Zeta Lights", 6), ("Beta Buyers", 3), ("Alpha Tags", 2)]
    assert found[0].reasons == (Reason("offers_what_you_request", ("Smart Lighting", "IoT"),
                                       their_title="Street lights",
                                       your_title="Lighting pilots"),)
    assert found[1].reasons == (Reason("requests_what_you_offer", ("Sensors",),
                                       their_title="We need sensors",
                                       your_title="Sensor kits"),)
    # Sectors are folded, not translated: "énergie" is not "Energy".
    assert found[2].reasons == (Reason("shared_tags", ("iot",)),
                                Reason("shared_sector", ("Energy",)))


def test_ties_are_ordered_by_name_then_id_and_limited(market):
    viewer = market.join("Viewer", technologies="iot")
    for name in ("Émile", "Zed", "alpha", "Eve"):
        market.join(name, technologies="IOT")
    assert suggested(viewer) == ["alpha", "Émile", "Eve", "Zed"]
    assert suggested(viewer, limit=2) == ["alpha", "Émile"]


def test_a_pair_outranks_more_shared_tags(market):
    viewer = market.join("Viewer", technologies="a\nb",
                         requests=[("Want lighting", "lighting")])
    market.join("Many Tags", technologies="a\nb")
    market.join("One Pair", offers=[("Lighting", "lighting")])
    assert suggested(viewer) == ["One Pair", "Many Tags"]


def test_the_matrix_excludes_whom_the_viewer_may_not_ask(market):
    viewer = market.join("Viewer", technologies="iot")
    market.join("Investor", kind="investor", technologies="iot")
    market.join("Lab", kind="research", technologies="iot")
    matchmaking.set_rule(market.event.id, "sme", "investor", False, actor=None)
    assert suggested(viewer) == ["Lab"]
    # Left out of the suggestions only: the search still lists them.
    assert names(marketplace.search(viewer, market.event)) == ["Investor", "Lab"]


def test_partners_of_an_open_request_are_left_out_until_it_ends(market):
    viewer = market.join("Viewer", technologies="iot")
    asked = market.join("Asked", technologies="iot")
    asking = market.join("Asking", technologies="iot")
    market.join("Free", technologies="iot")
    first = meeting_requests.request(viewer.id, MeetingRequestIn.from_values(
        receiver_id=asked.id), actor=viewer.registration.user)
    meeting_requests.request(asking.id, MeetingRequestIn.from_values(
        receiver_id=viewer.id), actor=asking.registration.user)
    assert suggested(viewer) == ["Free"]
    meeting_requests.decline(first.id, reason="", actor=asked.registration.user)
    assert suggested(viewer) == ["Asked", "Free"]


def test_a_viewer_out_of_the_marketplace_gets_no_suggestions(market):
    viewer = market.join("Viewer", technologies="iot")
    market.join("Other", technologies="iot")
    matchmaking.withdraw_consent(viewer.id, actor=None)
    assert marketplace.suggestions(viewer) == []


# --------------------------------------------------------------------------- queries


def _shown(listed) -> list:
    """What a page shows of each participant listed or suggested."""
    return [(item.participant.registration.user.organization.name,
             item.participant.participant_type.key,
             [(o.title, o.opportunity_type.key) for o in item.participant.opportunities])
            for item in listed]


def test_query_counts_do_not_grow_with_the_participants(make, frozen):
    viewers = []
    for size in (2, 8):
        market = Market(make)
        viewers.append(market.join("Viewer", technologies="iot",
                                   requests=[("Want", "lighting")]))
        for n in range(size):
            market.join(f"Firm {n}", technologies="iot", offers=[("Lights", "lighting")],
                        requests=[("Data", "data")])
    _db.session.flush()
    _db.session.expunge_all()  # as a request starts: nothing loaded yet
    counts = []
    for viewer, size in zip(viewers, (2, 8), strict=True):
        with count_queries() as searched:
            assert len(_shown(marketplace.search(viewer, viewer.event_id, text="firm"))) == size
        with count_queries() as ranked:
            assert len(_shown(marketplace.suggestions(viewer))) == size
        counts.append((len(searched), len(ranked)))
    assert counts[0] == counts[1]
    assert counts[0][0] <= 4 and counts[0][1] <= 6

"""The marketplace: an event of its own with matchmaking on, where the member takes part
(with an opportunity) beside a participant of cluster B; and another where the other
member is approved but has not joined. Browsing: the event's consenting participants and
its organizers (others 403). A participant's page: themself, the other participants, and
those who follow them (organizers, their cluster's managers); 404 for anyone else. One's
own pages (join, profile, opportunities, availability, leave) answer only the registrant
of the event: 404 for anyone without a registration, admins included. The POSTs send
empty forms, refused (or changing nothing), so the world stays as it was."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from tests.matrix.matchmaking import join
from tests.matrix.matchmaking import market as market_of
from webapp.inputs.matchmaking import OpportunityIn
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking


def _joined(make, event, user, title):
    participant = join(make, event, user)
    opportunity = matchmaking.add_opportunity(participant.id, OpportunityIn.from_values(
        opportunity_type="offer", title=title), actor=user)
    return participant, opportunity


def build(make, users, base):
    market, _block, _point = market_of(make, base, hosted=True, actor=users["organizer"])
    mine, own_offer = _joined(make, market, users["member"], "Smart poles")
    peer_user = make.user(make.organization(base["cluster_b"]), name="Petra Peer")
    peer, peer_offer = _joined(make, market, peer_user, "Open data")
    joinable, _block, _point = market_of(make, base, hosted=True,
                                         actor=users["organizer"])
    make.registration(joinable, users["other_member"], S.SUBMITTED, S.APPROVED)
    return dict(market=market.id, market_mine=mine.id, market_peer=peer.id,
                market_own_offer=own_offer.id, market_peer_offer=peer_offer.id,
                market_joinable=joinable.id)


def _in(w, path="", event="market"):
    return f"/events/{w.extra[event]}/marketplace{path}"


def only(status, *roles):
    """`status` for `roles`, 404 for the other signed-in roles."""
    return statuses(404, anonymous=LOGIN, **{role: status for role in roles})


BROWSERS = statuses(403, anonymous=LOGIN, member=200, organizer=200, admin=200)
FOLLOWERS_OF_MINE = ("member", "manager_a", "organizer", "admin")
FOLLOWERS_OF_PEER = ("member", "manager_b", "organizer", "admin")
EDITORS = ("member", "organizer", "admin")

CASES = [
    Case("marketplace.index", "browse", "GET", lambda w: _in(w, "/"), BROWSERS),
    Case("marketplace.index", "search, bad page", "GET",
         lambda w: _in(w, "/?q=data&type=x&country=ZZ&page=-3"), BROWSERS),
    Case("marketplace.index", "unknown event", "GET",
         lambda w: "/events/999999/marketplace/", statuses(404, anonymous=LOGIN)),
    Case("marketplace.participant", "the member", "GET",
         lambda w: _in(w, f"/participants/{w.extra['market_mine']}"),
         only(200, *FOLLOWERS_OF_MINE)),
    Case("marketplace.participant", "cluster B's", "GET",
         lambda w: _in(w, f"/participants/{w.extra['market_peer']}"),
         only(200, *FOLLOWERS_OF_PEER)),
    Case("marketplace.participant", "of another event", "GET",
         lambda w: _in(w, f"/participants/{w.extra['market_peer']}", "market_joinable"),
         only(404)),
    Case("marketplace.participant", "unknown", "GET",
         lambda w: _in(w, "/participants/999999"), only(404)),
    Case("marketplace.participant_edit", "the member's", "GET",
         lambda w: _in(w, f"/participants/{w.extra['market_mine']}/profile"),
         only(200, *EDITORS)),
    Case("marketplace.participant_edit", "the member's, empty", "POST",
         lambda w: _in(w, f"/participants/{w.extra['market_mine']}/profile"),
         only(400, *EDITORS)),
    Case("marketplace.join", "joined already", "GET", lambda w: _in(w, "/join"),
         only(302, "member")),
    Case("marketplace.join", "approved, not joined", "GET",
         lambda w: _in(w, "/join", "market_joinable"), only(200, "other_member")),
    Case("marketplace.join", "approved, empty", "POST",
         lambda w: _in(w, "/join", "market_joinable"), only(400, "other_member")),
    Case("marketplace.profile", "own", "GET", lambda w: _in(w, "/profile"),
         only(200, "member")),
    Case("marketplace.profile", "own, empty", "POST", lambda w: _in(w, "/profile"),
         only(400, "member")),
    Case("marketplace.profile", "not joined", "GET",
         lambda w: _in(w, "/profile", "market_joinable"), only(302, "other_member")),
    Case("marketplace.availability", "own", "GET", lambda w: _in(w, "/availability"),
         only(200, "member")),
    # Nothing ticked, nothing was: saved as it was.
    Case("marketplace.availability", "own, none ticked", "POST",
         lambda w: _in(w, "/availability"), only(302, "member")),
    Case("marketplace.opportunity_new", "empty", "POST", lambda w: _in(w, "/opportunities"),
         only(400, "member")),
    Case("marketplace.opportunity_edit", "own", "GET",
         lambda w: _in(w, f"/opportunities/{w.extra['market_own_offer']}"),
         only(200, "member")),
    Case("marketplace.opportunity_edit", "own, empty", "POST",
         lambda w: _in(w, f"/opportunities/{w.extra['market_own_offer']}"),
         only(400, "member")),
    Case("marketplace.opportunity_edit", "another's", "GET",
         lambda w: _in(w, f"/opportunities/{w.extra['market_peer_offer']}"), only(404)),
    Case("marketplace.opportunity_remove", "another's", "POST",
         lambda w: _in(w, f"/opportunities/{w.extra['market_peer_offer']}/remove"),
         only(404)),
    # Who has not joined is sent to join; nobody leaves the world's marketplace here.
    Case("marketplace.leave", "not joined", "POST",
         lambda w: _in(w, "/leave", "market_joinable"), only(302, "other_member")),
]

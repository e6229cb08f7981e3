"""The meeting request pages (webapp/views/meeting_requests.py): asking a participant for a
meeting, each refusal shown with its message and nothing written, answering and
cancelling from the pages, contact details only once a meeting is agreed, the list those
who follow the participants read, a stale action explained, and a list whose queries do
not grow with its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import count_queries, csrf_token
from tests.test_meeting_requests import NOW, ask, build_market, placed, snapshot, with_tables
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import JoinIn, OpportunityIn, UnavailableSlotsIn
from webapp.models import MeetingRequest
from webapp.models import MeetingRequestStatus as M
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, meeting_requests
from webapp.services.errors import MatchmakingRefused

__all__ = ["NOW"]  # the `frozen` fixture's clock


@pytest.fixture
def market(make, frozen):
    market = build_market(make)
    for participant in market.people:  # the French reader's pages are tested apart
        participant.registration.user.locale = "en"
    matchmaking.add_opportunity(market.people[1].id, OpportunityIn.from_values(
        opportunity_type="offer", title="Adaptive street lighting pilots"),
        actor=market.user(1))
    return market


def _ask_url(market, to: int, event_id: int | None = None) -> str:
    return (f"/events/{event_id or market.event_id}/marketplace/participants/"
            f"{market.people[to].id}/request")


def _list_url(market, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/events/{market.event_id}/marketplace/requests" + (f"?{query}" if query else "")


def _request_url(market, req, action: str = "") -> str:
    return (f"/events/{market.event_id}/marketplace/requests/{req.id}"
            + (f"/{action}" if action else ""))


def _post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **data})


def _slots(market) -> list:
    first = market.people[0].event.starts_at
    return [first + timedelta(minutes=40 * n) for n in range(3)]


# --------------------------------------------------------------------------- asking


def test_a_participant_asks_for_a_meeting_from_the_page(market, login_as):
    client = login_as(market.user(0))
    html = client.get(_ask_url(market, 1)).get_data(as_text=True)
    assert "Firm 1" in html and "SME" in html
    assert "Adaptive street lighting pilots" in html
    # The slots by day, in the event's zone (Singapore), the zone named.
    assert "Singapore, UTC+8" in html
    assert html.count('data-testid="slot-day"') == 1
    assert "17:00–17:30" in html and "17:40–18:10" in html and "18:20–18:50" in html
    assert "Person 1" not in html  # the name comes with an agreed meeting

    later = _slots(market)[1]
    response = _post(client, _ask_url(market, 1), message="Smart lighting?",
                     preferred_slots=later.isoformat())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/events/{market.event_id}/marketplace/requests?box=sent")
    req = _db.session.scalars(select(MeetingRequest)).one()
    assert (req.requester_id, req.receiver_id) == (market.people[0].id, market.people[1].id)
    assert req.status == M.REQUESTED and req.message == "Smart lighting?"
    assert req.preferred_slots == [later.isoformat()]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your meeting request was sent to Firm 1." in page
    assert "Smart lighting?" in page and "Firm 1" in page


def test_slots_the_receiver_blocked_are_not_offered(market, login_as):
    blocked = _slots(market)[0]
    matchmaking.set_unavailable(market.people[1].id, UnavailableSlotsIn.from_values(
        slots=[blocked]), actor=market.user(1))
    html = login_as(market.user(0)).get(_ask_url(market, 1)).get_data(as_text=True)
    assert blocked.isoformat() not in html and "17:00–17:30" not in html
    assert _slots(market)[1].isoformat() in html


def _refused_on_page(client, url: str, status: int, shown: str, **data) -> None:
    before = snapshot()
    response = _post(client, url, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    assert shown in html.replace("&#39;", "'")
    assert snapshot() == before


def test_a_request_the_matrix_forbids_is_refused_with_its_message(market, login_as):
    matchmaking.set_rule(market.event_id, "sme", "sme", False, actor=market.organizer)
    _refused_on_page(login_as(market.user(0)), _ask_url(market, 1), 409,
                     "participants of your type cannot ask participants of this type")


def test_a_refusal_is_shown_in_the_readers_language(make, frozen, login_as):
    market = build_market(make)  # the second participant reads French
    matchmaking.set_rule(market.event_id, "sme", "sme", False, actor=market.organizer)
    with force_locale("fr"):
        expected = MatchmakingRefused("meeting_request.type_not_allowed").message
    assert "cannot ask" not in expected
    _refused_on_page(login_as(market.user(1)), _ask_url(market, 0), 409, expected)


def test_a_request_outside_the_window_is_refused_with_its_message(make, frozen, login_as):
    market = build_market(make, window=(NOW + timedelta(days=1), NOW + timedelta(days=2)))
    _refused_on_page(login_as(market.user(0)), _ask_url(market, 1), 409,
                     "Meeting requests are not open now.")


def test_a_blocked_slot_is_refused_beside_the_slots(market, login_as):
    blocked = _slots(market)[0]
    matchmaking.set_unavailable(market.people[1].id, UnavailableSlotsIn.from_values(
        slots=[blocked]), actor=market.user(1))
    _refused_on_page(login_as(market.user(0)), _ask_url(market, 1), 400,
                     "The participant is not available in one of the slots you chose.",
                     preferred_slots=blocked.isoformat())


def test_a_time_that_is_no_slot_is_refused_beside_the_slots(market, login_as):
    client = login_as(market.user(0))
    _refused_on_page(client, _ask_url(market, 1), 400,
                     "Choose among the event's meeting slots.",
                     preferred_slots=(_slots(market)[0] + timedelta(minutes=7)).isoformat())
    _refused_on_page(client, _ask_url(market, 1), 400, 'id="preferred_slots-error"',
                     preferred_slots="tomorrow")


def test_a_second_open_request_for_the_pair_is_refused_with_its_message(market, login_as):
    ask(market, 1, 0)
    client = login_as(market.user(0))
    assert 'data-testid="already-open"' in client.get(_ask_url(market, 1)).get_data(
        as_text=True)
    _refused_on_page(client, _ask_url(market, 1), 409,
                     "There is already an open meeting request between you two.")


def test_a_participant_of_another_event_is_refused_with_its_message(market, make, login_as):
    elsewhere = build_market(make, people=1)
    # Person 0 takes part in both events and asks, from the first one's marketplace,
    # the other event's participant.
    reg = make.registration(_db.session.get(type(elsewhere.people[0].event),
                                            elsewhere.event_id),
                            market.user(0), S.SUBMITTED, S.APPROVED)
    matchmaking.join(reg.id, JoinIn.from_values(participant_type="sme", consent=True),
                     actor=market.user(0))
    url = (f"/events/{market.event_id}/marketplace/participants/"
           f"{elsewhere.people[0].id}/request")
    _refused_on_page(login_as(market.user(0)), url, 409,
                     "This participant takes part in another event.")


def test_asking_oneself_or_someone_without_consent_is_refused_and_writes_nothing(
        market, login_as):
    client = login_as(market.user(0))
    before = snapshot()
    # One's own profile: the policy says no.
    assert _post(client, _ask_url(market, 0)).status_code == 403
    # A participant who withdrew their consent is hidden from the marketplace.
    matchmaking.withdraw_consent(market.people[1].id, actor=market.user(1))
    assert _post(client, _ask_url(market, 1)).status_code == 404
    # Without one's own consent, nobody is found there.
    matchmaking.withdraw_consent(market.people[0].id, actor=market.user(0))
    assert _post(client, _ask_url(market, 2)).status_code == 404
    assert snapshot()[0] == before[0]


def test_a_message_too_long_is_refused_beside_it(market, login_as):
    _refused_on_page(login_as(market.user(0)), _ask_url(market, 1), 400,
                     'id="message-error"', message="x" * 1001)


# --------------------------------------------------------------------------- answering


def test_the_receiver_accepts_and_contact_details_appear_only_then(market, login_as, make):
    market.user(0).phone = "+65 6123 4567"
    req = ask(market, 0, 1, message="Lighting?")
    receiver = login_as(market.user(1))
    for url in (_list_url(market), _request_url(market, req)):
        html = receiver.get(url).get_data(as_text=True)
        assert "Firm 0" in html and "Lighting?" in html
        assert market.user(0).email not in html and "Person 0" not in html
        assert 'data-testid="contact-details"' not in html
    assert 'data-testid="expires-at"' in receiver.get(_list_url(market)).get_data(
        as_text=True)

    response = _post(receiver, _request_url(market, req, "accept"))
    assert response.status_code == 302
    _db.session.refresh(req)
    assert req.status == M.ACCEPTED
    html = receiver.get(_list_url(market)).get_data(as_text=True)
    assert market.user(0).email in html and "Person 0" in html and "+65 6123 4567" in html
    # The requester sees the receiver's too, in their sent requests.
    requester = login_as(market.user(0))
    html = requester.get(_list_url(market, box="sent")).get_data(as_text=True)
    assert market.user(1).email in html and "Person 1" in html
    html = requester.get(_request_url(market, req)).get_data(as_text=True)
    assert 'data-testid="contact-details"' in html and market.user(1).email in html


def test_the_receiver_declines_with_a_reason(market, login_as):
    req = ask(market, 0, 1)
    client = login_as(market.user(1))
    _refused_on_page(client, _request_url(market, req, "decline"), 400,
                     "Say why: the other participant receives it.", reason="  ")
    response = _post(client, _request_url(market, req, "decline"), reason="Not our field.")
    assert response.status_code == 302
    _db.session.refresh(req)
    assert (req.status, req.reason) == (M.DECLINED, "Not our field.")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You declined the meeting request." in html and "Not our field." in html
    assert 'data-status="declined"' in html


@pytest.mark.parametrize("side", [0, 1])
def test_either_side_cancels_with_a_reason(market, login_as, side):
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    client = login_as(market.user(side))
    _refused_on_page(client, _request_url(market, req, "cancel"), 400,
                     "Say why: the other participant receives it.")
    response = _post(client, _request_url(market, req, "cancel"), reason="Flight moved.")
    assert response.status_code == 302
    _db.session.refresh(req)
    assert (req.status, req.reason) == (M.CANCELLED, "Flight moved.")
    assert req.cancelled_by_participant_id == market.people[side].id


def test_an_organizer_cancels_a_meeting_from_its_page(market, login_as):
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    client = login_as(market.organizer)
    html = client.get(_request_url(market, req)).get_data(as_text=True)
    assert 'id="cancel-reason"' in html and 'id="decline-reason"' not in html
    assert _post(client, _request_url(market, req, "cancel"),
                 reason="The hall is closed.").status_code == 302
    _db.session.refresh(req)
    assert req.status == M.CANCELLED and req.cancelled_by_user_id == market.organizer.id


def test_only_the_receiver_answers_and_only_the_sides_cancel(market, login_as):
    req = ask(market, 0, 1)
    before = snapshot()
    requester = login_as(market.user(0))
    assert _post(requester, _request_url(market, req, "accept")).status_code == 403
    assert _post(requester, _request_url(market, req, "decline"),
                 reason="x").status_code == 403
    stranger = login_as(market.user(2))  # same event, not a side: the request is unseen
    assert stranger.get(_request_url(market, req)).status_code == 404
    assert _post(stranger, _request_url(market, req, "cancel"), reason="x").status_code == 404
    assert snapshot() == before


def test_a_request_under_another_events_address_is_not_found(market, make, login_as):
    req = ask(market, 0, 1)
    elsewhere = build_market(make, people=1)
    client = login_as(market.user(1))
    url = f"/events/{elsewhere.event_id}/marketplace/requests/{req.id}"
    assert client.get(url).status_code == 404
    assert _post(client, url + "/accept").status_code == 404
    _db.session.refresh(req)
    assert req.status == M.REQUESTED


def test_a_stale_action_is_explained_not_a_server_error(market, login_as):
    req = ask(market, 0, 1)
    meeting_requests.decline(req.id, actor=market.user(1), reason="No.")
    client = login_as(market.user(1))
    _refused_on_page(client, _request_url(market, req, "accept"), 409,
                     "This meeting request is declined already.")
    _refused_on_page(client, _request_url(market, req, "cancel"), 409,
                     "This meeting request is declined already.", reason="Sorry.")


def test_an_expired_request_is_explained_when_accepted(market, login_as, frozen):
    req = ask(market, 0, 1)
    frozen.move_to(NOW + timedelta(hours=73))
    _refused_on_page(login_as(market.user(1)), _request_url(market, req, "accept"), 409,
                     "This meeting request is expired already.")


def test_the_request_page_shows_its_history(market, login_as):
    req = ask(market, 0, 1)
    meeting_requests.decline(req.id, actor=market.user(1), reason="Not now.")
    html = login_as(market.user(0)).get(_request_url(market, req)).get_data(as_text=True)
    history = html.split('data-testid="history"')[1]
    assert history.index('data-status="requested"') < history.index('data-status="declined"')
    assert "Not now." in history and "Person 1" not in history


# --------------------------------------------------------------------------- following


def test_an_organizer_follows_every_request_read_only_with_both_sides_named(market,
                                                                           login_as):
    ask(market, 0, 1, message="Lighting?")
    ask(market, 2, 0)
    html = login_as(market.organizer).get(_list_url(market)).get_data(as_text=True)
    assert 'data-testid="read-only"' in html
    assert html.count('data-testid="request-row"') == 2
    assert all(f"Person {n}" in html for n in range(3)) and "Lighting?" in html
    assert "/accept" not in html and "/decline" not in html and "#cancel" not in html
    # Filtered by status.
    html = login_as(market.organizer).get(_list_url(market, status="accepted")).get_data(
        as_text=True)
    assert 'data-testid="no-requests"' in html


def test_a_partner_manager_follows_their_clusters_participants(market, make, login_as):
    ask(market, 0, 1)
    cluster = market.people[0].registration.responsible_partner
    html = login_as(make.manager(cluster)).get(_list_url(market)).get_data(as_text=True)
    assert html.count('data-testid="request-row"') == 1 and "Person 0" in html
    stranger = login_as(make.manager(make.partner()))
    html = stranger.get(_list_url(market)).get_data(as_text=True)
    assert 'data-testid="no-requests"' in html


def test_a_participant_lists_received_and_sent_apart(market, login_as):
    ask(market, 0, 1)
    ask(market, 2, 0)
    client = login_as(market.user(0))
    received = client.get(_list_url(market)).get_data(as_text=True)
    assert received.count('data-testid="request-row"') == 1 and "Firm 2" in received
    sent = client.get(_list_url(market, box="sent")).get_data(as_text=True)
    assert sent.count('data-testid="request-row"') == 1 and "Firm 1" in sent
    # A list the user has not (followed requests) falls back to the first.
    assert client.get(_list_url(market, box="followed", status="nonsense")).status_code == 200


@pytest.mark.parametrize(("viewer", "totals"), [("organizer", (10, 40)),
                                                 ("receiver", (3, 9))])
def test_the_list_runs_as_many_queries_for_many_requests_as_for_few(
        make, frozen, login_as, rendering, viewer, totals):
    counts = []
    for total in totals:
        market = build_market(make, people=10)
        # Those person 9 receives first, then the others.
        pairs = sorted(((a, b) for a in range(10) for b in range(10) if a < b),
                       key=lambda pair: pair[1] != 9)
        for frm, to in pairs[:total]:
            ask(market, frm, to, message="Hello", preferred_slots=_slots(market)[:1])
        client = login_as(market.organizer if viewer == "organizer" else market.user(9))
        client.get(_list_url(market))
        with count_queries() as statements:
            html = client.get(_list_url(market)).get_data(as_text=True)
        assert html.count('data-testid="request-row"') == total
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --------------------------------------------------------------------------- time and place


def test_the_receiver_accepts_in_a_free_slot_the_preferred_first(market, login_as):
    tables = with_tables(market, 1)
    starts = _slots(market)
    req = ask(market, 0, 1, preferred_slots=[starts[1]])
    # Participant 0 meets participant 2 in the first slot: not free for this meeting.
    meeting_requests.accept(ask(market, 2, 0).id, actor=market.user(0), starts_at=starts[0])
    client = login_as(market.user(1))
    html = client.get(_request_url(market, req)).get_data(as_text=True)
    offered = html[html.index('data-testid="slot-choices"'):]
    assert "17:00–17:30" not in offered
    assert offered.index("17:40–18:10") < offered.index("18:20–18:50")
    assert offered.count('data-testid="preferred"') == 1
    assert offered.index('data-testid="preferred"') < offered.index("18:20–18:50")
    assert "Leave it to the organizers" in offered
    # In the event's zone, and in the reader's own where their clock reads otherwise.
    market.user(1).timezone = "Europe/Paris"
    _db.session.flush()
    html = client.get(_request_url(market, req)).get_data(as_text=True)
    offered = html[html.index('data-testid="slot-choices"'):]
    assert "17:40–18:10 (11:40 – 12:10 on Wed 31 Mar your time (CEST))" in offered

    response = _post(client, _request_url(market, req, "accept"),
                     starts_at=starts[1].isoformat())

    assert response.status_code == 302
    _db.session.refresh(req)
    assert req.status == M.ACCEPTED and placed(req) == (starts[1], tables[0], True)
    html = login_as(market.user(0)).get(_request_url(market, req)).get_data(as_text=True)
    shown = html[html.index('data-testid="meeting-place"'):]
    assert "17:40" in shown and "Singapore, UTC+8" in shown and "Table 1" in shown


def test_a_taken_slot_refuses_the_accept_and_offers_the_free_ones_again(market, login_as):
    with_tables(market, 1)
    starts = _slots(market)
    req = ask(market, 0, 1)
    client = login_as(market.user(1))
    client.get(_request_url(market, req))
    # Someone takes the only table in the first slot while the page is open.
    meeting_requests.accept(ask(market, 2, 0).id, actor=market.user(0), starts_at=starts[0])
    before = snapshot()

    response = _post(client, _request_url(market, req, "accept"),
                     starts_at=starts[0].isoformat())

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    error = html[html.index('data-testid="slot-error"'):]
    assert error.startswith('data-testid="slot-error">One of the two sides has another '
                            'meeting in that slot.')
    offered = html[html.index('data-testid="slot-choices"'):]
    assert "17:00–17:30" not in offered and "17:40–18:10" in offered
    assert 'id="error-summary"' in html
    assert snapshot() == before
    _db.session.refresh(req)
    assert req.status == M.REQUESTED and placed(req) is None
    # A time that is no slot at all is bad input.
    response = _post(client, _request_url(market, req, "accept"), starts_at="tomorrow")
    assert response.status_code == 400 and snapshot() == before
    response = _post(client, _request_url(market, req, "accept"),
                     starts_at=(starts[1] + timedelta(minutes=1)).isoformat())
    assert response.status_code == 400 and snapshot() == before
    assert "Choose among the event&#39;s meeting slots." in response.get_data(as_text=True)


def test_a_side_picks_a_slot_for_an_accepted_meeting_from_its_page(market, login_as):
    tables = with_tables(market, 2)
    starts = _slots(market)
    req = ask(market, 0, 1)
    meeting_requests.accept(req.id, actor=market.user(1))
    client = login_as(market.user(0))
    html = client.get(_request_url(market, req)).get_data(as_text=True)
    assert "Choose a time" in html and "Leave it to the organizers" not in html

    response = _post(client, _request_url(market, req, "slot"),
                     starts_at=starts[2].isoformat())

    assert response.status_code == 302
    assert placed(req) == (starts[2], tables[0], True)
    html = client.get(_request_url(market, req)).get_data(as_text=True)
    assert "Choose a time" not in html and 'data-testid="meeting-place"' in html
    # Placed, it is the organizers' to move; and an organizer picks no slot for the sides.
    before = snapshot()
    response = _post(client, _request_url(market, req, "slot"), starts_at=starts[0].isoformat())
    assert response.status_code == 409 and snapshot() == before
    assert "the organizers move it" in response.get_data(as_text=True)
    organizer = login_as(market.organizer)
    response = _post(organizer, _request_url(market, req, "slot"),
                     starts_at=starts[0].isoformat())
    assert response.status_code == 403 and snapshot() == before

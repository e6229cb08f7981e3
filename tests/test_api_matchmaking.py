"""Matchmaking through the API: the marketplace's search and suggestions, joining and
leaving, profiles, opportunities and unavailable slots, meeting requests and their
answers; each refusal coded with nothing changed, each role's scope, contact details only
once a meeting is accepted, and the document generated from the input models."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.api import token_for
from tests.conftest import count_queries, login
from tests.test_api import _problem
from tests.test_meeting_requests import (
    ask,
    build_market,
    placed,
    slot_starts,
    snapshot,
    with_tables,
)
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import (
    AcceptIn,
    JoinIn,
    MeetingRequestIn,
    OpportunityIn,
    ProfileIn,
    ReasonIn,
    SlotChoiceIn,
    UnavailableSlotsIn,
)
from webapp.models import (
    AuditEntry,
    EventStatus,
    Matchmaking,
    MeetingRequest,
    Opportunity,
    Participant,
    ScheduleState,
    UnavailableSlot,
)
from webapp.models import MeetingRequestStatus as M
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, meeting_requests, meeting_schedule

API = "/api/v1"


@pytest.fixture(autouse=True)
def _many_calls(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 100_000)


@pytest.fixture
def market(make, db):
    """Three participants of one cluster (Firm 0..2), their organizer, a token each."""
    market = build_market(make)
    db.session.commit()
    market.tokens = [token_for(market.user(n)) for n in range(len(market.people))]
    market.organizer_token = token_for(market.organizer)
    return market


def _offer(participant: Participant, kind: str, title: str, tags: str) -> Opportunity:
    return matchmaking.add_opportunity(participant.id, OpportunityIn.from_values(
        opportunity_type=kind, title=title, tags=tags), actor=participant.registration.user)


def _changes() -> tuple:
    """What a refused write must leave as it was, besides the requests (`snapshot`)."""
    count = lambda model: _db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return (snapshot(), count(Participant), count(Opportunity), count(UnavailableSlot),
            tuple(_db.session.execute(select(Participant.id, Participant.sectors,
                                             Participant.consent_withdrawn_at)
                                      .order_by(Participant.id)).all()))


def _refused(response, status: int, code: str | None = None, pointer: str | None = None):
    body = _problem(response, status)
    assert body["code"] == code, body
    if pointer is not None:
        assert [e["pointer"] for e in body["errors"]] == [pointer], body
    return body


# --------------------------------------------------------------------------- the document


OPERATIONS = {
    ("/events/{event_id}/marketplace/participants", "get"): None,
    ("/events/{event_id}/marketplace/suggestions", "get"): None,
    ("/events/{event_id}/marketplace/join", "post"): JoinIn,
    ("/events/{event_id}/marketplace/leave", "post"): "EmptyIn",
    ("/participants/{participant_id}", "get"): None,
    ("/participants/{participant_id}/profile", "put"): ProfileIn,
    ("/participants/{participant_id}/unavailable-slots", "put"): UnavailableSlotsIn,
    ("/participants/{participant_id}/opportunities", "post"): OpportunityIn,
    ("/opportunities/{opportunity_id}", "put"): OpportunityIn,
    ("/opportunities/{opportunity_id}", "delete"): "EmptyIn",
    ("/meeting-requests", "get"): None,
    ("/meeting-requests", "post"): MeetingRequestIn,
    ("/meeting-requests/{request_id}", "get"): None,
    ("/meeting-requests/{request_id}/accept", "post"): AcceptIn,
    ("/meeting-requests/{request_id}/slot", "post"): SlotChoiceIn,
    ("/meeting-requests/{request_id}/decline", "post"): ReasonIn,
    ("/meeting-requests/{request_id}/cancel", "post"): ReasonIn,
    ("/meeting-requests/{request_id}/slots", "get"): None,
    ("/participants/{participant_id}/agenda", "get"): None,
}


def test_the_document_lists_the_operations_with_the_input_models_schemas(client):
    document = client.get(f"{API}/openapi.json").json
    components = document["components"]["schemas"]
    for (path, method), model in OPERATIONS.items():
        op = document["paths"][path][method]
        assert op["tags"] == ["matchmaking"], path
        if model is None:
            assert "requestBody" not in op
            continue
        name = model if isinstance(model, str) else model.__name__
        assert op["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"}
        if not isinstance(model, str):
            # The pages' own model: its fields, its limits, its required ones.
            schema = components[name]
            assert set(schema["properties"]) == set(model.model_fields), name
            assert set(schema.get("required", [])) == {
                field for field, info in model.model_fields.items() if info.is_required()}
    assert components["OpportunityIn"]["properties"]["title"]["maxLength"] == 200
    assert components["UnavailableSlotsIn"]["properties"]["slots"]["maxItems"] == 200
    search = {p["name"] for p in
              document["paths"]["/events/{event_id}/marketplace/participants"]["get"][
                  "parameters"]}
    assert {"q", "type", "sector", "country", "participant_type", "page", "per_page"} <= search


# --------------------------------------------------------------------------- the marketplace


def test_the_search_filters_and_pages_the_marketplace(call, market, make, db):
    first, second, third = market.people
    matchmaking.update_profile(second.id, ProfileIn.from_values(
        participant_type="research", sectors="Mobility"), actor=market.user(1))
    _offer(second, "offer", "Traffic sensors", "smart lighting")
    _offer(third, "request", "Street lights", "smart lighting")
    second.registration.user.organization.country = "GR"
    db.session.commit()
    url = f"{API}/events/{market.event_id}/marketplace/participants"

    def ids(query="", token=market.tokens[0]):
        response = call("GET", f"{url}{query}", token)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids() == [second.id, third.id]  # yourself aside, by organization's name
    assert ids(token=market.organizer_token) == [first.id, second.id, third.id]
    assert ids("?q=traffic") == [second.id]
    assert ids("?q=lighting") == [second.id, third.id]
    assert ids("?type=request") == [third.id]
    assert ids("?sector=mobility") == [second.id]
    assert ids("?country=GR") == [second.id]
    assert ids("?participant_type=research") == [second.id]
    assert ids("?q=nothing+like+it") == []
    only = call("GET", f"{url}?type=offer", market.tokens[2]).json["items"]
    assert [o["title"] for o in only[0]["opportunities"]] == ["Traffic sensors"]
    assert only[0]["organization"]["country"] == "GR" and only[0]["sectors"] == ["Mobility"]
    assert "contact" not in only[0]

    paged = call("GET", f"{url}?per_page=1&q=lighting", market.tokens[0]).json
    assert (paged["total"], paged["page"], len(paged["items"])) == (2, 1, 1)
    parts = urlsplit(paged["next"])
    following = call("GET", f"{parts.path}?{parts.query}", market.tokens[0]).json
    assert [i["id"] for i in following["items"]] == [third.id] and following["next"] is None
    _refused(call("GET", f"{url}?per_page=0", market.tokens[0]), 400)
    _refused(call("GET", f"{url}?country=greece", market.tokens[0]), 400)


def test_the_marketplace_is_for_its_participants_and_organizers(call, market, make, db):
    url = f"{API}/events/{market.event_id}/marketplace"
    outsider = make.user(make.organization())
    registrant = make.user(make.organization())
    make.registration(db.session.get(Participant, market.people[0].id).event, registrant,
                      S.SUBMITTED)
    draft = make.event(organizers=[make.partner()], status=EventStatus.DRAFT)
    db.session.commit()
    for who in (outsider, registrant):
        token = token_for(who)
        for path in ("participants", "suggestions"):
            _refused(call("GET", f"{url}/{path}", token), 403)
    for path in ("participants", "suggestions"):
        _refused(call("GET", f"{API}/events/{draft.id}/marketplace/{path}",
                      market.tokens[0]), 404)
        _refused(call("GET", f"{API}/events/999999/marketplace/{path}", market.tokens[0]),
                 404)
    assert call("GET", f"{url}/suggestions", market.organizer_token).json == {"items": []}


def test_suggestions_come_with_their_reasons_as_data(call, market, db):
    first, second, third = market.people
    _offer(first, "request", "Lighting pilot wanted", "Smart lighting\nIoT")
    _offer(second, "offer", "Our street lights", "smart lighting, LoRa")
    matchmaking.update_profile(third.id, ProfileIn.from_values(
        participant_type="sme", technologies="IoT"), actor=market.user(2))
    db.session.commit()
    found = call("GET", f"{API}/events/{market.event_id}/marketplace/suggestions",
                 market.tokens[0])
    assert found.status_code == 200
    items = found.json["items"]
    assert [item["participant"]["id"] for item in items] == [second.id, third.id]
    assert items[0]["reasons"] == [{
        "kind": "offers_what_you_request", "tags": ["smart lighting"],
        "their_title": "Our street lights", "your_title": "Lighting pilot wanted"}]
    assert items[1]["reasons"] == [{"kind": "shared_tags", "tags": ["IoT"],
                                    "their_title": None, "your_title": None}]
    assert items[0]["score"] > items[1]["score"] > 0


# --------------------------------------------------------------------------- joining


def test_an_approved_registrant_joins_and_leaves(call, market, make, db):
    event = db.session.get(Participant, market.people[0].id).event
    newcomer = make.user(make.organization(name="Newcomer Ltd"))
    reg = make.registration(event, newcomer, S.SUBMITTED, S.APPROVED)
    pending = make.user(make.organization())
    make.registration(event, pending, S.SUBMITTED)
    db.session.commit()
    token, pending_token = token_for(newcomer), token_for(pending)
    url = f"{API}/events/{event.id}/marketplace"
    before = _changes()
    _refused(call("POST", f"{url}/join", token, json={"participant_type": "sme"}), 422,
             pointer="/consent")
    _refused(call("POST", f"{url}/join", token,
                  json={"participant_type": "sme", "consent": False}), 422)
    _refused(call("POST", f"{url}/join", token,
                  json={"participant_type": "alien", "consent": True}), 422,
             "matchmaking.type_unknown", "/participant_type")
    _refused(call("POST", f"{url}/join", pending_token,
                  json={"participant_type": "sme", "consent": True}), 403)
    _refused(call("POST", f"{url}/leave", token, json={}), 404)
    assert _changes() == before

    joined = call("POST", f"{url}/join", token, json={"participant_type": "sme",
                                                      "consent": True})
    assert joined.status_code == 201, joined.json
    body = joined.json
    assert body["in_marketplace"] and body["organization"]["name"] == "Newcomer Ltd"
    assert body["contact"]["email"] == newcomer.email  # one's own
    assert body["available_slots"] and body["unavailable_slots"] == []
    assert matchmaking.participant_of(reg.id).consent_version
    _refused(call("POST", f"{url}/join", token, json={"participant_type": "sme",
                                                      "consent": True}),
             409, "matchmaking.already_joined")
    others = call("GET", f"{API}/participants/{body['id']}", market.tokens[0])
    assert others.status_code == 200 and others.json["contact"] is None

    # Leaving hides them at once and ends their open requests.
    ask_them = call("POST", f"{API}/meeting-requests", market.tokens[0],
                    json={"receiver_id": body["id"]})
    assert ask_them.status_code == 201
    left = call("POST", f"{url}/leave", token, json={})
    assert left.status_code == 200 and left.json["in_marketplace"] is False
    _refused(call("GET", f"{API}/participants/{body['id']}", market.tokens[0]), 404)
    assert call("GET", f"{API}/meeting-requests/{ask_them.json['id']}",
                token).json["cause"] == "consent_withdrawn"
    again = call("POST", f"{url}/join", token, json={"participant_type": "sme",
                                                     "consent": True})
    assert again.status_code == 201 and again.json["id"] == body["id"]


# --------------------------------------------------------------------------- profiles


def test_profiles_opportunities_and_slots_by_the_participant_and_organizers(call, market, db):
    first = market.people[0]
    url = f"{API}/participants/{first.id}"
    own, other, organizer = market.tokens[0], market.tokens[1], market.organizer_token
    profile = {"participant_type": "research", "sectors": "Energy\nMobility",
               "technologies": "LoRa, IoT"}
    changed = call("PUT", f"{url}/profile", own, json=profile)
    assert changed.status_code == 200, changed.json
    assert (changed.json["participant_type"], changed.json["sectors"],
            changed.json["technologies"]) == ({"key": "research", "label": "Research"},
                                              ["Energy", "Mobility"], ["LoRa", "IoT"])
    assert call("PUT", f"{url}/profile", organizer,
                json={**profile, "sectors": "Water"}).json["sectors"] == ["Water"]

    before = _changes()
    _refused(call("PUT", f"{url}/profile", other, json=profile), 403)
    _refused(call("PUT", f"{url}/profile", own, json={**profile, "participant_type": "x"}),
             422, "matchmaking.type_unknown", "/participant_type")
    _refused(call("PUT", f"{url}/profile", own, json={"sectors": "x"}), 422)
    _refused(call("PUT", f"{API}/participants/999999/profile", own, json=profile), 404)
    _refused(call("POST", f"{url}/opportunities", own,
                  json={"opportunity_type": "barter", "title": "Swap"}), 422,
             "matchmaking.opportunity_type_unknown", "/opportunity_type")
    _refused(call("POST", f"{url}/opportunities", other,
                  json={"opportunity_type": "offer", "title": "Mine now"}), 403)
    _refused(call("POST", f"{url}/opportunities", own,
                  json={"opportunity_type": "offer", "title": ""}), 422)
    assert _changes() == before

    added = call("POST", f"{url}/opportunities", own, json={
        "opportunity_type": "offer", "title": "Sensor kits", "tags": "IoT\nIoT\nLoRa"})
    assert added.status_code == 201, added.json
    assert added.json["tags"] == ["IoT", "LoRa"]
    assert added.json["type"] == {"key": "offer", "label": "Offer"}
    item = f"{API}/opportunities/{added.json['id']}"
    updated = call("PUT", item, own, json={"opportunity_type": "request",
                                           "title": "Sensor kits wanted"})
    assert updated.status_code == 200 and updated.json["title"] == "Sensor kits wanted"
    _refused(call("PUT", item, other, json={"opportunity_type": "offer", "title": "x"}), 403)
    _refused(call("DELETE", item, other, json={}), 403)
    _refused(call("PUT", f"{API}/opportunities/999999", own,
                  json={"opportunity_type": "offer", "title": "x"}), 404)
    seen = call("GET", url, other).json
    assert [o["title"] for o in seen["opportunities"]] == ["Sensor kits wanted"]
    assert seen["can_edit"] is False and seen["can_request_meeting"] is True
    removed = call("DELETE", item, own, json={})
    assert removed.status_code == 200 and removed.json["opportunities"] == []
    _refused(call("DELETE", item, own, json={}), 404)

    slots = _db.session.scalar(select(Matchmaking).where(
        Matchmaking.event_id == market.event_id)).slot_starts()
    blocked = call("PUT", f"{url}/unavailable-slots", own,
                   json={"slots": [slots[1].isoformat()]})
    assert blocked.status_code == 200, blocked.json
    assert blocked.json["unavailable_slots"] == [slots[1].isoformat()]
    assert slots[1].isoformat() not in blocked.json["available_slots"]
    assert len(blocked.json["available_slots"]) == len(slots) - 1
    before = _changes()
    off = (slots[0] + timedelta(minutes=1)).isoformat()
    _refused(call("PUT", f"{url}/unavailable-slots", own, json={"slots": [off]}), 422,
             "matchmaking.not_a_slot", "/slots")
    _refused(call("PUT", f"{url}/unavailable-slots", other, json={"slots": []}), 403)
    assert _changes() == before


def test_a_read_only_token_changes_no_profile(call, market, db):
    token = token_for(market.user(0), read_only=True)
    response = call("PUT", f"{API}/participants/{market.people[0].id}/profile", token,
                    json={"participant_type": "sme"})
    _refused(response, 403)


# --------------------------------------------------------------------------- meeting requests


def test_a_meeting_request_is_made_answered_and_refused_with_its_code(call, market, db):
    first, second, third = market.people
    asker, asked = market.tokens[0], market.tokens[1]
    made = call("POST", f"{API}/meeting-requests", asker, json={
        "receiver_id": second.id, "message": "Lighting pilots?"})
    assert made.status_code == 201, made.json
    req = made.json
    assert (req["status"], req["requester"]["id"], req["receiver"]["id"]) == (
        "requested", first.id, second.id)
    assert req["requester"]["organization"]["name"] == "Firm 0"
    assert (req["can_answer"], req["can_cancel"], req["contact"]) == (False, True, None)
    url = f"{API}/meeting-requests/{req['id']}"

    before = _changes()
    _refused(call("POST", f"{API}/meeting-requests", asker, json={"receiver_id": second.id}),
             409, "meeting_request.already_open")
    _refused(call("POST", f"{API}/meeting-requests", asker, json={"receiver_id": first.id}),
             409, "meeting_request.to_oneself")
    _refused(call("POST", f"{API}/meeting-requests", asker, json={"receiver_id": 999999}),
             422, pointer="/receiver_id")
    _refused(call("POST", f"{API}/meeting-requests", asker, json={
        "receiver_id": third.id, "preferred_slots": ["2020-01-01T09:00:00+00:00"]}),
        422, "matchmaking.not_a_slot", "/preferred_slots")
    _refused(call("POST", f"{API}/meeting-requests", market.organizer_token,
                  json={"receiver_id": third.id}), 403)
    _refused(call("POST", f"{url}/accept", asker, json={}), 403)
    _refused(call("POST", f"{url}/accept", asker), 415)
    _refused(call("POST", f"{url}/decline", asked, json={"reason": " "}), 422,
             pointer="/reason")
    _refused(call("POST", f"{url}/cancel", market.tokens[2], json={"reason": "x"}), 404)
    _refused(call("POST", f"{API}/meeting-requests/999999/accept", asked, json={}), 404)
    assert _changes() == before

    accepted = call("POST", f"{url}/accept", asked, json={})
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert accepted.json["contact"]["email"] == market.user(0).email
    assert call("GET", url, asker).json["contact"]["email"] == market.user(1).email
    before = _changes()
    stale = _refused(call("POST", f"{url}/decline", asked, json={"reason": "Too late"}),
                     409, "meeting_request.no_longer_open")
    assert stale["params"] == {"status": "accepted"}
    assert _changes() == before
    cancelled = call("POST", f"{url}/cancel", asker, json={"reason": "Flight moved."})
    assert cancelled.status_code == 200
    assert (cancelled.json["status"], cancelled.json["reason"], cancelled.json["contact"]) == (
        "cancelled", "Flight moved.", None)
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_type == "meeting_request", AuditEntry.subject_id == req["id"])) == 3

    declined = call("POST", f"{API}/meeting-requests", market.tokens[2],
                    json={"receiver_id": second.id}).json
    answer = call("POST", f"{API}/meeting-requests/{declined['id']}/decline", asked,
                  json={"reason": "Not our field."})
    assert (answer.json["status"], answer.json["reason"]) == ("declined", "Not our field.")


def test_a_meeting_request_is_accepted_in_a_free_slot_or_refused_with_the_slots_code(
        call, market, db):
    tables = with_tables(market, 1)
    starts = slot_starts(market)
    taken = ask(market, 2, 1)
    meeting_requests.accept(taken.id, actor=market.user(1), starts_at=starts[0])
    req = ask(market, 0, 1)
    db.session.commit()
    url = f"{API}/meeting-requests/{req.id}"
    asked = market.tokens[1]

    before = _changes()
    _refused(call("POST", f"{url}/accept", asked, json={"starts_at": starts[0].isoformat()}),
             409, "schedule.side_busy")
    _refused(call("POST", f"{url}/accept", asked, json={
        "starts_at": (starts[0] + timedelta(minutes=1)).isoformat()}),
        422, "matchmaking.not_a_slot", "/starts_at")
    _refused(call("POST", f"{url}/accept", asked, json={"starts_at": "09:00"}), 422,
             pointer="/starts_at")
    _refused(call("POST", f"{url}/accept", market.tokens[0],
                  json={"starts_at": starts[1].isoformat()}), 403)
    _refused(call("POST", f"{url}/slot", asked, json={"starts_at": starts[1].isoformat()}),
             409, "schedule.not_accepted")
    assert _changes() == before

    accepted = call("POST", f"{url}/accept", asked, json={"starts_at": starts[1].isoformat()})
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert placed(db.session.get(MeetingRequest, req.id)) == (starts[1], tables[0], True)
    _refused(call("POST", f"{url}/slot", market.tokens[0],
                  json={"starts_at": starts[2].isoformat()}),
             409, "meeting_request.placed_already")

    # Accepted without a slot, either side picks one later; others may not.
    later = ask(market, 2, 0)
    meeting_requests.accept(later.id, actor=market.user(0))
    db.session.commit()
    later_url = f"{API}/meeting-requests/{later.id}/slot"
    _refused(call("POST", later_url, market.organizer_token,
                  json={"starts_at": starts[2].isoformat()}), 403)
    chosen = call("POST", later_url, market.tokens[2], json={"starts_at": starts[2].isoformat()})
    assert chosen.status_code == 200, chosen.json
    assert placed(db.session.get(MeetingRequest, later.id)) == (starts[2], tables[0], True)


def test_a_meetings_time_and_place_show_as_the_pages_show_them(call, client, market, make,
                                                              db):
    """To its sides (and those who follow them) once shown to participants (locked, or
    the schedule published); to the organizers as soon as it is placed."""
    tables = with_tables(market, 1)
    starts = slot_starts(market)
    chosen, drafted = ask(market, 0, 1), ask(market, 2, 0)
    meeting_requests.accept(chosen.id, actor=market.user(1), starts_at=starts[1])
    meeting_requests.accept(drafted.id, actor=market.user(0))
    # The organizers' draft: placed, not locked, not published.
    meeting_schedule.place(drafted, starts[2], lock=False)
    requested = ask(market, 1, 2)
    db.session.commit()
    follower = token_for(make.manager(market.people[0].registration.responsible_partner))

    def meeting(token, req):
        response = call("GET", f"{API}/meeting-requests/{req.id}", token)
        assert response.status_code == 200, response.json
        listed = {item["id"]: item["meeting"] for item in
                  call("GET", f"{API}/meeting-requests", token).json["items"]}
        assert listed[req.id] == response.json["meeting"]  # the list says the same
        return response.json["meeting"]

    shown = meeting(market.tokens[0], chosen)
    assert shown == {
        "id": shown["id"], "starts_at": starts[1].isoformat(),
        "ends_at": (starts[1] + timedelta(minutes=30)).isoformat(),
        "meeting_point": {"id": tables[0], "name": "Table 1", "kind": "table", "url": None},
        "locked": True, "schedule_state": "draft", "calendar_url": shown["calendar_url"]}
    ics = urlsplit(shown["calendar_url"]).path
    assert ics == f"/events/{market.event_id}/marketplace/meetings/{shown['id']}.ics"
    login(client, market.user(0))
    assert client.get(ics).status_code == 200  # the side's own calendar file
    assert meeting(market.tokens[1], chosen)["calendar_url"].endswith(ics)
    # Not a side: no calendar file; the time and place as the request's page shows them.
    assert meeting(market.organizer_token, chosen) == {**shown, "calendar_url": None}
    assert meeting(follower, chosen) == {**shown, "calendar_url": None}

    for token in (market.tokens[0], market.tokens[2], follower):
        assert meeting(token, drafted) is None
    draft = meeting(market.organizer_token, drafted)
    assert (draft["starts_at"], draft["locked"], draft["calendar_url"]) == (
        starts[2].isoformat(), False, None)
    assert meeting(market.organizer_token, requested) is None

    meeting_schedule.publish(market.event_id, ScheduleState.PRELIMINARY, actor=market.organizer)
    db.session.commit()
    published = meeting(market.tokens[2], drafted)
    assert (published["starts_at"], published["schedule_state"]) == (
        starts[2].isoformat(), "preliminary")
    assert published["calendar_url"] is not None
    # Cancelled, a meeting is nobody's any more.
    meeting_requests.cancel(chosen.id, actor=market.user(0), reason="Flight moved.")
    db.session.commit()
    assert meeting(market.organizer_token, chosen) is None


def test_the_slots_a_meeting_could_take_are_offered_to_its_sides(call, market, make, db):
    with_tables(market, 1)
    starts = slot_starts(market)
    req = ask(market, 0, 1, preferred_slots=[starts[2]])
    busy = ask(market, 2, 0)
    meeting_requests.accept(busy.id, actor=market.user(0), starts_at=starts[0])
    db.session.commit()
    url = f"{API}/meeting-requests/{req.id}/slots"

    def offered(token):
        response = call("GET", url, token)
        assert response.status_code == 200, response.json
        return response.json["action"], [(item["starts_at"], item["ends_at"], item["preferred"])
                                         for item in response.json["items"]]

    # The one asked, to accept with: the preferred first; the requester's busy slot not.
    assert offered(market.tokens[1]) == ("accept", [
        (starts[2].isoformat(), (starts[2] + timedelta(minutes=30)).isoformat(), True),
        (starts[1].isoformat(), (starts[1] + timedelta(minutes=30)).isoformat(), False)])
    assert offered(market.tokens[0]) == (None, [])  # not answered yet: nothing to choose
    _refused(call("GET", url, market.organizer_token), 403)
    _refused(call("GET", url, token_for(make.manager(
        market.people[0].registration.responsible_partner))), 403)
    _refused(call("GET", url, market.tokens[2]), 404)
    _refused(call("GET", f"{API}/meeting-requests/999999/slots", market.tokens[0]), 404)

    meeting_requests.accept(req.id, actor=market.user(1))
    db.session.commit()
    # Accepted without a slot: either side may choose one, the same slots.
    assert offered(market.tokens[0]) == offered(market.tokens[1])
    assert offered(market.tokens[0])[0] == "slot"
    chosen = call("POST", f"{API}/meeting-requests/{req.id}/slot", market.tokens[0],
                  json={"starts_at": offered(market.tokens[0])[1][0][0]})
    assert chosen.status_code == 200 and chosen.json["meeting"]["starts_at"] == \
        starts[2].isoformat()
    assert offered(market.tokens[1]) == (None, [])


def test_a_participants_agenda_for_them_and_the_organizers(call, market, make, db):
    tables = with_tables(market, 1)
    starts = slot_starts(market)
    later, sooner, waiting = ask(market, 0, 1), ask(market, 2, 0), ask(market, 1, 2)
    meeting_requests.accept(later.id, actor=market.user(1), starts_at=starts[2])
    meeting_requests.accept(sooner.id, actor=market.user(0), starts_at=starts[0])
    meeting_requests.accept(waiting.id, actor=market.user(2))
    db.session.commit()
    url = f"{API}/participants/{market.people[0].id}/agenda"

    own = call("GET", url, market.tokens[0])
    assert own.status_code == 200, own.json
    body = own.json
    assert (body["participant_id"], body["event"]["id"], body["schedule_state"]) == (
        market.people[0].id, market.event_id, "draft")
    assert urlsplit(body["pdf_url"]).path == (
        f"/events/{market.event_id}/marketplace/participants/{market.people[0].id}/agenda.pdf")
    # In time order, each with the other side's organization and contact person.
    assert [(e["request_id"], e["starts_at"], e["meeting_point"]["id"], e["locked"])
            for e in body["scheduled"]] == [(sooner.id, starts[0].isoformat(), tables[0], True),
                                            (later.id, starts[2].isoformat(), tables[0], True)]
    first = body["scheduled"][0]
    assert first["other"] == {
        "participant_id": market.people[2].id,
        "organization": {"id": market.user(2).organization.id, "name": "Firm 2",
                         "country": market.user(2).organization.country},
        "contact_person": {"name": "Person 2", "email": market.user(2).email, "phone": None}}
    assert first["ends_at"] == (starts[0] + timedelta(minutes=30)).isoformat()
    assert first["calendar_url"].endswith(f"/marketplace/meetings/{_meeting_id(sooner)}.ics")
    assert body["not_scheduled"] == []

    # The organizers read it as the agenda's page shows it them: no calendar files.
    theirs = call("GET", url, market.organizer_token).json
    assert [e["request_id"] for e in theirs["scheduled"]] == [sooner.id, later.id]
    assert {e["calendar_url"] for e in theirs["scheduled"]} == {None}
    waits = call("GET", f"{API}/participants/{market.people[2].id}/agenda",
                 market.tokens[2]).json
    assert [(e["request_id"], e["starts_at"], e["meeting_point"], e["calendar_url"])
            for e in waits["not_scheduled"]] == [(waiting.id, None, None, None)]
    # Who sees the participant otherwise may not read their agenda; others do not see it.
    _refused(call("GET", url, market.tokens[1]), 403)
    _refused(call("GET", url, token_for(make.manager(
        market.people[0].registration.responsible_partner))), 403)
    _refused(call("GET", url, token_for(make.user())), 404)
    _refused(call("GET", f"{API}/participants/999999/agenda", market.tokens[0]), 404)


def _meeting_id(req: MeetingRequest) -> int:
    return meeting_requests.meeting_of(req).id


def test_contact_details_only_once_a_meeting_is_accepted(call, market, make, db):
    first, second = market.people[:2]

    def contact(token, participant):
        response = call("GET", f"{API}/participants/{participant.id}", token)
        assert response.status_code == 200
        return response.json["contact"]

    assert contact(market.tokens[0], second) is None
    # Those who see a delegate's contact details anyway, as on the participant's page.
    cluster = first.registration.responsible_partner
    assert contact(market.organizer_token, first)["email"] == market.user(0).email
    assert contact(token_for(make.manager(cluster)), first)["email"] == market.user(0).email
    req = ask(market, 0, 1)
    db.session.commit()
    assert contact(market.tokens[0], second) is None and contact(market.tokens[1], first) is None
    meeting_requests.accept(req.id, actor=market.user(1))
    db.session.commit()
    assert contact(market.tokens[0], second) == {
        "name": "Person 1", "email": market.user(1).email, "phone": None}
    assert contact(market.tokens[1], first)["email"] == market.user(0).email
    assert contact(market.tokens[2], first) is None  # a third participant: not theirs
    meeting_requests.cancel(req.id, actor=market.user(0), reason="Plans changed.")
    db.session.commit()
    assert contact(market.tokens[0], second) is None


def test_each_role_lists_the_meeting_requests_in_its_scope(call, market, make, db):
    first, second, third = market.people
    ask(market, 0, 1)
    ask(market, 2, 1)
    other = build_market(make, people=2)
    elsewhere = ask(other, 0, 1)
    meeting_requests.accept(elsewhere.id, actor=other.user(1))
    db.session.commit()
    cluster = first.registration.responsible_partner

    def listed(token, query=""):
        response = call("GET", f"{API}/meeting-requests{query}", token)
        assert response.status_code == 200, response.json
        return sorted((i["requester"]["id"], i["receiver"]["id"])
                      for i in response.json["items"])

    assert listed(market.tokens[0]) == [(first.id, second.id)]
    assert listed(market.tokens[1]) == [(first.id, second.id), (third.id, second.id)]
    assert listed(market.organizer_token) == listed(market.tokens[1])
    assert listed(token_for(make.manager(cluster)), f"?event={market.event_id}") == \
        listed(market.tokens[1])
    assert listed(token_for(make.manager(make.partner()))) == []
    assert listed(token_for(make.user())) == []
    assert listed(market.organizer_token, "?status=accepted") == []
    assert listed(token_for(other.organizer), "?status=accepted") == [
        (other.people[0].id, other.people[1].id)]
    _refused(call("GET", f"{API}/meeting-requests?status=maybe", market.tokens[0]), 400)
    _refused(call("GET", f"{API}/meeting-requests/{elsewhere.id}", market.tokens[0]), 404)
    seen = call("GET", f"{API}/meeting-requests/{elsewhere.id}", token_for(other.organizer))
    assert seen.status_code == 200
    # The organizer follows it: no contact details, but they may cancel it.
    assert (seen.json["contact"], seen.json["can_answer"], seen.json["can_cancel"]) == (
        None, False, True)


def test_a_host_follows_the_host_regions_stakeholders_requests(call, market, make, db):
    event = db.session.get(Participant, market.people[0].id).event
    beachhead = make.beachhead()
    event.hosts.append(beachhead)
    stakeholder = make.user(make.organization(name="City of Singapore"))
    reg = make.registration(event, stakeholder, S.SUBMITTED, S.APPROVED)
    joined = matchmaking.join(reg.id, JoinIn.from_values(
        participant_type="host_stakeholder", consent=True), actor=stakeholder)
    meeting_requests.request(joined.id, MeetingRequestIn.from_values(
        receiver_id=market.people[0].id), actor=stakeholder)
    ask(market, 1, 2)
    db.session.commit()
    host = token_for(make.host(beachhead))
    items = call("GET", f"{API}/meeting-requests", host).json["items"]
    assert [i["requester"]["id"] for i in items] == [joined.id]
    seen = call("GET", f"{API}/participants/{joined.id}", host)
    # Followed, but no contact details: the stakeholder did not agree to share them.
    assert seen.status_code == 200 and seen.json["contact"] is None
    _refused(call("GET", f"{API}/participants/{market.people[1].id}", host), 404)
    _refused(call("POST", f"{API}/meeting-requests/{items[0]['id']}/cancel", host,
                  json={"reason": "No."}), 403)


# --------------------------------------------------------------------------- statements


def _statements(call, token, path: str) -> int:
    call("GET", path, token)  # the token's use noted (once a minute)
    with count_queries() as statements:
        response = call("GET", path, token)
    assert response.status_code == 200, response.json
    return len(statements)


def test_statements_per_page_do_not_grow_with_the_rows(call, make, db):
    """Participant 0 is suggested everyone (a shared tag); participant 1 asked by all."""
    market = build_market(make, people=2)
    matchmaking.update_profile(market.people[0].id, ProfileIn.from_values(
        participant_type="sme", technologies="IoT"), actor=market.user(0))
    sizes = []
    for people in (4, 16):
        while len(market.people) < people:
            first = db.session.get(Participant, market.people[0].id)
            user = make.user(make.organization(name=f"Firm {len(market.people)}"))
            reg = make.registration(first.event, user, S.SUBMITTED, S.APPROVED)
            joined = matchmaking.join(reg.id, JoinIn.from_values(
                participant_type="sme", consent=True), actor=user)
            _offer(joined, "offer", "Kits", "IoT")
            market.people.append(joined)
            ask(market, len(market.people) - 1, 1)
        db.session.commit()
        suggested = call("GET", f"{API}/events/{market.event_id}/marketplace/suggestions",
                         token_for(market.user(0))).json["items"]
        assert len(suggested) == people - 2
        sizes.append([_statements(call, token_for(market.user(n)), path) for n, path in (
            (0, f"{API}/events/{market.event_id}/marketplace/participants?per_page=50"),
            (0, f"{API}/events/{market.event_id}/marketplace/suggestions"),
            (1, f"{API}/meeting-requests?per_page=50"))])
    assert sizes[0] == sizes[1]
    assert _db.session.scalar(select(func.count()).select_from(MeetingRequest).where(
        MeetingRequest.status == M.REQUESTED)) == 14


def test_statements_of_meetings_and_agendas_do_not_grow_with_the_meetings(call, make, db):
    """Placed meetings on a page of requests and on an agenda: participant 0 meets one
    side, then three (every slot) and waits for a fourth; others meet at other tables."""
    market = build_market(make, people=7)
    with_tables(market, 3)
    starts = slot_starts(market)
    tokens = [token_for(market.user(n)) for n in (0, 1)]
    organizer = token_for(market.organizer)
    agenda = f"{API}/participants/{market.people[0].id}/agenda"
    sizes = []
    for pairs in ([(1, 0, 0)], [(3, 2, 0), (5, 4, 0), (2, 0, 1), (4, 0, 2), (6, 0, None)]):
        for asker, asked, slot in pairs:
            req = ask(market, asker, asked)
            meeting_requests.accept(req.id, actor=market.user(asked),
                                    starts_at=None if slot is None else starts[slot])
        db.session.commit()
        sizes.append([_statements(call, token, path) for token, path in (
            (organizer, f"{API}/meeting-requests?per_page=50"),
            (tokens[0], f"{API}/meeting-requests?per_page=50"),
            (tokens[0], agenda), (organizer, agenda))])
    placed_now = call("GET", agenda, tokens[0]).json
    assert (len(placed_now["scheduled"]), len(placed_now["not_scheduled"])) == (3, 1)
    assert sizes[0] == sizes[1]

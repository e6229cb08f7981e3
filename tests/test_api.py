"""The API's framework and its endpoints: problem details, limits, the OpenAPI document,
events, me, and the registrations in scope (parity with the desk, query counts,
decisions)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.api import token_for
from tests.conftest import count_queries, login
from webapp.models import (
    AuditEntry,
    EventKind,
    EventStatus,
    OutboxMessage,
    Registration,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.views.api import present

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == PROBLEM
    body = response.json
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["type"].startswith("urn:beachhead:problem:")
    assert body["detail"]
    return body


@pytest.fixture
def scene(make, db):
    """Two clusters with an applicant each on one event organized by a third partner and
    hosted by a beachhead; a manager per cluster, an organizer, a host, a member."""
    cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
    beachhead = make.beachhead()
    event = make.event(organizers=[organizing], hosts=[beachhead])
    a_user = make.user(make.organization(cluster_a), name="Alma A", phone="+45 1234 5678")
    b_user = make.user(make.organization(cluster_b), name="Bert B")
    reg_a = make.registration(event, a_user)
    reg_b = make.registration(event, b_user, S.SUBMITTED, S.APPROVED)
    people = dict(manager_a=make.manager(cluster_a), manager_b=make.manager(cluster_b),
                  organizer=make.manager(organizing), host=make.host(beachhead),
                  member=a_user, admin=make.admin())
    db.session.commit()
    return dict(event=event, reg_a=reg_a, reg_b=reg_b, cluster_a=cluster_a,
                tokens={role: token_for(user) for role, user in people.items()}, **people)


# --------------------------------------------------------------------------- problems


def test_malformed_json_wrong_types_and_unknown_fields_are_refused(call, scene, db):
    url = f"/api/v1/registrations/{scene['reg_a'].id}/decision"
    token = scene["tokens"]["manager_a"]
    malformed = call("POST", url, token, data='{"decision": "approve",',
                     content_type="application/json")
    assert "not valid JSON" in _problem(malformed, 400)["detail"]
    cases = [
        ({"decision": "approve", "expected_status": 1}, "/expected_status"),
        ({"decision": "approve", "expected_status": "submitted", "extra": 1}, "/extra"),
        ({"decision": "promote", "expected_status": "submitted"}, "/decision"),
        ({"decision": "reject", "expected_status": "submitted", "reason": " "}, "/reason"),
        ({"decision": "approve", "expected_status": "submitted", "reason": "x" * 2001},
         "/reason"),
        (["approve"], "/"),
    ]
    for body, pointer in cases:
        problem = _problem(call("POST", url, token, json=body), 422)
        assert pointer in [e["pointer"] for e in problem["errors"]], (body, problem)
        assert all(set(e) == {"pointer", "detail"} for e in problem["errors"])
    db.session.expire_all()
    assert scene["reg_a"].status == S.SUBMITTED  # nothing changed


def test_query_strings_are_checked(call, scene):
    token = scene["tokens"]["manager_a"]
    for query, name in [("per_page=101", "per_page"), ("page=0", "page"),
                        (f"page={10**30}", "page"), ("status=maybe", "status"),
                        ("colour=red", "colour"), ("event=abc", "event"),
                        (f"event={2**31}", "event")]:
        problem = _problem(call("GET", f"/api/v1/registrations?{query}", token), 400)
        assert f"query/{name}" in [e["pointer"] for e in problem["errors"]], query
    repeated = call("GET", "/api/v1/events?page=1&page=2", token)
    assert _problem(repeated, 400)["errors"][0]["pointer"] == "query/page"


def test_huge_ids_unknown_paths_and_wrong_methods_are_problems(call, scene):
    token = scene["tokens"]["admin"]
    _problem(call("GET", f"/api/v1/registrations/{10**20}", token), 404)
    _problem(call("GET", "/api/v1/registrations/-1", token), 404)
    _problem(call("GET", "/api/v1/no-such-thing", token), 404)
    _problem(call("GET", f"/api/v1/registrations/{scene['reg_a'].id}/decision", token), 405)
    _problem(call("DELETE", "/api/v1/events", token), 405)


def test_bodies_over_64_kb_and_other_media_types_are_refused(call, scene):
    url = f"/api/v1/registrations/{scene['reg_a'].id}/decision"
    token = scene["tokens"]["manager_a"]
    huge = '{"decision": "approve", "expected_status": "submitted", "reason": "' + \
        "x" * 70_000 + '"}'
    _problem(call("POST", url, token, data=huge, content_type="application/json"), 413)
    _problem(call("POST", url, token, data="decision=approve",
                  content_type="application/x-www-form-urlencoded"), 415)


def test_an_unexpected_error_is_a_generic_500_problem(app, call, scene, monkeypatch):
    def broken(event):
        raise RuntimeError("a bug")

    monkeypatch.setattr(present, "event_detail", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = call("GET", f"/api/v1/events/{scene['event'].id}", scene["tokens"]["member"])
    assert "a bug" not in _problem(response, 500)["detail"]


# --------------------------------------------------------------------------- events


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None and re.search(r"[+-]\d\d:\d\d$", value), value
    return parsed


def test_events_lists_published_events_with_filters_and_pages(call, make, db):
    for n in range(3):
        make.event(kind=EventKind.WEBINAR, target_country="US", starts_in=timedelta(days=n + 1))
    mission = make.event(target_country="SG")
    make.event(status=EventStatus.DRAFT)
    past = make.event(starts_in=timedelta(days=-10), duration=timedelta(days=2))
    token = token_for(make.user())
    first = call("GET", "/api/v1/events?kind=webinar&per_page=2&count=true", token).json
    assert first["total"] == 3 and len(first["items"]) == 2 and first["per_page"] == 2
    assert f"cursor={first['next_cursor']}" in first["next"] and "kind=webinar" in first["next"]
    second = call("GET", first["next"].replace("http://localhost", ""), token).json
    assert len(second["items"]) == 1 and second["next"] is None
    starts = [_instant(e["starts_at"]) for e in first["items"] + second["items"]]
    assert starts == sorted(starts)
    by_country = call("GET", "/api/v1/events?country=SG", token).json["items"]
    assert [e["id"] for e in by_country] == [mission.id]
    assert [e["id"] for e in call("GET", "/api/v1/events?when=past", token).json["items"]] \
        == [past.id]


def test_event_with_its_agenda_and_calendar_file(call, make, db):
    organizing = make.partner()
    event = make.event(organizers=[organizing], online_url="https://meet.example.org/secret")
    make.session(event, title="Visit to the port")
    draft = make.event(organizers=[organizing], status=EventStatus.DRAFT)
    member, organizer = token_for(make.user()), token_for(make.manager(organizing))
    body = call("GET", f"/api/v1/events/{event.id}", member).json
    assert [s["title"] for s in body["sessions"]] == ["Visit to the port"]
    assert body["timezone"] == "Asia/Singapore" and _instant(body["sessions"][0]["starts_at"])
    assert "meet.example.org" not in str(body)  # the join address never leaves the server
    ics = call("GET", f"/api/v1/events/{event.id}/calendar.ics", member)
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert b"BEGIN:VCALENDAR" in ics.data and b"Visit to the port" in ics.data
    _problem(call("GET", f"/api/v1/events/{draft.id}", member), 404)
    assert call("GET", f"/api/v1/events/{draft.id}", organizer).status_code == 200


def test_me_and_my_registrations(call, scene):
    me = call("GET", "/api/v1/me", scene["tokens"]["manager_a"]).json
    assert me["roles"] == [{"role": "partner_manager", "partner": {
        "id": scene["cluster_a"].id, "short_name": scene["cluster_a"].short_name,
        "name": scene["cluster_a"].name, "kind": "cluster"}}]
    assert me["token"] == {"name": "test", "read_only": False, "expires_on": None}
    mine = call("GET", "/api/v1/me/registrations", scene["tokens"]["member"]).json
    assert [r["id"] for r in mine["items"]] == [scene["reg_a"].id]
    assert mine["items"][0]["status"] == "submitted"
    assert call("GET", "/api/v1/me/registrations",
                scene["tokens"]["manager_a"]).json["items"] == []


# --------------------------------------------------------------------------- registrations


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.data[:300]
    return {r["id"] for r in response.json["items"]}


def test_registrations_are_scoped_like_the_desk(call, scene):
    a, b = scene["reg_a"].id, scene["reg_b"].id
    tokens = scene["tokens"]
    assert _ids(call("GET", "/api/v1/registrations", tokens["manager_a"])) == {a}
    assert _ids(call("GET", "/api/v1/registrations", tokens["manager_b"])) == {b}
    assert _ids(call("GET", "/api/v1/registrations", tokens["organizer"])) == {a, b}
    assert _ids(call("GET", "/api/v1/registrations", tokens["admin"])) == {a, b}
    assert _ids(call("GET", "/api/v1/registrations", tokens["host"])) == {b}  # approved only
    _problem(call("GET", "/api/v1/registrations", tokens["member"]), 403)
    _problem(call("GET", f"/api/v1/registrations/{b}", tokens["manager_a"]), 404)
    _problem(call("GET", f"/api/v1/registrations/{a}", tokens["member"]), 403)
    assert _ids(call("GET", "/api/v1/registrations?status=approved",
                     tokens["organizer"])) == {b}
    partner = scene["cluster_a"].id
    assert _ids(call("GET", f"/api/v1/registrations?partner={partner}",
                     tokens["organizer"])) == {a}
    assert _ids(call("GET", f"/api/v1/registrations?partner={partner}",
                     tokens["manager_b"])) == set()


def test_contact_details_are_withheld_as_on_the_delegation_page(call, scene, db):
    b = scene["reg_b"]
    host_view = call("GET", "/api/v1/registrations", scene["tokens"]["host"]).json["items"][0]
    assert host_view["applicant"]["email"] is None and host_view["can_decide"] is False
    b.contact_consent_at = utcnow()
    db.session.commit()
    host_view = call("GET", "/api/v1/registrations", scene["tokens"]["host"]).json["items"][0]
    assert host_view["applicant"]["email"] == b.user.email
    # An undecided applicant's details are on no page: not in the API either.
    manager = call("GET", f"/api/v1/registrations/{scene['reg_a'].id}",
                   scene["tokens"]["manager_a"]).json
    assert manager["applicant"]["phone"] is None and manager["can_decide"]
    assert [h["to_status"] for h in manager["history"]] == ["submitted"]
    call("POST", f"/api/v1/registrations/{scene['reg_a'].id}/decision",
         scene["tokens"]["manager_a"], json={"decision": "approve",
                                             "expected_status": "submitted"})
    approved = call("GET", f"/api/v1/registrations/{scene['reg_a'].id}",
                    scene["tokens"]["manager_a"]).json
    assert approved["applicant"]["phone"] == "+45 1234 5678"
    assert approved["applicant"]["email"] == scene["reg_a"].user.email


def test_registrations_equal_what_the_desk_shows_each_user(client, call, make, db):
    clusters = [make.partner() for _ in range(3)]
    beachhead = make.beachhead()
    events = [make.event(organizers=[clusters[0]], hosts=[beachhead]),
              make.event(organizers=[clusters[1]])]
    for n in range(12):
        cluster = clusters[n % 3]
        path = (S.SUBMITTED,) if n % 2 else (S.SUBMITTED, S.APPROVED)
        make.registration(events[n % 2], make.user(make.organization(cluster)), *path)
    users = [make.manager(clusters[0]), make.manager(clusters[2]), make.host(beachhead),
             make.manager(clusters[1]), make.admin()]
    db.session.commit()
    for user in users:
        login(client, user)
        html = client.get("/desk/?per_page=100").get_data(as_text=True)
        on_desk = {int(i) for i in re.findall(r'href="/desk/registrations/(\d+)"', html)}
        via_api = _ids(call("GET", "/api/v1/registrations?per_page=100", token_for(user)))
        assert via_api == on_desk and on_desk, user


def test_query_count_does_not_depend_on_rows_or_page_size(call, make, db):
    cluster = make.partner()
    manager = make.manager(cluster)
    token = token_for(manager)

    def queries(rows: int, per_page: int) -> int:
        while db.session.scalar(select(Registration.id).where(
                Registration.responsible_partner_id == cluster.id).offset(rows - 1)) is None:
            beachhead = make.beachhead()
            event = make.event(organizers=[make.partner()], hosts=[beachhead])
            make.registration(event, make.user(make.organization(cluster)))
        db.session.commit()
        call("GET", "/api/v1/me", token)  # the token's use noted (once a minute)
        with count_queries() as statements:
            response = call("GET", f"/api/v1/registrations?per_page={per_page}", token)
        assert response.status_code == 200 and response.json["total"] is None
        return len(statements)

    baseline = queries(2, 5)
    assert queries(12, 5) == baseline
    assert queries(12, 50) == baseline


def test_a_decision_goes_through_the_registration_service(call, scene, db):
    reg = scene["reg_a"]
    url = f"/api/v1/registrations/{reg.id}/decision"
    response = call("POST", url, scene["tokens"]["manager_a"],
                    json={"decision": "approve", "expected_status": "submitted"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    assert response.json["history"][-1]["actor"] == scene["manager_a"].name
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == S.APPROVED
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.registration_id == reg.id, AuditEntry.action == "registration.approved"))
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_address == reg.user.email)) is not None

    stale = _problem(call("POST", url, scene["tokens"]["organizer"],
                          json={"decision": "reject", "reason": "Full",
                                "expected_status": "submitted"}), 409)
    assert stale["current_status"] == "approved"
    assert stale["decided_by"] == scene["manager_a"].name and _instant(stale["decided_at"])
    final = _problem(call("POST", url, scene["tokens"]["organizer"],
                          json={"decision": "waitlist", "expected_status": "approved"}), 409)
    assert final["current_status"] == "approved" and final["decided_by"] is None
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == S.APPROVED


def test_deciding_outside_ones_scope(call, scene, db):
    url = f"/api/v1/registrations/{scene['reg_a'].id}/decision"
    body = {"decision": "approve", "expected_status": "submitted"}
    _problem(call("POST", url, scene["tokens"]["manager_b"], json=body), 404)
    _problem(call("POST", url, scene["tokens"]["member"], json=body), 403)
    approved = f"/api/v1/registrations/{scene['reg_b'].id}/decision"
    _problem(call("POST", approved, scene["tokens"]["host"],
                  json={"decision": "reject", "reason": "x", "expected_status": "approved"}),
             403)
    db.session.expire_all()
    assert scene["reg_a"].status == S.SUBMITTED

"""Ids at and beyond the edges of the database's integer range, in paths, query strings,
form fields and API bodies, on whichever database the suite runs on.

Every id column is an Integer (1..2**31-1). PostgreSQL answers a larger number with an
error ("integer out of range"), and SQLite cannot bind one above 2**63-1, so a value
outside the range must be refused before a query: 404 in a path, 400 or the field's
error in a query string or form, 422 in an API body.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.api import token_for
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from webapp.ids import MAX_PAGE, page_arg, parse_id
from webapp.models import RegistrationStatus
from webapp.services.fields import MAX_ID

# Outside the range: zero, negative, one past int4, around int8's end, and far beyond.
OUT_OF_RANGE = ("0", "-1", str(2**31), str(2**63 - 1), str(2**63), str(2**63 + 1),
                str(10**30), "9" * 5000)
# Not numbers at all, or numbers only to a lenient int(): other digits, signs, spaces.
NOT_NUMBERS = ("abc", "1.5", "1e3", "+1", " 1", "1_000", "\u0661", "\u00b2", "0x10")
UNKNOWN = MAX_ID  # in range, but no row has it
INT_SLOT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")
METHODS = ("GET", "POST")


def _id_routes(app) -> list[tuple[str, str]]:
    """(rule, method) for every route with an id in its path."""
    routes = []
    for rule in app.url_map.iter_rules():
        if INT_SLOT.search(rule.rule):
            routes += [(rule.rule, method) for method in METHODS if method in rule.methods]
    return sorted(routes)


def _paths(rule: str, value: str) -> list[str]:
    """`rule` with `value` in one id slot at a time (the others hold an unknown id), so a
    route with two ids is tried with either out of range."""
    slots = INT_SLOT.findall(rule)
    paths = []
    for bad in slots:
        path = rule
        for slot in slots:
            path = re.sub(rf"<int(?:\([^)]*\))?:{slot}>",
                          value if slot == bad else str(UNKNOWN), path)
        paths.append(path.replace("<slug>", "no-such-event"))
    return paths


def _send(client, method: str, path: str, token: str | None = None):
    data = {"csrf_token": token} if token and method == "POST" else None
    return client.open(path, method=method, data=data)


def test_every_id_route_is_walked(app):
    """The walk below covers the routes that exist: one with ids in every blueprint
    that has any, and the API's too."""
    blueprints = {rule.split("/")[1] for rule, _ in _id_routes(app)}
    assert {"admin", "account", "agreements", "api", "badges", "desk", "events",
            "organizations", "registrations", "surveys"} <= blueprints
    assert len(_id_routes(app)) > 60


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_path_ids_outside_the_range_are_not_found(app, client, make, db, role):
    client_token = _signed_in(client, make.admin()) if role == "admin" else None
    answered = {}
    for rule, method in _id_routes(app):
        for value in OUT_OF_RANGE + NOT_NUMBERS:
            for path in _paths(rule, value):
                response = _send(client, method, path, client_token)
                answered[(method, path)] = response.status_code
    wrong = {key: status for key, status in answered.items() if status != 404}
    assert not wrong, wrong


# API bodies valid but for the id in the path, so the lookup is what answers.
API_BODIES = {"checkins": {"token": "x"},
              "decision": {"decision": "approve",
                           "expected_status": RegistrationStatus.SUBMITTED.value},
              "join": {"participant_type": "sme", "consent": True},
              "opportunities": {"opportunity_type": "offer", "title": "x"},
              "decline": {"reason": "x"}, "cancel": {"reason": "x"},
              "slot": {"starts_at": "2030-01-01T09:00:00Z"}}
# A retry answers on the jobs page the admin came from: a mail it does not find is, like
# one sent meanwhile, "not waiting for a retry" (nothing was changed), not a broken link.
NOT_A_LOOKUP = {"/admin/jobs/mail/<int:message_id>/retry": 302}


def test_path_ids_at_the_top_of_the_range_name_nothing(app, client, make, db):
    """2**31-1 matches the route and is looked up: an unknown record, 404, as admin
    (the API, which takes tokens only, answers 404 with its token)."""
    admin = make.admin()
    token = _signed_in(client, admin)
    secret = token_for(admin)
    wrong = {}
    for rule, method in _id_routes(app):
        for path in _paths(rule, str(UNKNOWN)):
            if path.startswith("/api/"):
                body = API_BODIES.get(path.rsplit("/", 1)[-1], {}) if method == "POST" else None
                response = client.open(path, method=method, json=body,
                                       headers={"Authorization": f"Bearer {secret}"})
            else:
                response = _send(client, method, path, token)
            if response.status_code != NOT_A_LOOKUP.get(rule, 404):
                wrong[(method, path)] = response.status_code
    assert not wrong, wrong


def _signed_in(client, user) -> str:
    """Signs `user` in through the login form, as a browser would; their CSRF token."""
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "email": user.email,
                                           "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return csrf_token(client, "/account")


# --------------------------------------------------------------------------- query strings

BAD_VALUES = OUT_OF_RANGE + NOT_NUMBERS


@pytest.fixture
def mission(make, db):
    """An event of a cluster with one applicant, and an admin signed in."""
    cluster = make.partner()
    event = make.event(organizers=[cluster])
    organization = make.organization(cluster)
    member = make.user(organization)
    registration = make.registration(event, member)
    admin = make.admin()
    db.session.commit()
    return dict(cluster=cluster, event=event, organization=organization, member=member,
                registration=registration, admin=admin)


def _row_counts(db) -> dict[str, int]:
    """Every table's row count: a refused request leaves all of them as they were."""
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_query_ids_outside_the_range_are_bad_requests_naming_the_parameter(
        client, mission):
    _signed_in(client, mission["admin"])
    event_id = mission["event"].id
    for page in ("checkin", "attendance", "attendance.csv"):
        for value in BAD_VALUES:
            response = client.get(f"/events/{event_id}/{page}", query_string={"session": value})
            assert response.status_code == 400, (page, value)
            assert "“session” must be an id: a whole number from 1 to 2147483647." in \
                response.get_data(as_text=True)
        # In range but on no agenda: not found.
        assert client.get(f"/events/{event_id}/{page}?session={UNKNOWN}").status_code == 404
    for value in (*BAD_VALUES, str(UNKNOWN)):
        # The batch's partner is a choice of the form: anything not offered is refused.
        assert client.get(f"/events/{event_id}/badges.pdf",
                          query_string={"partner": value}).status_code == 400, value
    for value in BAD_VALUES:
        for name in ("event", "cluster", "year"):
            assert client.get("/kpis/rows/delegates",
                              query_string={name: value}).status_code == 400, (name, value)


def test_query_filters_with_ids_outside_the_range_show_everything_or_say_so(
        client, mission):
    """The desk's filter falls back to all events (an old link still opens the desk); the
    audit log names the field it could not use."""
    _signed_in(client, mission["admin"])
    for value in BAD_VALUES:
        desk = client.get("/desk/", query_string={"event": value})
        assert desk.status_code == 200, value
        assert mission["member"].name in desk.get_data(as_text=True)
        audit = client.get("/admin/audit", query_string={"event_id": value})
        assert audit.status_code == 200, value
        assert "“event_id” must be an id" in audit.get_data(as_text=True), value


@pytest.mark.parametrize("path", ["/", "/desk/", "/admin/users", "/admin/audit",
                                  "/admin/reminders", "/organizations", "/agreements/"])
def test_page_numbers_beyond_any_offset_show_a_page(client, mission, path):
    _signed_in(client, mission["admin"])
    for value in (*BAD_VALUES, str(MAX_PAGE), str(MAX_PAGE + 1), str(UNKNOWN)):
        response = client.get(path, query_string={"page": value})
        assert response.status_code == 200, (path, value, response.status_code)


def test_a_page_number_is_held_between_the_first_and_the_last_page_served(app):
    for value, page in (("", 1), ("0", 1), ("-3", 1), ("abc", 1), ("\u0661", 1), ("7", 7),
                        ("0007", 7), (str(MAX_PAGE), MAX_PAGE), (str(MAX_PAGE + 1), MAX_PAGE),
                        (str(2**63), MAX_PAGE), ("9" * 5000, MAX_PAGE)):
        with app.test_request_context(query_string={"page": value}):
            assert page_arg() == page, value


def test_an_id_is_ascii_digits_from_one_to_the_top_of_the_range():
    assert [parse_id(v) for v in ("1", "42", str(MAX_ID), 7, MAX_ID)] == [1, 42, MAX_ID, 7, MAX_ID]
    for value in (*BAD_VALUES, "", None, 0, -1, MAX_ID + 1, True, 1.0, "01x"):
        assert parse_id(value) is None, value


# --------------------------------------------------------------------------- form fields


def test_form_ids_outside_the_range_are_refused_and_change_nothing(client, mission, db):
    token = _signed_in(client, mission["admin"])
    event_id, organization_id = mission["event"].id, mission["organization"].id
    forms = [
        ("/desk/bulk", "ids", {"decision": "approve"}),
        (f"/organizations/{organization_id}/merge", "into", {}),
        (f"/admin/users/{mission['member'].id}/grants", "partner_id", {"role": "partner_manager"}),
        (f"/admin/events/{event_id}", "organizer_ids", {}),
        ("/agreements/new", "responsible_partner_id", {}),
        ("/agreements/new", "origin_event_id", {}),
        ("/agreements/new", "parties", {}),
        (f"/events/{event_id}/checkin", "session", {"code": "x"}),
        (f"/events/{event_id}/badges/batches", "partner", {}),
        (f"/events/{event_id}/delegation/messages", "audience", {"subject": "s", "body": "b"}),
    ]
    before = _row_counts(db)
    for path, field, others in forms:
        for value in BAD_VALUES:
            if field == "parties":
                value = f"partner:{value}"
            response = client.post(path, data={"csrf_token": token, field: value, **others})
            assert response.status_code == 400, (path, field, value, response.status_code)
    assert _row_counts(db) == before


def test_bulk_decisions_name_the_selection_when_an_id_is_out_of_range(client, mission, db):
    token = _signed_in(client, mission["admin"])
    registration = mission["registration"]
    response = client.post("/desk/bulk", data={
        "csrf_token": token, "decision": "approve", "ids": [str(registration.id), str(2**63)]})
    assert response.status_code == 400
    assert "The selection was not understood" in response.get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.SUBMITTED


# --------------------------------------------------------------------------- API bodies

JSON_OUT_OF_RANGE = (0, -1, 2**31, 2**63 - 1, 2**63, 2**63 + 1, 10**30, "1", 1.5, True)


def test_api_ids_outside_the_range_are_unprocessable_or_bad_queries(client, mission):
    event = mission["event"]
    member_token = {"Authorization": f"Bearer {token_for(mission['member'])}"}
    admin_token = {"Authorization": f"Bearer {token_for(mission['admin'])}"}
    for value in JSON_OUT_OF_RANGE:
        applied = client.post(f"/api/v1/events/{event.id}/registrations", headers=member_token,
                              json={"answers": [{"question_id": value, "value": "x"}]})
        assert applied.status_code == 422, (value, applied.status_code)
        checked_in = client.post(f"/api/v1/events/{event.id}/checkins", headers=admin_token,
                                 json={"token": "x", "session_id": value})
        assert checked_in.status_code == 422, (value, checked_in.status_code)
        assert any(error["pointer"].endswith("session_id")
                   for error in checked_in.json["errors"]), checked_in.json
    # A query parameter is read as pydantic reads numbers: "+1", " 1" and "1_000" are
    # numbers in range there; what is not a number, or is out of range, is a bad query.
    for value in (*OUT_OF_RANGE, "abc", "1.5", "1e3", "\u0661", "\u00b2", "0x10"):
        listed = client.get("/api/v1/registrations", headers=admin_token,
                            query_string={"event": value})
        assert listed.status_code == 400, (value, listed.status_code)

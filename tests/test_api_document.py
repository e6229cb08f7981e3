"""The OpenAPI document: valid 3.1, generated from the operations, strict schemas, and
every route of the API blueprint in it (and nothing more)."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from webapp.inputs import declared_input
from webapp.models import EventKind, RegistrationStatus, ScheduleState
from webapp.security import CONTENT_SECURITY_POLICY

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def _document_path(rule: str) -> str:
    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_every_route_of_the_blueprint_is_in_the_document(app, document):
    routes = {
        (_document_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
        for method in rule.methods & METHODS
    }
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    assert routes == documented


def test_every_write_declares_the_input_model_its_body_is_documented_by(app, document):
    writes = [(rule, method.lower()) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") for method in rule.methods & (METHODS - {"GET"})]
    assert writes
    for rule, method in writes:
        model = declared_input(app.view_functions[rule.endpoint])
        body = document["paths"][_document_path(rule.rule)][method]["requestBody"]
        assert model is not None and body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model.__name__}"}, rule.endpoint


def test_operations_declare_the_problems_they_can_answer(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert "Retry-After" in op["responses"]["503"]["headers"], (method, path)
            if op.get("security") != []:
                assert {"401", "429"} <= statuses, (method, path)
                assert "Retry-After" in op["responses"]["429"]["headers"]
            if "{" in path:
                assert "404" in statuses, (method, path)
            if "requestBody" in op:
                assert {"400", "403", "413", "415", "422"} <= statuses, (method, path)
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"]


def test_schemas_are_strict_and_list_every_field_they_always_have(document):
    schemas = document["components"]["schemas"]
    objects = {name: s for name, s in schemas.items() if s.get("type") == "object"}
    assert objects
    for name, schema in objects.items():
        assert schema.get("additionalProperties") is False, name
        if not name.endswith("In"):  # responses: every field, always (null when withheld)
            assert set(schema["required"]) == set(schema["properties"]), name
    assert schemas["RegistrationStatus"]["enum"] == [s.value for s in RegistrationStatus]
    assert schemas["EventKind"]["enum"] == [k.value for k in EventKind]
    assert set(schemas["DecisionIn"]["required"]) == {"decision", "expected_status"}
    # A meeting's time and place, the slots free for it and an agenda: strict objects too.
    assert {"MeetingOut", "MeetingPointOut", "MeetingSlots", "SlotOut", "Agenda",
            "AgendaEntry"} <= set(objects)
    assert schemas["ScheduleState"]["enum"] == [s.value for s in ScheduleState]
    assert {"$ref": "#/components/schemas/MeetingOut"} in (
        schemas["MeetingRequestOut"]["properties"]["meeting"]["anyOf"])


def test_query_parameters_are_bounded(document):
    parameters = {p["name"]: p for p in document["paths"]["/registrations"]["get"]["parameters"]}
    assert parameters["per_page"]["schema"]["maximum"] == 100
    assert parameters["event"]["schema"]["maximum"] == 2**31 - 1
    assert parameters["status"]["schema"] == {"$ref": "#/components/schemas/RegistrationStatus"}


def test_the_reference_page_uses_vendored_assets_only(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "https://" not in html.split("<noscript>")[0]
    # The site's own policy, nothing loosened for the reference.
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert client.get(f"/static/vendor/swagger-ui/{asset}").status_code == 200

"""Deciding applications: the desk's forms and the API's decision refuse the same values
with the same sentences (webapp/inputs/registrations.py)."""

from __future__ import annotations

import pytest

from tests.api import token_for
from tests.inputs_table import Case, check
from webapp.forms.desk import BulkDecisionForm, DecisionForm
from webapp.inputs.registrations import BulkDecisionIn, DecisionIn

DECISION_CASES = [
    Case("approve", {"decision": "approve", "expected_status": "submitted"}, None, None),
    Case("reject with a reason", {"decision": "reject", "expected_status": "waitlisted",
                                  "reason": "Full"}, None, None),
    Case("reject without a reason", {"decision": "reject", "expected_status": "submitted",
                                     "reason": "   "}, None, "reason",
         "Say why the application is rejected"),
    Case("an unknown decision", {"decision": "promote", "expected_status": "submitted"}, None,
         "decision", "Choose one of"),
    Case("a status that is none", {"decision": "approve", "expected_status": "nope"}, None,
         "expected_status", "This page is out of date"),
    Case("a reason too long", {"decision": "waitlist", "expected_status": "submitted",
                               "reason": "x" * 2001}, None, "reason",
         "Enter at most 2000 characters."),
    Case("a control character", {"decision": "waitlist", "expected_status": "submitted",
                                 "reason": "a\x1bb"}, None, "reason", "U+001B"),
]

BULK_CASES = [
    Case("two ids", {"ids": ["3", "4"], "decision": "approve"},
         {"ids": [3, 4], "decision": "approve"}, None),
    Case("none ticked", {"decision": "approve"}, {"ids": [], "decision": "approve"}, "ids",
         "Tick at least one application."),
    Case("too many", {"ids": [str(n) for n in range(1, 502)], "decision": "approve"},
         {"ids": list(range(1, 502)), "decision": "approve"}, "ids",
         "At most 500 applications can be decided at once."),
    Case("reject without a reason", {"ids": ["3"], "decision": "reject"},
         {"ids": [3], "decision": "reject"}, "reason", "Say why the application is rejected"),
]


@pytest.mark.parametrize("case", DECISION_CASES, ids=str)
def test_a_decision_is_judged_alike_by_the_desk_and_the_api(app, case):
    with app.test_request_context():
        check(case, DecisionIn, DecisionForm)


@pytest.mark.parametrize("case", BULK_CASES, ids=str)
def test_a_bulk_decision_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, BulkDecisionIn, BulkDecisionForm)


def test_the_api_reports_the_desks_sentence_at_the_fields_pointer(call, make, db):
    cluster = make.partner()
    reg = make.registration(make.event(), make.user(make.organization(cluster)))
    manager = make.manager(cluster)
    db.session.commit()
    url = f"/api/v1/registrations/{reg.id}/decision"
    response = call("POST", url, token_for(manager),
                    json={"decision": "reject", "expected_status": "submitted", "reason": ""})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"pointer": "/reason", "detail": "Say why the application is rejected: the "
            "applicant receives it."} in errors

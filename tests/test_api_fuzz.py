"""Fuzzing the API from its own OpenAPI document with schemathesis, against the live app
on 127.0.0.1 (committed data, a threaded server), with the tokens of a member, a partner
manager and an admin: no 5xx, and no response that breaks the document (status codes,
media types, headers, bodies). A bounded number of examples per operation here;
`make fuzz` runs many more (API_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import Factory
from tests.live import committed_app, recorded_logs, serve
from webapp.extensions import db
from webapp.models import EventKind, Question, QuestionKind
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens
from webapp.views.api.registry import OPERATIONS

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


def _seed() -> dict[str, str]:
    """A small partnership with applications in every status; a token per role."""
    make = Factory()
    cluster, organizing, beachhead = make.partner(), make.partner(), make.beachhead()
    mission = make.event(organizers=[organizing], hosts=[beachhead])
    make.session(mission, title="Port visit")
    webinar = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False)
    db.session.add(Question(event=webinar, kind=QuestionKind.SHORT_TEXT, label="Role?"))
    member = make.user(make.organization(cluster))
    make.registration(mission, member, S.SUBMITTED, S.APPROVED)
    for path in [(S.SUBMITTED,), (S.SUBMITTED, S.WAITLISTED), (S.SUBMITTED, S.REJECTED)]:
        make.registration(mission, make.user(make.organization(cluster)), *path)
    people = {"member": member, "manager": make.manager(cluster), "admin": make.admin()}
    tokens = {role: api_tokens.create(user, "fuzz", read_only=False).secret
              for role, user in people.items()}
    db.session.commit()
    return tokens


@pytest.fixture(scope="module")
def live_api(request, tmp_path_factory):
    """The database under test: a fresh SQLite file, or the suite's PostgreSQL database
    (migrated by the `app` fixture; the rows made here are deleted afterwards)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        request.getfixturevalue("app")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    # The fuzzer sends hundreds of requests a minute: raise the limit, as production may.
    with committed_app(url, API_RATE_LIMIT=1_000_000) as app:
        tokens = _seed()
        with serve(app) as base_url, recorded_logs() as logs:
            yield {"base_url": f"{base_url}/api/v1", "tokens": tokens, "logs": logs}


@pytest.fixture(scope="module")
def api_schema(live_api):
    return schemathesis.openapi.from_url(f"{live_api['base_url']}/openapi.json")


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_api_conforms_to_its_document(api_schema, live_api, operation):
    strategy = api_schema[operation.path][operation.method].as_strategy()

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def each(case):
        for token in live_api["tokens"].values():
            case.call_and_validate(base_url=live_api["base_url"], checks=CHECKS,
                                   headers={"Authorization": f"Bearer {token}"})

    each()
    errors = [line for line in live_api["logs"] if line.startswith("ERROR")]
    assert errors == []

"""Every route, every method, as every role, with hostile values (see tests/fuzzing.py):
no 5xx, no stored text that breaks the text rules, no marker of one cluster's private data
shown to another's users, and a fuzzer that gets past the door: at least half of each
role's requests to the endpoints it may use reach validation, and every write endpoint is
reached by some role. ROUTE_FUZZ_EXAMPLES sets the examples per endpoint and method."""

from __future__ import annotations

import os

from tests.conftest import IsolatedClient
from tests.fuzzing import ROLES, SAFE_METHODS, Report, Walker, broken_stored_text, seed
from webapp.services import badge_batches, jobs, meeting_schedule

EXAMPLES = int(os.environ.get("ROUTE_FUZZ_EXAMPLES", "2"))


def test_no_route_answers_5xx_leaks_or_stores_broken_text(app, db, make, monkeypatch):
    app.test_client_class = IsolatedClient
    # Thousands of requests in a minute: raise the API's limit, as production may.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 1_000_000)
    # A badge batch is built inline, in the request's session: the walk's data is never
    # committed, and a thread of its own would share the test's one connection.
    monkeypatch.setattr(badge_batches, "start",
                        lambda batch_id: jobs.enqueue(badge_batches.build, batch_id))
    # A "schedule all" is asked for but left to wait: its job's own transactions (and up
    # to ten minutes of solving) have no place in one uncommitted walk.
    monkeypatch.setattr(meeting_schedule, "start", lambda run_id: None)
    world = seed(make)
    report = Report()
    walker = Walker(app, world, report, EXAMPLES)
    try:
        for role in ROLES:
            walker.walk(role)
    finally:
        walker.close()
    print("\n".join(report.lines()))

    writes = {(rule.endpoint, method) for rule, method in walker.routes()
              if method not in SAFE_METHODS}
    reached = {(endpoint, method) for _role, endpoint, method in report.reached}
    failures = {
        "5xx": report.server_errors,
        "leaks": report.leaks,
        # Each marker shown to someone allowed to see it: the check looked where they show.
        "markers never shown": sorted(set(world.markers) - report.markers_seen),
        "stored text breaking the text rules": broken_stored_text(),
        "roles stopped at the door (< 50 %)": [
            f"{role}: {report.share(role):.0%}" for role in ROLES if report.share(role) < 0.5],
        "write endpoints never reached": sorted(f"{e} {m}" for e, m in writes - reached),
    }
    failures = {kind: found for kind, found in failures.items() if found}
    assert failures == {}, "\n".join(
        f"{kind}:\n  " + "\n  ".join(found) for kind, found in failures.items())

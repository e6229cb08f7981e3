"""Health checks: /healthz is public (the database answers here: 200); the details
answer signed-in admins and the monitoring token only, and everyone else, signed in or
not, gets the same 401 as a wrong or missing token (tests/test_faults_database.py tries
the token itself)."""

from __future__ import annotations

from tests.matrix import Case, statuses

CASES = [
    Case("health.status", "database answers", "GET", lambda w: "/healthz", statuses(200)),
    Case("health.details", "no token", "GET", lambda w: "/healthz/details",
         statuses(401, admin=200)),
]

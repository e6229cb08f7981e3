"""The databases a test of real connections runs on, as its `backend` parameter.

"sqlite" is a SQLite file of the test's own, the same whichever database the run was
given, so it carries the `sqlite` marker and runs in the SQLite run only (`make test`);
"postgres" is the run's PostgreSQL database (`make test-postgres`)."""

from __future__ import annotations

import pytest

SQLITE = pytest.param("sqlite", marks=pytest.mark.sqlite)
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
BACKENDS = [SQLITE, POSTGRES]

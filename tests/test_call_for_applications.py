"""The call for applications on SQLite and on PostgreSQL: the load and what must hold are
in tests/call.py (bench/call.py times the same load)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.call import (
    BUDGET_SECONDS,
    Clock,
    broken_promises,
    call_for_applications,
    expected_mail,
    read_outcome,
    received_mail,
    served,
)
from tests.processes import scratch_database

# -- the tests -----------------------------------------------------------------------------

def run_call(url: str, log_dir: Path) -> list[str]:
    clock = Clock(BUDGET_SECONDS)
    with served(url, log_dir, clock) as site:
        burst = call_for_applications(site.base, site.call, clock)
        outcome = read_outcome(url, site.call)
        mail = received_mail(site.box, sum(expected_mail(site.call, outcome).values()), clock)
    return broken_promises(site.call, burst, outcome, mail, site.processes.output("gunicorn"))


@pytest.mark.sqlite
def test_call_for_applications_on_sqlite(tmp_path):
    problems = run_call(f"sqlite:///{tmp_path}/call.db", tmp_path)
    assert not problems, "\n".join(problems)


@pytest.mark.postgres
def test_call_for_applications_on_postgresql(tmp_path):
    with scratch_database(os.environ["TEST_DATABASE_URL"],
                          f"beachhead_call_{os.getpid()}") as url:
        problems = run_call(url, tmp_path)
    assert not problems, "\n".join(problems)

"""A request whose process has no free connection waits its turn at the pool: the
database answers, its connections are busy with the process's other threads (a threaded
server with more threads than connections). It is served, not answered 503
(webapp/database_limits.py, POOL_QUEUE)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db

LIMIT = 1.0  # DATABASE_TIMEOUT here, in seconds
HELD = 2.5  # how long another thread holds the process's only connection


@pytest.mark.postgres
def test_a_request_waits_its_turn_at_a_busy_pool_beyond_the_database_limit():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=os.environ["TEST_DATABASE_URL"],
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
                     DATABASE_TIMEOUT=LIMIT, PROPAGATE_EXCEPTIONS=False)
    taken, done = threading.Event(), threading.Event()

    def busy_thread():
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            taken.set()
            time.sleep(HELD)  # a request of the same process, busy but answered
        done.set()

    try:
        worker = threading.Thread(target=busy_thread)
        worker.start()
        assert taken.wait(10)
        started = time.monotonic()
        answer = app.test_client().get("/healthz")
        waited = time.monotonic() - started
        worker.join()
        assert (answer.status_code, answer.json) == (200, {"status": "ok"})
        assert done.is_set() and waited > LIMIT  # it waited past the limit, and was served
    finally:
        with app.app_context():
            db.engine.dispose()

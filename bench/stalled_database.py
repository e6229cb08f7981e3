"""Time to the first 503 with a stalled database, against the limit, through gunicorn,
beside a bare Flask route served by the same workers.

    .venv/bin/python bench/stalled_database.py
    .venv/bin/python bench/stalled_database.py --limit 2 --rounds 5 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_stall

A scratch PostgreSQL database (created here, dropped at the end) is migrated and given a
member with an API token; gunicorn (production config, two sync workers, DATABASE_TIMEOUT
= --limit) reaches it through the faulty link of the tests (tests/network_faults.py). Each
round the link stalls; then, one after the other, a signed-in page (/account/registrations),
an API call (GET /api/v1/me) and /healthz are timed from the request to their 503, and the
bare route during the stall; then the link passes again and the time to the first page
that answers 200 is taken. Before the rounds the same four are timed with the database
answering. Figures: median and slowest milliseconds per probe, the median as a multiple
of the limit and of the bare route's median in the same state of the database. The
script exits with 1 if any answer under the stall was not a 503 or came later than the
limit plus one second.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench import tables  # noqa: E402
from tests.api import token_for  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.network_faults import FaultyLink  # noqa: E402
from tests.processes import (  # noqa: E402
    SECRET,
    Processes,
    free_port,
    production_env,
    scratch_database,
    wait_for,
)
from webapp import create_app  # noqa: E402
from webapp.extensions import csrf, db  # noqa: E402

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/beachhead_bench_stall"
BARE_PATH = "/bench-bare"
SERVED_APP = "bench.stalled_database:bench_app()"
WORKERS = 2
LATE = 1.0  # seconds beyond the limit that count as too late


def bare() -> str:
    return "ok"


def bench_app() -> Flask:
    """What gunicorn serves: the product's app (BEACHHEAD_CONFIG, as `wsgi:app`) and a
    bare route on the same workers."""
    app = create_app()
    app.add_url_rule(BARE_PATH, "bench_bare", csrf.exempt(bare))
    return app


def prepare(url: str) -> tuple[str, str]:
    """Migrate the scratch database and make a member: (session cookie, API token)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        make = Factory()
        member = make.user(make.organization(make.partner()), name="Bench Member")
        db.session.commit()
        session_id, token = member.get_id(), token_for(member)
        db.session.remove()
        db.engine.dispose()
    # The production app signs its cookie with SECRET: a signed-in browser's cookie.
    signer = Flask("cookie")
    signer.secret_key = SECRET
    cookie = signer.session_interface.get_signing_serializer(signer).dumps(
        {"_user_id": session_id, "_fresh": True})
    return cookie, token


class Probes:
    """The four requests, each timed from its sending to its answer."""

    def __init__(self, base: str, cookie: str, token: str) -> None:
        self.base = base
        self.browser = requests.Session()
        self.browser.cookies.set("session", cookie)
        self.token = token

    def _timed(self, method, path: str, **kwargs) -> tuple[int, float]:
        started = time.perf_counter()
        response = method(self.base + path, timeout=120, **kwargs)
        return response.status_code, time.perf_counter() - started

    def page(self) -> tuple[int, float]:
        return self._timed(self.browser.get, "/account/registrations")

    def api(self) -> tuple[int, float]:
        return self._timed(requests.get, "/api/v1/me",
                           headers={"Authorization": f"Bearer {self.token}"})

    def health(self) -> tuple[int, float]:
        return self._timed(requests.get, "/healthz")

    def bare(self) -> tuple[int, float]:
        return self._timed(requests.get, BARE_PATH)


def run(url: str, limit: float, rounds: int, logs: Path) -> tuple[list[tuple], list[str]]:
    cookie, token = prepare(url)
    address = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    link = FaultyLink(address.hostname, address.port or 5432)
    proxied = url.replace(address.netloc.rsplit("@", 1)[-1], f"127.0.0.1:{link.port}")
    port = free_port()
    env = production_env(proxied, "", free_port(), DATABASE_TIMEOUT=str(limit))
    processes = Processes(logs)
    answered: dict[str, list[tuple[int, float]]] = {}
    problems: list[str] = []
    try:
        processes.start("gunicorn", [str(Path(sys.executable).parent / "gunicorn"),
                                     "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                                     "--timeout", "60", SERVED_APP], env)
        probes = Probes(f"http://127.0.0.1:{port}", cookie, token)
        wait_for(lambda: _answers(probes), "gunicorn", deadline=60, processes=processes)
        names = ("page", "api", "health", "bare")
        for _warm in range(10):
            for name in names:
                answered.setdefault(f"{name}, database answers", []).append(
                    getattr(probes, name)())
        for _round in range(rounds):
            link.stalls()
            for name in names:
                answered.setdefault(f"{name}, database stalled", []).append(
                    getattr(probes, name)())
            link.passes()
            started = time.perf_counter()
            wait_for(lambda: probes.page()[0] == 200, "a page after the stall", deadline=60)
            answered.setdefault("page, first 200 after the stall", []).append(
                (200, time.perf_counter() - started))
    finally:
        processes.stop_all()
        link.close()
    rows = []
    bare_median = {state: statistics.median(took for _status, took in answered[f"bare, {state}"])
                   for state in ("database answers", "database stalled")}
    for label, results in answered.items():
        seconds = [took for _status, took in results]
        statuses = sorted({status for status, _took in results})
        median = statistics.median(seconds)
        state = "database stalled" if "stalled" in label else "database answers"
        rows.append((label, len(results), "/".join(map(str, statuses)), f"{median * 1000:.0f}",
                     f"{max(seconds) * 1000:.0f}", f"{median / limit:.2f}",
                     f"{median / bare_median[state]:.0f}"))
        if "stalled" in label and not label.startswith("bare"):
            if statuses != [503]:
                problems.append(f"{label}: answered {statuses}, not 503")
            if max(seconds) > limit + LATE:
                problems.append(f"{label}: {max(seconds):.2f} s, over the limit {limit} s")
    return rows, problems


def _answers(probes: Probes) -> bool:
    try:
        return probes.bare()[0] == 200
    except requests.ConnectionError:
        return False


COLUMNS = ("probe", "requests", "status", "median ms", "slowest ms", "x limit", "x bare")


def print_table(rows: list[tuple]) -> None:
    tables.print_table(COLUMNS, rows, left={0, 2})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE,
                        help=f"the PostgreSQL database to create, use and drop ({DATABASE})")
    parser.add_argument("--limit", type=float, default=5.0,
                        help="DATABASE_TIMEOUT of the served app, seconds (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="stalls (default 3)")
    args = parser.parse_args()
    print(f"gunicorn, {WORKERS} sync workers, DATABASE_TIMEOUT {args.limit:g} s; "
          f"Python {platform.python_version()}")
    name = args.database.rsplit("/", 1)[1]
    with tempfile.TemporaryDirectory(prefix="beachhead-stall-") as folder, \
            scratch_database(args.database, name) as url:
        rows, problems = run(url, args.limit, args.rounds, Path(folder))
    print_table(rows)
    for problem in problems:
        print(problem)
    print("Every answer under the stall was a 503 within the limit."
          if not problems else "LATE OR WRONG ANSWERS: see above.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

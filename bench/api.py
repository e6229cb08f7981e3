"""Time the API's `GET /registrations` for a partner manager with 2,000 applications in
scope, 100 per page, beside a bare Flask JSON route in the same app.

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --applications 2000 --requests 60

The data is bench/desk.py's (10 clusters, four missions, histories replayed through the
registration service) with the manager given every cluster, so all the applications are
in their scope. Requests go through the Flask test client with the manager's token, the
pages of the list in turn and interleaved with the bare route: requests per second (from
the median), and the SQL statements one request runs (the token's look-up and count
included).
"""

from __future__ import annotations

import argparse
import gc
import platform
import sqlite3
import statistics
import sys
from time import perf_counter

from desk import CLUSTERS, bench_app
from pages import QueryCounter
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Partner, Role, RoleGrant, User
from webapp.services import api_tokens

BARE_JSON = "/bench-bare-json"


def manager_token(app, session_id: str) -> str:
    """The manager of every cluster, with a read-only token."""
    with app.app_context():
        manager = db.session.get(User, int(session_id.split(":")[0]))
        have = {g.partner_id for g in manager.grants}
        for partner in db.session.scalars(select(Partner).where(Partner.short_name.like("BC%"))):
            if partner.id not in have:
                db.session.add(RoleGrant(user=manager, role=Role.PARTNER_MANAGER,
                                         partner_id=partner.id))
        secret = api_tokens.create(manager, "bench", read_only=True).secret
        db.session.commit()
        db.session.remove()
        return secret


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=2000, help="in scope (2000)")
    parser.add_argument("--per-page", type=int, default=100, help="page size (100)")
    parser.add_argument("--requests", type=int, default=60, help="timed requests each (60)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests each (5)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Flask test "
          f"client; {args.applications} applications over {CLUSTERS} clusters, all in the "
          f"manager's scope; {args.requests} requests each after {args.warmup} warm-up")
    with bench_app(args.applications) as (app, ids):
        app.config["API_RATE_LIMIT"] = 10**9
        app.add_url_rule(BARE_JSON, "bench_bare_json", lambda: {"status": "ok"})
        headers = {"Authorization": f"Bearer {manager_token(app, ids['manager'])}"}
        client, counter = app.test_client(), QueryCounter(app)
        pages = max(1, args.applications // args.per_page)
        seconds: dict[str, list[float]] = {"bare": [], "api": []}
        queries: dict[str, set[int]] = {"bare": set(), "api": set()}

        def get(label: str, n: int) -> None:
            path = (BARE_JSON if label == "bare" else
                    f"/api/v1/registrations?per_page={args.per_page}&page={n % pages + 1}")
            counter.count = 0
            start = perf_counter()
            response = client.get(path, headers=headers)
            elapsed = perf_counter() - start
            if response.status_code != 200:
                sys.exit(f"{path} answered {response.status_code}: {response.data[:300]}")
            if label == "api":
                assert len(response.json["items"]) == args.per_page, "a short page"
            seconds[label].append(elapsed)
            queries[label].add(counter.count)

        for n in range(args.warmup):
            get("bare", n)
            get("api", n)
        seconds = {"bare": [], "api": []}
        gc.collect()
        gc.freeze()
        for n in range(args.requests):
            get("bare", n)
            get("api", n)
        gc.unfreeze()
    print(f"{'route':<44}{'median ms':>10}{'req/s':>8}{'x bare':>8}{'SQL':>6}")
    bare = statistics.median(seconds["bare"])
    for label, title in (("bare", "bare Flask JSON route"),
                         ("api", f"GET /api/v1/registrations, {args.per_page} per page")):
        median = statistics.median(seconds[label])
        sql = "-".join(str(q) for q in sorted({min(queries[label]), max(queries[label])}))
        print(f"{title:<44}{median * 1000:>10.2f}{1 / median:>8.0f}{median / bare:>8.1f}"
              f"{sql:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the API's lists beside a bare Flask JSON route, at two data sizes.

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --sizes 500 5000 --per-page 25 100 --requests 60

For each size N, an app on its own SQLite file gets bench/desk.py's data (10 clusters,
four missions, N applications with their histories replayed through the registration
service), N / 10 more published events, and a member registered to N / 20 of them. The
lists, each walked page after page by following its `next` link (back to the first page
after the last):

- `GET /api/v1/registrations`: a partner manager of every cluster (all N in scope);
- `GET /api/v1/events`: the same member's view of the published events;
- `GET /api/v1/me/registrations`: that member's own registrations.

Requests go through the Flask test client with the user's token (the rate limit raised
out of the way; counted in the database as without Redis, or with `--redis URL` in Redis
as in production, where a call writes nothing to the database but its token's last use,
once a minute), interleaved with the bare
route: the median milliseconds per request, wall-clock and CPU (the process's own time,
steadier on a shared machine), their ratios to the bare route's medians in the same run
(the target: at most 10x), and the SQL statements one request runs (the token's look-up
and count included), which must not change between the two sizes.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sqlite3
import statistics
import sys
from datetime import timedelta
from time import perf_counter, process_time
from urllib.parse import urlsplit

from desk import CLUSTERS, bench_app
from pages import QueryCounter
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    Partner,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens, registrations

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


def member_token(app, events: int, registered: int) -> str:
    """`events` more published webinars over the coming year and the past one, and a
    member registered to `registered` of them; the member's read-only token."""
    with app.app_context():
        organizer = db.session.scalar(select(Partner).where(Partner.slug == "boc"))
        now = utcnow().replace(microsecond=0)
        made = []
        for n in range(events):
            start = now + timedelta(hours=17 * (n - events // 3))
            event = Event(kind=EventKind.WEBINAR, title=f"Bench webinar {n}",
                          slug=f"bench-webinar-{n}", target_country="US",
                          target_city="Boston", timezone="America/New_York",
                          starts_at=start, ends_at=start + timedelta(hours=2),
                          status=EventStatus.PUBLISHED, requires_approval=False)
            event.organizers = [organizer]
            db.session.add(event)
            made.append(event)
        member = User(email="member@bench.example", name="Bench Member", password_hash=None,
                      email_verified_at=utcnow())
        db.session.add(member)
        db.session.flush()
        for event in made[:registered]:
            registrations.record_history(member, event, [(S.SUBMITTED, utcnow(), None, ""),
                                                         (S.APPROVED, utcnow(), None, "")],
                                         responsible_partner_id=organizer.id)
        secret = api_tokens.create(member, "bench", read_only=True).secret
        db.session.commit()
        db.session.remove()
        return secret


def measure(size: int, per_pages: list[int], requests: int, warmup: int,
            redis_url: str | None) -> list[tuple]:
    with bench_app(size) as (app, ids):
        app.config["API_RATE_LIMIT"] = 10**9
        app.config["REDIS_URL"] = redis_url
        app.add_url_rule(BARE_JSON, "bench_bare_json", lambda: {"status": "ok"})
        manager = {"Authorization": f"Bearer {manager_token(app, ids['manager'])}"}
        member = {"Authorization": f"Bearer {member_token(app, size // 10, size // 20)}"}
        lists = {"bare": (BARE_JSON, manager)}
        for per_page in per_pages:
            lists[f"registrations {per_page}"] = (
                f"/api/v1/registrations?per_page={per_page}", manager)
            lists[f"events {per_page}"] = (f"/api/v1/events?per_page={per_page}", member)
            lists[f"me/registrations {per_page}"] = (
                f"/api/v1/me/registrations?per_page={per_page}", member)
        client, counter = app.test_client(), QueryCounter(app)
        at = {label: path for label, (path, _) in lists.items()}
        seconds: dict[str, list[float]] = {label: [] for label in lists}
        cpu: dict[str, list[float]] = {label: [] for label in lists}
        queries: dict[str, set[int]] = {label: set() for label in lists}

        def get(label: str) -> None:
            path, headers = at[label], lists[label][1]
            counter.count = 0
            start, start_cpu = perf_counter(), process_time()
            response = client.get(path, headers=headers)
            elapsed, elapsed_cpu = perf_counter() - start, process_time() - start_cpu
            if response.status_code != 200:
                sys.exit(f"{path} answered {response.status_code}: {response.data[:300]}")
            if label != "bare":
                following = response.json["next"]
                if following is None:
                    at[label] = lists[label][0]
                else:
                    parts = urlsplit(following)
                    at[label] = f"{parts.path}?{parts.query}"
            seconds[label].append(elapsed)
            cpu[label].append(elapsed_cpu)
            queries[label].add(counter.count)

        for _ in range(warmup):
            for label in lists:
                get(label)
        seconds = {label: [] for label in lists}
        cpu = {label: [] for label in lists}
        gc.collect()
        gc.freeze()
        for _ in range(requests):
            for label in lists:
                get(label)
        gc.unfreeze()
    bare, bare_cpu = statistics.median(seconds["bare"]), statistics.median(cpu["bare"])
    rows = []
    for label in lists:
        median, median_cpu = statistics.median(seconds[label]), statistics.median(cpu[label])
        sql = "-".join(str(q) for q in sorted({min(queries[label]), max(queries[label])}))
        rows.append((size, label, median * 1000, median / bare, median_cpu * 1000,
                     median_cpu / bare_cpu, sql))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[500, 5000],
                        help="applications at the two sizes (500 5000)")
    parser.add_argument("--per-page", type=int, nargs="+", default=[25, 100],
                        help="page sizes (25 100)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests each (40)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests each (5)")
    parser.add_argument("--redis", metavar="URL",
                        help="count the tokens' requests in this Redis, as in production")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Flask test "
          f"client; applications over {CLUSTERS} clusters at {args.sizes[0]} and "
          f"{args.sizes[1]}; {args.requests} requests each after {args.warmup} warm-up; "
          f"rate counted in {'Redis' if args.redis else 'the database'}")
    rows = [row for size in args.sizes
            for row in measure(size, args.per_page, args.requests, args.warmup, args.redis)]
    print(f"{'size':>6}  {'list, per page':<26}{'wall ms':>9}{'x bare':>8}{'CPU ms':>8}"
          f"{'x bare':>8}{'SQL':>6}")
    for size, label, ms, ratio, cpu_ms, cpu_ratio, sql in rows:
        print(f"{size:>6}  {label:<26}{ms:>9.2f}{ratio:>8.1f}{cpu_ms:>8.2f}{cpu_ratio:>8.1f}"
              f"{sql:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time Beachhead's pages through the Flask test client, against a bare Flask route.

    .venv/bin/python bench/pages.py             # the demo data
    .venv/bin/python bench/pages.py --rows      # then again with twice the events and registrations

Per page: mean and p95 milliseconds per request, the ratio of the mean to a bare Flask route
in the same app (the machine shares its 2 cores, so only ratios measured in one run compare),
and the SQL statements one request runs. Pages are measured in interleaved rounds, so a burst
of load elsewhere on the machine lands on all of them alike.
"""

from __future__ import annotations

import argparse
import gc
import platform
import re
import sqlite3
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter

from demo_site import demo_app
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload

from webapp import demo
from webapp.extensions import db
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    Registration,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import registrations

SME_EMAIL = "sme@demo.smartcitytech.eu"
BARE_PATH = "/bench-bare"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    signed_in: bool = False


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.seconds, n=20)[18] * 1000

    @property
    def queries_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(high) if low == high else f"{low}-{high}"


class QueryCounter:
    """SQL statements sent to the database, not counting transaction control."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        with app.app_context():
            sa_event.listen(db.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.count += 1


def add_bare_route(app: Flask) -> None:
    app.add_url_rule(BARE_PATH, "bench_bare", lambda: "ok")


def singapore_mission_slug(app: Flask) -> str:
    with app.app_context():
        slug = db.session.scalar(
            select(Event.slug)
            .where(
                Event.kind == EventKind.OUTBOUND_MISSION,
                Event.target_country == "SG",
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > utcnow(),
            )
            .order_by(Event.starts_at)
        )
        assert slug, "the demo data has no upcoming Singapore mission"
        return slug


def row_counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(Event))
        regs = db.session.scalar(select(func.count()).select_from(Registration))
        return events, regs


def _copy_columns(obj, **changes):
    values = {
        attr.key: getattr(obj, attr.key)
        for attr in inspect(type(obj)).column_attrs
        if attr.key not in {"id", "event_id", "created_at", "updated_at"}
    }
    values.update(changes)
    return type(obj)(**values)


def double_rows(app: Flask) -> None:
    """Copy every event (agenda, organizers, hosts) and every registration (its history
    replayed through the registration service), so each list the pages show doubles."""
    with app.app_context():
        events = db.session.scalars(
            select(Event).options(
                selectinload(Event.sessions),
                selectinload(Event.organizers),
                selectinload(Event.hosts),
            )
        ).all()
        copies: dict[int, Event] = {}
        for original in events:
            copy = _copy_columns(
                original, slug=f"{original.slug}-copy", title=f"{original.title} (copy)"
            )
            copy.organizers = list(original.organizers)
            copy.hosts = list(original.hosts)
            copy.sessions = [_copy_columns(s) for s in original.sessions]
            db.session.add(copy)
            copies[original.id] = copy
        db.session.flush()
        regs = db.session.scalars(
            select(Registration).options(selectinload(Registration.history))
        ).all()
        for reg in regs:
            steps = [
                (S(entry.to_status), entry.created_at, entry.actor, entry.reason)
                for entry in reg.history
                if entry.to_status
            ]
            registrations.record_history(
                reg.user,
                copies[reg.event_id],
                steps,
                responsible_partner_id=reg.responsible_partner_id,
            )
        db.session.commit()
        db.session.remove()


def signed_in_client(app: Flask) -> FlaskClient:
    """A client that signed in as the demo SME through the sign-in form, CSRF token and all."""
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on /login"
    response = client.post(
        "/login",
        data={"email": SME_EMAIL, "password": demo.DEMO_PASSWORD, "csrf_token": match.group(1)},
    )
    assert response.status_code == 302, f"sign-in failed: {response.status_code}"
    return client


def measure(
    app: Flask, pages: list[Page], *, rounds: int, per_round: int, warmup: int,
    signed_in: Callable[[Flask], FlaskClient] = signed_in_client,
) -> dict[str, Figures]:
    """`signed_in` opens the client of the pages that need one (the demo SME's)."""
    counter = QueryCounter(app)
    clients = {False: app.test_client(), True: signed_in(app)}
    figures = {page.label: Figures() for page in pages}

    def get(page: Page) -> tuple[float, int]:
        client = clients[page.signed_in]
        counter.count = 0
        start = perf_counter()
        response = client.get(page.path)
        elapsed = perf_counter() - start
        if response.status_code != 200:
            sys.exit(f"{page.path} answered {response.status_code}")
        return elapsed, counter.count

    for page in pages:
        for _ in range(warmup):
            get(page)
    # What setup left on the heap (the demo data's objects, the migrations) is not a
    # request's garbage: keep the collector from scanning it again and again mid-request.
    gc.collect()
    gc.freeze()
    for _ in range(rounds):
        for page in pages:
            for _ in range(per_round):
                elapsed, queries = get(page)
                figures[page.label].seconds.append(elapsed)
                figures[page.label].queries.append(queries)
    return figures


def print_table(title: str, pages: list[Page], figures: dict[str, Figures]) -> None:
    bare = figures[pages[0].label].mean_ms
    width = max(len(f"{p.label} {p.path}") for p in pages) + 2
    print(f"\n{title}")
    print(f"{'page':<{width}}{'mean ms':>9}{'p95 ms':>9}{'x bare':>8}{'queries':>9}")
    for page in pages:
        f = figures[page.label]
        name = f"{page.label} {page.path}"
        print(
            f"{name:<{width}}{f.mean_ms:>9.2f}{f.p95_ms:>9.2f}"
            f"{f.mean_ms / bare:>8.1f}{f.queries_label:>9}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", action="store_true", help="measure again with twice the events and registrations"
    )
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (10)")
    parser.add_argument(
        "--per-round", type=int, default=40, help="requests per page and round (40)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per page (20)")
    args = parser.parse_args()
    options = dict(rounds=args.rounds, per_round=args.per_round, warmup=args.warmup)

    with demo_app() as app:
        add_bare_route(app)
        slug = singapore_mission_slug(app)
        pages = [
            Page("bare Flask route", BARE_PATH),
            Page("home", "/"),
            Page("events, upcoming", "/events"),
            Page("events, past", "/events?when=past"),
            Page("event detail", f"/events/{slug}"),
            Page("sign-in page", "/login"),
            Page("my registrations (SME)", "/account/registrations", signed_in=True),
        ]
        print(
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"Flask test client; {args.rounds} rounds x {args.per_round} requests per page "
            f"after {args.warmup} warm-up"
        )
        events, regs = row_counts(app)
        base = measure(app, pages, **options)
        print_table(f"Demo data: {events} events, {regs} registrations", pages, base)
        if not args.rows:
            return 0

        double_rows(app)
        events, regs = row_counts(app)
        doubled = measure(app, pages, **options)
        print_table(f"Doubled: {events} events, {regs} registrations", pages, doubled)

        print("\nSQL statements per request, demo data -> doubled")
        grew = []
        for page in pages:
            before, after = max(base[page.label].queries), max(doubled[page.label].queries)
            verdict = "same" if after == before else ("GROWS" if after > before else "fewer")
            print(f"  {page.label:<24}{before:>4} -> {after:<4}{verdict}")
            if after > before:
                grew.append(page.label)
        if grew:
            print(f"Query count grows with the data on: {', '.join(grew)}")
            return 1
        print("No page runs more queries with twice the rows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the search boxes on folded keys: the public catalogue's and the admin's user search,
at the demo's size and at 10x its rows, against a bare Flask route in the same run.

    .venv/bin/python bench/search.py                    # SQLite (a throwaway file)
    .venv/bin/python bench/search.py --postgres URL     # PostgreSQL (an empty database),
                                                        # with the query plans
    .venv/bin/python bench/search.py --copies 99        # 100x instead of 10x

Per page: mean and p95 milliseconds per request through the Flask test client, the ratio
of the mean to the bare route, and the SQL statements one request runs. "10x" copies every
account, organization and event (with its organizers and hosts) nine times in bulk, each
copy keeping its name, so a search finds ten times the rows it found. On PostgreSQL the
script then prints the plans (EXPLAIN ANALYZE) of the searches' row queries: where the
planner reads a small table whole, again with that made dear, to show the trigram index
on `search_key` answering the search.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

from demo_site import demo_app
from flask import Flask
from flask_migrate import downgrade
from pages import BARE_PATH, Page, add_bare_route, measure, print_table
from sqlalchemy import create_engine, func, insert, inspect, or_, select, text

from webapp import demo
from webapp.extensions import db
from webapp.models import (
    Event,
    Organization,
    User,
    event_hosts,
    event_organizers,
    search,
)

# What people type: a word many events hold, a place typed without its accents, a name
# typed without its letters' marks, a name that is nowhere (every key read, none found).
PAGES = [
    Page("bare Flask route", BARE_PATH),
    Page("catalogue, no search", "/events"),
    Page("catalogue, 'singapore'", "/events?q=singapore"),
    Page("catalogue, 'barcelona expo'", "/events?q=barcelona+expo&when=past"),
    Page("catalogue, 'zoltan'", "/events?q=zoltan"),
    Page("admin users, no search", "/admin/users", signed_in=True),
    Page("admin users, 'soren'", "/admin/users?q=soren", signed_in=True),
    Page("admin users, 'kjaergaard'", "/admin/users?q=kjaergaard", signed_in=True),
    Page("admin users, 'zoltan'", "/admin/users?q=zoltan", signed_in=True),
]


@contextmanager
def postgres_app(url: str) -> Iterator[Flask]:
    """The app on an empty PostgreSQL database with the demo data; the schema is taken
    down again afterwards (the migrations back to none)."""
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    if tables:
        sys.exit(f"{url} is not empty ({len(tables)} tables): give an empty database")
    with demo_app(url) as app:
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                downgrade(revision="base")


def _rows(table) -> list[dict]:
    return [dict(row._mapping) for row in db.session.execute(select(table))]


def grow(app: Flask, copies: int) -> None:
    """`copies` bulk copies of every account, organization and event. Each copy keeps its
    name, so its search key is the original's; emails and slugs are made unique."""
    with app.app_context():
        for model, unique in ((User, "email"), (Organization, None), (Event, "slug")):
            originals = _rows(model.__table__)
            db.session.execute(insert(model.__table__), [
                {**{k: v for k, v in row.items() if k != "id"},
                 **({unique: f"copy{n}-{row[unique]}"} if unique else {})}
                for n in range(1, copies + 1) for row in originals])
        ids = dict(db.session.execute(select(Event.slug, Event.id)).all())
        slugs = {event_id: slug for slug, event_id in ids.items()}
        for link in (event_organizers, event_hosts):
            db.session.execute(insert(link), [
                {"event_id": ids[f"copy{n}-{slugs[row['event_id']]}"],
                 "partner_id": row["partner_id"]}
                for n in range(1, copies + 1) for row in _rows(link)])
        db.session.commit()
        db.session.remove()


def counts(app: Flask) -> str:
    with app.app_context():
        found = [db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, Organization, Event)]
    return f"{found[0]:,} accounts, {found[1]:,} organizations, {found[2]:,} events"


def admin_client(app: Flask):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == demo.ADMIN.email))
        session_id = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def _plan(connection, statement) -> list[str]:
    """EXPLAIN ANALYZE of `statement` with its values bound, as the app sends it."""
    compiled = statement.compile(connection)
    return [row[0] for row in connection.exec_driver_sql(
        f"EXPLAIN ANALYZE {compiled}", compiled.params)]


def plans(app: Flask) -> None:
    """The plans of the searches' row queries as the views build them; where PostgreSQL
    reads the whole table (rightly, when it is small), again with that made dear, to show
    the index answering the search and what it costs."""
    upcoming = (search.matches(Event.search_key, "india"), Event.ends_at >= func.now())
    statements = {
        "catalogue 'india': the page's events": select(Event.id).where(*upcoming)
        .order_by(Event.starts_at, Event.id).limit(12),
        "catalogue 'india': their number": select(func.count()).select_from(Event)
        .where(*upcoming),
        "admin users 'soren' (name or email)": select(User.id).where(or_(
            search.matches(User.search_key, "soren"),
            User.email.contains("soren", autoescape=True)))
        .order_by(User.name, User.id).limit(50),
        "admin users 'kjaergaard' (name or email)": select(User.id).where(or_(
            search.matches(User.search_key, "kjaergaard"),
            User.email.contains("kjaergaard", autoescape=True)))
        .order_by(User.name, User.id).limit(50),
    }
    with app.app_context():
        connection = db.session.connection()
        connection.exec_driver_sql("ANALYZE")
        for label, statement in statements.items():
            print(f"\n{label}:\n  {' '.join(str(statement.compile(connection)).split())}")
            plan = _plan(connection, statement)
            print("\n".join(f"    {line}" for line in plan))
            if any("Seq Scan" in line for line in plan):
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                print("  with enable_seqscan = off:")
                print("\n".join(f"    {line}" for line in _plan(connection, statement)))
                connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
        db.session.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--per-round", type=int, default=20,
                        help="requests per page and round (20)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up requests per page (10)")
    parser.add_argument("--copies", type=int, default=9,
                        help="copies added of every row (9: 10x the demo)")
    args = parser.parse_args()
    options = dict(rounds=args.rounds, per_round=args.per_round, warmup=args.warmup)
    opened = postgres_app(args.postgres) if args.postgres else demo_app()
    with opened as app:
        add_bare_route(app)
        with app.app_context():
            database = (f"PostgreSQL {db.session.scalar(text('SHOW server_version'))}"
                        if args.postgres else f"SQLite {sqlite3.sqlite_version}")
        print(f"Python {platform.python_version()}, {database}, Flask test client; "
              f"{args.rounds} rounds x {args.per_round} requests per page after "
              f"{args.warmup} warm-up")
        demo_figures = measure(app, PAGES, signed_in=admin_client, **options)
        print_table(f"Demo data: {counts(app)}", PAGES, demo_figures)
        began = perf_counter()
        grow(app, args.copies)
        print(f"\n(copied in {perf_counter() - began:.1f} s)")
        grown = measure(app, PAGES, signed_in=admin_client, **options)
        print_table(f"{args.copies + 1}x the demo: {counts(app)}", PAGES, grown)
        grew = [p.label for p in PAGES
                if max(grown[p.label].queries) > max(demo_figures[p.label].queries)]
        if args.postgres:
            plans(app)
        if grew:
            print(f"\nQuery count grows with the rows on: {', '.join(grew)}")
            return 1
        print(f"\nNo page runs more queries with {args.copies + 1}x the rows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

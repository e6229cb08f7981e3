"""The writes that validate input, and the list beside them, against bare Flask routes:
the API's list and create endpoints and the event form's POST, on the demo data and on
ten times its events and registrations.

    .venv/bin/python bench/validation.py
    .venv/bin/python bench/validation.py --scale 1 --rounds 3   # the demo data only, quicker

Requests go through the Flask test client, as in bench/pages.py and bench/api.py:

- `GET /api/v1/registrations` with a partner manager's read-only token (the pages of
  the list in turn);
- `POST /api/v1/events/<id>/registrations`: a fresh verified user applies to an open
  webinar with their own token, a new user each request;
- `POST /admin/events/new`: the signed-in admin creates a draft mission through the
  event form, with the session's CSRF token, a new title each request;

against a bare `GET` and a bare `POST` (JSON, no CSRF) added to the same app. The
applications' mail goes to an SMTP server on loopback. Rounds
interleave the routes, so a burst of other load on the machine lands on all of them
alike; compare the **x bare** ratios of one run, not milliseconds across runs. The same
script measures the tree it is run from, so a change is judged by running it before and
after (copy it into the older tree's bench/ and run it there).
"""

from __future__ import annotations

import argparse
import gc
import platform
import re
import sqlite3
import statistics
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from time import perf_counter

from demo_site import ROOT, demo_app
from flask import Flask
from pages import QueryCounter, _copy_columns
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bench import tables
from tests.processes import mail_server
from webapp import demo
from webapp.extensions import csrf, db
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    Partner,
    Registration,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import accounts, api_tokens, applications, registrations

BARE_GET = "/bench-bare-get"
BARE_POST = "/bench-bare-post"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
COLUMNS = ("request", "mean ms", "p95 ms", "req/s", "x bare", "SQL")


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seconds)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.seconds, n=20)[18]

    @property
    def sql(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(high) if low == high else f"{low}-{high}"


def add_bare_routes(app: Flask) -> None:
    """A GET and a POST that do nothing: Flask and the app's request hooks alone."""
    app.add_url_rule(BARE_GET, "bench_bare_get", lambda: {"status": "ok"})
    app.add_url_rule(BARE_POST, "bench_bare_post",
                     csrf.exempt(lambda: ({"status": "ok"}, 201)), methods=["POST"])


def demo_rows(app: Flask) -> tuple[list[int], list[int]]:
    """The ids of the demo's events and registrations, before the bench adds its own."""
    with app.app_context():
        return (db.session.scalars(select(Event.id)).all(),
                db.session.scalars(select(Registration.id)).all())


def grow(app: Flask, times: int, events: list[int], regs: list[int]) -> None:
    """`times - 1` copies of each of `events` (agenda, organizers, hosts) and of each of
    `regs` (its history replayed through the registration service)."""
    if times <= 1:
        return
    with app.app_context():
        originals = db.session.scalars(select(Event).where(Event.id.in_(events)).options(
            selectinload(Event.sessions), selectinload(Event.organizers),
            selectinload(Event.hosts))).all()
        regs = db.session.scalars(select(Registration).where(Registration.id.in_(regs))
                                  .options(selectinload(Registration.history))).all()
        histories = [(reg, [(S(e.to_status), e.created_at, e.actor, e.reason)
                            for e in reg.history if e.to_status]) for reg in regs]
        for n in range(2, times + 1):
            copies: dict[int, Event] = {}
            for original in originals:
                copy = _copy_columns(original, slug=f"{original.slug}-x{n}",
                                     title=f"{original.title} ({n})")
                copy.organizers = list(original.organizers)
                copy.hosts = list(original.hosts)
                copy.sessions = [_copy_columns(s) for s in original.sessions]
                db.session.add(copy)
                copies[original.id] = copy
            db.session.flush()
            for reg, steps in histories:
                registrations.record_history(reg.user, copies[reg.event_id], steps,
                                             responsible_partner_id=reg.responsible_partner_id)
            db.session.flush()
        db.session.commit()
        db.session.remove()


def row_counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Event)),
                db.session.scalar(select(func.count()).select_from(Registration)))


def open_webinar(app: Flask) -> int:
    """An upcoming webinar a new verified user may apply to, without questions."""
    with app.app_context():
        candidates = db.session.scalars(
            select(Event).where(Event.kind == EventKind.WEBINAR,
                                Event.status == EventStatus.PUBLISHED,
                                Event.starts_at > utcnow())
            .options(selectinload(Event.questions)).order_by(Event.starts_at)).all()
        for event in candidates:
            if not event.questions and applications.closed_reason(event) is None:
                return event.id
    sys.exit("the demo data has no open webinar without questions")


def applicants(app: Flask, count: int, start: int) -> list[str]:
    """`count` new verified users of the demo SME's organization, each with a token."""
    with app.app_context():
        organization = db.session.scalar(select(User).where(
            User.email == demo.DEMO_SME.email)).organization
        secrets = []
        for n in range(start, start + count):
            user = accounts.create_user(f"bench.applicant.{n}@example.org",
                                        f"Bench Applicant {n}", None,
                                        organization=organization)
            user.email_verified_at = utcnow() - timedelta(days=1)
            secrets.append(api_tokens.create(user, "bench", read_only=False).secret)
        db.session.commit()
        db.session.remove()
        return secrets


def manager_token(app: Flask) -> str:
    with app.app_context():
        manager = db.session.scalar(select(User).where(
            User.email == demo.AALBORG.manager_email))
        secret = api_tokens.create(manager, "bench", read_only=True).secret
        db.session.commit()
        db.session.remove()
        return secret


def organizer_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(Partner.id).where(Partner.slug == demo.AALBORG.slug))


def signed_in_admin(app: Flask):
    """A client signed in as the demo admin through the sign-in form, and its CSRF token."""
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": demo.ADMIN.email,
                                           "password": demo.DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"sign-in failed: {response.status_code}"
    match = CSRF_RE.search(client.get("/admin/events/new").get_data(as_text=True))
    assert match, "no CSRF token on the event form"
    return client, match.group(1)


def measure(app: Flask, *, rounds: int, per_round: int, warmup: int,
            label: str) -> dict[str, Figures]:
    counter = QueryCounter(app)
    anonymous = app.test_client()
    admin, csrf_token = signed_in_admin(app)
    manager = {"Authorization": f"Bearer {manager_token(app)}"}
    webinar = open_webinar(app)
    partner = organizer_id(app)
    needed = warmup + rounds * per_round
    secrets = iter(applicants(app, needed, start=int(perf_counter() * 1000) % 10**9))
    posted = iter(range(10**9))

    def list_page(n: int):
        return anonymous.get(f"/api/v1/registrations?page={n % 5 + 1}", headers=manager), 200

    def apply(_n: int):
        return anonymous.post(
            f"/api/v1/events/{webinar}/registrations",
            json={"answers": [], "profile_consent": False, "contact_consent": False},
            headers={"Authorization": f"Bearer {next(secrets)}"}), 201

    def event_form(_n: int):
        title = f"Bench mission {label} {next(posted)}"
        return admin.post("/admin/events/new", data=dict(
            kind="outbound_mission", title=title, slug="", summary="Meet Boston's scene.",
            description="", target_country="US", target_city="Boston", venue="",
            online_url="", reminder_offsets="", timezone="America/New_York",
            starts_local="2031-10-12T09:00", ends_local="2031-10-15T18:00",
            registration_opens_local="", registration_closes_local="", capacity="20",
            requires_approval="y", organizer_ids=[str(partner)], csrf_token=csrf_token)), 302

    requests = {
        f"bare GET {BARE_GET}": lambda n: (anonymous.get(BARE_GET), 200),
        "GET /api/v1/registrations (manager)": list_page,
        f"bare POST {BARE_POST}": lambda n: (anonymous.post(BARE_POST, json={"n": n}), 201),
        "POST /api/v1/events/<id>/registrations": apply,
        "POST /admin/events/new (form)": event_form,
    }
    figures = {name: Figures() for name in requests}

    def run(name: str, n: int, record: bool) -> None:
        counter.count = 0
        start = perf_counter()
        response, expected = requests[name](n)
        elapsed = perf_counter() - start
        if response.status_code != expected:
            sys.exit(f"{name} answered {response.status_code}: {response.data[:300]!r}")
        if record:
            figures[name].seconds.append(elapsed)
            figures[name].queries.append(counter.count)

    for n in range(warmup):
        for name in requests:
            run(name, n, record=False)
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            for name in requests:
                for n in range(per_round):
                    run(name, n, record=True)
    finally:
        gc.unfreeze()
    return figures


def print_figures(title: str, figures: dict[str, Figures]) -> None:
    names = list(figures)
    bare_get, bare_post = figures[names[0]].mean, figures[names[2]].mean
    rows = []
    for name, f in figures.items():
        bare = bare_get if name.startswith("GET") or name == names[0] else bare_post
        rows.append((name, f"{f.mean * 1000:.2f}", f"{f.p95 * 1000:.2f}", f"{1 / f.mean:.0f}",
                     f"{f.mean / bare:.1f}", f.sql))
    print(f"\n{title}\n")
    tables.print_table(COLUMNS, rows, left={0})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10,
                        help="then again with this many times the demo's events and "
                             "registrations (10; 1: the demo data only)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--per-round", type=int, default=20,
                        help="requests per route and round (20)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests per route (5)")
    args = parser.parse_args()
    options = dict(rounds=args.rounds, per_round=args.per_round, warmup=args.warmup)
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Flask test "
          f"client, code from {ROOT}; {args.rounds} rounds x {args.per_round} requests per "
          f"route after {args.warmup} warm-up")
    # An application mails its applicant after the commit (inline without Redis): to a
    # loopback SMTP server, as in bench/jobs.py.
    with mail_server() as (port, _box), demo_app() as app:
        app.config.update(API_RATE_LIMIT=10**9, REDIS_URL=None, MAIL_SERVER="127.0.0.1",
                          MAIL_PORT=port)
        add_bare_routes(app)
        demo_ids = demo_rows(app)
        events, regs = row_counts(app)
        print_figures(f"Demo data: {events} events, {regs} registrations",
                      measure(app, label="demo", **options))
        if args.scale > 1:
            grow(app, args.scale, *demo_ids)
            events, regs = row_counts(app)
            print_figures(f"{args.scale}x: {events} events, {regs} registrations",
                          measure(app, label=f"x{args.scale}", **options))
    return 0


if __name__ == "__main__":
    sys.exit(main())

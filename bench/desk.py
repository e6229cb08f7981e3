"""Time the desk, the delegation list and the delegation brochure at 200 and 2,000 applications.

    .venv/bin/python bench/desk.py
    .venv/bin/python bench/desk.py --sizes 200 2000 --requests 30 --brochures 5

For each size, an app on its own throwaway SQLite file (schema through the migrations)
gets 10 member clusters, an organizing partner, a beachhead and that many applications
over four missions (half of them to the first, so its delegation is large), each with its
history replayed through `services.registrations.record_history`. Pages go through the
Flask test client: median milliseconds per request and the SQL statements one request
runs, beside a bare Flask route in the same app. Then the brochure of a mission with 60
participating companies: seconds per PDF and peak memory, beside a blank one-page
WeasyPrint document rendered in the same process.
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from time import perf_counter

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

# pages (through demo_site) puts the project root on the import path before webapp.
from pages import BARE_PATH, QueryCounter, add_bare_route
from PIL import Image

from webapp import create_app
from webapp.extensions import db
from webapp.models import (
    Answer,
    Event,
    EventKind,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    PartnerKind,
    Question,
    QuestionKind,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import logos, registrations
from webapp.services.questions import MISSION_DEFAULTS

CLUSTERS = 10
BROCHURE_COMPANIES = 60
# Two applicants per company, in the order of the statuses below.
STATUS_PATHS = (
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED,),
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED, S.WAITLISTED),
    (S.SUBMITTED, S.REJECTED),
)
PROFILE = ("We design and run {sector} services for mid-sized cities: sensors, data "
           "platforms and the people who keep them working. Founded in 2014, 25 staff, "
           "pilots in four countries. ") * 3


# --------------------------------------------------------------------------- the data


def _user(email: str, name: str, organization: Organization | None) -> User:
    # No password: hashing thousands of them would time the setup, not the pages.
    user = User(email=email, name=name, organization=organization, password_hash=None,
                email_verified_at=utcnow(), phone="+32 9 123 45 67")
    db.session.add(user)
    return user


def _mission(n: int, organizer: Partner, beachhead: Partner) -> Event:
    start = (utcnow() + timedelta(days=60 + n)).replace(microsecond=0)
    event = Event(kind=EventKind.OUTBOUND_MISSION, title=f"Bench mission {n}",
                  slug=f"bench-mission-{n}", target_country="SG", target_city="Singapore",
                  timezone="Asia/Singapore", starts_at=start, ends_at=start + timedelta(days=4),
                  status=EventStatus.PUBLISHED, requires_approval=True)
    event.organizers, event.hosts = [organizer], [beachhead]
    for position, default in enumerate(MISSION_DEFAULTS, start=1):
        event.questions.append(Question(kind=default.kind, label=default.label,
                                        position=position, required=default.required))
    db.session.add(event)
    return event


def build(app: Flask, applications: int) -> dict:
    """The clusters, the missions and `applications` registrations; returns the ids the
    pages need."""
    with app.app_context():
        clusters = [Partner(name=f"Bench Cluster {i}", short_name=f"BC{i}", slug=f"bc-{i}",
                            kind=PartnerKind.CLUSTER, is_member=True, country="BE")
                    for i in range(CLUSTERS)]
        organizer = Partner(name="Bench Organizing Cluster", short_name="BOC", slug="boc",
                            kind=PartnerKind.CLUSTER, is_member=True, country="BE")
        beachhead = Partner(name="Bench Beachhead", short_name="BB", slug="bb",
                            kind=PartnerKind.BEACHHEAD, country="SG")
        db.session.add_all([*clusters, organizer, beachhead])
        missions = [_mission(n, organizer, beachhead) for n in range(4)]
        admin = _user("admin@bench.example", "Bench Admin", None)
        manager = _user("manager@bench.example", "Bench Manager", None)
        host = _user("host@bench.example", "Bench Host", None)
        db.session.flush()
        db.session.add_all([RoleGrant(user=admin, role=Role.ADMIN),
                            RoleGrant(user=manager, role=Role.PARTNER_MANAGER,
                                      partner_id=clusters[0].id),
                            RoleGrant(user=host, role=Role.BEACHHEAD_HOST,
                                      partner_id=beachhead.id)])
        organization = None
        for i in range(applications):
            cluster = clusters[i % CLUSTERS]
            if i % 2 == 0:
                organization = Organization(
                    name=f"Bench Company {i // 2:04d}", country="BE",
                    size=OrganizationSize.SMALL, helix=Helix.INDUSTRY, home_cluster=cluster,
                    sector="Mobility", profile=PROFILE.format(sector="mobility"))
                db.session.add(organization)
            user = _user(f"applicant{i}@bench.example", f"Applicant {i:04d}", organization)
            # Half of the applications to the first mission, the rest over the others.
            event = missions[0] if i % 2 == 0 else missions[1 + i % 3]
            steps = [(status, utcnow(), manager, "")
                     for status in STATUS_PATHS[(i // 2) % len(STATUS_PATHS)]]
            registrations.record_history(user, event, steps,
                                         responsible_partner_id=cluster.id)
        db.session.commit()
        ids = {"admin": admin.get_id(), "manager": manager.get_id(), "host": host.get_id(),
               "big_mission": missions[0].id}
        db.session.remove()
        return ids


def build_brochure_mission(app: Flask, upload_folder: str) -> int:
    """A mission of 60 companies over the 10 clusters, one or two delegates each (the
    second consented to share contacts), every company with a profile and answers, every
    third with a logo."""
    with app.app_context():
        organizer = db.session.query(Partner).filter_by(slug="boc").one()
        beachhead = db.session.query(Partner).filter_by(slug="bb").one()
        clusters = db.session.query(Partner).filter(Partner.slug.like("bc-%")).all()
        event = _mission(99, organizer, beachhead)
        db.session.flush()
        offers, seeks = event.questions[1], event.questions[2]
        assert offers.kind == QuestionKind.LONG_TEXT
        png = Path(upload_folder) / "bench-source.png"
        Image.new("RGB", (400, 160), "teal").save(png)
        for n in range(BROCHURE_COMPANIES):
            organization = Organization(
                name=f"Brochure Company {n:02d}", country="BE", size=OrganizationSize.SMALL,
                helix=Helix.INDUSTRY, home_cluster=clusters[n % CLUSTERS],
                sector="Energy", profile=PROFILE.format(sector="energy"))
            if n % 3 == 0:
                organization.logo_filename = logos.store(
                    png.read_bytes(), upload_folder, max_bytes=2 * 1024 * 1024)
            db.session.add(organization)
            for d in range(1 + n % 2):
                user = _user(f"brochure{n}-{d}@bench.example", f"Delegate {n:02d}-{d}",
                             organization)
                reg = registrations.record_history(
                    user, event, [(S.SUBMITTED, utcnow(), None, ""),
                                  (S.APPROVED, utcnow(), None, "")],
                    responsible_partner_id=organization.home_cluster_id)
                reg.contact_consent_at = utcnow() if d else None
                reg.answers = [
                    Answer(question=offers, value="Energy management for public buildings, "
                                                  "from metering to tariffs."),
                    Answer(question=seeks, value="A distributor and two pilot sites."),
                ]
        db.session.commit()
        event_id = event.id
        db.session.remove()
        return event_id


@contextmanager
def bench_app(applications: int):
    with tempfile.TemporaryDirectory(prefix="beachhead-bench-desk-") as folder:
        app = create_app("testing", KEEP_USER_PAGES=False,
                         SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db",
                         UPLOAD_FOLDER=f"{folder}/uploads")
        Path(folder, "uploads").mkdir()
        with app.app_context():
            upgrade()
        add_bare_route(app)
        try:
            yield app, build(app, applications)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# --------------------------------------------------------------------------- measuring


def client_as(app: Flask, session_id: str | None) -> FlaskClient:
    """Signed in by session cookie: the sign-in form is not what is measured."""
    client = app.test_client()
    if session_id:
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
    return client


def time_pages(app: Flask, pages: list[tuple[str, str, str | None]], requests: int,
               warmup: int) -> dict[str, tuple[float, str]]:
    """Median ms and the statements per request, pages interleaved request by request."""
    counter = QueryCounter(app)
    clients = {label: client_as(app, who) for label, _path, who in pages}
    seconds: dict[str, list[float]] = {label: [] for label, _p, _w in pages}
    queries: dict[str, set[int]] = {label: set() for label, _p, _w in pages}

    def get(label: str, path: str) -> tuple[float, int]:
        counter.count = 0
        start = perf_counter()
        response = clients[label].get(path)
        elapsed = perf_counter() - start
        if response.status_code != 200:
            sys.exit(f"{label} {path} answered {response.status_code}")
        return elapsed, counter.count

    for label, path, _who in pages:
        for _ in range(warmup):
            get(label, path)
    gc.collect()
    gc.freeze()
    for _ in range(requests):
        for label, path, _who in pages:
            elapsed, count = get(label, path)
            seconds[label].append(elapsed)
            queries[label].add(count)
    gc.unfreeze()
    return {label: (statistics.median(seconds[label]) * 1000,
                    "-".join(str(q) for q in sorted({min(queries[label]),
                                                     max(queries[label])})))
            for label, _p, _w in pages}


def has_delegation_page(app: Flask) -> bool:
    return "delegation.index" in app.view_functions


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def time_pdf(render: Callable[[], bytes], runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = perf_counter()
        size = len(render())
        times.append(perf_counter() - start)
    return statistics.median(times), size


def python_peak_mb(render: Callable[[], bytes]) -> float:
    """Peak Python heap during one render (tracemalloc; pango's and cairo's own C
    allocations are not in it, the process's maxrss is)."""
    gc.collect()
    tracemalloc.start()
    render()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def measure_brochure(app: Flask, ids: dict, runs: int) -> None:
    event_id = build_brochure_mission(app, app.config["UPLOAD_FOLDER"])
    rss_before_import = maxrss_mb()
    start = perf_counter()
    from weasyprint import HTML

    import_seconds = perf_counter() - start

    def blank() -> bytes:
        return HTML(string="<p>Blank</p>").write_pdf()

    host = client_as(app, ids["host"])
    path = f"/events/{event_id}/brochure.pdf"
    counter = QueryCounter(app)

    def brochure() -> bytes:
        response = host.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
        return response.data

    start = perf_counter()
    blank()
    blank_first = perf_counter() - start
    rss_after_blank = maxrss_mb()
    start = perf_counter()
    counter.count = 0
    first_pdf = brochure()
    brochure_first = perf_counter() - start
    brochure_queries = counter.count
    rss_after_brochure = maxrss_mb()
    blank_s, blank_size = time_pdf(blank, runs)
    brochure_s, brochure_size = time_pdf(brochure, runs)
    blank_peak, brochure_peak = python_peak_mb(blank), python_peak_mb(brochure)

    pages = pdf_pages(first_pdf)
    print(f"\nBrochure: {BROCHURE_COMPANIES} companies, {pages} pages, as the event's host "
          f"(median of {runs} after a first render; import weasyprint took "
          f"{import_seconds:.2f} s)")
    print(f"{'document':<38}{'first s':>9}{'median s':>10}{'KB':>7}{'py peak MB':>12}")
    print(f"{'blank one-page WeasyPrint document':<38}{blank_first:>9.2f}{blank_s:>10.3f}"
          f"{blank_size / 1024:>7.0f}{blank_peak:>12.1f}")
    print(f"{'brochure ' + path:<38}{brochure_first:>9.2f}{brochure_s:>10.3f}"
          f"{brochure_size / 1024:>7.0f}{brochure_peak:>12.1f}")
    print(f"SQL statements per brochure request: {brochure_queries}")
    print(f"process maxrss: {rss_before_import:.0f} MB before importing WeasyPrint, "
          f"{rss_after_blank:.0f} MB after the blank document, "
          f"{rss_after_brochure:.0f} MB after the first brochure")


def pdf_pages(pdf: bytes) -> int:
    import subprocess

    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        out = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True).stdout
    return next((int(line.split()[1]) for line in out.splitlines()
                 if line.startswith("Pages:")), 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000],
                        help="applications per run (200 2000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests per page (5)")
    parser.add_argument("--brochures", type=int, default=5, help="timed brochures (5)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Flask test "
          f"client; {args.requests} requests per page after {args.warmup} warm-up, "
          "pages interleaved")

    results: dict[int, dict[str, tuple[float, str]]] = {}
    labels: list[str] = []
    for size in args.sizes:
        with bench_app(size) as (app, ids):
            big = ids["big_mission"]
            pages = [
                ("bare Flask route", BARE_PATH, None),
                ("desk, admin", "/desk/", ids["admin"]),
                ("desk, partner manager", "/desk/", ids["manager"]),
            ]
            if has_delegation_page(app):
                pages += [
                    ("delegation list, admin", f"/events/{big}/delegation", ids["admin"]),
                    ("delegation list, partner manager", f"/events/{big}/delegation",
                     ids["manager"]),
                    ("delegation list, host", f"/events/{big}/delegation", ids["host"]),
                ]
            elif size == args.sizes[0]:
                print("note: no delegation list page (webapp/views/delegation.py) yet; skipped")
            results[size] = time_pages(app, pages, args.requests, args.warmup)
            labels = [label for label, _p, _w in pages]
            if size == args.sizes[-1]:
                measure_brochure(app, ids, args.brochures)

    print(f"\nMedian ms per request (x bare route) and SQL statements, "
          f"{' vs '.join(str(s) for s in args.sizes)} applications")
    header = "".join(f"{f'{s} ms':>10}{'x bare':>8}{'SQL':>6}" for s in args.sizes)
    print(f"{'page':<34}{header}")
    for label in labels:
        cells = ""
        for size in args.sizes:
            ms, queries = results[size][label]
            bare = results[size]["bare Flask route"][0]
            cells += f"{ms:>10.2f}{ms / bare:>8.1f}{queries:>6}"
        print(f"{label:<34}{cells}")
    grew = [label for label in labels
            if results[args.sizes[-1]][label][1] != results[args.sizes[0]][label][1]]
    if grew:
        print(f"SQL statements differ with the number of applications: {', '.join(grew)}")
    else:
        print("No page runs a different number of SQL statements with more applications.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The KPI dashboard at scale: server time and SQL statements per page.

    .venv/bin/python bench/dashboard.py         # the demo + 100 events, 2,000 registrations
    .venv/bin/python bench/dashboard.py --full  # the demo + 1,000 events, 20,000 registrations
    .venv/bin/python bench/dashboard.py --full --postgres URL  # on an empty PostgreSQL database
    .venv/bin/python bench/dashboard.py --full --profile      # pyinstrument: dashboard and PDF

(and 50, or with --full 500, signed agreements).

The demo data is loaded, then the extra rows are inserted in bulk (approved, checked-in
registrations of SMEs of every member cluster; signed agreements, half of each kind), and
each page is requested through the Flask test client as the admin and as a partner
manager. The files the dashboard offers (table exports, the PDF report) are built in the
background (services.downloads): they are built here as that job builds them, through
`services.kpis`, in a context of their own. Every count is a GROUP BY in the database, so
the statements per page must not grow with the rows: the script runs each page before and
after adding them and exits with status 1 if any page sends more statements. Times are the
median (p50) and p95 of the requests; the PDF report is built twice per role, and its page
count is read with poppler's `pdfinfo`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from time import perf_counter, process_time

from demo_site import demo_app
from search import postgres_app
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text

from webapp import access, demo
from webapp.extensions import db
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Attendance,
    AttendanceSource,
    Event,
    EventKind,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    Registration,
    User,
    event_organizers,
)
from webapp.models import RegistrationStatus as S
from webapp.models.types import new_badge_code, new_join_token
from webapp.services import exports, kpis

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
PERIOD = "start=2018-01-01&end=2030-12-31"
PAGES = (
    ("dashboard", f"/kpis/?{PERIOD}"),
    ("SMEs served, rows", f"/kpis/rows/smes?{PERIOD}"),
    ("delegates, rows", f"/kpis/rows/delegates?{PERIOD}"),
    ("collaboration agreements, rows", f"/kpis/rows/collaboration_agreements?{PERIOD}"),
)
BENCH_PERIOD = kpis.Period(date(2018, 1, 1), date(2030, 12, 31))


def _table_file(name: str, fmt: str) -> Callable[[list[int] | None], tuple[bytes, str]]:
    def build(clusters):
        table = kpis.table(name, BENCH_PERIOD, clusters)
        if fmt == "csv":
            return exports.csv_bytes(table.header, table.rows), "text/csv"
        return exports.xlsx_bytes(table.header, table.rows, title=table.title), "xlsx"
    return build


def _report_pdf(clusters):
    return kpis.render_report_pdf(kpis.report(BENCH_PERIOD, clusters)), "application/pdf"


# The files the dashboard offers are built in the background (services.downloads): these
# are timed as the job builds them, in an app context with the viewer's clusters.
FILES = (
    ("by cluster, CSV", _table_file("by_cluster", "csv")),
    ("KPI table, XLSX", _table_file("kpis", "xlsx")),
    ("by mission, XLSX", _table_file("by_mission", "xlsx")),
)
PDF_FILE = ("report, PDF", _report_pdf)


def grow(app, events: int, registrations: int, agreements: int) -> None:
    """Bulk rows: `events` missions and webinars in 2020-2029, each with its share of
    approved, attended registrations, and `agreements` signed agreements."""
    rng = random.Random(10)
    per_event = registrations // events
    with app.app_context():
        members = db.session.scalars(select(Partner).where(Partner.is_member)).all()
        guests = db.session.scalars(select(Organization.id).where(
            Organization.home_cluster_id.is_(None))).all()
        start = datetime(2020, 1, 6, 8, tzinfo=UTC)
        now = datetime.now(UTC)
        org_rows = [dict(name=f"Bench SME {n}", country="BE", size=OrganizationSize.SMALL,
                         helix=Helix.INDUSTRY, home_cluster_id=members[n % len(members)].id,
                         created_at=now) for n in range(registrations // 4)]
        db.session.execute(insert(Organization), org_rows)
        org_ids = db.session.scalars(select(Organization.id).where(
            Organization.name.like("Bench SME %")).order_by(Organization.id)).all()
        homes = dict(db.session.execute(select(Organization.id, Organization.home_cluster_id)
                                        .where(Organization.id.in_(org_ids))).all())
        db.session.execute(insert(User), [
            dict(email=f"bench{n}@bench.example", name=f"Bench Delegate {n}",
                 organization_id=org_ids[n % len(org_ids)], created_at=now)
            for n in range(registrations // 2)])
        user_ids = db.session.scalars(select(User.id).where(
            User.email.like("%@bench.example")).order_by(User.id)).all()
        db.session.execute(insert(Event), [
            dict(kind=EventKind.WEBINAR if n % 4 == 0 else EventKind.OUTBOUND_MISSION,
                 title=f"Bench event {n}", slug=f"bench-event-{n}", target_country="SG",
                 timezone="Asia/Singapore", starts_at=start + timedelta(days=3 * n),
                 ends_at=start + timedelta(days=3 * n + 2), status=EventStatus.CLOSED,
                 reminder_offsets=[], created_at=now, updated_at=now)
            for n in range(events)])
        event_rows = db.session.execute(select(Event.id, Event.starts_at).where(
            Event.slug.like("bench-event-%")).order_by(Event.id)).all()
        db.session.execute(insert(event_organizers), [
            dict(event_id=event_id, partner_id=members[n % len(members)].id)
            for n, (event_id, _) in enumerate(event_rows)])
        regs = []
        for event_id, _ in event_rows:
            for user_id in rng.sample(user_ids, per_event):
                organization = org_ids[(user_id - user_ids[0]) % len(org_ids)]
                regs.append(dict(event_id=event_id, user_id=user_id, status=S.APPROVED,
                                 responsible_partner_id=homes[organization], applied_at=now,
                                 badge_code=new_badge_code(), join_token=new_join_token(),
                                 updated_at=now))
        db.session.execute(insert(Registration), regs)
        reg_rows = db.session.execute(
            select(Registration.id, Event.starts_at).join(Event)
            .where(Event.slug.like("bench-event-%"))).all()
        db.session.execute(insert(Attendance), [
            dict(registration_id=reg_id, session_id=None, recorded_at=starts_at,
                 source=AttendanceSource.CHECK_IN) for reg_id, starts_at in reg_rows])
        for n in range(agreements):
            collaboration = n % 2 == 0
            cluster = members[n % len(members)]
            parties = ([AgreementParty(position=0, organization_id=rng.choice(org_ids)),
                        AgreementParty(position=1, organization_id=rng.choice(guests))]
                       if collaboration else
                       [AgreementParty(position=0, partner_id=cluster.id),
                        AgreementParty(position=1, partner_id=members[0].id)])
            db.session.add(Agreement(
                kind=AgreementKind.COLLABORATION if collaboration else AgreementKind.PARTNERSHIP,
                type=AgreementType.BUSINESS_PARTNERSHIP, status=AgreementStatus.SIGNED,
                title=f"Bench agreement {n}", responsible_partner_id=cluster.id,
                signed_on=date(2020, 1, 1) + timedelta(days=n), parties=parties))
        db.session.commit()
        db.session.remove()
    analyze(app)


def analyze(app) -> None:
    """On PostgreSQL, as autovacuum would soon after a bulk load: the planner's statistics
    of the new rows (without them it joins 20,000 rows one by one)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()


def client_as(app, email: str):
    with app.app_context():
        session_id = db.session.scalar(select(User).where(User.email == email)).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def pdf_pages(body: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=body, capture_output=True, check=True).stdout
    return int(next(line.split()[1] for line in info.decode().splitlines()
                    if line.startswith("Pages:")))


def measure(app, call: Callable[[], tuple[bytes, str]], times: int) -> tuple:
    """(p50 ms, p95 ms, SQL statements, PDF pages or None, p50 CPU ms) of `times` calls of
    `call`, which answers a body and its type. The CPU time is this process's alone (on
    SQLite all of the work; on PostgreSQL the server's is not in it): on a busy machine
    it is the steadier figure."""
    counted: list[int] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            counted.append(1)

    sa_event.listen(engine, "before_cursor_execute", count)
    seconds = []
    cpu = []
    statements = []
    pages = None
    try:
        for _ in range(times):
            counted.clear()
            began, began_cpu = perf_counter(), process_time()
            body, mimetype = call()
            seconds.append(perf_counter() - began)
            cpu.append(process_time() - began_cpu)
            statements.append(len(counted))
            if mimetype == "application/pdf":
                pages = pdf_pages(body)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    p95 = statistics.quantiles(seconds, n=20)[18] if len(seconds) >= 20 else max(seconds)
    return (statistics.median(seconds) * 1000, p95 * 1000, max(statements), pages,
            statistics.median(cpu) * 1000)


def page(client, path: str) -> Callable[[], tuple[bytes, str]]:
    def get():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.data, response.mimetype
    return get


def built(app, email: str, build) -> Callable[[], tuple[bytes, str]]:
    """`build(clusters)` in a context of its own, as a download job runs it for `email`."""
    def call():
        with app.test_request_context():
            user = db.session.scalar(select(User).where(User.email == email))
            try:
                return build(access.kpi_clusters_of(user))
            finally:
                db.session.remove()
    return call


def profile(app, path: str | None) -> None:
    """pyinstrument's call tree of one request to `path` (None: the PDF report) as the
    admin, after a warm-up."""
    from pyinstrument import Profiler

    call = (page(client_as(app, demo.ADMIN.email), path) if path
            else built(app, demo.ADMIN.email, PDF_FILE[1]))
    call()
    profiler = Profiler(interval=0.001)
    with profiler:
        call()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def run_pages(app, requests: int) -> dict[tuple[str, str], tuple]:
    results = {}
    for who, email in (("admin", demo.ADMIN.email), ("manager", demo.AALBORG.manager_email)):
        client = client_as(app, email)
        for label, path in PAGES:
            get = page(client, path)
            get()  # warm up
            results[(who, label)] = measure(app, get, requests)
        for label, build in FILES:
            call = built(app, email, build)
            call()
            results[(who, label)] = measure(app, call, requests)
        label, build = PDF_FILE
        results[(who, label)] = measure(app, built(app, email, build), 2)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="10x the demo: 1,000 events, 20,000 registrations, 500 agreements")
    parser.add_argument("--requests", type=int, default=10, help="requests per page")
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--profile", action="store_true",
                        help="print pyinstrument's profile of the dashboard and the PDF report "
                             "with the extra rows instead of the timings")
    options = parser.parse_args()
    events, registrations, agreements = (1000, 20000, 500) if options.full else (100, 2000, 50)
    opened = postgres_app(options.postgres) if options.postgres else demo_app()
    with opened as app:
        with app.app_context():
            print(f"{db.engine.dialect.name}, the demo + {events:,} events")
        analyze(app)
        before = None if options.profile else run_pages(app, 3)
        began = perf_counter()
        grow(app, events, registrations, agreements)
        print(f"Added {events:,} events, {registrations:,} registrations (checked in) and "
              f"{agreements:,} agreements in {perf_counter() - began:.1f} s.\n")
        if options.profile:
            profile(app, PAGES[0][1])
            profile(app, None)
            return 0
        after = run_pages(app, options.requests)
    print(f"{'as':<8} {'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>8} {'queries':>8}"
          f" {'demo only':>10} {'demo p50':>9}")
    grew = []
    for (who, label), (p50, p95, queries, pages, cpu) in after.items():
        base_p50, _p95, base, base_pages, _cpu = before[(who, label)]
        print(f"{who:<8} {label:<32} {p50:8.1f} {p95:8.1f} {cpu:8.1f} {queries:8d} {base:10d}"
              f" {base_p50:9.1f}" + (f"  {pages} pages (demo: {base_pages})" if pages else ""))
        if queries > base:
            grew.append((who, label))
    if grew:
        print(f"\nQuery counts grew with the data: {grew}", file=sys.stderr)
        return 1
    print("\nNo page sends more SQL statements with the extra rows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

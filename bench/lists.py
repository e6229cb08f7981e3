"""The signed-in list pages at the demo's size and at 10x (`flask demo --scale 10`): mean
time per request through Flask's test client, SQL statements per request, the ratio to a
bare route in the same run, and each page's 10x figure against its own 1x figure.

    .venv/bin/python bench/lists.py                 # scales 1 and 10, 30 requests a page
    .venv/bin/python bench/lists.py --scales 1 10 --requests 50
    .venv/bin/python bench/lists.py --profile "/desk/" --as manager   # pyinstrument, at 10x
    .venv/bin/python bench/lists.py --keep /tmp/lists --only desk     # reuse the loaded files
    .venv/bin/python bench/lists.py --database-url postgresql+psycopg://...one ...ten
    .venv/bin/python bench/lists.py --kept          # the pages kept for their user, served

In-process, no HTTP server: it finds what grows with the data (a count of every row, an
unbounded select, N+1), not the throughput users meet (bench/throughput.py measures that).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The project root on the import path, for `webapp`.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from webapp import create_app, demo, demo_scale  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Registration, RegistrationStatus, User, utcnow  # noqa: E402
from webapp.models.event import event_hosts  # noqa: E402

ROLES = {"sme": demo.DEMO_SME.email, "manager": demo.AALBORG.manager_email,
         "host": "host.ipi@" + demo.DEMO_DOMAIN, "admin": demo.ADMIN.email}


def pages(ids: dict) -> list[tuple[str, str, str]]:
    """(label, role, path) of every list page measured."""
    return [
        ("bare Flask route", "sme", "/bench-bare"),
        ("my registrations", "sme", "/account/registrations"),
        ("desk, organizing manager", "manager", "/desk/"),
        ("desk, event typed", "manager", "/desk/?event_q=singapore"),
        ("desk, host", "host", "/desk/"),
        ("desk, admin", "admin", "/desk/"),
        ("delegation list, manager", "manager", f"/events/{ids['manager_event']}/delegation"),
        ("delegation list, host", "host", f"/events/{ids['host_event']}/delegation"),
        ("apply on behalf", "manager", "/desk/apply-on-behalf"),
        ("admin events", "admin", "/admin/events"),
        ("admin users", "admin", "/admin/users"),
        ("admin partners", "admin", "/admin/partners"),
        ("admin audit log", "admin", "/admin/audit"),
        ("admin skipped reminders", "admin", "/admin/reminders"),
        ("organizations, manager", "manager", "/organizations"),
        ("agreements, manager", "manager", "/agreements/"),
        ("lookup events, desk", "manager", "/lookup/desk-events?q=mission"),
    ]


def build(folder: str, scale: int, database_url: str | None = None, kept: bool = False):
    path = Path(folder) / f"lists-{scale}.db"
    fresh = database_url is None and not path.exists()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url or f"sqlite:///{path}",
                     KEEP_USER_PAGES=kept)
    app.add_url_rule("/bench-bare", "bench_bare", lambda: "ok")
    with app.app_context():
        upgrade()
        loaded = db.session.scalar(select(func.count(User.id)))
        if fresh or not loaded:
            now = utcnow()
            demo.load(now)
            if scale > 1:
                print(demo_scale.grow(scale, now).describe(), file=sys.stderr)
            db.session.commit()
        users = {role: db.session.scalar(select(User).where(User.email == email))
                 for role, email in ROLES.items()}
        ids = {role: u.get_id() for role, u in users.items()}
        # The events with the biggest delegations each viewer may open.
        ids["manager_event"] = db.session.scalar(
            select(Registration.event_id).where(Registration.status == RegistrationStatus.APPROVED)
            .group_by(Registration.event_id).order_by(func.count().desc()).limit(1))
        hosted = select(event_hosts.c.event_id).where(event_hosts.c.partner_id.in_(
            [g.partner_id for g in users["host"].grants]))
        ids["host_event"] = db.session.scalar(
            select(Registration.event_id).where(Registration.status == RegistrationStatus.APPROVED,
                                                Registration.event_id.in_(hosted))
            .group_by(Registration.event_id).order_by(func.count().desc()).limit(1))
        counts = {"events": db.session.scalar(select(func.count()).select_from(
            select(Registration.event_id).distinct().subquery())),
            "registrations": db.session.scalar(select(func.count(Registration.id)))}
        db.session.remove()
    return app, ids, counts


def client_as(app, user_id: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_id, True
    return client


def measure(app, ids, requests: int, only: list[str] | None = None
            ) -> dict[str, tuple[float, int]]:
    clients = {role: client_as(app, ids[role]) for role in ROLES}
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *a: statements.append(statement))
    results = {}
    gc.freeze()
    for label, role, path in pages(ids):
        if only and label != "bare Flask route" and not any(o in label for o in only):
            continue
        client = clients[role]
        for _ in range(3):
            response = client.get(path)
        if response.status_code != 200:  # a page an older checkout does not have
            print(f"{label}: {response.status_code}, not measured", file=sys.stderr)
            continue
        statements.clear()
        client.get(path)
        queries = len(statements)
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - start)
        results[label] = (statistics.mean(times) * 1000, queries)
    return results


def profile(app, ids, path: str, role: str) -> None:
    from pyinstrument import Profiler

    client = client_as(app, ids[role])
    client.get(path)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(20):
        client.get(path)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", help="a path to profile at the last scale")
    parser.add_argument("--as", dest="role", default="manager", choices=sorted(ROLES))
    parser.add_argument("--only", nargs="+", metavar="WORD",
                        help="only the pages whose label holds one of these words")
    parser.add_argument("--keep", metavar="FOLDER",
                        help="keep the SQLite files in FOLDER and reuse them on the next run")
    parser.add_argument("--kept", action="store_true",
                        help="serve the pages kept for their user (by default each request "
                             "renders its page: what grows with the data)")
    parser.add_argument("--database-url", nargs="+", metavar="URL",
                        help="one database per scale (e.g. PostgreSQL), loaded when empty")
    args = parser.parse_args()
    by_scale = {}
    with tempfile.TemporaryDirectory(prefix="beachhead-bench-lists-") as scratch:
        folder = args.keep or scratch
        Path(folder).mkdir(parents=True, exist_ok=True)
        for n, scale in enumerate(args.scales):
            url = args.database_url[n] if args.database_url else None
            app, ids, counts = build(folder, scale, url, args.kept)
            print(f"scale {scale}: {counts['events']:,} events with registrations, "
                  f"{counts['registrations']:,} registrations", file=sys.stderr)
            if args.profile and scale == args.scales[-1]:
                profile(app, ids, args.profile, args.role)
                return
            by_scale[scale] = measure(app, ids, args.requests, args.only)
    first, last = args.scales[0], args.scales[-1]
    bare = {s: by_scale[s]["bare Flask route"][0] for s in args.scales}
    print(f"| page | ms {first}x | ms {last}x | queries {first}x | queries {last}x | "
          f"x bare {last}x (throughput) | {last}x / {first}x (throughput) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, _role, _path in pages({"manager_event": 0, "host_event": 0}):
        if label not in by_scale[first] or label not in by_scale[last]:
            continue
        (ms1, q1), (ms2, q2) = by_scale[first][label], by_scale[last][label]
        print(f"| {label} | {ms1:.2f} | {ms2:.2f} | {q1} | {q2} | "
              f"{bare[last] / ms2:.3f} | {ms1 / ms2:.2f} |")


if __name__ == "__main__":
    main()

"""The pages as users meet them: gunicorn in the production configuration, driven by wrk.

    .venv/bin/python bench/throughput.py           # SQLite and PostgreSQL, 1x and 10x the demo
    .venv/bin/python bench/throughput.py --smoke   # SQLite, 1x, every page 1 s: all answer 200
    .venv/bin/python bench/throughput.py --sqlite-only --seconds 3 --scales 1

For each database (a throwaway SQLite file; a throwaway PostgreSQL database, created and
dropped here) and each size of the demo (`flask --app wsgi demo --scale N`: 1 is the demo,
10 about 1,000 events and 20,000 registrations), the app is served by gunicorn with 2 sync
workers (`BEACHHEAD_CONFIG=production`, mail only logged, Redis when it answers) and every
page family is driven with `wrk -t2 -c32 --latency` as the role that uses it, signed in
through the real /login form. Beside it, in the same run, a one-line Flask app served the
same way (bench/bare_app.py). Per page: requests per second, p50 and p99 latency under that
load, SQL statements per request (counted in this process, through the Flask test client
against the same database: the same code path; "2 / 12": as served again while the
database is unchanged, a signed-in user's page kept for them, / when rendered), and the
throughput as a share of the bare
route's (for the API: time per request as a multiple of the bare route's). Then the workers'
memory (VmRSS of both) after each size, and each target of issue 22 with its figure and
"met" or "MISSED" (only printed, never failing the run: the machine's noise is not the
app's).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The project root on the import path, for `webapp` (the bench's own folder, for `tables`,
# is there already: Python puts a script's folder first).
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(1, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager, suppress  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import requests  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from tables import print_table  # noqa: E402

from tests.processes import free_port  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-http-secret-0123456789abcdef0123456789"  # noqa: S105 - a throwaway app
AGENT = "beachhead-bench"  # every request's User-Agent, wrk's included
PASSWORD = "beachhead-demo"  # noqa: S105 - webapp.demo.DEMO_PASSWORD, published
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                     r'|name="csrf_token" value="([^"]+)"')
ROLES = {
    "sme": "sme@demo.smartcitytech.eu",
    "manager": "manager.aalborg@demo.smartcitytech.eu",
    "host": "host.ipi@demo.smartcitytech.eu",
    "admin": "admin@demo.smartcitytech.eu",
}

# The targets of issue 22.
PUBLIC_FLOOR = 0.25  # × bare, at 1x and 10x
LIST_FLOOR = 0.10  # × bare at 10x
LIST_DRIFT = 0.15  # 10x within 15 % of its own 1x figure (its share of the bare route's)
API_CEILING = 10.0  # × bare's time per request
KPI_P50 = 0.300  # seconds, at 10x, one user at a time
RSS_GROWTH = 0.20


@dataclass(frozen=True)
class Page:
    label: str
    role: str  # "anonymous", a key of ROLES, or "api"
    family: str  # "public", "list", "kpi", "api"
    path: str  # may name {event_slug} and {delegation_event_id}


PAGES = (
    Page("home", "anonymous", "public", "/"),
    Page("event list", "anonymous", "public", "/events"),
    Page("event page", "anonymous", "public", "/events/{event_slug}"),
    Page("sign-in page", "anonymous", "public", "/login"),
    Page("my registrations", "sme", "list", "/account/registrations"),
    Page("desk", "manager", "list", "/desk/"),
    Page("delegation list", "manager", "list", "/events/{delegation_event_id}/delegation"),
    # A host has no event list of its own ("My events" is for those who create events):
    # the desk lists the approved delegates of the events it hosts, with its event filter.
    Page("host's desk", "host", "list", "/desk/"),
    Page("admin: users", "admin", "list", "/admin/users"),
    Page("admin: events", "admin", "list", "/admin/events"),
    Page("admin: audit log", "admin", "list", "/admin/audit"),
    Page("admin: organizations", "admin", "list", "/organizations"),
    Page("admin: agreements", "admin", "list", "/agreements/"),
    Page("KPI dashboard", "admin", "kpi", "/kpis/"),
    Page("API: events", "api", "api", "/api/v1/events"),
    Page("API: registrations", "api", "api", "/api/v1/registrations"),
)


@dataclass
class Load:
    """What wrk measured for one URL."""

    rps: float
    p50: float  # seconds
    p99: float
    errors: int  # non-2xx/3xx answers and socket errors


@dataclass
class Result:
    page: Page
    load: Load
    statements: str
    bare_rps: float

    @property
    def ratio(self) -> float:
        """Throughput as a share of the bare route's; for the API, time per request as a
        multiple of the bare route's."""
        if self.page.family == "api":
            return self.bare_rps / self.load.rps if self.load.rps else float("inf")
        return self.load.rps / self.bare_rps if self.bare_rps else 0.0


@dataclass
class Pass:
    """One database at one size."""

    database: str
    scale: int
    results: list[Result] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    rss_kib: int = 0
    kpi_alone_p50: float | None = None
    load_seconds: float = 0.0


# --------------------------------------------------------------------------- processes


def environment(database_url: str, redis_url: str | None, base_url: str,
                config: str = "production") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "BEACHHEAD_", "DATABASE_", "REDIS_"))}
    env.update(BEACHHEAD_CONFIG=config, SECRET_KEY=SECRET, DATABASE_URL=database_url,
               BASE_URL=base_url, MAIL_TRANSPORT="log", PYTHONUNBUFFERED="1",
               # Plain http on the loopback: the cookie goes back without TLS.
               SESSION_COOKIE_SECURE="false", PREFERRED_URL_SCHEME="http",
               # wrk sends thousands of API calls a minute with one token.
               API_RATE_LIMIT="1000000000")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def gunicorn(app: str, env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`gunicorn -w 2 -k sync` on 127.0.0.1:`port`, until it answers; stopped at the end.
    No control socket: its one default path would be shared by every gunicorn here."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
             "--no-control-socket", app], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def workers_rss_kib(master: int) -> int:
    """The resident memory of the master's worker processes, summed (KiB)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0])
    return total


# --------------------------------------------------------------------------- wrk

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, seconds: int, headers: dict[str, str], connections: int = 32,
        threads: int = 2) -> Load:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "30s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"wrk's output had no latency distribution:\n{output}")
    errors = sum(int(a or b) for a, b in re.findall(
        r"Non-2xx or 3xx responses: (\d+)|timeout (\d+)", output))
    return Load(rps, _seconds(latency["50"]), _seconds(latency["99"]), errors)


def rendered_p50(url: str, headers: dict[str, str], requests_: int = 10) -> float:
    """The p50 of `url` rendered for one user at a time (seconds): each request asks with
    a query of its own, so none is served as a page kept for its user."""
    times = []
    for n in range(requests_):
        began = time.perf_counter()
        answer = requests.get(url, params={"fresh": n}, headers=headers, timeout=120)
        times.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
    return statistics.median(times)


def drive(url: str, seconds: int, headers: dict[str, str], **options: int) -> Load:
    """wrk on `url`, then wait until the server has worked off what wrk left queued:
    gunicorn still answers the requests in its backlog when wrk has hung up, and they
    would be counted against the next page."""
    load = wrk(url, seconds, headers, **options)
    root = urlunsplit((*urlsplit(url)[:2], "/", "", ""))
    for _ in range(2):  # one through each worker, in the order of the backlog
        requests.get(root, timeout=300)
    return load


# --------------------------------------------------------------------------- databases


def server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


@contextmanager
def throwaway_database(kind: str, postgres: str, folder: Path, name: str) -> Iterator[str]:
    if kind == "SQLite":
        yield f"sqlite:///{folder / name}.db"
        return
    import psycopg

    admin = server_url(postgres, "postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url(postgres, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- the app in-process


class InProcess:
    """The production app in this process, on the same database: it finds the pages'
    subjects, makes the API token, and counts each page's SQL statements."""

    def __init__(self, env: dict[str, str]) -> None:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            from webapp import create_app

            self.app = create_app("production")
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def subjects(self) -> dict[str, str]:
        """The event page's event (the demo's upcoming Singapore mission) and the
        delegation list's (the organizing demo manager's largest delegation)."""
        from webapp.extensions import db
        from webapp.models import (
            Event,
            EventStatus,
            Registration,
            RegistrationStatus,
            User,
            event_organizers,
        )

        with self.app.app_context():
            slug = db.session.scalar(
                select(Event.slug).where(Event.slug.like("outbound-mission-singapore-%"),
                                         Event.status == EventStatus.PUBLISHED)
                .order_by(Event.starts_at.desc()))
            manager = db.session.scalar(select(User).where(User.email == ROLES["manager"]))
            partner_ids = [g.partner_id for g in manager.grants]
            delegation = db.session.execute(
                select(Registration.event_id, func.count())
                .join(event_organizers, event_organizers.c.event_id == Registration.event_id)
                .where(event_organizers.c.partner_id.in_(partner_ids),
                       Registration.status == RegistrationStatus.APPROVED)
                .group_by(Registration.event_id).order_by(func.count().desc(),
                                                          Registration.event_id)
            ).first()
            db.session.remove()
        return {"event_slug": slug, "delegation_event_id": str(delegation[0])}

    def api_token(self) -> str:
        from webapp import unit
        from webapp.extensions import db
        from webapp.models import User
        from webapp.services import api_tokens

        with self.app.app_context():
            with unit.of_work("bench token"):
                admin = db.session.scalar(select(User).where(User.email == ROLES["admin"]))
                secret = api_tokens.create(admin, "bench", read_only=True).secret
            db.session.remove()
        return secret

    def statements(self, path: str, role: str, token: str) -> str:
        """The SQL statements of a request that follows two (they warm the caches; the
        desk's first visit marks its news seen): "served / rendered" when a page kept for
        its user is served (the second figure: rendering it anew), else one figure."""
        from webapp.extensions import db
        from webapp.models import User

        client = self.app.test_client()
        headers = {"Authorization": f"Bearer {token}"} if role == "api" else {}
        if role in ROLES:
            with self.app.app_context():
                session_id = db.session.scalar(
                    select(User).where(User.email == ROLES[role])).get_id()
                db.session.remove()
            with client.session_transaction() as session:
                session["_user_id"] = session_id
                session["_fresh"] = True
        # Every engine: the app's, and on PostgreSQL the one kept pages' keys are read through.
        engine = Engine
        counted: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
                counted.append(statement)

        def counted_get() -> int:
            counted.clear()
            sa_event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(path, headers=headers)
            finally:
                sa_event.remove(engine, "before_cursor_execute", count)
            if response.status_code != 200:
                raise SystemExit(f"{path} as {role} answered {response.status_code} "
                                 "in-process")
            return len(counted)

        client.get(path, headers=headers)
        client.get(path, headers=headers)
        served = counted_get()
        self.app.config["KEEP_USER_PAGES"] = False
        try:
            rendered = counted_get()
        finally:
            self.app.config["KEEP_USER_PAGES"] = True
        return str(served) if served == rendered else f"{served} / {rendered}"

    def close(self) -> None:
        from webapp.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------- signing in


def sign_in(base: str, email: str) -> str:
    """The session cookie of `email`, signed in through the /login form, once the page it
    leads to has been shown."""
    browser = requests.Session()
    browser.headers["User-Agent"] = AGENT
    form = browser.get(f"{base}/login", timeout=30).text
    match = CSRF_RE.search(form)
    if not match:
        raise SystemExit("no CSRF token on /login")
    answer = browser.post(f"{base}/login", data={
        "email": email, "password": PASSWORD, "csrf_token": match.group(1) or match.group(2),
    }, allow_redirects=False, timeout=60)
    if answer.status_code != 302 or "session" not in browser.cookies:
        raise SystemExit(f"signing in as {email} failed: {answer.status_code}")
    # The page the sign-in leads to shows its welcome and takes it out of the session, as
    # a browser's next page would: wrk sends the same cookie for every request after.
    browser.get(f"{base}{answer.headers['Location']}" if answer.headers["Location"]
                .startswith("/") else answer.headers["Location"], timeout=60)
    return f"session={browser.cookies['session']}"


# --------------------------------------------------------------------------- one pass


def run_pass(database: str, scale: int, url: str, *, redis_url: str | None, bare_base: str,
             seconds: int, folder: Path, largest: bool) -> Pass:
    figures = Pass(database, scale)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(url, redis_url, base)
    loading = environment(url, redis_url, base, config="development")
    began = time.monotonic()
    flask(loading, "db", "upgrade")
    flask(loading, "demo", "--scale", str(scale))
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("ANALYZE")
    figures.load_seconds = time.monotonic() - began
    print(f"\n{database}, demo at {scale}x: loaded in {figures.load_seconds:.0f} s", flush=True)
    local = InProcess(env)
    try:
        subjects = local.subjects()
        token = local.api_token()
        paths = {page: page.path.format(**subjects) for page in PAGES}
        statements = {page: local.statements(paths[page], page.role, token) for page in PAGES}
    finally:
        local.close()
    with gunicorn("wsgi:app", env, port, folder / f"gunicorn-{database}-{scale}.log") as server:
        # A browser sends its cookie with the User-Agent it signed in with (Flask-Login's
        # session protection compares them).
        headers = {role: {"Cookie": sign_in(base, email), "User-Agent": AGENT}
                   for role, email in ROLES.items()}
        headers["anonymous"] = {}
        headers["api"] = {"Authorization": f"Bearer {token}"}
        for page in PAGES:
            # Every page answers 200 as its role before it is driven (a redirect to the
            # sign-in page would count as an answer for wrk), and warms both workers.
            for _ in range(2):
                answer = requests.get(base + paths[page], headers=headers[page.role],
                                      allow_redirects=False, timeout=120)
                if answer.status_code != 200:
                    raise SystemExit(f"{page.label} ({paths[page]}) as {page.role} answered "
                                     f"{answer.status_code}")
        figures.bare.append(drive(bare_base, seconds, {}).rps)
        for page in PAGES:
            load = drive(base + paths[page], seconds, headers[page.role])
            figures.results.append(Result(page, load, statements[page], 0.0))
            print(f"  {page.label:<22} {load.rps:8.1f} req/s", flush=True)
        figures.bare.append(drive(bare_base, seconds, {}).rps)
        bare = sum(figures.bare) / len(figures.bare)
        for result in figures.results:
            result.bare_rps = bare
        if largest:
            kpi = next(p for p in PAGES if p.family == "kpi")
            figures.kpi_alone_p50 = rendered_p50(base + paths[kpi], headers[kpi.role])
        figures.rss_kib = workers_rss_kib(server.pid)
    return figures


def print_pass(figures: Pass) -> None:
    bare = sum(figures.bare) / len(figures.bare)
    print(f"\n{figures.database}, demo at {figures.scale}x: bare route {bare:,.0f} req/s "
          f"({' and '.join(f'{b:,.0f}' for b in figures.bare)}); workers' RSS "
          f"{figures.rss_kib / 1024:.0f} MiB\n")
    rows = []
    for r in figures.results:
        ratio = (f"{r.ratio:.1f}x time" if r.page.family == "api" else f"{r.ratio:.3f}")
        rows.append((r.page.label, r.page.role, f"{r.load.rps:,.1f}", f"{r.load.p50 * 1000:,.0f}",
                     f"{r.load.p99 * 1000:,.0f}", r.statements, ratio,
                     r.load.errors or ""))
    print_table(("page", "as", "req/s", "p50 ms", "p99 ms", "SQL", "vs bare", "errors"), rows,
                left={0, 1})


# --------------------------------------------------------------------------- targets


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_targets(passes: list[Pass]) -> None:
    print("\nTargets (issue 22), per database:\n")
    rows = []
    for database in dict.fromkeys(p.database for p in passes):
        mine = {p.scale: p for p in passes if p.database == database}
        small, large = mine.get(1), mine.get(max(mine))
        if large is None or large.scale == 1:
            large = None
        for scale, figures in sorted(mine.items()):
            for r in figures.results:
                if r.page.family == "public":
                    rows.append((database, f"{r.page.label} at {scale}x >= {PUBLIC_FLOOR}x bare",
                                 f"{r.ratio:.3f}", verdict(r.ratio >= PUBLIC_FLOOR)))
        if large is not None:
            before = {r.page: r for r in small.results} if small else {}
            for r in large.results:
                if r.page.family == "list":
                    rows.append((database, f"{r.page.label} at {large.scale}x >= "
                                 f"{LIST_FLOOR}x bare", f"{r.ratio:.3f}",
                                 verdict(r.ratio >= LIST_FLOOR)))
                    if r.page in before:
                        # Each pass's throughput as a share of its own bare route's: the
                        # machine's speed drifts between passes taken minutes apart.
                        kept = r.ratio / before[r.page].ratio
                        rows.append((database, f"{r.page.label}: {large.scale}x within "
                                     f"{LIST_DRIFT:.0%} of 1x (x bare)", f"{kept:.2f} of 1x",
                                     verdict(kept >= 1 - LIST_DRIFT)))
            if large.kpi_alone_p50 is not None:
                rows.append((database, f"KPI dashboard at {large.scale}x: p50 <= "
                             f"{KPI_P50 * 1000:.0f} ms (one user, rendered)",
                             f"{large.kpi_alone_p50 * 1000:.0f} ms",
                             verdict(large.kpi_alone_p50 <= KPI_P50)))
        for scale, figures in sorted(mine.items()):
            for r in figures.results:
                if r.page.family == "api":
                    rows.append((database, f"{r.page.label} at {scale}x <= {API_CEILING:.0f}x "
                                 "bare's time", f"{r.ratio:.1f}x", verdict(r.ratio <= API_CEILING)))
        if small is not None and large is not None and small.rss_kib:
            growth = large.rss_kib / small.rss_kib - 1
            rows.append((database, f"workers' RSS 1x -> {large.scale}x grows <= "
                         f"{RSS_GROWTH:.0%}", f"{small.rss_kib / 1024:.0f} -> "
                         f"{large.rss_kib / 1024:.0f} MiB ({growth:+.0%})",
                         verdict(growth <= RSS_GROWTH)))
    print_table(("database", "target", "figure", "verdict"), rows, left={0, 1, 3})
    missed = sum(1 for row in rows if row[3] == "MISSED")
    print(f"\n{len(rows) - missed} of {len(rows)} targets met"
          + ("." if not missed else f", {missed} MISSED.")
          + " The 200-way race (>= 100 decided per second on PostgreSQL) is bench/race.py's,"
          " which make bench-http runs next.")


# --------------------------------------------------------------------------- main


def redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # any failure means: run without Redis
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="SQLite, the demo at 1x, every page for 1 s: each must answer 200")
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES,
                        help="the PostgreSQL server a throwaway database is made on "
                             f"(default {DEFAULT_POSTGRES})")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument("--redis", metavar="URL", default=DEFAULT_REDIS,
                        help=f"Redis for the app, if it answers (default {DEFAULT_REDIS}); "
                             "'' for none")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10],
                        help="demo sizes (default: 1 10)")
    parser.add_argument("--seconds", type=int, default=4, help="wrk's time per page (default 4)")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: sh .ci/system-packages wrk:wrk", file=sys.stderr)
        return 2
    databases = (["SQLite"] if options.smoke or options.sqlite_only
                 else ["PostgreSQL"] if options.postgres_only else ["SQLite", "PostgreSQL"])
    scales = [1] if options.smoke else options.scales
    seconds = 1 if options.smoke else options.seconds
    redis_url = options.redis if options.redis and redis_answers(options.redis) else None
    print(f"gunicorn -w 2 -k sync, wrk -t2 -c32 -d{seconds:g}s; {os.cpu_count()} CPUs; "
          f"Redis: {redis_url or 'none'}", flush=True)
    began = time.monotonic()
    passes = []
    with tempfile.TemporaryDirectory(prefix="beachhead-http-") as tmp:
        folder = Path(tmp)
        bare_port = free_port()
        with gunicorn("bench.bare_app:app", environment("sqlite://", None, ""), bare_port,
                      folder / "bare.log"):
            for database in databases:
                for scale in scales:
                    name = f"beachhead_http_{os.getpid()}_{scale}"
                    with throwaway_database(database, options.postgres, folder, name) as url:
                        figures = run_pass(database, scale, url, redis_url=redis_url,
                                           bare_base=f"http://127.0.0.1:{bare_port}/",
                                           seconds=seconds, folder=folder,
                                           largest=scale > 1 and scale == max(scales))
                    passes.append(figures)
                    print_pass(figures)
    errors = sum(r.load.errors for p in passes for r in p.results)
    print_targets(passes)
    print(f"\nTook {time.monotonic() - began:.0f} s.")
    if errors:
        print(f"{errors} answers were errors (non-2xx/3xx or timeouts): see the tables.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

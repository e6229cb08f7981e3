"""The route fuzzer (tests/fuzzing.py) run longer: requests per second and the share of
requests that got past CSRF and the access checks into validation, per role.

    .venv/bin/python bench/route_fuzz.py                   # SQLite, 5 examples per route
    .venv/bin/python bench/route_fuzz.py --examples 20
    .venv/bin/python bench/route_fuzz.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/fuzzbench

The PostgreSQL database must exist and be empty or migrated; its rows are deleted at the
end. Prints the 5xx, leaks and broken stored text it found, as the test would fail on.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import demo_site  # noqa: F401 - puts the project root on the import path

from tests.conftest import IsolatedClient
from tests.factories import Factory
from tests.fuzzing import ROLES, Report, Walker, broken_stored_text, seed
from tests.live import committed_app
from webapp.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5, help="per endpoint and method")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{scratch}/fuzz.db"
        with committed_app(url, migrate=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=9,
                           API_RATE_LIMIT=1_000_000) as app:
            app.test_client_class = IsolatedClient
            world = seed(Factory())
            db.session.commit()
            report = Report()
            walker = Walker(app, world, report, args.examples, fresh_reads=db.session.commit)
            started = time.perf_counter()
            try:
                for role in ROLES:
                    walker.walk(role)
            finally:
                walker.close()
            elapsed = time.perf_counter() - started
            db.session.commit()
            broken = broken_stored_text()
    sent = sum(t.sent for t in report.tallies.values())
    print(f"{'postgresql' if args.postgres else 'sqlite'}, {args.examples} examples per "
          f"route: {sent} requests in {elapsed:.0f} s ({sent / elapsed:.0f}/s overall)")
    print("role       requests  per second  reached validation (endpoints it may use)")
    for role in ROLES:
        tally, usable = report.tallies[role], report.on_usable[role]
        print(f"{role:10} {tally.sent:8} {tally.sent / tally.seconds:11.0f}  "
              f"{report.share(role):7.1%} of {usable.sent} "
              f"({len(report.usable[role])} endpoint-methods)")
    for title, found in (("5xx", report.server_errors), ("leaks", report.leaks),
                         ("broken stored text", broken)):
        print(f"\n{title}: {len(found)}")
        for line in found[:40]:
            print("  " + line[:300])


if __name__ == "__main__":
    main()

"""What a page's language costs: the event list (a visitor's) and "My registrations" (an
SME's), rendered in English, French and Greek, beside a bare Flask route in the same run.

    .venv/bin/python bench/languages.py                  # 150 requests a page and language
    .venv/bin/python bench/languages.py --requests 400

In-process through Flask's test client on the demo (SQLite), every page rendered (the
visitors' kept pages are emptied before each request, and signed-in pages are not kept):
what the catalogue look-ups and the formatting for a language cost, not what a kept page
costs (the same in every language). The languages are taken in turn, request by
request, so that the machine's drift falls on all of them alike. Per page: mean and
median ms, the ratio of its time to the bare route's, and each language's extra time
against English's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import tables  # noqa: E402
from bench.demo_site import demo_app  # noqa: E402
from webapp import demo, http_cache  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import User  # noqa: E402

LANGUAGES = ("en", "fr", "el")
COLUMNS = ["page", "language", "mean ms", "p50 ms", "x bare time", "vs English"]


def _client(app, user_id: str | None):
    client = app.test_client()
    if user_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
    return client


def measure(requests: int) -> list[tuple]:
    with demo_app() as app:
        app.add_url_rule("/bench-bare", "bench_bare", lambda: "ok")
        with app.app_context():
            sme = db.session.scalar(db.select(User).where(
                User.email == demo.DEMO_SME.email)).get_id()
            db.session.remove()
        visitor, member = _client(app, None), _client(app, sme)
        kept = http_cache.page_cache(app)

        def event_list(language: str):
            kept.clear()
            return visitor.get("/events", headers={"Accept-Language": language})

        pages = {
            "bare Flask route": lambda language: visitor.get("/bench-bare"),
            "event list (visitor)": event_list,
            "my registrations (SME)": lambda language: member.get(
                "/account/registrations", headers={"Accept-Language": language}),
        }
        times: dict[tuple[str, str], list[float]] = {
            (page, language): [] for page in pages for language in LANGUAGES}
        for page, get in pages.items():
            for language in LANGUAGES:  # warm: templates, catalogues, locale data
                for _ in range(5):
                    response = get(language)
                    assert response.status_code == 200, (page, response.status_code)
                    if page != "bare Flask route":
                        assert f'<html lang="{language}"' in response.get_data(as_text=True)
        gc.collect()
        gc.disable()
        try:
            for _ in range(requests):
                for page, get in pages.items():
                    for language in LANGUAGES:
                        start = time.perf_counter()
                        get(language)
                        times[(page, language)].append(time.perf_counter() - start)
        finally:
            gc.enable()
    bare = statistics.fmean(
        t for language in LANGUAGES for t in times[("bare Flask route", language)])
    rows = []
    for page in pages:
        if page == "bare Flask route":
            rows.append((page, "-", f"{bare * 1000:.2f}", "", "1.0x", ""))
            continue
        english = statistics.fmean(times[(page, "en")])
        for language in LANGUAGES:
            mean = statistics.fmean(times[(page, language)])
            rows.append((
                page, language, f"{mean * 1000:.2f}",
                f"{statistics.median(times[(page, language)]) * 1000:.2f}",
                f"{mean / bare:.1f}x",
                "" if language == "en" else f"{(mean - english) / english:+.1%}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=150,
                        help="requests per page and language (default 150)")
    options = parser.parse_args()
    tables.print_table(COLUMNS, measure(options.requests), left={0, 1})


if __name__ == "__main__":
    main()

"""Time a personal calendar feed of 200 events and their sessions.

    .venv/bin/python bench/feed.py
    .venv/bin/python bench/feed.py --events 200 --sessions 3 --repeat 30

An app on its own throwaway SQLite file (schema through the migrations) gets one member
approved for that many missions, spread over Singapore, New York, Madrid and Copenhagen
and over two years (so each VTIMEZONE spans summer and winter), each with its agenda.
Three timings, median milliseconds over the runs:
- render: `services.calendar.feed_calendar(user).to_ical()`, what the feed view does
  (database reads, building the components, serializing);
- request: GET /calendar/<token>.ics through the Flask test client;
- floor: icalendar's own `to_ical()` of the same calendar, built once beforehand.
The goal is render within 2x of the floor.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import icalendar  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import (  # noqa: E402
    AuditEntry,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Registration,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S  # noqa: E402
from webapp.services import calendar  # noqa: E402

ZONES = ["Asia/Singapore", "America/New_York", "Europe/Madrid", "Europe/Copenhagen"]


def build(events: int, sessions: int) -> int:
    member = User(email="feed@bench.example", name="Feed Reader", timezone="Europe/Brussels")
    db.session.add(member)
    start = utcnow().replace(microsecond=0, second=0, minute=0)
    for n in range(events):
        begins = start + timedelta(days=3 * n + 1)
        event = Event(
            kind=EventKind.OUTBOUND_MISSION, title=f"Mission {n}: smart mobility, energy; water",
            slug=f"mission-{n}", summary="A week of visits, B2B meetings and receptions.",
            description="Agenda, venues and contacts.\n\nBring business cards.",
            target_country="SG", target_city="Singapore", venue="Marina Bay Sands, Hall B",
            timezone=ZONES[n % len(ZONES)], starts_at=begins,
            ends_at=begins + timedelta(days=2), status=EventStatus.PUBLISHED,
        )
        for i in range(sessions):
            event.sessions.append(EventSession(
                title=f"Visit {i}", venue="Innovation District", position=i,
                starts_at=begins + timedelta(hours=6 * i),
                ends_at=begins + timedelta(hours=6 * i + 2),
            ))
        reg = Registration(event=event, user=member, status=S.APPROVED)
        db.session.add(reg)
        db.session.flush()
        db.session.add(AuditEntry(action="registration.approved", registration_id=reg.id,
                                  event_id=event.id, from_status="submitted",
                                  to_status="approved"))
    db.session.commit()
    return member.id


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm caches (VTIMEZONE generation, templates, the SQL compiler)
    times = []
    for _ in range(repeat):
        began = perf_counter()
        run()
        times.append((perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="beachhead-bench-calendar-") as folder:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db")
        with app.app_context():
            upgrade()
            user_id = build(args.events, args.sessions)
            user = db.session.get(User, user_id)
            token = calendar.feed_token(user)
            prebuilt = calendar.feed_calendar(user)
            entries = len(prebuilt.walk("VEVENT"))
            size = len(prebuilt.to_ical())

            def render() -> bytes:
                db.session.expire_all()  # read from the database each time, as a request does
                return calendar.feed_calendar(db.session.get(User, user_id)).to_ical()

            render_ms = median_ms(render, args.repeat)
            floor_ms = median_ms(prebuilt.to_ical, args.repeat)
        client = app.test_client()
        request_ms = median_ms(lambda: client.get(f"/calendar/{token}.ics"), args.repeat)
    print(f"python {platform.python_version()}, icalendar {icalendar.__version__}")
    print(f"feed: {args.events} events, {entries} VEVENTs, {size / 1024:.0f} KiB")
    print(f"render  {render_ms:8.1f} ms  (feed_calendar + to_ical)")
    print(f"request {request_ms:8.1f} ms  (GET /calendar/<token>.ics)")
    print(f"floor   {floor_ms:8.1f} ms  (to_ical of the prebuilt calendar)")
    print(f"ratio   {render_ms / floor_ms:8.2f} x  (goal: within 2x)")


if __name__ == "__main__":
    main()

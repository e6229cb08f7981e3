"""The marketplace's search and suggested matches at scale, against a bare Flask route in
the same run.

    .venv/bin/python bench/marketplace.py                  # SQLite (a throwaway file)
    .venv/bin/python bench/marketplace.py --postgres URL   # an empty PostgreSQL database

An event's marketplace is built in bulk at two sizes: 30 participants with 150
opportunities (the size of a demo mission's), then 300 with 1,500 (10x), with their
sectors, technologies, tagged offers and requests, and a few open meeting requests.
Timed, beside the bare route `/bench-bare`, all through the same Flask test client: the
marketplace page as a participant opens it (its suggested matches with their reasons and
the first page of participants), the page searched by a text and by an opportunity type;
then the service calls behind it (`services.marketplace.search` without a filter, with a
text and with a type filter; `services.marketplace.suggestions` for every participant in
turn), each in a request context of its own with a fresh database session, as a request
runs them. Per row: mean and p95 milliseconds, the ratio of the mean to the bare route's,
and the SQL statements sent.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sqlite3
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from time import perf_counter

from demo_site import migrated_app  # also puts the project on the import path
from flask import Flask
from flask.testing import FlaskClient
from pages import BARE_PATH, TRANSACTION_CONTROL, add_bare_route
from sqlalchemy import create_engine, insert, inspect, select
from sqlalchemy import event as sa_event

from webapp.extensions import db
from webapp.inputs.matchmaking import MatchmakingIn
from webapp.models import (
    Event,
    EventKind,
    EventStatus,
    Helix,
    MeetingRequest,
    Opportunity,
    OpportunityType,
    Organization,
    OrganizationSize,
    Participant,
    ParticipantType,
    Partner,
    PartnerKind,
    Registration,
    User,
)
from webapp.models import MeetingRequestStatus as M
from webapp.models import RegistrationStatus as S
from webapp.services import marketplace, matchmaking

TAGS = [
    "smart lighting", "IoT", "LoRaWAN", "5G", "digital twin", "mobility data", "e-bikes",
    "charging stations", "smart parking", "air quality", "noise sensors", "water metering",
    "leak detection", "waste sorting", "circular economy", "energy storage", "solar",
    "heat pumps", "district heating", "building retrofit", "BIM", "drones", "computer vision",
    "edge computing", "cybersecurity", "open data", "GIS", "traffic management",
    "public transport", "micromobility", "last-mile logistics", "cold chain", "agritech",
    "vertical farming", "food waste", "telemedicine", "assisted living", "e-health",
    "citizen engagement", "participatory budgeting", "blockchain", "fintech", "insurtech",
    "edtech", "AR/VR", "robotics", "hydrogen", "microgrids", "smart meters", "demand response",
    "urban greening", "flood sensing", "stormwater", "street furniture", "wayfinding",
    "accessibility", "tourism data", "event safety", "crowd counting", "Éclairage public",
]
SECTORS = ["Energy", "Mobility", "Water", "Health", "Construction", "ICT", "Logistics",
           "Agrifood", "Tourism", "Environment", "Finance", "Public sector"]
COUNTRIES = ["BE", "DK", "FR", "DE", "ES", "IT", "NL", "PL", "SE", "EE", "SG", "US"]
TYPES = ["sme", "sme", "sme", "research", "government", "investor", "host_stakeholder"]
# What a visitor types: a tag many opportunities hold, typed without its case.
TEXT = "smart lighting"


def build(app: Flask, participants: int, opportunities: int, label: str) -> int:
    """An event with matchmaking on and `participants` consenting participants sharing
    `opportunities` offers and requests, inserted in bulk; its id."""
    rng = random.Random(participants)
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        partner = Partner(name=f"Bench cluster {label}", short_name=f"B{label}",
                          slug=f"bench-cluster-{label}", kind=PartnerKind.CLUSTER,
                          is_member=True, country="BE", city="Gent")
        event = Event(kind=EventKind.INBOUND_MISSION, title=f"Bench marketplace {label}",
                      slug=f"bench-marketplace-{label}", target_country="ES",
                      timezone="Europe/Madrid", starts_at=now + timedelta(days=30),
                      ends_at=now + timedelta(days=32), status=EventStatus.PUBLISHED)
        event.organizers.append(partner)
        db.session.add_all([partner, event])
        db.session.flush()
        matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=None)
        # One cell of the matrix closed, as organizers do: investors do not ask investors.
        matchmaking.set_rule(event.id, "investor", "investor", False, actor=None)
        types = dict(db.session.execute(select(ParticipantType.key, ParticipantType.id).where(
            ParticipantType.matchmaking.has(event_id=event.id))).all())
        kinds = dict(db.session.execute(select(OpportunityType.key, OpportunityType.id).where(
            OpportunityType.matchmaking.has(event_id=event.id))).all())
        db.session.execute(insert(Organization), [dict(
            name=f"{rng.choice(['Lumière', 'Søren', 'Nova', 'Urban', 'Green', 'Civic'])} "
                 f"{label} {n}", country=rng.choice(COUNTRIES),
            sector=rng.choice(SECTORS), size=OrganizationSize.SMALL, helix=Helix.INDUSTRY,
            home_cluster_id=partner.id, created_at=now) for n in range(participants)])
        orgs = db.session.scalars(select(Organization.id).where(
            Organization.home_cluster_id == partner.id).order_by(Organization.id)).all()
        db.session.execute(insert(User), [dict(
            email=f"market-{label}-{n}@bench.example", name=f"Delegate {label} {n}",
            organization_id=org, created_at=now) for n, org in enumerate(orgs)])
        users = db.session.scalars(select(User.id).where(
            User.email.like(f"market-{label}-%")).order_by(User.id)).all()
        db.session.execute(insert(Registration), [dict(
            event_id=event.id, user_id=user, status=S.APPROVED,
            responsible_partner_id=partner.id, applied_at=now, updated_at=now)
            for user in users])
        regs = db.session.scalars(select(Registration.id).where(
            Registration.event_id == event.id).order_by(Registration.id)).all()
        db.session.execute(insert(Participant), [dict(
            event_id=event.id, registration_id=reg, participant_type_id=types[TYPES[n % 7]],
            consent_given_at=now, consent_version="1",
            sectors="\n".join(rng.sample(SECTORS, rng.randint(1, 3))),
            technologies="\n".join(rng.sample(TAGS, rng.randint(1, 4))),
            created_at=now, updated_at=now) for n, reg in enumerate(regs)])
        people = db.session.scalars(select(Participant.id).where(
            Participant.event_id == event.id).order_by(Participant.id)).all()
        db.session.execute(insert(Opportunity), [dict(
            participant_id=people[n % len(people)],
            opportunity_type_id=kinds["offer" if n % 2 == 0 else "request"],
            title=f"{'Offer' if n % 2 == 0 else 'Request'} {n}: {rng.choice(TAGS)}",
            text=f"Pilots of {rng.choice(TAGS)} with {rng.choice(TAGS)} in city districts.",
            tags="\n".join(rng.sample(TAGS, rng.randint(2, 4))), created_at=now, updated_at=now)
            for n in range(opportunities)])
        # A few open requests, which suggestions leave out.
        pairs = {tuple(sorted(rng.sample(people, 2))) for _ in range(participants // 2)}
        db.session.execute(insert(MeetingRequest), [dict(
            event_id=event.id, requester_id=low, receiver_id=high, pair_low=low,
            pair_high=high, status=M.REQUESTED, created_at=now, updated_at=now,
            preferred_slots=[]) for low, high in pairs])
        db.session.commit()
        event_id = event.id
        if db.engine.dialect.name == "postgresql":
            db.session.connection().exec_driver_sql("ANALYZE")
            db.session.commit()
        db.session.remove()
    return event_id


@contextmanager
def bench_app(url: str | None) -> Iterator[Flask]:
    """The app on a throwaway SQLite file, or on the empty PostgreSQL database at `url`
    (its schema taken down again afterwards)."""
    if url:
        engine = create_engine(url)
        if set(inspect(engine).get_table_names()) - {"alembic_version"}:
            sys.exit(f"{url} is not empty: give an empty database")
        engine.dispose()
    with migrated_app(url, take_down=True) as app:
        add_bare_route(app)
        yield app


class Counter:
    def __init__(self, app: Flask):
        with app.app_context():
            self.engine = db.engine
        self.count = 0
        sa_event.listen(self.engine, "before_cursor_execute", self.record)

    def record(self, conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.count += 1


def timed(counter: Counter, calls: list[Callable[[], object]]) -> tuple[list[float], set]:
    seconds, statements = [], set()
    for call in calls:
        counter.count = 0
        began = perf_counter()
        call()
        seconds.append(perf_counter() - began)
        statements.add(counter.count)
    return seconds, statements


def in_request(app: Flask, work: Callable[[], object]) -> Callable[[], object]:
    """`work` as a request runs it: a context of its own, a fresh session."""
    def call():
        with app.test_request_context():
            try:
                return work()
            finally:
                db.session.remove()
    return call


def viewer_search(participant_id: int, event_id: int, **filters) -> Callable[[], object]:
    def work():
        viewer = db.session.get(Participant, participant_id)
        page = marketplace.search(viewer, event_id, **filters)
        # What the page will show: names, types, opportunities.
        return [(item.participant.registration.user.organization.name,
                 item.participant.participant_type.key,
                 [o.opportunity_type.key for o in item.opportunities]) for item in page]
    return work


def cold(work: Callable[[], object]) -> Callable[[], object]:
    """`work` as the first search of a process runs it: every text folded afresh (the
    service keeps the folded texts; see services.marketplace)."""
    def call():
        for cached in (marketplace._folded, marketplace._searched, marketplace._tag_map):
            cached.cache_clear()
        return work()
    return call


def viewer_suggestions(participant_id: int) -> Callable[[], object]:
    def work():
        found = marketplace.suggestions(db.session.get(Participant, participant_id))
        return [(s.participant.registration.user.organization.name, s.reasons) for s in found]
    return work


def measure(app: Flask, event_id: int, repeat: int) -> list[tuple[str, list[float], set]]:
    with app.app_context():
        people = db.session.scalars(select(Participant.id).where(
            Participant.event_id == event_id).order_by(Participant.id)).all()
        db.session.remove()
    viewer = people[0]
    client = app.test_client()
    page = participant_client(app, viewer)
    base = f"/events/{event_id}/marketplace/"
    counter = Counter(app)
    rows = [
        ("bare Flask route", lambda: client.get(BARE_PATH)),
        ("page, suggestions and page 1", lambda: shown(page.get(base))),
        (f"page, searched '{TEXT}'", lambda: shown(page.get(base, query_string={"q": TEXT}))),
        ("page, type 'offer'", lambda: shown(page.get(base, query_string={"type": "offer"}))),
        ("search, no filter", in_request(app, viewer_search(viewer, event_id))),
        (f"search, text '{TEXT}'", in_request(app, viewer_search(viewer, event_id, text=TEXT))),
        ("search, type 'offer'", in_request(app, viewer_search(
            viewer, event_id, opportunity_type="offer"))),
        ("search, text, nothing folded yet", in_request(app, cold(viewer_search(
            viewer, event_id, text=TEXT)))),
    ]
    for _, call in rows:  # warm up
        for _ in range(10):
            call()
    gc.collect()
    gc.freeze()
    results = {label: ([], set()) for label, _ in rows}
    for _ in range(repeat):  # interleaved, so a burst of other work lands on all alike
        for label, call in rows:
            seconds, statements = timed(counter, [call] * 5)
            results[label][0].extend(seconds)
            results[label][1].update(statements)
    per_participant = [in_request(app, viewer_suggestions(pid)) for pid in people]
    for call in per_participant[:10]:
        call()
    seconds, statements = timed(counter, per_participant)
    gc.unfreeze()
    sa_event.remove(counter.engine, "before_cursor_execute", counter.record)
    return ([(label, *results[label]) for label, _ in rows]
            + [(f"suggestions, each of the {len(people)}", seconds, statements)])


def participant_client(app: Flask, participant_id: int) -> FlaskClient:
    """A client signed in as the participant, by its session as a browser holds it; its
    pages must answer 200 (a refusal would time an error page)."""
    client = app.test_client()
    with app.app_context():
        user = db.session.get(Participant, participant_id).registration.user
        user_id = user.get_id()
        event_id = db.session.get(Participant, participant_id).event_id
        db.session.remove()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    status = client.get(f"/events/{event_id}/marketplace/").status_code
    if status != 200:
        sys.exit(f"the marketplace page answered {status}")
    return client


def shown(response):
    if response.status_code != 200:
        sys.exit(f"{response.request.path} answered {response.status_code}")
    return response


def print_table(title: str, figures) -> None:
    bare = statistics.fmean(figures[0][1])
    print(f"\n{title}")
    print(f"{'call':<36}{'mean ms':>9}{'p95 ms':>9}{'x bare':>8}{'queries':>9}")
    for label, seconds, statements in figures:
        mean = statistics.fmean(seconds)
        p95 = statistics.quantiles(seconds, n=20)[18]
        queries = "-".join(str(n) for n in sorted({min(statements), max(statements)}))
        print(f"{label:<36}{mean * 1000:>9.2f}{p95 * 1000:>9.2f}{mean / bare:>8.1f}"
              f"{queries:>9}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=20, help="interleaved rounds of 5 (20)")
    options = parser.parse_args()
    with bench_app(options.postgres) as app:
        with app.app_context():
            dialect = db.engine.dialect.name
        version = (f"SQLite {sqlite3.sqlite_version}" if dialect == "sqlite" else "PostgreSQL")
        print(f"Python {platform.python_version()}, {version}; service calls in a request "
              f"context each, the bare route through the Flask test client")
        statements = {}
        for label, participants, opportunities in (("1x", 30, 150), ("10x", 300, 1500)):
            began = perf_counter()
            event_id = build(app, participants, opportunities, label)
            print(f"\nBuilt {participants} participants, {opportunities:,} opportunities in "
                  f"{perf_counter() - began:.1f} s.")
            figures = measure(app, event_id, options.repeat)
            print_table(f"{label}: {participants} participants, {opportunities:,} "
                        "opportunities", figures)
            statements[label] = [max(s) for _, _, s in figures]
    if statements["10x"] != statements["1x"]:
        print("\nThe statements per call grew with the marketplace.", file=sys.stderr)
        return 1
    print("\nNo call sends more SQL statements at 10x.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The demo at a season's scale: `flask --app wsgi demo --scale N`.

`--scale 1` is the demo itself (webapp/demo.py). Each further step of the scale adds, on
top of it, about as much again as a year and a half of the partnership's activity: 110
SMEs of the ten member clusters (with one to three people each), a dozen organizations
of the target regions, about 110 events between 2020 and two years ahead (outbound,
fact-finding and inbound missions, each mission's promotional webinar, stand-alone
webinars, workshops, matchmaking days and receptions), about 2,200 registrations in every
status with the audit history `services.registrations.record_history` writes, the
answers missions ask for, check-ins and join-link attendance, both survey rounds of the
past missions, and a dozen agreements. `--scale 10` gives about 1,000 events and 20,000
registrations.

The rows are those the services would have written (folded `search_key`s, unique slugs,
the audit entries of every creation and transition, approved seats within capacity and
quotas, waiting-list and decision instants, UTC instants), inserted in bulk through
SQLAlchemy Core for speed. Each step of the scale has its own seeded generator and its own
names, so the content is deterministic, and loading a larger scale later adds only the
steps that are missing (a step is recognized by its first organization). Badge codes and
join tokens stay random, as they are everywhere else.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from . import collation, demo
from .extensions import db
from .models import (
    MISSION_KINDS,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Answer,
    Attendance,
    AttendanceSource,
    AuditEntry,
    Event,
    EventKind,
    EventQuota,
    EventRole,
    EventSession,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    Question,
    Registration,
    Role,
    RoleGrant,
    SessionKind,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    User,
    event_hosts,
    event_organizers,
)
from .models import RegistrationStatus as S
from .models.event import DEFAULT_REMINDER_OFFSETS
from .models.search import country_names, key
from .models.types import new_badge_code, new_join_token
from .services.audit import plain
from .services.questions import MISSION_DEFAULTS
from .services.registrations import DECIDED, REOPENABLE
from .services.surveys import OFFSETS, REMIND_AFTER
from .unit import write_step

SMES_PER_CLUSTER = 11  # per step of the scale, as many as the demo has
TARGET_ORGANIZATIONS = 12
MISSIONS = 30  # each with its promotional webinar
WEBINARS = 14
LOCAL_EVENTS = 35  # workshops, matchmaking days, receptions in the clusters' cities
REGISTRATIONS = 2200
AGREEMENTS = 12
DEMO_SME_EVENTS = 6  # the demo SME's own registrations per step: "My registrations" grows
FIRST_DAY = date(2020, 1, 6)
AHEAD = timedelta(days=730)
CANCELLED_SHARE = 0.04
DRAFT_SHARE = 0.1  # of the events more than two months ahead
TURNOUT = {"mission": 1.0, "local": 0.85, "webinar": 0.75}
EVENT_CANCELLED = "The event was cancelled."

MEMBER_ZONES = {"DK": "Europe/Copenhagen", "BE": "Europe/Brussels", "NL": "Europe/Amsterdam",
                "ES": "Europe/Madrid", "FR": "Europe/Paris", "IT": "Europe/Rome",
                "PT": "Europe/Lisbon", "PL": "Europe/Warsaw", "GR": "Europe/Athens",
                "FI": "Europe/Helsinki"}


class Destination(NamedTuple):
    country: str
    city: str
    zone: str
    hosts: tuple[str, ...]  # beachhead slugs
    market: str
    weight: int
    quarters: tuple[str, ...]  # for the names of the region's organizations
    legal_form: str


DESTINATIONS = (
    Destination("SG", "Singapore", "Asia/Singapore", ("ipi-singapore",), "Southeast Asia", 6,
                ("Tanjong", "Bedok", "Jurong", "Punggol", "Kallang", "Tampines"), "Pte. Ltd."),
    Destination("US", "Boston", "America/New_York", ("necec",), "New England", 3,
                ("Back Bay", "Fenway", "Seaport", "Beacon Hill", "Charlestown"), "Inc."),
    Destination("US", "New York", "America/New_York", ("bridge-innovation-partners",),
                "New York", 3, ("Hudson", "Flatiron", "Astoria", "Red Hook", "Harlem"), "LLC"),
    Destination("US", "Boston and New York", "America/New_York",
                ("bridge-innovation-partners", "necec"), "the US East Coast", 3,
                ("Atlantic", "Bay State", "Empire", "Charles River"), "Inc."),
    Destination("JP", "Tokyo", "Asia/Tokyo", (), "Japan", 1,
                ("Shibuya", "Ginza", "Koto", "Meguro"), "K.K."),
    Destination("KR", "Seoul", "Asia/Seoul", (), "Korea", 1,
                ("Gangnam", "Mapo", "Songdo", "Jongno"), "Co., Ltd."),
    Destination("CA", "Toronto", "America/Toronto", (), "Canada", 1,
                ("Yonge", "Liberty Village", "Don Valley", "Junction"), "Inc."),
    Destination("IN", "Bengaluru", "Asia/Kolkata", (), "India", 1,
                ("Koramangala", "Whitefield", "Indiranagar", "Jayanagar"), "Pvt. Ltd."),
    Destination("AE", "Dubai", "Asia/Dubai", (), "the Gulf", 1,
                ("Jumeirah", "Deira", "Al Barsha", "Creek"), "LLC"),
    Destination("BR", "São Paulo", "America/Sao_Paulo", (), "Brazil", 1,
                ("Paulista", "Pinheiros", "Moema", "Vila Madalena"), "Ltda."),
    Destination("AU", "Sydney", "Australia/Sydney", (), "Australia", 1,
                ("Barangaroo", "Parramatta", "Surry Hills", "Bondi"), "Pty Ltd"),
)
TARGET_PEOPLE = (("Wei", "Hana", "Min-jun", "Arjun", "Priya", "Lucas", "Olivia", "Noah",
                  "Aiko", "Omar", "Layla", "Mateus", "Chloe", "Ethan", "Sofia", "Kenji"),
                 ("Tan", "Lim", "Sato", "Kim", "Park", "Sharma", "Iyer", "Silva", "Santos",
                  "Smith", "Brown", "Nguyen", "Haddad", "Wilson", "Chen", "Wong"))

# (kind, title, hours, days after the first day): a mission's agenda, picked from.
MISSION_AGENDA = (
    (SessionKind.OTHER, "Delegation briefing with the beachhead", ("09:00", "10:30"), 0),
    (SessionKind.VISIT, "Company visits: mobility and energy", ("11:00", "17:00"), 0),
    (SessionKind.CONFERENCE, "Conference day on urban innovation", None, 1),
    (SessionKind.MATCHMAKING, "B2B matchmaking with local companies", ("09:30", "13:00"), 2),
    (SessionKind.VISIT, "Site visit: a smart district pilot", ("14:30", "17:00"), 2),
    (SessionKind.RECEPTION, "Networking reception", ("18:30", "21:00"), 2),
    (SessionKind.WORKSHOP, "Follow-up workshop: next steps in the market", ("09:30", "12:00"), 3),
)
LOCAL_KINDS = (
    (EventKind.WORKSHOP, "Workshop: {topic}", ("09:30", "16:30"), 40, False),
    (EventKind.MATCHMAKING, "B2B matchmaking day: {sector}", ("10:00", "17:00"), 50, True),
    (EventKind.RECEPTION, "{cluster} networking reception", ("18:30", "21:30"), 80, False),
)
TOPICS = ("preparing your first mission", "public procurement of innovation abroad",
          "pitching to city buyers", "export financing for SMEs", "protecting your IP abroad",
          "building a consortium for Horizon calls", "data sharing with municipalities")
# Outcome paths of demo.OUTCOMES, weighted, by the kind of registration.
PAST_PATHS = {"approved": 58, "approved_after_waitlist": 5, "approved_after_reapplying": 3,
              "rejected": 10, "withdrawn": 7, "withdrawn_after_approval": 4, "cancelled": 3,
              "waitlisted_then_rejected": 6, "waitlisted": 4}
OPEN_PATHS = {"submitted": 35, "approved": 35, "waitlisted": 6, "rejected": 9, "withdrawn": 10,
              "approved_after_reapplying": 2, "approved_after_waitlist": 3}
DIRECT_PATHS = {"joined": 85, "left": 10, "rejoined": 5}
ANSWERS = (
    ("Meet city buyers and find a first pilot site.", "Find a distributor for our product.",
     "Understand the market before we invest in it.", "Meet research partners for a joint "
     "project."),
    ("Sensors and a data platform for {sector}.", "Software that municipalities use for "
     "{sector}.", "Consulting and engineering in {sector}."),
    ("Pilot partners and city buyers.", "A local distributor.", "Investors and partners for "
     "a joint venture.", "Research partners."),
    ("{market}; {sector}.",),
    ("Vegetarian.", "No pork, please.", "Gluten-free.", "Allergic to nuts."),
)


@dataclass
class Context:
    """What the generated rows refer to, read once from the loaded demo."""

    now: datetime
    partners: dict[str, Partner]
    managers: dict[int, int]  # member cluster id -> its manager's user id
    admin_id: int
    demo_sme_id: int
    demo_smes: list[tuple[int, int, int]]  # (user id, organization id, home cluster id)
    slugs: set[str]

    @classmethod
    def read(cls, now: datetime) -> Context:
        partners = {p.slug: p for p in db.session.scalars(select(Partner))}
        managers: dict[int, int] = {}
        for partner_id, user_id in db.session.execute(
            select(RoleGrant.partner_id, RoleGrant.user_id)
            .where(RoleGrant.role == Role.PARTNER_MANAGER).order_by(RoleGrant.id)
        ):
            managers.setdefault(partner_id, user_id)
        admin_id = db.session.scalar(select(User.id).where(User.email == demo.ADMIN.email))
        demo_sme_id = db.session.scalar(select(User.id).where(User.email == demo.DEMO_SME.email))
        members = [partners[c.slug].id for c in demo.MEMBER_CLUSTERS]
        demo_smes = [tuple(row) for row in db.session.execute(
            select(User.id, Organization.id, Organization.home_cluster_id)
            .join(Organization, User.organization_id == Organization.id)
            # The demo's own (on its domain; the steps' people are on their company's),
            # so a step is the same whether the steps before it were loaded with it or not.
            .where(Organization.home_cluster_id.in_(members), User.email.like(
                f"%@{demo.DEMO_DOMAIN}"), Organization.helix == Helix.INDUSTRY,
                User.id != demo_sme_id)
            .order_by(User.id))]
        return cls(now, partners, managers, admin_id, demo_sme_id, demo_smes,
                   set(db.session.scalars(select(Event.slug))))


@dataclass(frozen=True)
class ScaleSummary:
    scale: int
    steps_added: int
    counts: dict[str, int]

    def describe(self) -> str:
        counts = ", ".join(f"{n:,} {label}" for label, n in self.counts.items())
        done = (f"{self.steps_added} step(s) of the scale added"
                if self.steps_added else "every step of the scale was already there")
        return f"At scale {self.scale} ({done}): {counts}."


# Bulk inserts name every column, NULLs too: rows whose NULLs differ would otherwise be
# sent one statement each instead of in batches.
ALL_COLUMNS = {"render_nulls": True}

COUNTED = {"events": Event, "registrations": Registration, "organizations": Organization,
           "users": User, "attendances": Attendance, "survey responses": SurveyResponse,
           "agreements": Agreement, "audit entries": AuditEntry}


def grow(scale: int, now: datetime) -> ScaleSummary:
    """Add the steps 2..`scale` that are missing, flushed in the caller's unit of work
    (after `demo.load`, which they build on)."""
    write_step()
    context = Context.read(now)
    added = 0
    for step in range(2, scale + 1):
        generated = Step(context, step)
        if db.session.scalar(select(Organization.id).where(
                Organization.name == generated.first_organization_name)) is not None:
            continue
        generated.insert()
        added += 1
    if added:
        # The bulk inserts wrote names without their sort keys (webapp/collation.py).
        collation.fill_missing()
    counts = {label: db.session.scalar(select(func.count()).select_from(model))
              for label, model in COUNTED.items()}
    return ScaleSummary(scale, added, counts)


# --------------------------------------------------------------------------- helpers


def _bulk(target, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(target), rows, execution_options=ALL_COLUMNS)


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    """An audit entry's details as the services write them for a new row."""
    return {"changes": {k: [None, plain(v)] for k, v in values.items() if v not in (None, "")}}


def _local(day: date, clock: str, zone: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _slice(pool: Sequence[str], step: int, count: int) -> list[str]:
    """The names of step `step` from a pool shared by all steps; past its end the pool is
    used again with a number."""
    start = (step - 2) * count
    return [pool[i % len(pool)] + (f" {i // len(pool) + 1}" if i >= len(pool) else "")
            for i in range(start, start + count)]


def _sme_pool(index: int, cluster: demo.ClusterRegion) -> list[str]:
    """Every company name the cluster's lists make that the demo does not use."""
    taken = {f"{stem} {demo.SECTORS[(n + 3 * index) % len(demo.SECTORS)][1]} "
             f"{cluster.legal_form}" for n, stem in enumerate(cluster.company_stems)}
    pool = [name for suffix in ("", *(f" {town}" for town in cluster.towns))
            for stem in cluster.company_stems for _, word, _ in demo.SECTORS
            if (name := f"{stem} {word}{suffix} {cluster.legal_form}") not in taken]
    random.Random(f"{demo.SEED}/{cluster.key}").shuffle(pool)
    return pool


def _target_pool() -> list[tuple[str, Destination]]:
    pool = [(f"{quarter} {word} {place.legal_form}", place) for place in DESTINATIONS
            for quarter in place.quarters for _, word, _ in demo.SECTORS]
    random.Random(f"{demo.SEED}/targets").shuffle(pool)
    return pool


def _dashed(name: str) -> str:
    """Lower-case ASCII words joined by dashes: a slug, a web or mail domain."""
    return demo._handle(name, "-")


class Planned(NamedTuple):
    """An event before its id is known."""

    values: dict[str, Any]
    family: str  # "mission", "webinar", "local"
    organizers: tuple[int, ...]
    hosts: tuple[int, ...]
    agenda: tuple[tuple[SessionKind, str, tuple[str, str] | None, int], ...]
    quota_seats: dict[int, int]
    cancel_at: datetime | None
    sector: str
    market: str


# --------------------------------------------------------------------------- one step


class Step:
    """One step of the scale: its organizations, people, events and all that follows."""

    def __init__(self, context: Context, step: int) -> None:
        self.context = context
        self.step = step
        self.rng = random.Random(f"{demo.SEED}/scale/{step}")
        self.now = context.now
        self.cluster_names = {c.key: _slice(_sme_pool(n, c), step, SMES_PER_CLUSTER)
                              for n, c in enumerate(demo.MEMBER_CLUSTERS)}
        self.first_organization_name = self.cluster_names[demo.MEMBER_CLUSTERS[0].key][0]

    # ----------------------------------------------------------------- organizations

    def insert(self) -> None:
        smes = self._organizations_and_people()
        targets = self._target_organizations()
        events = self._events()
        registrations = self._registrations(events, smes, targets)
        self._attendance_and_surveys(events, registrations)
        self._agreements(events, registrations, targets)
        db.session.flush()

    def _insert_returning(self, model, rows: list[dict]) -> list[int]:
        if not rows:
            return []
        return list(db.session.scalars(
            insert(model).returning(model.id, sort_by_parameter_order=True), rows,
            execution_options=ALL_COLUMNS))

    def _audit(self, rows: list[dict]) -> None:
        base = {"actor_id": None, "registration_id": None, "event_id": None,
                "subject_type": None, "subject_id": None, "from_status": None,
                "to_status": None, "reason": "", "details": {}}
        _bulk(AuditEntry, [{**base, **row} for row in rows])

    def _organizations_and_people(self) -> list[tuple[int, int, int]]:
        """The step's member SMEs and their people; (user id, organization id, cluster id)."""
        rng = self.rng
        org_rows, homes = [], []
        for index, cluster in enumerate(demo.MEMBER_CLUSTERS):
            home = self.context.partners[cluster.slug]
            for number, name in enumerate(self.cluster_names[cluster.key]):
                sector, _, offering = demo.SECTORS[(number + 3 * index + self.step)
                                                   % len(demo.SECTORS)]
                size = rng.choices(demo.SIZES, weights=demo.SIZE_WEIGHTS)[0]
                town = cluster.towns[number % len(cluster.towns)]
                created = demo.LAUNCHED_AT + timedelta(days=rng.randint(0, 700))
                org_rows.append(dict(
                    name=name, search_key=key(name), country=cluster.country, city=town,
                    sector=sector, size=size, helix=Helix.INDUSTRY,
                    website=f"https://www.{_dashed(name)}.{cluster.country.lower()}",
                    profile=f"We {offering}. {demo.TEAMS[size]} in {town}. "
                            f"{rng.choice(demo.AMBITIONS)}",
                    home_cluster_id=home.id, logo_filename="", created_at=created,
                    reviewed_at=created + timedelta(days=2)))
                homes.append((cluster, home.id))
        org_ids = self._insert_returning(Organization, org_rows)
        self._audit([dict(created_at=row["created_at"], action="organization.created",
                          subject_type="organization", subject_id=org_id,
                          details=_changes({k: row[k] for k in (
                              "name", "country", "city", "sector", "size", "helix",
                              "website", "profile")}))
                     for org_id, row in zip(org_ids, org_rows, strict=True)])
        user_rows, owners = [], []
        for org_id, row, (cluster, home_id) in zip(org_ids, org_rows, homes, strict=True):
            people = rng.sample(cluster.people, rng.choices((1, 2, 3), weights=(5, 3, 2))[0])
            families = rng.sample(cluster.people, len(people))
            domain = f"{_dashed(row['name'])}.{demo.DEMO_DOMAIN}"
            for given_of, family_of in zip(people, families, strict=True):
                given, family = given_of.split(" ", 1)[0], family_of.split(" ", 1)[1]
                user_rows.append(self._user(f"{given} {family}", domain, org_id,
                                            row["created_at"]))
                owners.append((org_id, home_id))
        user_ids = self._insert_returning(User, _unique_emails(user_rows))
        return [(user_id, org_id, home_id)
                for user_id, (org_id, home_id) in zip(user_ids, owners, strict=True)]

    @staticmethod
    def _user(name: str, domain: str, organization_id: int, created: datetime) -> dict:
        given, family = name.split(" ", 1)
        return dict(email=f"{demo._handle(given, '')}.{demo._handle(family, '')}@{domain}",
                    name=name, search_key=key(name), organization_id=organization_id,
                    password_hash=None, phone="", locale="en", active=True,
                    email_verified_at=created, created_at=created, session_version=1,
                    calendar_feed_version=1, privacy_version="")

    def _target_organizations(self) -> list[tuple[int, int, Destination]]:
        """Companies and institutes of the target regions, one contact each; they come
        to inbound missions and sign collaboration agreements."""
        rng = self.rng
        pool = _target_pool()
        places = dict(pool)
        chosen = [(name, places[name.rsplit(" ", 1)[0] if name not in places else name])
                  for name in _slice([name for name, _ in pool], self.step,
                                     TARGET_ORGANIZATIONS)]
        org_rows = []
        for name, place in chosen:
            sector = rng.choice(demo.SECTORS)[0]
            helix = rng.choices((Helix.INDUSTRY, Helix.RESEARCH, Helix.GOVERNMENT),
                                weights=(6, 2, 1))[0]
            org_rows.append(dict(
                name=name, search_key=key(name), country=place.country,
                city=place.city.split(" and ")[0], sector=sector,
                size=rng.choice((OrganizationSize.SMALL, OrganizationSize.MEDIUM)),
                helix=helix, website="", profile=f"{sector} in {place.market}.",
                home_cluster_id=None, logo_filename="", created_at=demo.LAUNCHED_AT,
                reviewed_at=demo.LAUNCHED_AT))
        org_ids = self._insert_returning(Organization, org_rows)
        self._audit([dict(created_at=demo.LAUNCHED_AT, action="organization.created",
                          subject_type="organization", subject_id=org_id,
                          details=_changes({k: row[k] for k in (
                              "name", "country", "city", "sector", "size", "helix",
                              "profile")}))
                     for org_id, row in zip(org_ids, org_rows, strict=True)])
        user_rows = []
        for org_id, row in zip(org_ids, org_rows, strict=True):
            name = f"{rng.choice(TARGET_PEOPLE[0])} {rng.choice(TARGET_PEOPLE[1])}"
            user_rows.append(self._user(name, f"{_dashed(row['name'])}.{demo.DEMO_DOMAIN}",
                                        org_id, demo.LAUNCHED_AT))
        user_ids = self._insert_returning(User, user_rows)
        return [(user_id, org_id, place) for user_id, org_id, (_, place)
                in zip(user_ids, org_ids, chosen, strict=True)]

    # ----------------------------------------------------------------- events

    def _day(self) -> date:
        last = (self.now + AHEAD).date()
        return FIRST_DAY + timedelta(days=self.rng.randint(0, (last - FIRST_DAY).days))

    def _slug(self, title: str, day: date) -> str:
        base = _dashed(title)[:100]
        slug, n = base, 1
        while slug in self.context.slugs:
            n += 1
            slug = f"{base}-{day:%d}" if n == 2 else f"{base}-{day:%d}-{n}"
        self.context.slugs.add(slug)
        return slug

    def _event_values(self, kind: EventKind, title: str, summary: str, description: str,
                      place: tuple[str, str, str, str], first_day: date, days: int,
                      hours: tuple[str, str], capacity: int, requires_approval: bool,
                      call: timedelta, deadline: timedelta | None) -> dict[str, Any]:
        country, city, venue, zone = place
        opens = _local(first_day - call, "00:00", zone)
        folded = key(" ".join(part for part in (title, summary, city, venue,
                                                country_names(country)) if part))
        return dict(search_key=folded,
            kind=kind, title=title, slug=self._slug(title, first_day), summary=summary,
            description=description, target_country=country, target_city=city, venue=venue,
            online_url="", recording_url="", timezone=zone,
            starts_at=_local(first_day, hours[0], zone),
            ends_at=_local(first_day + timedelta(days=days - 1), hours[1], zone),
            registration_opens_at=opens,
            registration_closes_at=(_local(first_day - deadline, "00:00", zone)
                                    if deadline else None),
            capacity=capacity, max_per_organization=None, requires_approval=requires_approval,
            reminder_offsets=list(DEFAULT_REMINDER_OFFSETS), calendar_sequence=0,
            created_at=opens, updated_at=opens)

    def _status(self, values: dict[str, Any]) -> datetime | None:
        """Sets the event's status as of now; returns when it was cancelled, if it was."""
        rng, now = self.rng, self.now
        starts = values["starts_at"]
        if values["created_at"] > now - timedelta(days=1):
            # Announced before its registration opens: some weeks ago.
            values["created_at"] = values["updated_at"] = now - timedelta(
                days=self.rng.randint(1, 60))
        values["status"] = EventStatus.CLOSED if values["ends_at"] < now else EventStatus.PUBLISHED
        if values["status"] == EventStatus.PUBLISHED and starts > now + timedelta(weeks=9) \
                and rng.random() < DRAFT_SHARE:
            values["status"] = EventStatus.DRAFT
            values["created_at"] = values["updated_at"] = min(
                values["created_at"], now - timedelta(days=rng.randint(1, 20)))
            return None
        if rng.random() < CANCELLED_SHARE:
            cancel_at = min(now - timedelta(hours=1), starts - timedelta(days=10))
            if cancel_at > values["created_at"] + timedelta(days=1):
                values["status"] = EventStatus.CANCELLED
                values["calendar_sequence"] = 1
                values["updated_at"] = cancel_at
                return cancel_at
        return None

    def _events(self) -> list[tuple[int, Planned]]:
        rng = self.rng
        partners = self.context.partners
        members = [partners[c.slug] for c in demo.MEMBER_CLUSTERS]
        fellows = [partners[p.slug] for p in demo.EC2I_CLUSTERS]
        planned: list[Planned] = []
        for _ in range(MISSIONS):
            planned += self._mission(rng, members, fellows)
        for _ in range(WEBINARS):
            place = rng.choices(DESTINATIONS, weights=[d.weight for d in DESTINATIONS])[0]
            sector = rng.choice(demo.SECTORS)[0]
            day = self._day()
            organizers = rng.sample(members, rng.randint(1, 2))
            title = f"Webinar: {sector} in {place.market}, {day:%B %Y}"
            values = self._event_values(
                EventKind.WEBINAR, title, "One hour online on a target market, with questions.",
                f"Speakers from the clusters and the beachheads present {sector.lower()} in "
                f"{place.market}: the buyers, the rules, and how SMEs got their first "
                "contracts there.", (place.country, place.city, "Online", demo.WEBINAR_ZONE),
                day, 1, ("10:00", "11:00"), 100, False, demo.WEBINAR_CALL, None)
            planned.append(self._plan(values, "webinar", organizers, place.hosts, sector,
                                      place.market,
                                      ((SessionKind.WEBINAR, "Live webinar with questions",
                                        ("10:00", "11:00"), 0),)))
        for _ in range(LOCAL_EVENTS):
            cluster = rng.choice(demo.MEMBER_CLUSTERS)
            kind, pattern, hours, capacity, approval = rng.choice(LOCAL_KINDS)
            sector = rng.choice(demo.SECTORS)[0]
            day = self._day()
            title = (pattern.format(topic=rng.choice(TOPICS), sector=sector,
                                    cluster=cluster.short_name) + f", {cluster.city} {day:%B %Y}")
            values = self._event_values(
                kind, title, f"{kind.value.capitalize()} for the SMEs of {cluster.short_name}.",
                f"{cluster.short_name} invites its companies and their guests to "
                f"{cluster.city}.", (cluster.country, cluster.city,
                                     f"{cluster.short_name} offices, {cluster.city}",
                                     MEMBER_ZONES[cluster.country]),
                day, 1, hours, capacity, approval, timedelta(weeks=6), timedelta(days=2))
            planned.append(self._plan(values, "local", [partners[cluster.slug]], (), sector,
                                      cluster.region, ()))
        planned = [p for p in planned if p.values["starts_at"].date() >= FIRST_DAY]
        event_ids = self._insert_returning(Event, [p.values for p in planned])
        self._event_rows(list(zip(event_ids, planned, strict=True)))
        return list(zip(event_ids, planned, strict=True))

    def _mission(self, rng: random.Random, members: list[Partner],
                 fellows: list[Partner]) -> list[Planned]:
        draw = rng.random()
        sector = rng.choice(demo.SECTORS)[0]
        day = self._day()
        organizers = rng.sample(members, rng.randint(1, 4))
        if draw < 0.2:  # inbound: the target regions come to a member cluster's city
            host_city = rng.choice(demo.MEMBER_CLUSTERS)
            organizers = [self.context.partners[host_city.slug],
                          *(p for p in organizers if p.slug != host_city.slug)]
            place = (host_city.country, host_city.city, f"Expo centre, {host_city.city}",
                     MEMBER_ZONES[host_city.country])
            market, hosts = "Singapore and the USA", ("bridge-innovation-partners",
                                                       "ipi-singapore", "necec")
            kind, days, capacity = EventKind.INBOUND_MISSION, 3, rng.randint(40, 60)
            title = f"Inbound mission to {host_city.city}, {day:%B %Y}"
            summary = "Meet stakeholders from Singapore and the USA in Europe."
        else:
            target = rng.choices(DESTINATIONS, weights=[d.weight for d in DESTINATIONS])[0]
            place = (target.country, target.city, target.city, target.zone)
            market, hosts = target.market, target.hosts
            if draw < 0.35:
                kind, days, capacity = EventKind.FACT_FINDING_MISSION, 4, rng.randint(10, 15)
                title = f"Fact-finding mission to {target.city}, {day:%B %Y}"
                summary = f"Exploring {target.market} with cluster managers and pioneering SMEs."
            else:
                kind, days, capacity = EventKind.OUTBOUND_MISSION, rng.randint(4, 5), \
                    rng.randint(20, 40)
                title = f"Outbound mission to {target.city}, {day:%B %Y}"
                summary = f"B2B meetings, visits and a conference day in {target.market}."
            if rng.random() < 0.3:
                organizers.append(rng.choice(fellows))
        values = self._event_values(
            kind, title, summary,
            f"A delegation of European smart-city SMEs in {market}, focused on "
            f"{sector.lower()}.\n\nApply through your cluster.", place, day, days,
            ("09:00", "18:00"), capacity, True, demo.MISSION_CALL, demo.MISSION_DEADLINE)
        agenda = tuple(item for item in MISSION_AGENDA if item[3] < days
                       and (item[2] is not None or kind != EventKind.FACT_FINDING_MISSION))
        mission = self._plan(values, "mission", organizers, hosts, sector, market, agenda,
                             quotas=rng.random() < 0.35)
        webinar_day = day - demo.WEBINAR_LEAD
        webinar = self._event_values(
            EventKind.WEBINAR, f"Webinar: preparing the {title[0].lower()}{title[1:]}",
            "One hour online: the target market, the programme, and how to apply.",
            f"An online hour to prepare the {title}: what the region offers, the programme, "
            "what it costs and how the clusters choose their delegates.",
            (place[0], place[1], "Online", demo.WEBINAR_ZONE), webinar_day, 1,
            ("10:00", "11:00"), 100, False, demo.WEBINAR_CALL, None)
        return [mission, self._plan(
            webinar, "webinar", [p for p in organizers if p.is_member], hosts, sector, market,
            ((SessionKind.WEBINAR, "Live webinar with questions", ("10:00", "11:00"), 0),))]

    def _plan(self, values: dict[str, Any], family: str, organizers: Iterable[Partner],
              hosts: Iterable[str], sector: str, market: str, agenda: tuple,
              quotas: bool = False) -> Planned:
        organizers = list(organizers)
        if values["kind"] == EventKind.WEBINAR:
            values["online_url"] = f"https://meet.{demo.DEMO_DOMAIN}/{values['slug']}"
        cancel_at = self._status(values)
        if (values["kind"] == EventKind.WEBINAR and values["status"] == EventStatus.CLOSED
                and self.rng.random() < 0.3):
            values["recording_url"] = f"https://video.{demo.DEMO_DOMAIN}/recordings/{values['slug']}"
            values["recording_mailed_at"] = values["ends_at"] + timedelta(days=1)
        else:
            values["recording_mailed_at"] = None
        member_organizers = [p.id for p in organizers if p.is_member]
        seats = {}
        if quotas and len(member_organizers) >= 2:
            share = values["capacity"] // (len(member_organizers) + 1)
            seats = dict.fromkeys(member_organizers, share)
        host_ids = tuple(self.context.partners[slug].id for slug in hosts)
        return Planned(values, family, tuple(p.id for p in organizers), host_ids, agenda,
                       seats, cancel_at, sector, market)

    def _event_rows(self, events: list[tuple[int, Planned]]) -> None:
        """Organizers, hosts, quotas, questions and agenda; each event's audit trail."""
        partners_by_id = {p.id: p for p in self.context.partners.values()}
        admin = self.context.admin_id
        organizer_rows, host_rows, quota_rows, question_rows, session_rows = [], [], [], [], []
        audit = []
        for event_id, plan in events:
            v = plan.values
            organizer_rows += [dict(event_id=event_id, partner_id=p) for p in plan.organizers]
            host_rows += [dict(event_id=event_id, partner_id=p) for p in plan.hosts]
            quota_rows += [dict(event_id=event_id, partner_id=p, seats=n)
                           for p, n in plan.quota_seats.items()]
            announced = v["created_at"]
            created = {k: v[k] for k in (
                "reminder_offsets", "kind", "title", "summary", "description", "target_country",
                "target_city", "venue", "online_url", "timezone", "capacity",
                "requires_approval", "starts_at", "ends_at", "registration_opens_at",
                "registration_closes_at", "slug")}
            details = _changes(created)
            details["changes"]["organizers"] = [None, sorted(
                partners_by_id[p].short_name for p in plan.organizers)]
            if plan.hosts:
                details["changes"]["hosts"] = [None, sorted(
                    partners_by_id[p].short_name for p in plan.hosts)]
            common = dict(actor_id=admin, event_id=event_id, subject_type="event",
                          subject_id=event_id)
            audit.append(dict(common, created_at=announced, action="event.created",
                              details=details))
            if v["kind"] in MISSION_KINDS:
                question_rows += [dict(event_id=event_id, position=n, kind=q.kind,
                                       label=q.label, help_text=q.help_text,
                                       required=q.required, choices=[])
                                  for n, q in enumerate(MISSION_DEFAULTS, start=1)]
                audit.append(dict(common, created_at=announced,
                                  action="event.default_questions_added",
                                  details=_changes({"questions": [
                                      q.label for q in MISSION_DEFAULTS]})))
            if plan.quota_seats:
                audit.append(dict(common, created_at=announced, action="event.quotas_updated",
                                  details={"changes": {
                                      partners_by_id[p].short_name: [None, n]
                                      for p, n in plan.quota_seats.items()}}))
            first_day = v["starts_at"].astimezone(ZoneInfo(v["timezone"])).date()
            for position, (kind, title, hours, offset) in enumerate(plan.agenda, start=1):
                day = first_day + timedelta(days=offset)
                row = dict(event_id=event_id, kind=kind, title=title, description="",
                           venue=v["venue"] if v["venue"] != "Online" else "Online",
                           online_url="", position=position, calendar_sequence=0,
                           all_day=hours is None, starts_at=None, ends_at=None,
                           start_date=None, end_date=None)
                if hours is None:
                    row.update(start_date=day, end_date=day)
                else:
                    row.update(starts_at=_local(day, hours[0], v["timezone"]),
                               ends_at=_local(day, hours[1], v["timezone"]))
                session_rows.append(row)
            if v["status"] == EventStatus.DRAFT:
                continue
            audit.append(dict(common, created_at=announced, action="event.published",
                              details={"changes": {"status": ["draft", "published"]}}))
            if v["status"] == EventStatus.CLOSED:
                audit.append(dict(common, created_at=v["ends_at"], action="event.closed",
                                  details={"changes": {"status": ["published", "closed"]}}))
            elif v["status"] == EventStatus.CANCELLED:
                audit.append(dict(common, created_at=plan.cancel_at, action="event.cancelled",
                                  reason=EVENT_CANCELLED,
                                  details={"changes": {"status": ["published", "cancelled"]}}))
        _bulk(event_organizers, organizer_rows)
        _bulk(event_hosts, host_rows)
        _bulk(EventQuota, quota_rows)
        _bulk(Question, question_rows)
        session_ids = self._insert_returning(EventSession, session_rows)
        announced = {event_id: plan.values["created_at"] for event_id, plan in events}
        audit += [dict(actor_id=admin, event_id=row["event_id"], subject_type="eventsession",
                       subject_id=session_id, created_at=announced[row["event_id"]],
                       action="event.session_added",
                       details=_changes({k: row[k] for k in (
                           "title", "kind", "all_day", "venue", "starts_at", "ends_at",
                           "start_date", "end_date")}))
                  for session_id, row in zip(session_ids, session_rows, strict=True)]
        self._audit(audit)

    # ----------------------------------------------------------------- registrations

    def _registrations(self, events: list[tuple[int, Planned]],
                       smes: list[tuple[int, int, int]],
                       targets: list[tuple[int, int, Destination]]) -> list[dict]:
        """Who applied to what, and what became of it, within the seats."""
        rng, now = self.rng, self.now
        pool = smes + self.context.demo_smes
        open_events = [(event_id, plan) for event_id, plan in events
                       if plan.values["status"] not in (EventStatus.DRAFT,)
                       and plan.values["registration_opens_at"] < now - timedelta(days=1)]
        total = sum(_weight(plan) for _, plan in open_events) or 1.0
        sme_events = set(rng.sample(range(len(open_events)),
                                    min(DEMO_SME_EVENTS, len(open_events))))
        regs: list[dict] = []
        for index, (event_id, plan) in enumerate(open_events):
            v = plan.values
            wanted = round(REGISTRATIONS * _weight(plan) / total * rng.uniform(0.7, 1.3))
            applicants = rng.sample(pool, min(len(pool), wanted))
            if v["kind"] == EventKind.INBOUND_MISSION:
                applicants += [(u, o, None) for u, o, _ in rng.sample(targets, 4)]
            if index in sme_events:
                applicants.append((self.context.demo_sme_id, None, None))
            regs += self._event_registrations(event_id, plan, applicants)
        registration_ids = self._insert_returning(Registration, [r["row"] for r in regs])
        audit, answers = [], []
        questions = defaultdict(list)
        for question_id, event_id, _position in db.session.execute(
                select(Question.id, Question.event_id, Question.position)
                .where(Question.event_id.in_([e for e, _ in events]))
                .order_by(Question.event_id, Question.position)):
            questions[event_id].append(question_id)
        plans = dict(events)
        for reg_id, reg in zip(registration_ids, regs, strict=True):
            reg["id"] = reg_id
            for entry in reg["audit"]:
                audit.append(dict(entry, registration_id=reg_id, event_id=reg["row"]["event_id"]))
            asked = questions.get(reg["row"]["event_id"], ())
            plan = plans[reg["row"]["event_id"]]
            for n, question_id in enumerate(asked):
                if n == 4 and rng.random() > 0.2:
                    continue  # the dietary question is optional
                text = rng.choice(ANSWERS[n]).format(sector=plan.sector.lower(),
                                                     market=plan.market)
                answers.append(dict(registration_id=reg_id, question_id=question_id,
                                    value=text))
        self._audit(audit)
        _bulk(Answer, answers)
        return regs

    def _event_registrations(self, event_id: int, plan: Planned,
                             applicants: list[tuple[int, int | None, int | None]]) -> list[dict]:
        rng, now = self.rng, self.now
        v = plan.values
        last = min(v["registration_closes_at"] or v["starts_at"], now)
        span = (last - v["registration_opens_at"]).total_seconds()
        past = v["status"] in (EventStatus.CLOSED,) or v["ends_at"] < now
        approved: Counter = Counter()
        seats = plan.quota_seats
        capacity = v["capacity"]
        regs = []
        applied = sorted((v["registration_opens_at"] + timedelta(
            seconds=rng.uniform(0, span * (0.4 if past else 1.0))), who) for who in applicants)
        for at, (user_id, org, home) in applied:
            if user_id == self.context.demo_sme_id:
                home = self.context.partners[demo.AALBORG.slug].id
            if not v["requires_approval"]:
                paths = DIRECT_PATHS
            else:
                paths = PAST_PATHS if past else OPEN_PATHS
            outcome = _pick(rng, paths)
            decider = self.context.managers.get(home) if home else None
            if decider is None:
                decider = next((self.context.managers[p] for p in plan.organizers
                                if p in self.context.managers), self.context.admin_id)
            steps = self._steps(rng, outcome, at, user_id, decider, now)
            final = steps[-1][0]
            if final == S.APPROVED:
                full = capacity is not None and approved["all"] >= capacity
                quota_full = home in seats and approved[home] >= seats[home]
                if full or quota_full:
                    outcome = ("waitlisted" if not past else "waitlisted_then_rejected") \
                        if v["requires_approval"] else None
                    steps = (self._steps(rng, outcome, at, user_id, decider, now) if outcome
                             else [(S.WAITLISTED, at, user_id, "")])
                    final = steps[-1][0]
            if plan.cancel_at is not None:
                steps = [s for s in steps if s[1] < plan.cancel_at]
                if not steps:
                    continue
                if steps[-1][0] in (S.SUBMITTED, S.WAITLISTED, S.APPROVED):
                    steps.append((S.CANCELLED, plan.cancel_at, self.context.admin_id,
                                  EVENT_CANCELLED))
                final = steps[-1][0]
            if final == S.APPROVED:
                approved["all"] += 1
                approved[home] += 1
            regs.append(_history(event_id, user_id, org, home, steps))
        return regs

    @staticmethod
    def _steps(rng: random.Random, outcome: str, at: datetime, user_id: int, decider: int,
               now: datetime) -> list[tuple[S, datetime, int, str]]:
        steps = []
        for status, days, actor, reason in demo.OUTCOMES[outcome]:
            when = at + timedelta(days=days, minutes=rng.randint(0, 300) if days else 0)
            if when >= now:
                break
            steps.append((status, when, user_id if actor == demo.APPLICANT else decider,
                          rng.choice(demo.REASONS[reason]) if reason else ""))
        return steps

    # ----------------------------------------------------------------- after the events

    def _attendance_and_surveys(self, events: list[tuple[int, Planned]],
                                regs: list[dict]) -> None:
        rng, now = self.rng, self.now
        plans = dict(events)
        attendance_rows, attended = [], []
        for number, reg in enumerate(regs):
            plan = plans[reg["row"]["event_id"]]
            v = plan.values
            if (reg["row"]["status"] != S.APPROVED or v["status"] != EventStatus.CLOSED
                    or rng.random() >= TURNOUT[plan.family]):
                continue
            if plan.family == "webinar":
                attendance_rows.append(dict(
                    registration_id=reg["id"], session_id=None, recorded_by_id=None,
                    recorded_at=v["starts_at"] + timedelta(minutes=number % 20 - 10),
                    source=AttendanceSource.JOIN_LINK))
            else:
                attendance_rows.append(dict(
                    registration_id=reg["id"], session_id=None,
                    recorded_by_id=self.context.admin_id,
                    recorded_at=v["starts_at"] + timedelta(minutes=number % 30),
                    source=AttendanceSource.CHECK_IN))
                if plan.family == "mission":
                    attended.append((reg, v))
        _bulk(Attendance, attendance_rows)
        invitations, answers = [], []
        for reg, v in attended:
            for round_, offset in OFFSETS.items():
                due = v["ends_at"] + offset
                if due > now:
                    continue
                answered = rng.random() < demo.ANSWER_RATE[round_]
                late = rng.random() < 0.3
                answered_at = due + timedelta(days=rng.randint(8, 12) if late else
                                              rng.randint(0, 5), hours=rng.randint(1, 10))
                answered = answered and answered_at < now
                remind_at = due + REMIND_AFTER
                reminded = (not answered or late) and remind_at < now
                invitations.append(dict(
                    registration_id=reg["id"], round=round_, due_at=due, sent_at=due,
                    remind_at=remind_at, reminded_at=remind_at if reminded else None,
                    reminder_skipped=False, answered_at=answered_at if answered else None,
                    outbox_message_id=None))
                answers.append((reg, round_, answered_at) if answered else None)
        invitation_ids = self._insert_returning(SurveyInvitation, invitations)
        responses, who = [], []
        for invitation_id, answer in zip(invitation_ids, answers, strict=True):
            if answer is None:
                continue
            reg, round_, answered_at = answer
            later = round_ == SurveyRound.SIX_MONTHS
            signed = int(later and rng.random() < 0.12)
            responses.append(dict(
                invitation_id=invitation_id,
                satisfaction=rng.choices(list(demo.SATISFACTION_WEIGHTS),
                                         weights=list(demo.SATISFACTION_WEIGHTS.values()))[0],
                b2b_meetings=rng.randint(2, 9) if not later else 0,
                leads=rng.randint(0, 5) if not later else rng.randint(0, 2),
                agreements_in_negotiation=int(rng.random() < (0.25 if later else 0.15)),
                agreements_signed=signed,
                agreement_parties="A partner met on the mission" if signed else "",
                outcome=rng.choice(demo._OUTCOMES) if later else "",
                comment=rng.choice(demo._COMMENTS[round_]), answered_at=answered_at))
            who.append((reg, round_))
        response_ids = self._insert_returning(SurveyResponse, responses)
        self._audit([dict(created_at=row["answered_at"], actor_id=reg["row"]["user_id"],
                          action="survey.answered", subject_type="surveyresponse",
                          subject_id=response_id, event_id=reg["row"]["event_id"],
                          details={"changes": {"round": [None, round_.value],
                                               "satisfaction": [None, row["satisfaction"]]}})
                     for response_id, row, (reg, round_)
                     in zip(response_ids, responses, who, strict=True)])

    def _agreements(self, events: list[tuple[int, Planned]], regs: list[dict],
                    targets: list[tuple[int, int, Destination]]) -> None:
        """Partnership agreements of the organizers with the beachheads and fellow
        clusters, and collaborations of delegates' SMEs with the target regions."""
        rng, today = self.rng, self.now.date()
        partners_by_id = {p.id: p for p in self.context.partners.values()}
        plans = dict(events)
        delegates = defaultdict(list)
        for reg in regs:
            if reg["row"]["status"] == S.APPROVED and reg["org"] is not None:
                delegates[reg["row"]["event_id"]].append(reg)
        missions = [e for e, p in events if p.family == "mission"
                    and p.values["status"] == EventStatus.CLOSED and delegates[e]]
        if not missions:
            return
        org_names = dict(db.session.execute(select(Organization.id, Organization.name).where(
            Organization.id.in_({r["org"] for e in missions for r in delegates[e]}
                                | {o for _, o, _ in targets}))).all())
        fellows = [self.context.partners[p.slug] for p in (*demo.OTHER_PARTNERS,
                                                            *demo.EC2I_CLUSTERS)]
        rows, parties = [], []
        for n in range(AGREEMENTS):
            event_id = rng.choice(missions)
            plan = plans[event_id]
            started = plan.values["ends_at"].date() + timedelta(days=rng.randint(0, 30))
            if n % 3 == 0:
                member = next((partners_by_id[p] for p in plan.organizers
                               if partners_by_id[p].is_member), None)
                if member is None:
                    continue
                other = rng.choice(fellows)
                sides = [("partner", member.id, member.name), ("partner", other.id, other.name)]
                kind, responsible = AgreementKind.PARTNERSHIP, member.id
                kind_type = rng.choice((AgreementType.MEMORANDUM,
                                        AgreementType.BUSINESS_PARTNERSHIP,
                                        AgreementType.JOINT_PROJECT_PROPOSAL))
                title = f"{member.short_name} and {other.short_name}: {plan.sector.lower()}"
            else:
                reg = rng.choice(delegates[event_id])
                _, target_org, _place = rng.choice(targets)
                sides = [("organization", reg["org"], org_names[reg["org"]]),
                         ("organization", target_org, org_names[target_org])]
                kind, responsible = AgreementKind.COLLABORATION, reg["home"] or \
                    plan.organizers[0]
                kind_type = rng.choice((AgreementType.BUSINESS_PARTNERSHIP,
                                        AgreementType.RESEARCH_COLLABORATION,
                                        AgreementType.JOINT_PROJECT_PROPOSAL))
                title = f"{plan.sector} with {org_names[target_org]}"
            signed = started + timedelta(days=rng.randint(30, 150))
            status = rng.choices((AgreementStatus.SIGNED, AgreementStatus.IN_NEGOTIATION,
                                  AgreementStatus.ENDED), weights=(7, 2, 1))[0]
            if signed > today:
                status = AgreementStatus.IN_NEGOTIATION
            ended = signed + timedelta(days=365) if status == AgreementStatus.ENDED else None
            if ended is not None and ended > today:
                status, ended = AgreementStatus.SIGNED, None
            created = datetime.combine(started, time(9), tzinfo=UTC)
            rows.append(dict(
                kind=kind, type=kind_type, status=status, title=title[:200],
                description=f"Followed up after the {plan.values['title']}.",
                started_on=started,
                signed_on=signed if status.was_signed else None, ended_on=ended,
                origin_event_id=event_id, responsible_partner_id=responsible,
                created_at=created,
                updated_at=datetime.combine(signed if status.was_signed else started,
                                            time(9), tzinfo=UTC)))
            parties.append(sides)
        agreement_ids = self._insert_returning(Agreement, rows)
        party_rows = []
        for agreement_id, sides in zip(agreement_ids, parties, strict=True):
            for position, (side, ref, _) in enumerate(sides):
                party_rows.append(dict(agreement_id=agreement_id, position=position,
                                       partner_id=ref if side == "partner" else None,
                                       organization_id=ref if side == "organization" else None))
        _bulk(AgreementParty, party_rows)
        self._audit([dict(created_at=row["created_at"], action="agreement.created",
                          subject_type="agreement", subject_id=agreement_id,
                          details=_changes({**{k: row[k] for k in (
                              "kind", "type", "status", "title", "description", "started_on",
                              "signed_on", "responsible_partner_id", "origin_event_id")},
                              "parties": [name for _, _, name in sides]}))
                     for agreement_id, row, sides in zip(agreement_ids, rows, parties,
                                                         strict=True)])


def _weight(plan: Planned) -> float:
    """How many apply to an event, relative to the others: a fact-finding mission takes a
    few, a webinar many."""
    if plan.values["kind"] == EventKind.FACT_FINDING_MISSION:
        return 1.0
    return {"mission": 3.0, "webinar": 2.0, "local": 0.8}[plan.family]


def _history(event_id: int, user_id: int, org: int | None, home: int | None,
             steps: list[tuple[S, datetime, int, str]]) -> dict:
    """The registration row and its audit entries, as `record_history` (and the waiting
    list's own instant, as a live decision) leaves them."""
    status = decided = waitlisted = None
    applied = steps[0][1]
    entries = []
    for to_status, when, actor, reason in steps:
        action = "registration.applied" if status is None else f"registration.{to_status.value}"
        if status == S.WITHDRAWN:
            action = "registration.reapplied"
            applied = when
        elif to_status == S.SUBMITTED and status in REOPENABLE:
            action = "registration.reopened"
        if to_status in DECIDED:
            decided = when
        elif to_status == S.SUBMITTED:
            decided = waitlisted = None
        if to_status == S.WAITLISTED:
            waitlisted = when
        entries.append(dict(created_at=when, actor_id=actor, action=action,
                            from_status=status and status.value, to_status=to_status.value,
                            reason=reason))
        status = to_status
    row = dict(event_id=event_id, user_id=user_id, status=status, role=EventRole.DELEGATE,
               responsible_partner_id=home, applied_at=applied, waitlisted_at=waitlisted,
               decided_at=decided, updated_at=steps[-1][1], calendar_sequence=0,
               badge_code=new_badge_code(), join_token=new_join_token())
    return {"row": row, "audit": entries, "org": org, "home": home}


def _unique_emails(rows: list[dict]) -> list[dict]:
    seen: Counter = Counter()
    for row in rows:
        seen[row["email"]] += 1
        if seen[row["email"]] > 1:
            local, _, domain = row["email"].partition("@")
            row["email"] = f"{local}{seen[row['email']]}@{domain}"
    return rows

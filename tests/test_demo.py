"""The demo data: faithful to the partnership's report, and usable. Loading it takes
seconds, so the module loads it once, on a connection of its own, and each test works in
a savepoint of that load, rolled back after it (tests/test_demo_loading.py loads it into
empty databases: idempotent, deterministic, the command)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from tests.conftest import bound_session, csrf_token
from webapp import demo
from webapp.extensions import db as _db
from webapp.inputs.agreements import AgreementIn
from webapp.inputs.events import EventIn, QuestionIn, SessionIn
from webapp.inputs.organizations import OrganizationIn
from webapp.inputs.partners import PartnerIn
from webapp.inputs.surveys import SurveyAnswerIn
from webapp.models import (
    MISSION_KINDS,
    Agreement,
    AgreementKind,
    AgreementStatus,
    Attendance,
    AttendanceSource,
    AuditEntry,
    Event,
    EventKind,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    PartnerKind,
    Registration,
    SurveyResponse,
    User,
    event_organizers,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import attendance as attendances
from webapp.services import checkin, join, kpis, quick_registration

FROZEN_NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


def dump_tables(skip: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table, all columns but `skip` ("table.column"), by primary key."""
    tables = {}
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if f"{table.name}.{c.name}" not in skip]
        rows = _db.session.execute(select(*columns).order_by(*table.primary_key.columns))
        tables[table.name] = [tuple(row) for row in rows]
    return tables


@pytest.fixture(scope="module")
def demo_database(app):
    """A connection holding the demo, loaded as of the module's start (the time returned),
    in a transaction rolled back after the module's last test."""
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        try:
            with bound_session(app, connection, keep=True):
                demo.load(now)
            yield connection, now
        finally:
            outer.rollback()
            connection.close()


@pytest.fixture
def db(app, demo_database):
    """The test's session, on the loaded demo: what it writes is rolled back after it."""
    connection, _now = demo_database
    with bound_session(app, connection) as bound:
        yield bound


@pytest.fixture
def loaded(db, demo_database) -> datetime:
    """The demo data, as loaded at `now` (returned)."""
    return demo_database[1]


def past_missions(now: datetime) -> list[Event]:
    return _db.session.scalars(
        select(Event)
        .where(Event.kind.in_(MISSION_KINDS), Event.ends_at < now)
        .order_by(Event.starts_at)
    ).all()


def member_smes() -> list[Organization]:
    return _db.session.scalars(
        select(Organization)
        .join(Organization.home_cluster)
        .where(
            Partner.is_member,
            Organization.helix == Helix.INDUSTRY,
            Organization.size != OrganizationSize.LARGE,
        )
    ).all()


def user_by_email(email: str) -> User:
    return _db.session.scalar(select(User).where(User.email == email))


# --------------------------------------------------------------------------- idempotent


# --------------------------------------------------------------------------- faithful to the report


def test_ten_member_clusters_in_ten_regions_one_in_aalborg(loaded):
    members = _db.session.scalars(select(Partner).where(Partner.is_member)).all()

    assert len(members) == 10
    assert {p.kind for p in members} == {PartnerKind.CLUSTER}
    assert len({p.country for p in members}) == 10
    assert [(p.city, p.country) for p in members if p.city == "Aalborg"] == [("Aalborg", "DK")]


def test_beachheads_and_ec2i_as_in_the_report(loaded):
    beachheads = _db.session.scalars(
        select(Partner).where(Partner.kind == PartnerKind.BEACHHEAD)
    ).all()
    ec2i = _db.session.scalar(select(Partner).where(Partner.slug == "ec2i"))

    assert {(p.name, p.country, p.city) for p in beachheads} == {
        ("IPI Singapore", "SG", "Singapore"),
        ("NECEC", "US", "Boston"),
        ("Bridge Innovation Partners", "US", "New York"),
    }
    assert not any(p.is_member for p in beachheads)
    assert (ec2i.kind, ec2i.is_member) == (PartnerKind.NETWORK, False)


def test_eighteen_regional_clusters_were_involved(loaded):
    past_organizers = (
        select(event_organizers.c.partner_id)
        .join(Event, Event.id == event_organizers.c.event_id)
        .where(Event.ends_at < loaded)
    )
    past_delegations = (
        select(Registration.responsible_partner_id)
        .join(Registration.event)
        .where(Registration.status == S.APPROVED, Event.ends_at < loaded)
    )
    involved = _db.session.scalars(
        select(Partner).where(
            Partner.kind == PartnerKind.CLUSTER,
            or_(Partner.id.in_(past_organizers), Partner.id.in_(past_delegations)),
        )
    ).all()

    assert len(involved) == 18
    assert Counter(p.is_member for p in involved) == {True: 10, False: 8}


def test_about_110_smes_spread_over_every_member_cluster(loaded):
    smes = member_smes()
    members = _db.session.scalars(select(Partner.id).where(Partner.is_member)).all()
    per_cluster = Counter(org.home_cluster_id for org in smes)

    assert 105 <= len(smes) <= 115
    assert set(per_cluster) == set(members)
    assert min(per_cluster.values()) >= 10
    assert {org.size for org in smes} == {
        OrganizationSize.MICRO, OrganizationSize.SMALL, OrganizationSize.MEDIUM
    }
    assert all(org.sector and org.city and org.website and org.profile for org in smes)


def test_each_sme_has_one_contact_and_the_triple_helix_is_there(loaded):
    contacts = Counter(
        _db.session.scalars(select(User.organization_id).where(User.organization_id.is_not(None)))
    )
    helixes = set(_db.session.scalars(select(Organization.helix)))
    target_region = _db.session.scalars(
        select(Organization).where(Organization.home_cluster_id.is_(None))
    ).all()

    assert all(contacts[org.id] == 1 for org in member_smes())
    assert helixes == set(Helix)
    # India's first partner is recorded for its agreement with Aalborg, without accounts.
    assert {org.country for org in target_region} == {"SG", "US", "IN"}


def test_109_smes_joined_a_past_mission(loaded):
    delegated = _db.session.scalars(
        select(Organization.id)
        .distinct()
        .join(User, User.organization_id == Organization.id)
        .join(Registration, Registration.user_id == User.id)
        .join(Registration.event)
        .where(
            Registration.status == S.APPROVED,
            Event.kind.in_(MISSION_KINDS),
            Event.ends_at < loaded,
            Organization.id.in_([org.id for org in member_smes()]),
        )
    ).all()

    assert len(delegated) == 109


@pytest.mark.parametrize(
    ("kind", "country", "year", "month", "timezone"),
    [
        (EventKind.FACT_FINDING_MISSION, "SG", 2018, 3, "Asia/Singapore"),
        (EventKind.OUTBOUND_MISSION, "SG", 2018, 7, "Asia/Singapore"),
        (EventKind.FACT_FINDING_MISSION, "US", 2018, 10, "America/New_York"),
        (EventKind.INBOUND_MISSION, "ES", 2018, 11, "Europe/Madrid"),
        (EventKind.OUTBOUND_MISSION, "SG", 2019, 6, "Asia/Singapore"),
        (EventKind.OUTBOUND_MISSION, "US", 2019, 10, "America/New_York"),
        (EventKind.INBOUND_MISSION, "ES", 2019, 11, "Europe/Madrid"),
    ],
)
def test_the_reports_missions_took_place_when_and_where_it_says(
    loaded, kind, country, year, month, timezone
):
    matches = [
        event for event in past_missions(loaded)
        if (event.kind, event.target_country) == (kind, country)
        and (event.starts_at.astimezone(ZoneInfo(timezone)).year,
             event.starts_at.astimezone(ZoneInfo(timezone)).month) == (year, month)
    ]

    assert len(matches) == 1
    mission = matches[0]
    assert mission.timezone == timezone
    assert mission.status == EventStatus.CLOSED
    assert mission.organizers and mission.hosts and mission.capacity
    assert mission.description and mission.venue and mission.target_city
    assert len(mission.sessions) >= 4


def test_the_usa_fact_finding_mission_was_organized_with_ec2i(loaded):
    mission = _db.session.scalar(
        select(Event).where(Event.slug == "fact-finding-mission-boston-new-york-2018")
    )

    assert "ec2i" in {p.slug for p in mission.organizers}
    assert {p.slug for p in mission.hosts} == {"necec", "bridge-innovation-partners"}


def test_barcelona_missions_have_the_workshop_the_matchmaking_and_the_reception(loaded):
    barcelona = [e for e in past_missions(loaded) if e.kind == EventKind.INBOUND_MISSION]

    assert len(barcelona) == 2
    for mission in barcelona:
        titles = " | ".join(s.title for s in mission.sessions).lower()
        assert "workshop" in titles and "matchmaking" in titles and "reception" in titles
        assert any(s.all_day for s in mission.sessions)


def test_agendas_lie_within_their_events(loaded):
    for event in _db.session.scalars(select(Event).options(selectinload(Event.sessions))):
        first_day, last_day = (
            event.starts_at.astimezone(event.zone).date(),
            event.ends_at.astimezone(event.zone).date(),
        )
        for item in event.sessions:
            if item.all_day:
                assert first_day <= item.start_date <= item.end_date <= last_day, item.title
            else:
                assert event.starts_at <= item.starts_at < item.ends_at <= event.ends_at, item.title


def test_every_mission_has_a_webinar_shortly_before_it(loaded):
    missions = _db.session.scalars(
        select(Event).where(Event.kind.in_(MISSION_KINDS), Event.status != EventStatus.DRAFT)
    ).all()
    webinars = _db.session.scalars(select(Event).where(Event.kind == EventKind.WEBINAR)).all()

    assert len(missions) == 10
    for mission in missions:
        promoting = [
            w for w in webinars
            if w.target_country == mission.target_country
            and timedelta(0) < mission.starts_at - w.starts_at <= timedelta(days=90)
        ]
        assert len(promoting) == 1, mission.title
        webinar = promoting[0]
        assert webinar.is_online and not webinar.requires_approval
        assert webinar.ends_at - webinar.starts_at <= timedelta(hours=2)


def test_upcoming_events_start_after_now_with_registration_open(loaded):
    upcoming = _db.session.scalars(
        select(Event).where(Event.status == EventStatus.PUBLISHED, Event.ends_at >= loaded)
    ).all()
    kinds = Counter(event.kind for event in upcoming)

    assert kinds[EventKind.OUTBOUND_MISSION] == 2
    assert kinds[EventKind.INBOUND_MISSION] == 1
    assert 2 <= kinds[EventKind.WEBINAR] <= 3
    for event in upcoming:
        assert loaded < event.starts_at < loaded + timedelta(days=366), event.title
        assert event.registration_is_open(loaded), event.title
    assert {e.target_country for e in upcoming if e.kind.is_mission} == {"SG", "US", "ES"}


def test_the_next_singapore_mission_has_a_timed_agenda_in_singapore_time(loaded):
    mission = _db.session.scalar(
        select(Event).where(
            Event.kind == EventKind.OUTBOUND_MISSION,
            Event.target_country == "SG",
            Event.starts_at > loaded,
        )
    )
    timed = [s for s in mission.agenda if not s.all_day]
    local_hours = {s.starts_at.astimezone(ZoneInfo("Asia/Singapore")).hour for s in timed}

    assert mission.timezone == "Asia/Singapore"
    assert not mission.agenda[0].all_day
    assert len(timed) >= 4
    assert local_hours <= set(range(8, 20))
    assert any(s.all_day for s in mission.agenda)


def test_the_draft_is_visible_only_to_its_organizers(loaded, client, login_as):
    draft = _db.session.scalar(select(Event).where(Event.status == EventStatus.DRAFT))
    path = f"/events/{draft.slug}"

    assert draft.title not in client.get("/events").get_data(as_text=True)
    assert client.get(path).status_code == 404

    login_as(user_by_email(demo.BARCELONA.manager_email))
    assert client.get(path).status_code == 404

    login_as(user_by_email(demo.AALBORG.manager_email))
    assert draft.title in client.get("/events").get_data(as_text=True)
    assert client.get(path).status_code == 200


def test_every_public_event_page_renders(loaded, client):
    slugs = _db.session.scalars(select(Event.slug).where(Event.status != EventStatus.DRAFT))

    for slug in slugs:
        assert client.get(f"/events/{slug}").status_code == 200, slug
    assert client.get("/events?when=past").status_code == 200


def test_webinars_meet_in_demo_rooms_with_the_default_reminders(loaded):
    webinars = _db.session.scalars(select(Event).where(Event.kind == EventKind.WEBINAR)).all()

    assert len(webinars) == 10
    for webinar in webinars:
        assert webinar.online_url == f"https://meet.{demo.DEMO_DOMAIN}/{webinar.slug}"
        assert webinar.meets_online and webinar.timezone == "Europe/Brussels"
        assert webinar.reminder_offsets == [1440, 60]
    titles = {w.title for w in webinars if w.starts_at > loaded}
    assert any(t.startswith("Webinar: doing business in Singapore") for t in titles)
    assert any(t.startswith("Webinar: meet the Boston and New York beachheads") for t in titles)


def test_upcoming_public_webinars_are_open_for_quick_registration(loaded, client):
    upcoming = _db.session.scalars(select(Event).where(
        Event.kind == EventKind.WEBINAR, Event.starts_at > loaded)).all()

    assert upcoming
    for webinar in upcoming:
        assert quick_registration.refusal(webinar, loaded) is None, webinar.title
    page = client.get(f"/events/{upcoming[0].slug}").get_data(as_text=True)
    assert 'data-testid="quick-form"' in page


def test_a_past_webinar_has_its_recording_and_the_attendance_of_its_join_links(loaded):
    webinar = _db.session.scalar(select(Event).where(Event.slug == demo.RECORDED_WEBINAR))
    report = checkin.attendance_of(webinar)

    assert webinar.ends_at < loaded
    assert webinar.recording_url.startswith(f"https://video.{demo.DEMO_DOMAIN}/recordings/")
    assert 0 < len(report.present) < report.expected
    assert len(report.present) == round(demo.WEBINAR_TURNOUT * report.expected)
    for row in report.present:
        attendance = row.attendance
        assert attendance.source == AttendanceSource.JOIN_LINK
        assert attendance.recorded_by_id is None
        assert join.window(webinar)[0] <= attendance.recorded_at < webinar.ends_at
    assert webinar.recording_mailed_at > webinar.ends_at  # told then, not again now
    totals = attendances.webinar_report(webinar).total
    assert (totals.approved, totals.opened) == (report.expected, len(report.present))
    # Opening a join link now leads to the recording.
    answer = join.open_link(report.present[0].registration.join_token, loaded)
    assert answer.outcome == join.Outcome.ENDED and answer.recording_url == webinar.recording_url
    others = _db.session.scalars(select(Event).where(
        Event.kind == EventKind.WEBINAR, Event.slug != demo.RECORDED_WEBINAR)).all()
    assert all(w.recording_url == "" for w in others)
    webinar_attendances = select(func.count()).select_from(Attendance).join(
        Registration).join(Event).where(Event.kind == EventKind.WEBINAR)
    assert _db.session.scalar(webinar_attendances) == len(report.present)


def test_every_approved_delegate_of_a_past_mission_was_checked_in(loaded):
    approved = _db.session.scalars(
        select(Registration.id).join(Registration.event)
        .where(Event.kind.in_(MISSION_KINDS), Event.ends_at < loaded,
               Registration.status == S.APPROVED)).all()
    checked_in = _db.session.execute(
        select(Attendance, Event).join(Attendance.registration).join(Registration.event)
        .where(Attendance.session_id.is_(None), Attendance.source == AttendanceSource.CHECK_IN)
    ).all()

    assert approved and sorted(a.registration_id for a, _e in checked_in) == sorted(approved)
    # Each inside its event's check-in window, so the KPIs count every one of them.
    assert all(checkin.window(event).holds(a.recorded_at) for a, event in checked_in)


def test_the_dashboard_shows_the_reports_figures_for_2018_2019(loaded, client, login_as):
    programme = kpis.Period(date(2018, 1, 1), date(2019, 12, 31))
    figures = kpis.headline(programme)

    assert (figures.clusters, figures.partnership_agreements, figures.smes,
            figures.collaboration_agreements) == (18, 4, 109, 8)
    login_as(user_by_email(demo.ADMIN.email))
    page = client.get("/kpis/?start=2018-01-01&end=2019-12-31").get_data(as_text=True)
    for figure, value in (("clusters", 18), ("partnership_agreements", 4), ("smes", 109),
                          ("collaboration_agreements", 8)):
        assert re.search(rf'data-testid="figure-{figure}">{value}<', page), figure
    # The delegates' own verdict, from the demo's first-round survey answers.
    assert 3.8 <= figures.satisfaction <= 4.5 and figures.satisfaction_answers > 50
    assert f'data-testid="figure-satisfaction">{figures.satisfaction:.1f} (' in page


def test_aalborg_and_india_signed_the_first_collaboration(loaded):
    agreement = _db.session.scalar(
        select(Agreement).where(Agreement.title.contains("India")))

    assert agreement.kind == AgreementKind.COLLABORATION
    assert agreement.status == AgreementStatus.SIGNED
    assert [(p.name, p.country) for p in agreement.parties] == [
        (demo.CITY_OF_AALBORG, "DK"), (demo.INDIA_PARTNER, "IN")]
    india = _db.session.scalar(select(Organization).where(
        Organization.name == demo.INDIA_PARTNER))
    assert _db.session.scalar(select(func.count(User.id)).where(
        User.organization_id == india.id)) == 0


def test_agreements_in_negotiation_are_in_the_demo_but_not_counted(loaded):
    negotiating = _db.session.scalars(select(Agreement).where(
        Agreement.status == AgreementStatus.IN_NEGOTIATION)).all()

    assert {a.kind for a in negotiating} == {AgreementKind.PARTNERSHIP,
                                            AgreementKind.COLLABORATION}
    total = _db.session.scalar(select(func.count(Agreement.id)))
    assert total == 4 + 8 + len(negotiating)


# --------------------------------------------------------------------------- registrations


def test_past_registrations_went_through_every_status(loaded):
    statuses = Counter(
        _db.session.scalars(
            select(Registration.status).join(Registration.event).where(Event.ends_at < loaded)
        )
    )
    all_statuses = set(_db.session.scalars(select(Registration.status)))

    assert set(statuses) >= set(S) - {S.SUBMITTED}
    assert all_statuses == set(S)


def test_every_history_is_a_walk_that_ends_at_the_current_status(loaded):
    regs = _db.session.scalars(
        select(Registration).options(selectinload(Registration.history))
    ).all()

    for reg in regs:
        walk = [(e.from_status, e.to_status) for e in reg.history]
        assert walk, reg
        assert walk[0][0] is None
        assert all(prev[1] == step[0] for prev, step in pairwise(walk))
        assert walk[-1][1] == reg.status.value
        assert reg.updated_at == reg.history[-1].created_at


def is_the_members_own_step(entry: AuditEntry) -> bool:
    """Members apply and withdraw; joining an event without approval is their step too."""
    if entry.to_status in (S.SUBMITTED, S.WITHDRAWN):
        return True
    return entry.to_status == S.APPROVED and not entry.registration.event.requires_approval


def test_applicants_apply_and_managers_decide_before_the_event(loaded):
    # The registrations' history; the other entries are those of the services that
    # created the partners, events and agreements, each dated when it happened.
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.registration_id.is_not(None))
        .options(selectinload(AuditEntry.registration))
    ).all()

    assert entries
    for entry in entries:
        reg = entry.registration
        if is_the_members_own_step(entry):
            assert entry.actor_id == reg.user_id
        else:
            assert entry.actor_id != reg.user_id
            assert entry.actor.grants
        assert reg.event.registration_opens_at <= entry.created_at
        assert entry.created_at < min(reg.event.starts_at, loaded)


def test_past_missions_stayed_within_capacity(loaded):
    for mission in past_missions(loaded):
        approved = sum(1 for _ in _db.session.scalars(
            select(Registration.id).where(
                Registration.event_id == mission.id, Registration.status == S.APPROVED
            )
        ))
        assert 0 < approved <= mission.capacity, mission.title


def test_the_demo_sme_has_past_registrations_and_a_pending_application(loaded):
    sme = user_by_email(demo.DEMO_SME.email)
    regs = _db.session.scalars(select(Registration).where(Registration.user_id == sme.id)).all()
    pending = [r for r in regs if r.status == S.SUBMITTED]

    assert sme.organization.home_cluster.city == "Aalborg"
    assert sum(1 for r in regs if r.event.ends_at < loaded) >= 2
    assert len(pending) == 1
    assert pending[0].event.target_country == "SG"
    assert pending[0].event.kind == EventKind.OUTBOUND_MISSION
    assert pending[0].responsible_partner.slug == demo.AALBORG.slug


def _upcoming_singapore_mission(now: datetime) -> Event:
    return _db.session.scalar(select(Event).where(
        Event.kind == EventKind.OUTBOUND_MISSION, Event.target_country == "SG",
        Event.starts_at > now))


def _desk_rows(client, event: Event) -> set[int]:
    page = client.get(f"/desk/?event={event.id}&per_page=100").get_data(as_text=True)
    return {int(found) for found in re.findall(r'data-registration="(\d+)"', page)}


def test_the_non_organizing_manager_sees_only_their_clusters_applicants_on_the_desk(
    loaded, client, login_as
):
    mission = _upcoming_singapore_mission(loaded)
    applications = _db.session.scalars(
        select(Registration).where(Registration.event_id == mission.id)).all()
    own = {r.id for r in applications if r.responsible_partner.slug == demo.TAMPERE.slug}
    pending = {r.id for r in applications
               if r.id in own and r.status == S.SUBMITTED}
    others = {r.id for r in applications} - own
    manager = user_by_email(demo.TAMPERE.manager_email)

    assert demo.TAMPERE.slug not in {p.slug for p in mission.organizers}
    assert pending == own and len(own) == demo.NON_ORGANIZER_PENDING and others
    assert manager.email in {account.email for account in demo.DEMO_ACCOUNTS}
    login_as(manager)
    page = client.get(f"/desk/?event={mission.id}").get_data(as_text=True)
    assert _desk_rows(client, mission) == own
    for reg_id in own:  # each can be ticked and decided there
        assert f'id="tick-{reg_id}"' in page
    for reg_id in others:  # another cluster's applicant to the same mission is out of sight
        assert client.get(f"/desk/registrations/{reg_id}").status_code == 404
    # An organizer of the mission sees, and decides, every applicant to it.
    login_as(user_by_email(demo.AALBORG.manager_email))
    assert _desk_rows(client, mission) == own | others


# --------------------------------------------------------------------------- names and accounts


def test_names_keep_their_diacritics(loaded):
    organizations = " ".join(_db.session.scalars(select(Organization.name)))
    people = " ".join(_db.session.scalars(select(User.name)))

    assert set("øåéçłäï") <= set(organizations)
    assert set("øåéñçłüä") <= set(people)


def test_only_the_demo_accounts_can_sign_in(loaded):
    with_password = set(
        _db.session.scalars(select(User.email).where(User.password_hash.is_not(None)))
    )

    assert with_password == {account.email for account in demo.DEMO_ACCOUNTS}
    assert len(demo.DEMO_PASSWORD) >= 10


def test_every_member_cluster_has_a_manager(loaded):
    members = _db.session.scalars(select(Partner).where(Partner.is_member)).all()
    managed = {g.partner_id for u in _db.session.scalars(select(User)) for g in u.grants}

    assert {p.id for p in members} <= managed


@pytest.mark.parametrize("account", demo.DEMO_ACCOUNTS, ids=lambda account: account.email)
def test_every_demo_account_signs_in(loaded, client, account):
    response = client.post(
        "/login",
        data={
            "email": account.email,
            "password": demo.DEMO_PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert f'data-testid="current-user">{escape(account.name)}<' in response.get_data(
        as_text=True
    )
    assert client.get("/account/registrations").status_code == 200
    if account.grant is not None:
        assert client.get("/desk/").status_code == 200


def test_the_demo_history_mails_nobody(loaded):
    from webapp.models import OutboxMessage

    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --------------------------------------------------------------------------- through the services


def read_back(model, row, **computed):
    """`row` as its input model reads it: the columns named as the model's fields, and
    `computed` for the fields no column holds as such (local times, ids of relations)."""
    values = {name: getattr(row, name) for name in model.model_fields
              if name not in computed and hasattr(row, name)}
    return model.from_values(**values, **computed)


def wall_clock(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    return at.astimezone(zone).replace(tzinfo=None) if at else None


def test_the_demo_passes_the_validation_of_any_other_input(loaded):
    """Loaded through the services, every partner, organization, event with its agenda
    and questions, agreement and survey answer of the demo, read back, validates through
    the input model a form or the API would send it through, and names the same
    instants."""
    for partner in _db.session.scalars(select(Partner)):
        assert read_back(PartnerIn, partner).name == partner.name
    for organization in _db.session.scalars(select(Organization)):
        assert read_back(OrganizationIn, organization).name == organization.name
    events = _db.session.scalars(select(Event).options(
        selectinload(Event.sessions), selectinload(Event.questions))).all()
    for event in events:
        zone = event.zone
        checked = read_back(
            EventIn, event, organizer_ids=[p.id for p in event.organizers],
            host_ids=[p.id for p in event.hosts],
            **{local: wall_clock(getattr(event, column), zone) for local, column in (
                ("starts_local", "starts_at"), ("ends_local", "ends_at"),
                ("registration_opens_local", "registration_opens_at"),
                ("registration_closes_local", "registration_closes_at"))})
        assert (checked.starts_at, checked.ends_at, checked.registration_opens_at,
                checked.registration_closes_at) == (
            event.starts_at, event.ends_at, event.registration_opens_at,
            event.registration_closes_at), event.slug
        for item in event.sessions:
            read_back(SessionIn, item, starts_local=wall_clock(item.starts_at, zone),
                      ends_local=wall_clock(item.ends_at, zone))
        for question in event.questions:
            read_back(QuestionIn, question)
    for agreement in _db.session.scalars(select(Agreement)):
        read_back(AgreementIn, agreement, parties=[
            f"partner:{p.partner_id}" if p.partner_id else f"organization:{p.organization_id}"
            for p in agreement.parties])
    responses = _db.session.scalars(select(SurveyResponse)).all()
    assert responses
    for response in responses:
        read_back(SurveyAnswerIn, response)


# --------------------------------------------------------------------------- matchmaking


def _expo_missions() -> list[Event]:
    """The inbound missions at the Smart City Expo: 2018, 2019 and the next one."""
    return _db.session.scalars(
        select(Event).where(Event.kind == EventKind.INBOUND_MISSION,
                            Event.slug.like("inbound-mission-smart-city-expo-barcelona-%"))
        .order_by(Event.starts_at)).all()


def _meeting_requests():
    from webapp.models import MeetingRequest, Participant

    return _db.session.scalars(select(MeetingRequest).options(
        selectinload(MeetingRequest.requester).selectinload(Participant.registration),
        selectinload(MeetingRequest.receiver).selectinload(Participant.registration))
        .order_by(MeetingRequest.id)).all()


def test_the_expo_missions_carry_matchmaking_in_their_dates(loaded):
    from webapp.models import Matchmaking, MeetingPointKind, RequestMode

    expos = _expo_missions()
    assert [e.starts_at.year for e in expos[:2]] == [2018, 2019] and expos[2].starts_at > loaded
    by_event = {m.event_id: m for m in _db.session.scalars(select(Matchmaking))}
    assert set(by_event) == {e.id for e in expos}
    for event in expos:
        market = by_event[event.id]
        assert market.enabled and market.request_mode == RequestMode.RECEIVER_ACCEPTS
        assert (market.meeting_minutes, market.break_minutes,
                market.request_expiry_hours) == (30, 10, 72)
        assert market.requests_open_at < event.starts_at
        assert market.requests_close_at == event.ends_at
        local_days = {b.starts_at.astimezone(event.zone).date() for b in market.blocks}
        assert len(local_days) == 2
        assert all(event.starts_at <= b.starts_at < b.ends_at <= event.ends_at
                   for b in market.blocks)
        assert len(market.slot_starts()) >= 12
        tables = [p.name for p in market.points if p.kind == MeetingPointKind.TABLE]
        assert tables == [f"Table {n}" for n in range(1, 21)]
        assert 1 <= sum(p.kind == MeetingPointKind.BOOTH for p in market.points) <= 4
    # Only the next one takes requests now.
    assert [by_event[e.id].requests_open(loaded) for e in expos] == [False, False, True]


def test_about_60_participants_with_a_profile_and_opportunities(loaded, app):
    from webapp.models import Participant

    participants = _db.session.scalars(select(Participant).options(
        selectinload(Participant.opportunities), selectinload(Participant.registration),
        selectinload(Participant.participant_type))).all()

    assert 55 <= len(participants) <= 65
    assert {p.event_id for p in participants} == {e.id for e in _expo_missions()}
    assert {p.participant_type.key for p in participants} >= {
        "sme", "research", "host_stakeholder"}
    for participant in participants:
        registration = participant.registration
        assert registration.status == S.APPROVED and registration.event_id == participant.event_id
        assert participant.consents
        assert participant.consent_version == app.config["CONSENT_VERSION"]
        assert (registration.decided_at or registration.applied_at) \
            < participant.consent_given_at < loaded
        assert participant.sectors and len(participant.technologies.splitlines()) == 2
        assert 1 <= len(participant.opportunities) <= 3
        for opportunity in participant.opportunities:
            assert opportunity.title and opportunity.text and opportunity.tags
            assert opportunity.opportunity_type.key in ("offer", "request")
            assert opportunity.created_at > participant.consent_given_at
    tags = {tag for p in participants for o in p.opportunities for tag in o.tags.splitlines()}
    assert {"smart lighting", "mobility data", "digital twins", "energy", "water",
            "air quality"} <= tags


def test_about_150_meeting_requests_in_every_state_between_one_events_participants(loaded):
    from webapp.models import OPEN_REQUEST_STATUSES, MeetingRequestStatus, OutboxMessage

    requests = _meeting_requests()
    upcoming = _expo_missions()[2]

    assert 140 <= len(requests) <= 160
    assert {r.status for r in requests} == set(MeetingRequestStatus)
    for request in requests:
        sides = (request.requester, request.receiver)
        assert request.requester_id != request.receiver_id
        assert {side.event_id for side in sides} == {request.event_id}
        assert (request.pair_low, request.pair_high) == tuple(sorted(s.id for s in sides))
        assert max(s.consent_given_at for s in sides) < request.created_at < loaded
        assert request.expires_at == request.created_at + timedelta(hours=72)
        if request.decided_at:
            assert request.created_at < request.decided_at <= request.updated_at
        if request.status == MeetingRequestStatus.REQUESTED:
            # Still open: unanswered, and not yet due for expiry.
            assert request.event_id == upcoming.id and request.expires_at > loaded
        if request.status == MeetingRequestStatus.EXPIRED:
            assert request.updated_at == request.expires_at < loaded
        if request.status in (MeetingRequestStatus.DECLINED, MeetingRequestStatus.CANCELLED):
            assert request.reason
    # The past missions' requests all ended one way or another; the next one's are open too.
    past = Counter(r.status for r in requests if r.event_id != upcoming.id)
    assert MeetingRequestStatus.REQUESTED not in past and past[MeetingRequestStatus.ACCEPTED]
    coming = Counter(r.status for r in requests if r.event_id == upcoming.id)
    assert set(coming) == set(MeetingRequestStatus)
    # Every pair has at most one request, whichever side asked.
    pairs = Counter((r.pair_low, r.pair_high) for r in requests
                    if r.status in OPEN_REQUEST_STATUSES)
    assert pairs and max(pairs.values()) == 1
    # Recorded through the state machine, each move audited when it happened, mailing nobody.
    first_moves = {subject: at for subject, at in _db.session.execute(
        select(AuditEntry.subject_id, func.min(AuditEntry.created_at))
        .where(AuditEntry.subject_type == "meeting_request")
        .group_by(AuditEntry.subject_id))}
    assert first_moves == {r.id: r.created_at for r in requests}
    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_next_expo_has_a_real_marketplace_of_delegates_and_invited_stakeholders(loaded):
    from webapp import access
    from webapp.models import EventRole

    upcoming = _expo_missions()[2]
    visible = _db.session.scalars(access.visible_participants(upcoming)).all()

    assert len(visible) >= 25
    kinds = Counter(p.participant_type.key for p in visible)
    assert kinds["sme"] >= 10 and kinds["host_stakeholder"] >= 8
    # The stakeholders were registered by the organizers as hosts, outside capacity, and
    # belong to no cluster.
    for participant in visible:
        registration = participant.registration
        if participant.participant_type.key == "host_stakeholder":
            assert registration.role == EventRole.HOST
            assert registration.user.organization.home_cluster_id is None
            assert registration.responsible_partner_id is None
            assert registration.calendar_uid is None  # no invitation went out
        else:
            assert registration.role == EventRole.DELEGATE


def test_the_marketplaces_leave_the_kpis_as_the_report_says(loaded):
    programme = kpis.headline(kpis.Period(date(2018, 1, 1), date(2019, 12, 31)))
    all_time = kpis.headline(kpis.Period())

    for figures in (programme, all_time):
        assert (figures.smes, figures.clusters, figures.partnership_agreements,
                figures.collaboration_agreements) == (109, 18, 4, 8)


def test_the_marketplaces_pass_the_validation_of_any_other_input(loaded):
    from webapp.inputs.matchmaking import OpportunityIn, ProfileIn
    from webapp.models import Opportunity, Participant

    for participant in _db.session.scalars(select(Participant)):
        read_back(ProfileIn, participant, participant_type=participant.participant_type.key)
    for opportunity in _db.session.scalars(select(Opportunity)):
        assert read_back(OpportunityIn, opportunity,
                         opportunity_type=opportunity.opportunity_type.key).title == (
            opportunity.title)


# --------------------------------------------------------------------------- meetings


def _placed_meetings(event: Event):
    from webapp.models import Meeting, MeetingRequest

    return _db.session.scalars(
        select(Meeting).where(Meeting.event_id == event.id, Meeting.starts_at.is_not(None))
        .options(selectinload(Meeting.request).selectinload(MeetingRequest.requester),
                 selectinload(Meeting.request).selectinload(MeetingRequest.receiver))
        .order_by(Meeting.id)).all()


def test_the_expos_meetings_are_scheduled_over_two_days_without_double_booking(loaded):
    from webapp.models import (
        MeetingRequest,
        MeetingRequestStatus,
        ScheduleState,
        UnavailableSlot,
    )
    from webapp.services import meeting_schedule

    states = []
    for event in _expo_missions():
        settings = meeting_schedule.settings_of(event.id)
        states.append(settings.schedule_state)
        run = meeting_schedule.last_run(settings)
        assert run is not None and run.error is None
        assert run.meetings_outcome == "optimal" and run.placed == run.most
        assert run.idle is not None and run.idle_bound <= run.idle
        meetings = _placed_meetings(event)
        accepted = set(_db.session.scalars(select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id,
            MeetingRequest.status == MeetingRequestStatus.ACCEPTED)))
        placed = {m.request_id for m in meetings}
        assert placed <= accepted and len(placed) == run.placed > 0
        # Every accepted meeting left out has its reason in the last run.
        assert {str(key) for key in accepted - placed} == set(run.unplaced)
        assert all(run.unplaced.values())
        slots = set(settings.slot_starts())
        points = {p.id for p in settings.points}
        seats = Counter()
        for meeting in meetings:
            assert meeting.starts_at in slots and meeting.point_id in points
            for side in (meeting.request.requester_id, meeting.request.receiver_id):
                seats[side, meeting.starts_at] += 1
        assert max(seats.values()) == 1  # nobody in two meetings at once
        assert max(Counter((m.point_id, m.starts_at) for m in meetings).values()) == 1
        blocked = set(_db.session.execute(
            select(UnavailableSlot.participant_id, UnavailableSlot.starts_at)
            .where(UnavailableSlot.participant_id.in_({side for side, _ in seats}))).all())
        assert blocked and not blocked & set(seats)
        assert len({m.starts_at.astimezone(event.zone).date() for m in meetings}) == 2
    assert states == [ScheduleState.FINAL, ScheduleState.FINAL, ScheduleState.PRELIMINARY]


def test_the_barcelona_collaboration_agreements_came_from_meetings_held_there(loaded):
    from webapp.models import (
        FollowUpAnswer,
        MeetingFollowUp,
        MeetingRating,
        MeetingRatingAnswer,
    )
    from webapp.services import meeting_outcomes

    barcelona = {demo.BCN_2018, demo.BCN_2019}
    specs = [s for s in demo.AGREEMENTS
             if s.origin in barcelona and s.kind == AgreementKind.COLLABORATION]
    assert len(specs) == 3
    linked = set()
    for spec in specs:
        agreement = _db.session.scalar(select(Agreement).where(Agreement.title == spec.title))
        organizations = {p.organization_id for p in agreement.parties}
        met = [m for m in _placed_meetings(agreement.origin_event)
               if {m.request.requester.registration.user.organization_id,
                   m.request.receiver.registration.user.organization_id} == organizations]
        assert len(met) == 1, spec.title
        meeting = met[0]
        assert meeting.starts_at < datetime.combine(agreement.started_on, datetime.min.time(),
                                                    tzinfo=UTC) + timedelta(days=1)
        assert meeting_outcomes.held_of(meeting.id) is not None
        assert set(_db.session.scalars(select(MeetingRating.answer).where(
            MeetingRating.meeting_id == meeting.id))) == {
            MeetingRatingAnswer.COOPERATION_POSSIBLE}
        answers = set(_db.session.scalars(select(MeetingFollowUp.answer).where(
            MeetingFollowUp.meeting_id == meeting.id)))
        if agreement.status == AgreementStatus.SIGNED:
            assert answers == {FollowUpAnswer.AGREEMENT_REACHED}
            assert meeting_outcomes.recorded_agreement(meeting.id) == agreement
            linked.add(agreement.id)
        else:
            assert answers == {FollowUpAnswer.NEGOTIATION_STARTED}
            assert meeting_outcomes.recorded_agreement(meeting.id) is None
    # No other follow-up names an agreement, and none was created for them.
    assert set(_db.session.scalars(select(MeetingFollowUp.agreement_id).where(
        MeetingFollowUp.agreement_id.is_not(None)))) == linked
    assert _db.session.scalar(select(func.count()).select_from(Agreement)) == len(
        demo.AGREEMENTS)


def test_the_past_expos_figures_tell_what_their_meetings_led_to(loaded):
    from webapp.services import meeting_outcomes

    agreements = []
    for event in _expo_missions()[:2]:
        figures = meeting_outcomes.figures(event.id, now=loaded)
        assert figures.scheduled == len(_placed_meetings(event)) >= 20
        assert figures.held + figures.no_shows == figures.scheduled
        assert figures.held > figures.no_shows >= 1  # most were held
        assert all(figures.held_by.values())  # by badge scans and by both sides' "we met"
        assert len(figures.ratings) >= 3 and figures.comments
        assert figures.follow_ups_sent > sum(figures.follow_ups.values()) >= 10
        assert len(figures.follow_ups) >= 3
        agreements.append(figures.agreements)
    assert agreements == [2, 0]
    upcoming = meeting_outcomes.figures(_expo_missions()[2].id, now=loaded)
    assert upcoming.scheduled and not (upcoming.held or upcoming.no_shows or upcoming.ratings)

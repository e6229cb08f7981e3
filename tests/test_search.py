"""Every search box finds names as people type them: in any case, with or without their
accents (é = e = É, ø ~ o and oe, ł ~ l, ß ~ ss, æ ~ ae), `%`, `_` and quotes as plain
characters, a long query cut and never failing. The same tests run on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL. Also: the public catalogue's filters, and the keys kept
current when a name changes."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import func, or_, select, text

from tests.conftest import count_queries
from tests.factories import at
from webapp import create_app
from webapp.extensions import db as _db
from webapp.inputs.accounts import ProfileIn
from webapp.inputs.events import EventIn
from webapp.models import Event, EventKind, Organization, User, search, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import accounts, events, organizations, privacy

LONG = "x" * 1000
# A year every event of these tests is still to come in.
NEXT = utcnow().year + 1

# ------------------------------------------------------------------------ what is typed

PEOPLE = ("Étienne Moreau", "Søren Ærø", "Łucja Wałęsa", "Jörg Straße", "Siobhán O'Brien",
          "Stefan Ernst")
ORGANIZATIONS = ("Łódź Robotics", "Ærø Energi", "Straßenbau Nord", "Saint-Étienne Design",
                 "100% Solar_Power O'Neill", "Plain Metals")
EVENTS = {
    "Smart ports of Łódź": dict(target_country="PL", target_city="Łódź",
                                timezone="Europe/Warsaw"),
    "Energy island Ærø": dict(target_country="DK", target_city="Ærøskøbing",
                              timezone="Europe/Copenhagen"),
    "Straßenbahn futures": dict(target_country="DE", target_city="München",
                                timezone="Europe/Berlin"),
    "Saint-Étienne design week": dict(target_country="FR", target_city="Saint-Étienne",
                                      timezone="Europe/Paris"),
    "100% Solar_Power at O'Connell's": dict(target_country="IE", target_city="Dublin",
                                            timezone="Europe/Dublin"),
    "Boston mobility mission": dict(target_country="US", target_city="Boston",
                                    timezone="America/New_York"),
}

# (typed, found): the names a box lists out of its table above, and none other.
PEOPLE_CASES = [
    ("étienne", {"Étienne Moreau"}), ("ETIENNE", {"Étienne Moreau"}),
    ("Etienne", {"Étienne Moreau"}), ("éTIENNE", {"Étienne Moreau"}),
    ("moreau étienne", {"Étienne Moreau"}),
    ("soren", {"Søren Ærø"}), ("SØREN", {"Søren Ærø"}), ("soeren", {"Søren Ærø"}),
    ("aeroe", {"Søren Ærø"}), ("aero", {"Søren Ærø"}),
    ("lucja walesa", {"Łucja Wałęsa"}), ("WAŁĘSA", {"Łucja Wałęsa"}),
    ("strasse", {"Jörg Straße"}), ("jorg", {"Jörg Straße"}), ("JOERG", {"Jörg Straße"}),
    ("siobhan", {"Siobhán O'Brien"}), ("o'brien", {"Siobhán O'Brien"}),
    ("'", {"Siobhán O'Brien"}),
    ("étienne ernst", set()), ("zoltan", set()),
    ("%", set()), ("_", set()), ('"', set()), (LONG, set()),
    # Cut to the length searched: what comes after is not searched, not a failure.
    ("étienne" + " " * 300 + "zoltan", {"Étienne Moreau"}),
]
# Boxes that search the person's organization too (everyone but Łucja is at Plain Metals).
WITH_ORGANIZATION_CASES = [
    ("lodz", {"Łucja Wałęsa"}), ("ŁÓDŹ robotics", {"Łucja Wałęsa"}),
    ("plain étienne", {"Étienne Moreau"}),
]
ORGANIZATION_CASES = [
    ("lodz", {"Łódź Robotics"}), ("ŁÓDŹ", {"Łódź Robotics"}), ("Lodz", {"Łódź Robotics"}),
    ("aeroe", {"Ærø Energi"}), ("aero", {"Ærø Energi"}), ("ÆRØ", {"Ærø Energi"}),
    ("strasse", {"Straßenbau Nord"}), ("STRASSENBAU", {"Straßenbau Nord"}),
    ("étienne", {"Saint-Étienne Design"}), ("ETIENNE", {"Saint-Étienne Design"}),
    ("Etienne", {"Saint-Étienne Design"}),
    ("%", {"100% Solar_Power O'Neill"}), ("_", {"100% Solar_Power O'Neill"}),
    ("'", {"100% Solar_Power O'Neill"}), ("100%", {"100% Solar_Power O'Neill"}),
    ("metals lodz", set()), (LONG, set()),
]
EVENT_CASES = [
    ("étienne", {"Saint-Étienne design week"}), ("ETIENNE", {"Saint-Étienne design week"}),
    ("Etienne", {"Saint-Étienne design week"}),
    ("lodz", {"Smart ports of Łódź"}), ("poland", {"Smart ports of Łódź"}),
    ("aeroe", {"Energy island Ærø"}), ("aero", {"Energy island Ærø"}),
    ("ÆRØSKØBING", {"Energy island Ærø"}), ("aeroskobing", {"Energy island Ærø"}),
    ("strasse", {"Straßenbahn futures"}), ("munchen", {"Straßenbahn futures"}),
    ("muenchen", {"Straßenbahn futures"}),
    ("%", {"100% Solar_Power at O'Connell's"}), ("_", {"100% Solar_Power at O'Connell's"}),
    ("'", {"100% Solar_Power at O'Connell's"}),
    ("boston étienne", set()), ("zoltan", set()), (LONG, set()),
]


# ------------------------------------------------------------------------ the rows


@pytest.fixture
def world(make):
    """The people (at Plain Metals but Łucja, at Łódź Robotics) applying to and approved
    for a mission, the organizations, and the events, all upcoming."""
    cluster, organizing = make.partner(short_name="Home"), make.partner(short_name="Org")
    orgs = {name: make.organization(cluster, name=name) for name in ORGANIZATIONS}
    mission = make.event(organizers=[organizing], title="Boston mobility mission",
                         **EVENTS["Boston mobility mission"])
    people = {}
    for name in PEOPLE:
        org = orgs["Łódź Robotics" if name.startswith("Łucja") else "Plain Metals"]
        people[name] = make.user(org, name=name)
        make.registration(mission, people[name], S.SUBMITTED, S.APPROVED)
    for title, place in EVENTS.items():
        if title != mission.title:
            make.event(organizers=[organizing], title=title, **place)
    return dict(cluster=cluster, organizing=organizing, orgs=orgs, mission=mission,
                people=people, admin=make.admin(name="Ada Admin"),
                organizer=make.manager(organizing, name="Olga Organizer"),
                duplicate=make.organization(cluster, name="Duplicate Holdings"))


_SEARCH_FORMS = re.compile(r'<form[^>]*role="search".*?</form>|<title>.*?</title>', re.S)


def _found(client, path: str, labels) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    page = html.unescape(_SEARCH_FORMS.sub("", response.get_data(as_text=True)))
    return {label for label in labels if label in page}


# Each box: who looks, its address for a query, the names it lists and its cases.
BOXES = {
    "desk": ("organizer", lambda w: "/desk/?q={}", PEOPLE,
             PEOPLE_CASES + WITH_ORGANIZATION_CASES),
    "delegation": ("organizer", lambda w: f"/events/{w['mission'].id}/delegation?q={{}}",
                   PEOPLE, PEOPLE_CASES + WITH_ORGANIZATION_CASES),
    "admin users": ("admin", lambda w: "/admin/users?q={}", PEOPLE,
                    [*PEOPLE_CASES, ("lodz", set())]),
    "organizations": ("admin", lambda w: "/organizations?q={}", ORGANIZATIONS,
                      ORGANIZATION_CASES),
    "merge candidates": ("admin",
                         lambda w: f"/organizations/{w['duplicate'].id}/merge?q={{}}",
                         ORGANIZATIONS, ORGANIZATION_CASES),
    "admin events": ("admin", lambda w: "/admin/events?q={}", tuple(EVENTS), EVENT_CASES),
    "catalogue": (None, lambda w: "/events?q={}", tuple(EVENTS), EVENT_CASES),
}


def _quoted(typed: str) -> str:
    from urllib.parse import quote

    return quote(typed, safe="")


@pytest.mark.parametrize("box", list(BOXES))
def test_every_search_box_folds_case_and_accents_and_takes_bad_input(box, world, client,
                                                                   login_as):
    viewer, address, labels, cases = BOXES[box]
    if viewer:
        client = login_as(world[viewer])
    path = address(world)
    assert _found(client, path.format(""), labels) == set(labels), "an empty search lists all"
    wrong = {typed: (found, expected) for typed, expected in cases
             if (found := _found(client, path.format(_quoted(typed)), labels)) != expected}
    assert not wrong, wrong


@pytest.mark.parametrize("box", list(BOXES))
@pytest.mark.parametrize("typed", ["%00", "%1b", "a%0ab", "%ff"])
def test_a_control_character_or_broken_byte_in_a_search_is_refused_clearly(
        box, typed, world, client, login_as):
    viewer, address, _labels, _cases = BOXES[box]
    if viewer:
        client = login_as(world[viewer])
    response = client.get(address(world).format(typed))
    assert response.status_code == 400
    assert "cannot be read" in response.get_data(as_text=True)


def test_admin_users_search_also_finds_an_email_as_typed(world, login_as):
    client = login_as(world["admin"])
    world["people"]["Stefan Ernst"].email = "stefan_ernst@example.org"
    _db.session.flush()
    assert _found(client, "/admin/users?q=STEFAN_ERNST%40", PEOPLE) == {"Stefan Ernst"}
    # A page number that is no number does not drop the search.
    assert _found(client, "/admin/users?q=etienne&page=abc", PEOPLE) == {"Étienne Moreau"}


def test_a_search_that_matches_nothing_says_so_and_offers_to_clear_it(world, client,
                                                                    login_as):
    page = client.get("/events?q=zoltan").get_data(as_text=True)
    assert "No events match your search and filters." in page and 'href="/events"' in page
    admin = login_as(world["admin"])
    assert "No account matches “zoltan”." in admin.get("/admin/users?q=zoltan").get_data(
        as_text=True)
    assert "No event matches “zoltan”." in admin.get("/admin/events?q=zoltan").get_data(
        as_text=True)
    assert "No organization matches “zoltan”." in admin.get(
        "/organizations?q=zoltan").get_data(as_text=True)


# ------------------------------------------------------------------------ the matching


@pytest.mark.parametrize(("typed", "stored"), [
    ("étienne", "Étienne Moreau"), ("ETIENNE", "Étienne Moreau"), ("lodz", "Łódź"),
    ("strasse", "Straße"), ("soren", "Søren"), ("soeren", "Søren"), ("aeroe", "Ærø"),
    ("aero", "Ærø"), ("mueller", "Müller"), ("muller", "Müller"), ("aarhus", "Århus"),
    ("etienne", "E\u0301tienne"), ("ﬁnance", "Finance"), ("Ｔｏｋｙｏ", "tokyo"),
])
def test_a_typed_word_is_found_in_the_key_of_the_name(typed, stored):
    assert all(word in search.key(stored) for word in search.terms(typed))


def test_the_key_is_plain_lower_case_ascii_and_bounded():
    key = search.key("Søren  Ærø\tŁódź " + "é" * 2000)
    assert key.isascii() and key == key.lower() and "  " not in key
    assert key.startswith("soren aero lodz") and len(key) == search.KEY_LENGTH


def test_a_query_of_invisible_characters_finds_nothing_an_empty_one_everything(db, make):
    make.user(name="Étienne Moreau")
    everyone = db.session.scalar(select(func.count()).select_from(User))

    def count(typed):
        return db.session.scalar(select(func.count()).where(search.matches(User.search_key,
                                                                       typed)))

    assert count("") == count("   ") == everyone
    assert count("\u200b") == count("\x00\x1b") == 0
    # Reached from elsewhere than a page (which refuses them), controls separate words.
    assert count("\x1bÉti\x00enne") == 1


# ------------------------------------------------------------------------ kept current


def test_a_renamed_person_is_found_by_the_new_name_not_the_old(world, login_as):
    client = login_as(world["admin"])
    person = world["people"]["Stefan Ernst"]
    accounts.update_profile(person, ProfileIn.from_values(name="Zoë Ångström", locale="en"))
    _db.session.flush()
    assert _found(client, "/admin/users?q=zoe+angstrom", ["Zoë Ångström"]) == {"Zoë Ångström"}
    assert _found(client, "/admin/users?q=aangstroem", ["Zoë Ångström"]) == {"Zoë Ångström"}
    assert "Zoë Ångström" not in client.get("/admin/users?q=ernst").get_data(as_text=True)


def test_an_erased_person_is_no_longer_found_by_their_name(world, login_as):
    client = login_as(world["admin"])
    privacy.erase(world["people"]["Søren Ærø"], actor=world["admin"])
    _db.session.flush()
    assert _found(client, "/admin/users?q=soren", PEOPLE) == set()
    assert _found(login_as(world["organizer"]), "/desk/?q=aero", PEOPLE) == set()


def test_a_renamed_organization_is_found_by_the_new_name_not_the_old(world, login_as):
    client = login_as(world["admin"])
    organizations.update_profile(world["admin"], world["orgs"]["Plain Metals"],
                                 {"name": "Fjällräven Metals"})
    _db.session.flush()
    listed = ["Fjällräven Metals", "Plain Metals"]
    assert _found(client, "/organizations?q=fjallraven", listed) == {"Fjällräven Metals"}
    assert _found(client, "/organizations?q=plain", listed) == set()
    # The desk finds the people of the renamed organization by its new name.
    desk = _found(login_as(world["organizer"]), "/desk/?q=fjaellraeven", PEOPLE)
    assert desk == set(PEOPLE) - {"Łucja Wałęsa"}


def test_an_event_renamed_and_moved_is_found_by_its_new_title_and_place(world, client):
    event = world["mission"]
    events.update(world["admin"], event, EventIn.from_values(
        kind=EventKind.OUTBOUND_MISSION, title="Göteborg harbour mission",
        timezone="Europe/Stockholm", target_country="SE", target_city="Göteborg",
        starts_local=event.starts_at.replace(tzinfo=None),
        ends_local=event.ends_at.replace(tzinfo=None),
        organizer_ids=[world["organizing"].id], capacity=20))
    _db.session.flush()
    listed = ["Göteborg harbour mission", "Boston mobility mission"]
    for typed in ("goteborg", "goeteborg", "sweden"):
        assert _found(client, f"/events?q={typed}", listed) == {"Göteborg harbour mission"}
    assert _found(client, "/events?q=boston", listed) == set()


def test_the_migration_gives_the_rows_already_there_their_keys(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0016_reminder_skips")
        with _db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, phone, timezone, locale, active, "
                "session_version, calendar_feed_version, application_alerts, created_at) "
                "VALUES (1, 'a@example.org', 'Søren Ærø', '', 'UTC', 'en', true, 1, 1, "
                "'immediate', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO organizations (id, name, country, size, helix, website, city, "
                "sector, profile, created_at) VALUES (1, 'Łódź Robotics', 'PL', 'small', "
                "'industry', '', '', '', '', CURRENT_TIMESTAMP)"))
        flask_migrate.upgrade()
        with _db.engine.connect() as conn:
            keys = conn.execute(text(
                "SELECT (SELECT search_key FROM users), (SELECT search_key FROM organizations)"
            )).one()
        assert tuple(keys) == (search.key("Søren Ærø"), search.key("Łódź Robotics"))
        _db.engine.dispose()


# ------------------------------------------------------------------------ the catalogue


def _titles(client, query: str) -> set[str]:
    return _found(client, f"/events{query}", EVENTS)


def test_the_catalogue_filters_by_kind_country_partner_and_dates(world, client, make):
    other = make.partner(short_name="Other", name="Other Cluster")
    make.event(organizers=[other], title="Webinar on Ærø", kind=EventKind.WEBINAR,
               target_country="DK", timezone="Europe/Copenhagen",
               starts_at=at(NEXT, 3, 1, 9), duration=timedelta(hours=1))
    listed = [*EVENTS, "Webinar on Ærø"]

    def titles(query):
        return _found(client, f"/events{query}", listed)

    assert titles("?kind=webinar") == {"Webinar on Ærø"}
    assert titles("?country=DK") == {"Energy island Ærø", "Webinar on Ærø"}
    assert titles("?q=aero&kind=outbound_mission") == {"Energy island Ærø"}
    assert titles(f"?partner={other.id}") == {"Webinar on Ærø"}
    assert titles(f"?partner={world['organizing'].id}&q=aero") == {"Energy island Ærø"}
    assert titles(f"?start={NEXT}-03-01&end={NEXT}-03-01") == {"Webinar on Ærø"}
    assert titles(f"?start={NEXT}-03-02&end={NEXT}-03-31") == set()
    page = client.get(f"/events?q=aero&partner={other.id}").get_data(as_text=True)
    # The choices say what the filter is; the form says what was chosen.
    assert f'<option selected value="{other.id}">Other Cluster</option>' in page
    assert 'value="aero"' in page


def test_the_catalogues_partners_are_listed_as_people_read_them(client, make):
    for name in ("Zeta Cluster", "Ærø Klynge", "Bergen Cluster"):
        make.event(organizers=[make.partner(name=name)])
    page = client.get("/events").get_data(as_text=True)
    options = re.findall(r'<option value="\d+">([^<]+)</option>', html.unescape(page))
    assert options == ["Ærø Klynge", "Bergen Cluster", "Zeta Cluster"]


def test_the_catalogues_dates_are_the_events_own(client, make):
    # 4 May 03:00 in Singapore is still 3 May in UTC.
    make.event(title="Singapore dawn session", timezone="Asia/Singapore",
               starts_at=at(2027, 5, 3, 19), duration=timedelta(hours=2))
    make.event(title="Boston evening session", timezone="America/New_York",
               starts_at=at(2027, 5, 5, 1), duration=timedelta(hours=2))  # 4 May, 21:00

    def titles(query):
        return _found(client, f"/events{query}",
                      ["Singapore dawn session", "Boston evening session"])

    assert titles("?start=2027-05-04&end=2027-05-04") == {"Singapore dawn session",
                                                          "Boston evening session"}
    assert titles("?start=2027-05-03&end=2027-05-03") == set()
    assert titles("?start=2027-05-05") == set()
    assert titles("?end=2027-05-04") == {"Singapore dawn session", "Boston evening session"}


def test_a_date_range_lists_past_events_too(client, make):
    make.event(title="Last year's mission", starts_at=at(2019, 10, 14))
    listed = ["Last year's mission"]
    assert _found(client, "/events", listed) == set()
    assert _found(client, "/events?start=2019-10-01&end=2019-10-31", listed) == set(listed)


@pytest.mark.parametrize(("query", "named"), [
    ("?q=lodz&kind=party", "Kind"),
    ("?q=lodz&partner=abc", "Organized by"),
    ("?q=lodz&partner=999999", "Organized by"),
    ("?q=lodz&country=XX", "Target region"),
    ("?q=lodz&start=2027-13-45", "From"),
    ("?q=lodz&start=0001-01-01", "From"),
    ("?q=lodz&end=9999-12-31", "To"),
    ("?q=lodz&start=2027-05-01&end=2027-04-01", "To"),
    ("?q=lodz&when=later", "When"),
    ("?q=lodz&page=abc", "Page"),
])
def test_an_invalid_filter_is_named_and_ignored_the_others_still_apply(world, client, query,
                                                                      named):
    response = client.get(f"/events{query}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    warning = re.search(r'data-testid="ignored-filters".*?</div>', page, re.S).group()
    assert named in warning
    assert _titles(client, query) == {"Smart ports of Łódź"}


def test_the_catalogues_pages_keep_the_search_and_filters(client, make, app):
    per_page = app.config["EVENTS_PER_PAGE"]
    for n in range(per_page + 2):
        make.event(title=f"Ærø talk {n:02d}", kind=EventKind.WEBINAR, target_country="DK",
                   timezone="Europe/Copenhagen", duration=timedelta(hours=1),
                   starts_in=timedelta(days=30 + n))
    make.event(title="Ærø mission", target_country="DK", timezone="Europe/Copenhagen")
    first = client.get("/events?q=aero&kind=webinar").get_data(as_text=True)
    assert f"{per_page + 2} events" in first and "Ærø mission" not in html.unescape(first)
    next_link = html.unescape(re.search(r'href="([^"]*page=2[^"]*)"', first).group(1))
    assert "q=aero" in next_link and "kind=webinar" in next_link
    second = html.unescape(client.get(next_link).get_data(as_text=True))
    assert f"Ærø talk {per_page + 1:02d}" in second and "Ærø mission" not in second


def test_the_catalogues_query_count_does_not_grow_with_rows(client, make, db):
    def queries():
        with count_queries() as statements:
            assert client.get("/events?q=talk&start=2020-01-01&end=2099-12-31"
                              "&kind=webinar").status_code == 200
        return len(statements)

    partner = make.partner()
    make.event(title="Talk 0", kind=EventKind.WEBINAR, organizers=[partner])
    few = queries()
    for n in range(1, 12):
        make.event(title=f"Talk {n}", kind=EventKind.WEBINAR, organizers=[make.partner()],
                   timezone=["Europe/Paris", "Asia/Tokyo", "America/Chicago"][n % 3])
    assert queries() == few


# ------------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["users", "organizations", "events"])
def test_postgresql_can_answer_a_search_from_the_trigram_index_alone(db, world, table):
    """The tables are small here, so the planner is told to avoid reading them whole: the
    plan shows that the index answers the search, the accounts' "name or email" too."""
    model = {"users": User, "organizations": Organization, "events": Event}[table]
    condition = search.matches(model.search_key, "étienne")
    if model is User:
        condition = or_(condition, User.email.contains("étienne", autoescape=True))
    compiled = select(model.id).where(condition).compile(db.engine)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(
        f"EXPLAIN {compiled}", compiled.params))
    assert f"ix_{table}_search_key" in plan and "Seq Scan" not in plan, plan

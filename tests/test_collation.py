"""Names in the order the reader's language sorts them: lists paged in SQL through the
stored sort keys, short lists in Python, both with ICU's collation."""

import re

import flask_migrate
import pytest
from flask_babel import force_locale
from sqlalchemy import func, insert, select, text

import config
from tests.conftest import count_queries
from webapp import collation, create_app
from webapp.extensions import db as _db
from webapp.models import Partner, SortKey, User
from webapp.services import places

NAMES = ["Zoë Ångström", "Άννα Παπαδοπούλου", "Émile Durand", "Ørsted Olsen", "bob Baker"]


@pytest.fixture
def admin(make):
    return make.admin(name="Annelies Admin", email="coordinator@example.org")


def _listed(client, language: str, query: str = "") -> list[str]:
    html = client.get(f"/admin/users{query}", headers={"Accept-Language": language}).get_data(
        as_text=True)
    rows = re.findall(r'data-testid="user-row".*?</tr>', html, re.S)
    return [name for row in rows for name in NAMES if name in row]


def test_the_admins_user_list_is_in_the_readers_order(db, make, login_as, admin):
    for name in NAMES:
        make.user(name=name)
    db.session.commit()
    client = login_as(admin)
    # English: accents after the letters, case ignored, the Greek script after the Latin.
    assert _listed(client, "en") == ["bob Baker", "Émile Durand", "Ørsted Olsen",
                                     "Zoë Ångström", "Άννα Παπαδοπούλου"]
    # A Greek reader meets the Greek names first.
    assert _listed(client, "el") == ["Άννα Παπαδοπούλου", "bob Baker", "Émile Durand",
                                     "Ørsted Olsen", "Zoë Ångström"]


def test_a_renamed_person_moves_and_a_deleted_partner_takes_its_keys(db, make):
    person = make.user(name="Aaron First")
    partner = make.partner(name="Zulu Cluster")
    db.session.flush()
    keys = dict(db.session.execute(select(SortKey.language, SortKey.key).where(
        SortKey.subject_type == "user", SortKey.subject_id == person.id)).all())
    assert set(keys) == set(config.Config.LANGUAGES)
    assert keys["en"] == collation.key("Aaron First", "en")
    person.name = "Zack Last"
    db.session.flush()
    assert db.session.scalar(select(SortKey.key).where(
        SortKey.subject_type == "user", SortKey.subject_id == person.id,
        SortKey.language == "en")) == collation.key("Zack Last", "en")
    partner_id = partner.id
    db.session.delete(partner)
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(SortKey).where(
        SortKey.subject_type == "partner", SortKey.subject_id == partner_id)) == 0


def test_rows_written_without_keys_come_last_until_the_command_keys_them(app, db, make,
                                                                         login_as, admin):
    make.user(name="Mia Middle")
    db.session.execute(insert(User), [{"email": "aa@example.org", "name": "Aaron Bulk",
                                       "search_key": "aaron bulk", "phone": ""}])
    db.session.commit()
    client = login_as(admin)
    html = client.get("/admin/users").get_data(as_text=True)
    assert html.index("Mia Middle") < html.index("Aaron Bulk")
    result = app.test_cli_runner().invoke(args=["sort-keys"])
    # The bulk-written person, in each offered language.
    written = f"{len(config.Config.LANGUAGES)} sort key(s) written."
    assert result.exit_code == 0 and written in result.output
    html = client.get("/admin/users").get_data(as_text=True)
    assert html.index("Aaron Bulk") < html.index("Mia Middle")
    again = app.test_cli_runner().invoke(args=["sort-keys"])
    assert "0 sort key(s) written." in again.output


def test_the_list_reads_the_same_statements_however_many_names(db, make, login_as, admin,
                                                               rendering):
    client = login_as(admin)
    for n in range(3):
        make.user(name=f"Person {n}")
    db.session.commit()
    client.get("/admin/users")
    with count_queries() as few:
        client.get("/admin/users")
    for n in range(40):
        make.user(name=f"Name {n}")
    db.session.commit()
    with count_queries() as many:
        client.get("/admin/users")
    assert len(many) == len(few)


def test_short_lists_sort_in_python_for_the_reader(app):
    with app.test_request_context(), force_locale("el"):
        greek = [name for _, name in places.countries(["GR", "FR", "DK", "AT"])]
        assert greek == sorted(greek, key=lambda n: collation.key(n, "el"))
        assert greek[0] == "Αυστρία"
    with app.test_request_context(), force_locale("fr"):
        french = [name for _, name in places.countries(["GR", "FR", "DK", "AT", "AX"])]
        assert french == ["Autriche", "Danemark", "France", "Grèce", "Îles Åland"]


def test_the_partners_are_ordered_by_kind_then_name(db, make, login_as, admin):
    make.partner(name="Ωμέγα Cluster")
    make.partner(name="Alpha Cluster")
    db.session.commit()
    ordered = [p.name for p in db.session.scalars(collation.ordered(select(Partner),
                                                                     Partner, "el"))]
    assert ordered.index("Ωμέγα Cluster") < ordered.index("Alpha Cluster")
    ordered = [p.name for p in db.session.scalars(collation.ordered(select(Partner),
                                                                     Partner, "en"))]
    assert ordered.index("Alpha Cluster") < ordered.index("Ωμέγα Cluster")


@pytest.mark.sqlite
def test_the_migration_keys_the_names_already_there(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0022_languages")
        with _db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, phone, active, session_version, "
                "calendar_feed_version, application_alerts, created_at, search_key) VALUES "
                "(7, 'u7@example.org', 'Ägir', '', true, 1, 1, 'immediate', "
                "CURRENT_TIMESTAMP, 'agir')"))
        flask_migrate.upgrade()
        with _db.engine.connect() as conn:
            rows = dict(conn.execute(text(
                "SELECT language, key FROM sort_keys WHERE subject_type = 'user' "
                "AND subject_id = 7")).all())
        assert set(rows) == set(config.Config.LANGUAGES)
        assert bytes(rows["en"]) == collation.key("Ägir", "en")
        _db.engine.dispose()

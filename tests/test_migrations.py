"""The Alembic migrations: an empty database upgrades to the models, with no drift, and
downgrades back to nothing, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import flask_migrate
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.extensions import db


def _round_trip(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        flask_migrate.check()  # raises when the models and the migrations differ
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


@pytest.mark.sqlite
def test_migrations_round_trip_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.postgres
def test_migrations_round_trip_on_postgresql():
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"beachhead_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _round_trip(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_database_enforces_uniqueness_and_valid_values(app, db, make):
    """Constraints live in the database, not only in Python."""
    from sqlalchemy.exc import IntegrityError

    user = make.user(email="same@example.org")
    event = make.event()
    make.registration(event, user)
    checks = [
        "INSERT INTO users (email, name, phone, timezone, locale, active, session_version, "
        "created_at) VALUES ('same@example.org', 'Twin', '', 'UTC', 'en', true, 1, "
        "CURRENT_TIMESTAMP)",
        "INSERT INTO users (email, name, phone, timezone, locale, active, session_version, "
        "created_at) VALUES ('Mixed@Example.org', 'Caps', '', 'UTC', 'en', true, 1, "
        "CURRENT_TIMESTAMP)",
        f"INSERT INTO registrations (event_id, user_id, status, applied_at, updated_at) "
        f"VALUES ({event.id}, {user.id}, 'submitted', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        f"UPDATE registrations SET status = 'maybe' WHERE event_id = {event.id}",
        f"UPDATE events SET kind = 'party' WHERE id = {event.id}",
        f"UPDATE events SET ends_at = '2000-01-01 00:00:00' WHERE id = {event.id}",
        f"INSERT INTO role_grants (user_id, role, created_at) "
        f"VALUES ({user.id}, 'partner_manager', CURRENT_TIMESTAMP)",
        f"INSERT INTO event_sessions (event_id, kind, title, description, venue, online_url, "
        f"all_day, position) VALUES ({event.id}, 'visit', 'No time', '', '', '', false, 0)",
        f"INSERT INTO registrations (event_id, user_id, status, applied_at, updated_at) "
        f"VALUES (999999, {user.id}, 'submitted', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    ]
    for statement in checks:
        nested = db.session.begin_nested()
        with pytest.raises(IntegrityError):
            db.session.execute(text(statement))
            db.session.flush()
        nested.rollback()


@pytest.mark.sqlite
def test_join_links_migration_gives_existing_rows_their_tokens_and_defaults(tmp_path):
    """0007 on a database with registrations: each gets its own token, attendances keep
    having been check-ins, events have no recording."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0006_badges")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, phone, timezone, locale, active, "
                "session_version, calendar_feed_version, application_alerts, created_at) "
                "VALUES (1, 'a@example.org', 'A', '', 'UTC', 'en', true, 1, 1, 'immediate', "
                "CURRENT_TIMESTAMP), (2, 'b@example.org', 'B', '', 'UTC', 'en', true, 1, 1, "
                "'immediate', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO events (id, kind, title, slug, summary, description, "
                "target_country, target_city, venue, online_url, timezone, starts_at, ends_at, "
                "requires_approval, status, calendar_sequence, created_at, updated_at) VALUES "
                "(1, 'webinar', 'W', 'w', '', '', 'SG', '', '', '', 'UTC', "
                "'2027-01-01 10:00:00', '2027-01-01 11:00:00', false, 'published', 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for reg_id, user_id in ((1, 1), (2, 2)):
                conn.execute(text(
                    "INSERT INTO registrations (id, event_id, user_id, status, role, applied_at, "
                    "calendar_sequence, badge_code, updated_at) VALUES "
                    f"({reg_id}, 1, {user_id}, 'approved', 'delegate', CURRENT_TIMESTAMP, 0, "
                    f"'CODE{reg_id}', CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO attendances (registration_id, recorded_at) "
                              "VALUES (1, CURRENT_TIMESTAMP)"))
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            tokens = conn.execute(text("SELECT join_token FROM registrations")).scalars().all()
            source = conn.execute(text("SELECT source FROM attendances")).scalar_one()
            recording = conn.execute(text("SELECT recording_url FROM events")).scalar_one()
        assert len(set(tokens)) == 2 and all(len(t) == 43 for t in tokens)
        assert (source, recording) == ("check_in", "")
        db.engine.dispose()


@pytest.mark.sqlite
def test_rebuilding_registrations_on_sqlite_keeps_their_answers(tmp_path):
    """0006 rebuilds the registrations table (its new badge code becomes NOT NULL); with
    foreign keys on, dropping the old table would cascade to every answer. Upgrading a
    0005 database that has an answer keeps it, and gives the registration its code."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0005_calendar")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, phone, timezone, locale, active, "
                "session_version, calendar_feed_version, application_alerts, created_at) "
                "VALUES (1, 'a@example.org', 'A', '', 'UTC', 'en', true, 1, 1, 'immediate', "
                "CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO events (id, kind, title, slug, summary, description, "
                "target_country, target_city, venue, online_url, timezone, starts_at, ends_at, "
                "requires_approval, status, calendar_sequence, created_at, updated_at) VALUES "
                "(1, 'outbound_mission', 'M', 'm', '', '', 'SG', '', '', '', 'UTC', "
                "'2027-01-01 10:00:00', '2027-01-03 11:00:00', true, 'published', 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO questions (id, event_id, position, kind, label, help_text, "
                "required, choices) VALUES (1, 1, 0, 'short_text', 'Why?', '', false, '[]')"))
            conn.execute(text(
                "INSERT INTO registrations (id, event_id, user_id, status, role, applied_at, "
                "calendar_sequence, updated_at) VALUES (1, 1, 1, 'submitted', 'delegate', "
                "CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO answers (id, registration_id, question_id, value) "
                              "VALUES (1, 1, 1, '\"Pilot sites\"')"))
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            answers = conn.execute(text("SELECT value FROM answers")).scalars().all()
            code = conn.execute(text("SELECT badge_code FROM registrations")).scalar_one()
            foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
        assert answers == ['"Pilot sites"']
        assert len(code) == 16
        assert foreign_keys == 1  # back on for the app's own connections
        db.engine.dispose()


@pytest.mark.sqlite
def test_zones_that_were_only_the_default_are_left_to_the_browser(tmp_path):
    """0018: "UTC" its owner never chose becomes unknown (the browser reports the real
    one); a UTC chosen on the profile, and any other zone, stay."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="0017_search_keys")
        with db.engine.begin() as conn:
            for user_id, zone in ((1, "UTC"), (2, "UTC"), (3, "Europe/Copenhagen")):
                conn.execute(text(
                    "INSERT INTO users (id, email, name, phone, timezone, locale, active, "
                    "session_version, calendar_feed_version, application_alerts, created_at, "
                    f"search_key) VALUES ({user_id}, 'u{user_id}@example.org', 'U', '', "
                    f"'{zone}', 'en', true, 1, 1, 'immediate', CURRENT_TIMESTAMP, 'u')"))
            conn.execute(text(
                "INSERT INTO audit_entries (created_at, actor_id, action, subject_type, "
                "subject_id, reason, details) VALUES (CURRENT_TIMESTAMP, 2, "
                "'account.updated', 'user', 2, '', "
                "'{\"changes\": {\"timezone\": [\"Europe/Paris\", \"UTC\"]}}')"))
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            zones = dict(conn.execute(text("SELECT id, timezone FROM users")).all())
        assert zones == {1: None, 2: "UTC", 3: "Europe/Copenhagen"}
        db.engine.dispose()

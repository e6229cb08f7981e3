"""Configuration, the SQLite settings, error pages and security headers."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Config as FlaskConfig
from sqlalchemy import text

import config
from webapp import create_app
from webapp.extensions import db

STRONG = "x" * 48
ROOT = Path(__file__).resolve().parent.parent
# Read beside the FROM_ENVIRONMENT table, each with a default of its own.
OWN_DEFAULTS = ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "HOST", "PORT", "MAIL_TRANSPORT")
EVERY_SETTING = (*config.FROM_ENVIRONMENT, *OWN_DEFAULTS)

# Every setting with a value a configuration would not have by itself, and what it becomes.
EXAMPLES: dict[str, tuple[str, str, object]] = {
    # name: (the environment's text, the config key, the value read)
    "DATABASE_URL": ("sqlite:////srv/elsewhere.db", "SQLALCHEMY_DATABASE_URI",
                     "sqlite:////srv/elsewhere.db"),
    "SECRET_KEY": (STRONG, "SECRET_KEY", STRONG),
    "BASE_URL": ("https://events.example.org/platform/", "BASE_URL",
                 "https://events.example.org/platform"),
    "HOST": ("devbox.internal", "BASE_URL", "https://events.example.org/platform"),
    "PORT": ("8000", "BASE_URL", "https://events.example.org/platform"),
    "MAIL_TRANSPORT": ("log", "MAIL_TRANSPORT", "log"),
    "REDIS_URL": ("redis://cache.internal:6379/0", "REDIS_URL", "redis://cache.internal:6379/0"),
    "MAIL_SERVER": ("smtp.internal", "MAIL_SERVER", "smtp.internal"),
    "MAIL_PORT": ("587", "MAIL_PORT", 587),
    "MAIL_USE_TLS": ("true", "MAIL_USE_TLS", True),
    "MAIL_USE_SSL": ("yes", "MAIL_USE_SSL", True),
    "MAIL_USERNAME": ("beachhead", "MAIL_USERNAME", "beachhead"),
    "MAIL_PASSWORD": ("s3cret pass", "MAIL_PASSWORD", "s3cret pass"),
    "MAIL_DEFAULT_SENDER": ("Events <events@example.org>", "MAIL_DEFAULT_SENDER",
                            "Events <events@example.org>"),
    "MAIL_CLAIM_LEASE": ("120", "MAIL_CLAIM_LEASE", timedelta(seconds=120)),
    "SERVER_NAME": ("events.example.org", "SERVER_NAME", "events.example.org"),
    "PREFERRED_URL_SCHEME": ("https", "PREFERRED_URL_SCHEME", "https"),
    "SESSION_COOKIE_SECURE": ("true", "REMEMBER_COOKIE_SECURE", True),
    "TRUSTED_PROXIES": ("1", "TRUSTED_PROXIES", 1),
    "UPLOAD_FOLDER": ("/srv/uploads", "UPLOAD_FOLDER", "/srv/uploads"),
    "API_RATE_LIMIT": ("60", "API_RATE_LIMIT", 60),
    "DIGEST_HOUR": ("6", "DIGEST_HOUR", 6),
    "CHECKIN_OPENS_BEFORE": ("36", "CHECKIN_OPENS_BEFORE", timedelta(hours=36)),
    "CALENDAR_UID_DOMAIN": ("events.example.org", "CALENDAR_UID_DOMAIN", "events.example.org"),
    "CALENDAR_ORGANIZER": ("mailto:events@example.org", "CALENDAR_ORGANIZER",
                           "mailto:events@example.org"),
    "HEALTH_TOKEN": ("monitor-token", "HEALTH_TOKEN", "monitor-token"),
    "BACKUP_FOLDER": ("/srv/backups", "BACKUP_FOLDER", "/srv/backups"),
    "BACKUP_LOCK_TIMEOUT": ("60", "BACKUP_LOCK_TIMEOUT", 60.0),
    "DATABASE_TIMEOUT": ("3", "DATABASE_TIMEOUT", 3.0),
    "DATABASE_JOB_TIMEOUT": ("100", "DATABASE_JOB_TIMEOUT", 100.0),
    "DATABASE_MAINTENANCE_TIMEOUT": ("900", "DATABASE_MAINTENANCE_TIMEOUT", 900.0),
    "SQLITE_BUSY_TIMEOUT_MS": ("5000", "SQLITE_BUSY_TIMEOUT_MS", 5000),
    "UNAVAILABLE_RETRY_AFTER": ("10", "UNAVAILABLE_RETRY_AFTER", 10),
    "REDIS_TIMEOUT": ("0.5", "REDIS_TIMEOUT", 0.5),
    "WORKER_RECONNECT_INITIAL": ("2", "WORKER_RECONNECT_INITIAL", 2.0),
    "WORKER_RECONNECT_MAX": ("60", "WORKER_RECONNECT_MAX", 60.0),
    "WORKER_HEARTBEAT_EVERY": ("5", "WORKER_HEARTBEAT_EVERY", 5.0),
    "WORKER_SILENT_AFTER": ("30", "WORKER_SILENT_AFTER", timedelta(seconds=30)),
    "JOB_STALLED_AFTER": ("600", "JOB_STALLED_AFTER", timedelta(seconds=600)),
}


@pytest.fixture(autouse=True)
def _no_settings_from_the_caller(monkeypatch):
    """Each test says its environment: the developer's own MAIL_SERVER or PORT stay out."""
    for name in EVERY_SETTING:
        monkeypatch.delenv(name, raising=False)


def settings(name: str, monkeypatch, **environment: str) -> FlaskConfig:
    """What the app of configuration `name` reads under `environment` (a strong secret
    and a mail server unless told otherwise)."""
    for key, value in {"SECRET_KEY": STRONG, "MAIL_SERVER": "smtp.internal",
                       "DATABASE_URL": "sqlite://", **environment}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    read = FlaskConfig(str(ROOT))
    read.from_object(config.CONFIGS[name]())
    return read


def test_production_refuses_to_start_without_a_real_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.internal/beachhead")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("MAIL_SERVER", "smtp.internal")
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("SERVER_NAME", "events.example.org")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SECRET_KEY"] == STRONG
    assert app.config["REDIS_URL"] == "redis://cache.internal:6379/0"
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == ("smtp.internal", 587)
    assert app.config["SERVER_NAME"] == "events.example.org"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    assert not app.config["DEMO_ALLOWED"]


def test_production_sends_cookies_over_plain_http_only_when_told(monkeypatch):
    """SESSION_COOKIE_SECURE=false: for a set-up spoken to over plain http, such as the
    production test on 127.0.0.1; the sign-in cookie follows the session cookie."""
    read = settings("production", monkeypatch, SESSION_COOKIE_SECURE="false")
    assert not read["SESSION_COOKIE_SECURE"]
    assert not read["REMEMBER_COOKIE_SECURE"]


def test_production_needs_a_database_url(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app("production")


def test_development_generates_its_secret_once_and_reuses_it(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.DevelopmentConfig().SECRET_KEY
    second = config.DevelopmentConfig().SECRET_KEY
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch):
    read = settings("development", monkeypatch, DATABASE_URL=None)
    assert read["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{config.INSTANCE_DIR / 'beachhead.db'}"


@pytest.mark.parametrize("name", ["development", "production"])
def test_every_setting_is_read_from_the_environment_alike(name, monkeypatch):
    """One reading for both: a setting a developer tries in development works the same
    on the server, and the other way round."""
    assert set(EXAMPLES) == set(EVERY_SETTING), "a setting without an example here"
    read = settings(name, monkeypatch, **{key: text for key, (text, _, _) in EXAMPLES.items()})
    assert {key: read[key] for _, (_, key, _) in EXAMPLES.items()} \
        == {key: value for _, (_, key, value) in EXAMPLES.items()}


def test_testing_reads_nothing_from_the_environment(monkeypatch):
    """The suite sees the same settings on every machine, whatever the developer exported
    (only TEST_DATABASE_URL chooses its database)."""
    read = settings("testing", monkeypatch,
                    **{key: text for key, (text, _, _) in EXAMPLES.items()})
    defaults = config.TestingConfig()
    for key in {key for _, (_, key, _) in EXAMPLES.items()} - {"SQLALCHEMY_DATABASE_URI",
                                                                 "SECRET_KEY", "UPLOAD_FOLDER"}:
        assert read[key] == getattr(defaults, key), key
    assert read["SQLALCHEMY_DATABASE_URI"] != "sqlite:////srv/elsewhere.db"
    assert read["SECRET_KEY"] == "testing-only-secret"
    assert (read["BASE_URL"], read["MAIL_TRANSPORT"]) == ("http://127.0.0.1:5000", "smtp")


@pytest.mark.parametrize(("host", "port", "links"), [
    (None, None, "http://127.0.0.1:5000"),
    ("127.0.0.1", "8000", "http://127.0.0.1:8000"),
    ("0.0.0.0", "8000", "http://127.0.0.1:8000"),  # noqa: S104 - served on every address
    ("::", "8080", "http://127.0.0.1:8080"),
    ("::1", "8000", "http://[::1]:8000"),
    ("devbox.internal", "5001", "http://devbox.internal:5001"),
])
def test_development_links_follow_the_address_make_run_serves(monkeypatch, host, port, links):
    read = settings("development", monkeypatch, HOST=host, PORT=port)
    assert read["BASE_URL"] == links


def test_base_url_wins_over_host_and_port(monkeypatch):
    read = settings("development", monkeypatch, HOST="0.0.0.0", PORT="8000",  # noqa: S104
                    BASE_URL="https://dev.example.org")
    assert read["BASE_URL"] == "https://dev.example.org"


def test_production_links_default_to_its_server_name(monkeypatch):
    read = settings("production", monkeypatch, SERVER_NAME="events.example.org", PORT="8000")
    assert read["BASE_URL"] == "https://events.example.org"


@pytest.mark.parametrize(("name", "environment", "refusal"), [
    ("development", {"PORT": "eighty"}, "PORT must be a port number"),
    ("production", {"MAIL_PORT": "smtp"}, "MAIL_PORT cannot be read from 'smtp'"),
    ("production", {"CHECKIN_OPENS_BEFORE": "-1"}, "CHECKIN_OPENS_BEFORE cannot be read from '-1'"),
    ("development", {"MAIL_TRANSPORT": "pigeon"},
     "MAIL_TRANSPORT must be one of smtp, mailbox, log"),
])
def test_a_setting_that_cannot_be_read_stops_the_start(monkeypatch, name, environment, refusal):
    with pytest.raises(RuntimeError, match=refusal):
        settings(name, monkeypatch, **environment)


@pytest.mark.parametrize(("environment", "transport"), [
    ({"MAIL_SERVER": None}, "mailbox"),
    ({"MAIL_SERVER": "smtp.internal"}, "smtp"),
    ({"MAIL_SERVER": None, "MAIL_TRANSPORT": "log"}, "log"),
    ({"MAIL_SERVER": "smtp.internal", "MAIL_TRANSPORT": "mailbox"}, "mailbox"),
])
def test_development_keeps_its_mail_in_the_mailbox_without_a_mail_server(
        monkeypatch, environment, transport):
    assert settings("development", monkeypatch, **environment)["MAIL_TRANSPORT"] == transport


def test_production_sends_through_its_mail_server_or_only_logs_when_told(monkeypatch):
    assert settings("production", monkeypatch)["MAIL_TRANSPORT"] == "smtp"
    only_logged = settings("production", monkeypatch, MAIL_SERVER=None, MAIL_TRANSPORT="log")
    assert only_logged["MAIL_TRANSPORT"] == "log"


@pytest.mark.parametrize(("environment", "refusal"), [
    ({"MAIL_SERVER": None},
     r"^MAIL_SERVER must be set in production \(or MAIL_TRANSPORT=log to only log the mail"),
    ({"MAIL_SERVER": None, "MAIL_TRANSPORT": "smtp"}, r"^MAIL_SERVER must be set in production"),
    ({"MAIL_TRANSPORT": "mailbox"}, r"^MAIL_TRANSPORT=mailbox is for development only"),
])
def test_production_refuses_to_start_without_a_way_to_send_mail(monkeypatch, environment, refusal):
    with pytest.raises(RuntimeError, match=refusal):
        settings("production", monkeypatch, **environment)


def test_make_run_says_where_the_app_and_its_mail_are(monkeypatch):
    """The Makefile hands HOST and PORT to the app (`make run PORT=8000 HOST=0.0.0.0`)."""
    monkeypatch.setenv("SECRET_KEY", STRONG)
    said = subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval",
         "where: ; @$(PY) -c 'import config; print(config.serving_notice())'",
         "where", "PORT=8123", "HOST=0.0.0.0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert said.splitlines() == ["Serving Beachhead on http://127.0.0.1:8123 (Ctrl+C stops it)",
                                 "Mail the app sends: http://127.0.0.1:8123/dev/mail"]
    monkeypatch.setenv("MAIL_SERVER", "smtp.internal")
    assert config.serving_notice() == "Serving Beachhead on http://127.0.0.1:5000 (Ctrl+C stops it)"


def test_the_readme_lists_every_setting():
    """One table of every setting, with its default and who reads it."""
    readme = (ROOT / "README.md").read_text()
    first_cells = re.findall(r"^\| (`[^|]*) \|", readme, flags=re.MULTILINE)
    listed = {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}
    assert set(EVERY_SETTING) <= listed, set(EVERY_SETTING) - listed


@pytest.mark.sqlite
def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 30_000
    with app.app_context():
        db.engine.dispose()


def test_unexpected_error_shows_a_friendly_500_page(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "kaput" not in page


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_load_no_asset_from_another_host(client, make, db):
    make.event()
    html = client.get("/").get_data(as_text=True) + client.get("/events").get_data(as_text=True)
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "http://" not in html and "https://" not in html
    assert client.get("/static/vendor/bootstrap/bootstrap.bundle.min.js").status_code == 200

"""Configuration, the SQLite settings, error pages and security headers."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import config
from webapp import create_app
from webapp.extensions import db

STRONG = "x" * 48


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
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    app = create_app("production")
    assert not app.config["SESSION_COOKIE_SECURE"]
    assert not app.config["REMEMBER_COOKIE_SECURE"]


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
    monkeypatch.delenv("DATABASE_URL", raising=False)
    import importlib

    reloaded = importlib.reload(config)
    try:
        uri = reloaded.DevelopmentConfig.SQLALCHEMY_DATABASE_URI
        assert uri == f"sqlite:///{reloaded.INSTANCE_DIR / 'beachhead.db'}"
    finally:
        importlib.reload(config)


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

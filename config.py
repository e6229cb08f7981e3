"""Configuration classes; `create_app(name)` picks one by name ("development" by default)."""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret() -> str:
    """A development secret generated once and reused, so sessions survive restarts."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    APP_NAME = "Beachhead"
    PARTNERSHIP_NAME = "SmartCityTech"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Sign-in cookies: never readable by scripts, not sent on cross-site POSTs.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ["en"]
    # werkzeug's scrypt defaults (N=2**15); tests lower the cost.
    PASSWORD_HASH_METHOD = "scrypt"
    EVENTS_PER_PAGE = 12
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "30000"))
    # Seconds a web request waits on PostgreSQL (a connection, the pool, a statement, any
    # round trip on the wire) before it answers 503; jobs and CLI commands wait longer,
    # migrations, backups and restores as long as they need (0: no limit). See
    # webapp/database_limits.py.
    DATABASE_TIMEOUT = float(os.environ.get("DATABASE_TIMEOUT", "5"))
    DATABASE_JOB_TIMEOUT = float(os.environ.get("DATABASE_JOB_TIMEOUT", "300"))
    DATABASE_MAINTENANCE_TIMEOUT = float(os.environ.get("DATABASE_MAINTENANCE_TIMEOUT", "0"))
    # The Retry-After of a 503 while the database does not answer.
    UNAVAILABLE_RETRY_AFTER = int(os.environ.get("UNAVAILABLE_RETRY_AFTER", "30"))
    # The monitoring token of /healthz/details (sent as `Authorization: Bearer`); unset,
    # only signed-in admins see the details.
    HEALTH_TOKEN = os.environ.get("HEALTH_TOKEN") or None
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    # STARTTLS on a plain connection (port 587), or implicit TLS from the start (port 465).
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    # How long a message claimed for sending belongs to its sender: far longer than an SMTP
    # exchange (MAIL_TIMEOUT), so only a sender that died lets another one retry it.
    MAIL_CLAIM_LEASE = timedelta(seconds=float(os.environ.get("MAIL_CLAIM_LEASE", "300")))
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Beachhead <no-reply@beachhead.localhost>"
    REDIS_URL: str | None = None
    # Seconds a request waits for Redis to accept a connection or answer: past it the
    # request goes on without (rate limits in the database, mail left to the next tick).
    REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "2"))
    # The worker's waits between attempts to reach Redis again: doubled from the first to
    # the longest, in seconds; it never gives up.
    WORKER_RECONNECT_INITIAL = float(os.environ.get("WORKER_RECONNECT_INITIAL", "1"))
    WORKER_RECONNECT_MAX = float(os.environ.get("WORKER_RECONNECT_MAX", "30"))
    # How often a worker writes its heartbeat (database), and how long without one a
    # worker counts as gone while jobs or mail wait.
    WORKER_HEARTBEAT_EVERY = float(os.environ.get("WORKER_HEARTBEAT_EVERY", "10"))
    WORKER_SILENT_AFTER = timedelta(
        seconds=float(os.environ.get("WORKER_SILENT_AFTER", "60")))
    # A job or mail waiting longer than this is shown as stalled on the admin's jobs page.
    JOB_STALLED_AFTER = timedelta(seconds=float(os.environ.get("JOB_STALLED_AFTER", "300")))
    # Links in mail are built from this, so they are right outside a request too (tick,
    # the worker), where Flask knows no host.
    BASE_URL = "http://127.0.0.1:5000"
    # Managers who chose a daily digest get it at the first tick after this local hour.
    DIGEST_HOUR = 7
    DEMO_ALLOWED = True
    # Organization logos (re-encoded PNG/JPEG); outside static/, served through a view.
    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    MAX_LOGO_BYTES = 2 * 1024 * 1024
    # `flask backup` writes its archives here unless given --output.
    BACKUP_FOLDER = os.environ.get("BACKUP_FOLDER", str(INSTANCE_DIR / "backups"))
    # Seconds pg_dump waits for its table locks (a migration holding one): it gives up
    # rather than queue every request behind it. Statements have DATABASE_MAINTENANCE_TIMEOUT.
    BACKUP_LOCK_TIMEOUT = float(os.environ.get("BACKUP_LOCK_TIMEOUT", "120"))
    # The version of the privacy notice people accept at sign-up (templates/legal/).
    PRIVACY_VERSION = "2026-11"
    VERIFY_EMAIL_MAX_AGE = 48 * 3600
    RESET_PASSWORD_MAX_AGE = 3600
    # Failed logins, sign-ups and reset requests allowed per account and per IP.
    THROTTLE_LIMIT = 10
    THROTTLE_WINDOW = timedelta(minutes=15)
    # The version of the two consent texts an applicant agrees to (templates/legal/).
    CONSENT_VERSION = "2026-11"
    # Throttling counts per client address, the WSGI peer (`request.remote_addr`). Behind
    # reverse proxies that is the proxy: set this to how many proxies append the client to
    # X-Forwarded-For (1 for one nginx), never more, since clients write that header too.
    TRUSTED_PROXIES = 0
    # API requests allowed per token and minute (counted in Redis or the database).
    API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "120"))
    # The host part of calendar UIDs (event-<id>@..., session-<id>@...): fixed, not taken
    # from the request, so a UID stays the same whichever address served the file.
    CALENDAR_UID_DOMAIN = "beachhead.smartcitytech.eu"
    # The ORGANIZER of emailed invitations: the partnership's contact address.
    CALENDAR_ORGANIZER = "mailto:missions@smartcitytech.eu"


class DevelopmentConfig(Config):
    DEBUG = False
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'beachhead.db'}"
    )

    @property
    def SECRET_KEY(self) -> str:  # noqa: N802 - Flask reads upper-case attributes
        return os.environ.get("SECRET_KEY") or _instance_secret()


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None
    # Tests upload logos; keep them out of the working tree's instance folder.
    UPLOAD_FOLDER = str(Path(tempfile.gettempdir()) / "beachhead-test-uploads")


class ProductionConfig(Config):
    DEMO_ALLOWED = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        if len(secret) < 32 or secret in {"change-me", "changeme", "secret", "dev"}:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            raise RuntimeError("DATABASE_URL must be set in production.")
        self.SECRET_KEY = secret
        self.SQLALCHEMY_DATABASE_URI = database_url
        self.SERVER_NAME = os.environ.get("SERVER_NAME") or None
        self.PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https")
        self.BASE_URL = os.environ.get("BASE_URL") or (
            f"{self.PREFERRED_URL_SCHEME}://{self.SERVER_NAME}" if self.SERVER_NAME
            else Config.BASE_URL)
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", Config.UPLOAD_FOLDER)
        self.TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
        self.CALENDAR_UID_DOMAIN = os.environ.get(
            "CALENDAR_UID_DOMAIN", Config.CALENDAR_UID_DOMAIN)
        self.CALENDAR_ORGANIZER = os.environ.get("CALENDAR_ORGANIZER", Config.CALENDAR_ORGANIZER)
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
        self.MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", Config.MAIL_DEFAULT_SENDER)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

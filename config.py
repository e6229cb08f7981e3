"""Configuration classes; `create_app(name)` picks one by name ("development" by default)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(value: str) -> timedelta:
    return timedelta(seconds=float(value))


def _hours(value: str) -> timedelta:
    """Hours, at most a year: more would reach before any event's date."""
    hours = float(value)
    if not 0 <= hours <= 366 * 24:  # NaN fails too
        raise ValueError(value)
    return timedelta(hours=hours)


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
    # The languages the app offers (each with a catalogue in webapp/translations/), the
    # first the default: README, "Languages".
    LANGUAGES = ["en", "da", "el", "es", "fi", "fr", "it", "nl", "pl", "pt_PT"]
    # werkzeug's scrypt defaults (N=2**15); tests lower the cost.
    PASSWORD_HASH_METHOD = "scrypt"
    EVENTS_PER_PAGE = 12
    SQLITE_BUSY_TIMEOUT_MS = 30000
    # Seconds a web request waits on PostgreSQL (a connection, the pool, a statement, any
    # round trip on the wire) before it answers 503; jobs and CLI commands wait longer,
    # migrations, backups and restores as long as they need (0: no limit). See
    # webapp/database_limits.py.
    DATABASE_TIMEOUT = 5.0
    DATABASE_JOB_TIMEOUT = 300.0
    DATABASE_MAINTENANCE_TIMEOUT = 0.0
    # The Retry-After of a 503 while the database does not answer.
    UNAVAILABLE_RETRY_AFTER = 30
    # The monitoring token of /healthz/details (sent as `Authorization: Bearer`); unset,
    # only signed-in admins see the details.
    HEALTH_TOKEN: str | None = None
    # How mail leaves: "smtp" (through MAIL_SERVER), "mailbox" (development only: kept in
    # a local mailbox read at /dev/mail) or "log" (only logged, sent to nobody).
    MAIL_TRANSPORT = "smtp"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    # STARTTLS on a plain connection (port 587), or implicit TLS from the start (port 465).
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    # How long a message claimed for sending belongs to its sender: far longer than an SMTP
    # exchange (MAIL_TIMEOUT), so only a sender that died lets another one retry it.
    MAIL_CLAIM_LEASE = timedelta(seconds=300)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Beachhead <no-reply@beachhead.localhost>"
    REDIS_URL: str | None = None
    # Seconds a request waits for Redis to accept a connection or answer: past it the
    # request goes on without (rate limits in the database, mail left to the next tick).
    REDIS_TIMEOUT = 2.0
    # The worker's waits between attempts to reach Redis again: doubled from the first to
    # the longest, in seconds; it never gives up.
    WORKER_RECONNECT_INITIAL = 1.0
    WORKER_RECONNECT_MAX = 30.0
    # How often a worker writes its heartbeat (database), and how long without one a
    # worker counts as gone while jobs or mail wait.
    WORKER_HEARTBEAT_EVERY = 10.0
    WORKER_SILENT_AFTER = timedelta(seconds=60)
    # A job or mail waiting longer than this is shown as stalled on the admin's jobs page.
    JOB_STALLED_AFTER = timedelta(seconds=300)
    # Every absolute link (mail, QR codes, calendar files and feeds, the API's) is built
    # from BASE_URL, never from the request's Host header, which any client can forge; it
    # is right outside a request too (tick, the worker), where Flask knows no host.
    # Development and production read it (or HOST and PORT) from the environment; the
    # tests use the address `make run` serves by default.
    BASE_URL: str
    SERVER_NAME: str | None = None
    PREFERRED_URL_SCHEME = "http"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # Managers who chose a daily digest get it at the first tick after this local hour.
    DIGEST_HOUR = 7
    # Check-in opens this long before an event starts (delegates arrive the day before)
    # and closes at its end; check-ins outside it are refused and never counted.
    CHECKIN_OPENS_BEFORE = timedelta(hours=24)
    # A meeting that took place gets its follow-up question this long after its slot.
    MEETING_FOLLOW_UP_AFTER = timedelta(days=182)
    DEMO_ALLOWED = True
    # Organization logos (re-encoded PNG/JPEG); outside static/, served through a view.
    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    MAX_LOGO_BYTES = 2 * 1024 * 1024
    # `flask backup` writes its archives here unless given --output.
    BACKUP_FOLDER = str(INSTANCE_DIR / "backups")
    # Seconds pg_dump waits for its table locks (a migration holding one): it gives up
    # rather than queue every request behind it. Statements have DATABASE_MAINTENANCE_TIMEOUT.
    BACKUP_LOCK_TIMEOUT = 120.0
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
    API_RATE_LIMIT = 120
    # The host part of calendar UIDs (event-<id>@..., session-<id>@...): fixed, not taken
    # from the request, so a UID stays the same whichever address served the file.
    CALENDAR_UID_DOMAIN = "beachhead.smartcitytech.eu"
    # The ORGANIZER of emailed invitations: the partnership's contact address.
    CALENDAR_ORGANIZER = "mailto:missions@smartcitytech.eu"


# The settings development and production read from the environment, read the same way
# in both (name -> how its text is read; the config key is the same name). Unset or empty,
# the configuration's default stays. DATABASE_URL, SECRET_KEY, BASE_URL (from HOST and
# PORT) and MAIL_TRANSPORT have defaults of their own, in `EnvironmentConfig`.
FROM_ENVIRONMENT: dict[str, Callable[[str], object]] = {
    "REDIS_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": _flag,
    "MAIL_USE_SSL": _flag,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_CLAIM_LEASE": _seconds,
    "SERVER_NAME": str,
    "PREFERRED_URL_SCHEME": str,
    "SESSION_COOKIE_SECURE": _flag,
    "TRUSTED_PROXIES": int,
    "UPLOAD_FOLDER": str,
    "API_RATE_LIMIT": int,
    "DIGEST_HOUR": int,
    "CHECKIN_OPENS_BEFORE": _hours,
    "CALENDAR_UID_DOMAIN": str,
    "CALENDAR_ORGANIZER": str,
    "HEALTH_TOKEN": str,
    "BACKUP_FOLDER": str,
    "BACKUP_LOCK_TIMEOUT": float,
    "DATABASE_TIMEOUT": float,
    "DATABASE_JOB_TIMEOUT": float,
    "DATABASE_MAINTENANCE_TIMEOUT": float,
    "SQLITE_BUSY_TIMEOUT_MS": int,
    "UNAVAILABLE_RETRY_AFTER": int,
    "REDIS_TIMEOUT": float,
    "WORKER_RECONNECT_INITIAL": float,
    "WORKER_RECONNECT_MAX": float,
    "WORKER_HEARTBEAT_EVERY": float,
    "WORKER_SILENT_AFTER": _seconds,
    "JOB_STALLED_AFTER": _seconds,
}

MAIL_TRANSPORTS = ("smtp", "mailbox", "log")
# Addresses a server listens on that no browser can open: links use the loopback instead.
_EVERY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 - read, never bound
# Where `make run` serves without HOST and PORT (the Makefile says the same).
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", "5000"


def _environment(name: str) -> str | None:
    """The environment's value of `name`: unset and empty alike are None."""
    return os.environ.get(name) or None


def served_address() -> str:
    """The address `make run` (`flask run --host HOST --port PORT`) serves, as a browser
    opens it: a server listening on every address is opened on the loopback."""
    host = (_environment("HOST") or DEFAULT_HOST).strip()
    port = (_environment("PORT") or DEFAULT_PORT).strip()
    if host in _EVERY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    if not port.isdigit():
        raise RuntimeError(f"PORT must be a port number, not {port!r}.")
    return f"http://{host}:{port}"


class EnvironmentConfig(Config):
    """A configuration that takes its settings from the environment: development and
    production, one reading for both; each says only its defaults and what it refuses."""

    def __init__(self) -> None:
        for name, read in FROM_ENVIRONMENT.items():
            value = _environment(name)
            if value is None:
                continue
            try:
                setattr(self, name, read(value))
            except ValueError:
                raise RuntimeError(f"{name} cannot be read from {value!r}.") from None
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.SQLALCHEMY_DATABASE_URI = _environment("DATABASE_URL") or self.default_database()
        self.SECRET_KEY = self.checked_secret(_environment("SECRET_KEY"))
        self.BASE_URL = (_environment("BASE_URL") or (
            f"{self.PREFERRED_URL_SCHEME}://{self.SERVER_NAME}" if self.SERVER_NAME
            else served_address())).rstrip("/")
        transport = _environment("MAIL_TRANSPORT")
        if transport is not None and transport not in MAIL_TRANSPORTS:
            raise RuntimeError(f"MAIL_TRANSPORT must be one of {', '.join(MAIL_TRANSPORTS)}, "
                               f"not {transport!r}.")
        self.MAIL_TRANSPORT = self.checked_mail_transport(
            transport, server_given=_environment("MAIL_SERVER") is not None)

    def default_database(self) -> str:
        raise NotImplementedError

    def checked_secret(self, secret: str | None) -> str:
        raise NotImplementedError

    def checked_mail_transport(self, transport: str | None, *, server_given: bool) -> str:
        raise NotImplementedError


class DevelopmentConfig(EnvironmentConfig):
    DEBUG = False

    def default_database(self) -> str:
        return f"sqlite:///{INSTANCE_DIR / 'beachhead.db'}"

    def checked_secret(self, secret: str | None) -> str:
        return secret or _instance_secret()

    def checked_mail_transport(self, transport: str | None, *, server_given: bool) -> str:
        # Without an SMTP server of their own, developers read the mail at /dev/mail.
        return transport or ("smtp" if server_given else "mailbox")


class TestingConfig(Config):
    """Reads nothing from the environment but TEST_DATABASE_URL, so a developer's own
    settings (MAIL_SERVER, BASE_URL, ...) cannot change what the suite sees."""

    TESTING = True
    SECRET_KEY = "testing-only-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    WTF_CSRF_ENABLED = True
    BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    # Tests upload logos; keep them out of the working tree's instance folder.
    UPLOAD_FOLDER = str(Path(tempfile.gettempdir()) / "beachhead-test-uploads")


class ProductionConfig(EnvironmentConfig):
    DEMO_ALLOWED = False
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def default_database(self) -> str:
        raise RuntimeError("DATABASE_URL must be set in production.")

    def checked_secret(self, secret: str | None) -> str:
        if not secret or len(secret) < 32 or secret in {"change-me", "changeme", "secret", "dev"}:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return secret

    def checked_mail_transport(self, transport: str | None, *, server_given: bool) -> str:
        if transport == "mailbox":
            raise RuntimeError("MAIL_TRANSPORT=mailbox is for development only: set "
                               "MAIL_SERVER (and MAIL_PORT, ...) to send the mail.")
        if transport != "log" and not server_given:
            raise RuntimeError("MAIL_SERVER must be set in production (or MAIL_TRANSPORT=log "
                               "to only log the mail, sending none).")
        return transport or "smtp"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def serving_notice() -> str:
    """What `make run` says before it serves: where the app is and, while its mail stays
    in the local mailbox, where to read it."""
    settings = DevelopmentConfig()
    lines = [f"Serving Beachhead on {settings.BASE_URL} (Ctrl+C stops it)"]
    if settings.MAIL_TRANSPORT == "mailbox":
        lines.append(f"Mail the app sends: {settings.BASE_URL}/dev/mail")
    return "\n".join(lines)

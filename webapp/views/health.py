"""Health for machines and for people.

`/healthz` is for load balancers: 200 `{"status": "ok"}` while the database answers a
`SELECT 1` within DATABASE_TIMEOUT, 503 `{"status": "unavailable"}` otherwise, and nothing
more (no versions, no parts): a node whose Redis is away still serves pages, so it stays
in the pool, and the answer tells a stranger nothing.

`/healthz/details` is for monitors and admins: each part (database, Redis, the worker's
last heartbeat, the oldest unsent mail, the oldest queued job) with its figures and
whether it is fine. It answers signed-in admins, or the monitoring token HEALTH_TOKEN sent
as `Authorization: Bearer <token>` (compared in constant time); anyone else, a wrong
token or a missing one gets the same 401, which says nothing about the parts or the
token. 503 while the database does not answer (the parts read from it are then unknown),
200 otherwise, with `status` "ok" or "degraded".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from time import perf_counter
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select

from .. import access, database_limits
from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, utcnow
from ..services import jobs

bp = Blueprint("health", __name__)

REFUSAL = ("Send the monitoring token as `Authorization: Bearer <token>`, or sign in as "
           "an administrator.")
NO_WORKER = "no worker: jobs run in the web process (REDIS_URL is not set)"
# The jobs page's defaults, for a configuration that does not name them.
SILENT_AFTER = timedelta(seconds=60)
STALLED_AFTER = timedelta(minutes=5)


def _answer(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER"])
    return response


@bp.get("/healthz")
@access.public
def status():
    if _database()["ok"]:
        return _answer({"status": "ok"}, 200)
    return _answer({"status": "unavailable"}, 503)


# --------------------------------------------------------------------------- who may see


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def monitoring_token_matches(sent: str) -> bool:
    """Whether `sent` is HEALTH_TOKEN: digests of equal length compared in constant time,
    so the answer's timing tells neither the token nor its length; no token configured
    matches nothing."""
    expected = current_app.config.get("HEALTH_TOKEN") or ""
    same = hmac.compare_digest(_digest(sent), _digest(expected))
    return same and bool(expected)


def _sent_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        return None
    return token.strip() if scheme.lower() == "bearer" else ""


def admin_or_monitoring_token(view: Callable) -> Callable:
    """Admins signed in, or a request with the monitoring token. A request that sends a
    token is judged by it alone."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        sent = _sent_token()
        allowed = (monitoring_token_matches(sent) if sent is not None
                   else access.can(current_user, "admin.use"))
        if not allowed:
            response = _answer({"status": 401, "detail": REFUSAL}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="beachhead health"'
            return response
        return view(*args, **kwargs)

    wrapped.access_rule = "admin.use or HEALTH_TOKEN"  # type: ignore[attr-defined]
    return wrapped


# --------------------------------------------------------------------------- the parts


@bp.get("/healthz/details")
@admin_or_monitoring_token
def details():
    parts: dict[str, dict[str, Any]] = {"database": _database()}
    parts["redis"], redis = _redis()
    database_up = parts["database"]["ok"]
    parts["worker"] = _worker() if database_up else _unknown("the database does not answer")
    parts["mail"] = _mail() if database_up else _unknown("the database does not answer")
    parts["jobs"] = _jobs(redis)
    if not database_up:
        overall, code = "unavailable", 503
    elif all(part["ok"] is not False for part in parts.values()):
        overall, code = "ok", 200
    else:
        overall, code = "degraded", 200
    return _answer({"status": overall, "checked_at": _iso(utcnow()), "parts": parts}, code)


def _unknown(why: str) -> dict[str, Any]:
    return {"ok": None, "detail": why}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _age(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(max(0.0, (utcnow() - moment).total_seconds()), 1)


def _within(age: float | None, setting: str, default: timedelta) -> bool:
    """Whether `age` is within the admin's jobs page's own thresholds (WORKER_SILENT_AFTER,
    JOB_STALLED_AFTER): a monitor and that page call the same things stalled."""
    limit = current_app.config.get(setting, default)
    return age is None or age <= limit.total_seconds()


def _database() -> dict[str, Any]:
    """`SELECT 1` within the request's limit (webapp/database_limits.py)."""
    started = perf_counter()
    try:
        db.session.execute(select(1))
    except Exception as error:
        if not database_limits.is_unavailable(error):
            raise
        database_limits.mark_unavailable()
        return {"ok": False, "seconds": round(perf_counter() - started, 3),
                "detail": "does not answer"}
    return {"ok": True, "seconds": round(perf_counter() - started, 3)}


def _redis():
    """A ping within REDIS_TIMEOUT, on a client of its own (a monitor's question must not
    wait on, or disturb, the connection the jobs use)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return _unknown("not configured: jobs run in the web process"), None
    from redis import Redis, RedisError

    app = current_app._get_current_object()
    cached = app.extensions.get("beachhead_health_redis")
    if cached is None or cached[0] != url:
        limit = float(app.config.get("REDIS_TIMEOUT", 2)) or None
        client = Redis.from_url(url, socket_timeout=limit, socket_connect_timeout=limit)
        cached = app.extensions["beachhead_health_redis"] = (url, client)
    client = cached[1]
    started = perf_counter()
    try:
        client.ping()
    except (RedisError, OSError) as error:
        return {"ok": False, "seconds": round(perf_counter() - started, 3),
                "detail": f"{type(error).__name__}: {error}"}, None
    return {"ok": True, "seconds": round(perf_counter() - started, 3)}, client


def _worker() -> dict[str, Any]:
    """The last heartbeat any worker wrote in the database (readable while Redis is
    away)."""
    if not current_app.config.get("REDIS_URL"):
        return _unknown(NO_WORKER)
    beat = jobs.last_heartbeat()
    if beat is None:
        return {"ok": False, "last_heartbeat": None, "age_seconds": None,
                "detail": "no worker has reported"}
    age = _age(beat.beat_at)
    return {"ok": _within(age, "WORKER_SILENT_AFTER", SILENT_AFTER),
            "last_heartbeat": _iso(beat.beat_at), "age_seconds": age, "state": beat.state}


def _mail() -> dict[str, Any]:
    """Mail written and not yet handed to the SMTP server (retries included)."""
    oldest, unsent = db.session.execute(
        select(func.min(OutboxMessage.created_at), func.count())
        .where(OutboxMessage.status == OutboxStatus.PENDING)).one()
    age = _age(oldest)
    return {"ok": _within(age, "JOB_STALLED_AFTER", STALLED_AFTER), "unsent": unsent,
            "oldest_unsent_age_seconds": age}


def _jobs(redis) -> dict[str, Any]:
    """The RQ queue: how many wait, and since when the first one does."""
    if not current_app.config.get("REDIS_URL"):
        return _unknown(NO_WORKER)
    if redis is None:
        return _unknown("Redis does not answer")
    from redis import RedisError
    from rq import Queue

    queue = Queue(jobs.QUEUE_NAME, connection=redis)
    try:
        queued = queue.count
        oldest = queue.get_jobs(0, 1)
    except (RedisError, OSError) as error:
        return {"ok": False, "detail": f"{type(error).__name__}: {error}"}
    age = _age(oldest[0].enqueued_at) if oldest else None
    return {"ok": _within(age, "JOB_STALLED_AFTER", STALLED_AFTER), "queued": queued,
            "oldest_queued_age_seconds": age}

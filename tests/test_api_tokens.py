"""Personal API tokens: made, listed and revoked on the profile; what the API accepts."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api import bearer, token_for
from tests.backends import BACKENDS
from tests.confirming import confirm
from tests.conftest import csrf_token
from webapp.models import ApiRateWindow, ApiToken, AuditEntry, utcnow
from webapp.services import api_tokens

SECRET_RE = re.compile(r'value="(bh_[A-Za-z0-9_-]{43})" data-testid="token-secret"')


def _create(client, **fields):
    data = {"token-name": "Our CRM", "token-access": "read_only", **fields,
            "csrf_token": csrf_token(client, "/account/profile")}
    return client.post("/account/api-tokens", data=data)


def test_token_lifecycle_through_the_profile_page(client, login_as, make, db):
    member = make.user(make.organization(make.partner()))
    login_as(member)
    created = _create(client, **{"token-access": "read_write"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    secret = SECRET_RE.search(created.get_data(as_text=True)).group(1)
    # Stored only as its digest; the page shows it once.
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    assert token.digest == api_tokens.digest(secret) and secret not in token.hint + token.name
    assert not token.read_only and token.hint == secret[:9]
    page = client.get("/account/profile").get_data(as_text=True)
    assert secret not in page and "Our CRM" in page and "never" in page

    used = client.get("/api/v1/me", headers=bearer(secret))
    assert used.status_code == 200 and used.json["token"]["name"] == "Our CRM"
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None
    assert "never" not in client.get("/account/profile").get_data(as_text=True)

    revoked = confirm(client, f"/account/api-tokens/{token.id}/revoke")
    assert revoked.status_code == 302
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_type == "apitoken", AuditEntry.subject_id == token.id)).all()
    assert actions == ["api_token.created", "api_token.revoked"]


def test_revoking_needs_the_csrf_token_and_ones_own_token(client, login_as, make, db):
    owner, other = make.user(), make.user()
    token_for(owner)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    login_as(owner)
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 400
    login_as(other)
    assert client.get(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    foreign = client.post(f"/account/api-tokens/{token.id}/revoke",
                          data={"csrf_token": csrf_token(client, "/account/profile")})
    assert foreign.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_a_past_expiry_or_no_name_makes_no_token(client, login_as, make, db):
    member = make.user()
    login_as(member)
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert _create(client, **{"token-expires_on": yesterday}).status_code == 400
    assert _create(client, **{"token-name": "  "}).status_code == 400
    assert _create(client, **{"token-access": "root"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_missing_unknown_revoked_and_expired_tokens_are_401(call, make, db):
    member = make.user()
    revoked = token_for(member)
    api_tokens.revoke(member, db.session.scalar(
        select(ApiToken.id).where(ApiToken.digest == api_tokens.digest(revoked))))
    db.session.commit()
    expired = token_for(member, expires_on=utcnow().date())
    db.session.execute(ApiToken.__table__.update().where(
        ApiToken.digest == api_tokens.digest(expired)).values(
        expires_on=(utcnow() - timedelta(days=1)).date()))
    cases = {
        None: "Bearer",
        "bh_" + "x" * 43: "not known",
        "not-ours": "not a Beachhead",
        revoked: "revoked",
        expired: "expired",
    }
    for secret, words in cases.items():
        response = call("GET", "/api/v1/me", secret)
        assert response.status_code == 401, secret
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert words in response.json["detail"], (secret, response.json)
        assert ('error="invalid_token"' in response.headers["WWW-Authenticate"]) == bool(secret)
    basic = call("GET", "/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_a_session_cookie_alone_never_authenticates(client, login_as, make, db):
    cluster = make.partner()
    reg = make.registration(make.event(), make.user(make.organization(cluster)))
    login_as(make.admin())
    assert client.get("/account/profile").status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    # No CSRF token either: the API is exempt from CSRF because cookies do not count.
    posted = client.post(f"/api/v1/registrations/{reg.id}/decision",
                         json={"decision": "approve", "expected_status": "submitted"})
    assert posted.status_code == 401 and posted.mimetype == "application/problem+json"
    assert "Set-Cookie" not in posted.headers
    db.session.expire_all()
    assert reg.status.value == "submitted"


def test_a_closed_account_s_token_stops_working(call, make, db):
    member = make.user()
    secret = token_for(member)
    member.active = False
    db.session.commit()
    assert call("GET", "/api/v1/me", secret).status_code == 401


def test_read_only_token_cannot_write(call, make, db):
    cluster = make.partner()
    manager = make.manager(cluster)
    reg = make.registration(make.event(), make.user(make.organization(cluster)))
    secret = token_for(manager, read_only=True)
    response = call("POST", f"/api/v1/registrations/{reg.id}/decision", secret,
                    json={"decision": "approve", "expected_status": "submitted"})
    assert response.status_code == 403 and "read-only" in response.json["detail"]
    db.session.expire_all()
    assert reg.status.value == "submitted"
    assert call("GET", f"/api/v1/registrations/{reg.id}", secret).status_code == 200


def test_rate_limit_answers_429_with_retry_after(app, call, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 3)
    secret = token_for(make.user())
    statuses = [call("GET", "/api/v1/me", secret).status_code for _ in range(4)]
    assert statuses in ([200, 200, 200, 429], [200, 200, 200, 200])  # a minute may turn
    limited = call("GET", "/api/v1/me", secret)
    if statuses[-1] == 200:
        limited = call("GET", "/api/v1/me", secret)
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Counted in the database, where every worker sees the same row.
    assert db.session.scalar(select(func.max(ApiRateWindow.count))) >= 4
    # Another token of the same person has its own count.
    assert call("GET", "/api/v1/me", token_for(make.user())).status_code == 200


def test_rate_windows_of_past_minutes_are_dropped(make, db):
    member = make.user()
    token_for(member)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    now = utcnow()
    assert api_tokens.count_request(token, now=now - timedelta(minutes=3))[0] == 1
    assert api_tokens.count_request(token, now=now)[0] == 1
    assert api_tokens.count_request(token, now=now)[0] == 2
    assert db.session.scalar(select(func.count()).select_from(ApiRateWindow)) == 1


@pytest.mark.redis
def test_with_redis_the_rate_limit_is_counted_there(app, call, make, db, monkeypatch):
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 2)
    secret = token_for(make.user())
    statuses = [call("GET", "/api/v1/me", secret).status_code for _ in range(3)]
    if statuses != [200, 200, 429]:  # the minute turned between two requests
        statuses = [call("GET", "/api/v1/me", secret).status_code for _ in range(3)]
    assert statuses[-1] == 429
    assert db.session.scalar(select(func.count()).select_from(ApiRateWindow)) == 0
    keys = redis.Redis.from_url(url).keys(f"beachhead:api-rate:{api_tokens.digest(secret)[:24]}:*")
    assert keys and all(0 < redis.Redis.from_url(url).ttl(k) <= 65 for k in keys)


def test_the_data_export_lists_tokens_without_secrets_and_erasure_deletes_them(call, make, db):
    from webapp.services import privacy

    member = make.user()
    secret = token_for(member, read_only=True)
    assert call("GET", "/api/v1/me", secret).status_code == 200
    exported = privacy.export(member)["api_tokens"]
    assert [(t["name"], t["read_only"]) for t in exported] == [("test", True)]
    assert exported[0]["last_used_at"] and secret[3:] not in str(exported)
    assert api_tokens.digest(secret) not in str(privacy.export(member))
    privacy.erase(member)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiRateWindow)) == 0
    assert call("GET", "/api/v1/me", secret).status_code == 401


def _concurrent_statuses(open_app, monkeypatch, backend: str, *, lock: bool,
                         requests: int = 20):
    """`requests` calls of one token at the same moment through a live server, whose
    threads stand in for gunicorn's workers; their statuses and the requests counted."""
    import http.client
    from urllib.parse import urlsplit

    from tests.factories import Factory
    from tests.live import in_threads, serve, without_capacity_lock
    from webapp.extensions import db as _db

    app = open_app(backend, API_RATE_LIMIT=1000)
    # One window for the whole burst: one that begins during it would drop the earlier
    # window's count, as it is meant to, and the sum would miss those requests.
    start = api_tokens._window_start(utcnow())
    monkeypatch.setattr(api_tokens, "_window_start", lambda now: start)
    if not lock:
        without_capacity_lock(monkeypatch)
    secret = api_tokens.create(Factory().user(), "race", read_only=True).secret
    _db.session.commit()
    with serve(app) as base_url:
        host = urlsplit(base_url)

        def request():
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            conn.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            status = conn.getresponse().status
            conn.close()
            return status

        statuses = in_threads(app, [request] * requests)
    _db.session.commit()
    return statuses, sum(_db.session.scalars(select(ApiRateWindow.count)))


@pytest.mark.sqlite
def test_without_a_write_transaction_concurrent_counting_fails_on_sqlite(open_app, monkeypatch):
    """The race the write transaction prevents: deferred reads that then write cannot be
    upgraded once another request has committed (SQLITE_BUSY, which the client sees as the
    database's 503)."""
    for _attempt in range(3):
        statuses, _counted = _concurrent_statuses(open_app, monkeypatch, "sqlite", lock=False)
        if 503 in statuses:
            return
    pytest.fail("the race did not show in three attempts")


@pytest.mark.parametrize(
    "backend", BACKENDS)
def test_concurrent_requests_of_one_token_are_each_counted(open_app, monkeypatch, backend):
    statuses, counted = _concurrent_statuses(open_app, monkeypatch, backend, lock=True)
    assert statuses == [200] * 20
    assert counted == 20

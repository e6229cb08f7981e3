"""Beachhead: event registration and webinar management for cluster partnerships."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit

from flask import Flask, has_request_context, request
from flask_openapi3 import OpenAPI
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from werkzeug.routing import BuildError

from config import CONFIGS, INSTANCE_DIR

from . import assets, database_limits, languages
from .extensions import babel, csrf, db, login_manager, migrate
from .models.types import render_migration_item


class Application(OpenAPI):
    """flask-openapi3's app, through which the API's blueprint routes, validates and is
    documented, with Flask's own route shortcuts back: its `get`/`post` would treat a view
    as an API operation (path values only through a model), which no page, test route or
    extension expects from `app.post`."""

    get = Flask.get
    post = Flask.post
    put = Flask.put
    patch = Flask.patch
    delete = Flask.delete

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """A static file asked for by its digest is kept a year (webapp/assets.py)."""
        return assets.max_age(self, filename) if filename else None

    def url_for(self, endpoint: str, /, *, _anchor: str | None = None,
                _method: str | None = None, _scheme: str | None = None,
                _external: bool | None = None, **values) -> str:
        """Flask's, except that an absolute link is built from BASE_URL (scheme, host, port
        and path prefix): never from the request's Host header, which any client can forge
        to have a reset mail link to its own host, and the same in a request as in `flask
        tick` or the worker, where there is no request."""
        in_request = has_request_context()
        if _external is False or (_external is None and _scheme is None and in_request):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method,
                                   _scheme=_scheme, _external=_external, **values)
        if endpoint[:1] == "." and in_request:
            endpoint = f"{request.blueprint}{endpoint}" if request.blueprint else endpoint[1:]
        self.inject_url_defaults(endpoint, values)
        base = urlsplit(self.config["BASE_URL"])
        adapter = self.url_map.bind(base.netloc, script_name=base.path or "/",
                                    url_scheme=base.scheme)
        try:
            url = adapter.build(endpoint, values, method=_method, url_scheme=_scheme,
                                force_external=True)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=True)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        return url


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the application; `config_name` is development (default), testing or production."""
    name = config_name or os.environ.get("BEACHHEAD_CONFIG", "development")
    from .views.api.registry import parameters_refused

    # Its own reference pages are off: /api/docs serves ours.
    app = Application(
        __name__,
        doc_ui=False,
        validation_error_callback=parameters_refused,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    # Its `flask openapi` exports the app's own paths, which are none: the API's document
    # is its blueprint's, at /api/v1/openapi.json.
    app.cli.commands.pop("openapi", None)
    app.config.from_object(CONFIGS[name]())
    app.config["CONFIG_NAME"] = name
    # Every `<int:...>` segment is an id: out of 1..2**31-1 it matches nothing (404).
    from .ids import IdConverter

    app.url_map.converters["int"] = IdConverter
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Per process: 4 gunicorn workers x 10 stay well under PostgreSQL's 100 connections.
        # A request waits its turn for a free one up to POOL_QUEUE (webapp/database_limits.py).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": 5, "max_overflow": 5, **database_limits.pool_options(app),
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(app.root_path, os.pardir, "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    # The catalogues, compiled where the app may write (webapp/languages.py).
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(languages.compiled_folder(app))
    languages.compile_catalogues(app)
    babel.init_app(app, locale_selector=languages.select)

    with app.app_context():
        _tune_engine(db.engine, busy_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
        database_limits.guard(db.engine, app)

    from . import auth_session, collation, errors, filters, http_cache, security, text, unit
    from .services import event_texts, jobs, notifications

    # First: every request's unit of work opens before, and ends after, everything else.
    unit.init_app(app)
    auth_session.init_app(app)
    notifications.init_app(app)
    jobs.init_app(app)
    errors.init_app(app)
    # Paths, query strings and form bodies that cannot be read answer 400; every text a
    # request writes passes the models' last line before the commit.
    text.init_app(app)
    filters.init_app(app)
    security.init_app(app)
    http_cache.init_app(app)
    languages.init_app(app)
    event_texts.init_app(app)
    collation.init_app(app)
    assets.init_app(app)

    from .views import (
        account,
        admin,
        agenda,
        agreements,
        api,
        apply,
        auth,
        badges,
        brochure,
        calendar,
        checkin,
        delegation,
        desk,
        dev_mail,
        downloads,
        health,
        join,
        kpis,
        language,
        lookup,
        marketplace,
        matchmaking,
        meeting_outcomes,
        meeting_requests,
        organization,
        public,
        quick_registration,
        schedule,
        stakeholders,
        surveys,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(apply.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(delegation.bp)
    app.register_blueprint(brochure.bp)
    app.register_blueprint(organization.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(badges.bp)
    app.register_blueprint(checkin.bp)
    app.register_blueprint(join.bp)
    app.register_blueprint(quick_registration.bp)
    app.register_blueprint(surveys.bp)
    app.register_blueprint(agreements.bp)
    app.register_blueprint(kpis.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(dev_mail.bp)
    app.register_blueprint(lookup.bp)
    app.register_blueprint(language.bp)
    app.register_blueprint(matchmaking.bp)
    app.register_blueprint(marketplace.bp)
    app.register_blueprint(meeting_requests.bp)
    app.register_blueprint(meeting_outcomes.bp)
    app.register_blueprint(stakeholders.bp)
    app.register_blueprint(schedule.bp)
    app.register_blueprint(agenda.bp)
    # Bearer tokens only: a cookie never authenticates an API call, so CSRF cannot apply.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp, url_prefix=api.URL_PREFIX)
    app.register_blueprint(api.docs_bp)

    from . import cli

    cli.init_app(app)
    return app


def _tune_engine(engine: Engine, *, busy_ms: int) -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and transactions we open ourselves.

    pysqlite's own transaction handling defers BEGIN and cannot issue BEGIN IMMEDIATE;
    we turn it off and emit BEGIN from SQLAlchemy's begin event, so the capacity-deciding
    step can take the write lock up front (see services.locking).
    """
    if engine.dialect.name != "sqlite":
        return

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

"""Jinja filters and globals: local times with their zone, country names and places (from
`services.places`), join links, access checks."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_login import current_user

from . import access, localtime
from .services import join
from .services.names import role_label
from .services.places import country_name, place


def your_time(start, end, event_tz: str) -> str:
    """The range in the signed-in viewer's profile zone when it differs from the event's;
    visitors get nothing extra (the event's zone and offset are always shown)."""
    if not getattr(current_user, "is_authenticated", False):
        return ""
    return localtime.viewer_span(start, end, event_tz, current_user.timezone)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        instant=localtime.format_instant,
        span=localtime.format_span,
        day=localtime.format_day,
        days=localtime.format_days,
        country=country_name,
        place=place,
        zone_label=localtime.zone_label,
        your_time=your_time,
    )
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["join_link"] = join.link
    app.jinja_env.globals["online_sessions"] = join.online_sessions

    @app.context_processor
    def inject_policy():
        def can(action: str, target=None) -> bool:
            return access.can(current_user, action, target)

        return {
            "can": can,
            "app_name": app.config["APP_NAME"],
            "partnership_name": app.config["PARTNERSHIP_NAME"],
            "html_lang": str(get_locale() or "en"),
        }

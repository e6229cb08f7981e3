"""Jinja filters and globals: local times with their zone, country names and places (from
`services.places`), join links, access checks."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import format_decimal, format_percent, get_locale, get_translations
from flask_login import current_user

from . import access, localtime
from .services import join
from .services.names import role_label
from .services.places import country_name, place


def viewer_zone() -> str:
    """The signed-in reader's own zone; UTC for visitors and for an account whose zone
    is not known yet (until their browser reports it, see static/js/timezone.js)."""
    if not getattr(current_user, "is_authenticated", False):
        return "UTC"
    return localtime.known_zone(current_user.timezone)


def instant(at, zone: str | None = None) -> str:
    """`at` in `zone` with its city and offset: a time at a place (an event's, a mail
    recipient's). Without a zone: a timestamp (applied, decided, sent) in the reader's
    own zone, named as they know it."""
    if zone is None:
        return localtime.format_timestamp(at, viewer_zone())
    return localtime.format_instant(at, zone)


def your_time(start, end, event_tz: str) -> str:
    """An event's time (`end` None) or range on the signed-in viewer's own clock, when it
    reads differently from the event's; visitors and accounts whose zone is not known
    yet get nothing extra (the event's zone and offset are always shown)."""
    if not getattr(current_user, "is_authenticated", False):
        return ""
    return localtime.viewer_span(start, end, event_tz, current_user.timezone)


def decimal(value, digits: int = 0) -> str:
    """A number as the reader's language writes it ("4.5", "4,5"; "1,234", "1 234"), with
    `digits` after the decimal sign."""
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def percent(ratio) -> str:
    """A ratio (0.85) as the reader's language writes a percentage ("85%", "85 %")."""
    return format_percent(ratio)


def translations():
    """The request's translations, as Flask-Babel's `get_translations` gives them, kept
    beside the locale they were loaded for: templates translate 50-250 strings a page,
    and each of Flask-Babel's own look-ups asks the request context three times over.
    A `flask_babel.refresh()` (a new locale) drops the locale, so they are looked up
    again."""
    state = g.get("_flask_babel") if g else None
    if state is None:
        return get_translations()
    kept = getattr(state, "template_translations", None)
    locale = getattr(state, "babel_locale", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    state.template_translations = (state.babel_locale, found)
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        instant=instant,
        decimal=decimal,
        percent=percent,
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
        # The user as this render sees it (Flask-Login's own context processor has loaded
        # it already), not the proxy: each rule reads it several times.
        user = current_user._get_current_object()

        def can(action: str, target=None) -> bool:
            return access.can(user, action, target)

        return {
            "can": can,
            "app_name": app.config["APP_NAME"],
            "partnership_name": app.config["PARTNERSHIP_NAME"],
            "html_lang": str(get_locale() or "en"),
        }

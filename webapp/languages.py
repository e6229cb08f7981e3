"""Which language each reader gets, and the catalogues that speak it.

A request is answered in, first found:

1. the signed-in person's own choice (`User.locale`; None: as their browser says);
2. the language chosen with the switcher on every page (the `COOKIE`; for a signed-in
   person the switcher sets their choice as well);
3. the best of the browser's `Accept-Language` among the offered languages;
4. the default, English.

Anything that is not an offered language (a malformed header, an old cookie, a language
a deployment stopped offering) counts as not given: never an error.

Mail and files are written in their reader's language, not the sender's: `of_user` is a
person's language away from their browser (their choice, else what their browser last
asked for, else the event's or the default).

The catalogues live in `webapp/translations/<language>/LC_MESSAGES/messages.po` and are
compiled when the app starts (`compile_catalogues`) into the instance folder, only when a
catalogue is newer than its compiled file: no build step to forget.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request

# The switcher's choice for someone not signed in (and kept after signing out).
COOKIE = "beachhead_lang"
COOKIE_SECONDS = 365 * 24 * 3600
DEFAULT = "en"
CATALOGUES = Path(__file__).parent / "translations"
_CHOSEN = "beachhead_language"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(language_choices=choices, language_name=name_of)
    app.jinja_env.filters["lang_tag"] = tag

    @app.after_request
    def vary_with_language(response):
        """Every page may read differently with another language (the browser's or the
        switcher's cookie): no cache hands it to someone who asked in another."""
        if request.endpoint != "static":
            response.vary.update(("Accept-Language", "Cookie"))
        return response


def offered(app: Flask | None = None) -> list[str]:
    return (app or current_app).config["LANGUAGES"]


def offered_or_none(code: str | None) -> str | None:
    """`code` when it names an offered language (any case, `-` or `_`), else None."""
    if not code or not isinstance(code, str) or len(code) > 20:
        return None
    code = code.strip().replace("-", "_")
    for language in offered():
        if language.lower() == code.lower():
            return language
    return None


def tag(code: str | None) -> str:
    """A language code as HTML's `lang` and `hreflang` write it (BCP 47): "pt-PT" for the
    catalogue "pt_PT"."""
    return (code or DEFAULT).replace("_", "-")


def name_of(code: str) -> str:
    """A language named in itself ("Français", "Ελληνικά"), as its speakers write it."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def choices() -> list[tuple[str, str]]:
    """The offered languages, each named in itself: (code, name)."""
    return [(code, name_of(code)) for code in offered()]


def from_browser() -> str | None:
    """The offered language the browser asks for most, or None."""
    if not has_request_context():
        return None
    try:
        best = request.accept_languages.best_match([tag(code) for code in offered()])
        if best is None:
            # Another region of an offered language ("pt-BR" for "pt_PT"): its language.
            by_language = {code.split("_")[0].lower(): code for code in reversed(offered())}
            best = next((by_language[asked.split("-")[0].lower()]
                         for asked, quality in request.accept_languages
                         if quality > 0 and asked.split("-")[0].lower() in by_language), None)
    except (ValueError, TypeError):
        return None
    return offered_or_none(best)


def from_cookie() -> str | None:
    return offered_or_none(request.cookies.get(COOKIE)) if has_request_context() else None


def of_browser() -> str | None:
    """What this request's browser reads, the switcher's cookie first (None outside a
    request, or when it asks for nothing offered): kept on an account as it signs up or
    in, for its mail while it has chosen no language."""
    return (from_cookie() or from_browser()) if has_request_context() else None


def select() -> str:
    """The request's language (Flask-Babel's locale selector), in the order above."""
    if not has_request_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT)
    chosen = g.get(_CHOSEN)
    if chosen is not None:
        return chosen
    if request.blueprint == "api":
        # A client of the API says what it reads in each call, signed in by a token.
        chosen = from_browser() or offered()[0]
        setattr(g, _CHOSEN, chosen)
        return chosen
    from flask_login import current_user

    from .database_limits import unavailable_in_this_request

    own = None
    # A page answering that the database is away loads nobody.
    if not unavailable_in_this_request() and current_user.is_authenticated:
        own = offered_or_none(current_user.locale)
    chosen = own or from_cookie() or from_browser() or offered()[0]
    setattr(g, _CHOSEN, chosen)
    return chosen


def forget_selection() -> None:
    """The request's language changed (the switcher, the profile): chosen again on the
    next look-up, and Flask-Babel's own memory of it dropped."""
    from flask_babel import refresh

    g.pop(_CHOSEN, None)
    refresh()


def of_user(user, fallback: str | None = None) -> str:
    """What `user` reads away from their browser (mail, a file made in the background):
    their choice, else what their browser last asked for, else `fallback` (an event's
    main language), else the default."""
    for code in (getattr(user, "locale", None), getattr(user, "browser_locale", None),
                 fallback):
        if (found := offered_or_none(code)) is not None:
            return found
    return offered()[0]


# --------------------------------------------------------------------------- catalogues


def compiled_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "translations"


def compile_catalogues(app: Flask) -> None:
    """Compile each offered language's catalogue that is newer than its compiled file,
    written whole or not at all (several processes may start at once)."""
    target_root = compiled_folder(app)
    for code in offered(app):
        source = CATALOGUES / code / "LC_MESSAGES" / "messages.po"
        if not source.exists():
            continue
        target = target_root / code / "LC_MESSAGES" / "messages.mo"
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as handle:
            catalog = read_po(handle, locale=code)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write_mo(handle, catalog)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

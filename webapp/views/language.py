"""The language switcher on every page (webapp/languages.py says how a language is chosen).

Visitors follow a link, `GET /language/<code>`: it only sets the switcher's cookie, so a
visitor's page carries no form and stays a page any visitor can be served (webapp/
http_cache.py). Signed-in people post the choice with their CSRF token: it becomes their
own, in every browser and in their mail, and the cookie follows it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, languages, unit
from ..inputs import takes
from ..inputs.accounts import LanguageIn
from ..security import is_safe_redirect
from ..services import accounts

bp = Blueprint("language", __name__)


def _back(target: str | None):
    if not is_safe_redirect(target):
        target = request.referrer if is_safe_redirect(_local(request.referrer)) else None
        target = _local(target)
    return redirect(target if is_safe_redirect(target) else url_for("public.index"))


def _local(url: str | None) -> str | None:
    """The path and query of a URL of this site (the referrer), else None."""
    if not url:
        return None
    root = request.host_url
    if url.startswith(root):
        return "/" + url[len(root):]
    return url if url.startswith("/") else None


def _with_cookie(response, language: str):
    response.set_cookie(
        languages.COOKIE, language, max_age=languages.COOKIE_SECONDS,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True,
        samesite="Lax", path=current_app.config.get("APPLICATION_ROOT") or "/")
    return response


@bp.get("/language/<code>")
@access.public
def follow(code: str):
    """A visitor's choice: the cookie alone."""
    language = languages.offered_or_none(code)
    if language is None:
        flash(_("Choose a language from the list."), "danger")
        return _back(request.args.get("next"))
    return _with_cookie(_back(request.args.get("next")), language)


@bp.post("/language")
@access.login_required
@takes(LanguageIn)
def choose():
    """A signed-in person's choice: their own from now on."""
    from ..forms.account import LanguageForm

    form = LanguageForm()
    if not form.validate_on_submit():
        unit.discard()
        flash(_("Choose a language from the list."), "danger")
        return _back(form.next.data)
    chosen: LanguageIn = form.input
    accounts.choose_language(current_user._get_current_object(), chosen.language)
    languages.forget_selection()
    return _with_cookie(_back(chosen.next), chosen.language)

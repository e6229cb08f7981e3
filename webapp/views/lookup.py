"""The typeahead of look-up fields (static/js/lookup.js): what matches a typed query, as
JSON, at most `lookup.MAX_MATCHES` rows, and only rows the signed-in user may choose
where the field is (each endpoint starts from a scoped query of `access`).

A query too short, too long or with control characters answers no match and says why,
never every row.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..models import Event, Organization, User
from ..services import desk, lookup
from .desk import event_label, member_label

bp = Blueprint("lookup", __name__, url_prefix="/lookup")

def _messages() -> dict:
    return {lookup.TOO_SHORT: _("Type at least %(num)d characters.",
                                num=lookup.MIN_CHARACTERS),
            lookup.TOO_LONG: _("That is too long to search: type at most %(num)d characters.",
                               num=lookup.search.QUERY_LENGTH),
            lookup.UNREADABLE: _("That cannot be searched: type letters, digits or "
                                 "punctuation.")}


def _answer(scope, model, label, detail=lambda row: "", *, keys: tuple = ()):
    query = request.args.get("q", "")
    why = lookup.unusable(query)
    if why is not None:
        response = jsonify(results=[], message=_messages()[why])
    else:
        rows = lookup.matches(scope, model, query, keys=keys)
        response = jsonify(
            results=[{"id": row.id, "label": label(row), "detail": detail(row)} for row in rows],
            message=None if rows else _("No match."))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _event_detail(event: Event) -> str:
    return f"{event.starts_at:%Y-%m-%d} · {event.target_city or ''}".strip(" ·")


@bp.get("/events")
@access.login_required
def events():
    """Every event the user may see."""
    return _answer(access.events_visible_to(current_user), Event, event_label, _event_detail)


@bp.get("/desk-events")
@access.requires("desk.use")
def desk_events():
    """The events the desk's event filter offers the user."""
    return _answer(desk.filter_events(current_user), Event, event_label, _event_detail)


@bp.get("/open-events")
@access.requires("desk.apply_on_behalf")
def open_events():
    """The events a manager may apply to on a member's behalf (registration open)."""
    return _answer(desk.open_events(current_user), Event, event_label, _event_detail)


@bp.get("/members")
@access.requires("desk.apply_on_behalf")
def members():
    """The members a manager may apply for."""
    return _answer(desk.members_for_applying_on_behalf(current_user), User, member_label,
                   keys=(Organization.search_key,))


@bp.get("/organizations")
@access.requires("desk.inbox")
def organizations():
    """The organizations a manager reviews (their clusters'); every one for admins."""
    return _answer(
        access.organizations_reviewable_by(current_user), Organization, lambda o: o.name,
        lambda o: o.home_cluster.short_name if o.home_cluster else "")


@bp.get("/users")
@access.requires("admin.use")
def users():
    """Every account, for the administrators."""
    return _answer(select(User).options(joinedload(User.organization)), User,
                   lambda u: u.name, lambda u: u.email)

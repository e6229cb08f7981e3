"""How a signed-in user is found again on each request (Flask-Login wiring)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import database_limits
from .extensions import db, login_manager
from .models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    # A remember-me cookie restores the session but marks it as not fresh.
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<session version>"; an older version has been revoked.

    Once the database failed in this request, nobody is loaded: the 503 page (every page
    is rendered with the user, through Flask-Login's context processor) must not ask it
    again. The session itself is left as it is, so the user is still signed in afterwards."""
    if database_limits.unavailable_in_this_request():
        return None
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # One statement with the roles joined (every page asks the policy, which reads them),
    # not the user and then a second select of the roles.
    user = db.session.scalars(select(User).options(joinedload(User.grants))
                              .where(User.id == int(user_id))).unique().one_or_none()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user

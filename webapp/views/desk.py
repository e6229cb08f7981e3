"""The partner desk: the registrations a manager, organizer or host may see.

Deciding, filters and exports grow here in the desk issue; today it lists and shows.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..extensions import db
from ..models import AuditEntry, Event, Organization, Registration, User

bp = Blueprint("desk", __name__, url_prefix="/desk")

PER_PAGE = 50


@bp.get("/")
@access.requires("desk.use")
def index():
    page = request.args.get("page", 1, type=int) or 1
    query = (
        access.desk_registrations(current_user)
        .join(Registration.event)
        .options(
            joinedload(Registration.event),
            joinedload(Registration.user).joinedload(User.organization),
            joinedload(Registration.responsible_partner),
        )
        .order_by(Event.starts_at.desc(), Registration.id)
    )
    pagination = db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)
    return render_template("desk/index.html", pagination=pagination)


@bp.get("/registrations/<int:registration_id>")
@access.requires("desk.use")
def registration(registration_id: int):
    reg = db.session.scalar(
        access.registrations_visible_to(current_user)
        .where(Registration.id == registration_id)
        .options(
            joinedload(Registration.event).selectinload(Event.hosts),
            joinedload(Registration.user).joinedload(User.organization).joinedload(
                Organization.home_cluster),
            selectinload(Registration.history).joinedload(AuditEntry.actor),
        )
    )
    if reg is None:
        abort(404)
    return render_template(
        "desk/registration.html", registration=reg,
        can_decide=access.can(current_user, "registration.decide", reg),
    )

"""The partner desk: the registrations a manager, organizer or host may see, and the
managers' inbox (join requests and new organizations of their clusters).

Deciding, filters and exports grow here in the desk issue; today it lists and shows.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..extensions import db
from ..forms.organization import MembershipDecisionForm, ReviewForm
from ..models import AuditEntry, Event, MembershipRequest, Organization, Registration, User

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


def _new_organizations():
    return access.organizations_reviewable_by(current_user).where(
        Organization.reviewed_at.is_(None))


@bp.get("/inbox")
@access.requires("desk.inbox")
def inbox():
    requests = db.session.scalars(
        access.membership_requests_decidable_by(current_user)
        .options(joinedload(MembershipRequest.user),
                 joinedload(MembershipRequest.organization).joinedload(
                     Organization.home_cluster))
        .order_by(MembershipRequest.created_at, MembershipRequest.id)
    ).all()
    organizations = db.session.scalars(
        _new_organizations().options(joinedload(Organization.home_cluster))
        .order_by(Organization.created_at, Organization.id)
    ).all()
    return render_template(
        "desk/inbox.html", requests=requests, organizations=organizations,
        decision_form=MembershipDecisionForm(), review_form=ReviewForm(),
    )


@bp.app_context_processor
def inject_inbox_count():
    def inbox_count() -> int:
        """What waits in the user's inbox; asked by the navigation only for inbox users."""
        pending = select(func.count()).select_from(
            access.membership_requests_decidable_by(current_user).subquery())
        new = select(func.count()).select_from(_new_organizations().subquery())
        return (db.session.scalar(pending) or 0) + (db.session.scalar(new) or 0)

    return {"inbox_count": inbox_count}

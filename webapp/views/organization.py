"""Organization pages: the profile and its logo, join requests, review and merging.

Who sees what comes from `access`: an organization's page is open to its members, its
home cluster's managers and admins; to anyone else it does not exist (404).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from .. import access, collation, confirmations, http_cache, inputs, unit
from ..errors import render_error
from ..extensions import db
from ..forms.organization import (
    HELIX_LABELS,
    SIZE_LABELS,
    LogoForm,
    MembershipDecisionForm,
    MergeForm,
    OrganizationForm,
    ReviewForm,
)
from ..ids import page_arg, parse_id
from ..inputs.organizations import MembershipDecisionIn, MergeIn, OrganizationIn
from ..models import (
    MembershipRequest,
    Organization,
    Partner,
    PartnerKind,
    User,
    search,
)
from ..paging import page_of
from ..services import logos, organizations
from ..services.errors import DomainError
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("organization", __name__, url_prefix="/organizations")

PER_PAGE = 50
MERGE_CHOICES = 100


def _me() -> User:
    return current_user._get_current_object()


def _clusters() -> list[Partner]:
    return list(db.session.scalars(
        collation.ordered(select(Partner).where(Partner.kind == PartnerKind.CLUSTER), Partner)))


def _organization_form(organization: Organization, **kwargs) -> OrganizationForm:
    form = OrganizationForm(obj=organization, clusters=_clusters(), **kwargs)
    # Only those who review the organization move it to another cluster; for the others
    # the field is not on the form, so a forged value is never read.
    if not access.can(current_user, "organization.review", organization):
        del form.home_cluster_id
    return form


def _organization_page(organization: Organization, *, status=200):
    members = db.session.scalars(collation.ordered(
        select(User).where(User.organization_id == organization.id, User.erased_at.is_(None)),
        User)).all()
    pending = db.session.scalars(
        access.membership_requests_decidable_by(current_user)
        .where(MembershipRequest.organization_id == organization.id)
        .options(joinedload(MembershipRequest.user))
        .order_by(MembershipRequest.created_at)
    ).all()
    can_edit = access.can(current_user, "organization.edit", organization)
    return render_template(
        "organization/view.html", organization=organization, members=members,
        pending=pending, decision_form=MembershipDecisionForm(), review_form=ReviewForm(),
        can_edit=can_edit, size_labels=SIZE_LABELS, helix_labels=HELIX_LABELS,
        can_review=access.can(current_user, "organization.review", organization),
    ), status


@bp.get("")
@access.requires("desk.inbox")
@http_cache.kept_for_user
def index():
    """The organizations a manager reviews (all of them for admins), searchable by name."""
    typed = search.typed(request.args.get("q"))
    page = page_arg()
    query = access.organizations_reviewable_by(current_user).options(
        joinedload(Organization.home_cluster)).where(
        search.matches(Organization.search_key, typed))
    pagination = page_of(query.order_by(Organization.name, Organization.id), PER_PAGE,
                         page=page)
    ids = [o.id for o in pagination.items]
    member_counts = dict(db.session.execute(
        select(User.organization_id, func.count(User.id))
        .where(User.organization_id.in_(ids), User.erased_at.is_(None))
        .group_by(User.organization_id)
    ).all()) if ids else {}
    return render_template("organization/index.html", pagination=pagination, search=typed,
                           member_counts=member_counts)


@bp.get("/<int:organization_id>")
@access.requires_on("organization.view", Organization, "organization_id")
def view(organization: Organization):
    return _organization_page(organization)


@bp.route("/<int:organization_id>/edit", methods=["GET", "POST"])
@access.requires_on("organization.edit", Organization, "organization_id",
                    visible="organization.view")
@inputs.takes(OrganizationIn)
def edit(organization: Organization):
    form = _organization_form(organization)
    if form.validate_on_submit():
        values = form.input.profile_values()
        # Only a reviewer's form has the home cluster (None: the "None" choice).
        if "home_cluster_id" in form:
            values["home_cluster_id"] = form.input.home_cluster_id
        try:
            changes = organizations.update_profile(_me(), organization, values)
        except Refused as refusal:
            show_refusal(form, refusal)
            return render_template("organization/edit.html", organization=organization,
                                   form=form, logo_form=LogoForm()), 400
        flash(_("The organization has been saved.") if changes else _("Nothing changed."),
              "success" if changes else "info")
        if access.can(current_user, "organization.view", organization):
            return redirect(url_for("organization.view", organization_id=organization.id))
        # A manager who moved it to another cluster no longer sees it.
        return redirect(url_for("desk.inbox"))
    status = 400 if form.is_submitted() else 200
    return render_template("organization/edit.html", organization=organization, form=form,
                           logo_form=LogoForm()), status


@bp.get("/<int:organization_id>/logo")
@access.requires_on("organization.view", Organization, "organization_id")
def logo(organization: Organization):
    filename = organization.logo_filename
    folder = current_app.config["UPLOAD_FOLDER"]
    if not logos.is_stored_name(filename) or not (Path(folder) / filename).is_file():
        abort(404)
    response = send_from_directory(folder, filename, mimetype=logos.content_type(filename),
                                   max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Only people allowed to see the organization may fetch it: no shared caches.
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@bp.post("/<int:organization_id>/logo")
@access.requires_on("organization.edit", Organization, "organization_id",
                    visible="organization.view")
# The logo is a file, checked and re-encoded by services.logos: no fields.
@inputs.takes(inputs.NoInput)
def upload_logo(organization: Organization):
    form = LogoForm()
    if form.validate_on_submit():
        try:
            organizations.replace_logo(_me(), organization, form.logo.data.read())
        except DomainError as error:
            unit.discard()
            form.logo.errors.append(error.message)
        else:
            flash(_("The logo has been replaced."), "success")
            return redirect(url_for("organization.view", organization_id=organization.id))
    return render_template("organization/edit.html", organization=organization,
                           form=_organization_form(organization, formdata=None),
                           logo_form=form), 400


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A logo past the request's own limit is cut off before the form can judge it."""
    if request.endpoint == "organization.upload_logo":
        return render_error(413, logos.too_large_message(current_app.config["MAX_LOGO_BYTES"]))
    return render_error(413)


@bp.post("/requests/<int:request_id>")
# Who sees the organization sees its requests (404 otherwise); 403: not theirs to decide.
@access.requires_on("membership.decide", MembershipRequest, "request_id",
                    visible="membership.view")
@inputs.takes(MembershipDecisionIn)
def decide_request(membership_request: MembershipRequest):
    membership = membership_request
    organization = membership.organization
    form = MembershipDecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose to accept or refuse the request."), "danger")
        return _organization_page(organization, status=400)
    accept = form.input.accepts
    try:
        organizations.decide_membership(_me(), membership, accept)
    except DomainError as error:
        unit.discard()
        flash(error.message, "warning")
    else:
        name = membership.user.name
        flash(_("%(name)s is now a member.", name=name) if accept
              else _("The request of %(name)s has been refused.", name=name), "success")
    target = request.form.get("back")
    if target == "inbox" and access.can(current_user, "desk.inbox"):
        return redirect(url_for("desk.inbox"))
    return redirect(url_for("organization.view", organization_id=organization.id))


@bp.post("/<int:organization_id>/reviewed")
@access.requires_on("organization.review", Organization, "organization_id",
                    visible="organization.view")
@inputs.takes(inputs.NoInput)
def mark_reviewed(organization: Organization):
    if ReviewForm().validate_on_submit():
        if organizations.mark_reviewed(_me(), organization):
            flash(_("%(name)s is marked as reviewed.", name=organization.name), "success")
        else:
            flash(_("%(name)s was already reviewed.", name=organization.name), "info")
    if request.form.get("back") == "inbox":
        return redirect(url_for("desk.inbox"))
    return redirect(url_for("organization.view", organization_id=organization.id))


@bp.route("/<int:organization_id>/merge", methods=["GET", "POST"])
@access.requires_on("organization.review", Organization, "organization_id",
                    visible="organization.view")
@inputs.takes(MergeIn)
def merge(organization: Organization):
    duplicate = organization  # the one folded into another
    candidates = organizations.merge_candidates(_me(), duplicate)
    typed = search.typed(request.args.get("q"))
    form = MergeForm()
    listed = candidates.where(search.matches(Organization.search_key, typed))
    shown = [SelectChoice(str(o.id), f"{o.name} ({o.city or o.country})") for o in
             db.session.scalars(listed.order_by(Organization.name).limit(MERGE_CHOICES))]
    if request.method == "POST":
        # Only the chosen organization is looked up: admins may pick among thousands.
        chosen_id = parse_id((form.into.raw_data or [None])[0])
        chosen = db.session.scalar(candidates.where(Organization.id == chosen_id))
        form.into.choices = [SelectChoice(str(chosen.id), chosen.name)] if chosen else []
    else:
        form.into.choices = shown
    if form.validate_on_submit():
        into = db.session.get(Organization, form.input.into)
        here = url_for("organization.merge", organization_id=duplicate.id)
        if not confirmations.posted():
            return _merge_confirmation(duplicate, into)
        # The token names the organization confirmed: another one posted is refused.
        confirmations.require(_merging_into(into), duplicate.id, start_again=here)
        name = duplicate.name
        try:
            organizations.merge(_me(), duplicate, into)
        except DomainError as error:
            unit.discard()
            flash(error.message, "danger")
        else:
            flash(_("%(duplicate)s has been merged into %(into)s.", duplicate=name,
                    into=into.name), "success")
            return redirect(url_for("organization.view", organization_id=into.id))
    if form.is_submitted():
        form.into.choices = shown
        return render_template("organization/merge.html", duplicate=duplicate, form=form,
                               search=typed), 400
    return render_template("organization/merge.html", duplicate=duplicate, form=form,
                           search=typed)


def _merging_into(into: Organization) -> str:
    """The confirmed action: merging into this very organization."""
    return f"organization.merge:{into.id}"


def _merge_confirmation(duplicate: Organization, into: Organization):
    """What merging `duplicate` into `into` will do, before it is done."""
    moves = organizations.merge_moves(duplicate)
    names = {"duplicate": duplicate.name, "into": into.name}
    consequences = [
        ngettext("%(num)d member of %(duplicate)s moves to %(into)s.",
                 "%(num)d members of %(duplicate)s move to %(into)s.", moves.members, **names),
        ngettext("%(num)d registration of theirs moves with them and stays theirs.",
                 "%(num)d registrations of theirs move with them and stay theirs.",
                 moves.registrations),
    ]
    if moves.requests:
        consequences.append(ngettext(
            "%(num)d pending request to join %(duplicate)s goes to %(into)s.",
            "%(num)d pending requests to join %(duplicate)s go to %(into)s.",
            moves.requests, **names))
    if moves.agreements:
        consequences.append(ngettext(
            "%(num)d agreement names %(into)s in its place.",
            "%(num)d agreements name %(into)s in its place.", moves.agreements, **names))
    consequences += [
        _("%(into)s keeps its own profile and takes the details of %(duplicate)s only where "
          "it has none; nobody is mailed.", **names),
        _("%(duplicate)s disappears. This cannot be undone.", **names),
    ]
    here = url_for("organization.merge", organization_id=duplicate.id)
    return confirmations.page(
        _merging_into(into), duplicate.id,
        title=_("Merge %(duplicate)s into %(into)s?", **names),
        subject=f"{duplicate.name} ({duplicate.city or duplicate.country}) → "
                f"{into.name} ({into.city or into.country})",
        consequences=consequences, action_url=here,
        confirm_label=_("Merge into %(into)s", **names), cancel_url=here,
        carried={"into": into.id, "confirm": "y"})

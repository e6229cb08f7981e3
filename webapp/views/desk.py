"""The partner desk: the applications a manager, organizer or host may see, across events;
deciding them one by one or in bulk, and correcting a decision (reopening it, or cancelling
one registration); roles on the event, direct registrations of hosts and staff, applying on
behalf of a member; and the managers' inbox (join requests and new organizations of their
clusters).

Every decision goes through the registration service, which checks the transition, the
seats and the status the decider saw; the views only turn its refusals into messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import RequestEntityTooLarge

from .. import access, confirmations, database_limits, http_cache, inputs, unit
from ..errors import render_error
from ..extensions import db
from ..forms.apply import application_form
from ..forms.desk import (
    STATUS_LABELS,
    BulkDecisionForm,
    CorrectionForm,
    DecisionForm,
    DeskFilterForm,
    DirectRegistrationForm,
    OnBehalfChoiceForm,
    RoleForm,
)
from ..forms.organization import MembershipDecisionForm, ReviewForm
from ..inputs.applications import ApplicationIn
from ..inputs.desk import DirectRegistrationIn, RoleIn
from ..inputs.registrations import BulkDecisionIn, CorrectionIn, Decision, DecisionIn
from ..models import (
    Event,
    EventRole,
    MembershipRequest,
    Organization,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ..services import desk, desk_news, lookup, registrations
from ..services.desk import DeskFilters
from ..services.errors import AnswersRefused, BulkRefused, DomainError

bp = Blueprint("desk", __name__, url_prefix="/desk")
log = logging.getLogger(__name__)

# What a decision says once it is taken: each a whole sentence, so that every language
# can say it its own way (a participle glued into a sentence cannot agree with anything).
DECIDED = {Decision.APPROVE: _l("The application is approved."),
           Decision.REJECT: _l("The application is rejected."),
           Decision.WAITLIST: _l("The application is put on the waiting list.")}


def _decided_many(decision: Decision, count: int) -> str:
    if decision == Decision.APPROVE:
        return ngettext("%(num)d application approved.", "%(num)d applications approved.",
                        count)
    if decision == Decision.REJECT:
        return ngettext("%(num)d application rejected.", "%(num)d applications rejected.",
                        count)
    return ngettext("%(num)d application put on the waiting list.",
                    "%(num)d applications put on the waiting list.", count)


def _applied_on_behalf(status: RegistrationStatus, name: str, event: str) -> str:
    """Who was applied for, and where the application stands now."""
    if status == RegistrationStatus.APPROVED:
        return _("%(name)s has applied to %(event)s (approved).", name=name, event=event)
    if status == RegistrationStatus.WAITLISTED:
        return _("%(name)s has applied to %(event)s (on the waiting list).", name=name,
                 event=event)
    return _("%(name)s has applied to %(event)s (submitted).", name=name, event=event)


def _me() -> User:
    return current_user._get_current_object()


# --------------------------------------------------------------------------- the list


@bp.get("/")
@access.requires("desk.use")
@http_cache.kept_for_user
def index():
    return _index_page(BulkDecisionForm(), DirectRegistrationForm(), records_visit=True)


def _index_page(bulk_form: BulkDecisionForm, direct_form: DirectRegistrationForm, *,
                bulk_problems: list | None = None, status: int = 200,
                records_visit: bool = False):
    me = _me()
    seen_at = utcnow()  # before reading: what arrives meanwhile stays new
    total_new = _new_applications()
    form = DeskFilterForm(request.args, countries=desk.filter_countries(me))
    chosen = lookup.choose(desk.filter_events(me), Event, *form.sent("event"), event_label)
    form.show("event", chosen, event_label)
    filters = form.filters(chosen)
    pagination = desk.applications_page(me, filters, form.page_size)
    # The summary covers the events of the rows on this page, in the order they appear.
    events = list({reg.event.id: reg.event for reg in pagination.items}.values())
    chosen_event = chosen.one
    news = DeskNews(
        total_new,
        desk_news.new_among(me, [reg.id for reg in pagination.items], me.desk_seen_at)
        if total_new else set(),
        narrowed=filters != replace(DeskFilters(), sort=filters.sort))
    html = render_template(
        "desk/index.html", pagination=pagination, form=form, filters=filters,
        event_unknown=chosen.missing,
        counts=desk.event_counts(me, events), bulk_form=bulk_form,
        bulk_problems=bulk_problems or [],
        decidable=desk.decidable_among(me, [reg.id for reg in pagination.items]),
        chosen_event=chosen_event,
        direct_form=direct_form if chosen_event is not None
        and access.can(me, "event.manage", chosen_event) else None,
        news=news,
    )
    if records_visit and news.total and not news.narrowed:
        _record_visit(me, seen_at)
    return html, status


@dataclass(frozen=True)
class DeskNews:
    """The applications new to the manager: how many in their whole desk, which rows of
    the page are among them, and whether a filter narrows the list. Opening the whole
    list is a visit; a narrowed one leaves what it hides new, so nothing new goes unseen
    because the desk was opened at one event's applications."""

    total: int = 0
    on_page: set[int] = field(default_factory=set)
    narrowed: bool = False


def _record_visit(me: User, at: datetime) -> None:
    """Remember that the manager has seen the desk's news, after the page is rendered, so
    the write step (SQLite's write lock) spans one row's update and the commit. If the
    database refuses the write, the manager still gets the page they asked for; the same
    applications are simply shown as new once more next time."""
    user_id = me.id  # read before the write step, which begins a new transaction
    try:
        desk_news.record_visit(me, at)
    except SQLAlchemyError as error:
        if not database_limits.is_unavailable(error):
            raise
        unit.discard()
        log.warning("the desk visit of user %s was not recorded: %s", user_id, error)


def _new_applications() -> int:
    """How many applications are new to the signed-in user on the desk (0 for those who
    decide none), counted once per request: by the navigation and the desk alike."""
    if "desk_new_applications" not in g:
        g.desk_new_applications = (desk_news.count_new(current_user)
                                   if access.can(current_user, "desk.inbox") else 0)
    return g.desk_new_applications


@bp.post("/bulk")
@access.requires("desk.use")
@inputs.takes(BulkDecisionIn)
def bulk():
    me = _me()
    form = BulkDecisionForm()
    if not form.validate_on_submit():
        return _index_page(form, DirectRegistrationForm(), status=400)
    if form.input.decision == Decision.REJECT:
        rejecting = confirmations.for_many("registrations.reject", form.input.ids)
        if not confirmations.posted():
            return _bulk_rejection_page(form, rejecting)
        confirmations.require(rejecting, me.id,
                              start_again=url_for("desk.index", **request.args))
    try:
        # Scope is checked per registration by the policy, inside the service's locked
        # transaction, so an id the page never offered is refused like any other.
        decided = registrations.decide_many(
            form.input.ids, form.input.decision.value, actor=me, reason=form.input.reason)
    except BulkRefused as refusal:
        unit.discard()
        names = desk.bulk_names(me, list(refusal.problems))
        problems = [(reg_id, names.get(reg_id), why) for reg_id, why in refusal.problems.items()]
        flash(refusal.message, "danger")
        return _index_page(form, DirectRegistrationForm(), bulk_problems=problems, status=409)
    flash(_decided_many(form.input.decision, len(decided)), "success")
    return redirect(url_for("desk.index", **request.args))


def _bulk_rejection_page(form: BulkDecisionForm, rejecting: str):
    """What rejecting the ticked applications will do, before it is done."""
    ids = sorted(set(form.input.ids))
    names = desk.bulk_names(_me(), ids)
    return confirmations.page(
        rejecting, _me().id, title=ngettext("Reject %(num)d application?",
                                            "Reject %(num)d applications?", len(ids)),
        consequences=[
            ngettext("The applicant below is rejected and mailed with your reason.",
                     "Each of the %(num)d applicants below is rejected and mailed with your "
                     "reason.", len(ids)),
            _("Those on a waiting list leave it; no seat is taken or freed."),
            _("Taking a rejection back means reopening the application, and the applicant "
              "is mailed again."),
        ],
        listed=[names.get(i) or _("Application #%(id)d", id=i) for i in ids],
        action_url=url_for("desk.bulk", **request.args),
        confirm_label=ngettext("Reject %(num)d application", "Reject %(num)d applications",
                               len(ids)),
        cancel_url=url_for("desk.index", **request.args), fields=[form.reason],
        carried={"ids": ids, "decision": Decision.REJECT.value})


@bp.errorhandler(RequestEntityTooLarge)
def too_many_fields(error):
    """Thousands of ticked ids exceed the form's parts before the service can count them."""
    if request.endpoint == "desk.bulk":
        return render_error(413, _(
            "At most %(limit)d applications can be decided at once. Nothing was applied.",
            limit=registrations.MAX_BULK))
    return render_error(413)


# --------------------------------------------------------------------------- one application


def _visible_registration(registration_id: int) -> Registration:
    reg = desk.registration_for_desk(_me(), registration_id)
    if reg is None:
        abort(404)
    return reg


def _registration_page(reg: Registration, *, decision_form: DecisionForm | None = None,
                       role_form: RoleForm | None = None, refusal: str | None = None,
                       status: int = 200):
    me = _me()
    role_form = role_form or RoleForm(formdata=None, role=reg.role.value)
    return render_template(
        "desk/registration.html", registration=reg,
        answers={a.question_id: a.value for a in reg.answers},
        can_decide=access.can(me, "registration.decide", reg),
        can_manage=access.can(me, "event.manage", reg.event),
        decision_form=decision_form or DecisionForm(formdata=None),
        role_form=role_form, refusal=refusal,
        decisions=[d for d, to in registrations.DECISIONS.items()
                   if registrations.can_transition(reg.status, to)],
        corrections=[c for c in CORRECTIONS if _offered(c, reg)],
    ), status


@bp.get("/registrations/<int:registration_id>")
@access.requires_on("registration.view", Registration, "registration_id", first="desk.use")
def registration(registration_id: int):
    return _registration_page(_visible_registration(registration_id))


@bp.post("/registrations/<int:registration_id>/decide")
@access.requires_on("registration.decide", Registration, "registration_id", first="desk.use",
                    visible="registration.view")
@inputs.takes(DecisionIn)
def decide(registration_id: int):
    reg = _visible_registration(registration_id)
    form = DecisionForm()
    rejecting = form.decision.data == Decision.REJECT.value
    if not form.validate_on_submit():
        if rejecting and confirmations.posted():  # the reason was emptied on the way
            return _rejection_page(reg, form, status=400)
        return _registration_page(reg, decision_form=form, status=400)
    if rejecting:
        if not confirmations.posted():
            return _rejection_page(reg, form)
        confirmations.require("registration.reject", reg.id, start_again=url_for(
            "desk.registration", registration_id=reg.id))
    try:
        registrations.decide(
            reg.id, form.input.decision.value, actor=_me(), reason=form.input.reason,
            expected_status=form.input.expected_status)
    except DomainError as refusal:
        # Stale (someone decided first, or the member withdrew), no seat, not a decidable
        # status, a cancelled event, a role revoked meanwhile: nothing is written, and the
        # page shows the registration as it is now, beside the reason.
        unit.discard()
        return _registration_page(_visible_registration(registration_id),
                                  refusal=refusal.message, status=409)
    flash(str(DECIDED[form.input.decision]), "success")
    return redirect(url_for("desk.registration", registration_id=registration_id))


def _rejection_page(reg: Registration, form: DecisionForm, *, status: int = 200):
    """What rejecting the application will do, before it is done."""
    consequences = [_("%(name)s is mailed that the application to %(event)s is rejected, "
                      "with your reason.", name=reg.user.name, event=reg.event.title)]
    if reg.status == RegistrationStatus.WAITLISTED:
        consequences.append(_("They leave the waiting list; no seat is taken or freed."))
    consequences.append(_("Taking it back means reopening the application, and the "
                          "applicant is mailed again."))
    back = url_for("desk.registration", registration_id=reg.id)
    return confirmations.page(
        "registration.reject", reg.id, title=_("Reject this application?"),
        subject=f"{reg.user.name} · {reg.event.title}", consequences=consequences,
        action_url=url_for("desk.decide", registration_id=reg.id),
        confirm_label=_("Reject the application"), cancel_url=back, fields=[form.reason],
        carried={"decision": Decision.REJECT.value,
                 "expected_status": form.expected_status.data}, status=status)


# --------------------------------------------------------------------------- corrections


@dataclass(frozen=True)
class Correction:
    """A decision corrected from the desk: its access rule (and confirmation action),
    the status it leads to, its endpoint and the words of its pages."""

    action: str
    to_status: RegistrationStatus
    endpoint: str
    link: str
    title: str
    confirm_label: str
    done: str


REOPEN = Correction("registration.reopen", RegistrationStatus.SUBMITTED, "desk.reopen",
                    _l("Reopen"), _l("Reopen this decision?"), _l("Reopen the decision"),
                    _l("The decision is reopened: the application waits to be decided "
                       "again."))
CANCEL = Correction("registration.cancel", RegistrationStatus.CANCELLED,
                    "desk.cancel_registration", _l("Cancel this registration"),
                    _l("Cancel this registration?"), _l("Cancel the registration"),
                    _l("The registration is cancelled."))
CORRECTIONS = (REOPEN, CANCEL)


def _offered(correction: Correction, reg: Registration) -> bool:
    """Whether the application's page offers `correction`: allowed to the user, and
    possible now."""
    if not access.can(_me(), correction.action, reg):
        return False
    try:
        registrations.check_correction(reg, correction.to_status)
    except DomainError:
        return False
    return True


@bp.route("/registrations/<int:registration_id>/reopen", methods=["GET", "POST"])
@access.requires_on("registration.reopen", Registration, "registration_id", first="desk.use",
                    visible="registration.view")
@inputs.takes(CorrectionIn)
def reopen(registration_id: int):
    return _correct(_visible_registration(registration_id), REOPEN)


@bp.route("/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@access.requires_on("registration.cancel", Registration, "registration_id", first="desk.use",
                    visible="registration.view")
@inputs.takes(CorrectionIn)
def cancel_registration(registration_id: int):
    return _correct(_visible_registration(registration_id), CANCEL)


def _correct(reg: Registration, correction: Correction):
    """GET: what the correction will do, to confirm with a reason; POST (from that page,
    with its token): do it. A correction that cannot happen now is said on the
    application's page, and nothing changes."""
    if request.method == "GET":
        try:
            registrations.check_correction(reg, correction.to_status)
        except DomainError as refusal:
            return _registration_page(reg, refusal=refusal.message, status=409)
        form = CorrectionForm(formdata=None, expected_status=reg.status.value)
        return _correction_page(reg, correction, form)
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _correction_page(reg, correction, form, status=400)
    confirmations.require(correction.action, reg.id, start_again=url_for(
        correction.endpoint, registration_id=reg.id))
    apply = registrations.reopen if correction is REOPEN else registrations.cancel_one
    try:
        apply(reg.id, actor=_me(), reason=form.input.reason,
              expected_status=form.input.expected_status)
    except DomainError as refusal:
        # Stale (decided, reopened or cancelled meanwhile), the event started, a role
        # revoked: nothing is written, the page shows the registration as it is now.
        unit.discard()
        return _registration_page(_visible_registration(reg.id), refusal=refusal.message,
                                  status=409)
    flash(str(correction.done), "success")
    return redirect(url_for("desk.registration", registration_id=reg.id))


def _correction_page(reg: Registration, correction: Correction, form: CorrectionForm, *,
                     status: int = 200):
    back = url_for("desk.registration", registration_id=reg.id)
    return confirmations.page(
        correction.action, reg.id, title=str(correction.title),
        subject=f"{reg.user.name} · {reg.event.title} · {STATUS_LABELS[reg.status]}",
        consequences=_consequences(registrations.consequences(reg, correction.to_status)),
        action_url=url_for(correction.endpoint, registration_id=reg.id),
        confirm_label=str(correction.confirm_label), cancel_url=back, fields=[form.reason],
        carried={"expected_status": form.expected_status.data}, status=status)


def _consequences(shown: registrations.Consequences) -> list[str]:
    """What a correction will do, in sentences: who is mailed, the seat, who takes it,
    the badge, the join link and the calendar, and what comes after."""
    reg = shown.registration
    name = reg.user.name
    reopening = shown.to_status == RegistrationStatus.SUBMITTED
    sentences = []
    if reg.user in shown.mailed:
        sentences.append(
            _("%(name)s is mailed that the decision is reopened, with your reason.", name=name)
            if reopening else
            _("%(name)s is mailed that the registration is cancelled, with your reason.",
              name=name))
    if shown.frees_seat and shown.promoted:
        sentences.append(ngettext(
            "Their seat is freed: %(names)s, first on the waiting list, takes it and is mailed.",
            "Their seat is freed: %(names)s, first on the waiting list, take it and are mailed.",
            len(shown.promoted), names=", ".join(r.user.name for r in shown.promoted)))
    elif shown.frees_seat:
        sentences.append(_("Their seat is freed; nobody on the waiting list takes it."))
    if shown.voids_badge:
        sentences.append(_("Their badge stops admitting them at the door."))
    if shown.voids_join_link:
        sentences.append(_("Their personal join link stops opening the meeting."))
    if shown.cancels_invitation:
        sentences.append(_("The event is removed from their calendar."))
    if not reopening:
        sentences.append(_("This cannot be undone: the registration stays cancelled, and "
                           "they cannot apply to this event again."))
    elif reg.status == RegistrationStatus.APPROVED:
        sentences.append(_("The application is decided again: approving it needs a free "
                           "seat and room in its partner's quota, as for any other."))
    elif reg.status == RegistrationStatus.WAITLISTED:
        sentences.append(_("They leave the waiting list: put on it again, they join it at "
                           "its end."))
    else:
        sentences.append(_("The application is decided again, like a new one."))
    return sentences


@bp.post("/registrations/<int:registration_id>/role")
@access.requires_on("registration.role", Registration, "registration_id", first="desk.use",
                    visible="registration.view")
@inputs.takes(RoleIn)
def set_role(registration_id: int):
    reg = _visible_registration(registration_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _registration_page(reg, role_form=form, status=400)
    try:
        registrations.set_role(reg.id, form.input.role, actor=_me())
    except DomainError as refusal:
        unit.discard()
        return _registration_page(_visible_registration(registration_id),
                                  refusal=refusal.message, status=409)
    flash(_("The role on the event is saved."), "success")
    return redirect(url_for("desk.registration", registration_id=registration_id))


# --------------------------------------------------------------------------- direct and on behalf


@bp.post("/events/<int:event_id>/direct")
# Other clusters' managers do not organize the event: for them there is nothing here (404).
@access.requires_on("event.manage", Event, "event_id", first="desk.use")
@inputs.takes(DirectRegistrationIn)
def register_directly(event: Event):
    me = _me()
    form = DirectRegistrationForm()
    back = url_for("desk.index", event=event.id)
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(back), 303
    try:
        reg = desk.register_directly(me, event, form.input.email, form.input.role)
    except DomainError as refusal:
        unit.discard()
        flash(refusal.message, "danger")
        return redirect(back), 303
    flash(_registered_as(reg.role, reg.user.name), "success")
    return redirect(back)


def _registered_as(role: EventRole, name: str) -> str:
    """Who was registered directly (DIRECT_ROLES), and as what: a sentence per role."""
    if role == EventRole.HOST:
        return _("%(name)s is registered as host.", name=name)
    if role == EventRole.STAFF:
        return _("%(name)s is registered as staff.", name=name)
    return _("%(name)s is registered.", name=name)


@bp.route("/apply-on-behalf", methods=["GET", "POST"])
@access.requires("desk.apply_on_behalf")
@inputs.takes(ApplicationIn)
def apply_on_behalf():
    me = _me()
    members = desk.members_for_applying_on_behalf(me)
    choice = OnBehalfChoiceForm(request.args)
    chosen_member = lookup.choose(members, User, *choice.sent("member"), member_label,
                                  keys=(Organization.search_key,))
    chosen_event = lookup.choose(desk.open_events(me), Event, *choice.sent("event"),
                                 event_label)
    member, event = chosen_member.one, chosen_event.one
    if any(found.missing and choice.sent(name)[1] is None
           for name, found in (("member", chosen_member), ("event", chosen_event))):
        abort(404)  # a member or event outside the user's scope looks like an unknown id
    choice.show("member", chosen_member, member_label)
    choice.show("event", chosen_event, event_label)
    form = None
    if member is not None and event is not None:
        form = application_form(event, organization=member.organization, edits_profile=False)
        if form.validate_on_submit():
            try:
                reg = registrations.apply(
                    member, event.id, answers=form.input.by_question(),
                    profile_consent=form.input.profile_consent,
                    contact_consent=form.input.contact_consent, actor=me, on_behalf=True)
            except AnswersRefused as refusal:
                unit.discard()
                form.show_problems(refusal.problems)
                if not refusal.problems:
                    form.form_errors.append(refusal.message)
            except DomainError as refusal:
                unit.discard()
                form.form_errors.append(refusal.message)
            else:
                flash(_applied_on_behalf(reg.status, member.name, event.title), "success")
                return redirect(url_for("desk.registration", registration_id=reg.id))
    status = 400 if form is not None and form.is_submitted() else 200
    return render_template(
        "desk/apply_on_behalf.html", choice=choice, form=form, member=member, event=event,
        has_members=member is not None or db.session.scalar(members.limit(1)) is not None,
        unmatched={name: found.text or found.missing for name, found in
                   (("member", chosen_member), ("event", chosen_event))}), status


def event_label(event: Event) -> str:
    """How an event reads in a look-up field."""
    return event.title


def member_label(member: User) -> str:
    """How a member reads in a look-up field: their name and organization."""
    return f"{member.name} ({member.organization.name})" if member.organization \
        else member.name


# --------------------------------------------------------------------------- the inbox


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
def inject_navigation_counts():
    def inbox_count() -> int:
        """What waits in the user's inbox; asked by the navigation only for inbox users."""
        pending = select(func.count()).select_from(
            access.membership_requests_decidable_by(current_user).subquery())
        new = select(func.count()).select_from(_new_organizations().subquery())
        return (db.session.scalar(pending) or 0) + (db.session.scalar(new) or 0)

    return {"inbox_count": inbox_count, "new_applications_count": _new_applications}

"""Administration: events (admins, and partner managers for the events their partners
organize), partners, accounts, the audit log and the failed background jobs (admins
only).

Views parse, ask `access`, call one service and render; a service's refusal comes back
as messages beside the fields it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access, collation, confirmations, http_cache, inputs, languages, unit
from ..extensions import db
from ..forms.admin import (
    PARTNER_KIND_LABELS,
    QUESTION_KIND_LABELS,
    ROLE_LABELS,
    SESSION_KIND_LABELS,
    AuditFilterForm,
    CancelForm,
    CloneForm,
    EventForm,
    EventSearchForm,
    GrantForm,
    PartnerForm,
    QuestionForm,
    SessionForm,
    UserSearchForm,
    quota_form,
)
from ..forms.public import KIND_LABELS
from ..ids import id_message, parse_id
from ..inputs.events import (
    CancelIn,
    CloneIn,
    EventIn,
    MoveIn,
    QuestionIn,
    QuotasIn,
    SessionIn,
)
from ..inputs.partners import GrantIn, PartnerIn
from ..models import (
    AuditEntry,
    Event,
    EventSession,
    EventStatus,
    Partner,
    Question,
    Registration,
    Role,
    RoleGrant,
    User,
    search,
)
from ..paging import page_of
from ..services import (
    events,
    fields,
    jobs,
    lookup,
    notifications,
    partners,
    questions,
    reminders,
    users,
)
from ..services.fields import Refused
from . import show_refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


def _attempt(action: Callable[[], object], done: str | None = None) -> object | None:
    """Run a button's service call: its refusal becomes a warning (nothing written), its
    success `done`."""
    try:
        result = action()
    except Refused as refusal:
        unit.discard()
        flash(refusal.message, "warning")
        return None
    if done:
        flash(done, "success")
    return result


def _local(at: datetime | None, event: Event) -> datetime | None:
    """A stored instant as the form shows it: in the event's zone, keeping its offset (so
    a time the clocks pass twice comes back with the choice already made)."""
    return at.astimezone(event.zone) if at else None


def _all_partners() -> list[Partner]:
    return list(db.session.scalars(collation.ordered(select(Partner), Partner)))


# --------------------------------------------------------------------------- events


def _managed_event(event_id: int) -> Event:
    """The event of an endpoint declared `requires_on("event.manage", Event, "event_id")`,
    with what its pages show; read through the same scope (others' events look like
    unknown ids), so the helper stays safe wherever it is called."""
    event = db.session.scalar(
        access.events_managed_by(current_user).where(Event.id == event_id).options(
            selectinload(Event.organizers), selectinload(Event.hosts),
            selectinload(Event.sessions), selectinload(Event.questions),
        )
    )
    if event is None:
        abort(404)
    return event


def _event_form_data(event: Event) -> dict:
    return dict(
        kind=event.kind.value, title=event.title, slug=event.slug, summary=event.summary,
        description=event.description, target_country=event.target_country,
        target_city=event.target_city, venue=event.venue, online_url=event.online_url,
        recording_url=event.recording_url,
        reminder_offsets=reminders.format_offsets(event.reminder_offsets or ()),
        timezone=event.timezone, starts_local=_local(event.starts_at, event),
        ends_local=_local(event.ends_at, event),
        registration_opens_local=_local(event.registration_opens_at, event),
        registration_closes_local=_local(event.registration_closes_at, event),
        capacity=event.capacity, requires_approval=event.requires_approval,
        max_per_organization=event.max_per_organization,
        organizer_ids=[p.id for p in event.organizers], host_ids=[p.id for p in event.hosts],
        language=event.language, **EventForm.texts_form_data(event.translations),
    )


def _render_event_page(event: Event, *, form=None, session_form=None, quotas=None,
                       clone_form=None, question_form=None, status: int = 200):
    quota_partners = events.quota_partners(event)
    seats = {q.partner_id: q.seats for q in event.quotas}
    return render_template(
        "admin/event_edit.html", event=event,
        form=form or EventForm(data=_event_form_data(event), partners=_all_partners()),
        session_form=session_form or SessionForm(prefix="session", zone=event.timezone,
                                                 main_language=event.language),
        quotas=quotas or quota_form(quota_partners, seats),
        quota_partners=quota_partners, clone_form=clone_form or CloneForm(prefix="clone"),
        transitions=events.STATUS_TRANSITIONS[event.status], kind_labels=KIND_LABELS,
        session_kind_labels=SESSION_KIND_LABELS,
        editable=event.status != EventStatus.CANCELLED,
        question_form=question_form or QuestionForm(prefix="question"),
        question_kind_labels=QUESTION_KIND_LABELS, answer_counts=questions.answer_counts(event),
        missing_defaults=_missing_default_questions(event),
    ), status


def _missing_default_questions(event: Event) -> bool:
    """Whether the "add the default mission questions" button has anything to add."""
    if not event.kind.is_mission:
        return False
    asked = {q.label.strip().casefold() for q in event.questions}
    return any(d.label.casefold() not in asked for d in questions.MISSION_DEFAULTS)


@bp.get("/")
@access.requires("event.create")
def index():
    return redirect(url_for("admin.events"))


@bp.get("/events", endpoint="events")
@access.requires("event.create")
@http_cache.kept_for_user
def events_list():
    form = EventSearchForm(request.args)
    valid = form.validate()
    term = form.q.data or ""
    query = (access.events_managed_by(current_user).options(selectinload(Event.organizers))
             .where(search.matches(Event.search_key, term))
             .order_by(Event.starts_at.desc(), Event.id))
    page = (form.page.data or 1) if valid else 1
    pagination = page_of(query, PER_PAGE, page=page)
    return render_template("admin/events.html", form=form, pagination=pagination, term=term,
                           kind_labels=KIND_LABELS)


@bp.route("/events/new", methods=["GET", "POST"])
@access.requires("event.create")
@inputs.takes(EventIn)
def event_new():
    form = EventForm(partners=_all_partners())
    if request.method == "GET":
        form.requires_approval.data = True
        form.language.data = languages.select()
        form.reminder_offsets.data = reminders.format_offsets(reminders.default_offsets())
        form.organizer_ids.data = sorted(access.managed_partner_ids(current_user))
    elif form.validate_on_submit():
        try:
            event = events.create(current_user, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The event was created as a draft. Add its agenda, then publish it."),
                  "success")
            return redirect(url_for("admin.event_edit", event_id=event.id))
    return render_template(
        "admin/event_new.html", form=form,
    ), 400 if request.method == "POST" else 200


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(EventIn)
def event_edit(event_id: int):
    event = _managed_event(event_id)
    if request.method == "GET":
        return _render_event_page(event)
    form = EventForm(partners=_all_partners())
    if form.validate_on_submit():
        try:
            events.update(current_user, event, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The event was saved."), "success")
            return redirect(url_for("admin.event_edit", event_id=event.id))
    return _render_event_page(event, form=form, status=400)


_STATUS_ACTIONS: dict[str, tuple[EventStatus, Callable]] = {
    "publish": (EventStatus.PUBLISHED, events.publish),
    "close": (EventStatus.CLOSED, events.close),
}


def _confirm_status(event_id: int, action: str):
    """GET asks for confirmation (saying what will happen); POST does it."""
    event = _managed_event(event_id)
    target, change = _STATUS_ACTIONS[action]
    form = FlaskForm()
    if request.method == "GET" and target not in events.STATUS_TRANSITIONS[event.status]:
        return _unchangeable(event)
    if request.method == "GET" or not form.validate_on_submit():
        return render_template(
            "admin/event_confirm.html", event=event, action=action, form=form,
        ), 200 if request.method == "GET" else 400
    try:
        change(current_user, event.id)
        flash(_("The event is now published.") if target == EventStatus.PUBLISHED else
              _("The event is now closed."), "success")
    except Refused as refusal:
        unit.discard()
        flash(refusal.message, "warning")
    return redirect(url_for("admin.event_edit", event_id=event_id))


def _unchangeable(event: Event):
    refusal = (fields.EventCancelled() if event.status == EventStatus.CANCELLED else
               fields.Refused("event.unchangeable", status=event.status))
    flash(refusal.message, "warning")
    return redirect(url_for("admin.event_edit", event_id=event.id))


@bp.route("/events/<int:event_id>/publish", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(inputs.NoInput)
def event_publish(event_id: int):
    return _confirm_status(event_id, "publish")


@bp.route("/events/<int:event_id>/close", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(inputs.NoInput)
def event_close(event_id: int):
    return _confirm_status(event_id, "close")


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(CancelIn)
def event_cancel(event_id: int):
    """GET: what cancelling will do; POST with that page's token and a reason: do it."""
    event = _managed_event(event_id)
    here = url_for("admin.event_cancel", event_id=event.id)
    back = url_for("admin.event_edit", event_id=event.id)
    form = CancelForm()
    if request.method == "GET":
        if EventStatus.CANCELLED not in events.STATUS_TRANSITIONS[event.status]:
            return _unchangeable(event)
    elif form.validate_on_submit():
        confirmations.require("event.cancel", event.id, start_again=here)
        try:
            count = events.cancel(current_user, event.id, reason=form.input.reason)
        except Refused as refusal:
            unit.discard()
            flash(refusal.message, "warning")
        else:
            flash(ngettext("The event is cancelled; %(num)d open registration was cancelled.",
                           "The event is cancelled; %(num)d open registrations were "
                           "cancelled.", count), "success")
        return redirect(back)
    open_count = len(events.open_registration_ids(event.id))
    return confirmations.page(
        "event.cancel", event.id, title=_("Cancel this event?"), subject=event.title,
        consequences=[
            ngettext("%(num)d open registration (submitted, waiting list or approved) is "
                     "cancelled, and its applicant is mailed with your reason.",
                     "%(num)d open registrations (submitted, waiting list or approved) are "
                     "cancelled, and each applicant is mailed with your reason.", open_count),
            _("Nobody can apply any more; the event's page says it is cancelled."),
            _("This cannot be undone: a cancelled event can no longer be changed."),
        ],
        action_url=here, confirm_label=_("Cancel the event"), cancel_url=back,
        fields=[form.reason], status=400 if request.method == "POST" else 200)


@bp.post("/events/<int:event_id>/clone")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(CloneIn)
def event_clone(event_id: int):
    event = _managed_event(event_id)
    form = CloneForm(prefix="clone")
    if form.validate_on_submit():
        try:
            copy = events.clone(current_user, event, form.input.days)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("This is the copy, a draft: check its details, then publish it."), "success")
            return redirect(url_for("admin.event_edit", event_id=copy.id))
    return _render_event_page(event, clone_form=form, status=400)


@bp.post("/events/<int:event_id>/quotas")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(QuotasIn)
def event_quotas(event_id: int):
    event = _managed_event(event_id)
    eligible = events.quota_partners(event)
    form = quota_form(eligible, {})
    if form.validate_on_submit():
        try:
            events.set_quotas(current_user, event, form.input.seats)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The quotas were saved."), "success")
            return redirect(url_for("admin.event_edit", event_id=event.id, _anchor="quotas"))
    return _render_event_page(event, quotas=form, status=400)


@bp.post("/events/<int:event_id>/sessions")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(SessionIn)
def session_new(event_id: int):
    event = _managed_event(event_id)
    form = SessionForm(prefix="session", zone=event.timezone, main_language=event.language)
    if form.validate_on_submit():
        try:
            events.add_session(current_user, event, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The session was added to the agenda."), "success")
            return redirect(url_for("admin.event_edit", event_id=event.id, _anchor="agenda"))
    return _render_event_page(event, session_form=form, status=400)


def _managed_session(event_id: int, session_id: int) -> EventSession:
    event = _managed_event(event_id)
    item = next((s for s in event.sessions if s.id == session_id), None)
    if item is None:
        abort(404)
    return item


@bp.route("/events/<int:event_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(SessionIn)
def session_edit(event_id: int, session_id: int):
    item = _managed_session(event_id, session_id)
    event = item.event
    if request.method == "GET":
        form = SessionForm(prefix="session", zone=event.timezone, main_language=event.language,
                           data=dict(
            title=item.title, kind=item.kind.value, all_day=item.all_day,
            starts_local=_local(item.starts_at, event), ends_local=_local(item.ends_at, event),
            start_date=item.start_date, end_date=item.end_date, venue=item.venue,
            description=item.description, online_url=item.online_url,
            **SessionForm.texts_form_data(item.translations),
        ))
    else:
        form = SessionForm(prefix="session", zone=event.timezone, main_language=event.language)
        if form.validate_on_submit():
            try:
                events.update_session(current_user, item, form.input)
            except Refused as refusal:
                show_refusal(form, refusal)
            else:
                flash(_("The session was saved."), "success")
                return redirect(url_for("admin.event_edit", event_id=event_id, _anchor="agenda"))
    return render_template(
        "admin/session_edit.html", event=event, item=item, form=form,
    ), 400 if request.method == "POST" else 200


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(inputs.NoInput)
def session_delete(event_id: int, session_id: int):
    """GET: what removing the session will do; POST with that page's token: do it."""
    item = _managed_session(event_id, session_id)
    event = item.event
    here = url_for("admin.session_delete", event_id=event_id, session_id=session_id)
    back = url_for("admin.event_edit", event_id=event_id, _anchor="agenda")
    if request.method == "GET":
        if event.status == EventStatus.CANCELLED:
            return _unchangeable(event)
        recorded = events.session_attendance_count(item)
        consequences = [_("It disappears from the event's agenda, its page and the "
                          "calendar files downloaded from now on; nobody is mailed.")]
        if recorded:
            consequences.append(ngettext(
                "%(num)d check-in recorded at this session is deleted with it.",
                "%(num)d check-ins recorded at this session are deleted with it.", recorded))
        consequences.append(_("This cannot be undone: to have it back, add it again."))
        return confirmations.page(
            "session.delete", item.id, title=_("Remove this session from the agenda?"),
            subject=item.title, consequences=consequences, action_url=here,
            confirm_label=_("Remove the session"), cancel_url=back)
    confirmations.require("session.delete", item.id, start_again=here)
    _attempt(lambda: events.delete_session(current_user, item),
             _("The session was removed from the agenda."))
    return redirect(back)


# --------------------------------------------------------------------------- questions


def _managed_question(event_id: int, question_id: int) -> Question:
    event = _managed_event(event_id)
    question = next((q for q in event.questions if q.id == question_id), None)
    if question is None:
        abort(404)
    return question


@bp.post("/events/<int:event_id>/questions")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(QuestionIn)
def question_new(event_id: int):
    event = _managed_event(event_id)
    form = QuestionForm(prefix="question")
    if form.validate_on_submit():
        try:
            questions.add(current_user, event, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The question was added."), "success")
            return redirect(url_for("admin.event_edit", event_id=event.id, _anchor="questions"))
    return _render_event_page(event, question_form=form, status=400)


@bp.route("/events/<int:event_id>/questions/<int:question_id>", methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(QuestionIn)
def question_edit(event_id: int, question_id: int):
    question = _managed_question(event_id, question_id)
    event = question.event
    if request.method == "GET":
        form = QuestionForm(prefix="question", data=dict(
            kind=question.kind.value, label=question.label, help_text=question.help_text,
            required=question.required, choices="\n".join(question.choices),
        ))
    else:
        form = QuestionForm(prefix="question")
        if form.validate_on_submit():
            try:
                questions.update(current_user, question, form.input)
            except Refused as refusal:
                show_refusal(form, refusal)
            else:
                flash(_("The question was saved."), "success")
                return redirect(url_for("admin.event_edit", event_id=event_id,
                                        _anchor="questions"))
    return render_template(
        "admin/question_edit.html", event=event, question=question, form=form,
        answered=questions.answer_counts(event).get(question.id, 0),
    ), 400 if request.method == "POST" else 200


@bp.route("/events/<int:event_id>/questions/<int:question_id>/delete",
          methods=["GET", "POST"])
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(inputs.NoInput)
def question_delete(event_id: int, question_id: int):
    """GET: what deleting the question will do; POST with that page's token: do it."""
    question = _managed_question(event_id, question_id)
    here = url_for("admin.question_delete", event_id=event_id, question_id=question_id)
    back = url_for("admin.event_edit", event_id=event_id, _anchor="questions")
    if request.method == "GET":
        if question.event.status == EventStatus.CANCELLED:
            return _unchangeable(question.event)
        answered = questions.answer_counts(question.event).get(question.id, 0)
        if answered:  # the service would refuse it: say so before anyone confirms
            flash(ngettext("%(num)d applicant has answered this question, so it cannot be "
                           "deleted. You can make it optional or reword it instead.",
                           "%(num)d applicants have answered this question, so it cannot be "
                           "deleted. You can make it optional or reword it instead.",
                           answered), "warning")
            return redirect(back)
        return confirmations.page(
            "question.delete", question.id, title=_("Delete this question?"),
            subject=question.label, consequences=[
                _("Applicants no longer see it on the application form; nobody has "
                  "answered it yet, and nobody is mailed."),
                _("This cannot be undone: to ask it again, add it again."),
            ], action_url=here, confirm_label=_("Delete the question"), cancel_url=back)
    confirmations.require("question.delete", question.id, start_again=here)
    _attempt(lambda: questions.delete(current_user, question), _("The question was deleted."))
    return redirect(back)


@bp.post("/events/<int:event_id>/questions/<int:question_id>/move")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(MoveIn)
def question_move(event_id: int, question_id: int):
    question = _managed_question(event_id, question_id)
    try:
        move = MoveIn.from_form({"direction": request.form.get("direction", "")})
    except inputs.ValidationError:
        abort(400)  # only the page's own buttons post here
    _attempt(lambda: questions.move(current_user, question, move.offset))
    return redirect(url_for("admin.event_edit", event_id=event_id, _anchor="questions"))


@bp.post("/events/<int:event_id>/questions/defaults")
@access.requires_on("event.manage", Event, "event_id", first="event.create")
@inputs.takes(inputs.NoInput)
def question_defaults(event_id: int):
    event = _managed_event(event_id)
    added = _attempt(lambda: questions.add_mission_defaults(current_user, event))
    if added:
        flash(_("%(count)d default questions were added.", count=len(added)), "success")
    return redirect(url_for("admin.event_edit", event_id=event_id, _anchor="questions"))


# --------------------------------------------------------------------------- partners


@bp.get("/partners")
@access.requires("admin.use")
def partners_list():
    rows = page_of(collation.ordered(select(Partner).order_by(Partner.kind), Partner), PER_PAGE)
    return render_template("admin/partners.html", partners=rows,
                           kind_labels=PARTNER_KIND_LABELS)


@bp.route("/partners/new", methods=["GET", "POST"])
@access.requires("admin.use")
@inputs.takes(PartnerIn)
def partner_new():
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = partners.create(current_user, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("%(name)s was added.", name=partner.name), "success")
            return redirect(url_for("admin.partners_list"))
    return render_template("admin/partner_form.html", form=form, partner=None), (
        400 if request.method == "POST" else 200)


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@access.requires("admin.use")
@inputs.takes(PartnerIn)
def partner_edit(partner_id: int):
    partner = db.get_or_404(Partner, partner_id)
    if request.method == "GET":
        form = PartnerForm(obj=partner, data={"kind": partner.kind.value})
    else:
        form = PartnerForm()
        if form.validate_on_submit():
            try:
                partners.update(current_user, partner, form.input)
            except Refused as refusal:
                show_refusal(form, refusal)
            else:
                flash(_("%(name)s was saved.", name=partner.name), "success")
                return redirect(url_for("admin.partners_list"))
    return render_template("admin/partner_form.html", form=form, partner=partner), (
        400 if request.method == "POST" else 200)


# --------------------------------------------------------------------------- users


@bp.get("/users")
@access.requires("admin.use")
@http_cache.kept_for_user
def users_list():
    form = UserSearchForm(request.args)
    valid = form.validate()
    query = collation.ordered(select(User).options(selectinload(User.grants)), User)
    term = form.q.data or ""
    if term:
        # Emails are stored in lower case; typed "%" and "_" are characters, not wildcards.
        query = query.where(or_(search.matches(User.search_key, term),
                                User.email.contains(term.lower(), autoescape=True)))
    page = (form.page.data or 1) if valid else 1
    pagination = page_of(query, PER_PAGE, page=page)
    return render_template("admin/users.html", form=form, pagination=pagination, term=term,
                           role_labels=ROLE_LABELS)


def _render_user(user: User, grant_form: GrantForm | None = None, status: int = 200):
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "user",
                                 AuditEntry.subject_id == user.id)
        .options(joinedload(AuditEntry.actor)).order_by(AuditEntry.id.desc()).limit(50)
    ).all()
    return render_template(
        "admin/user.html", user=user, history=history, role_labels=ROLE_LABELS,
        grant_form=grant_form or GrantForm(prefix="grant", partners=_all_partners()),
    ), status


@bp.get("/users/<int:user_id>")
@access.requires("admin.use")
def user_detail(user_id: int):
    return _render_user(db.get_or_404(User, user_id))


def _refused_first(check: Callable[[], None], back: str):
    """A confirmation page's GET: when the action would be refused, say so and go
    `back` before anyone confirms (None when it may go ahead)."""
    try:
        check()
    except Refused as refusal:
        flash(refusal.message, "warning")
        return redirect(back)
    return None


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@access.requires("admin.use")
@inputs.takes(inputs.NoInput)
def user_deactivate(user_id: int):
    """GET: what deactivating the account will do; POST with that page's token: do it."""
    user = db.get_or_404(User, user_id)
    here = url_for("admin.user_deactivate", user_id=user.id)
    back = url_for("admin.user_detail", user_id=user.id)
    if request.method == "GET":
        refused = _refused_first(lambda: users.check_deactivation(current_user, user), back)
        if refused:
            return refused
        if not user.active:
            flash(_("%(name)s is already deactivated.", name=user.name), "info")
            return redirect(back)
        consequences = [
            _("%(name)s is signed out everywhere at once and can no longer sign in.",
              name=user.name),
            _("Their API tokens are refused while the account is deactivated; they are "
              "not revoked."),
            _("Their applications and registrations stay as they are: none is withdrawn "
              "or cancelled, and nobody is mailed."),
        ]
        pending = users.pending_applications(user)
        if pending:
            consequences.append(ngettext(
                "Their %(num)d pending application (submitted or on a waiting list) still "
                "awaits a decision.",
                "Their %(num)d pending applications (submitted or on a waiting list) still "
                "await a decision.", pending))
        consequences += [
            _("Meanwhile they get no event reminders or surveys, and their calendar feed "
              "is not served."),
            _("This can be undone: reactivating lets them sign in again, and their API "
              "tokens that have not expired work again."),
        ]
        return confirmations.page(
            "user.deactivate", user.id, title=_("Deactivate this account?"),
            subject=f"{user.name} ({user.email})", consequences=consequences,
            action_url=here, confirm_label=_("Deactivate and end their sessions"),
            cancel_url=back)
    confirmations.require("user.deactivate", user.id, start_again=here)
    _attempt(lambda: users.deactivate(current_user, user),
             _("%(name)s can no longer sign in; their sessions have ended.", name=user.name))
    return redirect(back)


@bp.post("/users/<int:user_id>/reactivate")
@access.requires("admin.use")
@inputs.takes(inputs.NoInput)
def user_reactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    users.reactivate(current_user, user)
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/grants")
@access.requires("admin.use")
@inputs.takes(GrantIn)
def grant_add(user_id: int):
    user = db.get_or_404(User, user_id)
    form = GrantForm(prefix="grant", partners=_all_partners())
    if form.validate_on_submit():
        try:
            users.add_grant(current_user, user, form.input)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            flash(_("The role was granted."), "success")
            return redirect(url_for("admin.user_detail", user_id=user_id))
    return _render_user(user, form, status=400)


def _grant_losses(grant: RoleGrant) -> list[str]:
    """What the person can no longer do once `grant` is gone."""
    name = grant.user.name
    if grant.role == Role.ADMIN:
        return [
            _("%(name)s no longer administers Beachhead: accounts and their roles, "
              "partners, every event and its applications, the audit log.", name=name),
            _("You keep your own admin role, so Beachhead is never left without an admin."),
        ]
    partner = grant.partner.name
    if grant.role == Role.PARTNER_MANAGER:
        return [
            _("%(name)s no longer decides the applications %(partner)s is responsible "
              "for, nor sees those delegates' contact details.", name=name, partner=partner),
            _("They no longer manage the events %(partner)s organizes, the organizations "
              "of its cluster or its agreements.", partner=partner),
        ]
    return [
        _("%(name)s no longer sees the delegations of the events %(partner)s hosts, nor "
          "the contact details delegates agreed to share with hosts, and no longer checks "
          "delegates in at those events.", name=name, partner=partner),
    ]


@bp.route("/users/<int:user_id>/grants/<int:grant_id>/delete", methods=["GET", "POST"])
@access.requires("admin.use")
@inputs.takes(inputs.NoInput)
def grant_remove(user_id: int, grant_id: int):
    """GET: what removing the role will do; POST with that page's token: do it."""
    grant = db.session.scalar(
        select(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.user_id == user_id))
    if grant is None:
        abort(404)
    here = url_for("admin.grant_remove", user_id=user_id, grant_id=grant_id)
    back = url_for("admin.user_detail", user_id=user_id)
    if request.method == "GET":
        refused = _refused_first(lambda: users.check_grant_removal(current_user, grant), back)
        if refused:
            return refused
        role = ROLE_LABELS[grant.role]
        return confirmations.page(
            "grant.remove", grant.id, title=_("Remove this role?"),
            subject=f"{grant.user.name}: {role}" + (
                f" ({grant.partner.name})" if grant.partner else ""),
            consequences=[
                *_grant_losses(grant),
                _("It takes effect on their next page; their account and any other role "
                  "they hold stay as they are, and nobody is mailed."),
                _("To undo it, grant the role again."),
            ], action_url=here, confirm_label=_("Remove the role"), cancel_url=back)
    confirmations.require("grant.remove", grant.id, start_again=here)
    _attempt(lambda: users.remove_grant(current_user, grant), _("The role was removed."))
    return redirect(back)


# --------------------------------------------------------------------------- audit log


def _audit_subject_types() -> list[str]:
    """The kinds of subject the audit log names, hopping from one to the next along the
    subject index (one step per kind), instead of reading every entry for a DISTINCT:
    PostgreSQL has no skip scan, and the log only grows."""
    found = select(func.min(AuditEntry.subject_type).label("kind")).cte(
        "subject_kinds", recursive=True)
    following = select(func.min(AuditEntry.subject_type)).where(
        AuditEntry.subject_type > found.c.kind).scalar_subquery()
    found = found.union_all(select(following).where(found.c.kind.is_not(None)))
    return list(db.session.scalars(
        select(found.c.kind).where(found.c.kind.is_not(None)).order_by(found.c.kind)))


@bp.get("/audit")
@access.requires("admin.use")
@http_cache.kept_for_user
def audit():
    subject_types = _audit_subject_types()
    form = AuditFilterForm(request.args, subject_types=subject_types)
    valid = form.validate()
    chosen = lookup.choose(select(Event), Event, *form.sent("event_id"), lambda e: e.title)
    if form.event_id.data and parse_id(form.event_id.data) is None:
        # A hand-edited link: say which parameter is not understood, filter by nothing.
        form.event_id_q.errors = [*form.event_id_q.errors, id_message("event_id")]
        valid = False
    form.show("event_id", chosen, lambda e: e.title)
    # Only what a row shows of its actor, event and registration (a row reads 50 wide
    # rows' columns otherwise, and the actors' roles in a query of their own).
    query = select(AuditEntry).options(
        joinedload(AuditEntry.actor).load_only(User.name, User.email),
        joinedload(AuditEntry.actor).lazyload(User.grants),
        joinedload(AuditEntry.event).load_only(Event.title),
        joinedload(AuditEntry.registration).load_only(Registration.id),
    ).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if valid:
        if form.action.data:
            query = query.where(AuditEntry.action.startswith(form.action.data.strip(),
                                                             autoescape=True))
        if form.actor.data:
            query = query.where(AuditEntry.actor_id.in_(
                select(User.id).where(User.email.contains(form.actor.data.strip().lower(),
                                                          autoescape=True))))
        if form.subject_type.data:
            query = query.where(AuditEntry.subject_type == form.subject_type.data)
        if chosen.one is not None or chosen.missing:
            query = query.where(AuditEntry.event_id == (chosen.one.id if chosen.one else 0))
        elif chosen.text:
            query = query.where(AuditEntry.event_id.in_(
                select(Event.id).where(search.matches(Event.search_key, chosen.text))))
        if form.since.data:
            query = query.where(AuditEntry.created_at >= datetime.combine(
                form.since.data, time(), tzinfo=UTC))
        if form.until.data:
            # Up to the day's last instant: the day after 9999-12-31 does not exist.
            query = query.where(AuditEntry.created_at <= datetime.combine(
                form.until.data, time.max, tzinfo=UTC))
    page = (form.page.data or 1) if valid else 1
    pagination = page_of(query, PER_PAGE, page=page)
    return render_template("admin/audit.html", form=form, pagination=pagination)


# --------------------------------------------------------------------------- failed jobs


@dataclass(frozen=True)
class _Failure:
    """A row of the failed-jobs page: an RQ job, or a message given up on."""

    kind: str  # "job" or "mail"
    what: str
    at: datetime | None
    error: str
    attempts: int
    retry_url: str


@bp.get("/jobs")
@access.requires("jobs.manage")
def failed_jobs():
    """What the background work is doing: stalled, retrying and failed, each with its
    last error. Read without Redis when Redis does not answer."""
    seen = jobs.overview()
    rows = [_Failure("job", job.description, job.failed_at, job.error, job.attempts,
                     url_for("admin.job_retry", job_id=job.id)) for job in seen.failed]
    rows += [_Failure("mail", _("Mail to %(address)s: %(subject)s", address=m.to_address,
                                subject=m.subject),
                      m.created_at, jobs.last_line(m.last_error), m.attempts,
                      url_for("admin.mail_retry", message_id=m.id))
             for m in notifications.given_up()]
    return render_template("admin/jobs.html", rows=rows, seen=seen,
                           unreachable=seen.unreachable, in_background=seen.in_background)


@bp.post("/jobs/<job_id>/retry")
@access.requires("jobs.manage")
@inputs.takes(inputs.NoInput)
def job_retry(job_id: str):
    try:
        jobs.retry(job_id)
    except jobs.UnknownJob:
        flash(_("There is no failed job %(id)s any more: it may have been retried already.",
                id=job_id), "warning")
    except jobs.QueueUnreachable as error:
        flash(_("The job queue cannot be reached (%(error)s); try again later.",
                error=error), "danger")
    else:
        flash(_("The job is back in the queue; a worker will run it again."), "success")
    return redirect(url_for("admin.failed_jobs"))


@bp.post("/jobs/mail/<int:message_id>/retry")
@access.requires("jobs.manage")
@inputs.takes(inputs.NoInput)
def mail_retry(message_id: int):
    try:
        message = notifications.retry(message_id)
    except notifications.NotGivenUp:
        unit.discard()
        flash(_("That message is not waiting for a retry: it was sent or retried already."),
              "warning")
    else:
        flash(_("The message to %(address)s is back in the outbox and will be sent again.",
                address=message.to_address), "success")
    return redirect(url_for("admin.failed_jobs"))


# --------------------------------------------------------------------------- skipped reminders


@bp.get("/reminders")
@access.requires("admin.use")
def skipped_reminders():
    """The reminders not sent and why: after an outage, what its registrants missed."""
    pagination = page_of(reminders.skipped(), PER_PAGE)
    return render_template("admin/reminders.html", pagination=pagination,
                           format_offsets=reminders.format_offsets)

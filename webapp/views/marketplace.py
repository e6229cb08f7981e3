"""An event's marketplace as its participants use it: joining with consent, the profile
and its opportunities, the slots they cannot meet in, browsing with the suggested
matches, and another participant's page. Meeting requests have their own blueprint
(views/meeting_requests.py).

A participant's own pages (join, profile, opportunities, availability, leave) find the
signed-in user's registration for the event: whoever has none, or may not join, meets an
unknown page (404); whoever may join but has not is sent to join first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from babel.dates import format_time
from babel.lists import format_list
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, http_cache, inputs, localtime
from ..extensions import db
from ..forms.marketplace import (
    TAGS_HELP,
    AvailabilityForm,
    JoinForm,
    OpportunityForm,
    ProfileForm,
    SearchForm,
    opportunity_type_label,
    participant_type_label,
)
from ..ids import page_arg
from ..inputs.matchmaking import JoinIn, OpportunityIn, ProfileIn, UnavailableSlotsIn
from ..models import Event, Matchmaking, Opportunity, Participant, Registration, User
from ..services import marketplace, matchmaking, matchmaking_settings
from ..services.errors import MatchmakingRefused
from ..services.fields import Refused
from ..services.marketplace import Reason
from . import show_refusal

bp = Blueprint("marketplace", __name__, url_prefix="/events/<int:event_id>/marketplace")

# The field a service's refusal is about; the others show above the form.
REFUSAL_FIELDS = {
    "matchmaking.type_unknown": "participant_type",
    "matchmaking.opportunity_type_unknown": "opportunity_type",
    "matchmaking.consent_needed": "consent",
    "matchmaking.not_a_slot": "slots",
}


def _me() -> User:
    return current_user._get_current_object()


def _refused(form, refusal: MatchmakingRefused) -> None:
    show_refusal(form, Refused.of(refusal, REFUSAL_FIELDS.get(refusal.code)))


@bp.app_template_global()
def has_marketplace(event: Event) -> bool:
    """Whether the event's matchmaking is on: its pages link to the marketplace."""
    found = matchmaking_settings.of_event(event.id)
    return found is not None and found.enabled


def _matchmaking(event_id: int) -> Matchmaking:
    found = matchmaking_settings.of_event(event_id)
    if found is None:
        abort(404)
    return found


def _refuse_unoffered(form) -> None:
    """A participant type outside the form's list is refused like an unknown one."""
    if form.participant_type.data not in {c.value for c in form.participant_type.choices}:
        raise MatchmakingRefused("matchmaking.type_unknown")


def _submitted(form, write: Callable[[Any], object]) -> bool:
    """Whether the form is valid and `write` (a service's step, given the form's input)
    accepted it; a refusal is shown on the form and nothing is written."""
    if not form.validate_on_submit():
        return False
    try:
        write(form.input)
    except MatchmakingRefused as refusal:
        _refused(form, refusal)
        return False
    return True

# --------------------------------------------------------------------------- one's own


def _own_registration(event_id: int) -> Registration | None:
    return marketplace.registration_of(event_id, current_user.id)


def _joinable(registration: Registration | None) -> bool:
    return registration is not None and access.can(current_user, "matchmaking.join",
                                                   registration)


def _own_participant(event_id: int) -> Participant:
    """The signed-in user's participation in the event's marketplace; whoever may join
    but has not is sent to join, anyone else meets an unknown page."""
    registration = _own_registration(event_id)
    participant = marketplace.participant_of(registration)
    if participant is None:
        if _joinable(registration):
            abort(redirect(url_for(".join", event_id=event_id)))
        abort(404)
    if not access.can(current_user, "participant.edit", participant):
        abort(404)
    return participant


def _joining_first(view: Callable) -> Callable:
    """Whoever may not browse the marketplace yet but may join it is sent to join
    before the access check refuses them."""

    @wraps(view)
    def wrapped(event_id: int, **kwargs):
        if current_user.is_authenticated:
            event = db.session.get(Event, event_id)
            if event is not None and not access.can(current_user,
                                                    "matchmaking.marketplace", event) \
                    and _joinable(_own_registration(event_id)):
                return redirect(url_for(".join", event_id=event_id))
        return view(event_id=event_id, **kwargs)

    return wrapped


@bp.route("/join", methods=["GET", "POST"])
@access.login_required
@inputs.takes(JoinIn)
def join(event_id: int):
    registration = _own_registration(event_id)
    if not _joinable(registration):
        abort(404)
    if marketplace.participant_of(registration) is not None:
        return redirect(url_for(".profile", event_id=event_id))
    previous = matchmaking.participant_of(registration.id)
    kinds = marketplace.choosable_types(
        event_id, registration, previous.participant_type if previous else None)
    form = JoinForm(types=kinds)
    if request.method == "GET":
        if previous is not None:
            form.participant_type.data = previous.participant_type.key
        return _join_page(registration, form, 200)

    def write(data: JoinIn) -> None:
        _refuse_unoffered(form)
        matchmaking.join(registration.id, data, actor=_me())

    if _submitted(form, write):
        flash(_("You take part in the event's marketplace. Complete your profile so "
                "that the right participants find you."), "success")
        return redirect(url_for(".profile", event_id=event_id))
    return _join_page(registration, form, 400)


def _join_page(registration: Registration, form: JoinForm, status: int):
    return render_template("marketplace/join.html", event=registration.event,
                           registration=registration, form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@access.login_required
@inputs.takes(ProfileIn)
def profile(event_id: int):
    participant = _own_participant(event_id)
    if request.method == "GET":
        return _profile_page(participant)
    form = _profile_form(participant, posted=True)
    if _saved_profile(participant, form):
        flash(_("Your marketplace profile was saved."), "success")
        return redirect(url_for(".profile", event_id=event_id))
    return _profile_page(participant, form=form, status=400)


@bp.route("/participants/<int:participant_id>/profile", methods=["GET", "POST"])
@access.requires_on("participant.edit", Participant, "participant_id")
@inputs.takes(ProfileIn)
def participant_edit(event_id: int, participant: Participant):
    """A participant's profile as the event's organizers correct it (their
    opportunities: through the API)."""
    if participant.event_id != event_id:
        abort(404)
    posted = request.method == "POST"
    form = _profile_form(participant, posted=posted)
    if posted and _saved_profile(participant, form):
        flash(_("The marketplace profile was saved."), "success")
        return redirect(url_for(".participant", event_id=event_id,
                                participant_id=participant.id))
    return render_template("marketplace/profile_edit.html", event=participant.event,
                           participant=participant, form=form, tags_help=TAGS_HELP,
                           ), 400 if posted else 200


def _profile_form(participant: Participant, *, posted: bool) -> ProfileForm:
    """The profile form of `participant`: what was posted, or what is stored."""
    kinds = marketplace.choosable_types(participant.event_id, participant.registration,
                                        participant.participant_type)
    if posted:
        return ProfileForm(types=kinds)
    return ProfileForm(formdata=None, types=kinds, data=dict(
        participant_type=participant.participant_type.key,
        sectors=participant.sectors, technologies=participant.technologies))


def _saved_profile(participant: Participant, form: ProfileForm) -> bool:
    def write(data: ProfileIn) -> None:
        _refuse_unoffered(form)
        matchmaking.update_profile(participant.id, data, actor=_me())

    return _submitted(form, write)


def _profile_page(participant: Participant, *, form: ProfileForm | None = None,
                  opportunity_form: OpportunityForm | None = None, status: int = 200):
    return render_template(
        "marketplace/profile.html", event=participant.event, participant=participant,
        organization=participant.registration.user.organization,
        form=form or _profile_form(participant, posted=False),
        opportunity_form=opportunity_form or _opportunity_form(participant),
        tags_help=TAGS_HELP, opportunity_type_label=opportunity_type_label), status


def _opportunity_form(participant: Participant, **kwargs) -> OpportunityForm:
    return OpportunityForm(types=_matchmaking(participant.event_id).opportunity_types,
                           **kwargs)


@bp.post("/opportunities")
@access.login_required
@inputs.takes(OpportunityIn)
def opportunity_new(event_id: int):
    participant = _own_participant(event_id)
    form = _opportunity_form(participant)
    if _submitted(form, lambda data: matchmaking.add_opportunity(participant.id, data,
                                                                  actor=_me())):
        flash(_("The opportunity “%(title)s” was added.", title=form.input.title), "success")
        return redirect(url_for(".profile", event_id=event_id))
    return _profile_page(participant, opportunity_form=form, status=400)


def _own_opportunity(event_id: int, opportunity_id: int) -> Opportunity:
    participant = _own_participant(event_id)
    found = next((o for o in participant.opportunities if o.id == opportunity_id), None)
    if found is None:
        abort(404)
    return found


@bp.route("/opportunities/<int:opportunity_id>", methods=["GET", "POST"])
@access.login_required
@inputs.takes(OpportunityIn)
def opportunity_edit(event_id: int, opportunity_id: int):
    opportunity = _own_opportunity(event_id, opportunity_id)
    if request.method == "GET":
        form = _opportunity_form(opportunity.participant, data=dict(
            opportunity_type=opportunity.opportunity_type.key, title=opportunity.title,
            text=opportunity.text, tags=opportunity.tags))
        return _opportunity_page(opportunity, form, 200)
    form = _opportunity_form(opportunity.participant)
    if _submitted(form, lambda data: matchmaking.update_opportunity(opportunity.id, data,
                                                                     actor=_me())):
        flash(_("The opportunity “%(title)s” was saved.", title=form.input.title), "success")
        return redirect(url_for(".profile", event_id=event_id))
    return _opportunity_page(opportunity, form, 400)


def _opportunity_page(opportunity: Opportunity, form: OpportunityForm, status: int):
    return render_template("marketplace/opportunity.html", event=opportunity.participant.event,
                           opportunity=opportunity, form=form, tags_help=TAGS_HELP), status


@bp.post("/opportunities/<int:opportunity_id>/remove")
@access.login_required
@inputs.takes(inputs.NoInput)
def opportunity_remove(event_id: int, opportunity_id: int):
    opportunity = _own_opportunity(event_id, opportunity_id)
    title = opportunity.title
    matchmaking.remove_opportunity(opportunity.id, actor=_me())
    flash(_("The opportunity “%(title)s” was removed.", title=title), "success")
    return redirect(url_for(".profile", event_id=event_id))


@bp.post("/leave")
@access.login_required
@inputs.takes(inputs.NoInput)
def leave(event_id: int):
    participant = _own_participant(event_id)
    registration_id = participant.registration_id
    matchmaking.withdraw_consent(participant.id, actor=_me())
    flash(_("You left the event's marketplace: nobody sees your profile any more, and your "
            "open meeting requests and meetings are cancelled."), "success")
    return redirect(url_for("account.registration", registration_id=registration_id))


# --------------------------------------------------------------------------- availability


@bp.route("/availability", methods=["GET", "POST"])
@access.login_required
@inputs.takes(UnavailableSlotsIn)
def availability(event_id: int):
    participant = _own_participant(event_id)
    settings = _matchmaking(event_id)
    event = participant.event
    starts = settings.slot_starts()
    length = timedelta(minutes=settings.meeting_minutes)
    locale = get_locale()

    def label(start: datetime) -> str:
        return _("%(start)s to %(end)s", start=format_time(
            start, "short", tzinfo=event.zone, locale=locale), end=format_time(
            start + length, "short", tzinfo=event.zone, locale=locale))

    if request.method == "GET":
        form = AvailabilityForm(slots=starts, label=label, data=dict(
            slots=[slot.starts_at.isoformat() for slot in participant.unavailable]))
        return _availability_page(event, form, 200)
    form = AvailabilityForm(slots=starts, label=label)
    if _submitted(form, lambda data: matchmaking.set_unavailable(participant.id, data,
                                                                  actor=_me())):
        flash(_("Your availability was saved."), "success")
        return redirect(url_for(".availability", event_id=event_id))
    return _availability_page(event, form, 400)


def _availability_page(event: Event, form: AvailabilityForm, status: int):
    """The slots' boxes by the day they fall on in the event's zone, each day with the
    zone named."""
    days: dict = {}
    for option in form.slots:
        start = datetime.fromisoformat(option.data)
        day = start.astimezone(event.zone).date()
        if day not in days:
            days[day] = dict(day=day, zone=localtime.zone_label(event.timezone, start),
                             options=[])
        days[day]["options"].append(option)
    return render_template("marketplace/availability.html", event=event, form=form,
                           days=list(days.values())), status


# --------------------------------------------------------------------------- browsing


def reason_text(reason: Reason) -> str:
    """One reason of a suggestion, as one sentence of the reader's language."""
    tags = format_list(list(reason.tags), locale=get_locale())
    if reason.kind == "offers_what_you_request":
        return _("Offers %(tags)s in “%(theirs)s”, which you request in “%(yours)s”.",
                 tags=tags, theirs=reason.their_title, yours=reason.your_title)
    if reason.kind == "requests_what_you_offer":
        return _("Requests %(tags)s in “%(theirs)s”, which you offer in “%(yours)s”.",
                 tags=tags, theirs=reason.their_title, yours=reason.your_title)
    if reason.kind == "shared_sector":
        return ngettext("Shares your sector: %(tags)s.", "Shares your sectors: %(tags)s.",
                        len(reason.tags), tags=tags)
    return ngettext("Shares a tag with you: %(tags)s.", "Shares tags with you: %(tags)s.",
                    len(reason.tags), tags=tags)


@bp.get("/", endpoint="index")
@_joining_first
@access.requires_on("matchmaking.marketplace", Event, "event_id", visible="event.view")
@http_cache.kept_for_user
def marketplace_index(event: Event):
    settings = _matchmaking(event.id)
    mine = marketplace.participant_of(_own_registration(event.id))
    # Read once: the search, the suggestions and the country filter all draw on it.
    market = marketplace.read(event)
    form = SearchForm(request.args, participant_types=settings.participant_types,
                      opportunity_types=settings.opportunity_types,
                      countries=market.countries())
    page = page_arg()
    results = marketplace.search(mine or _me(), event, page=page, market=market,
                                 **form.filters())
    suggestions = (marketplace.suggestions(mine, market=market)
                   if mine is not None and page == 1 and not form.narrowed else [])
    return render_template(
        "marketplace/index.html", event=event, form=form, results=results, mine=mine,
        suggestions=[(s, [reason_text(r) for r in s.reasons]) for s in suggestions],
        participant_type_label=participant_type_label,
        opportunity_type_label=opportunity_type_label)


@bp.get("/participants/<int:participant_id>")
@access.requires_on("participant.view", Participant, "participant_id")
def participant(event_id: int, participant: Participant):
    if participant.event_id != event_id:
        abort(404)
    me = _me()
    mine = marketplace.participant_of(_own_registration(event_id))
    return render_template(
        "marketplace/participant.html", event=participant.event, participant=participant,
        organization=participant.registration.user.organization, mine=mine,
        shows_contact=access.can(me, "participant.contact", participant),
        request_url=url_for("meeting_requests.new", event_id=event_id,
                            participant_id=participant.id)
        if access.can(me, "participant.request_meeting", participant) else None,
        participant_type_label=participant_type_label,
        opportunity_type_label=opportunity_type_label)

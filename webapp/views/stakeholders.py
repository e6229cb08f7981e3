"""The host region's stakeholders, whom an event's hosting beachhead invites to its
matchmaking through a one-time link.

The event's hosts (and its organizers) list the invitations, invite someone, send an
invitation again or revoke it; the invited person opens the link, and its page's button
(a POST: mail scanners that prefetch links never use it up) creates their account, or
signs in the one that has the address, and registers them. A link that cannot be used
gets a page that says why, and nothing is written.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from .. import access, inputs, languages, unit
from ..extensions import db
from ..forms import stakeholders as forms
from ..inputs.stakeholders import StakeholderAcceptIn, StakeholderInvitationIn
from ..models import Event, InvitationStatus, StakeholderInvitation, utcnow
from ..paging import page_of
from ..services import accounts, matchmaking_settings, stakeholder_invitations
from ..services.errors import DomainError
from ..services.fields import Refused
from . import show_refusal
from .auth import SIGNUP, _token_step, count_attempt, link_refused, throttled

bp = Blueprint("stakeholders", __name__)

PER_PAGE = 50
STATUS_LABELS = {
    InvitationStatus.PENDING: _l("Waiting for an answer"),
    InvitationStatus.ACCEPTED: _l("Accepted"),
    InvitationStatus.REVOKED: _l("Revoked"),
    InvitationStatus.EXPIRED: _l("Expired"),
}
# Who may use an event's invitations: its hosts, organizers and admins, on an event they
# see (a draft is an unknown id to others).
INVITER = dict(visible="event.view")


# --------------------------------------------------------------------------- the host's side


def _invitation_form(event: Event) -> forms.InvitationForm:
    return forms.InvitationForm(country=event.target_country or "",
                                language=languages.select())


def _render_index(event: Event, form: forms.InvitationForm, status: int = 200):
    pagination = page_of(stakeholder_invitations.of_event(event.id), PER_PAGE)
    market = matchmaking_settings.of_event(event.id)
    return render_template(
        "stakeholders/index.html", event=event, form=form, pagination=pagination,
        now=utcnow(), status_labels=STATUS_LABELS,
        matchmaking_on=market is not None and market.enabled), status


@bp.get("/events/<int:event_id>/stakeholders/", endpoint="index")
@access.requires_on("matchmaking.invite", Event, "event_id", **INVITER)
def invitations(event: Event):
    return _render_index(event, _invitation_form(event))


@bp.post("/events/<int:event_id>/stakeholders/invite")
@access.requires_on("matchmaking.invite", Event, "event_id", **INVITER)
@inputs.takes(StakeholderInvitationIn)
def invite(event: Event):
    form = _invitation_form(event)
    if form.validate_on_submit():
        try:
            invitation = stakeholder_invitations.invite(event.id, form.input,
                                                        actor=current_user)
        except Refused as refused:  # beside the field it is about
            show_refusal(form, refused)
        except DomainError as error:
            unit.discard()
            form.form_errors.append(error.message)
        else:
            flash(_("The invitation to %(name)s is on its way to %(email)s.",
                    name=invitation.name, email=invitation.email), "success")
            return redirect(url_for("stakeholders.index", event_id=event.id))
    return _render_index(event, form, 400)


def _invitation_of(event: Event, invitation_id: int) -> StakeholderInvitation:
    """The event's invitation `invitation_id`; another event's is an unknown id."""
    invitation = db.session.get(StakeholderInvitation, invitation_id)
    if invitation is None or invitation.event_id != event.id:
        abort(404)
    return invitation


def _act_on(event: Event, invitation_id: int, act, done: str):
    """Send again or revoke: the button's POST, the service's refusal shown as a notice."""
    invitation = _invitation_of(event, invitation_id)
    if not forms.InvitationActionForm().validate_on_submit():
        abort(400)
    try:
        act(invitation.id, actor=current_user)
    except DomainError as error:
        unit.discard()
        flash(error.message, "warning")
    else:
        flash(done % {"name": invitation.name, "email": invitation.email}, "success")
    return redirect(url_for("stakeholders.index", event_id=event.id))


# The buttons of each invitation on the list: what they do, and what they say once done.
ACTIONS = {
    "resend": (stakeholder_invitations.resend,
               _l("A new link is on its way to %(name)s (%(email)s); the earlier one no "
                  "longer works.")),
    "revoke": (stakeholder_invitations.revoke,
               _l("The invitation to %(name)s (%(email)s) is revoked: its link no longer "
                  "works.")),
}


def _button(name: str):
    act, done = ACTIONS[name]

    def view(event: Event, invitation_id: int):
        return _act_on(event, invitation_id, act, str(done))

    view.__name__ = view.__qualname__ = name
    return access.requires_on("matchmaking.invite", Event, "event_id", **INVITER)(
        inputs.takes(inputs.NoInput)(view))


for _name in ACTIONS:
    bp.add_url_rule(f"/events/<int:event_id>/stakeholders/<int:invitation_id>/{_name}",
                    _name, _button(_name), methods=["POST"])


# --------------------------------------------------------------------------- the link


@bp.route("/stakeholders/invitation/<token>", methods=["GET", "POST"])
@access.by_link
@inputs.takes(StakeholderAcceptIn)
def accept(token: str):
    with unit.reading():
        invitation, refusal = _token_step(lambda: stakeholder_invitations.invitation_for(token))
        account = (stakeholder_invitations.existing_account(invitation)
                   if invitation is not None else None)
        form = forms.AcceptWithAccountForm() if account else forms.AcceptForm()
        ready = refusal is None and form.validate_on_submit()
        limited = throttled(SIGNUP, invitation.email) if ready else None
        password_hash = (accounts.hash_password(form.input.password.get_secret_value())
                         if ready and not limited and account is None else None)
    if refusal:
        return link_refused(refusal)
    if limited:
        form.form_errors.append(limited)
    if not ready or limited:
        status = 429 if limited else 400 if form.is_submitted() else 200
        return render_template("stakeholders/accept.html", form=form, invitation=invitation,
                               event=invitation.event, account=account), status
    count_attempt(SIGNUP, invitation.email)
    accepted, refusal = _token_step(lambda: stakeholder_invitations.accept(
        token, password_hash=password_hash,
        privacy_version=current_app.config["PRIVACY_VERSION"]))
    if refusal:
        return link_refused(refusal)
    reg = accepted.registration
    login_user(reg.user)
    flash(_("Welcome, %(name)s: you are registered as a host of the event. Join its "
            "marketplace to meet the delegation.", name=reg.user.name), "success")
    return redirect(url_for("account.registration", registration_id=reg.id))

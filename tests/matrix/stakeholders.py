"""The host region's stakeholders: an event's invitations are for its hosts, organizers
and admins (403 for other roles on an event they see; a draft is an unknown id to those
who do not see it). The accept page answers a bogus link alike for every role (400).

The POSTs change nothing: the invitation is empty, and the invitation sent again or
revoked is accepted already (refused: a notice, and back to the list) or unknown."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.models import StakeholderInvitation, utcnow

INVITERS = statuses(403, anonymous=LOGIN, organizer=200, host=200, admin=200)
DRAFT = statuses(404, anonymous=LOGIN, organizer=200, admin=200)
UNKNOWN = statuses(404, anonymous=LOGIN)
BOGUS = statuses(400)


def _inviters(status):
    return {role: (status if code == 200 else code) for role, code in INVITERS.items()}


def build(make, users, base):
    now = utcnow()
    invitation = StakeholderInvitation(
        event=base["event"], email="accepted.stakeholder@example.sg", name="Accepted",
        organization_name="Marina Labs", country="SG", language="en", token_nonce="0" * 32,
        created_at=now, sent_at=now, expires_at=now + timedelta(days=14), accepted_at=now,
        invited_by=users["host"])
    db.session.add(invitation)
    db.session.flush()
    return dict(stakeholder_invitation=invitation.id)


def _on(key: str, suffix: str = ""):
    return lambda w: f"/events/{w.ids[key]}/stakeholders/{suffix}"


def _invitation(action: str):
    return lambda w: f"/events/{w.ids['event']}/stakeholders/" \
                     f"{w.extra['stakeholder_invitation']}/{action}"


CASES = [
    Case("stakeholders.index", "published", "GET", _on("event"), INVITERS),
    Case("stakeholders.index", "bad page", "GET", lambda w: _on("event")(w) + "?page=-2",
         INVITERS),
    Case("stakeholders.index", "draft", "GET", _on("draft"), DRAFT),
    Case("stakeholders.index", "unknown", "GET", lambda w: "/events/999999/stakeholders/",
         UNKNOWN),
    Case("stakeholders.invite", "empty", "POST", _on("event", "invite"), _inviters(400)),
    Case("stakeholders.invite", "draft, empty", "POST", _on("draft", "invite"),
         statuses(404, anonymous=LOGIN, organizer=400, admin=400)),
    *[case for action in ("resend", "revoke") for case in (
        Case(f"stakeholders.{action}", "accepted already", "POST", _invitation(action),
             _inviters(302)),
        Case(f"stakeholders.{action}", "unknown invitation", "POST",
             _on("event", f"999999/{action}"), _inviters(404)),
        Case(f"stakeholders.{action}", "unknown event", "POST",
             lambda w, action=action: f"/events/999999/stakeholders/1/{action}", UNKNOWN),
    )],
    Case("stakeholders.accept", "bogus link", "GET",
         lambda w: "/stakeholders/invitation/not-a-link", BOGUS),
    Case("stakeholders.accept", "bogus link", "POST",
         lambda w: "/stakeholders/invitation/not-a-link", BOGUS,
         data=lambda w: {"password": "harbour lights at dusk",
                         "confirm": "harbour lights at dusk", "privacy": "y"}),
]

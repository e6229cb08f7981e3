"""Matchmaking's settings: the event's organizers and admins; other partner managers find
no such event (404); members and hosts may not (403).

The POSTs send input the forms refuse, or act where acting changes nothing (an event
whose matchmaking is off: its blocks and points stay, switching it off again does
nothing), so every role meets the same world whatever order the cases run in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    MeetingRequestIn,
)
from webapp.models import Meeting
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, meeting_requests, meeting_schedule


def organizers(status):
    return statuses(403, anonymous=LOGIN, manager_a=404, manager_b=404, organizer=status,
                    admin=status)


def market(make, base, *, table: str | None = None, hours: int = 2, hosted: bool = False,
           actor=None):
    """An event of the organizing partner (hosted by the beachhead with `hosted`) with
    matchmaking on, a block of `hours` from its start and, with `table`, a meeting point
    of that name: (event, block, point or None). The matchmaking areas' worlds stand on
    it."""
    event = make.event(organizers=[base["organizing"]],
                       hosts=[base["beachhead"]] if hosted else ())
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=actor)
    start = event.starts_at.astimezone(event.zone).replace(tzinfo=None)
    block = matchmaking.add_block(event.id, MeetingBlockIn.from_values(
        starts_local=start, ends_local=start + timedelta(hours=hours)), actor=actor)
    point = matchmaking.add_point(event.id, MeetingPointIn.from_values(name=table),
                                  actor=actor) if table else None
    return event, block, point


def join(make, event, user, participant_type: str = "sme"):
    """`user` approved on `event` and taking part in its marketplace, consenting."""
    reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
    return matchmaking.join(reg.id, JoinIn.from_values(participant_type=participant_type,
                                                      consent=True), actor=user)


def ask(frm, to):
    """Participant `frm` asks `to` for a meeting."""
    return meeting_requests.request(frm.id, MeetingRequestIn.from_values(receiver_id=to.id),
                                    actor=frm.registration.user)


def scheduled(event, request, actor=None) -> Meeting:
    """The meeting of the accepted `request`, placed by a "schedule all" of `event`."""
    meeting_schedule.schedule_all(event.id, actor=actor, seconds=2)
    return db.session.scalar(select(Meeting).where(Meeting.request_id == request.id))


def build(make, users, base):
    on, block, point = market(make, base, table="Settings table")
    off, off_block, off_point = market(make, base, table="Closed table")
    matchmaking.switch_off(off.id, actor=None)
    return dict(matchmaking_on=on.id, matchmaking_block=block.id, matchmaking_point=point.id,
                matchmaking_off=off.id, matchmaking_off_block=off_block.id,
                matchmaking_off_point=off_point.id)


def _at(key: str, suffix=""):
    """A path under the matchmaking of the event `key` (`suffix` may read the world)."""
    return lambda w: f"/events/{w.extra[key]}/matchmaking/" + (
        suffix(w) if callable(suffix) else suffix)


def _off_item(kind: str):
    return _at("matchmaking_off", lambda w: f"{kind}s/{w.extra[f'matchmaking_off_{kind}']}"
                                            "/remove")


CASES = [
    Case("matchmaking.settings", "on", "GET", _at("matchmaking_on"), organizers(200)),
    Case("matchmaking.settings", "off", "GET", _at("matchmaking_off"), organizers(200)),
    Case("matchmaking.settings", "never on", "GET", lambda w: f"/events/{w.ids['draft']}"
         "/matchmaking/", organizers(200)),
    Case("matchmaking.settings", "unknown event", "GET",
         lambda w: "/events/999999/matchmaking/", organizers(404)),
    Case("matchmaking.settings", "bad length", "POST", _at("matchmaking_on"),
         organizers(400), data=lambda w: {"meeting_minutes": "0"}),
    Case("matchmaking.switch_off", "already off", "POST", _at("matchmaking_off", "off"),
         organizers(302)),
    Case("matchmaking.add_block", "empty", "POST", _at("matchmaking_on", "blocks"),
         organizers(400)),
    Case("matchmaking.remove_block", "matchmaking off", "POST", _off_item("block"),
         organizers(302)),
    Case("matchmaking.remove_block", "another event's", "POST",
         _at("matchmaking_on", lambda w: f"blocks/{w.extra['matchmaking_off_block']}/remove"),
         organizers(404)),
    Case("matchmaking.add_point", "empty", "POST", _at("matchmaking_on", "points"),
         organizers(400)),
    Case("matchmaking.remove_point", "matchmaking off", "POST", _off_item("point"),
         organizers(302)),
    Case("matchmaking.remove_point", "unknown", "POST",
         _at("matchmaking_on", "points/999999/remove"), organizers(404)),
    Case("matchmaking.add_type", "empty", "POST", _at("matchmaking_on", "types"),
         organizers(400)),
    Case("matchmaking.save_rules", "unknown type", "POST", _at("matchmaking_on", "rules"),
         organizers(400), data=lambda w: {"rules-allowed": "sme:nobody"}),
]

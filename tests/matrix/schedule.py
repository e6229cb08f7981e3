"""The schedule of an event's meetings (webapp/views/schedule.py): the event's organizers
and admins; other partner managers find no such event (404); members and hosts may not
(403). Another event's meeting or run, and an event whose matchmaking is off, are unknown
(404). The POSTs leave the world as it was: a time limit out of bounds (400), a move onto
no slot (400), locking a meeting that has no place (302, refused on the page), unlocking
one that is not locked, reopening a schedule that is not final (302), publishing as
nothing (400)."""

from __future__ import annotations

from tests.matrix import Case
from tests.matrix.matchmaking import ask, join, market, organizers
from webapp.inputs.matchmaking import MatchmakingIn
from webapp.services import matchmaking, meeting_requests


def build(make, users, base):
    organizer = users["organizer"]
    event, _block, _point = market(make, base, table="Schedule table", actor=organizer)
    sides = [join(make, event, make.user(make.organization(base["cluster_b"]), name=name))
             for name in ("Sam Side", "Tia Side")]
    accepted = ask(sides[0], sides[1])
    meeting_requests.accept(accepted.id, actor=sides[1].registration.user)
    off = make.event(organizers=[base["organizing"]])
    matchmaking.switch_on(off.id, MatchmakingIn.from_values(), actor=organizer)
    matchmaking.switch_off(off.id, actor=organizer)
    return dict(schedule_event=event.id, schedule_request=accepted.id,
                schedule_off=off.id)


def _at(suffix=""):
    return lambda w: f"/events/{w.extra['schedule_event']}/matchmaking/schedule/" + (
        suffix(w) if callable(suffix) else suffix)


def _meeting(action):
    return _at(lambda w: f"meetings/{w.extra['schedule_request']}/{action}")


CASES = [
    Case("schedule.index", "the grid", "GET", _at(), organizers(200)),
    Case("schedule.index", "matchmaking off", "GET",
         lambda w: f"/events/{w.extra['schedule_off']}/matchmaking/schedule/",
         organizers(404)),
    Case("schedule.index", "unknown event", "GET",
         lambda w: "/events/999999/matchmaking/schedule/", organizers(404)),
    Case("schedule.run", "a time limit out of bounds", "POST", _at("runs"), organizers(400),
         data=lambda w: {"seconds": "0"}),
    Case("schedule.run_page", "unknown run", "GET", _at("runs/999999"), organizers(404)),
    Case("schedule.run_progress", "unknown run", "GET", _at("runs/999999/progress"),
         organizers(404)),
    Case("schedule.move_page", "a meeting", "GET", _meeting("move"), organizers(200)),
    Case("schedule.move_page", "unknown meeting", "GET", _at("meetings/999999/move"),
         organizers(404)),
    Case("schedule.move", "no slot", "POST", _meeting("move"), organizers(400),
         data=lambda w: {"target": "2001-01-01T00:00:00+00:00@1"}),
    Case("schedule.lock", "not placed", "POST", _meeting("lock"), organizers(303)),
    Case("schedule.unlock", "not locked", "POST", _meeting("unlock"), organizers(303)),
    Case("schedule.unlock", "unknown meeting", "POST", _at("meetings/999999/unlock"),
         organizers(404)),
    Case("schedule.publish", "as nothing", "POST", _at("publish"), organizers(400),
         data=lambda w: {"state": "draft"}),
    Case("schedule.reopen", "not final", "POST", _at("reopen"), organizers(303)),
]

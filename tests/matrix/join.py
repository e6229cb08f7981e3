"""Personal join links: no sign-in, the token is the key, so every role gets the same
answer for the same link. An approved registration's link leads to the meeting inside
its window (303) and shows a countdown before it; a withdrawn registration's link is
refused (403) without the meeting address; a token that is not ours, or a session that
is not on the event's agenda, is 404."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.matrix import Case, statuses
from webapp.extensions import db
from webapp.models import EventKind, Registration, utcnow
from webapp.models import RegistrationStatus as S


def build(make, users, base) -> dict:
    own = db.session.scalar(select(Registration).where(
        Registration.event_id == base["event"].id, Registration.user_id == users["member"].id))
    # Started ten minutes ago and runs for hours: inside its window for the whole module.
    live = make.event(kind=EventKind.WEBINAR, organizers=[base["organizing"]],
                      starts_at=(utcnow() - timedelta(minutes=10)).replace(microsecond=0),
                      duration=timedelta(hours=4), online_url="https://meet.example.com/live")
    session = make.session(live, online_url="https://meet.example.com/live-panel",
                           starts_at=live.starts_at, ends_at=live.ends_at)
    on_live = make.registration(live, users["other_member"], S.SUBMITTED, S.APPROVED,
                                actor=users["organizer"])
    withdrawn = make.registration(
        live, make.user(make.organization(base["cluster_a"]), name="Walter Withdrawn"),
        S.SUBMITTED, S.APPROVED, S.WITHDRAWN, actor=users["organizer"])
    return dict(join_upcoming=own.join_token, join_live=on_live.join_token,
                join_withdrawn=withdrawn.join_token, join_session=session.id,
                join_other_session=make.session(base["event"]).id)


def _join(key, query=""):
    return lambda w: f"/join/{w.extra[key]}{query}"


CASES = [
    Case("join.open_link", "before the window", "GET", _join("join_upcoming"), statuses(200)),
    Case("join.open_link", "inside the window", "GET", _join("join_live"), statuses(303)),
    Case("join.open_link", "an online session, inside its window", "GET",
         lambda w: f"/join/{w.extra['join_live']}?session={w.extra['join_session']}",
         statuses(303)),
    Case("join.open_link", "another event's session", "GET",
         lambda w: f"/join/{w.extra['join_live']}?session={w.extra['join_other_session']}",
         statuses(404)),
    Case("join.open_link", "not a session", "GET", _join("join_live", "?session=abc"),
         statuses(404)),
    Case("join.open_link", "withdrawn registration", "GET", _join("join_withdrawn"),
         statuses(403)),
    Case("join.open_link", "made-up token", "GET", lambda w: "/join/" + "A" * 43,
         statuses(404)),
    Case("join.open_link", "one character changed", "GET",
         lambda w: "/join/" + _tampered(w.extra["join_live"]), statuses(404)),
]


def _tampered(token: str) -> str:
    return ("B" if token[0] != "B" else "C") + token[1:]

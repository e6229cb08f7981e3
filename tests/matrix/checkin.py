"""Check-in: the door's scanner page, a badge's own URL, and the attendance pages.

The door is for admins, the event's organizers and its hosting beachheads. Everyone else
who may see the event gets 403 at its scanner and attendance pages, and a draft is 404 for
all but its organizers. A badge's URL shows its person to staff of its event only: 404 for
anyone else signed in (as for a code that is not ours), the sign-in page for visitors.

The area's events (published and draft, with the same organizers and hosts as the shared
ones) started an hour ago, so check-in is open. The POSTs check in the member's own
approved registration (a repeat answers "already", so the order of the cases does not
matter) or are refused: an empty code, a badge of another event, a withdrawn registration,
a session of another event.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import LOGIN, Case, statuses
from webapp.models import EventStatus
from webapp.models import RegistrationStatus as S
from webapp.models.types import badge_check_symbol
from webapp.services.badges import printed_code

STAFF = ("organizer", "host", "admin")
UNKNOWN = statuses(404, anonymous=LOGIN)
# A well-formed code (its check symbol is right) that no badge has.
NO_SUCH_CODE = "0" * 15 + badge_check_symbol("0" * 15)


def door(status=200, **by_role):
    """An event's check-in pages: staff get `status`, others who see the event 403."""
    return statuses(403, anonymous=LOGIN, **{role: status for role in STAFF}, **by_role)


def draft(status=200):
    return statuses(404, anonymous=LOGIN, organizer=status, admin=status)


def badge(status=200):
    """A badge of the published event: its staff get `status`, anyone else 404."""
    return statuses(404, anonymous=LOGIN, **{role: status for role in STAFF})


def build(make, users, base):
    def started_an_hour_ago(**kw):
        return make.event(organizers=[base["organizing"]], hosts=[base["beachhead"]],
                          starts_in=-timedelta(hours=1), **kw)

    event, draft_event = started_an_hour_ago(), started_an_hour_ago(status=EventStatus.DRAFT)
    own = make.registration(event, users["member"], S.SUBMITTED, S.APPROVED,
                            actor=users["manager_a"])
    withdrawn = make.registration(
        event, make.user(make.organization(base["cluster_a"]), name="Wanda Withdrawn"),
        S.SUBMITTED, S.APPROVED, S.WITHDRAWN, actor=users["manager_a"])
    on_draft = make.registration(
        draft_event, make.user(make.organization(base["cluster_b"]), name="Dana Draft"),
        S.SUBMITTED, S.APPROVED, actor=users["organizer"])
    return dict(
        checkin_event=event.id,
        checkin_draft=draft_event.id,
        checkin_own_code=own.badge_code,
        checkin_withdrawn_code=withdrawn.badge_code,
        checkin_draft_code=on_draft.badge_code,
        checkin_session=make.session(event, title="Port visit").id,
        checkin_draft_session=make.session(draft_event, title="Draft visit").id,
    )


def _on(key, suffix):
    """A page of the area's published ("event") or draft event."""
    return lambda w: f"/events/{w.extra[f'checkin_{key}']}{suffix}"


def _code(key, suffix=""):
    return lambda w: f"/checkin/{w.extra[key]}{suffix}"


def _scan(key, session="event"):
    def data(w):
        return {"code": w.extra[key] if key else "",
                "session": str(w.extra[session]) if session != "event" else "event"}
    return data


CASES = [
    # The door's scanner page.
    Case("checkin.scan", "published", "GET", _on("event", "/checkin"), door()),
    Case("checkin.scan", "for an agenda session", "GET",
         lambda w: f"/events/{w.extra['checkin_event']}/checkin"
                   f"?session={w.extra['checkin_session']}",
         door()),
    Case("checkin.scan", "another event's session", "GET",
         lambda w: f"/events/{w.extra['checkin_event']}/checkin"
                   f"?session={w.extra['checkin_draft_session']}", door(404)),
    Case("checkin.scan", "draft", "GET", _on("draft", "/checkin"), draft()),
    Case("checkin.scan", "unknown", "GET", lambda w: "/events/999999/checkin", UNKNOWN),
    Case("checkin.scan_record", "own badge, the event", "POST", _on("event", "/checkin"),
         door(), data=_scan("checkin_own_code")),
    Case("checkin.scan_record", "own badge, an agenda session", "POST",
         _on("event", "/checkin"), door(), data=_scan("checkin_own_code", "checkin_session")),
    Case("checkin.scan_record", "printed code, lower case", "POST", _on("event", "/checkin"),
         door(), data=lambda w: {"code": printed_code(w.extra["checkin_own_code"]).lower(),
                                 "session": "event"}),
    Case("checkin.scan_record", "empty code", "POST", _on("event", "/checkin"), door(400),
         data=_scan(None)),
    Case("checkin.scan_record", "badge of another event", "POST", _on("event", "/checkin"),
         door(400), data=_scan("checkin_draft_code")),
    Case("checkin.scan_record", "withdrawn registration", "POST", _on("event", "/checkin"),
         door(400), data=_scan("checkin_withdrawn_code")),
    Case("checkin.scan_record", "another event's session", "POST", _on("event", "/checkin"),
         door(400), data=_scan("checkin_own_code", "checkin_draft_session")),
    Case("checkin.scan_record", "draft", "POST", _on("draft", "/checkin"), draft(),
         data=_scan("checkin_draft_code")),
    Case("checkin.scan_record", "unknown", "POST", lambda w: "/events/999999/checkin",
         UNKNOWN, data=_scan("checkin_own_code")),

    # A badge's own URL.
    Case("checkin.badge", "approved", "GET", _code("checkin_own_code"), badge()),
    Case("checkin.badge", "printed with spaces", "GET",
         lambda w: f"/checkin/{printed_code(w.extra['checkin_own_code'])}", badge()),
    # Staff see the person and why the badge is not valid any more.
    Case("checkin.badge", "withdrawn", "GET", _code("checkin_withdrawn_code"), badge()),
    Case("checkin.badge", "on the draft", "GET", _code("checkin_draft_code"), draft()),
    Case("checkin.badge", "no such code", "GET", lambda w: f"/checkin/{NO_SUCH_CODE}",
         UNKNOWN),
    Case("checkin.badge", "not a code", "GET", lambda w: "/checkin/not-a-badge", UNKNOWN),
    Case("checkin.badge", "one symbol changed", "GET",
         lambda w: "/checkin/" + _tampered(w.extra["checkin_own_code"]), UNKNOWN),
    Case("checkin.record", "approved, the event", "POST", _code("checkin_own_code"), badge(),
         data=lambda w: {"session": "event"}),
    Case("checkin.record", "approved, an agenda session", "POST", _code("checkin_own_code"),
         badge(), data=lambda w: {"session": str(w.extra["checkin_session"])}),
    Case("checkin.record", "approved, another event's session", "POST",
         _code("checkin_own_code"), badge(400),
         data=lambda w: {"session": str(w.extra["checkin_draft_session"])}),
    Case("checkin.record", "withdrawn", "POST", _code("checkin_withdrawn_code"), badge(400),
         data=lambda w: {"session": "event"}),
    Case("checkin.record", "on the draft", "POST", _code("checkin_draft_code"), draft(),
         data=lambda w: {"session": "event"}),
    Case("checkin.record", "no such code", "POST", lambda w: f"/checkin/{NO_SUCH_CODE}",
         UNKNOWN, data=lambda w: {"session": "event"}),

    # Attendance.
    *[
        case
        for endpoint, suffix in (("checkin.attendance", "/attendance"),
                                 ("checkin.attendance_csv", "/attendance.csv"))
        for case in (
            Case(endpoint, "published", "GET", _on("event", suffix), door()),
            Case(endpoint, "an agenda session", "GET",
                 lambda w, suffix=suffix: f"/events/{w.extra['checkin_event']}{suffix}"
                                          f"?session={w.extra['checkin_session']}", door()),
            Case(endpoint, "another event's session", "GET",
                 lambda w, suffix=suffix: f"/events/{w.extra['checkin_event']}{suffix}"
                                          f"?session={w.extra['checkin_draft_session']}",
                 door(404)),
            # A session that is not an id is a bad query (webapp.ids), not an unknown one.
            Case(endpoint, "not a session", "GET",
                 lambda w, suffix=suffix: f"/events/{w.extra['checkin_event']}{suffix}?session=abc",
                 door(400)),
            Case(endpoint, "draft", "GET", _on("draft", suffix), draft()),
            Case(endpoint, "unknown", "GET", lambda w, suffix=suffix: f"/events/999999{suffix}",
                 UNKNOWN),
        )
    ],
    # The webinar attendance report: the same people as the door's list.
    *[
        case
        for endpoint, suffix in (("checkin.webinar_report", "/webinar-report"),
                                 ("checkin.webinar_report_csv", "/webinar-report.csv"))
        for case in (
            Case(endpoint, "published", "GET", _on("event", suffix), door()),
            Case(endpoint, "draft", "GET", _on("draft", suffix), draft()),
            Case(endpoint, "unknown", "GET", lambda w, suffix=suffix: f"/events/999999{suffix}",
                 UNKNOWN),
        )
    ],
]


def _tampered(code: str) -> str:
    """The code with its first symbol changed: the check symbol no longer matches."""
    first = "1" if code[0] != "1" else "2"
    return first + code[1:]

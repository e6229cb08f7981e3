"""Administration: event pages for admins and partner managers (404 outside their partners'
events), partners, accounts, the audit log and the failed jobs for admins only.

POST cases either send input the forms refuse or act on objects where acting changes
nothing (a cancelled event, the admin's own admin grant), so every role meets the same
world whatever order the cases run in.
"""

from __future__ import annotations

from tests.matrix import ADMIN_ONLY, LOGIN, Case, statuses
from webapp.extensions import db
from webapp.models import EventStatus, Question, QuestionKind

# Admins and partner managers may open the event pages; members and hosts may not.
EVENT_STAFF = dict(manager_a=200, manager_b=200, organizer=200, admin=200)


def staff(status):
    return statuses(403, anonymous=LOGIN, **{role: status for role in EVENT_STAFF})


def organizers(status):
    """Admins and the event's organizers; other managers find no such event."""
    return statuses(403, anonymous=LOGIN, manager_a=404, manager_b=404, organizer=status,
                    admin=status)


def admin_only(status):
    return statuses(403, anonymous=LOGIN, admin=status)


UNKNOWN_EVENT = organizers(404)


def build(make, users, base):
    cancelled = make.event(organizers=[base["organizing"]], status=EventStatus.CANCELLED)
    # Questions on a cancelled event: every change to them is refused, whoever asks.
    asked = Question(event=cancelled, position=1, kind=QuestionKind.SHORT_TEXT,
                     label="Dietary needs", choices=[])
    db.session.add(asked)
    db.session.flush()
    return dict(
        cancelled_question=asked.id,
        event_session=make.session(base["event"]).id,
        cancelled=cancelled.id,
        cancelled_session=make.session(cancelled).id,
        account=make.user(name="Dora Account").id,
        admin_grant=users["admin"].grants[0].id,
        manager_grant=users["manager_a"].grants[0].id,
        manager_id=users["manager_a"].id,
        admin_id=users["admin"].id,
    )


def _event(key="event"):
    return lambda w: f"/admin/events/{w.ids[key]}"


def _cancelled(suffix=""):
    """The cancelled event's page, or one under it (`suffix` may depend on the world)."""
    return lambda w: f"/admin/events/{w.extra['cancelled']}" + (
        suffix(w) if callable(suffix) else suffix)


CASES = [
    Case("admin.index", "redirect", "GET", lambda w: "/admin/", staff(302)),
    Case("admin.events", "list", "GET", lambda w: "/admin/events", staff(200)),
    Case("admin.events", "bad page", "GET", lambda w: "/admin/events?page=-4", staff(200)),
    Case("admin.event_new", "form", "GET", lambda w: "/admin/events/new", staff(200)),
    Case("admin.event_new", "empty", "POST", lambda w: "/admin/events/new", staff(400)),
    Case("admin.event_edit", "published", "GET", _event(), organizers(200)),
    Case("admin.event_edit", "draft", "GET", _event("draft"), organizers(200)),
    Case("admin.event_edit", "unknown", "GET", lambda w: "/admin/events/999999", UNKNOWN_EVENT),
    Case("admin.event_edit", "empty", "POST", _event(), organizers(400)),
    Case("admin.event_edit", "cancelled", "POST", _cancelled(), organizers(400)),
    Case("admin.event_publish", "confirm draft", "GET",
         lambda w: f"{_event('draft')(w)}/publish", organizers(200)),
    Case("admin.event_publish", "already published", "GET",
         lambda w: f"{_event()(w)}/publish", organizers(302)),
    Case("admin.event_publish", "cancelled", "POST", _cancelled("/publish"), organizers(302)),
    Case("admin.event_close", "confirm", "GET", lambda w: f"{_event()(w)}/close",
         organizers(200)),
    Case("admin.event_close", "cancelled", "POST", _cancelled("/close"), organizers(302)),
    Case("admin.event_cancel", "confirm", "GET", lambda w: f"{_event()(w)}/cancel",
         organizers(200)),
    # Destructive actions need their confirmation page's token: without one (or with a
    # forged one) nothing happens, whatever the event's state.
    Case("admin.event_cancel", "already cancelled", "GET", _cancelled("/cancel"),
         organizers(302)),
    Case("admin.event_cancel", "no confirmation", "POST", _cancelled("/cancel"),
         organizers(400)),
    Case("admin.event_cancel", "forged confirmation", "POST", lambda w: f"{_event()(w)}/cancel",
         organizers(400), data=lambda w: {"confirmation": "forged"}),
    Case("admin.event_clone", "bad offset", "POST", lambda w: f"{_event()(w)}/clone",
         organizers(400), data=lambda w: {"clone-days": "soon"}),
    Case("admin.event_quotas", "negative", "POST", lambda w: f"{_event()(w)}/quotas",
         organizers(400), data=lambda w: {f"quota-seats_{w.ids['organizing']}": "-1"}),
    Case("admin.session_new", "empty", "POST", lambda w: f"{_event()(w)}/sessions",
         organizers(400)),
    Case("admin.session_edit", "form", "GET",
         lambda w: f"{_event()(w)}/sessions/{w.extra['event_session']}", organizers(200)),
    Case("admin.session_edit", "empty", "POST",
         lambda w: f"{_event()(w)}/sessions/{w.extra['event_session']}", organizers(400)),
    Case("admin.session_edit", "another event's session", "GET",
         lambda w: f"{_event()(w)}/sessions/{w.extra['cancelled_session']}", UNKNOWN_EVENT),
    Case("admin.session_delete", "confirmation", "GET",
         lambda w: f"{_event()(w)}/sessions/{w.extra['event_session']}/delete",
         organizers(200)),
    Case("admin.session_delete", "forged confirmation", "POST",
         lambda w: f"{_event()(w)}/sessions/{w.extra['event_session']}/delete",
         organizers(400), data=lambda w: {"confirmation": "forged"}),
    Case("admin.session_delete", "cancelled event", "GET",
         lambda w: f"{_cancelled()(w)}/sessions/{w.extra['cancelled_session']}/delete",
         organizers(302)),
    Case("admin.session_delete", "cancelled event, no confirmation", "POST",
         lambda w: f"{_cancelled()(w)}/sessions/{w.extra['cancelled_session']}/delete",
         organizers(400)),
    Case("admin.session_delete", "unknown", "POST",
         lambda w: f"{_event()(w)}/sessions/999999/delete", UNKNOWN_EVENT),
    Case("admin.question_new", "empty", "POST", lambda w: f"{_event()(w)}/questions",
         organizers(400)),
    Case("admin.question_new", "cancelled event", "POST", _cancelled("/questions"),
         organizers(400), data=lambda w: {"question-kind": "short_text",
                                          "question-label": "Anything else?"}),
    Case("admin.question_edit", "form", "GET",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}"), organizers(200)),
    Case("admin.question_edit", "cancelled event", "POST",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}"), organizers(400),
         data=lambda w: {"question-kind": "short_text", "question-label": "Allergies"}),
    Case("admin.question_edit", "another event's question", "GET",
         lambda w: f"{_event()(w)}/questions/{w.extra['cancelled_question']}", UNKNOWN_EVENT),
    Case("admin.question_delete", "cancelled event", "GET",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}/delete"),
         organizers(302)),
    Case("admin.question_delete", "cancelled event, no confirmation", "POST",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}/delete"),
         organizers(400)),
    Case("admin.question_delete", "unknown", "POST",
         lambda w: f"{_event()(w)}/questions/999999/delete", UNKNOWN_EVENT),
    Case("admin.question_move", "cancelled event", "POST",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}/move"),
         organizers(302), data=lambda w: {"direction": "down"}),
    Case("admin.question_move", "no direction", "POST",
         _cancelled(lambda w: f"/questions/{w.extra['cancelled_question']}/move"),
         organizers(400)),
    Case("admin.question_defaults", "cancelled event", "POST",
         _cancelled("/questions/defaults"), organizers(302)),
    Case("admin.partners_list", "list", "GET", lambda w: "/admin/partners", ADMIN_ONLY),
    Case("admin.partner_new", "form", "GET", lambda w: "/admin/partners/new", ADMIN_ONLY),
    Case("admin.partner_new", "empty", "POST", lambda w: "/admin/partners/new",
         admin_only(400)),
    Case("admin.partner_edit", "form", "GET",
         lambda w: f"/admin/partners/{w.ids['cluster_a']}", ADMIN_ONLY),
    Case("admin.partner_edit", "empty", "POST",
         lambda w: f"/admin/partners/{w.ids['cluster_a']}", admin_only(400)),
    Case("admin.partner_edit", "unknown", "GET", lambda w: "/admin/partners/999999",
         admin_only(404)),
    Case("admin.users_list", "list", "GET", lambda w: "/admin/users", ADMIN_ONLY),
    Case("admin.users_list", "search", "GET", lambda w: "/admin/users?q=dora&page=-2",
         ADMIN_ONLY),
    Case("admin.user_detail", "account", "GET",
         lambda w: f"/admin/users/{w.extra['account']}", ADMIN_ONLY),
    Case("admin.user_detail", "unknown", "GET", lambda w: "/admin/users/999999",
         admin_only(404)),
    Case("admin.user_deactivate", "confirmation", "GET",
         lambda w: f"/admin/users/{w.extra['account']}/deactivate", ADMIN_ONLY),
    Case("admin.user_deactivate", "own account", "GET",
         lambda w: f"/admin/users/{w.extra['admin_id']}/deactivate", admin_only(302)),
    Case("admin.user_deactivate", "forged confirmation", "POST",
         lambda w: f"/admin/users/{w.extra['account']}/deactivate", admin_only(400),
         data=lambda w: {"confirmation": "forged"}),
    Case("admin.user_reactivate", "account", "POST",
         lambda w: f"/admin/users/{w.extra['account']}/reactivate", admin_only(302)),
    Case("admin.grant_add", "admin for a partner", "POST",
         lambda w: f"/admin/users/{w.extra['account']}/grants", admin_only(400),
         data=lambda w: {"grant-role": "admin", "grant-partner_id": str(w.ids["cluster_a"])}),
    Case("admin.grant_remove", "confirmation", "GET",
         lambda w: f"/admin/users/{w.extra['manager_id']}/grants/{w.extra['manager_grant']}"
                   "/delete", ADMIN_ONLY),
    Case("admin.grant_remove", "own admin grant", "GET",
         lambda w: f"/admin/users/{w.extra['admin_id']}/grants/{w.extra['admin_grant']}/delete",
         admin_only(302)),
    Case("admin.grant_remove", "no confirmation", "POST",
         lambda w: f"/admin/users/{w.extra['manager_id']}/grants/{w.extra['manager_grant']}"
                   "/delete", admin_only(400)),
    Case("admin.grant_remove", "unknown", "POST",
         lambda w: f"/admin/users/{w.extra['account']}/grants/999999/delete", admin_only(404)),
    Case("admin.audit", "log", "GET", lambda w: "/admin/audit", ADMIN_ONLY),
    Case("admin.audit", "filters", "GET",
         lambda w: "/admin/audit?action=registration.&actor=example&since=2020-01-01"
                   "&until=bad&page=-1", ADMIN_ONLY),
    Case("admin.skipped_reminders", "list", "GET", lambda w: "/admin/reminders?page=-2",
         ADMIN_ONLY),
    Case("admin.failed_jobs", "list", "GET", lambda w: "/admin/jobs", ADMIN_ONLY),
    Case("admin.job_retry", "unknown", "POST", lambda w: "/admin/jobs/no-such-job/retry",
         admin_only(302)),
    Case("admin.mail_retry", "unknown", "POST", lambda w: "/admin/jobs/mail/999999/retry",
         admin_only(302)),
]

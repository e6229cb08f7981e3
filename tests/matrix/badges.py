"""Badges: a registration's own badge, an event's badges as one PDF, and background batches.

Only an approved registration has a badge, for its delegate and its deciders (the
responsible partner's managers, the event's organizers); any other registration, and any
outside the user's scope, is 404 like an unknown id. An event's badges are for its
organizers (every delegate) and every partner manager (their own clusters' delegates);
members and hosts may see the event but not print its badges (403), a draft is 404 for
everyone but its organizers. A batch is its requester's only: 404 for everyone else.

The POST cases send a paper no form offers or a cluster outside the sender's scope, so
walking the matrix starts no batch.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.models import BadgeBatch, BadgeFormat, BatchStatus, utcnow
from webapp.models import RegistrationStatus as S

# A few bytes stand in for a built batch: the download serves what the row holds.
BATCH_PDF = b"%PDF-1.7\n% a stand-in batch\n%%EOF\n"

PRINTERS = dict(manager_a=200, manager_b=200, organizer=200, admin=200)
UNKNOWN = statuses(404, anonymous=LOGIN)
REQUESTER_ONLY = {"organizer": 200}


def printers(**by_role):
    """Event badges: printers get 200 unless said otherwise, members and hosts 403."""
    return statuses(403, anonymous=LOGIN, **{**PRINTERS, **by_role})


def draft(status):
    """A draft event: only its organizers (and admins) know it exists."""
    return statuses(404, anonymous=LOGIN, organizer=status, admin=status)


def requester(role, status=200):
    return statuses(404, anonymous=LOGIN, **{role: status})


def build(make, users, base):
    event, cluster_a, cluster_b = base["event"], base["cluster_a"], base["cluster_b"]
    delegate_b = make.registration(
        event, make.user(make.organization(cluster_b), name="Bruno Bravo"),
        S.SUBMITTED, S.APPROVED, actor=users["manager_b"])
    withdrawn = make.registration(
        event, make.user(make.organization(cluster_a), name="Walt Withdrawn"),
        S.SUBMITTED, S.APPROVED, S.WITHDRAWN, actor=users["manager_a"])
    rejected = make.registration(
        event, make.user(make.organization(cluster_a), name="Rhea Rejected"),
        S.SUBMITTED, S.REJECTED, actor=users["manager_a"])
    on_draft = make.registration(
        base["draft"], make.user(make.organization(cluster_a), name="Dirk Draft"),
        S.SUBMITTED, S.APPROVED, actor=users["organizer"])
    now = utcnow()

    def batch(requested_by, status=BatchStatus.DONE, finished_at=now, pdf=BATCH_PDF):
        row = BadgeBatch(event_id=event.id, requested_by_id=requested_by.id,
                         format=BadgeFormat.A6, status=status, total=2,
                         done=2 if status == BatchStatus.DONE else 0, pdf=pdf,
                         created_at=now, updated_at=now, finished_at=finished_at)
        db.session.add(row)
        db.session.flush()
        return row.id

    return dict(
        badge_delegate_b=delegate_b.id,
        badge_withdrawn=withdrawn.id,
        badge_rejected=rejected.id,
        badge_on_draft=on_draft.id,
        batch_done=batch(users["organizer"]),
        batch_expired=batch(users["organizer"], finished_at=now - timedelta(hours=2)),
        batch_running=batch(users["organizer"], status=BatchStatus.RUNNING, finished_at=None,
                            pdf=None),
        batch_of_manager_b=batch(users["manager_b"]),
    )


def _badge(reg):
    return lambda w: f"/registrations/{reg(w)}/badge.pdf"


def _event(key, suffix):
    return lambda w: f"/events/{w.ids[key]}{suffix}"


def _batch(key, suffix=""):
    return lambda w: f"/badges/batches/{w.extra[key]}{suffix}"


CASES = [
    # One registration's badge.
    Case("badges.registration_badge", "approved, own, cluster A", "GET",
         _badge(lambda w: w.own_reg),
         statuses(404, anonymous=LOGIN, member=200, manager_a=200, organizer=200, admin=200)),
    Case("badges.registration_badge", "approved, cluster B", "GET",
         _badge(lambda w: w.extra["badge_delegate_b"]),
         statuses(404, anonymous=LOGIN, manager_b=200, organizer=200, admin=200)),
    Case("badges.registration_badge", "approved, A4", "GET",
         lambda w: f"/registrations/{w.own_reg}/badge.pdf?format=a4",
         statuses(404, anonymous=LOGIN, member=200, manager_a=200, organizer=200, admin=200)),
    Case("badges.registration_badge", "paper no one offers", "GET",
         lambda w: f"/registrations/{w.own_reg}/badge.pdf?format=a5",
         statuses(404, anonymous=LOGIN, member=400, manager_a=400, organizer=400, admin=400)),
    Case("badges.registration_badge", "submitted, cluster B", "GET",
         _badge(lambda w: w.other_reg), UNKNOWN),
    Case("badges.registration_badge", "withdrawn, cluster A", "GET",
         _badge(lambda w: w.extra["badge_withdrawn"]), UNKNOWN),
    Case("badges.registration_badge", "rejected, cluster A", "GET",
         _badge(lambda w: w.extra["badge_rejected"]), UNKNOWN),
    # The draft's organizers decide it; cluster A's managers decide their applicants'
    # registrations wherever they are (as on the desk).
    Case("badges.registration_badge", "approved, on the draft", "GET",
         _badge(lambda w: w.extra["badge_on_draft"]),
         statuses(404, anonymous=LOGIN, manager_a=200, organizer=200, admin=200)),
    Case("badges.registration_badge", "unknown", "GET", _badge(lambda w: 999999), UNKNOWN),

    # An event's badges.
    Case("badges.index", "published", "GET", _event("event", "/badges"), printers()),
    Case("badges.index", "draft", "GET", _event("draft", "/badges"), draft(200)),
    Case("badges.index", "unknown", "GET", lambda w: "/events/999999/badges", UNKNOWN),
    Case("badges.event_badges", "every delegate in scope", "GET",
         _event("event", "/badges.pdf?format=a6&partner=all"), printers()),
    Case("badges.event_badges", "cluster B's delegates", "GET",
         lambda w: f"/events/{w.ids['event']}/badges.pdf?format=a4"
                   f"&partner={w.ids['cluster_b']}",
         printers(manager_a=400)),
    Case("badges.event_badges", "paper no one offers", "GET",
         _event("event", "/badges.pdf?format=a5&partner=all"),
         printers(**{role: 400 for role in PRINTERS})),
    Case("badges.event_badges", "draft", "GET",
         _event("draft", "/badges.pdf?format=a6&partner=all"), draft(200)),
    Case("badges.event_badges", "unknown", "GET", lambda w: "/events/999999/badges.pdf",
         UNKNOWN),
    Case("badges.start_batch", "paper no one offers", "POST",
         _event("event", "/badges/batches"),
         printers(**{role: 400 for role in PRINTERS}),
         data=lambda w: {"format": "a5", "partner": "all"}),
    Case("badges.start_batch", "cluster out of scope", "POST",
         _event("event", "/badges/batches"),
         printers(**{role: 400 for role in PRINTERS}),
         data=lambda w: {"format": "a6", "partner": str(w.ids["other_beachhead"])}),
    Case("badges.start_batch", "draft", "POST", _event("draft", "/badges/batches"),
         draft(400), data=lambda w: {"format": "a5", "partner": "all"}),
    Case("badges.start_batch", "unknown", "POST", lambda w: "/events/999999/badges/batches",
         UNKNOWN, data=lambda w: {"format": "a6", "partner": "all"}),

    # Batches: their requester's only.
    Case("badges.batch", "done, the organizer's", "GET", _batch("batch_done"),
         requester("organizer")),
    Case("badges.batch", "done, manager B's", "GET", _batch("batch_of_manager_b"),
         requester("manager_b")),
    Case("badges.batch", "unknown", "GET", lambda w: "/badges/batches/999999", UNKNOWN),
    Case("badges.batch_progress", "running, the organizer's", "GET",
         _batch("batch_running", "/progress"), requester("organizer")),
    Case("badges.batch_progress", "done, manager B's", "GET",
         _batch("batch_of_manager_b", "/progress"), requester("manager_b")),
    Case("badges.batch_progress", "unknown", "GET", lambda w: "/badges/batches/999999/progress",
         UNKNOWN),
    Case("badges.batch_file", "done, the organizer's", "GET",
         _batch("batch_done", "/badges.pdf"), requester("organizer")),
    Case("badges.batch_file", "done, manager B's", "GET",
         _batch("batch_of_manager_b", "/badges.pdf"), requester("manager_b")),
    Case("badges.batch_file", "kept past its hour", "GET",
         _batch("batch_expired", "/badges.pdf"), requester("organizer", 410)),
    Case("badges.batch_file", "still running", "GET", _batch("batch_running", "/badges.pdf"),
         requester("organizer", 404)),
    Case("badges.batch_file", "unknown", "GET", lambda w: "/badges/batches/999999/badges.pdf",
         UNKNOWN),
]

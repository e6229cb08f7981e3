"""Organization pages, join requests and the managers' inbox.

An organization is visible to its members, its home cluster's managers and admins; to
everyone else it does not exist (404). Members may edit it and decide join requests;
reviewing (mark reviewed, merge) is for its home cluster's managers and admins (403 for
members, who can see the page). POST cases send refused input where an allowed role
would otherwise change shared objects."""

from __future__ import annotations

import io

from flask import current_app
from PIL import Image

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.services import logos, organizations

INBOX_USERS = statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200,
                       admin=200)
MEMBER_ORG = dict(anonymous=LOGIN, member=200, manager_a=200, admin=200)
NOT_FOUND = statuses(404, anonymous=LOGIN)


def build(make, users, base):
    applicant = make.user(None, name="Paula Pending")
    # The members' mail links to the organization page: URLs need a request context.
    with current_app.test_request_context():
        request = organizations.request_membership(applicant, base["member_org"], "Hello")
    new_org = make.organization(base["cluster_a"], name="Fresh Start BV")
    b_org = make.organization(base["cluster_b"], name="Bravo Systems")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(png, format="PNG")
    base["member_org"].logo_filename = logos.store(
        png.getvalue(), current_app.config["UPLOAD_FOLDER"], max_bytes=2 * 1024 * 1024)
    db.session.flush()
    return {"join_request": request.id, "new_org": new_org.id, "b_org": b_org.id}


def _org(name: str):
    return lambda w: f"/organizations/{w.ids[name]}"


CASES = [
    Case("organization.index", "list", "GET", lambda w: "/organizations", INBOX_USERS),
    Case("organization.index", "search", "GET", lambda w: "/organizations?q=Fresh&page=-1",
         INBOX_USERS),
    Case("desk.inbox", "inbox", "GET", lambda w: "/desk/inbox", INBOX_USERS),
    Case("organization.view", "member's organization", "GET", _org("member_org"),
         statuses(404, **MEMBER_ORG)),
    Case("organization.view", "other member's organization", "GET", _org("other_org"),
         statuses(404, anonymous=LOGIN, other_member=200, manager_a=200, admin=200)),
    Case("organization.view", "new, cluster A", "GET",
         lambda w: f"/organizations/{w.extra['new_org']}",
         statuses(404, anonymous=LOGIN, manager_a=200, admin=200)),
    Case("organization.view", "cluster B", "GET",
         lambda w: f"/organizations/{w.extra['b_org']}",
         statuses(404, anonymous=LOGIN, manager_b=200, admin=200)),
    Case("organization.view", "unknown", "GET", lambda w: "/organizations/999999", NOT_FOUND),
    Case("organization.edit", "form", "GET", lambda w: f"{_org('member_org')(w)}/edit",
         statuses(404, **MEMBER_ORG)),
    Case("organization.edit", "empty name", "POST", lambda w: f"{_org('member_org')(w)}/edit",
         statuses(404, anonymous=LOGIN, member=400, manager_a=400, admin=400),
         data=lambda w: {"name": "", "country": "BE", "size": "small", "helix": "industry"}),
    Case("organization.edit", "unknown", "GET", lambda w: "/organizations/999999/edit",
         NOT_FOUND),
    Case("organization.logo", "stored logo", "GET", lambda w: f"{_org('member_org')(w)}/logo",
         statuses(404, **MEMBER_ORG)),
    Case("organization.logo", "no logo", "GET", lambda w: f"{_org('other_org')(w)}/logo",
         NOT_FOUND),
    Case("organization.upload_logo", "no file", "POST",
         lambda w: f"{_org('member_org')(w)}/logo",
         statuses(404, anonymous=LOGIN, member=400, manager_a=400, admin=400)),
    Case("organization.decide_request", "undecided input", "POST",
         lambda w: f"/organizations/requests/{w.extra['join_request']}",
         statuses(404, anonymous=LOGIN, member=400, manager_a=400, admin=400),
         data=lambda w: {"decision": "maybe"}),
    Case("organization.decide_request", "unknown", "POST",
         lambda w: "/organizations/requests/999999", NOT_FOUND,
         data=lambda w: {"decision": "accept"}),
    Case("organization.mark_reviewed", "member's organization", "POST",
         lambda w: f"{_org('member_org')(w)}/reviewed",
         statuses(404, anonymous=LOGIN, member=403, manager_a=302, admin=302)),
    Case("organization.mark_reviewed", "cluster B", "POST",
         lambda w: f"/organizations/{w.extra['b_org']}/reviewed",
         statuses(404, anonymous=LOGIN, manager_b=302, admin=302)),
    Case("organization.merge", "form", "GET", lambda w: f"{_org('member_org')(w)}/merge",
         statuses(404, anonymous=LOGIN, member=403, manager_a=200, admin=200)),
    Case("organization.merge", "nothing chosen", "POST",
         lambda w: f"{_org('member_org')(w)}/merge",
         statuses(404, anonymous=LOGIN, member=403, manager_a=400, admin=400)),
    # Choosing shows the confirmation; without its token nothing is merged.
    Case("organization.merge", "chosen, to confirm", "POST",
         lambda w: f"{_org('member_org')(w)}/merge",
         statuses(404, anonymous=LOGIN, member=403, manager_a=200, admin=200),
         data=lambda w: {"into": w.extra["new_org"], "confirm": "y"}),
    Case("organization.merge", "forged confirmation", "POST",
         lambda w: f"{_org('member_org')(w)}/merge",
         statuses(404, anonymous=LOGIN, member=403, manager_a=400, admin=400),
         data=lambda w: {"into": w.extra["new_org"], "confirm": "y",
                         "confirmation": "forged"}),
]

"""Administration for admins only: partners, accounts and their roles, the audit log
(webapp/services/partners.py, webapp/services/users.py, webapp/views/admin.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import IsolatedClient, csrf_token, login
from tests.factories import Factory
from webapp import unit
from webapp.extensions import db as _db
from webapp.inputs.events import EventIn
from webapp.inputs.partners import GrantIn
from webapp.models import (
    AuditEntry,
    EventStatus,
    Partner,
    PartnerKind,
    Role,
    RoleGrant,
    utcnow,
)
from webapp.services import events, users
from webapp.services.fields import Refused


@pytest.fixture
def admin(make):
    return make.admin(name="Annelies Admin", email="coordinator@example.org")


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Nord", short_name="SCN")


def post(client, path: str, data: dict, prefix: str | None = None):
    token = csrf_token(client, "/")
    return client.post(path, data={**data, f"{prefix}-csrf_token" if prefix else "csrf_token":
                                   token})


def partner_form(**overrides) -> dict:
    data = dict(name="Urban Tech Flanders", short_name="UTF", slug="", kind="cluster",
                is_member="y", country="BE", region="Flanders", city="Gent",
                website="https://urbantech.example.org", description="")
    data.update(overrides)
    return data


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- navigation


def test_the_navigation_offers_administration_by_what_the_user_may_do(make, login_as, cluster):
    def nav(user):
        return login_as(user).get("/").get_data(as_text=True)

    assert ">Administration</a>" in nav(make.admin())
    manager_page = nav(make.manager(cluster))
    assert ">My events</a>" in manager_page and ">Administration</a>" not in manager_page
    member_page = nav(make.user())
    assert 'href="/admin/events"' not in member_page


def test_managers_see_no_admin_tabs_and_may_not_open_them(make, login_as, cluster):
    client = login_as(make.manager(cluster))
    assert 'href="/admin/partners"' not in client.get("/admin/events").get_data(as_text=True)
    for path in ("/admin/partners", "/admin/users", "/admin/audit"):
        assert client.get(path).status_code == 403


# --------------------------------------------------------------------------- partners


def test_an_admin_adds_a_partner_with_a_slug_from_its_short_name(db, login_as, admin):
    response = post(login_as(admin), "/admin/partners/new", partner_form())
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner).where(Partner.short_name == "UTF"))
    assert (partner.slug, partner.kind, partner.is_member, partner.country) == (
        "utf", PartnerKind.CLUSTER, True, "BE")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "partner.created"))
    assert (entry.subject_type, entry.subject_id) == ("partner", partner.id)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "smart city nord", "Another partner already has this name"),
    ("website", "ftp://files.example.org", "http:// or https://"),
    ("slug", "taken", "already used"),
    ("country", "QQ", "Choose a country from the list."),
    ("short_name", "", "Enter a short name."),
])
def test_bad_partner_input_is_refused_beside_its_field(
    db, make, login_as, admin, cluster, field, value, message
):
    make.partner(slug="taken")
    before = count(db, Partner)
    response = post(login_as(admin), "/admin/partners/new", partner_form(**{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert count(db, Partner) == before


def test_an_admin_edits_a_partner_and_the_change_is_audited(db, login_as, admin, cluster):
    client = login_as(admin)
    form = client.get(f"/admin/partners/{cluster.id}").get_data(as_text=True)
    assert 'value="Smart City Nord"' in form
    response = post(client, f"/admin/partners/{cluster.id}", partner_form(
        name="Smart City Nord", short_name="SCN", slug=cluster.slug, country="DK",
        city="Aalborg", region="", website=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert (cluster.country, cluster.city) == ("DK", "Aalborg")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "partner.updated"))
    assert entry.details["changes"]["country"] == ["BE", "DK"]


def test_a_beachhead_that_hosts_stays_a_beachhead(db, make, login_as, admin):
    beachhead = make.beachhead(name="IPI Singapore", short_name="IPI")
    make.host(beachhead)
    response = post(login_as(admin), f"/admin/partners/{beachhead.id}", partner_form(
        name="IPI Singapore", short_name="IPI", slug=beachhead.slug, kind="cluster",
        country="SG"))
    assert response.status_code == 400
    assert 'id="kind-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert beachhead.kind == PartnerKind.BEACHHEAD


# --------------------------------------------------------------------------- users


def test_users_are_searched_by_name_or_email_and_paginated(db, make, login_as, admin):
    make.user(name="Karin Jensen", email="karin@limfjord.example.dk")
    make.user(name="Jordi Puig", email="jordi@ciutat.example.es")
    client = login_as(admin)
    html = client.get("/admin/users?q=jensen").get_data(as_text=True)
    assert "Karin Jensen" in html and "Jordi Puig" not in html
    html = client.get("/admin/users?q=CIUTAT.example").get_data(as_text=True)
    assert "Jordi Puig" in html and "Karin Jensen" not in html

    for n in range(55):
        make.user(name=f"Zz Delegate {n:02d}", password=None)
    first = client.get("/admin/users?q=zz+delegate").get_data(as_text=True)
    assert first.count('data-testid="user-row"') == 50
    assert "Page 1<" in first and 'rel="next"' in first and "q=zz+delegate" in first
    second = client.get("/admin/users?q=zz+delegate&page=2").get_data(as_text=True)
    assert second.count('data-testid="user-row"') == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_deactivating_an_account_ends_its_sessions(db, app, make, login_as, admin):
    person = make.user(name="Piet Person")
    theirs = app.test_client()
    with theirs.session_transaction() as session:
        session["_user_id"] = person.get_id()
    assert theirs.get("/account/registrations").status_code == 200

    response = confirm(login_as(admin), f"/admin/users/{person.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert not person.active
    assert person.session_version == 2
    assert theirs.get("/account/registrations").status_code == 302  # back to sign-in
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("user", person.id, admin.id)

    assert post(login_as(admin), f"/admin/users/{person.id}/reactivate", {}).status_code == 302
    db.session.expire_all()
    assert person.active


def test_an_admin_cannot_deactivate_themself(db, login_as, admin):
    client = login_as(admin)
    response = client.get(f"/admin/users/{admin.id}/deactivate")  # no page to confirm
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert post(client, f"/admin/users/{admin.id}/deactivate", {}).status_code == 400
    db.session.expire_all()
    assert admin.active and admin.session_version == 1


def test_an_admin_grants_a_partner_manager_role(db, make, login_as, admin, cluster):
    person = make.user(name="Mette Manager")
    client = login_as(admin)
    response = post(client, f"/admin/users/{person.id}/grants",
                    {"grant-role": "partner_manager", "grant-partner_id": str(cluster.id)},
                    prefix="grant")
    assert response.status_code == 302
    db.session.expire_all()
    assert [(g.role, g.partner_id) for g in person.grants] == [(Role.PARTNER_MANAGER, cluster.id)]
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Partner manager: Smart City Nord" in page
    assert "partner_manager (SCN)" in page  # the history says what was granted


@pytest.mark.parametrize(("role", "partner", "field", "message"), [
    ("beachhead_host", "cluster", "partner_id", "Only a beachhead organization has hosts"),
    ("partner_manager", None, "partner_id", "Choose the partner"),
    ("admin", "cluster", "partner_id", "held for everything"),
])
def test_a_grant_that_does_not_fit_its_partner_is_refused(
    db, make, login_as, admin, cluster, role, partner, field, message
):
    person = make.user()
    response = post(login_as(admin), f"/admin/users/{person.id}/grants", {
        "grant-role": role, "grant-partner_id": str(cluster.id) if partner else ""},
        prefix="grant")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="grant-{field}-error"' in html and message in html
    assert count(db, RoleGrant) == 1  # the admin's own


def test_a_beachhead_host_grant_needs_a_beachhead(db, make, admin):
    beachhead = make.beachhead()
    person = make.user()
    host = GrantIn.from_values(role=Role.BEACHHEAD_HOST, partner_id=beachhead.id)
    users.add_grant(admin, person, host)
    with pytest.raises(Refused, match="already holds"):
        users.add_grant(admin, person, host)


def test_a_grant_is_removed_but_never_an_admins_own_admin_grant(
    db, make, login_as, admin, cluster
):
    person = make.manager(cluster)
    client = login_as(admin)
    grant_id = person.grants[0].id
    assert confirm(client, f"/admin/users/{person.id}/grants/{grant_id}/delete").status_code == 302
    db.session.expire_all()
    assert person.grants == []
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.grant_removed")).details["changes"] == {
        "grants": ["partner_manager (SCN)", None]}

    own = admin.grants[0].id
    response = client.get(f"/admin/users/{admin.id}/grants/{own}/delete")  # nothing to confirm
    assert response.status_code == 302
    assert "You cannot remove your own admin role" in client.get(
        response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert [g.role for g in admin.grants] == [Role.ADMIN]


def _write_at_once(app, user_id: int) -> None:
    """Write through a second connection to the database file that never waits for the
    lock: it fails ("database is locked") while anyone holds SQLite's write lock."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET phone = '+32 9 000 00 00' WHERE id = ?", (user_id,))
        other.execute("COMMIT")
    finally:
        other.close()


@pytest.mark.sqlite
def test_a_role_change_is_one_unit_and_leaves_no_lock_behind(open_app):
    """Granting and removing a role each commit once, with their audit entry, when the
    request ends: the next writer writes at once, it does not wait for the admin."""
    app = open_app("sqlite")
    app.test_client_class = IsolatedClient
    make = Factory()
    admin, person, cluster = make.admin(), make.user(), make.partner(short_name="SCN")
    admin_id, person_id, cluster_id = admin.id, person.id, cluster.id
    _db.session.commit()
    client = app.test_client()
    login(client, admin)

    def grants() -> list[tuple[Role, int | None]]:
        _db.session.commit()  # a fresh snapshot, and no read transaction left open
        found = [(g.role, g.partner_id) for g in _db.session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == person_id))]
        _db.session.commit()
        return found

    response = post(client, f"/admin/users/{person_id}/grants",
                    {"grant-role": "partner_manager", "grant-partner_id": str(cluster_id)},
                    prefix="grant")
    assert response.status_code == 302
    _write_at_once(app, person_id)
    assert grants() == [(Role.PARTNER_MANAGER, cluster_id)]

    grant_id = _db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == person_id))
    _db.session.commit()
    response = confirm(client, f"/admin/users/{person_id}/grants/{grant_id}/delete")
    assert response.status_code == 302
    _write_at_once(app, admin_id)
    assert grants() == []
    assert _db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.startswith("user.")).order_by(AuditEntry.id)).all() == [
        "user.granted", "user.grant_removed"]


def test_a_grant_of_another_user_is_not_found_under_this_one(db, make, login_as, admin, cluster):
    person, other = make.user(), make.manager(cluster)
    client = login_as(admin)
    path = f"/admin/users/{person.id}/grants/{other.grants[0].id}/delete"
    assert client.get(path).status_code == 404
    assert post(client, path, {}).status_code == 404


# --------------------------------------------------------------------------- audit log


def _entries(html: str) -> int:
    return html.count('data-testid="audit-entry"')


def test_the_audit_log_shows_an_event_update_with_its_changes(db, make, login_as, admin, cluster):
    event = make.event(organizers=[cluster], title="Mission to Boston", capacity=10)
    client = login_as(admin)
    details = EventIn.from_values(
        kind=event.kind, title="Mission to Boston 2027", timezone=event.timezone,
        starts_local=event.starts_at.astimezone(event.zone).replace(tzinfo=None),
        ends_local=event.ends_at.astimezone(event.zone).replace(tzinfo=None),
        target_country=event.target_country, target_city=event.target_city,
        organizer_ids=[cluster.id], slug=event.slug, capacity=12,
    )
    with unit.of_work("test"):
        events.update(admin, event, details)
    html = client.get("/admin/audit?action=event.").get_data(as_text=True)
    assert _entries(html) == 1
    assert "<code>event.updated</code>" in html
    assert "Mission to Boston</span> → <span data-new>Mission to Boston 2027" in html
    assert "<span data-old>10</span> → <span data-new>12</span>" in html
    assert "coordinator@example.org" in html


def test_the_audit_log_filters_and_lists_newest_first(db, make, login_as, admin, cluster):
    other_admin = make.admin(email="second@example.org")
    first = make.event(organizers=[cluster], title="First", status=EventStatus.DRAFT)
    second = make.event(organizers=[cluster], title="Second", status=EventStatus.DRAFT)
    events.publish(admin, first.id)
    db.session.commit()  # each change is its own unit, as when admins click
    events.close(other_admin, first.id)
    db.session.commit()
    users.deactivate(admin, make.user())
    old = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.published"))
    old.created_at = utcnow() - timedelta(days=40)
    db.session.flush()
    client = login_as(admin)

    html = client.get("/admin/audit").get_data(as_text=True)
    assert _entries(html) == 3
    assert html.index('data-action="user.deactivated"') < html.index('data-action="event.closed"')
    assert _entries(client.get("/admin/audit?actor=second@").get_data(as_text=True)) == 1
    assert _entries(client.get("/admin/audit?subject_type=user").get_data(as_text=True)) == 1
    assert _entries(client.get(f"/admin/audit?event_id={first.id}").get_data(as_text=True)) == 2
    assert _entries(client.get(f"/admin/audit?event_id={second.id}").get_data(as_text=True)) == 0
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert _entries(client.get(f"/admin/audit?since={since}").get_data(as_text=True)) == 2
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    html = client.get(f"/admin/audit?until={until}").get_data(as_text=True)
    assert _entries(html) == 1 and 'data-action="event.published"' in html
    # "_" and "%" are literal characters of the prefix, not patterns.
    assert _entries(client.get("/admin/audit?action=%25").get_data(as_text=True)) == 0


def test_audit_times_say_their_zone(db, make, login_as, admin):
    users.deactivate(admin, make.user())
    db.session.commit()
    html = login_as(admin).get("/admin/audit").get_data(as_text=True)
    assert f"{datetime.now().year}" in html and "(UTC)" in html and "UTC+0" not in html

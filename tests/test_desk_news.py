"""What is new on the desk: the applications that arrived since a manager last opened it,
marked on the desk and counted in the navigation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import before_render_template
from sqlalchemy import select

from tests.conftest import IsolatedClient, count_queries, login
from tests.factories import Factory
from tests.test_unit import _can_write_now, _other_writer
from webapp.extensions import db as _db
from webapp.models import RegistrationStatus as S
from webapp.models import User, utcnow
from webapp.services import registrations

NAV_BADGE = re.compile(r'data-testid="nav-desk-new"><span aria-hidden="true">(\d+)</span>'
                       r'<span class="visually-hidden">([^<]+)</span>')
NEW_ROW = re.compile(r'<tr data-registration="(\d+)">(?:(?!</tr>).)*data-testid="new-application"',
                     re.S)


def nav_count(html: str) -> int:
    """The number on the Desk link, checked against its spoken label (0: no badge)."""
    match = NAV_BADGE.search(html)
    if match is None:
        return 0
    number = int(match.group(1))
    plural = "" if number == 1 else "s"
    assert match.group(2) == f"{number} new application{plural}"
    return number


def is_news_count(statement: str) -> bool:
    """Whether a statement counts a user's waiting applications (the navigation's)."""
    return "count(*)" in statement and "registrations.status =" in statement


def marked_new(html: str) -> set[int]:
    return {int(reg_id) for reg_id in NEW_ROW.findall(html)}


def seen_at(user):
    return _db.session.scalar(select(User.desk_seen_at).where(User.id == user.id))


@pytest.fixture
def clusters(make):
    """Cluster A's manager and member companies, cluster B's, and a mission organized by
    neither, where both clusters' members apply."""
    a, b = make.partner(short_name="Alpha"), make.partner(short_name="Bravo")
    return dict(
        a=a, b=b, manager=make.manager(a, name="Maria Alpha"),
        company_a=make.organization(a), company_b=make.organization(b),
        mission=make.event(organizers=[make.partner()], title="Boston mission"),
    )


def apply(make, clusters, cluster="a", *path: S):
    member = make.user(clusters[f"company_{cluster}"])
    return make.registration(clusters["mission"], member, *(path or (S.SUBMITTED,)))


def test_manager_sees_new_applications_counted_marked_then_seen(login_as, make, clusters):
    manager = clusters["manager"]
    manager.desk_seen_at = utcnow() - timedelta(days=1)
    old = apply(make, clusters)
    old.applied_at = manager.desk_seen_at - timedelta(hours=1)  # before the last visit
    first, second = apply(make, clusters), apply(make, clusters)
    _db.session.flush()
    client = login_as(manager)

    assert nav_count(client.get("/account/registrations").get_data(as_text=True)) == 2
    desk = client.get("/desk/").get_data(as_text=True)
    assert marked_new(desk) == {first.id, second.id}
    assert f'data-registration="{old.id}"' in desk  # listed, but not new
    assert "2 applications awaiting a decision are new since your last visit." in desk

    # The visit is recorded: the news is seen, and a new arrival is new again.
    assert seen_at(manager) > second.applied_at
    assert nav_count(client.get("/account/registrations").get_data(as_text=True)) == 0
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == set()
    third = apply(make, clusters)
    assert nav_count(client.get("/events").get_data(as_text=True)) == 1
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == {third.id}


def test_never_opened_desk_makes_every_waiting_application_new(login_as, make, clusters):
    waiting = apply(make, clusters)
    apply(make, clusters, "a", S.SUBMITTED, S.APPROVED)  # decided: not news any more
    apply(make, clusters, "a", S.SUBMITTED, S.WITHDRAWN)
    client = login_as(clusters["manager"])
    assert nav_count(client.get("/events").get_data(as_text=True)) == 1
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == {waiting.id}


def test_another_clusters_applications_never_count(login_as, make, clusters):
    apply(make, clusters, "b")
    apply(make, clusters, "b")
    mine = apply(make, clusters, "a")
    client = login_as(clusters["manager"])
    assert nav_count(client.get("/events").get_data(as_text=True)) == 1
    desk = client.get("/desk/").get_data(as_text=True)
    assert marked_new(desk) == {mine.id}
    # Bravo's manager has their own news, untouched by Alpha's visit.
    bravo = login_as(make.manager(clusters["b"]))
    assert nav_count(bravo.get("/events").get_data(as_text=True)) == 2


def test_applying_again_after_withdrawing_is_new_again(login_as, make, clusters):
    reg = apply(make, clusters, "a", S.SUBMITTED, S.WITHDRAWN)
    manager = clusters["manager"]
    manager.desk_seen_at = utcnow()
    _db.session.flush()
    client = login_as(manager)
    assert nav_count(client.get("/events").get_data(as_text=True)) == 0
    registrations.apply(reg.user, reg.event_id, profile_consent=True, actor=reg.user)
    assert nav_count(client.get("/events").get_data(as_text=True)) == 1
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == {reg.id}


def test_a_filtered_desk_marks_the_news_but_leaves_it_new(login_as, make, clusters):
    first, second = apply(make, clusters), apply(make, clusters)
    client = login_as(clusters["manager"])
    html = client.get("/desk/?status=approved").get_data(as_text=True)
    assert "None of them is on this page." in html
    assert "They stay new until you open the desk without filters." in html
    html = client.get(f"/desk/?event={clusters['mission'].id}").get_data(as_text=True)
    assert marked_new(html) == {first.id, second.id}
    assert seen_at(clusters["manager"]) is None
    assert nav_count(client.get("/events").get_data(as_text=True)) == 2
    # Sorting is no filter: the whole list is the visit.
    assert marked_new(client.get("/desk/?sort=name").get_data(as_text=True)) == {
        first.id, second.id}
    assert nav_count(client.get("/events").get_data(as_text=True)) == 0


def test_hosts_members_and_visitors_see_no_count_and_cost_no_query(client, login_as, make,
                                                                   clusters):
    beachhead = make.beachhead()
    clusters["mission"].hosts = [beachhead]
    apply(make, clusters, "a", S.SUBMITTED, S.APPROVED)  # a delegate the host sees
    apply(make, clusters)
    people = {"host": make.host(beachhead), "member": make.user(clusters["company_a"]),
              "visitor": None}
    for who, user in people.items():
        client.delete_cookie("session")
        if user is not None:
            login_as(user)
        with count_queries() as statements:
            html = client.get("/events").get_data(as_text=True)
        assert nav_count(html) == 0 and "nav-desk-new" not in html, who
        assert not [s for s in statements if is_news_count(s)], who
    # The host's desk lists their delegates, none of them marked.
    client.delete_cookie("session")
    login_as(people["host"])
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == set()


def test_the_count_costs_managers_one_query_whatever_the_rows(login_as, make, clusters):
    client = login_as(clusters["manager"])
    client.get("/events")
    with count_queries() as few:
        html = client.get("/events").get_data(as_text=True)
    assert nav_count(html) == 0
    for _ in range(30):
        apply(make, clusters)
    with count_queries() as many:
        html = client.get("/events").get_data(as_text=True)
    assert nav_count(html) == 30
    assert len(many) == len(few)
    assert len([s for s in many if is_news_count(s)]) == 1


def test_the_desk_with_news_costs_the_same_whatever_the_rows(rendering, login_as, make, clusters):
    client = login_as(clusters["manager"])
    apply(make, clusters)
    with count_queries() as few:
        assert len(marked_new(client.get("/desk/").get_data(as_text=True))) == 1
    for _ in range(40):
        apply(make, clusters)
    with count_queries() as many:
        assert len(marked_new(client.get("/desk/?per_page=100").get_data(as_text=True))) == 40
    assert len(many) == len(few)
    assert sum(s.lstrip().startswith("UPDATE users") for s in many) == 1


# --------------------------------------------------------------------------- the write


@pytest.fixture
def committed_desk(open_app):
    """A committed SQLite app that waits briefly for its lock, with a manager whose cluster
    has two new applications, and the manager's client."""
    app = open_app("sqlite", SQLITE_BUSY_TIMEOUT_MS=200)
    app.test_client_class = IsolatedClient
    make = Factory()
    cluster = make.partner()
    manager = make.manager(cluster)
    event = make.event(organizers=[make.partner()])
    regs = [make.registration(event, make.user(make.organization(cluster))) for _ in range(2)]
    _db.session.commit()
    client = app.test_client()
    login(client, manager)
    ids = {reg.id for reg in regs}, manager.id
    _db.session.remove()
    return app, client, *ids


def _seen_at(user_id):
    _db.session.remove()  # a fresh snapshot of what the requests committed
    return _db.session.scalar(select(User.desk_seen_at).where(User.id == user_id))


def test_a_refused_visit_still_shows_the_desk_and_keeps_the_news(committed_desk):
    app, client, new_ids, manager_id = committed_desk
    holder = _other_writer(app)
    holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock past the busy timeout
    try:
        response = client.get("/desk/")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 200
    assert marked_new(response.get_data(as_text=True)) == new_ids
    assert _seen_at(manager_id) is None
    # Nothing is lost: the next visit shows the same news and is recorded.
    assert nav_count(client.get("/events").get_data(as_text=True)) == 2
    assert marked_new(client.get("/desk/").get_data(as_text=True)) == new_ids
    assert _seen_at(manager_id) is not None
    assert nav_count(client.get("/events").get_data(as_text=True)) == 0


def test_recording_the_visit_holds_no_lock_while_the_page_renders(committed_desk):
    app, client, _new_ids, manager_id = committed_desk
    free_while_rendering: list[bool] = []

    def rendering(sender, template, context, **extra):
        if template.name == "desk/index.html":
            free_while_rendering.append(_can_write_now(app))

    before_render_template.connect(rendering, app)
    try:
        response = client.get("/desk/")
    finally:
        before_render_template.disconnect(rendering, app)
    assert response.status_code == 200
    assert free_while_rendering == [True]
    assert _can_write_now(app)  # committed and let go
    assert _seen_at(manager_id) is not None

"""The access matrix over HTTP: every endpoint, every role, objects inside and outside scope.

A new endpoint fails `test_every_endpoint_is_in_the_matrix` until its expected statuses
are written down here.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from sqlalchemy import select

import tests.matrix
from tests.conftest import csrf_token
from tests.factories import Factory
from tests.matrix import LOGIN, ROLES, SIGNED_IN_200, Case, World, statuses
from webapp import access
from webapp.extensions import db as _db
from webapp.models import EventStatus, Registration, User
from webapp.models import RegistrationStatus as S

AREAS = [importlib.import_module(f"tests.matrix.{m.name}")
         for m in pkgutil.iter_modules(tests.matrix.__path__)]


@pytest.fixture(scope="module")
def world(app):
    """Built once per module and committed; removed at the end of the module."""
    with app.app_context():
        make = Factory()
        cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
        beachhead, other_beachhead = make.beachhead(), make.beachhead()
        event = make.event(organizers=[organizing], hosts=[beachhead])
        draft = make.event(organizers=[organizing], hosts=[beachhead], status=EventStatus.DRAFT)
        member_org, other_org = make.organization(cluster_a), make.organization(cluster_a)
        users = {
            "member": make.user(member_org, name="Anna Member"),
            "other_member": make.user(other_org, name="Olaf Other"),
            "manager_a": make.manager(cluster_a),
            "manager_b": make.manager(cluster_b),
            "organizer": make.manager(organizing),
            "host": make.host(beachhead),
            "other_host": make.host(other_beachhead),
            "admin": make.admin(),
        }
        applicant_b = make.user(make.organization(cluster_b), name="Bea Applicant")
        own = make.registration(event, users["member"], S.SUBMITTED, S.APPROVED,
                                actor=users["manager_a"])
        other = make.registration(event, applicant_b, S.SUBMITTED)
        base = dict(cluster_a=cluster_a, cluster_b=cluster_b, organizing=organizing,
                    beachhead=beachhead, other_beachhead=other_beachhead, event=event,
                    draft=draft, member_org=member_org, other_org=other_org)
        extra = {}
        for area in AREAS:
            if hasattr(area, "build"):
                extra.update(area.build(make, users, base))
        _db.session.commit()
        result = World(
            users={role: u.get_id() for role, u in users.items()},
            user_ids={role: u.id for role, u in users.items()},
            event_slug=event.slug, draft_slug=draft.slug, own_reg=own.id, other_reg=other.id,
            names={"own": users["member"].name, "other": applicant_b.name},
            ids={name: obj.id for name, obj in base.items()},
            extra=extra,
        )
        _db.session.remove()
    yield result
    with app.app_context(), _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


CASES = [
    Case("static", "stylesheet", "GET", lambda w: "/static/css/beachhead.css", statuses(200)),
    Case("public.index", "home", "GET", lambda w: "/", statuses(200)),
    Case("public.events", "list", "GET", lambda w: "/events", statuses(200)),
    Case("public.events", "past, bad filter", "GET", lambda w: "/events?when=past&kind=x&page=-3",
         statuses(200)),
    Case("public.event_detail", "published", "GET", lambda w: f"/events/{w.event_slug}",
         statuses(200)),
    Case("public.event_detail", "draft", "GET", lambda w: f"/events/{w.draft_slug}",
         statuses(404, organizer=200, admin=200)),
    Case("public.event_detail", "unknown", "GET", lambda w: "/events/no-such-event", statuses(404)),
    Case("auth.login", "form", "GET", lambda w: "/login", statuses(302, anonymous=200)),
    Case("auth.login", "wrong password", "POST", lambda w: "/login", statuses(200),
         data=lambda w: {"email": "nobody@example.org", "password": "wrong"}),
    Case("auth.logout", "sign out", "POST", lambda w: "/logout", statuses(302)),
    Case("account.registrations_list", "mine", "GET", lambda w: "/account/registrations",
         SIGNED_IN_200),
    Case("account.registration", "own", "GET",
         lambda w: f"/account/registrations/{w.own_reg}",
         statuses(404, anonymous=LOGIN, member=200)),
    Case("account.registration", "someone else's", "GET",
         lambda w: f"/account/registrations/{w.other_reg}", statuses(404, anonymous=LOGIN)),
    Case("account.registration", "unknown", "GET", lambda w: "/account/registrations/999999",
         statuses(404, anonymous=LOGIN)),
    Case("account.withdraw", "own", "POST",
         lambda w: f"/account/registrations/{w.own_reg}/withdraw",
         statuses(404, anonymous=LOGIN, member=302), data=lambda w: {"reason": ""}),
    Case("account.withdraw", "someone else's", "POST",
         lambda w: f"/account/registrations/{w.other_reg}/withdraw",
         statuses(404, anonymous=LOGIN), data=lambda w: {"reason": ""}),
]


CASES += [case for area in AREAS for case in area.CASES]


def test_every_endpoint_is_in_the_matrix(app):
    covered = {case.endpoint for case in CASES}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - covered == set(), "add the new endpoints to CASES"


def test_every_endpoint_declares_its_access_rule(app):
    undeclared = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "access_rule")
    ]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.endpoint}[{c.label}]")
def test_access(client, world, case, role):
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = world.users[role]
            session["_fresh"] = True
    data = None
    if case.method == "POST":
        form_page = "/login" if role == "anonymous" else "/"
        data = dict(case.data(world) if case.data else {}, csrf_token=csrf_token(client, form_page))
    response = client.open(case.path(world), method=case.method, data=data)
    expected = case.expected[role]
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == expected, (
            f"{role} {case.method} {case.path(world)}: {response.status_code}"
        )


def test_desk_lists_only_the_registrations_in_scope(client, world):
    cases = {
        "manager_a": {world.names["own"]},
        "manager_b": {world.names["other"]},
        "organizer": {world.names["own"], world.names["other"]},
        "host": {world.names["own"]},  # approved delegates only
        "other_host": set(),
        "admin": {world.names["own"], world.names["other"]},
    }
    for role, visible in cases.items():
        with client.session_transaction() as session:
            session["_user_id"] = world.users[role]
        html = client.get("/desk/").get_data(as_text=True)
        shown = {name for name in world.names.values() if name in html}
        assert shown == visible, role


def test_scoped_query_matches_the_policy_for_every_role(db, world):
    for role in ROLES[1:]:
        user = db.session.get(User, world.user_ids[role])
        listed = set(db.session.scalars(
            access.registrations_visible_to(user).with_only_columns(Registration.id)))
        allowed = {
            reg.id for reg in db.session.scalars(select(Registration))
            if access.can(user, "registration.view", reg)
        }
        assert listed == allowed, role


def test_decidable_registrations_match_the_decide_rule_for_every_role(db, world):
    """The one scope of deciding: the query every page, export and mail starts from
    agrees with `registration.decide` on each registration, for each role."""
    for role in ROLES[1:]:
        user = db.session.get(User, world.user_ids[role])
        listed = set(db.session.scalars(
            access.decidable_registrations(user).with_only_columns(Registration.id)))
        allowed = {reg.id for reg in db.session.scalars(select(Registration))
                   if access.can(user, "registration.decide", reg)}
        assert listed == allowed, role


def test_the_registrations_a_manager_answers_for_are_those_they_are_alerted_to(db, world):
    """`decidable_registrations(responsible=True)` (the digest) and the alerts one by one
    (`registration_mail.deciders`) are one rule seen from either side."""
    from webapp.services import registration_mail

    registrations = db.session.scalars(select(Registration)).all()
    for role in ROLES[1:]:
        user = db.session.get(User, world.user_ids[role])
        answered = set(db.session.scalars(access.decidable_registrations(
            user, responsible=True).with_only_columns(Registration.id)))
        alerted = {reg.id for reg in registrations
                   if user.id in {m.id for m in registration_mail.deciders(reg)}}
        assert alerted <= answered, role
        # Both sides agree, but for the applicant's own application.
        assert answered - alerted <= {reg.id for reg in registrations
                                      if reg.user_id == user.id}, role


def test_anonymous_sees_no_registration(db, world):
    from flask_login import AnonymousUserMixin

    anonymous = AnonymousUserMixin()
    assert db.session.scalars(access.registrations_visible_to(anonymous)).all() == []
    assert not access.can(anonymous, "desk.use")




def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        access.can(None, "event.teleport")
    with pytest.raises(ValueError, match="unknown action"):
        access.requires("event.teleport")

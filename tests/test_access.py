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
from webapp.models import Event, EventStatus, Registration, SurveyResponse, User
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
    Case("language.follow", "a visitor's switch", "GET", lambda w: "/language/fr?next=/events",
         statuses(302)),
    Case("language.follow", "not offered", "GET", lambda w: "/language/xx", statuses(302)),
    Case("language.choose", "a signed-in switch", "POST", lambda w: "/language",
         statuses(302, anonymous=LOGIN), data=lambda w: {"language": "en", "next": "/"}),
    Case("account.registrations_list", "mine", "GET", lambda w: "/account/registrations",
         SIGNED_IN_200),
    Case("account.registration", "own", "GET",
         lambda w: f"/account/registrations/{w.own_reg}",
         statuses(404, anonymous=LOGIN, member=200)),
    Case("account.registration", "someone else's", "GET",
         lambda w: f"/account/registrations/{w.other_reg}", statuses(404, anonymous=LOGIN)),
    Case("account.registration", "unknown", "GET", lambda w: "/account/registrations/999999",
         statuses(404, anonymous=LOGIN)),
    Case("account.withdraw", "own, confirmation", "GET",
         lambda w: f"/account/registrations/{w.own_reg}/withdraw",
         statuses(404, anonymous=LOGIN, member=200)),
    Case("account.withdraw", "someone else's, confirmation", "GET",
         lambda w: f"/account/registrations/{w.other_reg}/withdraw",
         statuses(404, anonymous=LOGIN)),
    # Without the confirmation page's token nothing is withdrawn.
    Case("account.withdraw", "own, unconfirmed", "POST",
         lambda w: f"/account/registrations/{w.own_reg}/withdraw",
         statuses(404, anonymous=LOGIN, member=400), data=lambda w: {"reason": ""}),
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


# Rules outside the policy's actions: the API's tokens (walked by tests/test_api_access.py;
# a browser's cookies never reach it: 401) and the health details' monitoring token.
TOKEN_RULES = {"api-token", "api-token:write", "admin.use or HEALTH_TOKEN"}


# Endpoints whose object check is still inside the view, each with the reason.
CHECKED_INSIDE = {
    # The badge's code is read leniently (spaces, a scanned URL) and the door's staff are
    # told why a code finds nobody; `event.checkin` on the badge's event, 404 otherwise.
    "checkin.badge": "badge code looked up and explained inside",
    "checkin.record": "badge code looked up and explained inside",
    # The member and the event are in the form, not the URL: outside the manager's
    # scope (access.members_applicable_on_behalf_by) they look like unknown ids.
    "desk.apply_on_behalf": "the objects are in the form body",
}


def _declared(view) -> access.Declared:
    return access.declared_rule(view) or access.Declared(view.access_rule)


def test_every_declared_rule_names_known_actions(app):
    unknown = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        declared = _declared(view)
        names = [declared.action, declared.first, declared.visible]
        if any(name is not None and name not in access.ACTIONS | {"public", "link", "login"}
               | TOKEN_RULES for name in names):
            unknown.append((endpoint, declared))
    assert unknown == []


def _refusal(declared: access.Declared, user, view_args: dict):
    """The refusal `declared` promises `user` on the URL of `view_args` (LOGIN, 401, 403
    or 404), or None when it lets them through."""
    if declared.action in ("public", "link"):
        return None  # a link's own refusals are the same for every role (below)
    if declared.action in TOKEN_RULES:
        return None if declared.action.startswith("admin.use") and access.can(
            user, "admin.use") else 401
    if declared.signed_in and not getattr(user, "is_authenticated", False):
        return LOGIN
    if declared.action == "login":
        return None
    if declared.model is None:
        return None if access.can(user, declared.action) else 403
    if declared.first is not None and not access.can(user, declared.first):
        return 403
    target = access.load(declared.model, view_args[declared.id_arg], declared.by)
    if target is None or (declared.visible and not access.can(user, declared.visible, target)):
        return 404
    if not access.can(user, declared.action, target):
        return 403 if declared.visible else 404
    return None


@pytest.mark.parametrize("role", ROLES)
def test_each_endpoint_enforces_the_rule_it_declares(app, db, world, role):
    """Read against the matrix (which `test_access` checks over HTTP): a declared rule
    refuses exactly where, and as, the matrix says; where it lets a role through, the
    endpoint refuses nothing more for want of a permission: no 403, no sign-in, and a
    404 only where admins get one too (a missing object: a session of another event)."""
    from flask_login import AnonymousUserMixin

    user = (AnonymousUserMixin() if role == "anonymous"
            else db.session.get(User, world.user_ids[role]))
    urls = app.url_map.bind("localhost")
    wrong = []
    for case in CASES:
        if case.endpoint == "static":
            continue
        endpoint, view_args = urls.match(case.path(world).partition("?")[0],
                                         method=case.method)
        declared = _declared(app.view_functions[endpoint])
        refusal = _refusal(declared, user, view_args)
        expected = case.expected[role]
        if case.endpoint in CHECKED_INSIDE and expected == 404:
            continue
        if declared.action == "link":
            refused = expected != case.expected["anonymous"]
        elif refusal is not None:
            refused = expected != refusal
        else:  # a 404 is a missing object only when it is missing for admins too
            refused = expected in (LOGIN, 401, 403) or (
                expected == 404 and case.expected["admin"] != 404)
        if refused:
            wrong.append(f"{case.endpoint}[{case.label}]: declares {declared}, which "
                         f"means {refusal or 'no refusal'}; the matrix says {expected}")
    assert not wrong, "\n".join(wrong)


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_write_endpoint_declares_its_input_model(app):
    from webapp import inputs

    undeclared = sorted({
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.methods & WRITES
        and inputs.declared_input(app.view_functions[rule.endpoint]) is None
    })
    assert undeclared == [], "declare them with @inputs.takes(...)"


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
        # Each searched for by its last word (the world's other events fill more than a
        # page); the whole name is in the page only where its row is.
        shown = {name for name in world.names.values()
                 if name in client.get("/desk/", query_string={"q": name.split()[-1]})
                 .get_data(as_text=True)}
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


def test_readable_survey_answers_match_the_read_rule_for_every_role(db, world):
    """`survey_response.view` (one answer's page) and `survey_responses_visible_to` (the
    lists) are one rule."""
    responses = db.session.scalars(select(SurveyResponse)).all()
    assert responses  # the surveys' part of the matrix made some
    for role in ROLES[1:]:
        user = db.session.get(User, world.user_ids[role])
        listed = set(db.session.scalars(
            access.survey_responses_visible_to(user).with_only_columns(SurveyResponse.id)))
        allowed = {found.id for found in responses
                   if access.can(user, "survey_response.view", found)}
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
    with pytest.raises(ValueError, match="unknown action"):
        access.requires_on("event.teleport", Event, "event_id")

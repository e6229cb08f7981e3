"""Confirming an admin's destructive actions on accounts: deactivating one, removing a
role. Each page says what will happen; going back changes nothing, confirming acts once,
and a missing, forged, stale, used or borrowed token changes nothing.

The last two checks are the ones every confirmed action passes (tests/test_confirmations.py),
run here on this module's scenes."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from tests.confirming import confirm
from tests.test_confirmations import (  # noqa: F401  (run here on this module's scenes)
    Scene,
    _changes,
    _fresh,
    _go_back,
    test_a_bad_token_is_refused_clearly_and_changes_nothing,
    test_going_back_then_confirming_acts_once,
)
from webapp.models import RegistrationStatus as S
from webapp.models import RoleGrant, User


def _deactivate(db, make) -> Scene:
    person = make.user(name="Piet Person")
    make.registration(make.event(), person)  # submitted
    path = f"/admin/users/{person.id}/deactivate"
    return Scene(make.admin(), lambda c: c.get(path), "user.deactivate", person.id,
                 "Piet Person is signed out everywhere at once and can no longer sign in.",
                 lambda: not _fresh(db, User, person.id).active)


def _grant_scene(db, make, holder: User, says: str) -> Scene:
    grant_id = holder.grants[0].id
    path = f"/admin/users/{holder.id}/grants/{grant_id}/delete"
    return Scene(make.admin(), lambda c: c.get(path), "grant.remove", grant_id, says,
                 lambda: _fresh(db, RoleGrant, grant_id) is None, again=404)  # it is gone


def _remove_manager(db, make) -> Scene:
    cluster = make.partner(name="Smart City Nord")
    return _grant_scene(db, make, make.manager(cluster, name="Mette Manager"),
                        "Mette Manager no longer decides the applications Smart City Nord is "
                        "responsible for, nor sees those delegates' contact details.")


def _remove_host(db, make) -> Scene:
    beachhead = make.beachhead(name="Beachhead Boston")
    return _grant_scene(db, make, make.host(beachhead, name="Hanna Host"),
                        "Hanna Host no longer sees the delegations of the events Beachhead "
                        "Boston hosts")


def _remove_admin(db, make) -> Scene:
    return _grant_scene(db, make, make.admin(name="Otto Other"),
                        "Otto Other no longer administers Beachhead")


SCENES = [_deactivate, _remove_manager, _remove_host, _remove_admin]


@pytest.fixture(params=SCENES, ids=lambda scene: scene.__name__.strip("_"))
def scene(request, db, make) -> Scene:
    built = request.param(db, make)
    db.session.commit()
    return built


def _page(client, scene: Scene) -> str:
    response = scene.ask(client)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_page_says_what_will_happen_and_going_back_changes_nothing(
        db, client, login_as, scene):
    login_as(scene.user)
    before = _changes(db)
    page = scene.ask(client)
    assert scene.says in html.unescape(page.get_data(as_text=True))
    _go_back(client, page.get_data(as_text=True))
    assert not scene.done() and _changes(db) == before


def test_deactivating_says_what_becomes_of_tokens_and_applications(
        db, make, client, login_as):
    scene = _deactivate(db, make)
    db.session.commit()
    page = _page(login_as(scene.user), scene)
    assert "Their API tokens are refused while the account is deactivated; they are not " \
           "revoked." in page
    assert "none is withdrawn or cancelled, and nobody is mailed" in page
    assert "Their 1 pending application (submitted or on a waiting list) still awaits a " \
           "decision." in page
    assert "This can be undone: reactivating lets them sign in again" in page


def test_a_person_without_pending_applications_is_not_told_of_any(db, make, client, login_as):
    person = make.user()
    make.registration(make.event(), person, S.SUBMITTED, S.REJECTED)
    admin = make.admin()
    db.session.commit()
    page = login_as(admin).get(f"/admin/users/{person.id}/deactivate").get_data(as_text=True)
    assert "stay as they are" in page and "pending application" not in page


def test_an_account_already_deactivated_has_nothing_to_confirm(db, make, client, login_as):
    person = make.user(name="Piet Person")
    person.active = False
    admin = make.admin()
    db.session.commit()
    response = login_as(admin).get(f"/admin/users/{person.id}/deactivate")
    assert response.status_code == 302
    assert "Piet Person is already deactivated." in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_removing_a_role_names_it_and_what_stays(db, make, client, login_as):
    scene = _remove_manager(db, make)
    db.session.commit()
    page = _page(login_as(scene.user), scene)
    assert "Mette Manager: Partner manager (Smart City Nord)" in page
    assert "They no longer manage the events Smart City Nord organizes" in page
    assert "their account and any other role they hold stay as they are" in page
    assert "To undo it, grant the role again." in page


def test_removing_another_admin_says_an_admin_remains(db, make, client, login_as):
    scene = _remove_admin(db, make)
    db.session.commit()
    page = _page(login_as(scene.user), scene)
    assert "You keep your own admin role, so Beachhead is never left without an admin." in page


def test_the_user_page_links_to_the_confirmations_and_posts_no_action(
        db, make, client, login_as):
    cluster = make.partner()
    person = make.manager(cluster)
    admin = make.admin()
    db.session.commit()
    grant_id = db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == person.id))
    page = login_as(admin).get(f"/admin/users/{person.id}").get_data(as_text=True)
    for path in (f"/admin/users/{person.id}/deactivate",
                 f"/admin/users/{person.id}/grants/{grant_id}/delete"):
        assert f'href="{path}"' in page and f'action="{path}"' not in page
    assert confirm(client, f"/admin/users/{person.id}/grants/{grant_id}/delete"
                   ).status_code == 302

"""Confirming the other destructive actions (webapp/confirmations.py): merging an
organization, a member withdrawing their application, resetting the personal calendar
link. Each runs the checks of tests/test_confirmations.py on its own scenes (going back
changes nothing, confirming acts once, a bad token changes nothing), and what only it
has: the organization confirmed is the one merged into, the page says what the
application's status means."""

from __future__ import annotations

import pytest

from tests.confirming import confirm
from tests.conftest import csrf_token
from tests.test_confirmations import (  # run here on the scenes below
    Scene,
    _changes,
    _fresh,
    test_a_bad_token_is_refused_clearly_and_changes_nothing,
    test_going_back_then_confirming_acts_once,
    test_the_page_says_what_will_happen_and_going_back_changes_nothing,
)
from webapp.models import Organization, Registration, User
from webapp.models import RegistrationStatus as S

CHECKS = (test_the_page_says_what_will_happen_and_going_back_changes_nothing,
          test_going_back_then_confirming_acts_once,
          test_a_bad_token_is_refused_clearly_and_changes_nothing)


def _choose(client, duplicate: Organization, into: Organization):
    """The merge form sent with `into` chosen: it answers with the confirmation."""
    path = f"/organizations/{duplicate.id}/merge"
    return client.post(path, data={"into": into.id, "confirm": "y",
                                   "csrf_token": csrf_token(client, path)})


def _merge(db, make) -> Scene:
    cluster = make.partner()
    duplicate = make.organization(cluster, name="Aalborg Sensorik")
    into = make.organization(cluster, name="Aalborg Sensorik ApS")
    make.registration(make.event(), make.user(duplicate))
    duplicate_id = duplicate.id
    return Scene(make.manager(cluster), lambda c: _choose(c, duplicate, into),
                 f"organization.merge:{into.id}", duplicate_id,
                 "1 member of Aalborg Sensorik moves to Aalborg Sensorik ApS.",
                 lambda: _fresh(db, Organization, duplicate_id) is None,
                 again=404)  # the duplicate is gone


def _withdraw(db, make) -> Scene:
    event = make.event(capacity=1)
    member = make.user()
    reg = make.registration(event, member, S.SUBMITTED, S.APPROVED)
    make.registration(event, make.user(), S.SUBMITTED, S.WAITLISTED)
    path = f"/account/registrations/{reg.id}/withdraw"
    return Scene(member, lambda c: c.get(path), "registration.withdraw", reg.id,
                 "Your seat is released: it goes to the next on the waiting list",
                 lambda: _fresh(db, Registration, reg.id).status == S.WITHDRAWN,
                 fields={"reason": "Our plans changed."})


def _calendar_reset(db, make) -> Scene:
    member = make.user()
    return Scene(member, lambda c: c.get("/account/calendar/reset"), "calendar_feed.reset",
                 member.id, "The old link stops working at once, in every calendar that "
                 "subscribed to it", lambda: _fresh(db, User, member.id).calendar_feed_version > 1)


@pytest.fixture(params=[_merge, _withdraw, _calendar_reset],
                ids=lambda scene: scene.__name__.strip("_"))
def scene(request, db, make) -> Scene:
    built = request.param(db, make)
    db.session.commit()
    return built


# --------------------------------------------------------------------------- merging


def test_merging_says_what_moves_and_what_disappears(db, client, login_as, make):
    cluster = make.partner()
    duplicate = make.organization(cluster, name="Aalborg Sensorik")
    into = make.organization(cluster, name="Aalborg Sensorik ApS")
    first, second = make.user(duplicate), make.user(duplicate)
    for event in (make.event(), make.event()):
        make.registration(event, first)
    make.registration(make.event(), second)
    login_as(make.manager(cluster))
    html = _choose(client, duplicate, into).get_data(as_text=True)
    assert "Merge Aalborg Sensorik into Aalborg Sensorik ApS?" in html
    assert "2 members of Aalborg Sensorik move to Aalborg Sensorik ApS." in html
    assert "3 registrations of theirs move with them and stay theirs." in html
    assert "Aalborg Sensorik disappears. This cannot be undone." in html


def test_a_merge_confirmed_for_one_organization_does_not_merge_into_another(
        db, client, login_as, make):
    cluster = make.partner()
    duplicate, into, other = (make.organization(cluster) for _ in range(3))
    member = make.user(duplicate)
    login_as(make.manager(cluster))
    db.session.commit()
    before = _changes(db)
    response = confirm(client, _choose(client, duplicate, into), into=str(other.id))
    assert response.status_code == 400
    assert "not valid for this action; start again" in response.get_data(as_text=True)
    assert _fresh(db, Organization, duplicate.id) is not None
    assert _fresh(db, User, member.id).organization_id == duplicate.id
    assert _changes(db) == before


# --------------------------------------------------------------------------- withdrawing


@pytest.mark.parametrize("path, says", [
    ((S.SUBMITTED,), "Your application is no longer considered; no seat is freed."),
    ((S.SUBMITTED, S.WAITLISTED), "You leave the waiting list, and your place in it"),
])
def test_withdrawing_without_a_seat_frees_none(client, login_as, make, path, says):
    member = make.user()
    reg = make.registration(make.event(), member, *path)
    login_as(member)
    html = client.get(f"/account/registrations/{reg.id}/withdraw").get_data(as_text=True)
    assert says in html
    assert "Your seat is released" not in html
    assert "The organizers are not mailed" in html
    assert "you may apply again while registration is open" in html


def test_the_application_page_leads_to_the_confirmation(client, login_as, make):
    member = make.user()
    reg = make.registration(make.event(), member)
    login_as(member)
    html = client.get(f"/account/registrations/{reg.id}").get_data(as_text=True)
    assert f'href="/account/registrations/{reg.id}/withdraw"' in html

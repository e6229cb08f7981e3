"""Confirming destructive actions (webapp/confirmations.py): the one-time token each
confirmation page issues and its action needs, and every destructive page wired through
it: cancelling changes nothing, confirming acts once, a bad token changes nothing."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_login import login_user
from freezegun import freeze_time
from sqlalchemy import func, select

from webapp import confirmations
from webapp.confirmations import ConfirmationRefused
from webapp.models import UsedToken, utcnow

# --------------------------------------------------------------------------- the token


@contextmanager
def signed_in(app, user):
    with app.test_request_context():
        login_user(user)
        yield


def _refusal(token, action="question.delete", target=7) -> str:
    with pytest.raises(ConfirmationRefused) as refused:
        confirmations.redeem(token, action, target)
    return refused.value.reason


def _uses(db) -> int:
    return db.session.scalar(select(func.count()).select_from(UsedToken))


def test_a_token_confirms_its_action_on_its_target_once(app, db, make):
    with signed_in(app, make.user()):
        token = confirmations.token_for("question.delete", 7)
        confirmations.redeem(token, "question.delete", 7)
        assert _refusal(token) == confirmations.USED


def test_each_page_gets_a_token_of_its_own(app, db, make):
    with signed_in(app, make.user()):
        first = confirmations.token_for("question.delete", 7)
        second = confirmations.token_for("question.delete", 7)
        assert first != second
        confirmations.redeem(first, "question.delete", 7)
        confirmations.redeem(second, "question.delete", 7)


def test_a_token_for_another_action_target_or_person_is_refused_and_stays_unused(
        app, db, make):
    owner = make.user()
    with signed_in(app, owner):
        token = confirmations.token_for("question.delete", 7)
        assert _refusal(token, action="session.delete") == confirmations.OTHER_ACTION
        assert _refusal(token, target=8) == confirmations.OTHER_TARGET
    with signed_in(app, make.user()):
        assert _refusal(token) == confirmations.OTHER_USER
    assert _uses(db) == 0
    with signed_in(app, owner):
        confirmations.redeem(token, "question.delete", 7)


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJ1c2VyIjoxfQ.forged.signature"])
def test_a_forged_or_missing_token_is_refused(app, db, make, token):
    with signed_in(app, make.user()):
        assert _refusal(token) == confirmations.FORGED
    assert _uses(db) == 0


def test_a_tampered_token_is_refused(app, db, make):
    with signed_in(app, make.user()):
        token = confirmations.token_for("question.delete", 7)
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        assert _refusal(tampered) == confirmations.FORGED


def test_a_token_goes_stale_after_half_an_hour(app, db, make):
    with signed_in(app, make.user()):
        token = confirmations.token_for("question.delete", 7)
        with freeze_time(utcnow() + timedelta(minutes=29)):
            confirmations.redeem(token, "question.delete", 7)
        token = confirmations.token_for("question.delete", 7)
        with freeze_time(utcnow() + timedelta(minutes=31)):
            assert _refusal(token) == confirmations.STALE


def test_a_rolled_back_confirmation_leaves_the_token_usable(app, db, make):
    """The token is marked used in the action's unit: an action that fails leaves it."""
    user = make.user()
    db.session.commit()
    with signed_in(app, user):
        token = confirmations.token_for("question.delete", 7)
        confirmations.redeem(token, "question.delete", 7)
        db.session.rollback()
        confirmations.redeem(token, "question.delete", 7)


def test_bulk_actions_are_bound_to_their_set_of_objects():
    assert confirmations.for_many("reject", [3, 1, 2]) == confirmations.for_many(
        "reject", [1, 2, 3, 3])
    assert confirmations.for_many("reject", [1, 2]) != confirmations.for_many("reject", [1, 3])

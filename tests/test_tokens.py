"""One-time signed links (webapp/services/tokens.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from webapp.models import utcnow
from webapp.services import tokens


def test_a_token_carries_its_payload_for_its_purpose_only(db):
    token = tokens.make("verify-email", {"user": 7})
    assert tokens.read("verify-email", token, max_age=60) == {"user": 7}
    with pytest.raises(tokens.TokenInvalid):
        tokens.read("reset-password", token, max_age=60)


def test_a_tampered_token_is_invalid(db):
    token = tokens.make("verify-email", {"user": 7})
    with pytest.raises(tokens.TokenInvalid):
        tokens.read("verify-email", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
                    max_age=60)


def test_a_token_expires(db):
    token = tokens.make("reset-password", {"user": 7})
    with freeze_time(utcnow() + timedelta(hours=1, seconds=5)), pytest.raises(tokens.TokenExpired):
        tokens.read("reset-password", token, max_age=3600)


def test_a_token_works_once(db):
    token = tokens.make("reset-password", {"user": 7})
    assert tokens.consume("reset-password", token, max_age=60) == {"user": 7}
    db.session.commit()
    with pytest.raises(tokens.TokenUsed):
        tokens.consume("reset-password", token, max_age=60)


def test_a_rolled_back_use_leaves_the_token_usable(db):
    token = tokens.make("reset-password", {"user": 7})
    tokens.consume("reset-password", token, max_age=60)
    db.session.rollback()
    assert tokens.read("reset-password", token, max_age=60) == {"user": 7}

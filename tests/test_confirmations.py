"""Confirming destructive actions (webapp/confirmations.py): the one-time token each
confirmation page issues and its action needs, and every destructive page wired through
it: cancelling changes nothing, confirming acts once, a bad token changes nothing."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask_login import login_user
from freezegun import freeze_time
from sqlalchemy import func, insert, select

from tests.api import token_for
from tests.backends import BACKENDS
from tests.confirming import confirm, confirmation_form, token_on
from tests.conftest import IsolatedClient, csrf_token, login
from tests.factories import PASSWORD, Factory
from webapp import confirmations
from webapp.confirmations import ConfirmationRefused
from webapp.extensions import db as _db
from webapp.inputs.events import QuestionIn
from webapp.models import (
    ApiToken,
    Attendance,
    AuditEntry,
    Event,
    EventSession,
    EventStatus,
    Question,
    Registration,
    UsedToken,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens, questions

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


def test_a_token_posted_twice_at_once_is_used_once(app, db, make, monkeypatch):
    """Two requests read the token as unused, then both record it: the later insert
    fails on the digest and is refused as used, and the unit can still answer."""
    user = make.user()
    with signed_in(app, user):
        token = confirmations.token_for("question.delete", 7)
        read = confirmations.tokens.read

        def read_then_lose_the_race(*args, **kwargs):
            payload = read(*args, **kwargs)
            db.session.execute(insert(UsedToken).values(
                digest=hashlib.sha256(token.encode()).hexdigest(), purpose="confirmation"))
            return payload

        monkeypatch.setattr(confirmations.tokens, "read", read_then_lose_the_race)
        assert _refusal(token) == confirmations.USED
    assert _uses(db) == 1 and _fresh(db, User, user.id) is not None


# --------------------------------------------------------------------------- the pages


@dataclass
class Scene:
    """One destructive action, ready to be asked for: who asks (`user`), how its
    confirmation page is reached (`ask`), the `action` and `target` its token names,
    what the page must say (`says`), the fields the person fills in, whether it happened
    (`done`), and what posting its spent token again answers."""

    user: User
    ask: Callable
    action: str
    target: int
    says: str
    done: Callable[[], bool]
    fields: dict = field(default_factory=dict)
    again: int = 400


def _fresh(db, model, ident):
    """The row as the database holds it now (None once deleted)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def _question_delete(db, make) -> Scene:
    organizing = make.partner()
    event = make.event(organizers=[organizing])
    question = questions.add(None, event, QuestionIn.from_values(
        kind="short_text", label="Your objectives"))
    question_id = question.id
    path = f"/admin/events/{event.id}/questions/{question_id}/delete"
    return Scene(make.manager(organizing), lambda c: c.get(path), "question.delete",
                 question_id, "nobody is mailed",
                 lambda: _fresh(db, Question, question_id) is None, again=404)  # it is gone


def _session_delete(db, make) -> Scene:
    organizing = make.partner()
    event = make.event(organizers=[organizing])
    item = make.session(event, title="Port visit")
    reg = make.registration(event, make.user(), S.SUBMITTED, S.APPROVED)
    db.session.add(Attendance(registration_id=reg.id, session_id=item.id))
    item_id = item.id
    path = f"/admin/events/{event.id}/sessions/{item_id}/delete"
    return Scene(make.manager(organizing), lambda c: c.get(path), "session.delete", item_id,
                 "1 check-in recorded at this session is deleted with it",
                 lambda: _fresh(db, EventSession, item_id) is None, again=404)


def _event_cancel(db, make) -> Scene:
    organizing = make.partner()
    event = make.event(organizers=[organizing])
    make.registration(event, make.user())
    make.registration(event, make.user(), S.SUBMITTED, S.APPROVED)
    make.registration(event, make.user(), S.SUBMITTED, S.REJECTED)
    path = f"/admin/events/{event.id}/cancel"
    return Scene(make.manager(organizing), lambda c: c.get(path), "event.cancel", event.id,
                 "2 open registrations (submitted, waiting list or approved) are cancelled, "
                 "and each applicant is mailed",
                 lambda: _fresh(db, Event, event.id).status == EventStatus.CANCELLED,
                 fields={"reason": "The venue closed."})


def _api_token_revoke(db, make) -> Scene:
    member = make.user()
    token_for(member)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    path = f"/account/api-tokens/{token.id}/revoke"
    return Scene(member, lambda c: c.get(path), "api_token.revoke", token.id,
                 "refused from its next call",
                 lambda: _fresh(db, ApiToken, token.id).revoked_at is not None)


def _account_erase(db, make) -> Scene:
    member = make.user()
    seat = make.registration(make.event(), member, S.SUBMITTED, S.APPROVED)
    make.registration(make.event(), member)
    return Scene(member, lambda c: c.get("/account/delete"), "account.erase", member.id,
                 "1 seat you hold is freed",
                 lambda: _fresh(db, User, member.id).erased_at is not None
                 and _fresh(db, Registration, seat.id).status == S.WITHDRAWN,
                 fields={"password": PASSWORD}, again=302)  # signed out: to the sign-in


def _desk(db, make):
    cluster = make.partner()
    manager = make.manager(cluster)
    event = make.event(organizers=[make.partner()])
    return manager, event, lambda: make.registration(
        event, make.user(make.organization(cluster), name=f"Applicant {make._n()}"))


def _reject(db, make) -> Scene:
    manager, _event, applicant = _desk(db, make)
    reg = applicant()
    decision = {"decision": "reject", "expected_status": "submitted", "reason": "Not an SME."}
    return Scene(manager, lambda c: c.post(f"/desk/registrations/{reg.id}/decide", data={
        **decision, "csrf_token": csrf_token(c, "/desk/")}), "registration.reject", reg.id,
        f"{reg.user.name} is mailed that the application",
        lambda: _fresh(db, Registration, reg.id).status == S.REJECTED)


def _bulk_reject(db, make) -> Scene:
    manager, _event, applicant = _desk(db, make)
    regs = [applicant(), applicant()]
    ids = [r.id for r in regs]
    return Scene(manager, lambda c: c.post("/desk/bulk", data={
        "ids": ids, "decision": "reject", "reason": "Out of scope.",
        "csrf_token": csrf_token(c, "/desk/")}),
        confirmations.for_many("registrations.reject", ids), manager.id,
        "Each of the 2 applicants below is rejected and mailed",
        lambda: all(_fresh(db, Registration, i).status == S.REJECTED for i in ids))


SCENES = [_question_delete, _session_delete, _event_cancel, _api_token_revoke,
          _account_erase, _reject, _bulk_reject]


@pytest.fixture(params=SCENES, ids=lambda scene: scene.__name__.strip("_"))
def scene(request, db, make) -> Scene:
    built = request.param(db, make)
    db.session.commit()
    return built


def _changes(db) -> int:
    """What the actions write besides the token: the audit log grows with each."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_page_says_what_will_happen_and_going_back_changes_nothing(
        db, client, login_as, scene):
    """Plain HTML, no script: the page states the consequences and offers a form that
    posts the token, and a way back."""
    login_as(scene.user)
    before = _changes(db)
    page = scene.ask(client)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert scene.says in html
    assert "cannot be undone" in html or "back means reopening" in html
    _action, fields = confirmation_form(html)
    assert {"csrf_token", "confirmation"} <= dict(fields).keys()
    _go_back(client, html)
    assert not scene.done() and _changes(db) == before


def _go_back(client, html: str) -> None:
    back = re.search(r'href="([^"]+)" data-testid="go-back"', html).group(1)
    assert client.get(back.replace("&amp;", "&")).status_code == 200


def test_going_back_then_confirming_acts_once(db, client, login_as, scene):
    login_as(scene.user)
    _go_back(client, scene.ask(client).get_data(as_text=True))
    assert not scene.done()
    page = scene.ask(client)
    assert confirm(client, page, **scene.fields).status_code == 302
    assert scene.done()
    after = _changes(db)
    again = confirm(client, page, **scene.fields)
    assert again.status_code == scene.again
    if scene.again == 400:
        assert "expired or was already used; start again" in again.get_data(as_text=True)
    assert _changes(db) == after


BAD_TOKENS = ["missing", "forged", "stale", "other_action", "other_target", "other_user"]


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_a_bad_token_is_refused_clearly_and_changes_nothing(
        app, db, make, client, login_as, scene, bad):
    login_as(scene.user)
    before = _changes(db)
    page = scene.ask(client)
    posted = dict(scene.fields)
    if bad == "missing":
        posted["confirmation"] = ""
    elif bad == "forged":
        posted["confirmation"] = token_on(page.get_data(as_text=True))[:-3] + "abc"
    elif bad != "stale":
        minted_by = make.user() if bad == "other_user" else scene.user
        db.session.commit()
        with signed_in(app, minted_by):
            posted["confirmation"] = confirmations.token_for(
                "something.else" if bad == "other_action" else scene.action,
                scene.target + 1000 if bad == "other_target" else scene.target)
    if bad == "stale":
        with freeze_time(utcnow() + timedelta(minutes=31)):
            response = confirm(client, page, **posted)
    else:
        response = confirm(client, page, **posted)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "start again" in html and "Nothing was changed." in html
    assert f'data-reason="{"forged" if bad == "missing" else bad}"' in html
    assert not scene.done() and _changes(db) == before
    assert _uses(db) == 0


# --------------------------------------------------------------------------- posted twice


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_confirmation_posted_twice_at_once_acts_once(open_app, backend):
    """A double click on the confirm button: two requests with one token, on committed
    data through their own connections. One revokes, the other is told the confirmation
    was used; one use is recorded, one audit entry written."""
    app = open_app(backend)
    app.test_client_class = IsolatedClient
    member = Factory().user()
    secret = api_tokens.create(member, "CRM", read_only=True).secret
    _db.session.commit()
    token_id = _db.session.scalar(select(ApiToken.id).where(
        ApiToken.digest == api_tokens.digest(secret)))
    clients = [app.test_client(), app.test_client()]
    login(clients[0], member)
    page = clients[0].get(f"/account/api-tokens/{token_id}/revoke")
    action, fields = confirmation_form(page.get_data(as_text=True))
    # The same browser session (its CSRF token) posting through two connections.
    clients[1].set_cookie("session", clients[0].get_cookie("session").value)
    _db.session.remove()

    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def press(index: int) -> None:
        barrier.wait(timeout=30)
        answers[index] = clients[index].post(action, data=dict(fields))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [302, 400]
    refused = next(a for a in answers if a.status_code == 400).get_data(as_text=True)
    assert "expired or was already used" in refused
    assert _db.session.scalar(select(func.count()).select_from(UsedToken)) == 1
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "api_token.revoked")) == 1

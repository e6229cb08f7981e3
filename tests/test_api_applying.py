"""The API's member and door side: applying, withdrawing, the delegation (JSON and CSV),
the badge and checking in, each through the same services as the pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api import token_for
from tests.test_api import _problem
from webapp.models import (
    Attendance,
    EventKind,
    Question,
    QuestionKind,
    Registration,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import api_tokens


@pytest.fixture
def webinar(make, db):
    cluster = make.partner()
    event = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
                       capacity=10, duration=timedelta(hours=2))
    question = Question(event=event, kind=QuestionKind.SHORT_TEXT, label="Your role?",
                        required=True)
    db.session.add(question)
    member = make.user(make.organization(cluster))
    db.session.commit()
    return dict(event=event, question=question, member=member, token=token_for(member),
                cluster=cluster)


def _registrations(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


def test_applying_and_withdrawing(call, webinar, make, db):
    event, question, token = webinar["event"], webinar["question"], webinar["token"]
    url = f"/api/v1/events/{event.id}/registrations"
    missing = _problem(call("POST", url, token, json={}), 422)
    assert "This question needs an answer" in missing["errors"][0]["detail"]
    wrong = _problem(call("POST", url, token, json={"answers": [
        {"question_id": question.id, "value": "CEO"}, {"question_id": 999, "value": "x"}]}),
        422)
    assert "does not ask" in wrong["detail"]
    twice = call("POST", url, token, json={"answers": [
        {"question_id": question.id, "value": "a"}, {"question_id": question.id, "value": "b"}]})
    _problem(twice, 422)
    assert _registrations(db) == 0
    created = call("POST", url, token, json={"answers": [
        {"question_id": question.id, "value": "CEO"}], "contact_consent": True})
    assert created.status_code == 201, created.json
    assert created.json["status"] == "approved" and created.json["event"]["id"] == event.id
    again = _problem(call("POST", url, token, json={"answers": [
        {"question_id": question.id, "value": "CEO"}]}), 409)
    assert "already applied" in again["detail"]

    reg_id = created.json["id"]
    organizer = token_for(make.manager(webinar["cluster"]))
    detail = call("GET", f"/api/v1/registrations/{reg_id}", organizer).json
    assert detail["answers"] == [{"question_id": question.id, "question": "Your role?",
                                  "value": "CEO"}]
    withdrawn = call("POST", f"/api/v1/registrations/{reg_id}/withdraw", token,
                     json={"reason": "Plans changed"})
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    _problem(call("POST", f"/api/v1/registrations/{reg_id}/withdraw", token, json={}), 409)


def test_others_registrations_cannot_be_withdrawn(call, webinar, make, db):
    reg = make.registration(webinar["event"], webinar["member"], S.SUBMITTED)
    db.session.commit()
    stranger = token_for(make.user())
    _problem(call("POST", f"/api/v1/registrations/{reg.id}/withdraw", stranger, json={}), 404)
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == S.SUBMITTED


def test_a_mission_needs_the_profile_consent(call, make, db):
    cluster = make.partner()
    mission = make.event(organizers=[cluster])
    token = token_for(make.user(make.organization(cluster)))
    refused = _problem(call("POST", f"/api/v1/events/{mission.id}/registrations", token,
                            json={}), 422)
    assert refused["errors"][0]["pointer"] == "/profile_consent"
    created = call("POST", f"/api/v1/events/{mission.id}/registrations", token,
                   json={"profile_consent": True})
    assert created.status_code == 201 and created.json["status"] == "submitted"


@pytest.fixture
def delegation(make, db):
    cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
    beachhead = make.beachhead()
    event = make.event(organizers=[organizing], hosts=[beachhead])
    a = make.registration(event, make.user(make.organization(cluster_a), name="Ada"),
                          S.SUBMITTED, S.APPROVED)
    b = make.registration(event, make.user(make.organization(cluster_b), name="Ben"),
                          S.SUBMITTED, S.APPROVED)
    make.registration(event, make.user(make.organization(cluster_b)))  # not approved
    people = dict(manager_a=make.manager(cluster_a), organizer=make.manager(organizing),
                  host=make.host(beachhead), member=a.user)
    db.session.commit()
    return dict(event=event, a=a, b=b, tokens={k: token_for(v) for k, v in people.items()})


def test_delegation_fields_are_scoped_like_the_page(call, delegation):
    url = f"/api/v1/events/{delegation['event'].id}/delegation"
    a, b = delegation["a"], delegation["b"]

    def emails(role):
        body = call("GET", url, delegation["tokens"][role]).json
        return {d["name"]: d["email"] for g in body["groups"] for d in g["delegates"]}

    assert emails("organizer") == {"Ada": a.user.email, "Ben": b.user.email}
    assert emails("manager_a") == {"Ada": a.user.email, "Ben": None}
    assert emails("host") == {"Ada": None, "Ben": None}
    _problem(call("GET", url, delegation["tokens"]["member"]), 403)
    _problem(call("GET", "/api/v1/events/999999/delegation", delegation["tokens"]["host"]), 404)


def test_delegation_as_csv_holds_what_the_json_does(call, delegation):
    url = f"/api/v1/events/{delegation['event'].id}/delegation"
    token = delegation["tokens"]["manager_a"]
    response = call("GET", url, token, headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["Ada", "Ben"]
    assert delegation["a"].user.email in rows[1] and delegation["b"].user.email not in rows[2]
    _problem(call("GET", url, token, headers={"Accept": "text/html"}), 406)


def test_badge_pdf_for_its_delegate_and_deciders_only(call, delegation):
    a = delegation["a"]
    own = call("GET", f"/api/v1/registrations/{a.id}/badge.pdf", delegation["tokens"]["member"])
    assert own.status_code == 200 and own.mimetype == "application/pdf"
    assert own.data.startswith(b"%PDF") and own.headers["Cache-Control"] == "no-store"
    _problem(call("GET", f"/api/v1/registrations/{delegation['b'].id}/badge.pdf",
                  delegation["tokens"]["manager_a"]), 404)
    _problem(call("GET", f"/api/v1/registrations/{a.id}/badge.pdf?format=a5",
                  delegation["tokens"]["member"]), 400)


def test_check_in_first_time_then_the_earlier_one(call, delegation, db):
    event = delegation["event"]
    event.starts_at = utcnow() - timedelta(hours=1)  # on: check-in is open
    db.session.commit()
    url = f"/api/v1/events/{event.id}/checkins"
    code = delegation["a"].badge_code
    host = delegation["tokens"]["host"]
    first = call("POST", url, host, json={"token": code})
    assert first.status_code == 201 and first.json["first_time"] is True, first.json
    repeat = call("POST", url, host, json={"token": code})
    assert repeat.status_code == 200 and repeat.json["first_time"] is False
    assert repeat.json["checked_in_at"] == first.json["checked_in_at"]
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 1
    unknown = _problem(call("POST", url, host, json={"token": "NOPE-NOPE"}), 422)
    assert unknown["errors"][0]["pointer"] == "/token"
    _problem(call("POST", url, delegation["tokens"]["manager_a"], json={"token": code}), 403)
    _problem(call("POST", url, host, json={"token": code, "session_id": 999999}), 422)


def test_delegation_equals_the_pages_export_for_each_role(client, call, delegation, db):
    from tests.conftest import login
    from webapp.models import ApiToken, User

    event = delegation["event"]
    for role, secret in delegation["tokens"].items():
        if role == "member":
            continue
        owner = db.session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                                  .where(ApiToken.digest == api_tokens.digest(secret)))
        login(client, owner)
        page = client.get(f"/events/{event.id}/delegation.csv")
        assert page.status_code == 200, role
        via_api = call("GET", f"/api/v1/events/{event.id}/delegation", secret,
                       headers={"Accept": "text/csv"})
        assert via_api.data == page.data, role
        body = call("GET", f"/api/v1/events/{event.id}/delegation", secret).json
        rows = list(csv.reader(io.StringIO(page.get_data(as_text=True).lstrip("\ufeff"))))[1:]
        assert [[d["name"], d["email"] or ""] for g in body["groups"] for d in g["delegates"]] \
            == [[r[1], r[7]] for r in rows], role

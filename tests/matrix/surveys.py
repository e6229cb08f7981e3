"""Follow-up surveys. The link needs no sign-in (the token is the key), so every role gets
the same answer: the form (200), a tampered link (400), an answered survey (409 on POST),
bad input (400, nothing written). The answers are read by admins and partner managers
(their own clusters' delegates: another cluster's answer is 404); others get 403."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.models import (
    Registration,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import surveys


def _invitation(reg: Registration, answered: bool) -> SurveyInvitation:
    now = utcnow()
    invitation = SurveyInvitation(registration=reg, round=SurveyRound.FIRST, due_at=now,
                                  sent_at=now, remind_at=now + timedelta(days=7))
    db.session.add(invitation)
    if answered:
        invitation.answered_at = now
        db.session.add(SurveyResponse(invitation=invitation, satisfaction=4, answered_at=now))
    db.session.flush()
    return invitation


def build(make, users, base) -> dict:
    own = db.session.scalar(select(Registration).where(
        Registration.event_id == base["event"].id, Registration.user_id == users["member"].id))
    theirs = make.registration(base["event"], make.user(make.organization(base["cluster_b"])),
                               S.SUBMITTED, S.APPROVED, actor=users["organizer"])
    fresh = make.registration(base["event"], make.user(make.organization(base["cluster_a"])),
                              S.SUBMITTED, S.APPROVED, actor=users["organizer"])
    answered = _invitation(own, answered=True)
    unanswered = _invitation(fresh, answered=False)
    other = _invitation(theirs, answered=True)
    return dict(survey_open=surveys.link_token(unanswered),
                survey_answered=surveys.link_token(answered),
                survey_own_response=answered.response.id,
                survey_other_response=other.response.id)


def _link(key):
    return lambda w: f"/survey/{w.extra[key]}"


READERS = statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200,
                   admin=200)

CASES = [
    Case("surveys.answer", "the form", "GET", _link("survey_open"), statuses(200)),
    Case("surveys.answer", "already answered", "GET", _link("survey_answered"), statuses(200)),
    Case("surveys.answer", "satisfaction of 7", "POST", _link("survey_open"), statuses(400),
         data=lambda w: {"satisfaction": "7"}),
    Case("surveys.answer", "answered again", "POST", _link("survey_answered"), statuses(409),
         data=lambda w: {"satisfaction": "3"}),
    Case("surveys.answer", "tampered", "GET",
         lambda w: f"/survey/{w.extra['survey_open'][:-3]}xyz", statuses(400)),
    Case("surveys.results", "published event", "GET",
         lambda w: f"/events/{w.ids['event']}/surveys", READERS),
    Case("surveys.results", "draft", "GET", lambda w: f"/events/{w.ids['draft']}/surveys",
         statuses(404, anonymous=LOGIN, organizer=200, admin=200)),
    Case("surveys.results", "unknown", "GET", lambda w: "/events/999999/surveys",
         statuses(404, anonymous=LOGIN)),
    Case("surveys.results_csv", "published event", "GET",
         lambda w: f"/events/{w.ids['event']}/surveys.csv", READERS),
    Case("surveys.results_csv", "unknown", "GET", lambda w: "/events/999999/surveys.csv",
         statuses(404, anonymous=LOGIN)),
    Case("surveys.response", "cluster A's delegate", "GET",
         lambda w: f"/surveys/responses/{w.extra['survey_own_response']}",
         statuses(404, anonymous=LOGIN, manager_a=200, admin=200)),
    Case("surveys.response", "cluster B's delegate", "GET",
         lambda w: f"/surveys/responses/{w.extra['survey_other_response']}",
         statuses(404, anonymous=LOGIN, manager_b=200, admin=200)),
    Case("surveys.response", "unknown", "GET", lambda w: "/surveys/responses/999999",
         statuses(404, anonymous=LOGIN)),
    # Confirming a reported agreement: only on answers one reads; no such record here.
    Case("surveys.confirm_outcome", "cluster A's delegate, no such agreement", "POST",
         lambda w: f"/surveys/responses/{w.extra['survey_own_response']}/agreements",
         statuses(404, anonymous=LOGIN, manager_a=400, admin=400),
         data=lambda w: {"agreement_id": "999999"}),
    Case("surveys.confirm_outcome", "unknown answer", "POST",
         lambda w: "/surveys/responses/999999/agreements", statuses(404, anonymous=LOGIN),
         data=lambda w: {"agreement_id": "1"}),
]

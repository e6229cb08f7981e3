"""A member applies to an event and withdraws, through the same services as the pages."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import access
from ...extensions import db
from ...models import Registration
from ...problems import ApiProblem
from ...services import applications
from ...services.errors import AnswersRefused, DomainError
from . import present, schemas
from .events import visible_event
from .registry import operation


@operation("POST", "/events/{event_id}/registrations", tag="registrations",
           summary="Apply to an event",
           response=schemas.OwnRegistration, status=201, write=True, problems=(404, 409))
def apply(path: schemas.EventPath, body: schemas.ApplicationIn):
    """As on the event's page: `submitted` when the event reviews its applications,
    otherwise `approved` while seats last and `waitlisted` after. Answers that do not fit
    the event's questions are 422, each under its place in `answers`; an event that is
    not open, an existing application or an unconfirmed email are 409."""
    me = current_user._get_current_object()
    event = visible_event(path.event_id)
    answers = {a.question_id: a.value for a in body.answers}
    if len(answers) < len(body.answers):
        raise ApiProblem(422, "Answer each question once.", errors=[
            {"pointer": "/answers", "detail": "a question is answered twice"}])
    try:
        reg = applications.submit(me, event, answers=answers,
                                  profile_consent=body.profile_consent,
                                  contact_consent=body.contact_consent)
    except applications.ConsentNeeded as refusal:
        raise ApiProblem.refusing(422, refusal, errors=[
            {"pointer": "/profile_consent", "detail": refusal.message}]) from None
    except AnswersRefused as refusal:
        where = {a.question_id: n for n, a in enumerate(body.answers)}
        raise ApiProblem.refusing(422, refusal, errors=[
            {"pointer": f"/answers/{where[qid]}/value" if qid in where else "/answers",
             "detail": f"question {qid}: {why}"} for qid, why in refusal.problems.items()
        ] or [{"pointer": "/answers", "detail": refusal.message}]) from None
    except DomainError as refusal:
        raise ApiProblem.refusing(409, refusal) from None
    return present.own_registration(reg)


@operation("POST", "/registrations/{registration_id}/withdraw", tag="registrations",
           summary="Withdraw your application",
           response=schemas.OwnRegistration, write=True, problems=(404, 409))
def withdraw(path: schemas.RegistrationPath, body: schemas.WithdrawalIn):
    """Your own application only (others' are 404), up to the start of the event; you may
    apply again later. A final status or a started event is 409."""
    me = current_user._get_current_object()
    reg = db.session.scalar(
        select(Registration).where(Registration.id == path.registration_id,
                                   Registration.user_id == me.id)
        .options(joinedload(Registration.event)))
    if reg is None or not access.can(me, "registration.withdraw", reg):
        raise ApiProblem(404, f"No registration {path.registration_id} of yours.")
    try:
        reg = applications.withdraw(me, reg, reason=body.reason)
    except DomainError as refusal:
        raise ApiProblem.refusing(409, refusal) from None
    return present.own_registration(reg)

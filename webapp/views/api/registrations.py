"""The applications in the token owner's scope, as the desk lists them, and deciding one.

The list is the desk's scope (access.desk_registrations) with the desk's filters, so it
holds exactly the rows the desk shows the same user; a decision goes through the
registration service like the desk's button: the same lock, seat counts, audit entry and
mail.
"""

from __future__ import annotations

from flask_login import current_user

from ... import access, unit
from ...extensions import db
from ...models import Registration, RegistrationStatus
from ...problems import ApiProblem
from ...services import desk, registrations
from ...services.errors import DomainError, StaleDecision
from . import keyset, present, schemas
from .registry import operation


def _me():
    return current_user._get_current_object()


def _require_desk() -> None:
    if not access.can(current_user, "desk.use"):
        raise ApiProblem(403, "Only partner managers, organizers, hosts and admins see the "
                              "applications of others; yours are at /me/registrations.")


def _visible(registration_id: int) -> Registration:
    reg = desk.registration_for_desk(_me(), registration_id)
    if reg is None:
        raise ApiProblem(404, f"No registration {registration_id}, or not one you may see.")
    return reg


@operation("GET", "/registrations", tag="registrations",
           summary="The applications in your scope (as on the desk)",
           response=schemas.RegistrationPage, problems=(403,), kept=True)
def registrations_list(query: schemas.RegistrationQuery):
    """A partner manager's clusters' applicants, the applications of the events one
    organizes, all for admins; a beachhead host sees the approved delegates of the events
    it hosts. Newest first (in the order the applications were first made). Contact
    details are null where withheld."""
    _require_desk()
    found = keyset.page(
        present.registration_rows(_me(), event_id=query.event, status=query.status,
                                  partner_id=query.partner),
        (keyset.Key(Registration.id, descending=True),),
        cursor=query.cursor, per_page=query.per_page, page_number=query.page,
        count=query.count, columns=True)
    return schemas.RegistrationPage.model_validate(
        {"items": [present.registration_row(row) for row in found.rows], **found.fields()})


@operation("GET", "/registrations/{registration_id}", tag="registrations",
           summary="One application and its history", response=schemas.RegistrationDetail,
           problems=(403, 404))
def registration(path: schemas.RegistrationPath):
    _require_desk()
    return present.registration_detail(_me(), _visible(path.registration_id))


@operation("POST", "/registrations/{registration_id}/decision", tag="registrations",
           summary="Approve, reject or waitlist an application",
           response=schemas.RegistrationDetail, write=True, problems=(403, 404, 409),
           problem_models={409: schemas.DecisionConflict})
def decide(path: schemas.RegistrationPath, body: schemas.DecisionIn):
    """The same decision as the desk's buttons: when the application's status is no
    longer `expected_status` (someone decided first), or the decision does not fit (no
    seat left, the event cancelled, an already final status), nothing changes and the
    answer is 409 with the status it has now and who moved it there when."""
    _require_desk()
    me = _me()
    reg = _visible(path.registration_id)
    if not access.can(me, "registration.decide", reg):
        raise ApiProblem(403, "You see this application but do not decide it: its "
                              "responsible partner's managers and the organizers do.")
    try:
        registrations.decide(reg.id, body.decision.value, actor=me, reason=body.reason,
                             expected_status=body.expected_status)
    except StaleDecision as stale:
        raise ApiProblem.refusing(409, stale, kind="stale-decision",
                                  current_status=stale.status, decided_by=stale.by,
                                  decided_at=stale.at.isoformat() if stale.at else None
                                  ) from None
    except DomainError as refusal:
        unit.discard()  # the status it has now, as committed
        now = db.session.get(Registration, path.registration_id, populate_existing=True)
        raise ApiProblem.refusing(409, refusal, kind="decision-refused",
                                  current_status=RegistrationStatus(now.status).value,
                                  decided_by=None, decided_at=None) from None
    return present.registration_detail(me, _visible(path.registration_id))

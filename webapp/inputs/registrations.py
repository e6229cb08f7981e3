"""Deciding applications: one, from the desk's buttons or the API, and many at once; and
correcting a decision: reopening it, or cancelling one registration."""

from __future__ import annotations

import enum

from pydantic import Field, model_validator

from ..models import RegistrationStatus
from ..services.errors import N_
from . import Id, Input, RequiredText, Text, refuse

MAX_BULK = 500
REASON_NEEDED = "Say why the application is rejected: the applicant receives it."


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    WAITLIST = "waitlist"


class _Decided(Input):
    long_texts = frozenset({"reason"})

    decision: Decision
    reason: Text(2000, description="Required to reject; sent to the applicant. "
                                   "Multi-line.") = ""

    @model_validator(mode="after")
    def _reason_for_rejection(self):
        if self.decision == Decision.REJECT and not self.reason:
            raise refuse("reason", REASON_NEEDED)
        return self


class DecisionIn(_Decided):
    """One application decided: `expected_status` is the status the decider saw; when it
    changed meanwhile nothing is decided."""

    expected_status: RegistrationStatus = Field(
        description="The status you saw: if it changed meanwhile, nothing is decided (409).")

    field_messages = {"expected_status": N_("This page is out of date: reload it and "
                                            "decide again.")}


class BulkDecisionIn(_Decided):
    """The ticked applications of the desk's list, decided alike."""

    ids: list[Id]

    required_messages = {"ids": N_("Tick at least one application.")}

    @model_validator(mode="after")
    def _something_ticked(self):
        if not self.ids:
            raise refuse("ids", "Tick at least one application.")
        if len(set(self.ids)) > MAX_BULK:
            raise refuse("ids", "At most %(limit)s applications can be decided at once.",
                         limit=MAX_BULK)
        return self


class CorrectionIn(Input):
    """A decision reopened, or one registration cancelled: why (the applicant is mailed
    it, and it stays in the history), and the status the page showed: when it changed
    meanwhile nothing is done."""

    long_texts = frozenset({"reason"})

    reason: RequiredText(2000, title="Reason",
                         description="Sent to the applicant and kept in the history. "
                                     "Multi-line.")
    expected_status: RegistrationStatus = Field(
        description="The status you saw: if it changed meanwhile, nothing is done (409).")

    required_messages = {"reason": N_("Say why: the applicant receives it.")}
    field_messages = {"expected_status": N_("This page is out of date: go back to the "
                                            "application and start again.")}

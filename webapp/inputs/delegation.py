"""A message to an event's approved delegation: to all of it, or to one partner's
delegates. Whom the sender may address is the database's (`services.messages`)."""

from __future__ import annotations

from pydantic import field_validator

from ..ids import parse_id
from ..services.errors import N_
from . import Input, RequiredText, refuse

WHOLE_DELEGATION = "all"
SUBJECT_MAX = 200
BODY_MAX = 10_000


class DelegationMessageIn(Input):
    """`audience` is "all" (the whole delegation) or a partner's id."""

    long_texts = frozenset({"body"})

    audience: str
    subject: RequiredText(SUBJECT_MAX, title="Subject")
    body: RequiredText(BODY_MAX, title="Message")

    required_messages = {"subject": N_("A message needs a subject."),
                         "body": N_("A message needs some text.")}
    field_messages = {"audience": N_("Choose whom to write to.")}

    @field_validator("audience")
    @classmethod
    def _all_or_a_partner(cls, audience: str) -> str:
        if audience != WHOLE_DELEGATION and parse_id(audience) is None:
            raise refuse(None, "Choose whom to write to.")
        return audience

    @property
    def partner_id(self) -> int | None:
        """The partner whose delegates are addressed; None: the whole delegation."""
        return None if self.audience == WHOLE_DELEGATION else parse_id(self.audience)

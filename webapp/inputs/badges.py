"""A batch of badges to print: the paper, and whose delegates (all those the requester
may print for, or one partner's). Which partners the requester may print for, and
whether anyone is there, the service decides."""

from __future__ import annotations

from pydantic import field_validator

from ..ids import parse_id
from ..models import BadgeFormat
from ..services.errors import N_
from . import Input, refuse

EVERY_PARTNER = "all"
WHOSE = N_("Choose whose badges to print from the list.")


class BadgeBatchIn(Input):
    """`partner` is "all" or a partner's id."""

    format: BadgeFormat = BadgeFormat.A6
    partner: str = EVERY_PARTNER

    field_messages = {"format": N_("Choose A6 or A4 paper."), "partner": WHOSE}

    @field_validator("partner")
    @classmethod
    def _all_or_a_partner(cls, partner: str) -> str:
        if partner != EVERY_PARTNER and parse_id(partner) is None:
            raise refuse(None, WHOSE)
        return partner

    @property
    def partner_id(self) -> int | None:
        return None if self.partner == EVERY_PARTNER else parse_id(self.partner)

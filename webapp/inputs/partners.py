"""Partners and the roles accounts hold for them, as admins write them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ..models import PartnerKind, Role
from ..services.errors import N_
from . import Id, Input, RequiredText, Text, refuse
from .events import COUNTRY_NEEDED, Territory, WebAddress


class PartnerIn(Input):
    """A cluster, beachhead or network; `slug` empty: made from the short name."""

    long_texts = frozenset({"description"})
    required_messages = {"name": N_("Enter the partner's name."),
                         "short_name": N_("Enter a short name."), "country": COUNTRY_NEEDED}

    name: RequiredText(200, title="Name")
    short_name: RequiredText(60, title="Short name")
    slug: Text(80, title="Web address (slug)") = ""
    kind: PartnerKind
    is_member: bool = False
    country: Annotated[Territory, Field(title="Country", description="ISO 3166 code.")]
    region: Text(120, title="Region") = ""
    city: Text(120, title="City") = ""
    website: WebAddress(300, title="Website") = ""
    description: Text(5000, title="Description") = ""


class GrantIn(Input):
    """A role for an account: admin for everything, the other roles for one partner."""

    role: Role
    partner_id: Id | None = None

    @model_validator(mode="after")
    def _partner_fits_the_role(self):
        if self.role == Role.ADMIN and self.partner_id is not None:
            raise refuse("partner_id", "The admin role is held for everything, not for one "
                                       "partner.")
        if self.role != Role.ADMIN and self.partner_id is None:
            raise refuse("partner_id", "Choose the partner this role is held for.")
        return self

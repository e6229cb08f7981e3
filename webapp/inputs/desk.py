"""The desk's other writes: a registration's role on the event, and registering an
existing account directly as host or staff. Whose account the address is, and whether
the role fits the registration's state, the services decide."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from ..models import DIRECT_ROLES, EventRole
from ..services.errors import N_
from . import Input, refuse
from .accounts import EmailAddress

ROLE_FROM_THE_LIST = N_("Choose a role from the list.")
DIRECT_ONLY = "Only hosts and staff are registered directly."


class RoleIn(Input):
    role: EventRole

    field_messages = {"role": ROLE_FROM_THE_LIST}


class DirectRegistrationIn(Input):
    email: EmailAddress(title="Email of their account")
    role: EventRole

    @field_validator("role", mode="before")
    @classmethod
    def _a_role(cls, role: Any) -> Any:
        if role not in {r.value for r in EventRole} and not isinstance(role, EventRole):
            raise refuse(None, ROLE_FROM_THE_LIST)
        return role

    @field_validator("role")
    @classmethod
    def _host_or_staff(cls, role: EventRole) -> EventRole:
        if role not in DIRECT_ROLES:
            raise refuse(None, DIRECT_ONLY)
        return role

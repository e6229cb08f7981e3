"""The mail a registration's transitions send: queued in the transition's transaction."""

from __future__ import annotations

from ..models import Registration
from ..models import RegistrationStatus as S


def transitioned(reg: Registration, from_status: S | None, to_status: S, reason: str) -> None:
    """Queue the mails that the move from `from_status` to `to_status` calls for."""

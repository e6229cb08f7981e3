"""The domain model, one module per aggregate."""

from .audit import AuditEntry
from .event import (
    MISSION_KINDS,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    SessionKind,
    event_hosts,
    event_organizers,
)
from .organization import Helix, Organization, OrganizationSize
from .partner import Partner, PartnerKind
from .registration import Registration, RegistrationStatus
from .types import utcnow
from .user import Role, RoleGrant, User, normalize_email

__all__ = [
    "MISSION_KINDS",
    "AuditEntry",
    "Event",
    "EventKind",
    "EventSession",
    "EventStatus",
    "Helix",
    "Organization",
    "OrganizationSize",
    "Partner",
    "PartnerKind",
    "Registration",
    "RegistrationStatus",
    "Role",
    "RoleGrant",
    "SessionKind",
    "User",
    "event_hosts",
    "event_organizers",
    "normalize_email",
    "utcnow",
]

"""The domain model, one module per aggregate."""

from .audit import AuditEntry
from .event import (
    MISSION_KINDS,
    Event,
    EventKind,
    EventQuota,
    EventSession,
    EventStatus,
    Question,
    QuestionKind,
    SessionKind,
    event_hosts,
    event_organizers,
)
from .organization import (
    Helix,
    MembershipRequest,
    MembershipStatus,
    Organization,
    OrganizationSize,
)
from .outbox import OutboxMessage, OutboxStatus
from .partner import Partner, PartnerKind
from .registration import (
    DIRECT_ROLES,
    Answer,
    DelegationMessage,
    EventRole,
    MessageRecipient,
    Registration,
    RegistrationStatus,
)
from .security import ThrottleHit, UsedToken
from .types import utcnow
from .user import AlertFrequency, Role, RoleGrant, User, normalize_email

__all__ = [
    "DIRECT_ROLES",
    "MISSION_KINDS",
    "AlertFrequency",
    "Answer",
    "AuditEntry",
    "DelegationMessage",
    "Event",
    "EventKind",
    "EventQuota",
    "EventRole",
    "EventSession",
    "EventStatus",
    "Helix",
    "MembershipRequest",
    "MembershipStatus",
    "MessageRecipient",
    "Organization",
    "OrganizationSize",
    "OutboxMessage",
    "OutboxStatus",
    "Partner",
    "PartnerKind",
    "Question",
    "QuestionKind",
    "Registration",
    "RegistrationStatus",
    "Role",
    "RoleGrant",
    "SessionKind",
    "ThrottleHit",
    "UsedToken",
    "User",
    "event_hosts",
    "event_organizers",
    "normalize_email",
    "utcnow",
]

"""The domain model, one module per aggregate."""

from .agreement import Agreement, AgreementKind, AgreementParty, AgreementStatus, AgreementType
from .api_token import ApiRateWindow, ApiToken
from .attendance import Attendance, AttendanceSource
from .audit import AuditEntry
from .badge import BadgeBatch, BadgeFormat, BatchStatus
from .download import Download, DownloadStatus, download_requesters
from .event import (
    DEFAULT_REMINDER_OFFSETS,
    MISSION_KINDS,
    Event,
    EventKind,
    EventQuota,
    EventSession,
    EventStatus,
    EventText,
    Question,
    QuestionKind,
    SessionKind,
    SessionText,
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
from .reminder import ReminderDelivery, ReminderSkip, ReminderStatus
from .security import ThrottleHit, UsedToken
from .sort_key import SortKey
from .survey import OutcomeConfirmation, SurveyInvitation, SurveyResponse, SurveyRound
from .types import new_badge_code, utcnow
from .user import AlertFrequency, Role, RoleGrant, User, normalize_email
from .worker import WorkerHeartbeat

__all__ = [
    "DEFAULT_REMINDER_OFFSETS",
    "DIRECT_ROLES",
    "MISSION_KINDS",
    "Agreement",
    "AgreementKind",
    "AgreementParty",
    "AgreementStatus",
    "AgreementType",
    "AlertFrequency",
    "Answer",
    "ApiRateWindow",
    "ApiToken",
    "Attendance",
    "AttendanceSource",
    "AuditEntry",
    "BadgeBatch",
    "BadgeFormat",
    "BatchStatus",
    "DelegationMessage",
    "Download",
    "DownloadStatus",
    "Event",
    "EventKind",
    "EventQuota",
    "EventRole",
    "EventSession",
    "EventStatus",
    "EventText",
    "Helix",
    "MembershipRequest",
    "MembershipStatus",
    "MessageRecipient",
    "Organization",
    "OrganizationSize",
    "OutboxMessage",
    "OutboxStatus",
    "OutcomeConfirmation",
    "Partner",
    "PartnerKind",
    "Question",
    "QuestionKind",
    "Registration",
    "RegistrationStatus",
    "ReminderDelivery",
    "ReminderSkip",
    "ReminderStatus",
    "Role",
    "RoleGrant",
    "SessionKind",
    "SessionText",
    "SortKey",
    "SurveyInvitation",
    "SurveyResponse",
    "SurveyRound",
    "ThrottleHit",
    "UsedToken",
    "User",
    "WorkerHeartbeat",
    "download_requesters",
    "event_hosts",
    "event_organizers",
    "new_badge_code",
    "normalize_email",
    "utcnow",
]

"""Audit entries for changes other than registration transitions (those are written by
the registration state machine itself)."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEntry, User, utcnow


def record(
    actor: User | None,
    action: str,
    subject: Any = None,
    *,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    event_id: int | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction: `action` such as "organization.updated",
    the subject (any model with an `id`), and what changed ({field: [old, new]})."""
    if subject is not None and subject.id is None:
        db.session.flush()
    entry = AuditEntry(
        created_at=utcnow(),
        actor=actor,
        action=action,
        subject_type=type(subject).__name__.lower() if subject is not None else None,
        subject_id=subject.id if subject is not None else None,
        event_id=event_id,
        reason=reason,
        details={"changes": changes} if changes else {},
    )
    db.session.add(entry)
    return entry


def diff(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply `values` to `obj` and return what changed, as JSON-friendly [old, new] pairs."""
    changes: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [plain(old), plain(new)]
            setattr(obj, field, new)
    return changes


def plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return str(value)

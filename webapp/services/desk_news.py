"""What is new on the desk for those who decide applications.

An application is new to a user when it is among the rows their desk lists (the policy's
scoped query), still awaits a decision (submitted) and was made after the user last
opened the desk's list: `applied_at` is set again when a member applies anew after
withdrawing, so that counts as new too; an application a manager reopened does not,
since a manager put it back. Never having opened the desk makes every waiting one new.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from .. import access
from ..extensions import db
from ..models import Registration, RegistrationStatus, User
from ..unit import write_step


def _made_since(since: datetime | None) -> ColumnElement[bool]:
    waiting = Registration.status == RegistrationStatus.SUBMITTED
    return waiting if since is None else waiting & (Registration.applied_at > since)


def count_new(user: Any) -> int:
    """How many applications are new to `user` since their last visit: one query."""
    new = access.desk_registrations(user).where(_made_since(user.desk_seen_at))
    return db.session.scalar(select(func.count()).select_from(new.subquery())) or 0


def new_among(user: Any, registration_ids: Collection[int], since: datetime | None) -> set[int]:
    """Which of `registration_ids` (rows of the user's desk) were new after `since`."""
    if not registration_ids:
        return set()
    return set(db.session.scalars(
        access.desk_registrations(user)
        .where(Registration.id.in_(registration_ids), _made_since(since))
        .with_only_columns(Registration.id)))


def record_visit(user: User, at: datetime) -> None:
    """The user has seen the desk as it was at `at`; the caller's unit commits. The write
    step (SQLite's write lock) begins here and lasts until that commit: call it once the
    page is ready."""
    write_step()
    user.desk_seen_at = at
    db.session.flush()

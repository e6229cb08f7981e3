"""A batch of badges built in the background: its progress and, once done, the PDF.

Both live in the database, so whichever app server the browser asks next sees the same
progress and serves the same file; the file is kept for an hour, for the person who asked.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from .event import Event
from .partner import Partner
from .types import UTCDateTime, str_enum, utcnow
from .user import User


class BadgeFormat(enum.StrEnum):
    A6 = "a6"  # one badge per A6 page
    A4 = "a4"  # four badges per A4 sheet, with cut marks


class BatchStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BadgeBatch(db.Model):
    __tablename__ = "badge_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # None: every approved delegate in the requester's scope; else one partner's delegates.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    format: Mapped[BadgeFormat] = mapped_column(str_enum(BadgeFormat, "badge_format"))
    status: Mapped[BatchStatus] = mapped_column(
        str_enum(BatchStatus, "batch_status"), default=BatchStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped with every step: a batch whose worker died stops advancing and is shown failed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Loaded only when downloaded: the progress page polls without reading megabytes.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    event: Mapped[Event] = relationship()
    requested_by: Mapped[User] = relationship()
    partner: Mapped[Partner | None] = relationship()

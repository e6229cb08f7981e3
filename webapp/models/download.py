"""A file built in the background (a report, an export, a brochure): what was asked, for
whom, how far it got and, once ready, the file itself until it expires.

Everything lives in the database, as for a badge batch: whichever app server the browser
asks next sees the same progress and serves the same file. `scope` records whose data the
file holds (the partner clusters of a KPI report, the contact details a brochure shows),
so the file is served only to people who may read that much now; `key` identifies the
kind, parameters and scope together, so a second request for the same file while one is
built joins it (`requesters`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from .event import Event
from .types import UTCDateTime, str_enum, utcnow
from .user import User


class DownloadStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


# Whoever asked for a download: the first requester and everyone who joined them.
download_requesters = Table(
    "download_requesters",
    db.metadata,
    Column("download_id", ForeignKey("downloads.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Download(db.Model):
    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # What the builder needs besides the scope (a period, an event id, the language).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Whose data the file holds; the reader's own scope must cover it (access).
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # kind + params + scope: equal keys build the same file, so they join.
    key: Mapped[str] = mapped_column(String(64), index=True)
    # The event a brochure is of: the file goes when the event does.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[DownloadStatus] = mapped_column(
        str_enum(DownloadStatus, "download_status"), default=DownloadStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=1)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped with every step: a job whose process died stops advancing, shown as failed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Loaded only when downloaded: the progress page polls without reading megabytes.
    body: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    requested_by: Mapped[User] = relationship()
    # Loaded with the rows (a page of downloads asks access about each one).
    requesters: Mapped[list[User]] = relationship(secondary=download_requesters,
                                                  lazy="selectin")
    event: Mapped[Event | None] = relationship(lazy="selectin")

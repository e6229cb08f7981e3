"""What the job workers say about themselves, kept in the database so it can be read
while Redis, where RQ keeps its own worker records, does not answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class WorkerHeartbeat(db.Model):
    """One worker process's last sign of life: written every WORKER_HEARTBEAT_EVERY
    seconds while it works, waits for jobs or waits for Redis to come back."""

    __tablename__ = "worker_heartbeats"

    # host:pid:random, unique per process start.
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # "working" (has Redis) or "reconnecting" (Redis does not answer).
    state: Mapped[str] = mapped_column(String(20))
    # What Redis answered last, when it failed ("" while it answers).
    redis_error: Mapped[str] = mapped_column(Text, default="")
    jobs_done: Mapped[int] = mapped_column(default=0)

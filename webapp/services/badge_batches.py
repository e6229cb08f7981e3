"""Big badge batches, built in the background while the page shows their progress.

A batch is a row (`BadgeBatch`): who asked, for which event and format, how many badges
are done of how many, and at the end the PDF itself. Progress and file live in the
database, so every app server answers the progress page and the download alike. The
badges are built from the database when the work runs, never from a copy taken when it
was asked for, and the file is offered to the person who asked for an hour.

The work runs away from the request (`start`, through `jobs.run_aside`) once the request
that asked for it has committed: on an RQ worker when REDIS_URL is set, otherwise on a
thread of the process that took the request (not inline: the request returns at once and
its page shows the progress), in its own app context, database session and unit of work
either way. The badges are read and rendered without the write lock (`unit.reading`);
each progress step is a short transaction of its own (`unit.aside("batch_progress")`),
so the page polling it sees it at once. A batch whose process died stops advancing: after
STALE_AFTER without a step it is shown as failed, so nobody waits on it forever.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select, update

from .. import access, languages, unit
from ..extensions import db
from ..models import BadgeBatch, BadgeFormat, BatchStatus, Event, User, utcnow
from . import badges, jobs
from .badges import NothingToPrint

KEPT_FOR = timedelta(hours=1)
STALE_AFTER = timedelta(minutes=5)

log = logging.getLogger(__name__)


def request_batch(requester: User, event: Event, badge_format: BadgeFormat, *,
                  partner_id: int | None = None) -> BadgeBatch:
    """A queued batch of the badges `requester` may print (the caller checked
    `event.badges`); `start` it, and it is built once the caller's unit commits."""
    total = badges.batch_size(requester, event, partner_id)
    if total == 0:
        raise NothingToPrint("badge.none_to_print")
    batch = BadgeBatch(event_id=event.id, requested_by_id=requester.id, partner_id=partner_id,
                       format=badge_format, total=total, status=BatchStatus.QUEUED)
    db.session.add(batch)
    db.session.flush()
    return batch


def start(batch_id: int) -> threading.Thread | None:
    """Build the batch in the background once the current unit has committed (outside
    any unit: now, and the thread is returned, when it is one)."""
    return jobs.run_aside(build, batch_id)


@unit.job
def build(batch_id: int) -> None:
    """Render the batch from the database as it is now, recording progress per badge."""
    with unit.reading():  # rendering holds no write lock; the steps are written aside
        batch = db.session.get(BadgeBatch, batch_id)
        if batch is None or batch.status != BatchStatus.QUEUED:
            return
        requester, event = batch.requested_by, batch.event
        badge_format, partner_id = batch.format, batch.partner_id
        _step(batch_id, status=BatchStatus.RUNNING, done=0)
        try:
            # Printed in the language of the person who asked (the file is theirs), as
            # the badges they print in their own request are.
            with force_locale(languages.of_user(requester, fallback=event.language)):
                pdf = badges.batch_pdf(requester, event, badge_format, partner_id=partner_id,
                                       progress=_Progress(batch_id))
        except Exception as error:
            log.exception("badge batch %s failed", batch_id)
            unit.discard()  # whatever broke is rolled back; the batch row says it failed
            _step(batch_id, status=BatchStatus.FAILED, error=_describe(error),
                  finished=True)
            return
        _step(batch_id, status=BatchStatus.DONE, pdf=pdf, finished=True)


class _Progress(jobs.Progress):
    """Counts every badge, written aside (`_step`) at most every WRITE_EVERY seconds."""

    def __init__(self, batch_id: int) -> None:
        super().__init__(lambda done, total: _step(batch_id, done=done, total=total))


# What a failed batch records when no refusal of the domain says why; the pages word it.
BUILD_FAILED = "build_failed"


def _describe(error: Exception) -> str:
    """What the batch's row keeps of why it failed: a code, worded in the language of
    whoever reads the progress page (`views.badges`), not of the worker."""
    if isinstance(error, NothingToPrint):
        return error.code  # everyone left, or was withdrawn, since it was asked for
    return BUILD_FAILED


def _step(batch_id: int, **values: Any) -> None:
    jobs.write_progress(BadgeBatch, batch_id, "batch_progress", **values)


def is_stale(batch: BadgeBatch, now: datetime | None = None) -> bool:
    return (batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)
            and (now or utcnow()) - batch.updated_at > STALE_AFTER)


def expires_at(batch: BadgeBatch) -> datetime | None:
    return batch.finished_at + KEPT_FOR if batch.finished_at else None


def is_expired(batch: BadgeBatch, now: datetime | None = None) -> bool:
    expiry = expires_at(batch)
    return expiry is not None and (now or utcnow()) >= expiry


def recent_for(user: Any, event: Event) -> list[BadgeBatch]:
    """The user's batches for `event` still worth showing: unfinished, or done within the
    hour a file is kept."""
    since = utcnow() - KEPT_FOR
    query = select(BadgeBatch).where(
        BadgeBatch.event_id == event.id, BadgeBatch.requested_by_id == user.id,
        (BadgeBatch.finished_at.is_(None)) | (BadgeBatch.finished_at > since),
    ).order_by(BadgeBatch.id.desc()).limit(10)
    return [b for b in db.session.scalars(query) if access.can(user, "batch.view", b)]


def purge_expired(now: datetime | None = None) -> int:
    """Drop the files nobody may download any more (the rows stay, as a record)."""
    cutoff = (now or utcnow()) - KEPT_FOR
    result = db.session.execute(
        update(BadgeBatch).where(BadgeBatch.finished_at <= cutoff, BadgeBatch.pdf.is_not(None))
        .values(pdf=None))
    return result.rowcount or 0

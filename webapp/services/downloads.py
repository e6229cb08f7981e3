"""Files that take too long for a request, built in the background and kept for a while:
the KPI report (PDF), the KPI tables (CSV, XLSX) and an event's delegation brochure (PDF).

A download is a row (`Download`): its kind, the parameters and the scope it is built for,
who asked, how far it got and at the end the file itself. `request_*` queues one for the
caller's unit, or returns the one being built for the same kind, parameters and scope
(`key`), adding the caller to its requesters: a second request for the same report while
one runs joins it. `start` hands it to `jobs.run_aside`: an RQ worker with REDIS_URL, a
thread of this process otherwise, once the request that asked has committed. `build` is a
unit of work of its own that reads and renders without the write lock (`unit.reading`)
and writes each progress step aside (`unit.aside("download_progress")`), so the page
polling it sees it at once. When the file is ready every requester who may still read it
gets a mail with its link (sent after the job's commit).

A file is written in the language of the request that asked for it (its parameters
record it, so someone asking in another language gets a file of their own, not one
joined), and the job builds it inside that language; the mail that it is ready is in
each requester's own.

The file is kept for KEPT_FOR, then `purge_expired` (run by `flask tick`) drops it; the row
stays as a record and its link says the file is gone. A job whose process died stops
advancing: after STALE_AFTER without a step it reads as failed, and may be asked again.
Who may read a download is `access` ("download.view"): whoever may read its content now.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select, text, update

from .. import access, localtime, paging, unit
from ..extensions import db
from ..models import (
    Download,
    DownloadStatus,
    Event,
    User,
    download_requesters,
    utcnow,
)
from . import brochure, exports, jobs, kpis, notifications

KEPT_FOR = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
UNFINISHED = (DownloadStatus.QUEUED, DownloadStatus.RUNNING)
PDF = "application/pdf"
# What a failed build records (its row's `error`); the pages word it.
BUILD_FAILED = "build_failed"

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Kind:
    """One kind of download: how its file is built from its row, and what it is called
    on the pages (a sentence with the row's parameters)."""

    build: Callable[[Download, Progress], bytes]
    title: Callable[[Download], str]


# --------------------------------------------------------------------------- asking


def _key(kind: str, params: dict, scope: dict) -> str:
    canonical = json.dumps([kind, params, scope], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _locale() -> str:
    return str(get_locale() or "en")


def _request(requester: User, kind: str, params: dict, scope: dict, *, filename: str,
             mimetype: str, event_id: int | None = None) -> tuple[Download, bool]:
    """The download being built for `kind`, `params` and `scope`, with `requester` among
    its requesters (joined: True), or a new queued one (False) for the caller to `start`."""
    params = {**params, "locale": _locale()}
    key = _key(kind, params, scope)
    _lock(key)
    running = db.session.scalars(
        select(Download).where(Download.key == key, Download.status.in_(UNFINISHED))
        .order_by(Download.id.desc())).first()
    if running is not None and not is_stale(running):
        if not _is_requester(running.id, requester.id):
            running.requesters.append(requester)
            db.session.flush()
        return running, True
    download = Download(kind=kind, params=params, scope=scope, key=key, event_id=event_id,
                        requested_by_id=requester.id, filename=filename, mimetype=mimetype,
                        status=DownloadStatus.QUEUED, total=1, done=0)
    download.requesters.append(requester)
    db.session.add(download)
    db.session.flush()
    return download, False


def _lock(key: str) -> None:
    """Two requests for the same file at once find one another: on SQLite the write
    step's lock queues them; on PostgreSQL a transaction-scoped advisory lock on the key
    does (rows that do not exist yet cannot be locked)."""
    unit.write_step()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": int(key[:15], 16)})


def _is_requester(download_id: int, user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        download_requesters.c.download_id == download_id,
        download_requesters.c.user_id == user_id))))


def _period_params(period: kpis.Period) -> dict:
    return {"start": period.start.isoformat() if period.start else None,
            "end": period.end.isoformat() if period.end else None}


def _period(download: Download) -> kpis.Period:
    from datetime import date

    start, end = download.params.get("start"), download.params.get("end")
    return kpis.Period(date.fromisoformat(start) if start else None,
                       date.fromisoformat(end) if end else None)


def _stem(period: kpis.Period) -> str:
    return f"{period.start or 'start'}-{period.end or 'now'}"


def _kpi_scope(clusters) -> dict:
    return {"clusters": None if clusters is None else sorted(clusters)}


def request_kpi_report(requester: User, period: kpis.Period, clusters) -> tuple[Download, bool]:
    """The printable KPI report of `period` within `clusters` (the requester's KPI scope)."""
    return _request(requester, "kpi_report", _period_params(period), _kpi_scope(clusters),
                    filename=f"kpi-report-{_stem(period)}.pdf", mimetype=PDF)


def request_kpi_table(requester: User, name: str, fmt: str, period: kpis.Period,
                      clusters) -> tuple[Download, bool]:
    """One of the dashboard's tables as CSV or XLSX (`name` among kpis' table names)."""
    mimetype = exports.CSV_MIMETYPE if fmt == "csv" else exports.XLSX_MIMETYPE
    return _request(requester, "kpi_table", {"name": name, "fmt": fmt, **_period_params(period)},
                    _kpi_scope(clusters), filename=f"kpis-{name}-{_stem(period)}.{fmt}",
                    mimetype=mimetype)


def request_brochure(requester: User, event: Event) -> tuple[Download, bool]:
    """The delegation brochure of `event` as `requester` may see it: prepared for them,
    with the contact details they may see (the caller checked `event.delegation`)."""
    scope = {"viewer": requester.id, **access.contact_scope_of(requester, event)}
    return _request(requester, "brochure", {"event_id": event.id}, scope,
                    filename=f"brochure-{event.slug}-{utcnow().date().isoformat()}.pdf",
                    mimetype=PDF, event_id=event.id)


def retry(requester: User, failed: Download) -> tuple[Download, bool]:
    """The same file asked again (a failed or expired one), built from the database as it
    is now; the caller checked that `requester` may read it."""
    params = {k: v for k, v in failed.params.items() if k != "locale"}
    return _request(requester, failed.kind, params, failed.scope, filename=failed.filename,
                    mimetype=failed.mimetype, event_id=failed.event_id)


def start(download_id: int) -> threading.Thread | None:
    """Build the download in the background once the current unit has committed (outside
    any unit: now, and the thread is returned, when it is one)."""
    return jobs.run_aside(build, download_id)


# --------------------------------------------------------------------------- building


def _build_kpi_report(download: Download, progress: Progress) -> bytes:
    content = kpis.report(_period(download), download.scope["clusters"])
    return kpis.render_report_pdf(content, progress=progress)


def _build_kpi_table(download: Download, progress: Progress) -> bytes:
    table = kpis.table(download.params["name"], _period(download), download.scope["clusters"])
    if download.params["fmt"] == "csv":
        return exports.csv_bytes(table.header, table.rows)
    return exports.xlsx_bytes(table.header, table.rows, title=table.title)


def _build_brochure(download: Download, progress: Progress) -> bytes:
    viewer = db.session.get(User, download.scope["viewer"])
    event = db.session.get(Event, download.params["event_id"])
    return brochure.render_pdf(viewer, event)


def _kpi_title(download: Download) -> str:
    return _("KPI report, %(period)s", period=_period(download).label())


def _table_title(download: Download) -> str:
    return _("KPI table “%(name)s” (%(format)s), %(period)s", name=download.params["name"],
             format=download.params["fmt"].upper(), period=_period(download).label())


def _brochure_title(download: Download) -> str:
    return _("Delegation brochure: %(event)s",
             event=notifications.event_title(download.event) if download.event else "")


KINDS: dict[str, Kind] = {
    "kpi_report": Kind(_build_kpi_report, _kpi_title),
    "kpi_table": Kind(_build_kpi_table, _table_title),
    "brochure": Kind(_build_brochure, _brochure_title),
}


def title(download: Download) -> str:
    return KINDS[download.kind].title(download)


@unit.job
def build(download_id: int) -> None:
    """Build the file from the database as it is now, recording progress; then mail its
    requesters the link."""
    with unit.reading():  # building holds no write lock; the steps are written aside
        download = db.session.get(Download, download_id)
        if download is None or download.status != DownloadStatus.QUEUED:
            return
        _step(download_id, status=DownloadStatus.RUNNING, done=0)
        try:
            with force_locale(download.params.get("locale") or "en"):
                body = KINDS[download.kind].build(download, _Progress(download_id))
        except Exception:
            log.exception("download %s (%s) failed", download_id, download.kind)
            unit.discard()  # whatever broke is rolled back; the row says it failed
            _step(download_id, status=DownloadStatus.FAILED, finished=True,
                  error=BUILD_FAILED)
            return
        now = utcnow()
        _step(download_id, status=DownloadStatus.READY, body=body, size=len(body),
              done=Download.total, finished=True, expires_at=now + KEPT_FOR)
    _mail_ready(download_id)


class _Progress(jobs.Progress):
    """A builder's progress, written aside (`_step`) at most every WRITE_EVERY seconds."""

    def __init__(self, download_id: int) -> None:
        super().__init__(lambda done, total: _step(download_id, done=done, total=total))


def _step(download_id: int, **values: Any) -> None:
    jobs.write_progress(Download, download_id, "download_progress", **values)


def _mail_ready(download_id: int) -> None:
    """The job's own write: a mail to each requester who may read the file now."""
    download = db.session.get(Download, download_id)
    link = notifications.absolute_url("downloads.show", download_id=download_id)
    for user in download.requesters:
        if not access.can(user, "download.view", download):
            continue
        # The file's name in the mail is its reader's, whatever language it is in.
        language = notifications.reader_language(user, download.event)
        with force_locale(language):
            name = title(download)
            notifications.queue(user, _("Your file is ready: %(title)s", title=name),
                                "download_ready", download=download, title=name, link=link,
                                expires_at=download.expires_at,
                                zone=localtime.known_zone(user.timezone), language=language)


# --------------------------------------------------------------------------- reading


def is_stale(download: Download, now: datetime | None = None) -> bool:
    return (download.status in UNFINISHED
            and (now or utcnow()) - download.updated_at > STALE_AFTER)


def shown_status(download: Download, now: datetime | None = None) -> DownloadStatus:
    """The status the pages show: a job that stopped advancing has failed."""
    return DownloadStatus.FAILED if is_stale(download, now) else download.status


def is_expired(download: Download, now: datetime | None = None) -> bool:
    return download.expires_at is not None and (now or utcnow()) >= download.expires_at


def error_of(download: Download, now: datetime | None = None) -> str:
    """Why the file is not there, in the reader's language."""
    if download.error:
        return _("The file could not be built. Please try again.")
    if is_stale(download, now):
        return _("The file stopped building. Please try again.")
    return ""


PAGE_SIZE = 20


def recent_for(user: User, page: int = 1) -> paging.Page:
    """The downloads `user` may read (those asked or joined, see
    `access.downloads_visible_to`), newest first, a page at a time."""
    query = access.downloads_visible_to(user).order_by(Download.id.desc())
    return paging.page_of(query, PAGE_SIZE, page=page)


def purge_expired(now: datetime | None = None) -> int:
    """Drop the files nobody may download any more (the rows stay, as a record)."""
    result = db.session.execute(
        update(Download).where(Download.expires_at <= (now or utcnow()),
                               Download.body.is_not(None))
        .values(body=None))
    return result.rowcount or 0

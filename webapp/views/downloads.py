"""Downloads: the files built in the background for the signed-in user, each one's
progress page (polling a small JSON endpoint) and the file itself.

A download is readable only by someone who asked for it and may read its content now
(`access`, "download.view"): anyone else, like an unknown id, gets 404. An expired file
answers 410 with a page that says so and offers to build it again.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer

from .. import access, ids, inputs
from ..errors import render_error
from ..extensions import db
from ..models import Download, DownloadStatus
from ..services import downloads
from . import private_download

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

def started(download: Download, joined: bool):
    """The answer to a request that asked for a file: its progress page (the job starts
    once this request has committed; a joined one runs already)."""
    if joined:
        flash(_("This file is being built already: you will get it too."), "info")
    else:
        downloads.start(download.id)
    return redirect(url_for("downloads.show", download_id=download.id), 303)


@bp.get("/")
@access.login_required
def index():
    shown = downloads.recent_for(current_user, ids.page_arg())
    return render_template("downloads/index.html", downloads=shown.items, page=shown.page,
                           has_next=shown.has_next, progress=_progress, title=downloads.title)


def _found(download_id: int, *, with_file: bool = False) -> Download:
    query = select(Download).where(Download.id == download_id)
    if with_file:
        query = query.options(undefer(Download.body))
    download = db.session.scalar(query)
    if download is None:
        abort(404)
    access.authorize("download.view", download)
    return download


def _progress(download: Download) -> dict:
    status = downloads.shown_status(download)
    expired = downloads.is_expired(download)
    return {
        "status": status.value,
        "done": download.done,
        "total": download.total,
        "percent": int(100 * download.done / download.total) if download.total else 0,
        "error": downloads.error_of(download),
        "download_url": (url_for("downloads.file", download_id=download.id)
                         if status == DownloadStatus.READY and not expired else None),
        "expires_at": download.expires_at.isoformat() if download.expires_at else None,
        "expired": expired,
    }


@bp.get("/<int:download_id>")
@access.requires_on("download.view", Download, "download_id")
def show(download_id: int):
    found = _found(download_id)
    return render_template("downloads/show.html", download=found, title=downloads.title(found),
                           progress=_progress(found))


@bp.get("/<int:download_id>/progress")
@access.requires_on("download.view", Download, "download_id")
def progress(download_id: int):
    response = jsonify(_progress(_found(download_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:download_id>/file")
@access.requires_on("download.view", Download, "download_id")
def file(download_id: int):
    found = _found(download_id, with_file=True)
    if downloads.is_expired(found) or (found.status == DownloadStatus.READY
                                       and found.body is None):
        return render_error(410, _("This file was kept for %(hours)d hours and is gone: "
                                   "build it again from its download page, from the "
                                   "database as it is now.",
                                   hours=int(downloads.KEPT_FOR.total_seconds() // 3600)))
    if found.status != DownloadStatus.READY or found.body is None:
        abort(404)
    return private_download(found.body, found.mimetype, found.filename)


@bp.post("/<int:download_id>/again")
@access.requires_on("download.view", Download, "download_id")
@inputs.takes(inputs.NoInput)
def again(download_id: int):
    """Build a failed or expired file again (a file still building is joined)."""
    found = _found(download_id)
    download, joined = downloads.retry(current_user._get_current_object(), found)
    return started(download, joined)

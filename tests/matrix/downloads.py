"""Downloads: files built in the background, each readable by those who asked for it
while they may read all it holds; anyone else, like an unknown id, gets 404. The list of
one's own downloads is every signed-in user's.

A KPI report of cluster A asked by manager A; one of cluster B asked by manager B and
joined by manager A (who may not read cluster B's rows: 404 all the same); a brochure
prepared for the organizer. An expired file answers 410, one still building 404.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import LOGIN, SIGNED_IN_200, Case, statuses
from webapp.extensions import db
from webapp.models import Download, DownloadStatus, utcnow

# A few bytes stand in for a built file: the download serves what the row holds.
FILE = b"%PDF-1.7\n% a stand-in report\n%%EOF\n"
UNKNOWN = statuses(404, anonymous=LOGIN)


def build(make, users, base):
    now = utcnow()

    def download(requesters, kind, scope, *, status=DownloadStatus.READY,
                 expires_at=now + timedelta(hours=1), body=FILE, params=None):
        row = Download(kind=kind, params=params or {"start": None, "end": None},
                       scope=scope, key=f"matrix-{kind}-{len(requesters)}-{status}",
                       requested_by_id=requesters[0].id, status=status, total=1,
                       done=1 if status == DownloadStatus.READY else 0,
                       filename="report.pdf", mimetype="application/pdf",
                       created_at=now, updated_at=now, expires_at=expires_at, body=body,
                       finished_at=now if status == DownloadStatus.READY else None,
                       event_id=(params or {}).get("event_id"))
        row.requesters.extend(requesters)
        db.session.add(row)
        db.session.flush()
        return row.id

    cluster_a = {"clusters": [base["cluster_a"].id]}
    cluster_b = {"clusters": [base["cluster_b"].id]}
    organizer = users["organizer"]
    return dict(
        download_a=download([users["manager_a"]], "kpi_report", cluster_a),
        download_b=download([users["manager_b"], users["manager_a"]], "kpi_table", cluster_b,
                            params={"name": "by_cluster", "fmt": "csv", "start": None,
                                    "end": None}),
        download_expired=download([users["manager_a"]], "kpi_report", cluster_a,
                                  expires_at=now - timedelta(hours=1)),
        download_running=download([users["manager_a"]], "kpi_report", cluster_a,
                                  status=DownloadStatus.RUNNING, expires_at=None, body=None),
        download_brochure=download(
            [organizer], "brochure",
            {"viewer": organizer.id, "all": True, "clusters": [base["organizing"].id],
             "hosts": False},
            params={"event_id": base["event"].id}),
    )


def _download(key, suffix=""):
    return lambda w: f"/downloads/{w.extra[key]}{suffix}"


def only(role, status=200):
    return statuses(404, anonymous=LOGIN, **{role: status})


CASES = [
    Case("downloads.index", "mine", "GET", lambda w: "/downloads/", SIGNED_IN_200),
    Case("downloads.index", "a page past the end", "GET", lambda w: "/downloads/?page=99",
         SIGNED_IN_200),
    Case("downloads.show", "cluster A's report", "GET", _download("download_a"),
         only("manager_a")),
    Case("downloads.show", "cluster B's table, joined by manager A", "GET",
         _download("download_b"), only("manager_b")),
    Case("downloads.show", "the organizer's brochure", "GET", _download("download_brochure"),
         only("organizer")),
    Case("downloads.show", "unknown", "GET", lambda w: "/downloads/999999", UNKNOWN),
    Case("downloads.progress", "still building", "GET",
         _download("download_running", "/progress"), only("manager_a")),
    Case("downloads.progress", "cluster B's table", "GET", _download("download_b", "/progress"),
         only("manager_b")),
    Case("downloads.progress", "unknown", "GET", lambda w: "/downloads/999999/progress",
         UNKNOWN),
    Case("downloads.file", "cluster A's report", "GET", _download("download_a", "/file"),
         only("manager_a")),
    Case("downloads.file", "the organizer's brochure", "GET",
         _download("download_brochure", "/file"), only("organizer")),
    Case("downloads.file", "kept past its day", "GET", _download("download_expired", "/file"),
         only("manager_a", 410)),
    Case("downloads.file", "still building", "GET", _download("download_running", "/file"),
         only("manager_a", 404)),
    Case("downloads.file", "unknown", "GET", lambda w: "/downloads/999999/file", UNKNOWN),
    # Cluster B's table asked again: its requester is led to the new one's page.
    Case("downloads.again", "cluster B's table", "POST", _download("download_b", "/again"),
         only("manager_b", 303)),
    Case("downloads.again", "unknown", "POST", lambda w: "/downloads/999999/again", UNKNOWN),
]

"""Backups a partner can restore: `flask backup` while the site writes, `flask restore` into
an empty database, and every archive or target a restore must refuse, on SQLite and
PostgreSQL (webapp/services/backups.py, the commands in webapp/cli.py).

The backups under load run as the operator runs them (`flask --app wsgi backup` in a
process of its own, production config) while a writer in this process commits numbered
rows, one per transaction, as fast as it can.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import create_engine, func, insert, inspect, select, table
from sqlalchemy.pool import NullPool

from tests.conftest import csrf_token
from tests.factories import PASSWORD, Factory
from tests.processes import BIN, ROOT, SECRET, scratch_database
from webapp import create_app
from webapp.extensions import db
from webapp.models import ThrottleHit, utcnow
from webapp.services import backups, logos

HERE = "https://events.partnership.example"
WRITER_KEY = "backup-writer:"
MEMBER_EMAIL = "ines.duarte@example.org"


# -- installations ---------------------------------------------------------------------------

@contextmanager
def installation(url: str, uploads: Path, *, migrate: bool = False,
                 base_url: str = HERE) -> Iterator[Flask]:
    """An app on `url` whose sessions commit for real, with its own upload folder. No app
    context is left pushed: the CLI runner pushes the app's own."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(uploads),
                     BASE_URL=base_url)
    if migrate:
        with app.app_context():
            upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def seed(app: Flask) -> dict:
    """A member of a company with a logo: what a restore must bring back to be usable."""
    png = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 90, 160)).save(png, format="PNG")
    with app.app_context():
        make = Factory()
        organization = make.organization(make.partner(), name="Duarte Sensors")
        organization.logo_filename = logos.store(
            png.getvalue(), app.config["UPLOAD_FOLDER"], max_bytes=1 << 20)
        make.user(organization, email=MEMBER_EMAIL, name="Inês Duarte")
        db.session.commit()
        logo = Path(app.config["UPLOAD_FOLDER"]) / organization.logo_filename
        return {"organization_id": organization.id, "logo": logo.name,
                "logo_bytes": logo.read_bytes()}


def state(app: Flask) -> tuple[dict[str, int], list[str]]:
    """What a refused restore must leave as it was: each table's row count and the files
    in the upload folder."""
    with app.app_context():
        with db.engine.connect() as connection:
            counts = {name: connection.execute(select(func.count()).select_from(table(name)))
                      .scalar_one() for name in inspect(connection).get_table_names()}
        db.engine.dispose()
    folder = Path(app.config["UPLOAD_FOLDER"])
    return counts, sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(backups.MANIFEST).read())


def rewritten(archive: Path, out: Path, *, manifest: dict | None = None,
              member: tuple[str, bytes] | None = None) -> Path:
    """A copy of `archive` with its manifest or one member's content replaced."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as copy:
        for info in source:
            body = source.extractfile(info).read()
            if info.name == backups.MANIFEST and manifest is not None:
                body = json.dumps(manifest).encode()
            if member is not None and info.name == member[0]:
                body = member[1]
            info.size = len(body)
            copy.addfile(info, io.BytesIO(body))
    return out


# -- the operator's commands, as processes -----------------------------------------------------

def operator_env(url: str, uploads: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "BEACHHEAD_"))}
    env.update(BEACHHEAD_CONFIG="production", SECRET_KEY=SECRET, DATABASE_URL=url,
               UPLOAD_FOLDER=str(uploads), BASE_URL=HERE, SESSION_COOKIE_SECURE="false",
               MAIL_TRANSPORT="log", PYTHONUNBUFFERED="1")
    return env


def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


class NumberedWriter(threading.Thread):
    """Commits throttle hits numbered 1, 2, 3, ..., one per transaction, as fast as it
    can, on a connection of its own; `committed` is the last number committed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=NullPool,
                                    connect_args={"timeout": 30} if "sqlite" in url else {})
        self.committed = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.engine.connect() as connection:
                while not self.stopping.is_set():
                    number = self.committed + 1
                    with connection.begin():
                        connection.execute(insert(ThrottleHit.__table__).values(
                            key=f"{WRITER_KEY}{number:07d}", created_at=utcnow()))
                    self.committed = number
        except BaseException as error:  # reported by the test
            self.error = error

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        self.engine.dispose()
        assert self.error is None, f"the writer failed: {self.error!r}"


def written_numbers(app: Flask) -> list[int]:
    with app.app_context():
        keys = db.session.scalars(select(ThrottleHit.key)
                                  .where(ThrottleHit.key.startswith(WRITER_KEY))).all()
        db.session.remove()
    return sorted(int(key[len(WRITER_KEY):]) for key in keys)


def backup_under_writes(source_url: str, uploads: Path, archive: Path,
                        **env: str) -> tuple[int, int]:
    """`flask backup` in its own process while the writer commits: the numbers committed
    when the process started and when it ended."""
    writer = NumberedWriter(source_url)
    writer.start()
    try:
        while writer.committed < 50:  # the writer is under way
            writer.stopping.wait(0.01)
        before = writer.committed
        done = flask_command({**operator_env(source_url, uploads), **env}, "backup",
                             "--output", str(archive))
        after = writer.committed
    finally:
        writer.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Backup written to {archive}" in done.stdout
    return before, after


def check_restored_and_serving(source: dict, archive: Path, target_url: str,
                               uploads: Path, before: int, after: int) -> None:
    """Restore into the empty target, migrate, then the restored member signs in and
    sees their company's logo; the writer's rows are exactly 1..N, N as the manifest
    counted."""
    manifest = manifest_of(archive)
    counted = manifest["row_counts"]["throttle_hits"]
    # The snapshot was taken while the writer committed, neither before nor after it.
    assert before < counted < after

    env = operator_env(target_url, uploads)
    restored = flask_command(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "as the manifest counted, and 1 uploaded file(s)" in restored.stdout
    upgraded = flask_command(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr

    with installation(target_url, uploads) as target:
        assert written_numbers(target) == list(range(1, counted + 1))
        assert (uploads / source["logo"]).read_bytes() == source["logo_bytes"]
        client = target.test_client()
        signed_in = client.post("/login", data={"email": MEMBER_EMAIL, "password": PASSWORD,
                                                "csrf_token": csrf_token(client)})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
        logo = client.get(f"/organizations/{source['organization_id']}/logo")
        assert logo.status_code == 200 and logo.data == source["logo_bytes"]


# -- under writes: SQLite and PostgreSQL ------------------------------------------------------

@pytest.mark.sqlite
def test_sqlite_backup_under_writes_restores_a_gap_free_prefix_that_matches_the_manifest(
        tmp_path):
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    with installation(source_url, tmp_path / "source-uploads", migrate=True) as app:
        source = seed(app)
    archive = tmp_path / "nightly.tar.gz"
    before, after = backup_under_writes(source_url, tmp_path / "source-uploads", archive)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds personal data
    check_restored_and_serving(source, archive, f"sqlite:///{tmp_path / 'restored.db'}",
                               tmp_path / "restored-uploads", before, after)


@pytest.mark.postgres
def test_postgresql_backup_under_writes_restores_a_gap_free_prefix_that_matches_the_manifest(
        tmp_path):
    server = os.environ["TEST_DATABASE_URL"]
    # Named after this run, so two runs on one server never share them.
    with scratch_database(server, f"beachhead_backup_source_{os.getpid()}") as source_url, \
            scratch_database(server, f"beachhead_backup_target_{os.getpid()}") as target_url:
        with installation(source_url, tmp_path / "source-uploads", migrate=True) as app:
            source = seed(app)
        archive = tmp_path / "nightly.tar.gz"
        # A migration-like lock on a table makes the backup wait longer than a web
        # request's (and a job's) limit: the backup waits with its own and goes on.
        with table_locked(source_url, "audit_entries", seconds=4):
            before, after = backup_under_writes(
                source_url, tmp_path / "source-uploads", archive,
                DATABASE_TIMEOUT="1", DATABASE_JOB_TIMEOUT="1")
        manifest = manifest_of(archive)
        assert manifest["database"]["kind"] == "postgresql"
        assert set(manifest["members"]) == {"database.pgdump", f"uploads/{source['logo']}"}

        # An archive of another kind of database, and the source itself (not empty): refused.
        with installation(target_url, tmp_path / "restored-uploads") as target:
            untouched = state(target)
            sqlite_archive = _sqlite_archive(tmp_path)
            refused = run(target, "restore", str(sqlite_archive))
            assert refused.exit_code == 1
            assert "holds a sqlite database and this installation runs on postgresql" in \
                refused.output
            assert state(target) == untouched
        with installation(source_url, tmp_path / "source-uploads") as app:
            untouched = state(app)
            refused = run(app, "restore", str(archive))
            assert "The database is not empty" in refused.output
            assert state(app) == untouched

        check_restored_and_serving(source, archive, target_url, tmp_path / "restored-uploads",
                                   before, after)


@contextmanager
def table_locked(url: str, name: str, seconds: float) -> Iterator[None]:
    """Another session holds an ACCESS EXCLUSIVE lock on `name` for `seconds`."""
    import psycopg

    locked = threading.Event()

    def hold() -> None:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(f'LOCK TABLE "{name}" IN ACCESS EXCLUSIVE MODE')
            locked.set()
            time.sleep(seconds)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        holder.join(timeout=seconds + 10)


def _sqlite_archive(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'other-kind.db'}"
    with installation(url, tmp_path / "other-kind-uploads", migrate=True) as app:
        archive = tmp_path / "other-kind.tar.gz"
        assert run(app, "backup", "--output", str(archive)).exit_code == 0
    return archive


# -- bad input: refused with a clear message, nothing changed --------------------------------

@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """One SQLite installation with a member and a logo, and its archive."""
    folder = tmp_path_factory.mktemp("backups")
    url = f"sqlite:///{folder / 'source.db'}"
    with installation(url, folder / "source-uploads", migrate=True) as app:
        seed(app)
        archive = folder / "source.tar.gz"
        result = run(app, "backup", "--output", str(archive))
        assert result.exit_code == 0, result.output
    return {"url": url, "uploads": folder / "source-uploads", "archive": archive}


@pytest.fixture
def empty_target(tmp_path) -> Iterator[Flask]:
    with installation(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "uploads") as app:
        yield app


def refused(target: Flask, archive: Path, *extra: str) -> str:
    """Restore into `target`: refused with exit code 1, target as it was; the message."""
    untouched = state(target)
    result = run(target, "restore", str(archive), *extra)
    assert result.exit_code == 1, result.output
    assert "Nothing was restored" in result.output or "nothing was restored" in result.output
    assert state(target) == untouched
    return result.output


def test_restore_refuses_a_truncated_archive(made, empty_target, tmp_path):
    whole = made["archive"].read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    assert "is truncated or damaged" in refused(empty_target, cut)


def test_restore_refuses_an_archive_whose_database_does_not_match_its_checksum(
        made, empty_target, tmp_path):
    with tarfile.open(made["archive"], "r:gz") as tar:
        database = bytearray(tar.extractfile("database.sqlite3").read())
    database[-100] ^= 0xFF  # one flipped byte, archive otherwise well-formed
    altered = rewritten(made["archive"], tmp_path / "altered.tar.gz",
                        member=("database.sqlite3", bytes(database)))
    assert "database.sqlite3 does not match its checksum" in refused(empty_target, altered)


def test_restore_refuses_an_archive_from_a_newer_schema(made, empty_target, tmp_path):
    manifest = manifest_of(made["archive"])
    manifest["schema_revision"] = "0099_from_a_newer_release"
    newer = rewritten(made["archive"], tmp_path / "newer.tar.gz", manifest=manifest)
    message = refused(empty_target, newer)
    assert "revision 0099_from_a_newer_release) is newer than this version" in message


def test_restore_refuses_another_installations_archive_unless_told(made, tmp_path):
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    with installation(url, tmp_path / "uploads", base_url="https://staging.example") as staging:
        message = refused(staging, made["archive"])
        assert f"made by the installation at {HERE}" in message
        assert "--from-another-installation" in message

        moved = run(staging, "restore", str(made["archive"]), "--from-another-installation")
        assert moved.exit_code == 0, moved.output
        counts, uploads = state(staging)
        assert counts == manifest_of(made["archive"])["row_counts"]
        assert len(uploads) == 1


def test_restore_refuses_a_database_that_is_not_empty(made):
    with installation(made["url"], made["uploads"]) as source:
        message = refused(source, made["archive"])
    assert "The database is not empty" in message


def test_restore_refuses_what_is_not_a_backup(empty_target, tmp_path):
    stray = tmp_path / "notes.tar.gz"
    with tarfile.open(stray, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/job")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"x=1"))
    assert "which no backup writes" in refused(empty_target, stray)
    assert "There is no archive at" in refused(empty_target, tmp_path / "missing.tar.gz")

"""Backups a partner can restore: one archive holding a consistent snapshot of the
database, the uploaded files (organization logos) and a manifest that says what it holds.

    manifest.json            format, created time (UTC), database kind, schema revision,
                             installation, row count per table, sha256 and size per member
    database.sqlite3         SQLite: a copy made by SQLite's online backup API
    database.pgdump          PostgreSQL: `pg_dump --format=custom`
    uploads/<stored name>    the logos, as stored

The row counts are taken in the same snapshot as the dump (SQLite: counted in the copy;
PostgreSQL: in the transaction whose snapshot pg_dump is given), so a restore can prove
it brought back exactly what the manifest says.

A restore goes only into an empty database (no tables, or an empty alembic_version), and
everything is checked before anything is written: the archive's members against their
checksums, its database kind, its schema revision against the migrations this code
knows, and its installation (the BASE_URL it was made under: an archive made by another
installation, say a staging copy, is refused unless the operator says that is the point).
Services know no CLI: they raise `BackupRefused` with a message for the operator.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from ..extensions import db
from . import logos
from .errors import DomainError

FORMAT = "beachhead-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024
_PG_MAJOR = re.compile(r"(\d+)")


class BackupRefused(DomainError):
    """A backup or restore that cannot be done; nothing was changed."""


# --------------------------------------------------------------------------- backup


def default_archive_path(now: datetime | None = None) -> Path:
    """BACKUP_FOLDER/beachhead-<UTC time>.tar.gz: names sort by age."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.config["BACKUP_FOLDER"]) / f"beachhead-{stamp}.tar.gz"


def create(output: Path) -> dict:
    """Write the archive to `output` and return its manifest.

    Runs in a reading unit of work: the snapshot is the unit's own transaction, held open
    while the database is copied (SQLite) or dumped (pg_dump, given that snapshot). The
    uploads are copied after the snapshot, so every logo the snapshot names was stored
    before it (logos are written before their row commits)."""
    kind = db.engine.dialect.name
    if kind not in DATABASE_MEMBERS:
        raise BackupRefused("backup.database_kind", kind=kind)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="beachhead-backup-") as work:
        dump = Path(work) / DATABASE_MEMBERS[kind]
        snapshot = (_snapshot_sqlite if kind == "sqlite" else _snapshot_postgresql)(dump)
        uploads = _stored_uploads()
        missing = sorted(set(snapshot.pop("logos")) - {path.name for path in uploads})
        members = {dump.name: _digest(dump)}
        members.update({UPLOADS + path.name: _digest(path) for path in uploads})
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace(
                "+00:00", "Z"),
            "app": current_app.config["APP_NAME"],
            "installation": current_app.config["BASE_URL"],
            "database": {"kind": kind, **snapshot.pop("database")},
            "schema_revision": snapshot.pop("revision"),
            "row_counts": snapshot.pop("row_counts"),
            "missing_uploads": missing,
            "members": members,
        }
        _write_archive(output, manifest, dump, uploads)
    return manifest


def _snapshot_sqlite(dump: Path) -> dict:
    """Copy the database with SQLite's online backup API, in one step: the copy is one
    consistent state, while other connections keep writing (WAL). Everything the manifest
    says about the data is then read from the copy itself."""
    source = db.session.connection().connection.driver_connection
    copy = sqlite3.connect(dump)
    try:
        source.backup(copy)  # pages=-1: one step, under one read transaction
        # A self-contained file: no -wal beside it, whatever mode the source runs in.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    engine = create_engine(f"sqlite:///{dump}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            described = _describe(connection)
    finally:
        engine.dispose()
    return {"database": {"name": Path(db.engine.url.database or "").name,
                         "server_version": sqlite3.sqlite_version}, **described}


def _snapshot_postgresql(dump: Path) -> dict:
    """pg_dump in the snapshot of the unit's own REPEATABLE READ transaction, exported
    for it, so the row counts read in that transaction are the dump's. The statements
    have the maintenance limit (the web's short one would cut the counts off); pg_dump
    turns statement timeouts off for itself."""
    connection = db.session.connection(
        execution_options={"isolation_level": "REPEATABLE READ"})
    _long_statements(connection)
    snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    described = _describe(connection)
    server = connection.execute(text("SHOW server_version")).scalar_one()
    name = connection.execute(text("SELECT current_database()")).scalar_one()
    tool = _pg_tool_version("pg_dump")
    if _major(tool) < _major(server):
        raise BackupRefused("backup.pg_dump_too_old", tool=tool, server=server,
                            major=_major(server))
    conninfo, env = _libpq(db.engine.url)
    lock_wait_ms = int(current_app.config["BACKUP_LOCK_TIMEOUT"] * 1000)
    _run_tool(["pg_dump", "--format=custom", f"--snapshot={snapshot_id}",
               f"--lock-wait-timeout={lock_wait_ms}", f"--file={dump}",
               f"--dbname={conninfo}"], env, "backup.pg_dump_failed")
    return {"database": {"name": name, "server_version": server, "pg_dump_version": tool},
            **described}


def _long_statements(connection: Connection) -> None:
    """PostgreSQL: this transaction's statements get the maintenance limit
    (DATABASE_MAINTENANCE_TIMEOUT, none by default), never a web request's few seconds,
    whichever limit the pooled connection was opened with."""
    if connection.dialect.name == "postgresql":
        seconds = float(current_app.config.get("DATABASE_MAINTENANCE_TIMEOUT", 0))
        connection.execute(text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))


def _describe(connection: Connection) -> dict:
    """What the manifest says of a snapshot: its row count per table, schema revision,
    and the logo files its organizations name."""
    tables = sorted(inspect(connection).get_table_names())
    return {"row_counts": _row_counts(connection, tables),
            "revision": _revision_in(connection, tables),
            "logos": _logos_in(connection, tables)}


def _row_counts(connection: Connection, tables: list[str]) -> dict[str, int]:
    return {name: connection.execute(select(func.count()).select_from(table(name)))
            .scalar_one() for name in tables}


def _revision_in(connection: Connection, tables: list[str]) -> str:
    """The schema revision the snapshot is at (alembic_version)."""
    revisions = (list(connection.execute(
        select(column("version_num")).select_from(table("alembic_version"))).scalars())
        if "alembic_version" in tables else [])
    if len(revisions) != 1:
        raise BackupRefused("backup.no_schema_revision")
    return revisions[0]


def _logos_in(connection: Connection, tables: list[str]) -> list[str]:
    """The logo files the snapshot's organizations name."""
    if "organizations" not in tables:
        return []
    logo = column("logo_filename")
    return list(connection.execute(
        select(logo).select_from(table("organizations")).where(logo != "")).scalars())


def _stored_uploads() -> list[Path]:
    """The files the app stored in UPLOAD_FOLDER (by their names: never partial files)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and logos.is_stored_name(path.name))


def _digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            sha.update(chunk)
    return {"sha256": sha.hexdigest(), "bytes": path.stat().st_size}


def _write_archive(output: Path, manifest: dict, dump: Path, uploads: list[Path]) -> None:
    """A .tar.gz with the manifest first, written under a temporary name and renamed, so
    an archive under its final name is always complete. Readable by its owner only: it
    holds everyone's personal data."""
    partial = output.with_name(f".{output.name}.partial")
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw, \
                tarfile.open(fileobj=raw, mode="w:gz") as archive:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(datetime.now(UTC).timestamp()), 0o600
            archive.addfile(info, io.BytesIO(body))
            archive.add(dump, arcname=dump.name, recursive=False)
            for path in uploads:
                archive.add(path, arcname=UPLOADS + path.name, recursive=False)
            archive.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


# --------------------------------------------------------------------------- restore


@contextmanager
def unpacked(archive: Path) -> Iterator[tuple[dict, Path]]:
    """The archive's manifest and a folder with its members, each checked against the
    manifest's checksum: a truncated or altered archive is refused here, before anything
    is written anywhere."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupRefused("restore.no_archive", archive=str(archive))
    with tempfile.TemporaryDirectory(prefix="beachhead-restore-") as work:
        folder = Path(work)
        try:
            manifest, found = _extract(archive, folder)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            raise BackupRefused("restore.archive_damaged", archive=str(archive),
                                error=str(error)) from None
        _check_members(archive, manifest, found)
        yield manifest, folder


def _extract(archive: Path, folder: Path) -> tuple[dict, dict[str, dict]]:
    """Read every member once, hashing it as it is written out; only the names a backup
    writes are accepted (no paths, links or devices)."""
    manifest = None
    found: dict[str, dict] = {}
    with tarfile.open(archive, mode="r:gz") as tar:
        for member in tar:
            name = member.name
            if not member.isfile() or not _acceptable_member(name):
                raise BackupRefused("restore.foreign_member", archive=str(archive),
                                    name=repr(name))
            stream = tar.extractfile(member)
            if name == MANIFEST:
                manifest = _parse_manifest(archive, stream.read())
                continue
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            sha = hashlib.sha256()
            with target.open("wb") as out:
                while chunk := stream.read(_CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
            found[name] = {"sha256": sha.hexdigest(), "bytes": target.stat().st_size}
    if manifest is None:
        raise BackupRefused("restore.no_manifest", archive=str(archive))
    return manifest, found


def _acceptable_member(name: str) -> bool:
    if name == MANIFEST or name in DATABASE_MEMBERS.values():
        return True
    return name.startswith(UPLOADS) and logos.is_stored_name(name[len(UPLOADS):])


def _parse_manifest(archive: Path, body: bytes) -> dict:
    try:
        manifest = json.loads(body)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("restore.unreadable_manifest", archive=str(archive))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused("restore.other_format", archive=str(archive),
                            theirs=str(manifest.get("format_version")), ours=FORMAT_VERSION)
    return manifest


def _check_members(archive: Path, manifest: dict, found: dict[str, dict]) -> None:
    expected = manifest.get("members") or {}
    kind = (manifest.get("database") or {}).get("kind")
    problems = [f"{name} is missing" for name in sorted(set(expected) - set(found))]
    problems += [f"{name} is not listed in the manifest"
                 for name in sorted(set(found) - set(expected))]
    problems += [f"{name} does not match its checksum" for name in sorted(found)
                 if name in expected and found[name] != expected[name]]
    if DATABASE_MEMBERS.get(kind) not in expected:
        problems.append("the database is missing")
    if problems:
        raise BackupRefused("restore.members_damaged", archive=str(archive),
                            problems="; ".join(problems))


def check_fits(manifest: dict, *, from_another_installation: bool = False) -> bool:
    """Refuse an archive this database cannot take: another kind of database, a schema
    newer than this code's migrations, another installation's data. Returns whether the
    archive's schema is older than this code's (then `flask db upgrade` follows)."""
    kind = db.engine.dialect.name
    theirs = manifest["database"]["kind"]
    if theirs != kind:
        raise BackupRefused("restore.other_database_kind", theirs=theirs, kind=kind)
    scripts = _migration_scripts()
    revision = manifest["schema_revision"]
    heads = scripts.get_heads()
    try:
        known = scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown revision
        known = False
    if not known:
        raise BackupRefused("restore.newer_schema", revision=revision,
                            heads=", ".join(heads))
    here = current_app.config["BASE_URL"]
    if manifest.get("installation") != here and not from_another_installation:
        raise BackupRefused("restore.other_installation",
                            installation=str(manifest.get("installation")),
                            database=repr(manifest["database"].get("name")), here=here)
    return revision not in heads


def _migration_scripts():
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def check_empty() -> None:
    """The database holds no table but, at most, an empty alembic_version (what
    `createdb`, a new SQLite file or a failed first migration leave)."""
    connection = db.session.connection()
    tables = set(inspect(connection).get_table_names())
    stamped = ("alembic_version" in tables and connection.execute(
        text("SELECT count(*) FROM alembic_version")).scalar_one())
    others = sorted(tables - {"alembic_version"})
    if others or stamped:
        listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        if others:
            raise BackupRefused("restore.database_has_tables", tables=listed)
        raise BackupRefused("restore.database_has_revision")


def load_database(manifest: dict, folder: Path) -> None:
    """Load the archive's database into this (empty, checked) one, all or nothing."""
    dump = folder / DATABASE_MEMBERS[manifest["database"]["kind"]]
    if db.engine.dialect.name == "sqlite":
        _load_sqlite(dump)
    else:
        _load_postgresql(dump)


def _load_sqlite(dump: Path) -> None:
    """SQLite's backup API, copying into this database in one step under its write lock:
    another connection sees the whole database or none of it."""
    source = sqlite3.connect(dump)
    target = db.engine.raw_connection()
    try:
        source.backup(target.driver_connection)
    finally:
        target.close()
        source.close()
    db.engine.dispose()  # pooled connections start over on the restored file


def _load_postgresql(dump: Path) -> None:
    """pg_restore in one transaction (all or nothing), owned by whoever connects here:
    the archive's roles need not exist on this server. `--clean --if-exists` drops no
    more than the empty alembic_version that check_empty allowed."""
    conninfo, env = _libpq(db.engine.url)
    _run_tool(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
               "--no-privileges", "--clean", "--if-exists", f"--dbname={conninfo}",
               str(dump)], env, "restore.pg_restore_failed")


def check_counts(manifest: dict) -> None:
    """After loading: the database holds the manifest's tables, each with the rows the
    manifest counted."""
    connection = db.session.connection()
    _long_statements(connection)
    tables = sorted(inspect(connection).get_table_names())
    found = _row_counts(connection, tables)
    expected = manifest["row_counts"]
    wrong = [f"{name}: {found.get(name, 'no table')} row(s), the manifest says "
             f"{expected.get(name, 'no table')}"
             for name in sorted(set(found) | set(expected))
             if found.get(name) != expected.get(name)]
    if wrong:
        raise BackupRefused("restore.rows_differ", differences="; ".join(wrong))


def restore_uploads(folder: Path) -> int:
    """Put the archive's logos back into UPLOAD_FOLDER (each written whole, then renamed)."""
    source = folder / UPLOADS.rstrip("/")
    if not source.is_dir():
        return 0
    target = Path(current_app.config["UPLOAD_FOLDER"])
    target.mkdir(parents=True, exist_ok=True)
    restored = 0
    for path in sorted(source.iterdir()):
        partial = target / f".{path.name}.part"
        shutil.copyfile(path, partial)
        os.replace(partial, target / path.name)
        restored += 1
    return restored


# --------------------------------------------------------------------------- PostgreSQL tools


def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq connection string for pg_dump/pg_restore, with the password passed in the
    environment, never on the command line (where `ps` shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool_version(tool: str) -> str:
    try:
        # A fixed tool name and argument list, no shell.
        out = subprocess.run([tool, "--version"], capture_output=True, text=True,  # noqa: S603
                             check=True, timeout=30).stdout
    except FileNotFoundError:
        raise BackupRefused("backup.tool_missing", tool=tool) from None
    return out.strip().split()[-1] if out.strip() else "unknown"


def _major(version: str) -> int:
    match = _PG_MAJOR.search(version)
    return int(match.group(1)) if match else 0


def _run_tool(args: list[str], env: dict, failed: str) -> None:
    """Run a PostgreSQL tool (`args[0]`); `failed` is the code of its failure."""
    tool = args[0]
    try:
        # pg_dump/pg_restore with arguments built here, no shell.
        result = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError:
        raise BackupRefused("backup.tool_missing", tool=tool) from None
    if result.returncode != 0:
        raise BackupRefused(failed, returncode=result.returncode,
                            output=result.stderr.strip()[-2000:])

"""Flask commands: `flask --app wsgi create-admin EMAIL`, `flask --app wsgi demo`,
`flask --app wsgi tick` (run it from cron every minute), `flask --app wsgi outbox`,
`flask --app wsgi worker` (the RQ worker, with REDIS_URL), and `flask --app wsgi backup` /
`flask --app wsgi restore ARCHIVE` (services.backups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from . import localtime, unit
from .extensions import db
from .models import OutboxStatus, User, utcnow
from .services import accounts
from .services.errors import DomainError

# Mail still due this long after it was written lost its own delivery job.
LOST_AFTER = timedelta(minutes=1)


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(outbox_command)
    app.cli.add_command(tick_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _instant(ctx, param, value: str | None) -> datetime | None:
    """--now: an ISO 8601 time with its UTC offset (or Z), inside the events' years (a
    bare local time is ambiguous; a year 9999 has no reminders to find)."""
    if value is None:
        return None
    try:
        return localtime.instant_arg(value)
    except localtime.NotALocalTime as refusal:
        raise click.BadParameter(refusal.message) from None


@click.command("tick")
@click.option("--now", "now", callback=_instant, metavar="ISO-TIME",
              help="Find the reminders and surveys due as of this instant (ISO 8601 "
                   "with offset); "
                   "default: now. Digests, retries and badge files keep the real clock.")
@with_appcontext
def tick_command(now: datetime | None) -> None:
    """Do what is due: event reminders, mission surveys, meeting requests expired, the
    daily digests, then every mail due (retries included), and drop the badge and
    download files kept past their time. With REDIS_URL the reminders, surveys and the
    mail are queued for the workers; without, done here.

    Idempotent and safe to overlap, so cron can run it every minute (reminders found late
    are still sent while their event has not started, survey invitations more than 14
    days late are skipped).
    """
    from .services import notifications

    started = utcnow()
    with unit.of_work("command tick") as tick:
        done = _tick(started, now or started)
    # Read after the unit: its commit has handed the mail and the jobs on (sent here
    # without REDIS_URL), so the outbox below is what is left.
    if done.mailed is None:
        done.mailed = f"{notifications.sent_since(started)} message(s) sent"
    left = notifications.counts()
    click.echo(
        f"tick: {done.reminded}; {done.surveyed}; {done.digests} digest(s) queued, "
        f"{done.mailed}; outbox: {left[OutboxStatus.PENDING]} pending, "
        f"{left[OutboxStatus.FAILED]} failed; {done.purged} expired file(s) dropped; "
        f"{done.expired} meeting request(s) expired."
    )
    if tick.unqueued:
        click.echo(f"tick: Redis did not answer, so {tick.unqueued} job(s) were not queued; "
                   "their work waits in the database for the next tick.")


@dataclass
class _Tick:
    """What a tick did, for its summary line."""

    reminded: str
    surveyed: str
    digests: int
    purged: int
    mailed: str | None  # None: the mail is sent after the commit, counted then
    expired: int = 0  # meeting requests left unanswered past their time


def _tick(started: datetime, now: datetime) -> _Tick:
    """The tick's unit. The claims of reminders and surveys come first, each event's
    written aside (they must stand whatever happens next); then the unit's own writes
    (the digests cut, the expired files dropped), committed once, after which the mail
    and the jobs are handed on."""
    from .services import (
        badge_batches,
        downloads,
        jobs,
        meeting_outcomes,
        meeting_requests,
        notifications,
        registration_mail,
        reminders,
        surveys,
    )

    # --now moves only the reminders' and surveys' clock: a digest cut or a file purge in
    # the future would suppress digests and drop files until the real clock caught up.
    # Reminders and digests first: they are outbox rows too, and go out in this same tick.
    if jobs.in_background():
        events = reminders.due_events(now)
        for event_id in events:
            jobs.enqueue(reminders.remind, event_id, now.isoformat())
        reminded = f"reminders of {len(events)} event(s) for the workers"
        missions = surveys.due_events(now)
        for event_id in missions:
            jobs.enqueue(surveys.survey, event_id, now.isoformat())
        surveyed = f"surveys of {len(missions)} mission(s) for the workers"
    else:
        due = reminders.queue_due(now)
        reminded = (f"{due.queued} reminder(s) queued ({due.late} late), {due.skipped} "
                    f"skipped (event started or superseded)")
        asked = surveys.queue_due(now)
        surveyed = (f"{asked.invited} survey invitation(s) and {asked.reminded} survey "
                    f"reminder(s) queued, {asked.skipped} skipped as late")
    # Meetings' follow-ups, claimed aside like the surveys (a few rows per event: here
    # whether or not the workers take the mail).
    followed_up = meeting_outcomes.queue_due_follow_ups(now)
    surveyed = f"{surveyed}, {followed_up} meeting follow-up(s) queued"
    # Like the digests, on the real clock: --now must not expire requests early.
    expired = meeting_requests.expire_due(started)
    digests = registration_mail.queue_due_digests()
    purged = badge_batches.purge_expired() + downloads.purge_expired()
    if jobs.in_background():
        # Retries, and mail whose own job was lost (Redis was down when it committed).
        handed = notifications.enqueue_due(written_before=started - LOST_AFTER)
        mailed = f"{handed} message(s) for the workers"
    else:
        jobs.enqueue(notifications.deliver_due)  # every mail due, retries included
        mailed = None
    return _Tick(reminded, surveyed, digests, purged, mailed, expired)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for tests and "
                                            "benchmarks); default: wait for jobs.")
@click.option("--reconnect-initial", type=click.FloatRange(min=0.05), metavar="SECONDS",
              help="First wait before trying Redis again when it does not answer "
                   "(default: WORKER_RECONNECT_INITIAL, 1 s).")
@click.option("--reconnect-max", type=click.FloatRange(min=0.05), metavar="SECONDS",
              help="Longest wait between two tries, the waits doubling up to it "
                   "(default: WORKER_RECONNECT_MAX, 30 s).")
@with_appcontext
def worker_command(burst: bool, reconnect_initial: float | None,
                   reconnect_max: float | None) -> None:
    """Run a worker for the background jobs (mail, reminders, badge batches) on Redis.

    Start as many as the load needs, on any host that reaches the same PostgreSQL and
    Redis. It outlives a Redis outage, trying again with growing waits, and writes a
    heartbeat to the database that the admin's jobs page shows; run it under a
    supervisor (systemd, a Procfile) that restarts it should it die anyway.
    """
    from .services import jobs

    if not jobs.in_background():
        raise click.ClickException(
            "REDIS_URL is not set, so there is no queue to work on: without it the "
            "background jobs run inline and no worker is needed.")
    jobs.work(burst=burst, reconnect_initial=reconnect_initial, reconnect_max=reconnect_max)


@click.group("outbox", invoke_without_command=True)
@click.pass_context
@with_appcontext
def outbox_command(ctx: click.Context) -> None:
    """The mail outbox: without a command, list the pending and failed messages."""
    if ctx.invoked_subcommand is not None:
        return
    from .services import jobs, notifications

    messages = notifications.undelivered()
    if not messages:
        click.echo("The outbox is empty: every message has been sent.")
        return
    click.echo(f"{'id':>6}  {'status':<7}  {'attempts':>8}  {'next attempt (UTC)':<19}  "
               "to / subject / last error")
    for message in messages:
        next_attempt = (message.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S")
                        if message.status == OutboxStatus.PENDING else "-")
        click.echo(f"{message.id:>6}  {message.status.value:<7}  {message.attempts:>8}  "
                   f"{next_attempt:<19}  {message.to_address}")
        click.echo(f"{'':>48}{message.subject}")
        if message.last_error:
            click.echo(f"{'':>48}{jobs.last_line(message.last_error)[:200]}")


@outbox_command.command("send")
@with_appcontext
@unit.command
def outbox_send_command() -> None:
    """Send the messages that are due (retries included)."""
    from .services import notifications

    sent = notifications.send_due(limit=1000)
    click.echo(f"Sent {sent} message(s).")


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Where to write the archive (.tar.gz); default: "
                   "BACKUP_FOLDER/beachhead-<UTC time>.tar.gz.")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Write one archive: a consistent snapshot of the database, the uploaded logos and a
    manifest (time, schema revision, row count per table, checksums).

    Safe while the site runs: writers go on (the snapshot is SQLite's online backup or
    pg_dump's); PostgreSQL needs pg_dump of the server's major version or newer.
    """
    from .services import backups

    path = output or backups.default_archive_path()
    try:
        # A reading unit: the snapshot is its transaction. A writing one would hold
        # SQLite's write lock, and stop every writer, for the whole backup.
        with unit.of_work("command backup", writing=False):
            manifest = backups.create(path)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except OperationalError as error:
        raise click.ClickException(f"The database did not answer ({error.orig}); no archive "
                                   "was written.") from None
    counts = manifest["row_counts"]
    uploads = sum(1 for name in manifest["members"] if name.startswith(backups.UPLOADS))
    click.echo(f"Backup written to {path}: {manifest['database']['kind']} database at "
               f"schema revision {manifest['schema_revision']}, {sum(counts.values())} "
               f"row(s) in {len(counts)} table(s), {uploads} uploaded file(s).")
    if manifest["missing_uploads"]:
        click.echo("Warning: logos named by the database were not in UPLOAD_FOLDER: "
                   + ", ".join(manifest["missing_uploads"]), err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-another-installation", is_flag=True,
              help="Accept an archive made under another BASE_URL (moving an installation "
                   "to a new address or host on purpose).")
@with_appcontext
def restore_command(archive: Path, from_another_installation: bool) -> None:
    """Load an archive made by `backup` into this installation's database, which must be
    empty, and put its uploaded logos back. Everything is checked first (checksums,
    database kind, schema revision, installation): a refused restore changes nothing.
    Then run `flask --app wsgi db upgrade` if the archive's schema is older.
    """
    from .services import backups

    try:
        with backups.unpacked(archive) as (manifest, folder):
            with unit.of_work("command restore", writing=False):
                older = backups.check_fits(
                    manifest, from_another_installation=from_another_installation)
                backups.check_empty()
            # The database's own tool loads it, in its own single transaction (pg_restore,
            # SQLite's backup API): not through the session.
            backups.load_database(manifest, folder)
            with unit.of_work("command restore: check", writing=False):
                backups.check_counts(manifest)
            uploads = backups.restore_uploads(folder)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except OperationalError as error:
        raise click.ClickException(f"The database did not answer ({error.orig}); the restore "
                                   "did not finish. Restore again into a new, empty "
                                   "database.") from None
    counts = manifest["row_counts"]
    click.echo(f"Restored {archive} (made {manifest['created_at']}): "
               f"{sum(counts.values())} row(s) in {len(counts)} table(s), as the manifest "
               f"counted, and {uploads} uploaded file(s).")
    if older:
        click.echo(f"The archive's schema (revision {manifest['schema_revision']}) is older "
                   "than this version's: run `flask --app wsgi db upgrade` before serving.")


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="Display name.")
@click.password_option(help="Asked for when not given.")
@with_appcontext
@unit.command
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an admin account (or make an existing account admin)."""
    try:
        user = accounts.create_admin(email, name, password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Admin ready: {user.email}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only into a database without any account.")
@click.option("--scale", type=click.IntRange(1, 100), default=1, show_default=True,
              metavar="N",
              help="N times the demo's activity: 1 is the demo itself; 10 adds about "
                   "1,000 events and 20,000 registrations of the years around it.")
@with_appcontext
@unit.command
def demo_command(if_empty: bool, scale: int) -> None:
    """Load the partnership's demo data (idempotent; refused in production)."""
    if not current_app.config.get("DEMO_ALLOWED"):
        raise click.ClickException("The demo data is not loaded with the production config.")
    from . import demo, demo_scale

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("The database already has accounts; the demo data was not loaded.")
        demo_admin = demo.DEMO_ACCOUNTS[0].email
        if db.session.scalar(select(User.id).where(User.email == demo_admin)) is not None:
            click.echo(demo.describe_logins())
        return
    now = utcnow()
    summary = demo.load(now)
    click.echo(summary.describe())
    if scale > 1:
        click.echo(demo_scale.grow(scale, now).describe())

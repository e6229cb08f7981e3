"""Email through the outbox: queue a message in the caller's transaction, send it after
the commit.

`queue()` renders the mail templates into an OutboxMessage row; nothing leaves before the
transaction commits, and a rollback takes the mail with it. Mail written while a lock is
held (`later=True`: an application's, a decision's) is written as what renders it instead
(its template, language, and context of primitives and row ids, `OutboxMessage.render`);
the delivery renders it, keeps the bodies with the row and sends them. A message whose
rows were deleted meanwhile is given up on at once (FAILED, with the reason), the others
of its job go on. The new messages of a unit
of work's flushes are gathered into `deliver` jobs of up to DELIVERY_CHUNK messages each
(`services.jobs`), which run once the unit that wrote them has committed: right after it
in this process, or on an RQ worker when REDIS_URL is set.
It hands each message to the transport MAIL_TRANSPORT names, marks it sent, and
schedules a retry with backoff (RETRY_DELAYS) when the transport fails; `flask tick`
sends the retries that are due (`send_due()`, or with RQ `enqueue_due()`), and after the
last one the message is FAILED, listed with the failed jobs for an admin to retry.

Several senders may run at once (two workers, a tick and a request). Each message is
claimed in its own short write transaction before it is sent: the claim moves its
`next_attempt_at` forward by a lease, conditionally on it still being due, so exactly one
sender wins it. A sender that dies between the SMTP handover and marking the message sent
leaves it to be retried when the lease ends: the one case where a mail can go out twice.

The transports (MAIL_TRANSPORT): "smtp" sends through MAIL_SERVER; "mailbox", for a
developer's machine without one, delivers into the local mailbox, which is the delivered
rows themselves (read at /dev/mail, in whatever database DATABASE_URL names, never a
file); "log" writes one INFO line per message (recipient, subject, its links). The
claim, the retries and the SENT mark are the same whichever carries the message.

Every message is written in its recipient's language (`reader_language`), whoever's
request queued it: a manager reading French approves, the applicant reads Greek. The
subject, the bodies and the invitation are all rendered in it, at queueing or, for mail
rendered at delivery, from the language its recipe records.

A message may carry an iCalendar invitation (iTIP, RFC 5546: METHOD REQUEST or CANCEL).
It goes out as the last part of the multipart/alternative, `text/calendar;
method=<METHOD>; charset=utf-8`, the shape Outlook, Gmail and Apple Mail send and
recognise as an invitation to add, update or remove. We add no second .ics attachment:
clients that honour the alternative part would offer the same entry twice, and a CANCEL
imported from an attachment by hand does not remove anything. The part is
base64-encoded so the file's CRLF line ends and 75-octet folding arrive byte for byte.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

from flask import Flask, current_app, has_request_context, render_template
from flask_babel import force_locale, get_locale
from jinja2 import TemplateNotFound
from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from .. import languages, unit
from ..extensions import db
from ..models import Event, OutboxMessage, OutboxStatus, User, utcnow
from . import event_texts, jobs

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=12))
# How long a claimed message belongs to its sender: far longer than an SMTP exchange can
# take (MAIL_TIMEOUT), so only a sender that died lets another one retry it. The default
# of MAIL_CLAIM_LEASE.
LEASE = timedelta(minutes=5)
# Messages per delivery job: two workers share a big tick, and one job stays short.
DELIVERY_CHUNK = 50


class Later:
    """An invitation built when its message is delivered: the builder registered under
    `builder` (`builds`), called with `context` (model instances and primitives)."""

    def __init__(self, builder: str, **context) -> None:
        self.builder = builder
        self.context = context


_BUILDERS: dict[str, Callable[..., str]] = {}


def builds(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register a builder of invitations delivered later (`Later`) under `name`."""
    def register(builder: Callable[..., str]) -> Callable[..., str]:
        _BUILDERS[name] = builder
        return builder
    return register


def queue(to: User | str, subject: str | Callable[[], str], template: str, *,
          calendar: str | Later | Callable[[], str] = "", calendar_method: str = "",
          later: bool = False, language: str | None = None, **context) -> OutboxMessage:
    """Write an email for `to` into the current transaction, in the recipient's language.

    `template` names `templates/mail/<template>.txt` (required) and `.html` (optional);
    they get `recipient` (the User, when there is one) and `context`. `subject` is the
    subject line: a lazy string or a function is read in the recipient's language (a
    string made beforehand is taken as it is). `calendar` is an iCalendar invitation to
    send along (a function that writes it, or a `Later` one), `calendar_method` its METHOD
    (REQUEST, CANCEL). `language`: the recipient's language when the caller knows it
    better than `reader_language` does.

    `later`: the bodies and the invitation are rendered when the message is delivered,
    in the recipient's language, from the rows `context` names as they are then: for
    mail queued while a lock is held (an application's seat count), whose rendering would
    keep the others waiting. The row still commits or rolls back with the caller's
    transaction. A context that is not only primitives and rows is rendered now.
    """
    user = to if isinstance(to, User) else None
    address = user.email if user else str(to)
    context = {"recipient": user, **context}
    language = languages.offered_or_none(language) or reader_language(to, context.get("event"))
    with force_locale(language):
        line = subject() if callable(subject) else str(subject)
        if callable(calendar):
            calendar = calendar()
        message = OutboxMessage(user=user, to_address=address, subject=line, body_text="",
                                body_html="", calendar="", calendar_method="")
        recipe = (_recipe(template, context, calendar, calendar_method, language) if later
                  else None)
        if recipe is not None:
            message.render = recipe
            message.calendar_method = calendar_method.upper()
        else:
            (message.body_text, message.body_html, message.calendar,
             message.calendar_method) = _rendered(template, context, calendar, calendar_method)
    db.session.add(message)
    return message


def reader_language(to: User | str, event: Event | None = None) -> str:
    """The language a message to `to` is written in: an account's own
    (`languages.of_user`: their choice, else what their browser last asked for, else the
    main language of the event the mail is about); an address without an account was
    typed by its owner in this very request (a quick registration, a new address), so it
    gets this request's language, or else the event's."""
    fallback = event.language if isinstance(event, Event) else None
    if isinstance(to, User):
        return languages.of_user(to, fallback=fallback)
    if has_request_context():
        return str(get_locale() or languages.DEFAULT)
    return languages.of_user(None, fallback=fallback)


def event_title(event: Event) -> str:
    """The event's title in the language being rendered (a subject line, a file)."""
    return event_texts.shown(event, str(get_locale() or languages.DEFAULT)).title


def event_lang(event: Event) -> str:
    """The language the event's title is shown in, in what is being rendered (its `lang`:
    the event's main language where the reader's is not given)."""
    return event_texts.shown(event, str(get_locale() or languages.DEFAULT)).lang


def session_title(session) -> str:
    """An agenda session's title in the language being rendered."""
    return event_texts.session_shown(session, str(get_locale() or languages.DEFAULT)).title


def _rendered(template: str, context: dict, calendar: str | Later,
              calendar_method: str) -> tuple[str, str, str, str]:
    """The text, the HTML, the invitation and its METHOD, rendered now."""
    if isinstance(calendar, Later):
        calendar = _BUILDERS[calendar.builder](**calendar.context)
    calendar_method = _checked_method(calendar, calendar_method)
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html = render_template(f"mail/{template}.html", **context)
    except TemplateNotFound:
        html = ""
    return text, html, calendar, calendar_method


def _recipe(template: str, context: dict, calendar: str | Later,
            calendar_method: str, language: str) -> dict | None:
    """What renders the message at delivery (in `language`, the recipient's), as JSON;
    None if `context` holds anything else than primitives, rows and lists of them."""
    if calendar and not isinstance(calendar, Later):
        return None
    values = _references(context)
    invitation = _references(calendar.context) if isinstance(calendar, Later) else {}
    if values is None or invitation is None:
        return None
    if isinstance(calendar, Later) and calendar.builder not in _BUILDERS:
        raise ValueError(f"no invitation builder {calendar.builder!r}")
    if bool(calendar) != bool(calendar_method):
        raise ValueError("a calendar method without a calendar, or the reverse")
    return {"template": template, "language": language, "context": values,
            "calendar": [calendar.builder, invitation] if calendar else None}


_PRIMITIVES = (str, int, float, bool, type(None))


def _references(context: dict) -> dict | None:
    """`context` as JSON: rows become ["Model", id]; None when something is neither."""
    out: dict = {}
    for name, value in context.items():
        if isinstance(value, list):
            items = [_reference(v) for v in value]
            if any(i is _NOT_JSON for i in items):
                return None
            out[name] = {"list": items}
        else:
            item = _reference(value)
            if item is _NOT_JSON:
                return None
            out[name] = {"value": item}
    return out


_NOT_JSON = object()


def _reference(value):
    """A primitive as it is (its exact type: Markup or a lazy string are rendered now), a
    row as {"row": [model, id]}, anything else _NOT_JSON."""
    if type(value) in _PRIMITIVES:
        return value
    if not isinstance(value, db.Model):
        return _NOT_JSON
    if inspect(value).identity is None:
        db.session.flush()  # its id is what the message keeps
    identity = inspect(value).identity
    if identity is None or len(identity) != 1:
        return _NOT_JSON
    return {"row": [type(value).__name__, identity[0]]}


class RowGone(LookupError):
    """A row a message is rendered from was deleted before its delivery."""


def _resolved(references: dict) -> dict:
    models = db.Model.registry._class_registry
    context = {}
    for name, entry in references.items():
        if "list" in entry:
            context[name] = [_row(models, item) for item in entry["list"]]
        else:
            context[name] = _row(models, entry["value"])
    return context


def _row(models, item):
    if not (isinstance(item, dict) and "row" in item):
        return item
    model, row_id = item["row"]
    found = db.session.get(models[model], row_id)
    if found is None:
        raise RowGone(f"{model} {row_id} is gone")
    return found


def _render_recipe(recipe: dict, method: str) -> tuple[str, str, str, str]:
    """A message's bodies and invitation from its recipe, in its language."""
    with force_locale(recipe["language"]):
        calendar: str | Later = ""
        if recipe["calendar"]:
            builder, invitation = recipe["calendar"]
            calendar = Later(builder, **_resolved(invitation))
        return _rendered(recipe["template"], _resolved(recipe["context"]), calendar, method)


_METHOD_LINE = re.compile(r"^METHOD:(.*?)\r?$", re.MULTILINE)


def _checked_method(calendar: str, method: str) -> str:
    """The METHOD for the Content-Type, refusing one that differs from the file's own:
    clients that see two different methods ignore the invitation or treat it wrongly."""
    if not calendar:
        if method:
            raise ValueError("a calendar method without a calendar")
        return ""
    inside = _METHOD_LINE.search(calendar)
    if inside is None or inside.group(1).strip().upper() != method.upper():
        raise ValueError(f"calendar_method {method!r} does not match the file's METHOD "
                         f"{inside and inside.group(1)!r}")
    return method.upper()


def absolute_url(endpoint: str, **values) -> str:
    """A link back to the platform, from BASE_URL: the same in a request, in `flask tick`
    and in the worker (`Application.url_for` builds every absolute link so)."""
    return current_app.url_for(endpoint, _external=True, **values)


@dataclass(frozen=True)
class _Envelope:
    """What a claimed message needs for sending, read before its transaction ends."""

    id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    calendar: str
    calendar_method: str
    created_at: datetime
    # What the bodies are rendered from before sending, when they were not at queueing;
    # None once they are (`rendered`).
    render: dict | None = None

    def rendered(self) -> _Envelope:
        """The envelope with its bodies and invitation, rendered now if they were not."""
        if self.render is None:
            return self
        with unit.reading():  # rendering reads rows; it holds no write lock
            text, html, ics, method = _render_recipe(self.render, self.calendar_method)
        return replace(self, body_text=text, body_html=html, calendar=ics,
                       calendar_method=method, render=None)


def _due(now):
    return (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now)


def send_due(limit: int = 50) -> int:
    """Send the pending messages whose time has come; return how many this call sent.
    Before the unit writes anything, or as a job of its own (`deliver_due`).

    Safe to run in several processes at once: a message another sender claimed is skipped.
    """
    candidates = db.session.scalars(
        select(OutboxMessage.id).where(_due(utcnow())).order_by(OutboxMessage.id).limit(limit)
    ).all()
    return deliver(candidates)


@unit.job
def deliver_due(limit: int = 1000) -> int:
    """The job of `flask tick` without Redis: send every message due, after its commit."""
    return send_due(limit)


@unit.job
def deliver(message_ids: list[int]) -> int:
    """The delivery job: send those of the messages that are still due; how many it sent.
    Over SMTP one session carries them all, opened at the first message and opened again
    after a failure. Each claim and each result is written aside (`unit.aside("outbox")`), so
    what went out is recorded whatever happens to the rest."""
    sent = 0
    with _transport(current_app.config) as transport:
        for message_id in message_ids:
            claimed = _claim(message_id)
            if claimed is None:
                continue  # another sender has it, or sent it already
            try:
                envelope = claimed.rendered()
            except RowGone as gone:
                # Nothing to say any more: failed for good, for an admin to see.
                _record_failure(claimed, f"not rendered: {gone}", final=True)
                continue
            except Exception as error:  # a broken template must not stop the others
                current_app.logger.exception("mail %s could not be rendered", message_id)
                _record_failure(claimed, f"not rendered: {type(error).__name__}: {error}"[:1000])
                continue
            try:
                transport.send(envelope)
            except (OSError, smtplib.SMTPException) as error:
                transport.drop()
                _record_failure(envelope, f"{type(error).__name__}: {error}"[:1000])
            else:
                _record_success(envelope)
                sent += 1
    return sent


def enqueue_due(*, written_before: datetime | None = None) -> int:
    """Queue delivery jobs for the messages due (retries, and mail whose own job was lost),
    in chunks; return how many messages. `written_before` leaves out the fresh ones that
    their own job is about to send."""
    query = select(OutboxMessage.id).where(_due(utcnow())).order_by(OutboxMessage.id)
    if written_before is not None:
        query = query.where(OutboxMessage.created_at < written_before)
    ids = db.session.scalars(query).all()
    for start in range(0, len(ids), DELIVERY_CHUNK):
        jobs.enqueue(deliver, list(ids[start:start + DELIVERY_CHUNK]))
    return len(ids)


def sent_since(since: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at >= since))


def _claim(message_id: int) -> _Envelope | None:
    """Take the message for this sender, in a write transaction of its own, or None."""
    with unit.aside("outbox") as session:
        now = utcnow()
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(next_attempt_at=now + current_app.config.get("MAIL_CLAIM_LEASE", LEASE))
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return None
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        return _Envelope(message.id, message.to_address, message.subject,
                         message.body_text, message.body_html, message.calendar,
                         message.calendar_method, message.created_at, message.render)


def _keep_bodies(message: OutboxMessage, envelope: _Envelope) -> None:
    """What was rendered at delivery is kept with the message (the mailbox, the outbox
    and the export show it)."""
    if message.render is not None and envelope.render is None:
        message.body_text, message.body_html = envelope.body_text, envelope.body_html
        message.calendar, message.calendar_method = envelope.calendar, envelope.calendar_method
        message.render = None


def _record_success(envelope: _Envelope) -> None:
    with unit.aside("outbox") as session:
        message = session.get(OutboxMessage, envelope.id, populate_existing=True)
        _keep_bodies(message, envelope)
        message.attempts += 1
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()


def _record_failure(envelope: _Envelope, error: str, *, final: bool = False) -> None:
    with unit.aside("outbox") as session:
        message = session.get(OutboxMessage, envelope.id, populate_existing=True)
        _keep_bodies(message, envelope)
        message.attempts += 1
        message.last_error = error
        if final or message.attempts > len(RETRY_DELAYS):
            message.status = OutboxStatus.FAILED
        else:
            message.next_attempt_at = utcnow() + RETRY_DELAYS[message.attempts - 1]
    current_app.logger.warning("mail %s to %s failed: %s", envelope.id, envelope.to_address,
                               error)


def undelivered() -> list[OutboxMessage]:
    """The messages still to send and those given up on, oldest first."""
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)))
        .order_by(OutboxMessage.id)
    ).all()


def given_up() -> list[OutboxMessage]:
    """The messages given up on after their last retry, the newest first."""
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
    ).all()


class NotGivenUp(LookupError):
    """No such message, or it is not one given up on (sent, or still being retried)."""


def retry(message_id: int) -> OutboxMessage:
    """Put a message given up on back into the outbox, with a fresh retry schedule; it is
    sent once the caller commits."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED:
        raise NotGivenUp(message_id)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    jobs.enqueue(deliver, [message.id])
    return message


def counts() -> dict[OutboxStatus, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: 0 for status in OutboxStatus} | {status: n for status, n in rows}


def _tls_context() -> ssl.SSLContext:
    # The system's trust store and hostname checks: credentials never go to an impostor.
    return ssl.create_default_context()


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config.get("MAIL_USE_SSL"):
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if config.get("MAIL_USE_TLS"):
        try:
            smtp.starttls(context=_tls_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def _mail(envelope: _Envelope | OutboxMessage) -> EmailMessage:
    config = current_app.config
    mail = EmailMessage()
    mail["Subject"] = envelope.subject
    mail["From"] = config["MAIL_DEFAULT_SENDER"]
    mail["To"] = envelope.to_address
    mail["Message-ID"] = message_id(envelope.id, envelope.created_at)
    mail.set_content(envelope.body_text)
    if envelope.body_html:
        mail.add_alternative(envelope.body_html, subtype="html")
    if envelope.calendar:
        # As bytes (the file's own CRLFs and folding, untouched), so maintype, subtype
        # and the method parameter must be given explicitly.
        mail.add_alternative(envelope.calendar.encode("utf-8"), maintype="text",
                             subtype="calendar", cte="base64",
                             params={"method": envelope.calendar_method, "charset": "utf-8"})
    return mail


def message_id(outbox_id: int, created_at: datetime) -> str:
    """The Message-ID of an outbox message: the same on every attempt, so a mail sent
    twice (its sender died after the SMTP handover, before marking it sent) reaches the
    reader as one message that clients and servers can recognise as a duplicate. Its
    time of writing keeps it unique across databases that reuse ids (a restore)."""
    stamp = created_at.strftime("%Y%m%d%H%M%S%f")
    return f"<outbox-{outbox_id}.{stamp}@{current_app.config['CALENDAR_UID_DOMAIN']}>"


TRANSPORTS = ("smtp", "mailbox", "log")


class _Transport:
    """How a claimed message leaves, for one delivery job. `send` raises OSError or
    SMTPException when the message did not leave (it is retried); `drop` forgets a
    connection that failed."""

    def send(self, envelope: _Envelope) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        pass

    def __enter__(self) -> _Transport:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _transport(config) -> _Transport:
    name = config.get("MAIL_TRANSPORT", "smtp")
    if name == "smtp":
        return _Relay(config)
    if name == "mailbox":
        return _LocalMailbox()
    if name == "log":
        return _LogLines()
    raise ValueError(f"MAIL_TRANSPORT is {name!r}, not one of {', '.join(TRANSPORTS)}")


def _mail_log() -> logging.Logger:
    return current_app.logger.getChild("mail")


class _LocalMailbox(_Transport):
    """The development mailbox: the delivered rows are its messages (`delivered()`), so
    delivering is marking the row sent. The log says where to read it."""

    def send(self, envelope: _Envelope) -> None:
        _mail_log().info("mail %s to %s: %r, in the local mailbox at %s", envelope.id,
                         envelope.to_address, envelope.subject,
                         absolute_url("dev_mail.message", message_id=envelope.id))


class _LogLines(_Transport):
    """Mail only written to the log, one line a message with the links a reader would
    follow (a sign-up's verification, a reset)."""

    def send(self, envelope: _Envelope) -> None:
        _mail_log().info("mail %s to %s: %r, links: %s", envelope.id, envelope.to_address,
                         envelope.subject,
                         " ".join(links_in(envelope.body_text, envelope.body_html)) or "none")


class _Relay(_Transport):
    """An SMTP session for several messages, opened when the first one is sent: a
    delivery job of 50 messages pays for one connection, TLS handshake and login, not
    50. After a failure it is dropped, and the next message opens a new one."""

    def __init__(self, config) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, envelope: _Envelope) -> None:
        if self.smtp is None:
            smtp = _connect(self.config)
            try:
                if self.config.get("MAIL_USERNAME"):
                    smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"] or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        self.smtp.send_message(_mail(envelope))

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass  # what was handed over is delivered; the server hung up first
            finally:
                self.drop()


_TEXT_LINK = re.compile(r"https?://[^\s<>\"']+")


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href and href.startswith(("http://", "https://")):
            self.hrefs.append(href)


def text_links(text: str) -> Iterator[tuple[int, str]]:
    """Each web link written in `text`, with where it starts; a sentence's closing stop
    is not part of one."""
    for match in _TEXT_LINK.finditer(text):
        yield match.start(), match.group().rstrip(".,;:!?")


def links_in(text: str, html: str = "") -> list[str]:
    """The web links of a message, in order, each once: those written in its text and
    its HTML's anchors."""
    found = [link for _start, link in text_links(text)]
    if html:
        anchors = _Anchors()
        anchors.feed(html)
        anchors.close()
        found += anchors.hrefs
    return list(dict.fromkeys(found))


def _delivered():
    return select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)


def delivered():
    """The local mailbox: the messages delivered, the newest first (a query to page)."""
    return _delivered().order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())


def delivered_message(message_id: int) -> OutboxMessage | None:
    return db.session.scalar(_delivered().where(OutboxMessage.id == message_id))


def waiting() -> int:
    """How many messages are still to be delivered (a worker or a tick will)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING))


def as_sent(message: OutboxMessage) -> bytes:
    """The message as SMTP would have carried it (headers, alternatives, invitation)."""
    return _mail(message).as_bytes()


@event.listens_for(Session, "after_flush")
def _deliver_after_commit(session: Session, flush_context) -> None:
    # Still the flush's view: `session.new` holds what was just inserted, ids assigned.
    # The messages of the unit's earlier flushes wait in a job of their own for the same
    # commit: these join it, so a bulk decision's mails leave in one job per chunk.
    ids = sorted(o.id for o in session.new if isinstance(o, OutboxMessage))
    if ids:
        jobs.enqueue_batched_on_commit(session, deliver, ids, batch=DELIVERY_CHUNK)


def init_app(app: Flask) -> None:
    # Mail written while Redis was away has no job of its own: the worker queues it.
    jobs.after_outage(app, "message(s) due", enqueue_due)
    app.add_template_global(absolute_url)
    app.add_template_global(event_title)
    app.add_template_global(event_lang)
    app.add_template_global(session_title)
    # The mailbox's and the log's lines are INFO, below the WARNING that passes when
    # nobody configured logging; for the log transport they are the delivery itself.
    mail_log = app.logger.getChild("mail")
    if mail_log.level == logging.NOTSET:
        mail_log.setLevel(logging.INFO)

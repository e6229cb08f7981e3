"""Email through the outbox: queue a message in the caller's transaction, send it after
the commit.

`queue()` renders the mail templates into an OutboxMessage row; nothing leaves before the
transaction commits, and a rollback takes the mail with it. After a commit, `send_due()`
delivers what is pending over SMTP (inline for now; the worker issue moves it to RQ),
marks each message sent, and schedules a retry with backoff when the server fails.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import Flask, current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, User, utcnow

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=12))
_QUEUED = "outbox_queued"
_COMMITTED = "outbox_committed"


def queue(to: User | str, subject: str, template: str, **context) -> OutboxMessage:
    """Write an email for `to` into the current transaction.

    `template` names `templates/mail/<template>.txt` (required) and `.html` (optional);
    they get `recipient` (the User, when there is one) and `context`.
    """
    user = to if isinstance(to, User) else None
    address = user.email if user else str(to)
    context = {"recipient": user, **context}
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html = render_template(f"mail/{template}.html", **context)
    except TemplateNotFound:
        html = ""
    message = OutboxMessage(user=user, to_address=address, subject=subject,
                            body_text=text, body_html=html)
    db.session.add(message)
    db.session.info[_QUEUED] = True
    return message


def send_due(limit: int = 50) -> int:
    """Send the pending messages whose time has come; return how many went out."""
    now = utcnow()
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = 0
    for message in messages:
        try:
            _deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:1000]
            if message.attempts > len(RETRY_DELAYS):
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_at = now + RETRY_DELAYS[message.attempts - 1]
            current_app.logger.warning("mail %s to %s failed: %s", message.id,
                                       message.to_address, message.last_error)
        else:
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            sent += 1
        db.session.commit()
    return sent


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config["MAIL_DEFAULT_SENDER"]
    mail["To"] = message.to_address
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="beachhead")
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(mail)


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction) -> None:
    session.info.pop(_QUEUED, None)


def init_app(app: Flask) -> None:
    @app.after_request
    def send_after_commit(response):
        # Mail written by this request's committed transaction goes out now; a failure
        # stays in the outbox for `flask outbox send` (or the worker) to retry.
        session = db.session()
        if session.info.pop(_COMMITTED, False):
            send_due()
        return response

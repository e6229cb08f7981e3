"""The development mailbox: declared public (whoever reaches a development server reads
its mail), and there only with MAIL_TRANSPORT "mailbox"; the tests' configuration sends
over SMTP, so every page of it is missing for everyone (tests/test_dev_mail.py opens it)."""

from __future__ import annotations

from tests.matrix import Case, statuses

CASES = [
    Case("dev_mail.index", "without the mailbox", "GET", lambda w: "/dev/mail", statuses(404)),
    Case("dev_mail.message", "without the mailbox", "GET", lambda w: "/dev/mail/1",
         statuses(404)),
    Case("dev_mail.html_body", "without the mailbox", "GET", lambda w: "/dev/mail/1/body.html",
         statuses(404)),
    Case("dev_mail.invitation", "without the mailbox", "GET",
         lambda w: "/dev/mail/1/invite.ics", statuses(404)),
    Case("dev_mail.raw", "without the mailbox", "GET", lambda w: "/dev/mail/1.eml",
         statuses(404)),
]

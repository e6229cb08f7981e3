"""Checking a badge in: at the door (a scanned or typed code) or on a badge's own page,
for the event as a whole or one of its agenda sessions. Whether the code names a badge
of the event, and the session one on its agenda, the service decides."""

from __future__ import annotations

from pydantic import Field

from . import Id, Input, RequiredText

MAX_TOKEN = 500
SCAN_A_BADGE = "Scan a badge or type the code printed under its QR code."


class CheckinIn(Input):
    """A badge checked in at the door."""

    token: RequiredText(MAX_TOKEN, title="Badge code",
                        description="The badge's code, or the URL its QR code holds.")
    session_id: Id | None = Field(None, description="An agenda session (null: the event).")

    required_messages = {"token": SCAN_A_BADGE}


class BadgeCheckinIn(Input):
    """A badge checked in from its own page: the badge is the page's."""

    session_id: Id | None = Field(None, description="An agenda session (null: the event).")

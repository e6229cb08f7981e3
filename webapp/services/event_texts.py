"""What an event and its sessions say in a reader's language.

An event is written first in its main language (`Event.language`, its own title,
summary and description, and its sessions' titles and descriptions); organizers may
give the same texts in any other offered language. A reader gets their language where
it is given and the main language otherwise, each text with the language it is actually
in, so that a page can mark it with `lang` (a screen reader then switches voice) and a
mail or a calendar entry can say what it is written in.

Mail, calendar files, badges and brochures call `shown` and `session_shown` with the
language of whoever reads them (`languages.of_user`); a page calls them without one and
gets the request's (`languages.select()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import languages
from ..models import Event, EventSession


@dataclass(frozen=True)
class EventTexts:
    """An event's texts as one reader gets them; `lang` is the language they are in."""

    title: str
    summary: str
    description: str
    lang: str


@dataclass(frozen=True)
class SessionTexts:
    """An agenda session's texts as one reader gets them; `lang` as above."""

    title: str
    description: str
    lang: str


def reader_language(language: str | None = None) -> str:
    """`language` when offered, else the request's (or the default outside a request)."""
    return languages.offered_or_none(language) or languages.select()


def shown(event: Event, language: str | None = None) -> EventTexts:
    """`event`'s title, summary and description in `language` (default: the request's)
    where given, else in the event's main language."""
    return EventTexts(title=event.title, summary=event.summary or "",
                      description=event.description or "", lang=event.language or "en")


def session_shown(session: EventSession, language: str | None = None) -> SessionTexts:
    """`session`'s title and description in `language` (default: the request's) where
    given, else in its event's main language."""
    return SessionTexts(title=session.title, description=session.description or "",
                        lang=session.event.language or "en")

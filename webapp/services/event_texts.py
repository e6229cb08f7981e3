"""What an event and its sessions say in a reader's language.

An event is written first in its main language (`Event.language`: its own title, summary
and description, and its sessions' titles and descriptions); organizers may give the same
texts in any other offered language (`EventText`, `SessionText`). A reader gets their
language where it is given and the main language otherwise, text by text (a translation
always has its title; a summary or description it leaves out is the main one), each text
a `Shown` string that knows the language it is actually in, so that a page can mark it
with `lang` (a screen reader then switches voice) and a mail or a calendar entry can say
what it is written in.

Reading:
- `shown(event, language=None)` and `session_shown(session, language=None)`: the texts
  in `language` (an offered code; default: the request's, `languages.select()`). Mail,
  calendar files, badges and brochures pass the language of whoever reads them
  (`languages.of_user`).
- `given(event)` and `session_given(session)`: every language's texts, the main one's
  included, by language (the API).

Loading never costs a query per row: the first read of an event whose translations are
not loaded loads those of every event the database session holds (a page of events, the
events of a page of registrations) in one query; sessions likewise.

Writing (`replace`, `replace_session`): the translations an input model states replace
the stored ones, audited with the event; services flush, the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from .. import languages
from ..models import Event, EventSession, EventText, SessionText

# Ids per statement when loading a session's worth of translations.
_CHUNK = 500


class Shown(str):
    """A text as a reader gets it, with `lang`, the language it is written in, and
    whether it is a translation (not the event's main language)."""

    lang: str
    translated: bool

    def __new__(cls, value: str | None, lang: str, translated: bool = False) -> Shown:
        shown = super().__new__(cls, value or "")
        shown.lang = lang
        shown.translated = translated
        return shown

    def __reduce__(self):
        return (Shown, (str(self), self.lang, self.translated))


@dataclass(frozen=True)
class EventTexts:
    """An event's texts as one reader gets them; `lang` is the title's language (each
    text says its own: `texts.summary.lang`)."""

    title: Shown
    summary: Shown
    description: Shown
    lang: str


@dataclass(frozen=True)
class SessionTexts:
    """An agenda session's texts as one reader gets them; `lang` as above."""

    title: Shown
    description: Shown
    lang: str


def reader_language(language: str | None = None) -> str:
    """`language` when offered, else the request's (or the default outside a request)."""
    return languages.offered_or_none(language) or languages.select()


def main_language(event: Event) -> str:
    return event.language or languages.DEFAULT


# --------------------------------------------------------------------------- reading


def shown(event: Event, language: str | None = None) -> EventTexts:
    """`event`'s title, summary and description in `language` (default: the request's)
    where given, else in the event's main language."""
    main = main_language(event)
    wanted = reader_language(language)
    found = _translation(event, wanted) if wanted != main else None
    if found is None:
        return EventTexts(title=Shown(event.title, main), summary=Shown(event.summary, main),
                          description=Shown(event.description, main), lang=main)
    return EventTexts(
        title=Shown(found.title, wanted, True),
        summary=(Shown(found.summary, wanted, True) if found.summary
                 else Shown(event.summary, main)),
        description=(Shown(found.description, wanted, True) if found.description
                     else Shown(event.description, main)),
        lang=wanted)


def session_shown(session: EventSession, language: str | None = None) -> SessionTexts:
    """`session`'s title and description in `language` (default: the request's) where
    given, else in its event's main language."""
    main = main_language(session.event)
    wanted = reader_language(language)
    found = _session_translation(session, wanted) if wanted != main else None
    if found is None:
        return SessionTexts(title=Shown(session.title, main),
                            description=Shown(session.description, main), lang=main)
    return SessionTexts(
        title=Shown(found.title, wanted, True),
        description=(Shown(found.description, wanted, True) if found.description
                     else Shown(session.description, main)),
        lang=wanted)


def given(event: Event) -> dict[str, dict[str, str]]:
    """Every language `event` is written in, the main one first: its title, summary and
    description in each, as given (a translation's empty summary stays empty)."""
    texts = {main_language(event): {"title": event.title, "summary": event.summary or "",
                                    "description": event.description or ""}}
    for text in _translations(event):
        texts.setdefault(text.language, {"title": text.title, "summary": text.summary,
                                         "description": text.description})
    return texts


def session_given(session: EventSession) -> dict[str, dict[str, str]]:
    """Every language `session` is written in, its event's main one first."""
    texts = {main_language(session.event): {"title": session.title,
                                            "description": session.description or ""}}
    for text in _session_translations(session):
        texts.setdefault(text.language, {"title": text.title, "description": text.description})
    return texts


def languages_of(event: Event) -> list[str]:
    """The languages `event` is written in, the main one first."""
    return list(given(event))


def _translation(event: Event, language: str) -> EventText | None:
    return next((t for t in _translations(event) if t.language == language), None)


def _session_translation(session: EventSession, language: str) -> SessionText | None:
    return next((t for t in _session_translations(session) if t.language == language), None)


def _translations(event: Event) -> list[EventText]:
    _load_unloaded(event, Event, EventText, EventText.event_id)
    return event.translations


def _session_translations(session: EventSession) -> list[SessionText]:
    _load_unloaded(session, EventSession, SessionText, SessionText.session_id)
    return session.translations


def _load_unloaded(target, owner: type, text: type, key) -> None:
    """Loads the translations of every `owner` in `target`'s database session whose own
    are not loaded yet, in one query per _CHUNK of them: a list page reads each row's
    texts without a query per row. Ids are read off the identity map (an expired row is
    not loaded again for its id)."""
    state = inspect(target)
    if "translations" not in state.unloaded or state.session is None or state.identity is None:
        return
    session = state.session
    waiting = {state.identity[0]: target}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, owner):
            other = inspect(obj)
            if other.identity is not None and "translations" in other.unloaded:
                waiting.setdefault(other.identity[0], obj)
    ids = list(waiting)
    found: dict[int, list] = {id_: [] for id_ in ids}
    with session.no_autoflush:
        for start in range(0, len(ids), _CHUNK):
            rows = session.scalars(select(text).where(key.in_(ids[start:start + _CHUNK]))
                                   .order_by(key, text.language))
            for row in rows:
                found[getattr(row, key.key)].append(row)
    for id_, rows in found.items():
        set_committed_value(waiting[id_], "translations", rows)


# --------------------------------------------------------------------------- pages


def _marked_lang(text: Any) -> str | None:
    """The language to mark `text` with: its own when it is not the page's, and always
    a translation's (it was written for its readers in that language); None: none."""
    lang = getattr(text, "lang", None)
    if not text or lang is None:
        return None
    return lang if getattr(text, "translated", False) or lang != languages.select() else None


def marked(text: Any, block: bool = False) -> Markup:
    """`text` for a page, in an element that says its language where `_marked_lang` says
    (`<span lang="el">`, or a `<div>` for a `block`), else as it is; escaped either way."""
    lang = _marked_lang(text)
    if lang is None:
        return escape(text or "")
    tag = "div" if block else "span"
    return Markup('<{0} lang="{1}">{2}</{0}>').format(tag, languages.tag(lang), text)


def lang_attribute(text: Any) -> Markup:
    """` lang="el"` for an element that holds `text` only, where `_marked_lang` says;
    else nothing."""
    lang = _marked_lang(text)
    return Markup("") if lang is None else Markup(' lang="{0}"').format(languages.tag(lang))


def init_app(app) -> None:
    """What templates read: `event_texts(event)` and `session_texts(session)` (the
    reader's language), and the filters that mark a text's language where it is not the
    page's: `{{ texts.title|marked }}` (the text in a `<span lang>`) and
    `<h1{{ texts.title|lang_attribute }}>` (on an element of its own)."""
    app.jinja_env.globals.update(event_texts=shown, session_texts=session_shown)
    app.jinja_env.filters.update(marked=marked, lang_attribute=lang_attribute)


# --------------------------------------------------------------------------- writing


def replace(event: Event, texts: Mapping[str, Any]) -> dict[str, list]:
    """`event`'s translations become `texts` (language -> an object with title, summary
    and description; its main language's are the event's own columns and are ignored
    here). Returns the changes for the audit entry (`texts.<language>`: [old, new])."""
    main = main_language(event)
    wanted = {code: {"title": t.title, "summary": t.summary or "",
                     "description": t.description or ""}
              for code, t in texts.items() if code != main}
    return _replace(event, _translations(event), wanted, EventText,
                    ("title", "summary", "description"), after=event.refresh_search_key)


def replace_session(session: EventSession, texts: Mapping[str, Any]) -> dict[str, list]:
    """`session`'s translations become `texts` (language -> title and description),
    as `replace` does for an event."""
    main = main_language(session.event)
    wanted = {code: {"title": t.title, "description": t.description or ""}
              for code, t in texts.items() if code != main}
    return _replace(session, _session_translations(session), wanted, SessionText,
                    ("title", "description"))


def copy(source: Event, target: Event) -> None:
    """`target` (a copy of `source`) gets its translations and its sessions' (the
    sessions of both in the same order)."""
    target.translations = [EventText(language=t.language, title=t.title, summary=t.summary,
                              description=t.description) for t in _translations(source)]
    for old, new in zip(source.sessions, target.sessions, strict=True):
        new.translations = [SessionText(language=t.language, title=t.title,
                                 description=t.description)
                     for t in _session_translations(old)]
    target.refresh_search_key()


def _replace(owner, current: Iterable, wanted: dict[str, dict[str, str]], model: type,
             names: tuple[str, ...], after=None) -> dict[str, list]:
    """`owner.translations` as `wanted` says; the changes as the audit log keeps them, a text at
    a time (`texts.fr.title`: [old, new])."""
    changes: dict[str, list] = {}
    kept = []
    for text in list(current):
        values = wanted.pop(text.language, None)
        for name in names:
            old, new = getattr(text, name), None if values is None else values[name]
            if old != new and (old or new):
                changes[f"texts.{text.language}.{name}"] = [old or None, new or None]
                if values is not None:
                    setattr(text, name, new)
        if values is not None:
            kept.append(text)
    for code, values in wanted.items():
        kept.append(model(language=code, **values))
        changes.update({f"texts.{code}.{name}": [None, value]
                        for name, value in values.items() if value})
    if changes:
        owner.translations = sorted(kept, key=lambda t: t.language)
        if after is not None:
            after()
    return changes

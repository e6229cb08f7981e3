"""What text the app accepts, in one place: forms (webapp/forms), the API's schemas, the
models (a last line before the database) and the request's path and query string.

Text is stored NFC-normalized, so a name typed with combining marks ("Ame" + U+0301) is
the same name as its composed form ("Amé"), compares equal, and comes out of an export, a
PDF's text layer or a calendar file as typed. Refused everywhere:

- control characters (Unicode category Cc: NUL, escape, the C1 controls...), except
  newline, carriage return and tab in long texts (a message, an answer, a description):
  PostgreSQL refuses NUL outright, and the others break CSV, calendar and PDF output;
- surrogates (half of a UTF-16 pair, never a character on its own) and noncharacters
  (U+FFFE, U+FFFF, U+FDD0..U+FDEF and their kin in every plane);
- in one-line texts (a name, a title), any line break, U+2028 and U+2029 included;
- text longer than its column holds.

Bytes that are not UTF-8, or a NUL, in a path or a query string answer 400 before any view
runs (`init_app`); so does a URL-encoded form body whose bytes are not UTF-8 (a browser
always sends UTF-8; Werkzeug would keep such bytes as "%E9" text). A multipart body's text
parts are decoded by Werkzeug with U+FFFD for such bytes; the app's one multipart form
(a logo) holds no text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from flask_babel import gettext as _
from sqlalchemy import JSON, Enum, String, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from . import problems
from .services.errors import N_, DomainError

LINE_BREAKS_ALLOWED = frozenset("\n\r\t")
# Line breaks that are not control characters: a one-line text refuses them too.
_UNICODE_LINE_BREAKS = frozenset("\u2028\u2029")


class TextRefused(DomainError):
    """A text the app does not store; `field` names where it was (a form field, a JSON
    pointer's last part, a model's attribute)."""

    def __init__(self, code: str, field: str | None = None, /, **params: object) -> None:
        super().__init__(code, **params)
        self.field = field


def is_noncharacter(char: str) -> bool:
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def describe(char: str) -> str:
    """A character as a person can look it up: "U+0000 (NULL)"."""
    name = unicodedata.name(char, "") or {"\x00": "NULL", "\x1b": "ESCAPE"}.get(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


# What no text holds: controls (category Cc is exactly these two ranges) but the line
# breaks and tab, surrogates (Cs), and the noncharacters of every plane.
_NEVER = ("\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
          + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}"
                    for plane in range(17)))
_REFUSED = {
    True: re.compile(f"[{_NEVER}]"),
    False: re.compile(f"[{_NEVER}\t\n\r\u2028\u2029]"),
}


def problem(text: str, *, multiline: bool, field: str) -> TextRefused | None:
    """What is wrong with `text`, naming `field` (its label, translated when the
    message is read), or None."""
    found = _REFUSED[multiline].search(text)
    if found is None:
        return None
    char = found.group()
    if char in LINE_BREAKS_ALLOWED or char in _UNICODE_LINE_BREAKS:
        return TextRefused("text.one_line", field=str(field))
    if unicodedata.category(char) == "Cc":
        return TextRefused("text.control_character", field=str(field), char=describe(char))
    if unicodedata.category(char) == "Cs":
        return TextRefused("text.half_character", field=str(field),
                           char=f"U+{ord(char):04X}")
    return TextRefused("text.not_a_character", field=str(field), char=f"U+{ord(char):04X}")


def refusal(text: str, *, multiline: bool, field: str) -> str | None:
    """What is wrong with `text`, as a sentence naming `field` (its label), or None."""
    found = problem(text, multiline=multiline, field=field)
    return found.message if found else None


def normalize(text: str) -> str:
    """NFC, the form the app stores (a no-op for text already in it)."""
    return unicodedata.normalize("NFC", text)


def too_long(text: str, max_length: int | None, *, field: str) -> str | None:
    found = _too_long(text, max_length, field=field)
    return found.message if found else None


def _too_long(text: str, max_length: int | None, *, field: str) -> TextRefused | None:
    if max_length is not None and len(text) > max_length:
        return TextRefused("text.too_long", field=str(field), max=max_length,
                           count=len(text))
    return None


def check(text: str, *, multiline: bool, max_length: int | None = None,
          field: str | None = None, label: str | None = None) -> str:
    """`text` NFC-normalized, or TextRefused naming the field ("Your name contains ...")."""
    text = normalize(text)
    name = label or field or N_("This field")
    found = (problem(text, multiline=multiline, field=name)
             or _too_long(text, max_length, field=name))
    if found:
        raise TextRefused(found.code, field, **found.params)
    return text


# --------------------------------------------------------------------------- the models


@cache
def _text_columns(mapper) -> tuple[tuple[str, int | None, bool], ...]:
    """(attribute, length, is JSON) of each text column a model stores: String and Text
    (not enums, whose values are the app's own) and JSON (answers and other documents)."""
    columns = []
    for prop in mapper.column_attrs:
        for column in prop.columns:
            kind = column.type
            if isinstance(kind, JSON):
                columns.append((prop.key, None, True))
            elif isinstance(kind, String) and not isinstance(kind, Enum):
                columns.append((prop.key, kind.length, False))
    return tuple(columns)


def _clean_json(value, where: str):
    if isinstance(value, str):
        return check(value, multiline=True, field=where)
    if isinstance(value, list):
        return [_clean_json(item, where) for item in value]
    if isinstance(value, dict):
        return {_clean_json(key, where): _clean_json(item, where)
                for key, item in value.items()}
    return value


def clean_pending(session: Session) -> None:
    """Normalize every text the session is about to write, and refuse (TextRefused) what
    the database must not hold. Model columns do not say which texts are one-line, so line
    breaks and tabs pass here: the forms and the API's schemas refuse them where they
    must."""
    for instance in (*session.new, *session.dirty):
        state = sa_inspect(instance)
        for key, length, is_json in _text_columns(state.mapper):
            if key in state.unloaded:
                continue
            value = getattr(instance, key)
            where = f"{state.mapper.class_.__name__}.{key}"
            if is_json:
                cleaned = _clean_json(value, where)
            elif isinstance(value, str):
                cleaned = check(value, multiline=True, max_length=length, field=where)
            else:
                continue
            if cleaned != value:
                setattr(instance, key, cleaned)


def _listen(session, _flush_context, _instances) -> None:
    clean_pending(session)


event.listen(Session, "before_flush", _listen)


def _json_strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(key)
            yield from _json_strings(item)


def stored_text_problems(session: Session) -> list[str]:
    """Every stored text that breaks the rule (not NFC, a refused character, longer than
    its column), as "table.column #id: what": what an export, a PDF or a calendar file
    would carry out broken. Reads every text column of every table (for tests and
    checks, not for requests)."""
    from .extensions import db

    problems = []
    for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.class_.__name__):
        columns = _text_columns(mapper)
        if not columns:
            continue
        model = mapper.class_
        keys = [getattr(model, key) for key, _length, _is_json in columns]
        for row in session.execute(select(*mapper.primary_key, *keys)).all():
            ident = "/".join(str(part) for part in row[:len(mapper.primary_key)])
            values = row[len(mapper.primary_key):]
            for (key, length, is_json), value in zip(columns, values, strict=True):
                where = f"{mapper.persist_selectable.name}.{key} #{ident}"
                for value_text in (_json_strings(value) if is_json else [value]):
                    if not isinstance(value_text, str):
                        continue
                    problem = (refusal(value_text, multiline=True, field=where)
                               or too_long(value_text, None if is_json else length,
                                           field=where))
                    if problem is None and normalize(value_text) != value_text:
                        problem = f"{where} is not NFC-normalized."
                    if problem:
                        problems.append(problem)
    return problems


# --------------------------------------------------------------------------- requests


def _undecodable(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _wsgi_bytes(value: str) -> bytes:
    # WSGI hands the path over as latin-1 characters of the raw bytes; test clients
    # sometimes pass characters beyond it.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _bad_characters(raw: bytes, *, multiline: bool) -> bool:
    if _undecodable(raw):
        return True
    return refusal(raw.decode("utf-8"), multiline=multiline, field="") is not None


def _urlencoded_values(raw: bytes) -> Iterable[bytes]:
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            yield unquote_to_bytes(part.replace(b"+", b" "))


def not_text(field: str) -> str:
    return _("%(field)s must be text.", field=field)


def _json_body_refusal() -> str | None:
    """Why a JSON body sent to a page (forms read JSON as form data) cannot be read: a
    lone surrogate, from a `\\udXXX` escape, could be stored or echoed back but never
    encoded. The API's bodies are refused by their own parser (a problem+json 400)."""
    if not request.is_json or problems.is_api_request(request.path):
        return None
    body = request.get_json(silent=True)
    if any(refusal(value, multiline=True, field="") for value in _json_strings(body)):
        return _("The request contains characters that cannot be read (a control "
                 "character, or a lone surrogate that is no text).")
    return None


def request_refusal() -> str | None:
    """Why the request's path, query string or JSON body cannot be read, or None."""
    path = unquote_to_bytes(_wsgi_bytes(request.environ.get("PATH_INFO", "")))
    if _bad_characters(path, multiline=False):
        return _("The address contains characters that cannot be part of a web address.")
    # A query holds one-line values (search boxes, filters, a return address that may
    # end up in a Location header): no line breaks either.
    if any(_bad_characters(value, multiline=False)
           for value in _urlencoded_values(request.query_string)):
        return _("The address's query contains characters that cannot be read "
                 "(a control character, a line break or bytes that are not UTF-8).")
    return _json_body_refusal()


_REPLACEMENT = "\ufffd".encode()


class UnreadableForm(BadRequest):
    """A form body whose text is not UTF-8 (browsers always send UTF-8)."""


class _ReadsFormsAsUtf8:
    """A request that refuses (UnreadableForm, 400) a URL-encoded form body whose values
    are not UTF-8, wherever the form is first read (CSRF protection reads it before any
    other hook): Werkzeug would keep the undecodable bytes as "%E9" text, or fail."""

    def _load_form_data(self) -> None:
        if self.mimetype == "application/x-www-form-urlencoded" and any(
                _undecodable(value)
                for value in _urlencoded_values(self.get_data(cache=True,
                                                              parse_form_data=False))):
            raise UnreadableForm()
        if self.mimetype != "multipart/form-data":
            super()._load_form_data()
            return
        # Werkzeug decodes a multipart body's text parts with "replace": a part that was
        # not UTF-8 shows as more U+FFFD than the body's bytes spell out. (The body is
        # read once, within MAX_CONTENT_LENGTH; the parser then reads the cached copy.)
        spelled = self.get_data(cache=True, parse_form_data=False).count(_REPLACEMENT)
        super()._load_form_data()
        if sum(value.count("\ufffd") for _key, value in self.form.items(multi=True)) > spelled:
            raise UnreadableForm()


def init_app(app: Flask) -> None:
    from .errors import render_error

    app.request_class = type("Request", (_ReadsFormsAsUtf8, app.request_class), {})

    @app.before_request
    def refuse_unreadable_request():
        message = request_refusal()
        if message:
            return render_error(400, message)
        return None

    @app.errorhandler(UnreadableForm)
    def unreadable_form(_error: UnreadableForm):
        return render_error(400, _("The form was sent in an encoding other than UTF-8. "
                                   "Please try again from the page."))

    @app.errorhandler(TextRefused)
    def text_refused(error: TextRefused):
        # The models' last line: a text no form or schema caught.
        if problems.is_api_request(request.path):
            return problems.problem_response(422, error.message, code=error.code,
                                             params=error.params)
        return render_error(400, error.message)

    @app.after_request
    def check_before_commit(response):
        # Runs before the unit's commit (after_request hooks run last-registered first),
        # so a refused text answers 400 rather than failing the commit.
        if response.status_code < 400:
            from .extensions import db
            try:
                clean_pending(db.session())
            except TextRefused as error:
                return text_refused(error)
        return response

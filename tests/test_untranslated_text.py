"""Every text a reader sees is marked for translation, in the templates and in the code.

The catalogue checks (tests/test_catalogues.py) only see what was marked; this file looks
for what was not, by reading the sources themselves. It is a static check, kept precise
rather than exhaustive: what it flags is text a reader sees as written.

Templates (every ``*.html`` and ``*.txt`` under templates/ but `DEVELOPER_TEMPLATES`):

- literal text between tags, outside ``{{ ... }}``, ``{% ... %}``, ``{# ... #}`` and
  ``{% trans %}`` blocks (script and style contents aside, and code as a program reads it:
  ``<code>``, ``<kbd>``, ``<samp>``);
- the visible attributes `VISIBLE_ATTRIBUTES` (``title``, ``alt``, ``placeholder``,
  ``aria-label``...), the ``value`` of a button-like ``<input>`` and a description
  ``<meta>``'s ``content``;
- string constants written out by an expression: ``{{ "Text" }}``, ``{{ x or "None" }}``,
  ``{{ "Yes" if a else "No" }}``, ``{{ x|default("Not given") }}``, ``{{ "a" ~ b }}``;
- string constants passed to a template macro's visible parameters (`MACRO_TEXT_PARAMS`:
  ``legend``, ``help``...).

- an enum's stored value shown as a word instead of its label: a gettext argument
  ``status=x.status.value``, or ``{{ x.kind.value|capitalize }}`` written out (the
  French "the application is approved" cannot take the English "approved").

A text is flagged when it holds a word (letters) that is not in `ALLOWED_WORDS` (names
that read the same in every language); punctuation, numbers and symbols pass.
Text in a ``.txt`` template (a mail's text part) is all visible.

Python (webapp/, but `DEVELOPER_MODULES`): a literal text (a string constant with letters,
an f-string, ``"..." % x``, ``"...".format()``, ``"a" + b``, either branch of ``a if c
else b``) that reaches a reader without gettext:

- ``flash(text)``, ``abort(code, text)`` / ``abort(code, description=text)``,
  ``render_error(code, text)``;
- ``render_template(...)`` and ``confirmations.page(...)`` keywords `PAGE_TEXT_KEYWORDS`
  (``message=``, ``title=``, ``consequences=[...]``...);
- a WTForms field's label (first argument or ``label=``), ``description=``, its
  ``choices`` labels (``(value, "Label")``, ``SelectChoice(value, "Label")``) and
  ``render_kw`` placeholder/title; validators' messages (``DataRequired("...")``,
  ``Length(max=5, message="...")``...), ``ValidationError("...")``, and, in webapp/forms,
  ``ValueError("...")`` (WTForms shows it as the field's error);
- ``form.errors.append(text)``, ``field.errors.append(text)``, ``form_errors.append``;
- a CSV or Excel file's header row given to ``csv_bytes``/``xlsx_bytes`` (written there
  or a module's constant), and a sheet's ``title=``;
- a gettext argument that is an enum's stored value (``status=reg.status.value``): a
  word a sentence would show in English;
- in webapp/inputs, a field's ``title=`` (it names the field in the refusal a reader gets)
  and the sentences of ``required_messages`` / ``field_messages``: they are translated
  with ``gettext(message)`` at run time, so their text must also be marked where it is
  written (``_l``/``N_``), or extraction never puts it in the catalogues; one that is a
  message marked elsewhere (a form's label of the same words) passes.

Not covered (out of reach of a static check, or not for readers): text built in
variables and shown later (``{% set label = "Approved" %}``), the CLI, the demo data,
``raise`` of domain errors in services (coded errors, rendered by the views), and the
developer-only pages and modules listed below.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
WEBAPP = ROOT / "webapp"

# Pages only developers see, in English on purpose.
DEVELOPER_TEMPLATES = {
    "api/docs.html": "the API reference: the vendored Swagger UI, for programmers",
}
DEVELOPER_MODULES = {
    "webapp/cli.py": "flask commands, for operators",
    "webapp/demo.py": "the demo data",
    "webapp/demo_scale.py": "the demo data at scale",
    "webapp/views/dev_mail.py": "the development mailbox",
}

# Words that read the same in every language: names of the product, of organizations
# and brands, and codes. Keep it short: anything else is a text to translate.
ALLOWED_WORDS = frozenset({
    "Beachhead", "SmartCityTech", "Google", "Outlook", "Apple", "iCal",
    "PDF", "CSV", "XLSX", "ICS", "QR", "URL", "API", "HTML", "JSON", "ID", "UTC",
    "B2B", "SME", "SMEs", "KPI", "KPIs", "A4", "A6", "OpenAPI",
})

# Whole texts of the code that are codes, typed as they are in every language.
ALLOWED_TEXTS = frozenset({
    "event.",  # the audit log's filter: an action code starts so (event.publish)
})

VISIBLE_ATTRIBUTES = frozenset({
    "title", "alt", "placeholder", "aria-label", "aria-description", "aria-placeholder",
    "aria-roledescription", "aria-valuetext", "label",
})
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# Code, keys and program output are written as the program reads them.
CODE_TAGS = frozenset({"code", "kbd", "samp"})
MACRO_TEXT_PARAMS = frozenset({"legend", "help", "label", "title", "delete_label",
                               "heading", "message"})
# Filters whose output is their input's text; `default` shows its argument as well.
TEXT_FILTERS = frozenset({"capitalize", "upper", "lower", "title", "trim", "e", "escape",
                          "safe", "striptags", "default", "d"})

HOLE = "\ue000"  # where a Jinja construct was: no letters, no line breaks lost
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
_WORD = re.compile(r"[^\W\d_]\w*")
# Placeholders, web addresses and file names are not words: %(name)s, %s, {name},
# https://..., invite.ics
_PLACEHOLDER = re.compile(
    r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|\{\w*\}|\bhttps?://\S*"
    r"|\S*\.(?:ics|eml|pdf|csv|xlsx)\b")

TRANSLATORS = frozenset({"_", "_l", "N_", "gettext", "lazy_gettext", "ngettext",
                         "lazy_ngettext", "pgettext", "lazy_pgettext", "npgettext"})
PAGE_RENDERERS = frozenset({"render_template", "page"})
PAGE_TEXT_KEYWORDS = frozenset({"message", "title", "heading", "error", "notice", "detail",
                                "explanation", "consequences", "confirm_label",
                                "cancel_label", "refusal", "lead"})
# Where each validator takes its message when it is given by position.
VALIDATOR_MESSAGE_POSITION = {
    "DataRequired": 0, "InputRequired": 0, "Email": 0, "Length": 2, "NumberRange": 2,
    "EqualTo": 1, "Regexp": 2, "URL": 1, "AnyOf": 1, "NoneOf": 1, "IPAddress": 2,
    "MacAddress": 0, "UUID": 0, "FileRequired": 0, "FileAllowed": 1, "FileSize": 2,
}
FIELD_ATTRIBUTES = frozenset({"placeholder", "title", "aria-label"})


@dataclass(frozen=True)
class Finding:
    where: str  # path:line
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}"


def unknown_words(text: str) -> list[str]:
    words = _WORD.findall(_PLACEHOLDER.sub(" ", text).replace(HOLE, " "))
    return [w for w in words if w not in ALLOWED_WORDS]


def _shown(text: str) -> str:
    return " ".join(re.sub(HOLE + "[\U000F0000-\U000FFFFD]?", "…", text).split())


# --------------------------------------------------------------------------- templates


_OUTPUT = re.compile(HOLE + "([\U000F0000-\U000FFFFD])")


def masked(source: str) -> tuple[str, list[str]]:
    """The template with each Jinja construct (and each trans block) replaced by `HOLE`,
    its line breaks kept, so what is left is the literal text and markup; each output
    (``{{ ... }}``) is numbered after its hole, (text, the outputs' sources)."""
    outputs: list[str] = []

    def hole(match: re.Match) -> str:
        construct = match.group(0)
        mark = HOLE
        if construct.startswith("{{"):
            mark += chr(0xF0000 + len(outputs))
            outputs.append(construct)
        return mark + "\n" * construct.count("\n")

    def plain_hole(match: re.Match) -> str:
        return HOLE + "\n" * match.group(0).count("\n")

    return _JINJA.sub(hole, _TRANS.sub(plain_hole, _RAW.sub(plain_hole, source))), outputs


def _output_words(output: str) -> list[str]:
    """What one ``{{ ... }}`` writes out untranslated: its string constants with words,
    and an enum's stored value in place of its label."""
    try:
        tree = _environment.parse(output)
    except jinja2.TemplateSyntaxError:
        return []
    found = []
    for node in tree.find_all(nodes.Output):
        for expr in node.nodes:
            if isinstance(expr, nodes.TemplateData):
                continue
            found += [constant for constant in _constants_shown(expr)
                      if unknown_words(constant)]
            if _raw_value(expr):
                found.append(f"a raw value shown as a word: {output}")
    return found


class _VisibleText(HTMLParser):
    """Reports the visible texts and visible attributes of masked HTML with words to
    translate, and the constants the outputs written there show."""

    def __init__(self, name: str, outputs: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.outputs = outputs
        self.found: list[Finding] = []
        self._hidden: str | None = None
        self._code = 0  # inside <code>, <kbd>, <samp>

    def check(self, text: str, line: int) -> None:
        stripped = text.lstrip()
        line += text[: len(text) - len(stripped)].count("\n")
        if unknown_words(text):
            self.found.append(Finding(f"{self.name}:{line}", _shown(text)))
        for number in _OUTPUT.findall(text):
            for constant in _output_words(self.outputs[ord(number) - 0xF0000]):
                self.found.append(Finding(f"{self.name}:{line}", constant))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._hidden = tag
        elif tag in CODE_TAGS:
            self._code += 1
        values = dict(attrs)
        line = self.getpos()[0]
        for attribute, value in attrs:
            if value is None:
                continue
            if (attribute in VISIBLE_ATTRIBUTES
                    or (attribute == "value" and tag == "input"
                        and (values.get("type") or "").lower() in BUTTON_INPUTS)
                    or (attribute == "content" and tag == "meta"
                        and (values.get("name") or "").lower() == "description")):
                self.check(value, line)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._hidden = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self._hidden:
            self._hidden = None
        elif tag in CODE_TAGS and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if self._hidden is None and not self._code:
            self.check(data, self.getpos()[0])


def _constants_shown(expr: nodes.Node) -> list[str]:
    """The string constants an expression writes out as they are."""
    if isinstance(expr, nodes.Const):
        return [expr.value] if isinstance(expr.value, str) else []
    if isinstance(expr, nodes.CondExpr):
        return _constants_shown(expr.expr1) + (
            _constants_shown(expr.expr2) if expr.expr2 is not None else [])
    if isinstance(expr, (nodes.Or, nodes.And)):
        return _constants_shown(expr.left) + _constants_shown(expr.right)
    if isinstance(expr, nodes.Concat):
        return [text for part in expr.nodes for text in _constants_shown(part)]
    if isinstance(expr, nodes.Mod):
        return _constants_shown(expr.left)
    if isinstance(expr, nodes.Filter) and expr.name in TEXT_FILTERS:
        found = _constants_shown(expr.node) if expr.node is not None else []
        if expr.name in ("default", "d") and expr.args:
            found += _constants_shown(expr.args[0])
        return found
    if isinstance(expr, (nodes.List, nodes.Tuple)):
        return [text for item in expr.items for text in _constants_shown(item)]
    return []


def _is_value(expr: nodes.Node) -> bool:
    return isinstance(expr, nodes.Getattr) and expr.attr == "value"


def _raw_value(expr: nodes.Node) -> bool:
    """An enum's stored value made into a word: ``x.status.value``, ``...|capitalize``,
    ``....value.replace('_', ' ')``, in place of its translated label."""
    if _is_value(expr):
        return True
    if isinstance(expr, nodes.Filter) and expr.name in ("capitalize", "title", "lower"):
        return expr.node is not None and _is_value(expr.node)
    return (isinstance(expr, nodes.Call) and isinstance(expr.node, nodes.Getattr)
            and expr.node.attr == "replace" and _is_value(expr.node.node))


def _called_name(call: nodes.Call) -> str | None:
    if isinstance(call.node, nodes.Name):
        return call.node.name
    if isinstance(call.node, nodes.Getattr):
        return call.node.attr
    return None


_environment = jinja2.Environment(extensions=["jinja2.ext.i18n"])  # noqa: S701 (parse only)


def macro_signatures(sources: dict[str, str]) -> dict[str, list[str]]:
    """Every macro the templates define: its parameters, in order."""
    found: dict[str, list[str]] = {}
    for source in sources.values():
        for macro in _environment.parse(source).find_all(nodes.Macro):
            found[macro.name] = [arg.name for arg in macro.args]
    return found


def template_findings(name: str, source: str,
                      macros: dict[str, list[str]] | None = None) -> list[Finding]:
    """The texts of one template a reader sees untranslated (module docstring)."""
    text, outputs = masked(source)
    parser = _VisibleText(name, outputs)
    if name.endswith(".txt"):
        for number, line in enumerate(text.splitlines(), start=1):
            parser.check(line, number)
    else:
        parser.feed(text)
        parser.close()
    found = list(parser.found)
    tree = _environment.parse(source)
    for call in tree.find_all(nodes.Call):
        if _called_name(call) in TRANSLATORS:
            found += [Finding(f"{name}:{call.lineno}", f"a raw value in a sentence: {kw.key}")
                      for kw in call.kwargs if _raw_value(kw.value)]
    for call in tree.find_all(nodes.Call):
        params = (macros or {}).get(_called_name(call) or "")
        if params is None:
            continue
        bound = list(zip(params, call.args, strict=False)) + [
            (kw.key, kw.value) for kw in call.kwargs]
        for param, value in bound:
            if param in MACRO_TEXT_PARAMS:
                for constant in _constants_shown(value):
                    if unknown_words(constant):
                        found.append(Finding(f"{name}:{call.lineno}", constant))
    return sorted(set(found), key=lambda f: (f.where.split(":")[0],
                                              int(f.where.rsplit(":", 1)[1]), f.text))


def reader_templates() -> dict[str, str]:
    return {
        path.relative_to(TEMPLATES).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in (".html", ".txt")
        and path.relative_to(TEMPLATES).as_posix() not in DEVELOPER_TEMPLATES
    }


# --------------------------------------------------------------------------- python


def literal_text(node: ast.AST | None) -> str | None:
    """The text of an expression a reader would see as it is written, or None (a gettext
    call, a name, anything computed)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) and unknown_words(node.value) else None
    if isinstance(node, ast.JoinedStr):
        written = "".join(v.value for v in node.values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return written if unknown_words(written) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return literal_text(node.left) or (
            literal_text(node.right) if isinstance(node.op, ast.Add) else None)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return literal_text(node.func.value)
    if isinstance(node, ast.IfExp):
        return literal_text(node.body) or literal_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return next((t for t in map(literal_text, node.values) if t), None)
    if isinstance(node, (ast.List, ast.Tuple)):
        return next((t for t in map(literal_text, node.elts) if t), None)
    return None


def _name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _positional(call: ast.Call, index: int) -> ast.AST | None:
    return call.args[index] if len(call.args) > index else None


def _choice_labels(node: ast.AST | None) -> list[ast.AST]:
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    labels = []
    for item in node.elts:
        if isinstance(item, ast.Tuple) and len(item.elts) == 2:
            labels.append(item.elts[1])
    return labels


def _texts_reaching_readers(call: ast.Call, module: str) -> list[tuple[str, ast.AST | None]]:
    """(what it is, the expression) for each argument of `call` a reader sees."""
    name = _name(call.func)
    if name is None or name in TRANSLATORS:
        return []
    found: list[tuple[str, ast.AST | None]] = []
    if name == "flash":
        found += [("flash()", _positional(call, 0)), ("flash()", _keyword(call, "message"))]
    elif name == "abort":
        found += [("abort()", _positional(call, 1)), ("abort()", _keyword(call, "description"))]
    elif name == "render_error":
        found += [("error page", _positional(call, 1)), ("error page", _keyword(call, "message"))]
    elif name in ("ValidationError", "StopValidation"):
        found += [(f"{name}()", _positional(call, 0)), (f"{name}()", _keyword(call, "message"))]
    elif name == "ValueError" and module.startswith("webapp/forms/"):
        found.append(("a form field's ValueError", _positional(call, 0)))
    elif name == "append" and isinstance(call.func, ast.Attribute) and \
            (_name(call.func.value) or "").endswith("errors"):
        found.append(("a form error", _positional(call, 0)))
    elif name == "SelectChoice":
        found.append(("a choice's label", _positional(call, 1)))
    elif name in VALIDATOR_MESSAGE_POSITION:
        found += [(f"{name}() message", _positional(call, VALIDATOR_MESSAGE_POSITION[name])),
                  (f"{name}() message", _keyword(call, "message"))]
    elif name.endswith("Field") and name != "Field" and name[:1].isupper():
        # (pydantic's Field describes the API's schema, for programmers)
        found += [("a field's label", _positional(call, 0)),
                  ("a field's label", _keyword(call, "label")),
                  ("a field's description", _keyword(call, "description"))]
        found += [("a choice's label", label)
                  for label in _choice_labels(_keyword(call, "choices"))]
        render_kw = _keyword(call, "render_kw")
        if isinstance(render_kw, ast.Dict):
            found += [(f"a field's {key.value}", value)
                      for key, value in zip(render_kw.keys, render_kw.values, strict=True)
                      if isinstance(key, ast.Constant) and key.value in FIELD_ATTRIBUTES]
    if name in PAGE_RENDERERS:
        found += [(f"{name}({kw.arg}=)", kw.value) for kw in call.keywords
                  if kw.arg in PAGE_TEXT_KEYWORDS]
    if module.startswith("webapp/inputs/") and name not in ("Info",):
        found.append(("an input field's title", _keyword(call, "title")))
    return found


def _module_strings(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level NAME = "..." assignments."""
    found = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name):
            found[statement.targets[0].id] = statement.value
    return found


def python_findings(module: str, source: str,
                    known: frozenset[str] = frozenset()) -> list[Finding]:
    """The texts of one module that reach a reader untranslated (module docstring);
    `known`: the messages marked somewhere, which an input's title or message translated
    at run time may be."""
    tree = ast.parse(source)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in TRANSLATORS:
            found += [Finding(f"{module}:{kw.value.lineno}",
                              f"a raw value in a sentence: {kw.arg}={ast.unparse(kw.value)}")
                      for kw in node.keywords
                      if isinstance(kw.value, ast.Attribute) and kw.value.attr == "value"]
        if isinstance(node, ast.Call):
            for what, expr in _texts_reaching_readers(node, module):
                text = literal_text(expr)
                if text is not None and text not in ALLOWED_TEXTS and not (
                        what == "an input field's title" and text in known):
                    found.append(Finding(f"{module}:{expr.lineno}", f"{what}: {_shown(text)}"))
    constants = _module_strings(tree)
    for node in ast.walk(tree):
        # A file's header row, written out or a module's constant.
        if isinstance(node, ast.Call) and _name(node.func) in ("csv_bytes", "xlsx_bytes"):
            header = _positional(node, 0)
            header = constants.get(header.id, header) if isinstance(header, ast.Name) \
                else header
            for what, expr in (("a file's header", header),
                               ("a sheet's title", _keyword(node, "title"))):
                text = literal_text(expr)
                if text is not None:
                    found.append(Finding(f"{module}:{expr.lineno}", f"{what}: {_shown(text)}"))
    if module.startswith("webapp/inputs/"):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in ("required_messages", "field_messages")
                    and isinstance(node.value, ast.Dict)):
                continue
            for value in node.value.values:
                written = constants.get(value.id) if isinstance(value, ast.Name) else value
                text = literal_text(written)
                if text is not None and text not in known:
                    found.append(Finding(f"{module}:{written.lineno}",
                                         f"{node.targets[0].id}: {_shown(text)}"))
    return sorted(set(found), key=lambda f: (int(f.where.rsplit(":", 1)[1]), f.text))


def marked_messages(modules: dict[str, str], templates: dict[str, str]) -> frozenset[str]:
    """Every message marked without a context in the code and the templates (what
    extraction brings to the translators, and a plain gettext() finds)."""
    found: set[str] = set()
    for source in modules.values():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and _name(node.func) in (
                    "_", "_l", "N_", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext"):
                found.update(arg.value for arg in node.args[:2]
                             if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    for source in templates.values():
        for _line, function, message in _environment.extract_translations(source):
            if function in ("_", "gettext", "ngettext"):
                found.update(m for m in (message if isinstance(message, tuple) else (message,))
                             if isinstance(m, str))
    return frozenset(found)


def reader_modules() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(WEBAPP.rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in DEVELOPER_MODULES
    }


# --------------------------------------------------------------------------- the checks


def _report(findings: list[Finding], what: str) -> str:
    return (f"{len(findings)} {what} not marked for translation (wrap them in _(), _l(), "
            "ngettext() or pgettext(); see the docstring of tests/test_untranslated_text.py):\n"
            + "\n".join(map(str, findings)))


def test_every_template_text_is_marked_for_translation():
    sources = reader_templates()
    macros = macro_signatures(sources)
    findings = [f for name, source in sources.items()
                for f in template_findings(name, source, macros)]
    assert not findings, _report(findings, "template texts")


def test_every_text_the_code_shows_is_marked_for_translation():
    findings = [f for module, source in reader_modules().items()
                if not module.startswith("webapp/inputs/")
                for f in python_findings(module, source)]
    assert not findings, _report(findings, "texts in the code")


def test_every_input_title_and_message_is_marked_for_translation():
    """The input models name their fields in refusals, and give sentences for a missing
    or wrong value, which are translated when shown: each must be marked where it is
    written (or be a message marked elsewhere, a form's label), or extraction never
    brings it to the translators."""
    modules = reader_modules()
    known = marked_messages(modules, reader_templates())
    findings = [f for module, source in modules.items()
                if module.startswith("webapp/inputs/")
                for f in python_findings(module, source, known)]
    assert not findings, _report(findings, "input titles and messages")


def test_the_developer_only_exclusions_still_exist():
    for name in DEVELOPER_TEMPLATES:
        assert (TEMPLATES / name).exists(), name
    for module in DEVELOPER_MODULES:
        assert (ROOT / module).exists(), module


# --------------------------------------------------------------------------- the checker


TEMPLATE_WITH_EVERY_KIND = """\
{% from "macros/forms.html" import choice_group %}
{% macro choice_group(f, legend, help=None) %}{{ legend }}{% endmacro %}
<h1>{{ _("Your registrations") }}</h1>
<p>{{ count }} open registrations</p>
<a href="{{ url_for('x') }}" title="Open it">{{ _("Open") }}</a>
<img src="logo.svg" alt="The logo">
<input type="submit" value="Save">
<input type="text" value="{{ form.name.data }}" name="name">
<p>{{ "Not given" }}</p>
<p>{{ x or "Nobody" }}</p>
<p>{{ x|default("Unknown") }}</p>
{{ choice_group(form.kind, "Kind of event") }}
<p>{{ _("It is %(status)s.", status=event.status.value) }} {{ org.size.value|capitalize }}</p>
<script>const label = "Hidden from the check";</script>
"""

TEMPLATE_ALL_MARKED = """\
{# A comment with words #}
<h1 class="display-5">{{ _("Your registrations") }}</h1>
<p>{{ ngettext("%(num)d open registration", "%(num)d open registrations", n) }}</p>
<p>{{ pgettext("event status", "Cancelled") }} · {{ a }} – {{ b }} (2/4) &middot; 100&nbsp;%</p>
<a href="{{ url_for('x') }}" title="{{ _('Open it') }}" class="btn btn-primary">→</a>
{% trans %}Some text{% endtrans %}
<p>Beachhead · PDF · CSV</p>
<input type="hidden" value="approve" name="decision">
<input type="hidden" value="{{ registration.status.value }}" name="expected_status">
<a href="{{ url }}" download>invite.ics</a>
{% if status == 'approved' %}{{ _("Approved") }}{% endif %}
{{ macros.pager(pagination, 'desk.index') }}
<style>.a::before { content: "Label"; }</style>
<p>{{ _("Send the header") }} <code>Authorization: Bearer bh_…</code>.</p>
"""


def test_the_template_check_finds_each_kind_of_unmarked_text():
    macros = macro_signatures({"m": TEMPLATE_WITH_EVERY_KIND})
    found = template_findings("t.html", TEMPLATE_WITH_EVERY_KIND, macros)
    assert [(f.where, f.text) for f in found] == [
        ("t.html:4", "… open registrations"),
        ("t.html:5", "Open it"),
        ("t.html:6", "The logo"),
        ("t.html:7", "Save"),
        ("t.html:9", "Not given"),
        ("t.html:10", "Nobody"),
        ("t.html:11", "Unknown"),
        ("t.html:12", "Kind of event"),
        ("t.html:13", "a raw value in a sentence: status"),
        ("t.html:13", "a raw value shown as a word: {{ org.size.value|capitalize }}"),
    ]


def test_the_template_check_lets_marked_text_names_and_symbols_pass():
    macros = {"pager": ["pagination", "endpoint"]}
    assert template_findings("t.html", TEMPLATE_ALL_MARKED, macros) == []


def test_a_text_template_is_all_visible():
    found = template_findings("m.txt", "{{ _('Hello') }}\n\nSee you in {{ city }}.\n-- \n")
    assert [(f.where, f.text) for f in found] == [("m.txt:3", "See you in ….")]


MODULE_WITH_EVERY_KIND = """\
from flask import abort, flash, render_template
from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

class F:
    name = StringField("Name", validators=[DataRequired("Give a name."),
                                           Length(max=5, message="Too long.")])
    kind = SelectField(_l("Kind"), choices=[("a", "Apples"), ("b", _l("Pears"))])
    note = StringField(_l("Note"), description="Shown below the field.",
                       render_kw={"placeholder": "e.g. this", "rows": 3})

    def validate_name(self, field):
        raise ValidationError(f"{field.data} is taken.")

HEADER = ("Name", _l("Cluster"))

def export(rows):
    return csv_bytes(HEADER, rows) + xlsx_bytes((_l("Name"),), rows, title="Sheet one")

def view(count, form):
    flash("Saved.", "success")
    flash(f"{count} saved.")
    flash("%d saved." % count)
    abort(400, "Bad id.")
    form.form_errors.append("Try again.")
    flash(_("The event is now %(status)s.", status=event.status.value))
    return render_template("x.html", message="It is done.", title=_("Fine"), active="events")
"""

MODULE_ALL_MARKED = """\
from flask import abort, flash, render_template
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Optional

class F:
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give a name.")), Optional()])
    again = StringField(_l("Again"), validators=[EqualTo("name", _l("Not the same."))])
    kind = SelectField(_l("Kind"), choices=[("a", _l("Apples"))], render_kw={"rows": 3})

def view(count, form, error):
    flash(_("Saved."), "success")
    flash(ngettext("%(num)d saved.", "%(num)d saved.", count), "info")
    flash(error.message, "danger")
    abort(404)
    form.form_errors.append(error.message)
    return render_template("x.html", message=_("It is done."), active="events", sort="name")
"""


def test_the_code_check_finds_each_kind_of_unmarked_text():
    found = python_findings("webapp/views/x.py", MODULE_WITH_EVERY_KIND)
    assert [(f.where.rsplit(":", 1)[1], f.text) for f in found] == [
        ("7", "DataRequired() message: Give a name."),
        ("7", "a field's label: Name"),
        ("8", "Length() message: Too long."),
        ("9", "a choice's label: Apples"),
        ("10", "a field's description: Shown below the field."),
        ("11", "a field's placeholder: e.g. this"),
        ("14", "ValidationError(): is taken."),
        ("16", "a file's header: Name"),
        ("19", "a sheet's title: Sheet one"),
        ("22", "flash(): Saved."),
        ("23", "flash(): saved."),
        ("24", "flash(): %d saved."),
        ("25", "abort(): Bad id."),
        ("26", "a form error: Try again."),
        ("27", "a raw value in a sentence: status=event.status.value"),
        ("28", "render_template(message=): It is done."),
    ]


def test_the_code_check_lets_marked_text_and_codes_pass():
    assert python_findings("webapp/views/x.py", MODULE_ALL_MARKED) == []


def test_input_titles_and_run_time_msgids_are_found():
    source = (
        'NEEDED = "Choose the size."\n'
        'DONE = _l("Choose one.")\n'
        "class In(Input):\n"
        '    required_messages = {"size": NEEDED, "kind": DONE, "x": "Pick it."}\n'
        '    name: RequiredText(200, title="Your name")\n'
    )
    found = python_findings("webapp/inputs/x.py", source)
    assert [(f.where, f.text) for f in found] == [
        ("webapp/inputs/x.py:1", "required_messages: Choose the size."),
        ("webapp/inputs/x.py:4", "required_messages: Pick it."),
        ("webapp/inputs/x.py:5", "an input field's title: Your name"),
    ]
    # A title or message marked elsewhere (a form's label) is found by gettext.
    known = marked_messages({"webapp/forms/x.py": 'name = StringField(_l("Your name"))'},
                            {"t.html": '{{ _("Pick it.") }}'})
    found = python_findings("webapp/inputs/x.py", source, known)
    assert [f.text for f in found] == ["required_messages: Choose the size."]


@pytest.mark.parametrize("text", ["", "—", "2/4", "%(num)d", HOLE + " · " + HOLE,
                                  "Beachhead", "PDF (A4)"])
def test_text_without_words_to_translate_passes(text):
    assert unknown_words(text) == []

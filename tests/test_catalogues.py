"""The catalogues: every language the app offers (config LANGUAGES, English aside, which is
the messages themselves) translates every message of the current code, faithfully.

For each language's webapp/translations/<language>/LC_MESSAGES/messages.po:

- complete: no message untranslated or fuzzy (every plural form of it), no fuzzy header;
- translated: no translation identical to its message, but the few names, codes and words
  that really are the same in that language (`SAME_IN`), and messages with no words at
  all (numbers, placeholders, punctuation);
- faithful: each translation (each plural form) has its message's placeholders, no more
  and no fewer: %(name)s by name, %s/%d in order, {name} by name; a lone "%" (templates
  format every message, so "%" must be "%%"); a plural form that serves n = 1 alone may
  leave out %(num)d ("un badge"), and so may the form of n = 1 when the English singular
  has no number either;
- compiles: Babel reads it strictly, its own checkers find nothing, and the .mo it writes
  (as webapp/languages.py does at start) loads;
- its header names the language and the language's Plural-Forms (babel's rules for it:
  the same number of forms and the same form for every n);
- up to date: its messages are exactly those extracted from the current code and
  templates (`make messages`: nothing missing, nothing left over), and the committed
  webapp/translations/messages.pot is that fresh extraction (header dates aside).

When these fail after a change of text: `make messages`, translate what it added (and
what it marked fuzzy), and run this file again; README "Languages".

The checkers are plain functions over Babel catalogues; the tests at the end run them on
small catalogues that are right and wrong, so they are known to fail for each reason.
"""

from __future__ import annotations

import difflib
import gettext as stdlib_gettext
import io
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

import config

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SOURCE_LANGUAGE = "en"
TRANSLATED = [code for code in config.Config.LANGUAGES if code != SOURCE_LANGUAGE]

# Messages a language writes exactly as English does: names, codes, and words that are
# the same (the translators confirmed each). Keep each list short and to that.
SAME_IN: dict[str, frozenset[str]] = {
    "fr": frozenset({
        "Administration", "Actions", "Parties", "Dates", "Messages", "invitation", "Pages",
        "Page", "Page %(page)d", "Version %(version)s", "Description", "Question", "Logo",
        "Satisfaction", "Satisfaction (1–5)", "Europe", "Quotas", "Badge", "Badges",
        "%(num)d badge", "Badge (PDF)", "Brochure (PDF)", "5, excellent",
        "Cluster", "Beachhead", "Outlook.com", "worker %(name)s",
    }),
    "el": frozenset({"Outlook.com"}),
    "da": frozenset({
        "Administration", "Beachhead", "Brochure (PDF)", "Check-in", "Check-in: %(event)s",
        "Delegation", "Delegation: %(event)s", "For", "For partner", "Leads",
        "Link (https://)", "Logo", "Mission", "Online", "Outlook.com", "Person", "Reception",
        "Region", "Send", "Status", "Status:", "Type", "Version %(version)s", "Webinar",
        "Workshop", "invitation", "worker %(name)s",
    }),
    "es": frozenset({
        "Asia", "Australia", "Beachhead", "Error", "Google Calendar", "No", "Outlook.com",
        "Roles", "Sector", "Total", "no",
    }),
    "it": frozenset({
        "%(field)s in %(language)s", "%(num)d badge", "Account", "Africa", "Asia", "Australia",
        "Badge", "Badge (PDF)", "Beachhead", "Brochure (PDF)", "Check-in",
        "Check-in: %(event)s", "Cluster", "Download:", "Email", "File", "Google Calendar",
        "In %(language)s", "Link (https://)", "Logo", "No", "Online", "Outlook.com",
        "Password", "Staff", "Webinar", "Workshop", "no", "worker %(name)s",
    }),
    "nl": frozenset({
        "%(num)d badge", "Account", "Accounts", "Agenda", "Antarctica", "Badge", "Badges",
        "Badges: %(event)s", "Beachhead", "Camera", "Check-in", "Check-in: %(event)s",
        "Cluster", "Desk", "Details", "Downloads", "Leads", "Link (https://)", "Logo",
        "Online", "Outlook.com", "Partners", "Sector", "Status", "Status:", "Type", "Webinar",
        "Webinars", "Website", "Workshop", "worker %(name)s",
    }),
    "fi": frozenset({"Australia", "Beachhead", "Logo", "Outlook.com"}),
    "pl": frozenset({
        "Australia", "Beachhead", "Link (https://)", "Logo", "Online", "Outlook.com",
        "Region", "Status", "Status:", "Webinar",
    }),
    "pt_PT": frozenset({
        "Agenda", "Beachhead", "Cluster", "Email", "Google Calendar", "Online", "Outlook.com",
        "Quotas", "Total", "Webinar", "Webinars", "Workshop", "worker %(name)s",
    }),
}

_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<kind>[diouxXeEfFgGcrsa%])?")
_BRACES = re.compile(r"\{(\w*)\}")
_WORD = re.compile(r"[^\W\d_]")


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def read(text: str, code: str | None = None) -> Catalog:
    return read_po(io.StringIO(text), locale=code, abort_invalid=True)


def _where(code: str, message: Message) -> str:
    context = f" [{message.context}]" if message.context else ""
    return f"{code} line {message.lineno}{context} {_source(message)[0]!r}"


def _source(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _forms(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, (tuple, list)):
        return tuple(message.string)
    return (message.string,)


def translated_messages(catalog: Catalog) -> Iterable[Message]:
    return (m for m in catalog if m.id)


# --------------------------------------------------------------------------- complete


def incomplete(catalog: Catalog, code: str) -> list[str]:
    """Untranslated or fuzzy messages (any plural form), a fuzzy header, and plural
    messages with another number of forms than the language has."""
    problems = ["the header is marked fuzzy"] if catalog.fuzzy else []
    for message in translated_messages(catalog):
        forms = _forms(message)
        if message.fuzzy:
            problems.append(f"{_where(code, message)}: fuzzy")
        if not all(form.strip() for form in forms):
            problems.append(f"{_where(code, message)}: untranslated")
        if message.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"{_where(code, message)}: {len(forms)} plural forms, "
                            f"{code} has {catalog.num_plurals}")
    return problems


def has_words(text: str) -> bool:
    without_placeholders = _BRACES.sub(" ", _PERCENT.sub(" ", text))
    return bool(_WORD.search(without_placeholders))


def same_as_english(catalog: Catalog, code: str,
                    same: frozenset[str] = frozenset()) -> list[str]:
    """Translations that are their English message, but for `same` and wordless ones."""
    problems = []
    for message in translated_messages(catalog):
        source, forms = _source(message), _forms(message)
        if source[0] in same or not any(has_words(s) for s in source):
            continue
        if any(forms) and all(not form or form in source for form in forms):
            problems.append(f"{_where(code, message)}: translated as the English "
                            f"{forms[0]!r}")
    return problems


# --------------------------------------------------------------------------- faithful


def placeholders(text: str) -> tuple[dict[str, set[str]], list[str], set[str], bool]:
    """(named: {name: conversions}, positional conversions in order, {names} of braces,
    whether a lone "%" is in it)."""
    named: dict[str, set[str]] = {}
    positional: list[str] = []
    lone = False
    for match in _PERCENT.finditer(text):
        kind, name = match.group("kind"), match.group("name")
        if kind is None:
            lone = True
        elif kind == "%":
            continue
        elif name is not None:
            named.setdefault(name, set()).add(kind)
        else:
            positional.append(kind)
    return named, positional, set(_BRACES.findall(text)), lone


def _may_leave_out_the_number(catalog: Catalog, message: Message, index: int) -> bool:
    """A form may say "one" in words when it serves n = 1 alone ("μία αίτηση"), or when
    it is the form of n = 1 and the English singular has no number either (a message
    the code never asks for 0 of)."""
    rule = stdlib_gettext.c2py(catalog.plural_expr)
    if {n for n in range(1001) if rule(n) == index} == {1}:
        return True
    return rule(1) == index and "num" not in placeholders(_source(message)[0])[0]


def unfaithful(catalog: Catalog, code: str) -> list[str]:
    """Translations whose placeholders differ from their message's."""
    problems = []
    for message in translated_messages(catalog):
        named, positional, braces = {}, [], set()
        lone_in_source = False
        for text in _source(message):
            n, p, b, lone = placeholders(text)
            for name, kinds in n.items():
                named.setdefault(name, set()).update(kinds)
            positional = positional or p
            braces |= b
            lone_in_source |= lone
        for index, form in enumerate(_forms(message)):
            if not form:
                continue
            got_named, got_positional, got_braces, lone = placeholders(form)
            expected = set(named)
            if message.pluralizable and "num" in expected and \
                    _may_leave_out_the_number(catalog, message, index):
                expected_or_less = expected - {"num"}
                if set(got_named) == expected_or_less:
                    expected = expected_or_less
            label = f"{_where(code, message)} (form {index})" if message.pluralizable \
                else _where(code, message)
            if set(got_named) != expected:
                problems.append(f"{label}: placeholders {sorted(got_named)}, the message has "
                                f"{sorted(expected)}")
            for name, kinds in got_named.items():
                if name in named and not kinds <= named[name] | {"s"}:
                    problems.append(f"{label}: %({name}) converted as {sorted(kinds)}, the "
                                    f"message as {sorted(named[name])}")
            if got_positional != positional:
                problems.append(f"{label}: positional placeholders {got_positional}, the "
                                f"message has {positional}")
            if got_braces != braces:
                problems.append(f"{label}: {{}} placeholders {sorted(got_braces)}, the "
                                f"message has {sorted(braces)}")
            if lone and not lone_in_source:
                problems.append(f"{label}: a lone % (write %% for a percent sign)")
    return problems


# --------------------------------------------------------------------------- compiles


_QUOTED = r'"(?:[^"\\]|\\[\\"abfnrtv]|\\[0-7]{1,3}|\\x[0-9a-fA-F]{1,2})*"'
_PO_LINE = re.compile(
    rf"^(?:\s*|#.*|(?:msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+{_QUOTED}\s*"
    rf"|{_QUOTED}\s*)$")
_ENTRY_ORDER = re.compile(r"^(?:msgctxt )?msgid (?:msgid_plural (?:msgstr\[\d+\] )+|msgstr )$")


def syntax_problems(text: str, code: str) -> list[str]:
    """What GNU msgfmt refuses and Babel reads anyway: a line that is not a keyword and a
    quoted string (an unclosed quote, a bad escape), an entry out of order (two msgstr),
    the same message twice."""
    problems, keywords, seen = [], [], {}
    entry_line = context = msgid = None

    def entry_done() -> None:
        if keywords and not _ENTRY_ORDER.match(" ".join(keywords) + " "):
            problems.append(f"{code} line {entry_line}: an entry of {' '.join(keywords)}")
        if msgid is not None:
            key = (context, msgid)
            if key in seen:
                problems.append(f"{code} line {entry_line}: {msgid!r} again (first at line "
                                f"{seen[key]})")
            seen.setdefault(key, entry_line)

    for number, line in enumerate(text.splitlines(), start=1):
        if not _PO_LINE.match(line):
            problems.append(f"{code} line {number}: not a keyword and a quoted string: "
                            f"{line[:60]!r}")
            continue
        if line.startswith('"'):  # the string of the keyword above goes on
            if keywords and keywords[-1] == "msgctxt":
                context = (context or "") + line.strip()
            elif keywords and keywords[-1] == "msgid":
                msgid = (msgid or "") + line.strip()
            continue
        keyword = line.split(None, 1)[0] if line[:1].isalpha() else None
        if keyword is None:
            continue
        keyword = re.sub(r"\[\d+\]", "[n]", keyword).replace("msgstr[n]", "msgstr[0]")
        if keyword in ("msgctxt", "msgid") and (not keywords or keywords[-1] != "msgctxt"):
            entry_done()
            keywords, entry_line, context, msgid = [], number, None, None
        keywords.append(keyword)
        value = line.split(None, 1)[1].strip()
        if keyword == "msgctxt":
            context = value
        elif keyword == "msgid":
            msgid = value
    entry_done()
    return problems


def compile_problems(text: str, code: str) -> list[str]:
    """Why the catalogue would not compile cleanly: what GNU msgfmt would refuse, what
    Babel cannot read, Babel's checkers, or a .mo that does not load."""
    problems = syntax_problems(text, code)
    try:
        catalog = read(text, code)
    except Exception as error:
        return [*problems, f"{code}: unreadable: {error}"]
    problems += [f"{_where(code, message)}: {error}"
                 for message, errors in catalog.check() for error in errors]
    compiled = io.BytesIO()
    try:
        write_mo(compiled, catalog)
        compiled.seek(0)
        stdlib_gettext.GNUTranslations(compiled)
    except Exception as error:
        problems.append(f"{code}: the compiled catalogue does not load: {error}")
    return problems


def header_problems(text: str, code: str) -> list[str]:
    """The header must name `code` and its Plural-Forms, as babel knows them."""
    problems = []
    # The header's entry as one string: `pybabel update` wraps a long line in two.
    header = re.sub(r'"\n"', "", text.split("\n\n", 1)[0])
    language = re.search(r'(?:\\n|")Language: *([^\\"]*)', header)
    if not language or language.group(1).strip() != code:
        problems.append(f"{code}: the header's Language is "
                        f"{language.group(1) if language else 'missing'}")
    found = re.search(r'(?:\\n|")Plural-Forms: *nplurals=(\d+); *plural=(.*?);?\\n', header)
    expected = get_plural(code)
    if not found:
        return [*problems, f"{code}: no Plural-Forms header (expected "
                           f"nplurals={expected.num_plurals}; plural={expected.plural_expr};)"]
    count, expression = int(found.group(1)), found.group(2)
    if count != expected.num_plurals:
        problems.append(f"{code}: Plural-Forms has nplurals={count}, {code} has "
                        f"{expected.num_plurals}")
    try:
        rule = stdlib_gettext.c2py(expression)
    except (ValueError, SyntaxError) as error:
        return [*problems, f"{code}: Plural-Forms plural={expression} unreadable: {error}"]
    right = stdlib_gettext.c2py(expected.plural_expr)
    wrong = [n for n in range(1001) if rule(n) != right(n)]
    if wrong:
        problems.append(f"{code}: Plural-Forms plural={expression} chooses another form than "
                        f"{expected.plural_expr} for n = {wrong[:5]}")
    return problems


# --------------------------------------------------------------------------- up to date


def _keyed(catalog: Catalog) -> dict[tuple[str, str | None], Message]:
    return {(_source(m)[0], m.context): m for m in catalog if m.id}


def out_of_date(catalog: Catalog, extracted: Catalog, code: str) -> list[str]:
    """Messages the code has that the catalogue lacks, and the other way round."""
    have, want = _keyed(catalog), _keyed(extracted)
    problems = []
    for key, message in want.items():
        context = f" [{key[1]}]" if key[1] else ""
        if key not in have:
            problems.append(f"{code}: missing{context} {key[0]!r}")
        elif _source(have[key]) != _source(message):
            problems.append(f"{code}: the plural of{context} {key[0]!r} is now "
                            f"{_source(message)[1:]!r}, the catalogue has "
                            f"{_source(have[key])[1:]!r}")
    problems += [f"{code}: no longer in the code{f' [{k[1]}]' if k[1] else ''} {k[0]!r}"
                 for k in have if k not in want]
    return problems


_DATES = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*"$')


def _comparable(text: str) -> list[str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("msgid")), 0)
    return [line for line in lines[start:] if not _DATES.match(line)]


def template_differences(committed: str, fresh: str) -> list[str]:
    """How the committed messages.pot differs from a fresh extraction, header dates (and
    the header comment with its year) aside."""
    return list(difflib.unified_diff(_comparable(committed), _comparable(fresh),
                                     "committed messages.pot", "fresh extraction",
                                     lineterm="", n=1))


def extract(target: Path) -> str:
    """What `make messages` extracts, into `target`."""
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "--add-location=file", "-o", str(target), "."],
        cwd=ROOT, check=True, capture_output=True, timeout=300)
    return target.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the catalogues


def _fails(problems: list[str], what: str) -> str:
    shown = "\n".join(problems[:80])
    more = f"\n... and {len(problems) - 80} more" if len(problems) > 80 else ""
    return f"{len(problems)} {what} (README, Languages):\n{shown}{more}"


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory) -> str:
    return extract(tmp_path_factory.mktemp("messages") / "messages.pot")


@pytest.fixture(params=TRANSLATED)
def language(request) -> str:
    return request.param


@pytest.fixture
def catalogue_text(language) -> str:
    path = catalogue_path(language)
    assert path.exists(), f"{language} is offered (config LANGUAGES) but has no {path}"
    return path.read_text(encoding="utf-8")


def test_every_offered_language_but_english_is_translated():
    assert SOURCE_LANGUAGE in config.Config.LANGUAGES
    assert TRANSLATED, "config LANGUAGES offers no language to translate into"
    assert set(SAME_IN) <= set(TRANSLATED), "SAME_IN names a language not offered"


def test_the_catalogue_compiles(language, catalogue_text):
    problems = compile_problems(catalogue_text, language)
    assert not problems, _fails(problems, "problems compiling")


def test_the_catalogue_header_names_the_language_and_its_plural_forms(language,
                                                                      catalogue_text):
    problems = header_problems(catalogue_text, language)
    assert not problems, _fails(problems, "header problems")


def test_every_message_is_translated(language, catalogue_text):
    catalog = read(catalogue_text, language)
    problems = incomplete(catalog, language)
    assert not problems, _fails(problems, "messages not translated")


def test_no_translation_is_left_in_english(language, catalogue_text):
    catalog = read(catalogue_text, language)
    problems = same_as_english(catalog, language, SAME_IN.get(language, frozenset()))
    assert not problems, _fails(problems, "translations identical to the English")


def test_every_translation_keeps_its_placeholders(language, catalogue_text):
    catalog = read(catalogue_text, language)
    problems = unfaithful(catalog, language)
    assert not problems, _fails(problems, "translations with other placeholders")


def test_the_catalogue_has_every_message_of_the_code(language, catalogue_text,
                                                     fresh_template):
    problems = out_of_date(read(catalogue_text, language), read(fresh_template), language)
    assert not problems, _fails(problems, "differences from the code (run `make messages`, "
                                          "then translate)")


def test_the_committed_template_is_a_fresh_extraction(fresh_template):
    committed = TEMPLATE.read_text(encoding="utf-8")
    differences = template_differences(committed, fresh_template)
    # The messages first; then, when only references or flags moved, the lines.
    messages = out_of_date(read(committed), read(fresh_template), "messages.pot")
    assert not differences, _fails(messages or differences,
                                   "differences from a fresh extraction (run `make messages`)")


# --------------------------------------------------------------------------- the checkers

HEADER = """\
msgid ""
msgstr ""
"Language: {code}\\n"
"Plural-Forms: {plurals}\\n"
"Content-Type: text/plain; charset=utf-8\\n"

"""
FR_PLURALS = "nplurals=2; plural=(n > 1);"
EL_PLURALS = "nplurals=2; plural=(n != 1);"

GOOD_FRENCH = HEADER.format(code="fr", plurals=FR_PLURALS) + """\
msgid "Toggle navigation"
msgstr "Afficher ou masquer la navigation"

#, python-format
msgid "Hello %(name)s, 100%% sure"
msgstr "Bonjour %(name)s, sûr à 100%%"

#, python-format
msgid "%(num)d badge"
msgid_plural "%(num)d badges"
msgstr[0] "%(num)d badge"
msgstr[1] "%(num)d badges"

#, python-format
msgid "%(num)d application to %(event)s"
msgid_plural "%(num)d applications to %(event)s"
msgstr[0] "%(num)d candidature à %(event)s"
msgstr[1] "%(num)d candidatures à %(event)s"

msgctxt "event status"
msgid "Cancelled"
msgstr "Annulé"

msgctxt "registration status"
msgid "Cancelled"
msgstr "Annulée"

msgid "Logo"
msgstr "Logo"

#, python-format
msgid "%(start)s – %(end)s"
msgstr "%(start)s – %(end)s"

msgid "Page {page} of {pages}"
msgstr "Page {page} sur {pages}"

#, python-format
msgid "Row %s of %d"
msgstr "Ligne %s sur %d"

#~ msgid "Gone"
#~ msgstr "Parti"
"""

GOOD_GREEK = HEADER.format(code="el", plurals=EL_PLURALS) + """\
#, python-format
msgid "%(num)d application to %(event)s"
msgid_plural "%(num)d applications to %(event)s"
msgstr[0] "Μία αίτηση για %(event)s"
msgstr[1] "%(num)d αιτήσεις για %(event)s"
"""


def _french(entries: str, plurals: str = FR_PLURALS) -> Catalog:
    return read(HEADER.format(code="fr", plurals=plurals) + entries, "fr")


def test_the_checkers_pass_a_right_catalogue():
    catalog = read(GOOD_FRENCH, "fr")
    assert incomplete(catalog, "fr") == []
    assert same_as_english(catalog, "fr", frozenset({"Logo", "%(num)d badge"})) == []
    assert unfaithful(catalog, "fr") == []
    assert compile_problems(GOOD_FRENCH, "fr") == []
    assert header_problems(GOOD_FRENCH, "fr") == []
    assert out_of_date(catalog, catalog, "fr") == []


def test_a_form_for_one_alone_may_leave_out_the_number():
    greek = read(GOOD_GREEK, "el")
    assert unfaithful(greek, "el") == []
    # In French the first form serves 0 as well: the number must stay.
    french = _french('msgid "%(num)d application"\nmsgid_plural "%(num)d applications"\n'
                     'msgstr[0] "Une candidature"\nmsgstr[1] "%(num)d candidatures"\n')
    assert [p.split(": ", 1)[1] for p in unfaithful(french, "fr")] == [
        "placeholders [], the message has ['num']"]
    # Unless the English singular has no number either: the code never asks for 0.
    french = _french('msgid "The applicant below is rejected."\n'
                     'msgid_plural "The %(num)d applicants below are rejected."\n'
                     'msgstr[0] "Le candidat ci-dessous est refusé."\n'
                     'msgstr[1] "Les %(num)d candidats ci-dessous sont refusés."\n')
    assert unfaithful(french, "fr") == []


@pytest.mark.parametrize(("entries", "expected"), [
    ('msgid "Save"\nmsgstr ""\n', "untranslated"),
    ('#, fuzzy\nmsgid "Save"\nmsgstr "Enregistrer"\n', "fuzzy"),
    ('msgid "%(num)d badge"\nmsgid_plural "%(num)d badges"\n'
     'msgstr[0] "%(num)d badge"\nmsgstr[1] ""\n', "untranslated"),
    # A form left out is read as empty.
    ('msgid "%(num)d badge"\nmsgid_plural "%(num)d badges"\nmsgstr[0] "%(num)d badge"\n',
     "untranslated"),
])
def test_an_incomplete_message_is_found(entries, expected):
    problems = incomplete(_french(entries), "fr")
    assert len(problems) == 1 and problems[0].endswith(expected), problems


def test_a_fuzzy_header_is_found():
    catalog = read("#, fuzzy\n" + GOOD_FRENCH, "fr")
    assert incomplete(catalog, "fr") == ["the header is marked fuzzy"]


@pytest.mark.parametrize(("entries", "same", "found"), [
    ('msgid "Save"\nmsgstr "Save"\n', frozenset(), True),
    ('msgid "Logo"\nmsgstr "Logo"\n', frozenset({"Logo"}), False),
    ('msgid "Logo"\nmsgstr "Logo"\n', frozenset({"Badge"}), True),
    ('msgid "%(num)d day"\nmsgid_plural "%(num)d days"\n'
     'msgstr[0] "%(num)d day"\nmsgstr[1] "%(num)d days"\n', frozenset(), True),
    ('msgid "%(num)d day"\nmsgid_plural "%(num)d days"\n'
     'msgstr[0] "%(num)d jour"\nmsgstr[1] "%(num)d jours"\n', frozenset(), False),
    ('msgid "2"\nmsgstr "2"\n', frozenset(), False),
    ('msgid "%(start)s – %(end)s"\nmsgstr "%(start)s – %(end)s"\n', frozenset(), False),
])
def test_a_translation_left_in_english_is_found(entries, same, found):
    assert bool(same_as_english(_french(entries), "fr", same)) is found


@pytest.mark.parametrize(("msgid", "msgstr", "expected"), [
    ("Hello %(name)s", "Bonjour %(nom)s", "placeholders ['nom'], the message has ['name']"),
    ("Hello %(name)s", "Bonjour", "placeholders [], the message has ['name']"),
    ("Hello", "Bonjour %(name)s", "placeholders ['name'], the message has []"),
    ("%(count)d seats", "%(count)s places", None),
    ("%(name)s seats", "%(name)d places", "%(name) converted as ['d'], the message as ['s']"),
    ("Row %s of %d", "Ligne %d sur %s",
     "positional placeholders ['d', 's'], the message has ['s', 'd']"),
    ("Page {page}", "Page {p}", "{} placeholders ['p'], the message has ['page']"),
    ("Full", "Plein à 100 %", "a lone % (write %% for a percent sign)"),
    ("100%% full", "plein à 100 %%", None),
])
def test_a_translation_with_other_placeholders_is_found(msgid, msgstr, expected):
    problems = unfaithful(_french(f'msgid "{msgid}"\nmsgstr "{msgstr}"\n'), "fr")
    assert [p.split(": ", 1)[1] for p in problems] == ([expected] if expected else [])


def test_each_plural_form_keeps_its_placeholders():
    entries = ('msgid "%(num)d application to %(event)s"\n'
               'msgid_plural "%(num)d applications to %(event)s"\n'
               'msgstr[0] "%(num)d candidature à %(event)s"\n'
               'msgstr[1] "%(num)d candidatures"\n')
    problems = unfaithful(_french(entries), "fr")
    assert len(problems) == 1 and "(form 1): placeholders ['num']" in problems[0], problems


def test_a_catalogue_that_does_not_compile_is_found():
    assert compile_problems(GOOD_FRENCH + '\nmsgid "Broken\nmsgstr "x"\n', "fr")
    # Babel's own checkers: a python-format message whose translation cannot format.
    bad = HEADER.format(code="fr", plurals=FR_PLURALS) + (
        '#, python-format\nmsgid "%(a)s and %(b)s"\nmsgstr "%s et %s"\n')
    assert compile_problems(bad, "fr")
    # More plural forms than the language has.
    extra = HEADER.format(code="fr", plurals=FR_PLURALS) + (
        'msgid "%(num)d day"\nmsgid_plural "%(num)d days"\nmsgstr[0] "%(num)d jour"\n'
        'msgstr[1] "%(num)d jours"\nmsgstr[2] "%(num)d jourz"\n')
    assert compile_problems(extra, "fr")


@pytest.mark.parametrize(("code", "plurals", "expected"), [
    ("fr", EL_PLURALS, "chooses another form"),
    ("fr", "nplurals=3; plural=(n > 1);", "nplurals=3"),
    ("el", FR_PLURALS, "chooses another form"),
    ("el", EL_PLURALS, None),
])
def test_a_wrong_plural_forms_header_is_found(code, plurals, expected):
    problems = header_problems(HEADER.format(code=code, plurals=plurals), code)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0], problems


def test_a_header_without_plural_forms_or_of_another_language_is_found():
    text = 'msgid ""\nmsgstr ""\n"Language: el\\n"\n'
    problems = header_problems(text, "fr")
    assert len(problems) == 2
    assert "Language is el" in problems[0] and "no Plural-Forms" in problems[1]


def test_a_catalogue_behind_the_code_is_found():
    catalog = _french('msgid "Old"\nmsgstr "Vieux"\n\n'
                      'msgid "%(num)d day"\nmsgid_plural "%(num)d days"\n'
                      'msgstr[0] "%(num)d jour"\nmsgstr[1] "%(num)d jours"\n\n'
                      'msgctxt "event status"\nmsgid "Cancelled"\nmsgstr "Annulé"\n')
    extracted = read('msgid "New"\nmsgstr ""\n\n'
                     'msgid "%(num)d day"\nmsgid_plural "%(num)d days in all"\n'
                     'msgstr[0] ""\nmsgstr[1] ""\n\n'
                     'msgctxt "event status"\nmsgid "Cancelled"\nmsgstr ""\n\n'
                     'msgctxt "registration status"\nmsgid "Cancelled"\nmsgstr ""\n')
    assert out_of_date(catalog, extracted, "fr") == [
        "fr: missing 'New'",
        "fr: the plural of '%(num)d day' is now ('%(num)d days in all',), the catalogue "
        "has ('%(num)d days',)",
        "fr: missing [registration status] 'Cancelled'",
        "fr: no longer in the code 'Old'",
    ]


def test_a_stale_template_is_found_and_its_dates_are_not():
    header = ('# Translations template for PROJECT.\n# Copyright (C) {year} ORGANIZATION\n'
              'msgid ""\nmsgstr ""\n"POT-Creation-Date: {year}-01-01 10:00+0000\\n"\n\n')
    body = '#: templates/base.html:{line}\nmsgid "Save"\nmsgstr ""\n'
    committed = header.format(year=2026) + body.format(line=6)
    assert template_differences(committed, header.format(year=2027) + body.format(line=6)) == []
    moved = template_differences(committed, header.format(year=2026) + body.format(line=7))
    assert "-#: templates/base.html:6" in moved and "+#: templates/base.html:7" in moved

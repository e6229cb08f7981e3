"""Domain errors carry a stable code and its params, never a sentence: every code is
listed once (webapp/services/errors.py) and documented, its English template is in the
extracted catalogue, and its message is rendered in the reader's language: a page in the
user's, the API in Accept-Language's (with the code in the problem body)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext, pgettext
from markupsafe import escape

import webapp
from tests import test_api
from tests.api import token_for
from tests.test_api import _problem
from webapp.models import EventKind
from webapp.services import errors
from webapp.services.errors import CODES, PASSTHROUGH, DomainError, RegistrationClosed

ROOT = Path(webapp.__file__).parent.parent
scene = test_api.scene  # the API tests' applicants, managers and organizer
CODE_RE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


def _translated(msgid: str, locale: str) -> str:
    with force_locale(locale):
        return gettext(msgid)


# --------------------------------------------------------------------------- the registry


def test_every_code_is_dotted_and_defined_once():
    assert len(CODES) > 100
    for code, entry in CODES.items():
        assert CODE_RE.match(code), code
        assert entry.code == code
    with pytest.raises(ValueError, match="defined twice"):
        errors._define("registration.closed", "Again.")


def test_every_code_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {f"| `{code}` | {entry.template.replace('|', chr(92) + '|')} |"
            for code, entry in CODES.items()}
    assert not {row for row in rows if row not in readme.splitlines()}


def test_the_api_document_lists_every_code(client):
    document = client.get("/api/v1/openapi.json").json
    problem = document["components"]["schemas"]["Problem"]
    assert {"code", "params"} <= set(problem["required"])  # null for the other problems
    listed = next(choice["enum"] for choice in problem["properties"]["code"]["anyOf"]
                  if "enum" in choice)
    assert set(listed) == set(CODES)


def test_an_unknown_code_or_a_missing_param_is_refused_where_it_is_raised():
    with pytest.raises(ValueError, match="unknown error code"):
        DomainError("You have already applied to this event.")
    with pytest.raises(ValueError, match="capacity"):
        errors.NoSeat("seat.capacity_reached")


def test_params_are_json_safe_and_words_are_placeholders():
    from webapp.models import RegistrationStatus

    refusal = errors.RegistrationRefused("registration.nothing_to_cancel",
                                         status=RegistrationStatus.WITHDRAWN)
    assert json.loads(json.dumps(refusal.params)) == {"status": "withdrawn"}
    for entry in CODES.values():
        assert set(entry.words) <= entry.placeholders, entry.code
        assert all(vocabulary in errors.WORDS for vocabulary in entry.words.values())


def _trees():
    for path in (ROOT / "webapp").rglob("*.py"):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_every_code_is_raised_somewhere():
    """Every code is a string literal of webapp/ outside its own definition."""
    found = set()
    for _path, tree in _trees():
        defined = {id(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and isinstance(node.func, ast.Name) and node.func.id == "_define"}
        found |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and node.value in CODES and id(node) not in defined}
    assert set(CODES) - found == set()


def test_no_domain_error_is_raised_with_a_sentence():
    """A literal first argument of a DomainError (of any subclass, anywhere), or the
    code a service's `problems.add` gets, is a code."""
    trees = list(_trees())
    bases = {node.name: {ast.unparse(base).rpartition(".")[2] for base in node.bases}
             for _path, tree in trees for node in ast.walk(tree)
             if isinstance(node, ast.ClassDef)}
    names = {"DomainError"}
    while grown := {name for name, of in bases.items() if of & names} - names:
        names |= grown
    assert {"RegistrationClosed", "Refused", "TextRefused", "BadgeCodeError"} <= names
    wrong = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            argument = None
            if name in names and node.args:
                argument = node.args[0]
            elif (name == "add" and len(node.args) >= 2 and path.parent.name == "services"
                  and ast.unparse(func) == "problems.add"):
                argument = node.args[1]
            if (isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                    and argument.value not in CODES):
                wrong.append(f"{path.name}:{node.lineno} {argument.value!r}")
    assert not wrong


# --------------------------------------------------------------------------- the catalogue


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue as `make messages` extracts it (into a file of the test's own)."""
    out = tmp_path_factory.mktemp("catalogue") / "check.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o",
                    str(out), "."], cwd=ROOT, check=True, capture_output=True)
    with out.open("rb") as file:
        return read_po(file)


def test_every_template_is_in_the_extracted_catalogue(extracted):
    missing = [code for code, entry in CODES.items()
               if code not in PASSTHROUGH and extracted.get(entry.template) is None]
    assert not missing
    # Throttling counts minutes: its template is a plural entry.
    assert extracted.get(CODES["throttle.wait"].template).pluralizable


def test_the_words_of_the_params_are_in_the_extracted_catalogue(extracted):
    for context, words in [
        ("registration status", ["submitted", "approved", "rejected", "waitlisted",
                                 "withdrawn", "cancelled"]),
        ("event status", ["draft", "published", "closed", "cancelled"]),
        ("membership request status", ["pending", "accepted", "refused"]),
    ]:
        for word in words:
            assert extracted.get(word, context=context) is not None, (context, word)


# --------------------------------------------------------------------------- rendering


def test_the_message_is_rendered_in_the_locale_current_when_it_is_read(app):
    refusal = RegistrationClosed("event.cancelled")
    with app.test_request_context():
        english = refusal.message
        assert english == "This event has been cancelled."
        with force_locale("fr"):
            french = refusal.message
        assert french == _translated("This event has been cancelled.", "fr") != english
        with force_locale("el"):
            greek = refusal.message
        assert greek == _translated("This event has been cancelled.", "el") != english


def test_a_word_param_is_rendered_through_its_translated_label(app):
    refusal = errors.InvalidTransition("withdrawn", "approved")
    assert refusal.params == {"from_status": "withdrawn", "to_status": "approved"}
    with app.test_request_context():
        assert refusal.message == "This registration is withdrawn and cannot become approved."
        for locale in ("fr", "el"):
            with force_locale(locale):
                expected = gettext(
                    CODES["registration.invalid_transition"].template,
                    from_status=pgettext("registration status", "withdrawn"),
                    to_status=pgettext("registration status", "approved"))
                assert refusal.message == expected


# --------------------------------------------------------------------------- through a page
# and through the API


@pytest.fixture
def past_event(make, db):
    cluster = make.partner()
    event = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
                       starts_in=-timedelta(days=10), duration=timedelta(hours=2))
    member = make.user(make.organization(cluster))
    db.session.commit()
    return event, member


@pytest.mark.parametrize("locale", ["el", "fr"])
def test_a_domain_error_through_the_api_in_the_callers_language_with_its_code(
        app, call, past_event, locale):
    event, member = past_event
    token = token_for(member)
    body = _problem(call("POST", f"/api/v1/events/{event.id}/registrations", token, json={},
                         headers={"Accept-Language": locale}), 409)
    assert body["code"] == "event.taken_place"
    assert body["params"] == {}
    with app.test_request_context():
        expected = _translated("This event has taken place.", locale)
    assert expected != "This event has taken place."
    assert body["detail"] == expected


def test_a_domain_error_through_the_api_in_english_by_default(call, past_event):
    event, member = past_event
    body = _problem(call("POST", f"/api/v1/events/{event.id}/registrations",
                         token_for(member), json={}), 409)
    assert body["code"] == "event.taken_place"
    assert body["detail"] == "This event has taken place."


def test_a_code_with_params_through_the_api(call, make, db):
    cluster = make.partner()
    event = make.event(organizers=[cluster], requires_approval=True)
    member = make.user(make.organization(cluster))
    db.session.commit()
    token = token_for(member)
    url = f"/api/v1/events/{event.id}/registrations"
    first = call("POST", url, token, json={"profile_consent": True})
    assert first.status_code == 201, first.json
    again = _problem(call("POST", url, token, json={"profile_consent": True}), 409)
    assert again["code"] == "registration.already_applied_status"
    assert again["params"] == {"status": "submitted"}
    assert again["detail"] == ("You have already applied to this event; your application is "
                               "submitted.")


@pytest.mark.parametrize("locale", ["el", "fr"])
def test_a_domain_error_on_a_page_in_the_users_language(app, db, login_as, past_event,
                                                        locale):
    event, member = past_event
    member.locale = locale
    db.session.commit()
    page = login_as(member).get(f"/events/{event.slug}/apply")
    assert page.status_code == 200
    with app.test_request_context():
        expected = _translated("This event has taken place.", locale)
    assert expected != "This event has taken place."
    html = page.get_data(as_text=True)
    assert str(escape(expected)) in html
    assert "This event has taken place." not in html


def test_a_decision_someone_took_first_is_coded_with_who_and_the_status(call, scene):
    reg = scene["reg_a"]
    url = f"/api/v1/registrations/{reg.id}/decision"
    first = call("POST", url, scene["tokens"]["manager_a"],
                 json={"decision": "approve", "expected_status": "submitted"})
    assert first.status_code == 200, first.json
    stale = _problem(call("POST", url, scene["tokens"]["organizer"],
                          json={"decision": "reject", "reason": "Full",
                                "expected_status": "submitted"}), 409)
    assert stale["code"] == "decision.taken_meanwhile"
    assert stale["params"]["status"] == "approved"
    assert stale["params"]["who"] == scene["manager_a"].name
    assert stale["detail"] == (f"Already approved by {scene['manager_a'].name} at "
                               f"{stale['params']['when']}.")
    # A problem that is not a refusal of the domain says so with nulls.
    missing = _problem(call("GET", "/api/v1/registrations/999999", scene["tokens"]["admin"]),
                       404)
    assert missing["code"] is None and missing["params"] is None


@pytest.mark.parametrize(("language", "one", "many"), [
    ("en", "1 registration is already approved; the capacity cannot be lower.",
     "3 registrations are already approved; the capacity cannot be lower."),
    ("fr", "1 inscription est déjà approuvée\xa0; la capacité ne peut pas être inférieure.",
     "3 inscriptions sont déjà approuvées\xa0; la capacité ne peut pas être inférieure."),
])
def test_a_counted_refusal_takes_the_plural_form_of_its_count(app, language, one, many):
    with app.test_request_context(), force_locale(language):
        assert errors.render("event.capacity_below_approved", {"approved": 1}) == one
        assert errors.render("event.capacity_below_approved", {"approved": 3}) == many
        assert errors.render("question.kind_answered", {"count": 1}).startswith(
            "1 applicant has" if language == "en" else "1 candidat a")

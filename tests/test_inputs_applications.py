"""Applications and the writes around them (answers and consents, withdrawals, check-in,
agreements, survey answers, delegation messages, quick registrations, badge batches, the
desk's role and direct registration): each form and its model read from JSON refuse the
same values with the same sentence beside the same field, and accept the same good ones.

The application form names a question's field `q_<id>` where the API says
`answers/<n>/value`, and the door's form names the code `code` where the API says `token`:
their tables compare each field with its counterpart. Where the API takes the model
(applying, withdrawing, checking in), a bad value posted there is a 422 whose pointer and
detail are the form's field and sentence.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.api import token_for
from tests.inputs_table import Case, check, form_messages, json_messages
from webapp import inputs
from webapp.forms.account import WithdrawForm
from webapp.forms.agreements import AgreementForm
from webapp.forms.apply import ApplicationForm, _build
from webapp.forms.badges import BatchForm
from webapp.forms.checkin import CheckInForm, RecordForm
from webapp.forms.delegation import MessageForm
from webapp.forms.desk import DirectRegistrationForm, RoleForm
from webapp.forms.quick_registration import QuickRegistrationForm
from webapp.forms.surveys import ConfirmOutcomeForm, SurveyForm
from webapp.inputs.agreements import AgreementIn
from webapp.inputs.applications import ApplicationIn, WithdrawalIn
from webapp.inputs.badges import BadgeBatchIn
from webapp.inputs.checkin import BadgeCheckinIn, CheckinIn
from webapp.inputs.delegation import DelegationMessageIn
from webapp.inputs.desk import DirectRegistrationIn, RoleIn
from webapp.inputs.quick_registration import QuickRegistrationIn
from webapp.inputs.surveys import OutcomeConfirmationIn, SurveyAnswerIn
from webapp.models import EventKind, Question, QuestionKind
from webapp.models import RegistrationStatus as S

# --------------------------------------------------------------------------- applying

# Questions as the form builds its fields from them (never stored: the shape is the
# model's, which needs no database).
TEXT, LONG, PICK = 1, 2, 3
QUESTIONS = [
    Question(id=TEXT, kind=QuestionKind.SHORT_TEXT, label="Your role", choices=[]),
    Question(id=LONG, kind=QuestionKind.LONG_TEXT, label="Objectives", choices=[]),
    Question(id=PICK, kind=QuestionKind.MULTIPLE_CHOICE, label="Sectors",
             choices=[f"Sector {n}" for n in range(60)]),
]


def application_form(formdata, meta):
    """The application form of an event asking QUESTIONS, for an applicant who does not
    edit the company profile."""
    form = _build(ApplicationForm, QUESTIONS, None, formdata=formdata, meta=meta)
    for name in ApplicationForm.PROFILE_FIELDS:
        del form[name]
    return form


def _answers(**by_question: Any) -> list[dict[str, Any]]:
    return [{"question_id": qid, "value": value} for qid, value in by_question.items()]


# (name, posted by the form, the JSON body, the question refused or None, the sentence)
APPLICATION_CASES = [
    ("answers and consents", {"q_1": "CEO", "q_2": "Meet partners\nand pilots",
                              "q_3": ["Sector 1", "Sector 2"], "profile_consent": "y"},
     {"answers": _answers(**{"1": "CEO", "2": "Meet partners\nand pilots",
                             "3": ["Sector 1", "Sector 2"]}), "profile_consent": True},
     None, None),
    ("nothing answered", {}, {}, None, None),
    ("a text too long", {"q_2": "x" * 4001}, {"answers": _answers(**{"2": "x" * 4001})},
     LONG, "Enter at most 4000 characters."),
    ("a text of the limit, blanks around it", {"q_2": " " + "x" * 4000 + " "},
     {"answers": _answers(**{"2": " " + "x" * 4000 + " "})}, None, None),
    ("a control character", {"q_1": "a\x1bb"}, {"answers": _answers(**{"1": "a\x1bb"})},
     TEXT, "Your answer contains the control character U+001B"),
    ("too many options", {"q_3": [f"Sector {n}" for n in range(51)]},
     {"answers": _answers(**{"3": [f"Sector {n}" for n in range(51)]})},
     PICK, "Give at most 50 items."),
    ("an option too long", {"q_3": ["y" * 201]}, {"answers": _answers(**{"3": ["y" * 201]})},
     PICK, "Enter at most 200 characters."),
]


def _json_body(body: dict[str, Any]) -> dict[str, Any]:
    """JSON keys are strings: the question ids of `_answers(**...)` become numbers."""
    answers = [{**a, "question_id": int(a["question_id"])} for a in body.get("answers", [])]
    return {**body, **({"answers": answers} if answers else {})}


def _api_sentences(model, body: dict[str, Any]) -> dict[tuple, list[str]]:
    try:
        model.from_json(json.dumps(body))
    except inputs.ValidationError as error:
        found: dict[tuple, list[str]] = {}
        for where, message in inputs.messages(error, model):
            found.setdefault(tuple(where), []).append(message)
        return found
    return {}


@pytest.mark.parametrize(("name", "form_data", "body", "question", "message"),
                         APPLICATION_CASES, ids=[c[0] for c in APPLICATION_CASES])
def test_an_application_is_judged_alike_by_the_form_and_the_api(
        app, name, form_data, body, question, message):
    body = _json_body(body)
    with app.test_request_context():
        from_form = form_messages(application_form, form_data)
        from_json = _api_sentences(ApplicationIn, body)
    if question is None:
        assert from_form == {} and from_json == {}, (from_form, from_json)
        return
    place = next(n for n, a in enumerate(body["answers"]) if a["question_id"] == question)
    form_said = from_form.get(f"q_{question}", [])
    json_said = from_json.get(("answers", place, "value"), [])
    assert any(message in m for m in form_said), from_form
    assert set(form_said) & set(json_said), (form_said, json_said)


# What only a client of the API can send (a form's fields cannot hold it).
API_ONLY_CASES = [
    ("a question answered twice", {"answers": [{"question_id": 1, "value": "a"},
                                               {"question_id": 1, "value": "b"}]},
     ("answers",), "Answer each question once."),
    ("a number as an answer", {"answers": [{"question_id": 1, "value": 5}]},
     ("answers", 0, "value"), "Give a text, a yes or no, or a list of the options chosen."),
    ("a list of numbers", {"answers": [{"question_id": 1, "value": [1, 2]}]},
     ("answers", 0, "value"), "Give a text, a yes or no, or a list of the options chosen."),
    ("no question", {"answers": [{"value": "a"}]}, ("answers", 0, "question_id"),
     "This field is required."),
    ("a consent in words", {"profile_consent": "yes"}, ("profile_consent",),
     "Answer yes or no."),
    ("too many answers", {"answers": [{"question_id": n, "value": "a"}
                                      for n in range(1, 102)]},
     ("answers",), "Give at most 100 items."),
    ("an unknown field", {"status": "approved"}, ("status",), "This field is not expected."),
]


@pytest.mark.parametrize(("name", "body", "where", "message"), API_ONLY_CASES,
                         ids=[c[0] for c in API_ONLY_CASES])
def test_the_application_model_refuses_what_only_a_client_can_send(
        app, name, body, where, message):
    with app.test_request_context():
        assert message in _api_sentences(ApplicationIn, body).get(where, []), name


def test_the_answers_shape_is_the_models_and_the_mission_consent_the_services(app):
    """The mission's consent needs the event: the model takes a missing one."""
    with app.test_request_context():
        assert ApplicationIn.from_json("{}").profile_consent is False


# --------------------------------------------------------------------------- withdrawing

WITHDRAWAL_CASES = [
    Case("no reason", {}, None, None),
    Case("a reason on two lines", {"reason": "Plans changed.\nSorry!"}, None, None),
    Case("a reason too long", {"reason": "x" * 1001}, None, "reason",
         "Enter at most 1000 characters."),
    Case("a control character", {"reason": "a\x07b"}, None, "reason", "U+0007"),
]


@pytest.mark.parametrize("case", WITHDRAWAL_CASES, ids=str)
def test_a_withdrawal_is_judged_alike_by_the_page_and_the_api(app, case):
    with app.test_request_context():
        check(case, WithdrawalIn, WithdrawForm)


# --------------------------------------------------------------------------- checking in


def door_form(formdata, meta):
    form = CheckInForm(formdata=formdata, meta=meta)
    form.session.choices = [("event", "The event as a whole"), ("5", "Keynote")]
    return form


def badge_page_form(formdata, meta):
    form = RecordForm(formdata=formdata, meta=meta)
    form.session.choices = [("event", "The event as a whole"), ("5", "Keynote")]
    return form


# The door's form says `code` and `session` where the API says `token` and `session_id`.
DOOR_NAMES = {"token": "code", "session_id": "session"}

CHECKIN_CASES = [
    Case("a code for the event", {"code": "ABCD-EFGH", "session": "event"},
         {"token": "ABCD-EFGH"}, None),
    Case("a code for a session", {"code": "ABCD-EFGH", "session": "5"},
         {"token": "ABCD-EFGH", "session_id": 5}, None),
    Case("no code", {"code": "  "}, {"token": "  "}, "token",
         "Scan a badge or type the code printed under its QR code."),
    Case("no code at all", {}, {}, "token",
         "Scan a badge or type the code printed under its QR code."),
    Case("a code too long", {"code": "A" * 501}, {"token": "A" * 501}, "token",
         "Enter at most 500 characters."),
    Case("a control character", {"code": "AB\x00CD"}, {"token": "AB\x00CD"}, "token",
         "Badge code contains"),
]


def check_renamed(case: Case, model, form_class, names: dict[str, str]) -> None:
    """`check`, for a form whose fields are named apart from the model's."""
    from_form = form_messages(form_class, case.form_data)
    from_json = json_messages(model, case.form_data if case.json_body is None
                              else case.json_body)
    if case.field is None:
        assert from_form == {} and from_json == {}, (from_form, from_json)
        return
    form_said = from_form.get(names.get(case.field, case.field), [])
    json_said = from_json.get(case.field, [])
    assert any(case.message in m for m in form_said), ("form", from_form)
    assert any(case.message in m for m in json_said), ("api", from_json)
    assert set(form_said) & set(json_said), (form_said, json_said)


@pytest.mark.parametrize("case", CHECKIN_CASES, ids=str)
def test_a_check_in_is_judged_alike_by_the_door_and_the_api(app, case):
    with app.test_request_context():
        check_renamed(case, CheckinIn, door_form, DOOR_NAMES)


BADGE_PAGE_CASES = [
    Case("the event", {"session": "event"}, {}, None),
    Case("a session", {"session": "5"}, {"session_id": 5}, None),
]


@pytest.mark.parametrize("case", BADGE_PAGE_CASES, ids=str)
def test_a_badge_pages_check_in_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check_renamed(case, BadgeCheckinIn, badge_page_form, DOOR_NAMES)


def test_a_session_that_is_no_id_is_refused_by_the_model(app):
    with app.test_request_context():
        said = json_messages(CheckinIn, {"token": "ABCD", "session_id": 0})
    assert said == {"session_id": ["Enter a number of at least 1."]}


# --------------------------------------------------------------------------- agreements

AGREEMENT = {"kind": "collaboration", "type": "business_partnership", "status": "signed",
             "title": "Pilot in Singapore", "responsible_partner_id": "3",
             "parties": ["organization:4", "organization:5"], "started_on": "2019-06-01",
             "signed_on": "2019-08-01"}
AGREEMENT_JSON = {**AGREEMENT, "responsible_partner_id": 3}


def _agreement(**change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    form = {k: v for k, v in {**AGREEMENT, **change}.items() if v is not None}
    body = {k: v for k, v in {**AGREEMENT_JSON, **change}.items() if v is not None}
    for name in ("responsible_partner_id", "origin_event_id"):
        if isinstance(body.get(name), str) and body[name].isdigit():
            body[name] = int(body[name])
    return form, body


def agreement_form(formdata, meta):
    return AgreementForm(formdata=formdata, meta=meta)


AGREEMENT_CASES = [
    Case("signed", *_agreement(), None),
    Case("in negotiation", *_agreement(status="in_negotiation", signed_on=None), None),
    Case("with a new party", *_agreement(parties=["organization:4"],
                                         new_organization_name="Pune Smart Works",
                                         new_organization_country="IN"), None),
    Case("no title", *_agreement(title="  "), "title", "Enter a title."),
    Case("a title too long", *_agreement(title="t" * 201), "title",
         "Enter at most 200 characters."),
    Case("an unknown kind", *_agreement(kind="treaty"), "kind",
         "Choose the kind of agreement."),
    Case("no cluster", *_agreement(responsible_partner_id=None), "responsible_partner_id",
         "Choose the member cluster responsible for it."),
    Case("a party twice", *_agreement(parties=["organization:4", "organization:4"]),
         "parties", "The same party is named twice"),
    Case("a party not from the list", *_agreement(parties=["organization:4", "drop table"]),
         "parties", "Choose the parties from the list."),
    Case("one party", *_agreement(parties=["organization:4"]), "parties",
         "An agreement has at least two parties."),
    Case("signed without a date", *_agreement(signed_on=None), "signed_on",
         "Enter the date it was signed."),
    Case("signed before it started", *_agreement(signed_on="2019-05-01"), "signed_on",
         "The signing date is before the start date."),
    Case("ended without a date", *_agreement(status="ended"), "ended_on",
         "Enter the date it ended."),
    Case("an end date while signed", *_agreement(ended_on="2020-01-01"), "ended_on",
         "Only an ended agreement has an end date."),
    Case("a year out of reach", *_agreement(started_on="1900-01-01"), "started_on",
         "Enter a date from"),
    Case("a description on two lines", *_agreement(description="First.\nSecond."), None),
    Case("a title on two lines", *_agreement(title="First\nSecond"), "title",
         "line break"),
]


@pytest.mark.parametrize("case", AGREEMENT_CASES, ids=str)
def test_an_agreement_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, AgreementIn, agreement_form)


# --------------------------------------------------------------------------- surveys

SURVEY_CASES = [
    Case("satisfied", {"satisfaction": "4"}, {"satisfaction": 4}, None),
    Case("everything", {"satisfaction": "5", "b2b_meetings": "3", "leads": "2",
                        "agreements_signed": "1", "agreement_parties": "Harbour Labs",
                        "outcome": "A pilot.\nMaybe two.", "comment": "Thanks"},
         {"satisfaction": 5, "b2b_meetings": 3, "leads": 2, "agreements_signed": 1,
          "agreement_parties": "Harbour Labs", "outcome": "A pilot.\nMaybe two.",
          "comment": "Thanks"}, None),
    Case("no satisfaction", {}, {}, "satisfaction",
         "Choose your satisfaction from 1 (poor) to 5 (excellent)."),
    Case("satisfaction out of range", {"satisfaction": "7"}, {"satisfaction": 7},
         "satisfaction", "Choose your satisfaction from 1 (poor) to 5 (excellent)."),
    Case("fewer than no meetings", {"satisfaction": "3", "b2b_meetings": "-1"},
         {"satisfaction": 3, "b2b_meetings": -1}, "b2b_meetings",
         "Give a whole number from 0 to 500."),
    Case("too many leads", {"satisfaction": "3", "leads": "1001"},
         {"satisfaction": 3, "leads": 1001}, "leads", "Give a whole number from 0 to 1000."),
    Case("parties too long", {"satisfaction": "3", "agreement_parties": "p" * 501},
         {"satisfaction": 3, "agreement_parties": "p" * 501}, "agreement_parties",
         "Enter at most 500 characters."),
    Case("a comment too long", {"satisfaction": "3", "comment": "c" * 2001},
         {"satisfaction": 3, "comment": "c" * 2001}, "comment",
         "Enter at most 2000 characters."),
    Case("parties on two lines", {"satisfaction": "3", "agreement_parties": "A\nB"},
         {"satisfaction": 3, "agreement_parties": "A\nB"}, "agreement_parties",
         "line break"),
]


@pytest.mark.parametrize("case", SURVEY_CASES, ids=str)
def test_a_survey_answer_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, SurveyAnswerIn, SurveyForm)


CONFIRMATION_CASES = [
    Case("an agreement", {"agreement_id": "7"}, {"agreement_id": 7}, None),
    Case("none chosen", {}, {}, "agreement_id", "Choose the agreement."),
]


def confirmation_form(formdata, meta):
    form = ConfirmOutcomeForm(formdata=formdata, meta=meta)
    form.agreement_id.choices = [("", "Choose an agreement"), ("7", "Pilot")]
    return form


@pytest.mark.parametrize("case", CONFIRMATION_CASES, ids=str)
def test_an_outcome_confirmation_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, OutcomeConfirmationIn, confirmation_form)


# --------------------------------------------------------------------------- delegation


def message_form(formdata, meta):
    form = MessageForm(formdata=formdata, meta=meta)
    form.audience.choices = [("all", "The whole delegation"), ("3", "Cluster Alpha")]
    return form


MESSAGE_CASES = [
    Case("to all", {"audience": "all", "subject": "Briefing", "body": "Meet at 08:30.\nLobby."},
         None, None),
    Case("to a partner", {"audience": "3", "subject": "Briefing", "body": "Hi"}, None, None),
    Case("no subject", {"audience": "all", "subject": " ", "body": "Hi"}, None, "subject",
         "A message needs a subject."),
    Case("no text", {"audience": "all", "subject": "Briefing", "body": ""}, None, "body",
         "A message needs some text."),
    Case("a subject too long", {"audience": "all", "subject": "s" * 201, "body": "Hi"}, None,
         "subject", "Enter at most 200 characters."),
    Case("a text too long", {"audience": "all", "subject": "S", "body": "b" * 10_001}, None,
         "body", "Enter at most 10000 characters."),
    Case("a subject on two lines", {"audience": "all", "subject": "A\nB", "body": "Hi"},
         None, "subject", "line break"),
]


@pytest.mark.parametrize("case", MESSAGE_CASES, ids=str)
def test_a_delegation_message_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, DelegationMessageIn, message_form)


def test_an_audience_that_is_no_partner_is_refused_by_the_model(app):
    with app.test_request_context():
        said = json_messages(DelegationMessageIn, {"audience": "3; drop", "subject": "S",
                                                   "body": "B"})
    assert said == {"audience": ["Choose whom to write to."]}


# --------------------------------------------------------------------------- quick registration

QUICK = {"name": "Ines Berg", "email": "ines@nordlicht.example",
         "organization": "Nordlicht", "country": "DE", "timezone": "Europe/Berlin",
         "privacy": "y"}
QUICK_JSON = {**QUICK, "privacy": True}


def _quick(**change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    form = {k: v for k, v in {**QUICK, **change}.items() if v is not None}
    body = {k: v for k, v in {**QUICK_JSON, **change}.items() if v is not None}
    if "privacy" in change and change["privacy"] is None:
        body["privacy"] = False
    return form, body


QUICK_CASES = [
    Case("registered", *_quick(), None),
    Case("without a zone", *_quick(timezone=""), None),
    Case("no name", *_quick(name=""), "name", "This field is required."),
    Case("not an address", *_quick(email="ines-at-nordlicht"), "email",
         "Invalid email address."),
    Case("a one-letter organization", *_quick(organization="x"), "organization",
         "Enter at least 2 characters."),
    Case("no country", *_quick(country=""), "country", "Choose a country from the list."),
    Case("no such country", *_quick(country="XX"), "country",
         "Choose a country from the list."),
    Case("no such zone", *_quick(timezone="Mars/Olympus_Mons"), "timezone",
         "This is not a timezone we know."),
    Case("the notice not accepted", *_quick(privacy=None), "privacy",
         "Please accept the privacy notice"),
]


@pytest.mark.parametrize("case", QUICK_CASES, ids=str)
def test_a_quick_registration_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, QuickRegistrationIn, QuickRegistrationForm)


# --------------------------------------------------------------------------- badges


def batch_form(formdata, meta):
    form = BatchForm(formdata=formdata, meta=meta)
    form.partner.choices = [("all", "Everyone"), ("3", "Cluster Alpha")]
    return form


BATCH_CASES = [
    Case("the defaults", {}, None, None),
    Case("A4 for a partner", {"format": "a4", "partner": "3"}, None, None),
    Case("no such paper", {"format": "a5"}, None, "format", "Choose A6 or A4 paper."),
]


@pytest.mark.parametrize("case", BATCH_CASES, ids=str)
def test_a_badge_batch_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, BadgeBatchIn, batch_form)


# --------------------------------------------------------------------------- the desk

ROLE_CASES = [
    Case("a speaker", {"role": "speaker"}, None, None),
    Case("no such role", {"role": "king"}, None, "role", "Choose a role from the list."),
]

DIRECT_CASES = [
    Case("a host", {"email": "host@example.org", "role": "host"}, None, None),
    Case("no address", {"email": "", "role": "staff"}, None, "email",
         "This field is required."),
    Case("not an address", {"email": "host-at-example", "role": "staff"}, None, "email",
         "Invalid email address."),
    Case("a delegate", {"email": "host@example.org", "role": "delegate"}, None, "role",
         "Only hosts and staff are registered directly."),
    Case("no such role", {"email": "host@example.org", "role": "king"}, None, "role",
         "Choose a role from the list."),
]


@pytest.mark.parametrize("case", ROLE_CASES, ids=str)
def test_a_role_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, RoleIn, RoleForm)


@pytest.mark.parametrize("case", DIRECT_CASES, ids=str)
def test_a_direct_registration_is_judged_alike_by_form_and_model(app, case):
    with app.test_request_context():
        check(case, DirectRegistrationIn, DirectRegistrationForm)


# --------------------------------------------------------------------------- through the API


@pytest.fixture
def webinar(make, db):
    cluster = make.partner()
    event = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
                       capacity=10, duration=timedelta(hours=2))
    question = Question(event=event, kind=QuestionKind.LONG_TEXT, label="Objectives")
    db.session.add(question)
    member = make.user(make.organization(cluster))
    organizer = make.manager(cluster)
    db.session.commit()
    return dict(event=event, question=question, member=member, organizer=organizer)


def _errors(response) -> list[dict[str, str]]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()["errors"]


def test_the_api_refuses_an_answer_with_the_forms_sentence_at_its_pointer(call, webinar):
    event, question = webinar["event"], webinar["question"]
    response = call("POST", f"/api/v1/events/{event.id}/registrations",
                    token_for(webinar["member"]),
                    json={"answers": [{"question_id": question.id, "value": "x" * 4001}]})
    assert {"pointer": "/answers/0/value",
            "detail": "Enter at most 4000 characters."} in _errors(response)
    twice = call("POST", f"/api/v1/events/{event.id}/registrations",
                 token_for(webinar["member"]),
                 json={"answers": [{"question_id": question.id, "value": "a"},
                                   {"question_id": question.id, "value": "b"}]})
    assert {"pointer": "/answers", "detail": "Answer each question once."} in _errors(twice)


def test_the_api_refuses_a_withdrawal_reason_with_the_pages_sentence(call, make, db, webinar):
    reg = make.registration(webinar["event"], webinar["member"], S.SUBMITTED)
    db.session.commit()
    response = call("POST", f"/api/v1/registrations/{reg.id}/withdraw",
                    token_for(webinar["member"]), json={"reason": "x" * 1001})
    assert {"pointer": "/reason",
            "detail": "Enter at most 1000 characters."} in _errors(response)


def test_the_api_refuses_an_empty_badge_code_with_the_doors_sentence(call, webinar):
    response = call("POST", f"/api/v1/events/{webinar['event'].id}/checkins",
                    token_for(webinar["organizer"]), json={"token": "   "})
    assert {"pointer": "/token", "detail": "Scan a badge or type the code printed under its "
            "QR code."} in _errors(response)

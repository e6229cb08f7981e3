"""Running events as input models (webapp/inputs/events.py, webapp/inputs/partners.py): the
admin forms and the models read from JSON refuse the same values with the same sentence
beside the same field, and accept the same good ones. Events, sessions, quotas,
questions, copies, cancellations, partners and role grants."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.inputs_table import Case, check, form_messages, json_messages
from webapp import inputs
from webapp.forms.admin import (
    CancelForm,
    CloneForm,
    EventForm,
    GrantForm,
    PartnerForm,
    QuestionForm,
    SessionForm,
    quota_form,
)
from webapp.inputs.events import (
    CancelIn,
    CloneIn,
    EventIn,
    MoveIn,
    QuestionIn,
    QuotasIn,
    SessionIn,
    reminder_minutes,
)
from webapp.inputs.partners import GrantIn, PartnerIn
from webapp.models import PartnerKind

EVENT_WINDOW = "(2000-01-01 to 2100-12-31)"
CLUSTER = SimpleNamespace(id=1, name="Copenhagen Cleantech", kind=PartnerKind.CLUSTER)
BEACHHEAD = SimpleNamespace(id=2, name="NECEC", kind=PartnerKind.BEACHHEAD)
PARTNERS = {"partners": [CLUSTER, BEACHHEAD]}


def _both(form: dict[str, Any], body: dict[str, Any], form_over: dict[str, Any],
          json_over: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The base values with the overrides; a JSON value None leaves the field out."""
    posted = {**form, **form_over}
    sent = {**body, **(form_over if json_over is None else json_over)}
    return posted, {k: v for k, v in sent.items() if v is not None}


# --------------------------------------------------------------------------- events

EVENT_FORM = dict(
    kind="workshop", title="Green energy in Boston", slug="", summary="", description="",
    target_country="US", target_city="Boston", venue="", online_url="", recording_url="",
    reminder_offsets="24h, 1h", timezone="America/New_York",
    starts_local="2027-10-12T09:00", ends_local="2027-10-12T17:00",
    registration_opens_local="", registration_closes_local="", capacity="20",
    max_per_organization="", requires_approval="y", organizer_ids=["1"], host_ids=["2"],
)
EVENT_JSON = dict(
    kind="workshop", title="Green energy in Boston", target_country="US",
    target_city="Boston", reminder_offsets="24h, 1h", timezone="America/New_York",
    starts_local="2027-10-12T09:00:00", ends_local="2027-10-12T17:00:00", capacity=20,
    requires_approval=True, organizer_ids=[1], host_ids=[2],
)


def event(name, form_over, json_over, field, message=None) -> Case:
    posted, sent = _both(EVENT_FORM, EVENT_JSON, form_over, json_over)
    return Case(name, posted, sent, field, message, form_kwargs=PARTNERS)


EVENT_CASES = [
    event("a workshop", {}, {}, None),
    event("reminders as minutes", {"reminder_offsets": "1440, 60"},
          {"reminder_offsets": [1440, 60]}, None),
    event("a registration window", {"registration_opens_local": "2027-09-01T09:00",
                                    "registration_closes_local": "2027-10-12T08:00"},
          {"registration_opens_local": "2027-09-01T09:00:00",
           "registration_closes_local": "2027-10-12T08:00:00"}, None),
    event("a repeated hour with its offset chosen",
          {"starts_local": "2027-11-07T01:30", "starts_local_offset": "-05:00",
           "ends_local": "2027-11-07T09:00"},
          {"starts_local": "2027-11-07T01:30:00-05:00", "ends_local": "2027-11-07T09:00:00"},
          None),
    event("a recording of a past event", {
        "starts_local": "2020-10-12T09:00", "ends_local": "2020-10-12T17:00",
        "recording_url": "https://video.example.com/1"}, {
        "starts_local": "2020-10-12T09:00:00", "ends_local": "2020-10-12T17:00:00",
        "recording_url": "https://video.example.com/1"}, None),
    event("no title", {"title": "   "}, None, "title", "Give the event a title."),
    event("a title too long", {"title": "x" * 201}, None, "title",
          "Enter at most 200 characters."),
    event("a control character", {"title": "Green\x1benergy"}, None, "title", "U+001B"),
    event("a summary on two lines", {"summary": "Two\nlines"}, None, "summary",
          "must be on one line"),
    event("an unknown kind", {"kind": "teleport"}, None, "kind", "Choose one of"),
    event("an unknown country", {"target_country": "XX"}, None, "target_country",
          "Choose a country from the list."),
    event("no country", {"target_country": ""}, {"target_country": None}, "target_country",
          "Choose a country from the list."),
    event("a script as the join address", {"online_url": "javascript:alert(1)"}, None,
          "online_url", "Enter an address starting with http:// or https://."),
    event("a recording address that cannot be read", {"recording_url": "http://[::1"}, None,
          "recording_url", "http:// or https://"),
    event("reminders not understood", {"reminder_offsets": "soon"}, None,
          "reminder_offsets", "is not a reminder time"),
    event("a reminder after the start", {"reminder_offsets": "0h"},
          {"reminder_offsets": [0]}, "reminder_offsets", "A reminder must come before"),
    event("a reminder twice", {"reminder_offsets": "1h, 60"}, {"reminder_offsets": [60, 60]},
          "reminder_offsets", "Each reminder time can be given only once."),
    event("too many reminders", {"reminder_offsets": "1h, 2h, 3h, 4h, 5h, 6h"}, None,
          "reminder_offsets", "At most 5 reminders per event."),
    event("reminders too long to read", {"reminder_offsets": "1h," + " " * 100}, None,
          "reminder_offsets", "Enter at most 100 characters."),
    event("a reminder a month ahead", {"reminder_offsets": "30d"}, None,
          "reminder_offsets", "at most 14 days before"),
    event("an unknown zone", {"timezone": "Mars/Olympus_Mons"}, None, "timezone",
          "Enter an IANA timezone"),
    event("a path as the zone", {"timezone": "../../etc/passwd"}, None, "timezone",
          "Enter an IANA timezone"),
    event("no start", {"starts_local": ""}, {"starts_local": None}, "starts_local",
          "Enter a date and time."),
    event("a start out of the years", {"starts_local": "2101-01-01T09:00",
                                       "ends_local": "2101-01-01T17:00"},
          {"starts_local": "2101-01-01T09:00:00", "ends_local": "2101-01-01T17:00:00"},
          "starts_local", EVENT_WINDOW),
    event("a time the clocks skip", {"starts_local": "2027-03-14T02:30"},
          {"starts_local": "2027-03-14T02:30:00", "ends_local": "2027-03-14T17:00:00"},
          "starts_local", "does not exist in America/New_York"),
    event("a time the clocks pass twice", {"starts_local": "2027-11-07T01:30",
                                           "ends_local": "2027-11-07T09:00"},
          {"starts_local": "2027-11-07T01:30:00", "ends_local": "2027-11-07T09:00:00"},
          "starts_local", "first at UTC-4, then at UTC-5. Choose which."),
    event("an end before the start", {"ends_local": "2027-10-12T08:00"},
          {"ends_local": "2027-10-12T08:00:00"}, "ends_local",
          "The event must end after it starts."),
    event("registration closing before it opens", {
        "registration_opens_local": "2027-09-02T09:00",
        "registration_closes_local": "2027-09-01T09:00"}, {
        "registration_opens_local": "2027-09-02T09:00:00",
        "registration_closes_local": "2027-09-01T09:00:00"}, "registration_closes_local",
        "Registration must close after it opens."),
    event("registration closing after the end", {
        "registration_closes_local": "2027-10-13T09:00"}, {
        "registration_closes_local": "2027-10-13T09:00:00"}, "registration_closes_local",
        "Registration must close by the end of the event."),
    event("a recording before the end", {"recording_url": "https://video.example.com/1"},
          None, "recording_url", "The event has not ended yet"),
    event("a negative capacity", {"capacity": "-1"}, {"capacity": -1}, "capacity",
          "Enter a number of at least 0."),
    event("no delegate per company", {"max_per_organization": "0"},
          {"max_per_organization": 0}, "max_per_organization",
          "Enter a number of at least 1."),
    event("no organizer", {"organizer_ids": []}, {"organizer_ids": []}, "organizer_ids",
          "Choose at least one organizing partner."),
]


@pytest.mark.parametrize("case", EVENT_CASES, ids=str)
def test_an_event_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, EventIn, EventForm)


def test_an_offset_the_zone_does_not_have_is_refused_by_the_model(app):
    """The form drops a choice the time no longer offers (there is none at 09:00); a
    program that sends one is told the zone's offset then."""
    with app.test_request_context():
        said = json_messages(EventIn, {**EVENT_JSON,
                                       "starts_local": "2027-10-12T09:00:00+02:00"})
    assert said == {"starts_local": [
        "09:00 on 12 October 2027 in America/New_York is at UTC-4, not UTC+2."]}


def test_the_model_states_the_events_instants_in_utc(app):
    with app.test_request_context():
        details = EventIn.from_json(json.dumps({
            **EVENT_JSON, "starts_local": "2027-11-07T01:30:00-05:00",
            "ends_local": "2027-11-07T09:00:00", "organizer_ids": [1, 1]}))
    assert details.starts_at.isoformat() == "2027-11-07T06:30:00+00:00"
    assert details.ends_at.isoformat() == "2027-11-07T14:00:00+00:00"
    assert details.registration_opens_at is None
    assert details.reminder_offsets == [1440, 60]
    assert details.organizer_ids == [1]  # each partner once


def test_reminders_left_out_are_left_as_they_are(app):
    with app.test_request_context():
        details = EventIn.from_json(json.dumps(
            {k: v for k, v in EVENT_JSON.items() if k != "reminder_offsets"}))
        form = EventForm(formdata=None, **PARTNERS)
    assert details.reminder_offsets is None
    assert reminder_minutes("") == []
    assert form.reminder_offsets.render_kw["maxlength"] == 100


# --------------------------------------------------------------------------- sessions

SESSION_FORM = {"title": "Harbour visit", "kind": "visit", "starts_local": "2027-03-09T10:00",
                "ends_local": "2027-03-09T12:00", "venue": "", "description": "",
                "online_url": ""}
SESSION_JSON = {"title": "Harbour visit", "kind": "visit",
                "starts_local": "2027-03-09T10:00:00", "ends_local": "2027-03-09T12:00:00"}
ALL_DAY_FORM = {"title": "Expo", "kind": "conference", "all_day": "y",
                "start_date": "2027-03-10", "end_date": "2027-03-11"}
ALL_DAY_JSON = {"title": "Expo", "kind": "conference", "all_day": True,
                "start_date": "2027-03-10", "end_date": "2027-03-11"}
ZONE = {"zone": "Europe/Brussels"}


def session(name, form_over, json_over, field, message=None, *, all_day=False) -> Case:
    posted, sent = _both(ALL_DAY_FORM if all_day else SESSION_FORM,
                         ALL_DAY_JSON if all_day else SESSION_JSON, form_over, json_over)
    return Case(name, posted, sent, field, message, form_kwargs=ZONE)


SESSION_CASES = [
    session("a visit", {}, {}, None),
    session("an all-day conference", {}, {}, None, all_day=True),
    session("no title", {"title": ""}, None, "title", "Give the session a title."),
    session("an unknown kind", {"kind": "party"}, None, "kind", "Choose one of"),
    session("no start", {"starts_local": ""}, {"starts_local": None}, "starts_local",
            "or make the session all-day"),
    session("an end before the start", {"ends_local": "2027-03-09T09:00"},
            {"ends_local": "2027-03-09T09:00:00"}, "ends_local",
            "The session must end after it starts."),
    session("a join address that is not one", {"online_url": "meet.example.com"}, None,
            "online_url", "http:// or https://"),
    session("a description too long", {"description": "x" * 5001}, None, "description",
            "Enter at most 5000 characters."),
    session("all day without a first day", {"start_date": ""}, {"start_date": None},
            "start_date", "Enter a date.", all_day=True),
    session("all day ending before it starts", {"end_date": "2027-03-09"}, None,
            "end_date", "The session cannot end before it starts.", all_day=True),
    session("all day out of the years", {"start_date": "2101-01-01",
                                         "end_date": "2101-01-02"}, None,
            "start_date", EVENT_WINDOW, all_day=True),
]


@pytest.mark.parametrize("case", SESSION_CASES, ids=str)
def test_a_session_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, SessionIn, SessionForm)


# --------------------------------------------------------------------------- quotas


@pytest.mark.parametrize(("posted", "sent", "message"), [
    ("5", 5, None),
    ("", None, None),
    ("-1", -1, "Enter a number of at least 0."),
    ("100001", 100_001, "Enter a number of at most 100000."),
])
def test_quotas_are_judged_alike_by_their_form_and_the_model(app, posted, sent, message):
    """The form shows partner 1's seats beside its field (seats_1); the model says where
    they are in its input (seats, 1)."""
    with app.test_request_context():
        form_class = type(quota_form([CLUSTER, BEACHHEAD], {}))
        from_form = form_messages(form_class, {"quota-seats_1": posted, "quota-seats_2": "3"},
                                  prefix="quota")
        body = {"seats": {"1": sent, "2": 3}}
        try:
            QuotasIn.from_json(json.dumps(body))
            from_json: list[str] = []
        except inputs.ValidationError as error:
            from_json = [m for where, m in inputs.messages(error, QuotasIn)
                         if tuple(map(str, where)) == ("seats", "1")]
    if message is None:
        assert from_form == {} and from_json == []
        return
    assert from_form == {"seats_1": [message]}
    assert from_json == [message]


# --------------------------------------------------------------------------- questions

QUESTION_FORM = {"kind": "single_choice", "label": "Your sector", "help_text": "",
                 "choices": "Mobility\nEnergy"}
QUESTION_JSON = {"kind": "single_choice", "label": "Your sector",
                 "choices": ["Mobility", "Energy"]}


def question(name, form_over, json_over, field, message=None) -> Case:
    posted, sent = _both(QUESTION_FORM, QUESTION_JSON, form_over, json_over)
    return Case(name, posted, sent, field, message)


QUESTION_CASES = [
    question("one choice of two", {}, {}, None),
    question("a short text", {"kind": "short_text", "choices": ""},
             {"kind": "short_text", "choices": None}, None),
    question("a required yes or no", {"kind": "yes_no", "required": "y", "choices": ""},
             {"kind": "yes_no", "required": True, "choices": None}, None),
    question("no question", {"label": "   "}, None, "label", "Write the question."),
    question("a question too long", {"label": "x" * 301}, None, "label",
             "Enter at most 300 characters."),
    question("help too long", {"help_text": "x" * 501}, None, "help_text",
             "Enter at most 500 characters."),
    question("an unknown kind", {"kind": "teleport"}, None, "kind", "Choose one of"),
    question("a single choice", {"choices": "Only one"}, {"choices": ["Only one"]},
             "choices", "Give at least two choices, one per line."),
    question("the same choice twice", {"choices": "Same\nSame"}, {"choices": ["Same", "Same"]},
             "choices", "Give at least two choices, one per line."),
    question("a choice too long", {"choices": "a" * 201 + "\nb"},
             {"choices": ["a" * 201, "b"]}, "choices",
             "Each choice has at most 200 characters."),
    question("too many choices", {"choices": "\n".join(f"C{n}" for n in range(51))},
             {"choices": [f"C{n}" for n in range(51)]}, "choices", "At most 50 choices."),
    question("a choice with a control character", {"choices": "A\x07\nB"},
             {"choices": ["A\x07", "B"]}, "choices", "U+0007"),
]


@pytest.mark.parametrize("case", QUESTION_CASES, ids=str)
def test_a_question_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, QuestionIn, QuestionForm)


def test_a_question_keeps_each_choice_once_and_a_text_question_none(app):
    with app.test_request_context():
        choices = QuestionIn.from_values(kind="multiple_choice", label="Sectors",
                                         choices=["A", " B ", "A", ""]).choices
        text = QuestionIn.from_values(kind="long_text", label="Goals", choices=["A"]).choices
    assert (choices, text) == (["A", "B"], [])


def test_a_question_moves_up_or_down_only(app):
    with app.test_request_context():
        assert MoveIn.from_form({"direction": "up"}).offset == -1
        assert json_messages(MoveIn, {"direction": "sideways"}) == {
            "direction": ["Choose one of: 'up' or 'down'."]}


# --------------------------------------------------------------------------- copies, cancelling


CLONE_CASES = [
    Case("a year later", {"days": "365"}, {"days": 365}, None),
    Case("earlier", {"days": "-7"}, {"days": -7}, None),
    Case("no days", {"days": ""}, {}, "days", "This field is required."),
    Case("more than ten years", {"days": "3651"}, {"days": 3651}, "days",
         "Enter a number of at most 3650."),
]


@pytest.mark.parametrize("case", CLONE_CASES, ids=str)
def test_a_copy_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, CloneIn, CloneForm)


def test_the_api_takes_days_as_a_number_only(app):
    with app.test_request_context():
        assert json_messages(CloneIn, {"days": "365"}) == {"days": ["Enter a whole number."]}


CANCEL_CASES = [
    Case("no reason", {}, {}, None),
    Case("a reason on two lines", {"reason": "The venue closed.\nSorry."}, None, None),
    Case("a reason too long", {"reason": "x" * 1001}, None, "reason",
         "Enter at most 1000 characters."),
    Case("a control character", {"reason": "a\x00b"}, None, "reason", "U+0000"),
]


@pytest.mark.parametrize("case", CANCEL_CASES, ids=str)
def test_a_cancellation_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, CancelIn, CancelForm)


# --------------------------------------------------------------------------- partners

PARTNER_FORM = {"name": "Urban Tech Factory", "short_name": "UTF", "slug": "",
                "kind": "cluster", "is_member": "y", "country": "DK", "region": "",
                "city": "Copenhagen", "website": "https://utf.example.org", "description": ""}
PARTNER_JSON = {"name": "Urban Tech Factory", "short_name": "UTF", "kind": "cluster",
                "is_member": True, "country": "DK", "city": "Copenhagen",
                "website": "https://utf.example.org"}


def partner(name, form_over, json_over, field, message=None) -> Case:
    posted, sent = _both(PARTNER_FORM, PARTNER_JSON, form_over, json_over)
    return Case(name, posted, sent, field, message)


PARTNER_CASES = [
    partner("a member cluster", {}, {}, None),
    partner("a beachhead without a website", {"kind": "beachhead", "website": "",
                                              "is_member": ""},
            {"kind": "beachhead", "website": None, "is_member": False}, None),
    partner("no name", {"name": ""}, None, "name", "Enter the partner's name."),
    partner("no short name", {"short_name": " "}, None, "short_name", "Enter a short name."),
    partner("a short name too long", {"short_name": "x" * 61}, None, "short_name",
            "Enter at most 60 characters."),
    partner("a slug too long", {"slug": "x" * 81}, None, "slug",
            "Enter at most 80 characters."),
    partner("an unknown kind", {"kind": "club"}, None, "kind", "Choose one of"),
    partner("an unknown country", {"country": "QO"}, None, "country",
            "Choose a country from the list."),
    partner("a website by FTP", {"website": "ftp://utf.example.org"}, None, "website",
            "http:// or https://"),
    partner("a description too long", {"description": "x" * 5001}, None, "description",
            "Enter at most 5000 characters."),
]


@pytest.mark.parametrize("case", PARTNER_CASES, ids=str)
def test_a_partner_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, PartnerIn, PartnerForm)


GRANT_CASES = [
    Case("an admin", {"role": "admin", "partner_id": ""}, {"role": "admin"}, None,
         form_kwargs=PARTNERS),
    Case("a partner manager", {"role": "partner_manager", "partner_id": "1"},
         {"role": "partner_manager", "partner_id": 1}, None, form_kwargs=PARTNERS),
    Case("an admin for one partner", {"role": "admin", "partner_id": "1"},
         {"role": "admin", "partner_id": 1}, "partner_id", "held for everything",
         form_kwargs=PARTNERS),
    Case("a host for no partner", {"role": "beachhead_host", "partner_id": ""},
         {"role": "beachhead_host", "partner_id": None}, "partner_id",
         "Choose the partner this role is held for.", form_kwargs=PARTNERS),
    Case("an unknown role", {"role": "owner", "partner_id": ""}, {"role": "owner"}, "role",
         "Choose one of", form_kwargs=PARTNERS),
]


@pytest.mark.parametrize("case", GRANT_CASES, ids=str)
def test_a_grant_is_judged_alike_by_its_form_and_the_model(app, case):
    with app.test_request_context():
        check(case, GrantIn, GrantForm)

"""The questions an event asks (webapp/services/questions.py, the questions editor of
webapp/views/admin.py): each kind, validation, order, answered questions, the default
mission questions, and how answers are read."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from tests.inputs_table import refusals
from webapp.inputs import ValidationError
from webapp.inputs.events import QuestionIn
from webapp.models import Answer, AuditEntry, EventKind, EventStatus, Question, QuestionKind
from webapp.models import RegistrationStatus as S
from webapp.services import questions
from webapp.services.errors import AnswersRefused
from webapp.services.fields import Refused

K = QuestionKind


@pytest.fixture
def organizing(make):
    return make.partner(short_name="ORG")


@pytest.fixture
def organizer(make, organizing):
    return make.manager(organizing)


@pytest.fixture
def mission(make, organizing):
    return make.event(organizers=[organizing])


def _question(mission, kind=K.SHORT_TEXT, label="Your objectives", **kw) -> Question:
    return questions.add(None, mission, QuestionIn.from_values(kind=kind, label=label, **kw))


def _count(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _labels(db, event) -> list[str]:
    db.session.expire_all()
    return [q.label for q in event.questions]


# --------------------------------------------------------------------------- the editor


@pytest.mark.parametrize("kind, choices, stored", [
    (K.SHORT_TEXT, "", []),
    (K.LONG_TEXT, "ignored\nfor text", []),
    (K.SINGLE_CHOICE, "Hardware\nSoftware\n\nServices\nSoftware", ["Hardware", "Software",
                                                                    "Services"]),
    (K.MULTIPLE_CHOICE, "Mobility\nEnergy", ["Mobility", "Energy"]),
    (K.YES_NO, "", []),
    (K.COUNTRY, "", []),
])
def test_organizer_adds_a_question_of_each_kind_and_it_is_audited(
        db, login_as, organizer, mission, kind, choices, stored):
    client = login_as(organizer)
    response = _post(client, f"/admin/events/{mission.id}/questions", {
        "question-kind": kind.value, "question-label": "  Which one?  ",
        "question-help_text": "Pick what fits.", "question-required": "y",
        "question-choices": choices,
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/events/{mission.id}#questions")
    question = db.session.scalars(select(Question).where(Question.event_id == mission.id)).one()
    assert (question.kind, question.label, question.help_text, question.required,
            question.choices) == (kind, "Which one?", "Pick what fits.", True, stored)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "event.question_added")).one()
    assert (entry.actor_id, entry.event_id, entry.subject_id) == (
        organizer.id, mission.id, question.id)
    page = client.get(f"/admin/events/{mission.id}").get_data(as_text=True)
    assert "Which one?" in page


@pytest.mark.parametrize("data, field, message", [
    ({"question-kind": "single_choice", "question-label": "Sector",
      "question-choices": "Only one"}, "question-choices", "at least two choices"),
    ({"question-kind": "multiple_choice", "question-label": "Sector",
      "question-choices": "Same\nSame"}, "question-choices", "at least two choices"),
    ({"question-kind": "short_text", "question-label": "   "}, "question-label",
     "Write the question."),
    ({"question-kind": "short_text", "question-label": "x" * 301}, "question-label",
     "300 characters"),
    ({"question-kind": "teleport", "question-label": "Where?"}, "question-kind",
     "Choose one of"),
])
def test_a_bad_question_is_refused_beside_its_field_and_nothing_is_written(
        db, login_as, organizer, mission, data, field, message):
    client = login_as(organizer)
    response = _post(client, f"/admin/events/{mission.id}/questions", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html
    assert _count(db, Question, event_id=mission.id) == 0
    assert _count(db, AuditEntry, action="event.question_added") == 0


def test_choices_longer_than_the_limit_are_refused(mission):
    with pytest.raises(ValidationError) as refusal:
        _question(mission, K.SINGLE_CHOICE, choices=["a" * 201, "b"])
    assert refusals(refusal.value) == {"choices": "Each choice has at most 200 characters."}


def test_questions_keep_their_order_and_move_up_and_down(db, login_as, organizer, mission):
    for label in ("First", "Second", "Third"):
        _question(mission, label=label)
    client = login_as(organizer)
    third = mission.questions[2]
    assert _post(client, f"/admin/events/{mission.id}/questions/{third.id}/move",
                 {"direction": "up"}).status_code == 302
    assert _labels(db, mission) == ["First", "Third", "Second"]
    first = mission.questions[0]
    _post(client, f"/admin/events/{mission.id}/questions/{first.id}/move", {"direction": "down"})
    assert _labels(db, mission) == ["Third", "First", "Second"]
    assert [q.position for q in mission.questions] == [1, 2, 3]
    # The top one cannot go higher: nothing changes, nothing is audited.
    moves = _count(db, AuditEntry, action="event.question_moved")
    top = mission.questions[0]
    _post(client, f"/admin/events/{mission.id}/questions/{top.id}/move", {"direction": "up"})
    assert _labels(db, mission) == ["Third", "First", "Second"]
    assert _count(db, AuditEntry, action="event.question_moved") == moves
    # The application form asks them in that order.
    form = questions_in_form_order(client, mission)
    assert form == ["Third", "First", "Second"]


def questions_in_form_order(client, event) -> list[str]:
    html = client.get(f"/events/{event.slug}/apply").get_data(as_text=True)
    return [q.label for q in sorted(event.questions, key=lambda q: html.index(f'q_{q.id}"'))]


def test_deleting_renumbers_and_is_audited(db, login_as, organizer, mission):
    for label in ("First", "Second", "Third"):
        _question(mission, label=label)
    second = mission.questions[1]
    client = login_as(organizer)
    response = confirm(client, f"/admin/events/{mission.id}/questions/{second.id}/delete")
    assert response.status_code == 302
    assert _labels(db, mission) == ["First", "Third"]
    assert [q.position for q in mission.questions] == [1, 2]
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "event.question_deleted")).one()
    assert entry.details["changes"] == {"label": ["Second", None]}


@pytest.fixture
def answered(db, make, mission):
    """A single-choice question one applicant answered with "Energy"."""
    question = _question(mission, K.SINGLE_CHOICE, label="Sector",
                         choices=["Mobility", "Energy", "Water"])
    reg = make.registration(mission, make.user(make.organization()), S.SUBMITTED)
    reg.answers.append(Answer(question_id=question.id, value="Energy"))
    db.session.commit()
    return question


def test_an_answered_question_cannot_be_deleted(db, login_as, organizer, mission, answered):
    client = login_as(organizer)
    audits = _count(db, AuditEntry)
    path = f"/admin/events/{mission.id}/questions/{answered.id}/delete"
    response = client.get(path)  # no confirmation is offered: the page says why
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 applicant has answered this question, so it cannot be deleted" in page
    assert _post(client, path, {}).status_code == 400
    assert _count(db, Question, event_id=mission.id) == 1
    assert _count(db, Answer, question_id=answered.id) == 1
    assert _count(db, AuditEntry) == audits


def test_an_answered_question_keeps_its_kind_and_its_chosen_choices(
        db, login_as, organizer, mission, answered):
    client = login_as(organizer)
    path = f"/admin/events/{mission.id}/questions/{answered.id}"
    page = client.get(path).get_data(as_text=True)
    assert "1 applicant has answered this question" in page
    response = _post(client, path, {"question-kind": "short_text", "question-label": "Sector"})
    assert response.status_code == 400
    assert "its kind can no longer change" in response.get_data(as_text=True)
    response = _post(client, path, {"question-kind": "single_choice", "question-label": "Sector",
                                    "question-choices": "Mobility\nWater"})
    assert response.status_code == 400
    assert "Applicants chose these, so they must stay: Energy." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (answered.kind, answered.choices) == (K.SINGLE_CHOICE, ["Mobility", "Energy", "Water"])
    # Rewording, adding a choice and dropping an unchosen one are fine.
    response = _post(client, path, {
        "question-kind": "single_choice", "question-label": "Your main sector",
        "question-required": "y", "question-choices": "Mobility\nEnergy\nBuildings"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (answered.label, answered.required, answered.choices) == (
        "Your main sector", True, ["Mobility", "Energy", "Buildings"])
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "event.question_updated")).one()
    assert entry.details["changes"]["label"] == ["Sector", "Your main sector"]


def test_questions_of_a_cancelled_event_cannot_change(db, make, organizing):
    event = make.event(organizers=[organizing], status=EventStatus.CANCELLED)
    with pytest.raises(Refused, match="cancelled"):
        _question(event)
    assert _count(db, Question, event_id=event.id) == 0


def test_managers_of_other_partners_and_members_cannot_edit_questions(
        db, make, login_as, mission):
    question = _question(mission)
    outsider = make.manager(make.partner())
    member = make.user(make.organization())
    for user, status in ((outsider, 404), (member, 403)):
        client = login_as(user)
        assert client.get(f"/admin/events/{mission.id}/questions/{question.id}").status_code \
            == status
        path = f"/admin/events/{mission.id}/questions/{question.id}/delete"
        assert client.get(path).status_code == status
        assert _post(client, path, {}).status_code == status
    assert _count(db, Question, event_id=mission.id) == 1


# --------------------------------------------------------------------------- defaults


def test_the_default_mission_questions_are_added_once(db, login_as, organizer, mission):
    client = login_as(organizer)
    page = client.get(f"/admin/events/{mission.id}").get_data(as_text=True)
    assert "Add the default mission questions" in page
    response = _post(client, f"/admin/events/{mission.id}/questions/defaults", {})
    assert response.status_code == 302
    db.session.expire_all()
    asked = [(q.kind, q.label, q.required) for q in mission.questions]
    assert asked == [
        (K.LONG_TEXT, "What are your objectives for this mission?", True),
        (K.LONG_TEXT, "What does your company offer?", True),
        (K.LONG_TEXT, "What are you looking for?", True),
        (K.SHORT_TEXT, "Target markets and sectors", True),
        (K.SHORT_TEXT, "Dietary needs", False),
    ]
    assert _count(db, AuditEntry, action="event.default_questions_added") == 1
    page = client.get(f"/admin/events/{mission.id}").get_data(as_text=True)
    assert "Add the default mission questions" not in page
    # Pressing again (an old tab) adds nothing.
    _post(client, f"/admin/events/{mission.id}/questions/defaults", {})
    assert _count(db, Question, event_id=mission.id) == 5


def test_the_defaults_fill_in_only_what_is_missing(db, mission):
    _question(mission, K.LONG_TEXT, label="Dietary needs")
    added = questions.add_mission_defaults(None, mission)
    assert len(added) == 4
    assert mission.questions[0].label == "Dietary needs"


def test_webinars_get_no_mission_defaults(db, make, login_as, organizer, organizing):
    webinar = make.event(organizers=[organizing], kind=EventKind.WEBINAR)
    client = login_as(organizer)
    assert "Add the default mission questions" not in client.get(
        f"/admin/events/{webinar.id}").get_data(as_text=True)
    with pytest.raises(Refused, match="for missions"):
        questions.add_mission_defaults(None, webinar)
    assert _count(db, Question, event_id=webinar.id) == 0


# --------------------------------------------------------------------------- answers


@pytest.fixture
def asked(mission):
    return {
        "text": _question(mission, K.SHORT_TEXT, label="Markets", required=True),
        "long": _question(mission, K.LONG_TEXT, label="Offer"),
        "one": _question(mission, K.SINGLE_CHOICE, label="Size", choices=["S", "M", "L"]),
        "many": _question(mission, K.MULTIPLE_CHOICE, label="Sectors",
                          choices=["Mobility", "Energy", "Water"]),
        "yes_no": _question(mission, K.YES_NO, label="Visited before?", required=True),
        "country": _question(mission, K.COUNTRY, label="Main market"),
    }


def test_answers_are_read_into_their_stored_form(mission, asked):
    clean = questions.clean_answers(mission, {
        asked["text"].id: "  Singapore  ", asked["long"].id: "Sensors",
        asked["one"].id: "M", asked["many"].id: ["Water", "Mobility", ""],
        asked["yes_no"].id: "no", asked["country"].id: "sg",
    })
    assert clean == {
        asked["text"].id: "Singapore", asked["long"].id: "Sensors", asked["one"].id: "M",
        asked["many"].id: ["Mobility", "Water"],  # in the organizers' order
        asked["yes_no"].id: False, asked["country"].id: "SG",
    }


def test_empty_optional_answers_are_left_out_or_kept_as_cleared(mission, asked):
    raw = {asked["text"].id: "Singapore", asked["yes_no"].id: True, asked["long"].id: " ",
           asked["many"].id: []}
    assert questions.clean_answers(mission, raw) == {
        asked["text"].id: "Singapore", asked["yes_no"].id: True}
    kept = questions.clean_answers(mission, raw, keep_empty=True)
    assert kept[asked["long"].id] is None and kept[asked["many"].id] is None


@pytest.mark.parametrize("key, value, message", [
    ("text", "", "This question needs an answer."),
    ("text", "x" * 4001, "At most 4000 characters (this answer has 4001)."),
    ("long", ["a", "list"], "Write your answer as text."),
    ("one", "XL", "Choose one of the options."),
    ("many", ["Mobility", "Space"], "Choose among the options only."),
    ("yes_no", "maybe", "Answer yes or no."),
    ("yes_no", None, "This question needs an answer."),
    ("country", "XX", "Choose a country from the list."),
    ("country", "EU", "Choose a country from the list."),
])
def test_each_bad_answer_is_refused_with_its_message(mission, asked, key, value, message):
    raw = {asked["text"].id: "Singapore", asked["yes_no"].id: "yes", asked[key].id: value}
    with pytest.raises(AnswersRefused) as refusal:
        questions.clean_answers(mission, raw)
    assert refusal.value.problems == {asked[key].id: message}


def test_answers_to_another_events_questions_are_refused(make, mission, asked):
    other = _question(make.event(), label="Elsewhere")
    with pytest.raises(AnswersRefused, match="does not ask"):
        questions.clean_answers(mission, {other.id: "x"})

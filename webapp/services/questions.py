"""The questions an event asks its applicants, and the answers they give.

Organizers add, edit, reorder and delete questions; every change is audited. Questions
that already have answers keep them meaningful: such a question cannot be deleted, its
kind cannot change, and a choice someone picked cannot be removed (the wording, help
text, required flag and order may still change, and new choices may be added).

`clean_answers` is the one reading of answers: it turns what a form posted (strings and
lists of strings) or what a caller passes (typed values) into the values stored, and
refuses, question by question, what does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .. import text as text_rules
from ..extensions import db
from ..inputs.events import CHOICE_KINDS, QuestionIn
from ..models import Answer, Event, EventStatus, Question, QuestionKind, User
from . import audit
from .errors import N_, AnswerRefused, AnswersRefused, DomainError
from .fields import EventCancelled, Problems, Refused, territory_codes

MAX_ANSWER_LENGTH = 4000
YES, NO = "yes", "no"


@dataclass(frozen=True)
class DefaultQuestion:
    kind: QuestionKind
    label: str
    help_text: str
    required: bool


# What every mission needs to know to match its delegates with hosts and visits.
MISSION_DEFAULTS: tuple[DefaultQuestion, ...] = (
    DefaultQuestion(QuestionKind.LONG_TEXT, "What are your objectives for this mission?",
                    "What would make the mission a success for your company?", True),
    DefaultQuestion(QuestionKind.LONG_TEXT, "What does your company offer?",
                    "Products, services, technology or expertise you bring to this market.",
                    True),
    DefaultQuestion(QuestionKind.LONG_TEXT, "What are you looking for?",
                    "Customers, partners, distributors, investors, pilot sites...", True),
    DefaultQuestion(QuestionKind.SHORT_TEXT, "Target markets and sectors",
                    "For example: Singapore and South-East Asia; mobility, energy.", True),
    DefaultQuestion(QuestionKind.SHORT_TEXT, "Dietary needs",
                    "Vegetarian, allergies...; leave empty if none.", False),
)


def country_codes() -> frozenset[str]:
    """What a country question accepts: Babel's territories, without the EU."""
    return territory_codes() - {"EU"}


# --------------------------------------------------------------------------- the editor


def _refuse_if_cancelled(event: Event) -> None:
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled()


def answer_counts(event: Event) -> dict[int, int]:
    """How many answers each of the event's questions has (questions without any are absent)."""
    return dict(db.session.execute(
        select(Answer.question_id, func.count(Answer.id))
        .join(Question, Answer.question_id == Question.id)
        .where(Question.event_id == event.id)
        .group_by(Answer.question_id)
    ).all())


def _chosen_values(question: Question) -> set[str]:
    """Every choice some applicant picked, in any answer to `question`."""
    chosen: set[str] = set()
    for value in db.session.scalars(select(Answer.value).where(Answer.question_id == question.id)):
        if isinstance(value, str):
            chosen.add(value)
        elif isinstance(value, list):
            chosen.update(v for v in value if isinstance(v, str))
    return chosen


def _values(details: QuestionIn) -> dict:
    return details.model_dump(include={"kind", "label", "help_text", "required", "choices"})


def add(actor: User | None, event: Event, details: QuestionIn) -> Question:
    """A new question, asked after the existing ones."""
    _refuse_if_cancelled(event)
    values = _values(details)
    position = max((q.position for q in event.questions), default=0) + 1
    question = Question(event=event, position=position, **values)
    db.session.add(question)
    db.session.flush()
    audit.record(actor, "event.question_added", question, event_id=event.id,
                 changes={k: [None, audit.plain(v)] for k, v in values.items()
                          if v not in ("", [], False)})
    return question


def update(actor: User | None, question: Question, details: QuestionIn) -> Question:
    """The question reworded; one already answered keeps its kind and its chosen choices."""
    event = question.event
    _refuse_if_cancelled(event)
    problems = Problems()
    values = _values(details)
    answered = answer_counts(event).get(question.id, 0)
    if answered and values["kind"] != question.kind:
        problems.add("kind", "question.kind_answered", count=answered)
    elif answered and question.kind in CHOICE_KINDS:
        dropped = sorted(_chosen_values(question) - set(values["choices"]))
        if dropped:
            problems.add("choices", "question.choices_chosen", choices=", ".join(dropped))
    problems.raise_any()
    changes = audit.diff(question, values)
    if changes:
        audit.record(actor, "event.question_updated", question, changes=changes,
                     event_id=event.id)
    return question


def delete(actor: User | None, question: Question) -> None:
    """Delete a question nobody answered; answered ones stay (make them optional instead),
    because deleting would silently delete what applicants wrote."""
    event = question.event
    _refuse_if_cancelled(event)
    answered = answer_counts(event).get(question.id, 0)
    if answered:
        raise Refused("question.answered_not_deleted", count=answered)
    audit.record(actor, "event.question_deleted", question, event_id=event.id,
                 changes={"label": [question.label, None]})
    event.questions.remove(question)
    _renumber(event.questions)


def move(actor: User | None, question: Question, offset: int) -> bool:
    """Move a question `offset` places (-1: up, 1: down); False when it cannot go further."""
    event = question.event
    _refuse_if_cancelled(event)
    ordered = list(event.questions)
    index = ordered.index(question)
    target = index + offset
    if not 0 <= target < len(ordered):
        return False
    ordered.insert(target, ordered.pop(index))
    _renumber(ordered)
    audit.record(actor, "event.question_moved", question, event_id=event.id,
                 changes={"position": [index + 1, target + 1]})
    return True


def _renumber(ordered: Sequence[Question]) -> None:
    for position, question in enumerate(ordered, start=1):
        question.position = position


def add_mission_defaults(actor: User | None, event: Event) -> list[Question]:
    """Add the questions every mission asks, skipping those the event already asks
    (by wording), so pressing the button twice adds nothing twice."""
    _refuse_if_cancelled(event)
    if not event.kind.is_mission:
        raise Refused("question.defaults_for_missions")
    asked = {q.label.strip().casefold() for q in event.questions}
    missing = [d for d in MISSION_DEFAULTS if d.label.casefold() not in asked]
    if not missing:
        raise Refused("question.defaults_all_asked")
    position = max((q.position for q in event.questions), default=0)
    added = []
    for offset, default in enumerate(missing, start=1):
        question = Question(event=event, position=position + offset, kind=default.kind,
                            label=default.label, help_text=default.help_text,
                            required=default.required, choices=[])
        db.session.add(question)
        added.append(question)
    db.session.flush()
    audit.record(actor, "event.default_questions_added", event, event_id=event.id,
                 changes={"questions": [None, [q.label for q in added]]})
    return added


# --------------------------------------------------------------------------- answers


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(isinstance(v, str) and not v.strip() for v in value)
    return False  # False is an answer (no), not a missing one


def _clean_one(question: Question, value: Any) -> Any:
    """The stored form of one non-empty answer; raises AnswerRefused."""
    kind = question.kind
    if kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT):
        if not isinstance(value, str):
            raise AnswerRefused("answer.not_text")
        text = value.strip()
        # The API's schema allows line breaks in any text answer; only a long one has them.
        problem = text_rules.problem(text, multiline=kind == QuestionKind.LONG_TEXT,
                                     field=N_("Your answer"))
        if problem:
            raise AnswerRefused(problem.code, **problem.params)
        if len(text) > MAX_ANSWER_LENGTH:
            raise AnswerRefused("answer.too_long", max=MAX_ANSWER_LENGTH, count=len(text))
        return text
    if kind == QuestionKind.SINGLE_CHOICE:
        if not isinstance(value, str) or value not in question.choices:
            raise AnswerRefused("answer.choose_one")
        return value
    if kind == QuestionKind.MULTIPLE_CHOICE:
        picked = [value] if isinstance(value, str) else value
        if isinstance(picked, list | tuple):
            picked = [v for v in picked if not (isinstance(v, str) and not v.strip())]
        if not isinstance(picked, list | tuple) or any(
                not isinstance(v, str) or v not in question.choices for v in picked):
            raise AnswerRefused("answer.choose_among")
        return [c for c in question.choices if c in picked]  # the organizers' order
    if kind == QuestionKind.YES_NO:
        if isinstance(value, bool):
            return value
        if value in (YES, NO):
            return value == YES
        raise AnswerRefused("answer.yes_or_no")
    if kind == QuestionKind.COUNTRY:
        code = value.strip().upper() if isinstance(value, str) else ""
        if code not in country_codes():
            raise AnswerRefused("field.country_unknown")
        return code
    raise AnswerRefused("answer.impossible")  # a kind added without a rule


def answer_problems(event: Event, raw: Mapping[int, Any]) -> dict[int, str]:
    """What is wrong with each answer (by question id); empty when all are fine."""
    try:
        clean_answers(event, raw)
    except AnswersRefused as refusal:
        return refusal.problems
    return {}


def clean_answers(event: Event, raw: Mapping[int, Any], *,
                  keep_empty: bool = False) -> dict[int, Any]:
    """The answers to store, by question id. Text is stripped, choices must be among the
    question's choices, yes/no becomes a boolean, countries are ISO codes. Empty answers
    are left out, or kept as None with `keep_empty` (editing: clear an earlier answer).
    Raises AnswersRefused with a message per question."""
    questions = {q.id: q for q in event.questions}
    if set(raw) - set(questions):
        raise AnswersRefused({}, "answers.unknown_questions")
    answers: dict[int, Any] = {}
    problems: dict[int, DomainError] = {}
    for question_id, question in questions.items():
        value = raw.get(question_id)
        if _is_empty(value):
            if question.required:
                problems[question_id] = AnswerRefused("answer.required")
            elif keep_empty:
                answers[question_id] = None
            continue
        try:
            answers[question_id] = _clean_one(question, value)
        except AnswerRefused as refusal:
            problems[question_id] = refusal
    if problems:
        raise AnswersRefused(problems)
    return answers

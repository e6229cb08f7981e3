"""Applying to an event (answers and consents), editing the answers, and withdrawing.

The models state the answers' shape: how long a text may be, how many options a list
may hold, each question answered once, the consents as yes/no. Which questions exist,
which must be answered, which options a question offers and which kind of value each
question takes are the event's, so the service decides them
(`services.questions.clean_answers`), as it decides that a mission needs the profile
consent.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from . import Id, Input, Text, refuse, stripped

MAX_ANSWER_LENGTH = 4000
MAX_OPTIONS = 50
MAX_OPTION_LENGTH = 200
MAX_ANSWERS = 100
ANSWER_ONCE = "Answer each question once."
TOO_LONG = "Enter at most %(max_length)s characters."
NOT_AN_ANSWER = "Give a text, a yes or no, or a list of the options chosen."

AnswerText = Annotated[str, Field(max_length=MAX_ANSWER_LENGTH)]
Option = Annotated[str, Field(max_length=MAX_OPTION_LENGTH)]
Options = Annotated[list[Option], Field(max_length=MAX_OPTIONS)]


class AnswerIn(Input):
    """One question's answer; which kind of value it takes is the question's."""

    long_texts = frozenset({"value"})

    question_id: Id
    value: AnswerText | bool | Options = Field(
        title="Your answer",
        description="Text, a yes/no, or the chosen options of a multiple choice question.")

    @field_validator("value", mode="before")
    @classmethod
    def _one_kind_of_value(cls, value: Any) -> Any:
        # The value is measured here, by its kind, so that a refusal is one sentence
        # rather than one per kind the value is not; the limits in the annotation are
        # the same, for the API's document. A text is measured without the blanks
        # around it, which are not kept.
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            value = stripped(value, "value")
            if len(value) > MAX_ANSWER_LENGTH:
                raise refuse(None, TOO_LONG, max_length=MAX_ANSWER_LENGTH)
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if len(value) > MAX_OPTIONS:
                raise refuse(None, "Give at most %(max_length)s items.",
                             max_length=MAX_OPTIONS)
            if any(len(v) > MAX_OPTION_LENGTH for v in value):
                raise refuse(None, TOO_LONG, max_length=MAX_OPTION_LENGTH)
            return value
        raise refuse(None, NOT_AN_ANSWER)


class AnswersIn(Input):
    """The answers of an application, each question at most once."""

    answers: list[AnswerIn] = Field(default_factory=list, max_length=MAX_ANSWERS)

    @model_validator(mode="after")
    def _each_question_once(self):
        asked = [answer.question_id for answer in self.answers]
        if len(set(asked)) < len(asked):
            raise refuse("answers", ANSWER_ONCE)
        return self

    def by_question(self) -> dict[int, Any]:
        """The answers by question id, as the service reads them."""
        return {answer.question_id: answer.value for answer in self.answers}


class ApplicationIn(AnswersIn):
    """An application: the answers and the two consents. A mission needs the profile
    consent (the service says so, beside `profile_consent`)."""

    profile_consent: bool = Field(False, description="Share the company profile with the "
                                  "event's hosts (required for missions).")
    contact_consent: bool = Field(False, description="Let the hosts see your email and phone.")


class WithdrawalIn(Input):
    long_texts = frozenset({"reason"})

    reason: Text(1000, title="Reason",
                 description="Shared with the organizers. Multi-line.") = ""

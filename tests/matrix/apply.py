"""Applying and editing answers. Every POST here is refused (no consent, an empty required
answer, an application that already exists, a draft), so walking the matrix applies nobody
and changes no answer."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from webapp.inputs.events import QuestionIn
from webapp.models import Answer, QuestionKind
from webapp.models import RegistrationStatus as S
from webapp.services import questions

SIGNED_IN = dict(anonymous=LOGIN)


def build(make, users, base):
    """An event with a required question, which the member applied to (undecided)."""
    questioned = make.event(organizers=[base["organizing"]])
    question = questions.add(None, questioned, QuestionIn.from_values(
        kind=QuestionKind.LONG_TEXT, label="Your objectives", required=True))
    submitted = make.registration(questioned, users["member"], S.SUBMITTED)
    submitted.answers.append(Answer(question_id=question.id, value="Meet mobility buyers."))
    return dict(questioned_slug=questioned.slug, submitted_reg=submitted.id)


def _apply(slug_of):
    return lambda w: f"/events/{slug_of(w)}/apply"


CASES = [
    # The member already applied: the page says so (and links to the application).
    Case("apply.event_form", "form", "GET", _apply(lambda w: w.event_slug),
         statuses(200, **SIGNED_IN)),
    Case("apply.event_form", "draft", "GET", _apply(lambda w: w.draft_slug),
         statuses(404, **SIGNED_IN, organizer=200, admin=200)),
    Case("apply.event_form", "unknown", "GET", _apply(lambda w: "no-such-event"),
         statuses(404, **SIGNED_IN)),
    Case("apply.event_form", "mission without consent", "POST", _apply(lambda w: w.event_slug),
         statuses(400, **SIGNED_IN, member=409)),
    Case("apply.event_form", "draft", "POST", _apply(lambda w: w.draft_slug),
         statuses(404, **SIGNED_IN, organizer=409, admin=409),
         data=lambda w: {"profile_consent": "y"}),
    Case("account.edit_answers", "undecided, own", "GET",
         lambda w: f"/account/registrations/{w.extra['submitted_reg']}/answers",
         statuses(404, **SIGNED_IN, member=200)),
    Case("account.edit_answers", "required answer emptied", "POST",
         lambda w: f"/account/registrations/{w.extra['submitted_reg']}/answers",
         statuses(404, **SIGNED_IN, member=400)),
    Case("account.edit_answers", "decided, own", "GET",
         lambda w: f"/account/registrations/{w.own_reg}/answers",
         statuses(404, **SIGNED_IN, member=302)),
    Case("account.edit_answers", "someone else's", "GET",
         lambda w: f"/account/registrations/{w.other_reg}/answers",
         statuses(404, **SIGNED_IN)),
]

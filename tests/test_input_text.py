"""Text at its edges (webapp/text.py): NUL and other control characters, surrogates and
noncharacters refused in every kind of field with a message naming it; line breaks only
in long texts; bytes that are not UTF-8 refused; text stored NFC-normalized; lengths held
to the column. Through the forms, the API, the models' last line, paths and query
strings, on whichever database the suite runs on (SQLite, or PostgreSQL with
TEST_DATABASE_URL, where a NUL once reached the database and answered 500)."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select, update

from tests.api import token_for
from tests.confirming import confirm
from tests.conftest import csrf_token
from tests.test_api import _problem
from tests.test_apply import apply, good_answers, own
from tests.test_events_admin import event_form
from tests.test_signup import _form as signup_form
from webapp import text
from webapp.models import (
    Answer,
    AuditEntry,
    Event,
    EventKind,
    Organization,
    Question,
    QuestionKind,
    Registration,
    User,
)
from webapp.models import RegistrationStatus as S
from webapp.services import questions

NUL = "\x00"
DECOMPOSED = "Ame\u0301lie"  # "e" followed by COMBINING ACUTE ACCENT
COMPOSED = "Amélie"
# Characters no text field takes, and what its message says.
UNREADABLE = [
    ("\x00", "U+0000"),           # NUL: PostgreSQL refuses it outright
    ("\x1b[31m", "U+001B"),       # ESCAPE: a terminal colour code
    ("\x85", "U+0085"),           # NEXT LINE, a C1 control
    ("\x7f", "U+007F"),           # DELETE
    ("\ufffe", "U+FFFE"),         # a noncharacter
    ("\U0010ffff", "U+10FFFF"),   # a noncharacter in the last plane
    ("\ud800", "U+D800"),         # half of a surrogate pair
]


def count(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def post(client, path, data, page="/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("value, code", UNREADABLE)
def test_control_characters_surrogates_and_noncharacters_are_refused_even_in_long_texts(
        value, code):
    problem = text.refusal(f"before {value} after", multiline=True, field="Profile")
    assert problem and code in problem


@pytest.mark.parametrize("value", ["two\nlines", "a\ttab", "crlf\r\n", "a\u2028b"])
def test_line_breaks_and_tabs_are_refused_in_one_line_texts(value):
    assert text.refusal(value, multiline=False, field="Your name") == (
        "Your name must be on one line (no line breaks or tabs).")


@pytest.mark.parametrize("value", ["two\nlines\r\nand\ta tab", "a\u2028b",
                                   "Zoë, 東京, عربي, 👩‍🔬", "\u200d\u202e"])
def test_long_texts_keep_line_breaks_tabs_and_every_script(value):
    assert text.refusal(value, multiline=True, field="Profile") is None


def test_a_message_names_the_field_and_the_character():
    with pytest.raises(text.TextRefused) as refused:
        text.check("Ann\x00", multiline=False, label="Your name")
    assert refused.value.message == (
        "Your name contains the control character U+0000 (NULL), which is not allowed.")


# --------------------------------------------------------------------------- forms


@pytest.fixture
def signup(client, db, mailbox):
    """`signup(**fields)`: the sign-up form posted with a valid form around those fields."""
    return lambda **fields: client.post("/signup", data=signup_form(client, **fields))


# The sign-up page shows a refused form again as a page (200), like its other refusals.
REFUSED_SIGNUP = (200, 400)


@pytest.mark.parametrize("value, code", UNREADABLE[:5])
def test_a_control_character_in_a_sign_up_name_is_refused_beside_it(signup, db, value, code):
    response = signup(name=f"Lena{value}Kowalska")
    assert response.status_code in REFUSED_SIGNUP
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html
    assert "Your name contains" in html
    assert code in html
    assert count(db, User) == 0 and count(db, Organization) == 0


def test_a_nul_in_a_sign_up_organization_name_is_refused_beside_it(signup, db):
    response = signup(organization_name=f"Kowalska{NUL} Mobility")
    assert response.status_code in REFUSED_SIGNUP
    html = response.get_data(as_text=True)
    assert 'id="organization_name-error"' in html and "U+0000" in html
    assert count(db, User) == 0 and count(db, Organization) == 0


def test_a_name_typed_with_combining_marks_is_stored_composed(signup, db):
    response = signup(name=f"{DECOMPOSED} Kowalska",
                      organization_name=f"{DECOMPOSED} Mobility",
                      profile=f"Founded by {DECOMPOSED}.\nBike-sharing docks.")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "lena@kowalska.example"))
    assert user.name == f"{COMPOSED} Kowalska"
    assert user.name == user.name.encode().decode() and len(user.name) == len("Amélie Kowalska")
    organization = db.session.scalar(select(Organization).where(
        Organization.name == f"{COMPOSED} Mobility"))
    assert organization is not None
    assert organization.profile == f"Founded by {COMPOSED}.\nBike-sharing docks."


def test_a_newline_is_refused_in_a_name_and_kept_in_a_profile(signup, db):
    response = signup(name="Lena\nKowalska")
    assert response.status_code in REFUSED_SIGNUP
    assert "Your name must be on one line" in response.get_data(as_text=True)
    assert count(db, User) == 0
    response = signup(profile="Docks.\r\nSensors.")
    assert response.status_code == 302
    assert db.session.scalar(select(Organization.profile).where(
        Organization.name == "Kowalska Mobility")) == "Docks.\r\nSensors."


def test_an_over_long_name_gets_a_message_and_length_counts_composed_characters(signup, db):
    response = signup(name="L" * 201)
    assert response.status_code in REFUSED_SIGNUP
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert count(db, User) == 0
    # 200 letters typed as 400 code points (letter + combining accent) fit the 200 column.
    response = signup(name="e\u0301" * 200)
    assert response.status_code == 302
    assert db.session.scalar(select(User.name)) == "é" * 200


def test_a_nul_in_an_organization_name_is_refused_and_nothing_changes(
        client, db, make, login_as):
    company = make.organization(make.partner(), name="Aalborg Sensorik ApS", country="DK")
    member = make.user(company)
    client = login_as(member)
    page = f"/organizations/{company.id}/edit"
    response = post(client, page, {
        "name": f"Aalborg{NUL}", "country": "DK", "city": "Aalborg", "sector": "IoT",
        "size": "small", "helix": "industry", "website": "", "profile": ""}, page=page)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html and "U+0000" in html
    db.session.expire_all()
    assert db.session.get(Organization, company.id).name == "Aalborg Sensorik ApS"


@pytest.fixture
def cluster_admin(make):
    return make.partner(short_name="SCN"), make.admin()


@pytest.mark.parametrize("field, value, message", [
    ("title", f"Mission{NUL} to Boston", "U+0000"),
    ("title", "Mission\nto Boston", "must be on one line"),
    ("target_city", "Bos\x1bton", "U+001B"),
])
def test_a_bad_character_in_an_event_is_refused_beside_its_field(
        db, login_as, cluster_admin, field, value, message):
    cluster, admin = cluster_admin
    response = post(login_as(admin), "/admin/events/new", event_form(cluster, **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert count(db, Event) == 0 and count(db, AuditEntry) == 0


def test_an_event_description_keeps_its_lines_and_its_title_is_stored_composed(
        db, login_as, cluster_admin):
    cluster, admin = cluster_admin
    response = post(login_as(admin), "/admin/events/new", event_form(
        cluster, title=f"Mission with {DECOMPOSED}", description="Day one.\nDay two."))
    assert response.status_code == 302
    event = db.session.scalars(select(Event)).one()
    assert (event.title, event.description) == (f"Mission with {COMPOSED}", "Day one.\nDay two.")


@pytest.fixture
def mission(make):
    organizing = make.partner(short_name="ORG")
    event = make.event(organizers=[organizing], title="Mission to Singapore")
    questions.add_mission_defaults(None, event)
    return dict(event=event, organizer=make.manager(organizing),
                member=make.user(make.organization(make.partner(short_name="SCN"))))


def test_a_nul_in_a_question_is_refused_beside_it(db, login_as, mission):
    event = mission["event"]
    before = count(db, Question, event_id=event.id)
    response = post(login_as(mission["organizer"]), f"/admin/events/{event.id}/questions", {
        "question-kind": "short_text", "question-label": f"Which{NUL} one?",
        "question-help_text": "", "question-choices": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="question-label-error"' in html and "U+0000" in html
    assert count(db, Question, event_id=event.id) == before


def _question(event, kind):
    return next(q for q in event.questions if q.kind == kind)


@pytest.mark.parametrize("kind", [QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT])
def test_a_nul_in_an_application_answer_is_refused_beside_it(db, login_as, mission, kind):
    event, member = mission["event"], mission["member"]
    question = _question(event, kind)
    answers = {**good_answers(event), f"q_{question.id}": f"Sensors{NUL}"}
    response = apply(login_as(member), event, answers)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="q_{question.id}-error"' in html and "U+0000" in html
    assert own(db, member, event) is None and count(db, Answer) == 0


def test_an_answer_keeps_its_lines_in_a_long_text_and_not_in_a_short_one(
        db, login_as, mission):
    event, member = mission["event"], mission["member"]
    client = login_as(member)
    short, long = _question(event, QuestionKind.SHORT_TEXT), _question(event,
                                                                        QuestionKind.LONG_TEXT)
    response = apply(client, event, {**good_answers(event), f"q_{short.id}": "EU\nUS"})
    assert response.status_code == 400
    assert "must be on one line" in response.get_data(as_text=True)
    response = apply(client, event, {**good_answers(event),
                                     f"q_{long.id}": f"Meet {DECOMPOSED}.\nSee sites."})
    assert response.status_code == 302
    stored = {a.question_id: a.value for a in own(db, member, event).answers}
    assert stored[long.id] == f"Meet {COMPOSED}.\nSee sites."


@pytest.fixture
def applicant(make, mission):
    return make.registration(mission["event"], mission["member"])


def _decide(client, registration, reason):
    """Reject, and confirm on the page that follows (what the reason became there)."""
    response = post(client, f"/desk/registrations/{registration.id}/decide",
                    {"decision": "reject", "expected_status": "submitted", "reason": reason},
                    page="/desk/")
    return confirm(client, response) if response.status_code == 200 else response


def test_a_nul_in_a_desk_decision_reason_is_refused_and_nothing_is_decided(
        db, login_as, mission, applicant):
    response = _decide(login_as(mission["organizer"]), applicant, f"Not an SME.{NUL}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="reason-error"' in html and "U+0000" in html
    db.session.expire_all()
    assert db.session.get(Registration, applicant.id).status == S.SUBMITTED


def test_a_desk_decision_reason_keeps_its_lines(db, login_as, mission, applicant):
    response = _decide(login_as(mission["organizer"]), applicant, "Not an SME.\nSorry.")
    assert response.status_code == 302
    assert db.session.scalar(select(AuditEntry.reason).where(
        AuditEntry.registration_id == applicant.id, AuditEntry.to_status == "rejected")
    ) == "Not an SME.\nSorry."


def test_form_bytes_that_are_not_utf8_are_refused(client, db, mailbox):
    data = signup_form(client)
    body = "&".join(f"{key}={value}" for key, value in data.items() if key != "name")
    # A lone surrogate as a browser cannot send it (UTF-8 forbids it), then Latin-1.
    for name in (b"Lena%ED%A0%80", b"L%E9na", b"L\xe9na"):
        response = client.post("/signup", data=body.encode() + b"&name=" + name,
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
        assert "UTF-8" in response.get_data(as_text=True)
    assert count(db, User) == 0


def test_multipart_text_that_is_not_utf8_is_refused_and_a_typed_replacement_kept(
        client, db, mailbox):
    data = signup_form(client)
    for name, status in ((b"L\xe9na", 400), ("L\ufffdna Replacement".encode(), None)):
        fields = {**data, "name": name.decode("latin-1") if status else name.decode()}
        boundary = "beachhead-test-boundary"
        body = b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
            .encode() + (name if key == "name" else str(value).encode()) + b"\r\n"
            for key, value in fields.items()) + f"--{boundary}--\r\n".encode()
        response = client.post("/signup", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
        if status:
            assert response.status_code == status
            assert "UTF-8" in response.get_data(as_text=True)
            assert count(db, User) == 0
        else:
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(User.name)) == "L\ufffdna Replacement"


def test_a_json_body_with_a_lone_surrogate_sent_to_a_page_is_refused(client, db):
    """Forms read a JSON body as form data: a `\\ud800` escape would become a string
    that can be neither stored nor shown back."""
    token = csrf_token(client)
    response = client.post("/login", data='{"email": "\\ud800x@example.org", "password": "a"}',
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert "cannot be read" in response.get_data(as_text=True)


def test_a_file_sent_under_a_text_fields_name_is_refused_beside_it(
        client, db, make, login_as):
    from io import BytesIO

    company = make.organization(make.partner(), name="Aalborg Sensorik ApS", country="DK")
    client = login_as(make.user(company))
    page = f"/organizations/{company.id}/edit"
    data = {"name": "Aalborg Sensorik ApS", "country": "DK", "city": "Aalborg",
            "sector": "IoT", "size": "small", "helix": "industry", "website": "",
            "profile": (BytesIO(b"not a profile"), "profile.txt"),
            "csrf_token": csrf_token(client, page)}
    response = client.post(page, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="profile-error"' in html and "must be text" in html
    db.session.expire_all()
    assert db.session.get(Organization, company.id).profile == company.profile


# --------------------------------------------------------------------------- the API


@pytest.fixture
def webinar(make, db):
    cluster = make.partner()
    event = make.event(organizers=[cluster], kind=EventKind.WEBINAR, requires_approval=False,
                       capacity=10)
    question = Question(event=event, kind=QuestionKind.SHORT_TEXT, label="Your role?",
                        required=True)
    db.session.add(question)
    member = make.user(make.organization(cluster))
    db.session.commit()
    return dict(event=event, question=question, token=token_for(member))


def _apply_by_api(call, webinar, value, raw=None):
    url = f"/api/v1/events/{webinar['event'].id}/registrations"
    if raw is not None:
        return call("POST", url, webinar["token"], data=raw, content_type="application/json")
    return call("POST", url, webinar["token"], json={"answers": [
        {"question_id": webinar["question"].id, "value": value}]})


@pytest.mark.parametrize("value, code", UNREADABLE[:6])
def test_a_control_character_in_an_api_string_is_refused_with_its_pointer(
        call, webinar, db, value, code):
    problem = _problem(_apply_by_api(call, webinar, f"CEO{value}"), 422)
    [error] = problem["errors"]
    assert error["pointer"] == "/answers/0/value" and code in error["detail"]
    assert count(db, Registration) == 0


def test_an_api_answer_to_a_short_text_question_stays_on_one_line(call, webinar, db):
    problem = _problem(_apply_by_api(call, webinar, "CEO\nand founder"), 422)
    [error] = problem["errors"]
    assert error["pointer"] == "/answers/0/value"
    assert "must be on one line" in error["detail"]
    assert count(db, Registration) == 0


def test_a_lone_surrogate_in_api_json_is_refused(call, webinar, db):
    question_id = webinar["question"].id
    raw = f'{{"answers": [{{"question_id": {question_id}, "value": "CEO \\ud800"}}]}}'
    problem = _problem(_apply_by_api(call, webinar, None, raw=raw), 400)
    assert "not valid JSON" in problem["detail"]
    assert count(db, Registration) == 0


def test_an_api_string_is_stored_composed(call, webinar, db):
    response = _apply_by_api(call, webinar, f"CEO {DECOMPOSED}")
    assert response.status_code == 201, response.json
    assert db.session.scalar(select(Answer.value)) == f"CEO {COMPOSED}"


def test_an_api_withdrawal_reason_keeps_lines_and_refuses_a_nul(call, webinar, db):
    reg_id = _apply_by_api(call, webinar, "CEO").json["id"]
    url = f"/api/v1/registrations/{reg_id}/withdraw"
    problem = _problem(call("POST", url, webinar["token"], json={"reason": f"No{NUL}"}), 422)
    assert problem["errors"][0]["pointer"] == "/reason"
    assert call("POST", url, webinar["token"], json={"reason": "Plans\nchanged"}
                ).status_code == 200
    assert db.session.scalar(select(AuditEntry.reason).where(
        AuditEntry.registration_id == reg_id, AuditEntry.to_status == "withdrawn")
    ) == "Plans\nchanged"


def test_an_over_long_api_string_is_refused_with_its_pointer(call, webinar, db):
    problem = _problem(_apply_by_api(call, webinar, "x" * 5001), 422)
    assert problem["errors"][0]["pointer"].startswith("/answers/0/value")
    assert count(db, Registration) == 0


# --------------------------------------------------------------------------- paths, queries


@pytest.mark.parametrize("path", [
    "/events/mission%00", "/events/%00", "/events/mission%ff", "/events/%ED%A0%80",
    "/admin/events/1%00", "/api/v1/events/1%00", "/api/v1/events/%ff", "/%00",
    "/organizations/%00/edit",
])
def test_a_nul_or_undecodable_byte_in_a_path_answers_400_or_404(client, db, path):
    assert client.get(path).status_code in (400, 404)


@pytest.mark.parametrize("query", [
    "/events?q=%00", "/events?kind=%00", "/events?%00=1", "/events?q=%ff",
    "/events?q=%ED%A0%80", "/api/v1/events?country=%00", "/api/v1/events?kind=%ff",
    "/login?next=%00", "/login?next=/events%0d%0aSet-Cookie:x=1", "/events?q=%1b",
    "/events?q=a%0ab",
])
def test_a_nul_or_undecodable_byte_in_a_query_answers_400(client, db, query):
    assert client.get(query).status_code == 400


def test_a_nul_in_the_desks_query_answers_400_to_a_manager(login_as, db, mission):
    client = login_as(mission["organizer"])
    assert client.get("/desk/").status_code == 200
    assert client.get("/desk/?q=%00").status_code == 400
    assert client.get("/desk/?country=A%1bB").status_code == 400


# --------------------------------------------------------------------------- the models


def test_the_models_refuse_a_nul_that_no_form_caught(db, make):
    organization = make.organization(make.partner())
    db.session.flush()
    organization.name = f"Sensorium{NUL}"
    with pytest.raises(text.TextRefused) as refused:
        db.session.flush()
    assert "Organization.name" in refused.value.message and "U+0000" in refused.value.message
    db.session.rollback()


def test_the_models_refuse_text_longer_than_its_column(db, make):
    organization = make.organization(make.partner())
    db.session.flush()
    organization.name = "S" * 201
    with pytest.raises(text.TextRefused) as refused:
        db.session.flush()
    assert "at most 200 characters" in refused.value.message
    db.session.rollback()


def test_the_models_store_text_composed_including_json_answers(db, make, mission, applicant):
    organization = make.organization(make.partner(), name=f"{DECOMPOSED} ApS")
    question = _question(mission["event"], QuestionKind.SHORT_TEXT)
    answer = Answer(registration=applicant, question=question, value=[DECOMPOSED])
    db.session.add(answer)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organization, organization.id).name == f"{COMPOSED} ApS"
    assert db.session.get(Answer, answer.id).value == [COMPOSED]


def test_the_rule_refuses_exactly_the_unicode_categories_it_names():
    """Every code point: controls (Cc) but line breaks and tab in long texts, surrogates
    (Cs), noncharacters, and in one-line texts U+2028 and U+2029 too."""
    for multiline in (True, False):
        wrong = [
            point for point in range(0x110000)
            if (text.refusal(chr(point), multiline=multiline, field="F") is not None) != (
                (unicodedata.category(chr(point)) in ("Cc", "Cs")
                and not (multiline and chr(point) in "\t\n\r"))
                or text.is_noncharacter(chr(point))
                or (not multiline and chr(point) in "\u2028\u2029"))
        ]
        assert wrong == [], [hex(point) for point in wrong[:10]]


def test_stored_text_problems_finds_text_written_around_the_rule(db, make, mission, applicant):
    """The check the fuzzer runs over every row: clean after the forms and the models, and
    it names a row written around them (an UPDATE straight to the table)."""
    organization = make.organization(make.partner(), name=f"{DECOMPOSED} ApS")
    db.session.flush()
    assert text.stored_text_problems(db.session) == []
    db.session.execute(update(Organization).where(Organization.id == organization.id)
                       .values(name=DECOMPOSED, profile="\x1b[31m"))
    assert text.stored_text_problems(db.session) == [
        f"organizations.name #{organization.id} is not NFC-normalized.",
        f"organizations.profile #{organization.id} contains the control character "
        "U+001B (ESCAPE), which is not allowed.",
    ]

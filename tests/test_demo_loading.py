"""Loading the demo data: idempotent, deterministic, the command and its guards. Each test
here loads the demo itself, into an empty database; tests/test_demo.py reads one loaded
demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.test_demo import FROZEN_NOW, dump_tables, past_missions
from webapp import create_app, demo
from webapp.extensions import db as _db
from webapp.models import Attendance, Event, EventRole, Registration, User
from webapp.models import RegistrationStatus as S

# --------------------------------------------------------------------------- idempotent


def test_loading_twice_changes_nothing(db):
    demo.load(FROZEN_NOW)
    first = dump_tables()

    summary = demo.load(FROZEN_NOW)

    assert dump_tables() == first
    assert summary.added == 0
    assert "nothing changed" in summary.describe()


@pytest.mark.sqlite
def test_fresh_databases_loaded_the_same_day_get_identical_rows(tmp_path):
    # 10:00 and 14:00 UTC fall on the same day in Singapore, Kolkata, Madrid and New York.
    morning = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
    dumps = []
    for name, now in (("morning", morning), ("afternoon", morning + timedelta(hours=4))):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / name}.db")
        with app.app_context():
            _db.create_all()
            demo.load(now)
            # Password hashes are salted, badge codes and join tokens random, and a
            # schedule run records how long its solve took: the columns that may differ.
            dumps.append(dump_tables(skip=frozenset({
                "users.password_hash", "registrations.badge_code", "registrations.join_token",
                "schedule_runs.seconds"})))
            _db.session.remove()
            _db.engine.dispose()

    assert dumps[0] == dumps[1]
    assert len(dumps[0]["registrations"]) > 300
    # The meetings' schedules and what they led to are part of it.
    for table in ("meetings", "meeting_seats", "schedule_runs", "meetings_held",
                  "meeting_taps", "meeting_ratings", "meeting_follow_ups"):
        assert dumps[0][table], table



# --------------------------------------------------------------------------- the command


def test_the_demo_command_loads_and_prints_the_logins(app, db):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])

    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:5000" in first.output
    for account in demo.DEMO_ACCOUNTS:
        assert account.email in first.output
    assert demo.DEMO_PASSWORD in first.output
    assert "nothing changed" in second.output


def test_demo_if_empty_leaves_a_database_with_accounts_alone_but_shows_the_logins(
    app, db, make
):
    runner = app.test_cli_runner()
    someone = make.user(email="someone@example.org")
    db.session.commit()

    untouched = runner.invoke(args=["demo", "--if-empty"])
    assert "the demo data was not loaded" in untouched.output
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert demo.DEMO_PASSWORD not in untouched.output

    db.session.delete(someone)
    db.session.commit()
    loaded = runner.invoke(args=["demo", "--if-empty"])
    assert "This run added" in loaded.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "the demo data was not loaded" in again.output
    assert demo.DEMO_ACCOUNTS[0].email in again.output and demo.DEMO_PASSWORD in again.output


def test_the_demo_command_refuses_the_production_config(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-at-least-32-characters")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.db'}")
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    production = create_app("production")

    result = production.test_cli_runner().invoke(args=["demo"])
    with production.app_context():
        _db.engine.dispose()

    assert result.exit_code != 0
    assert "production" in result.output



# --------------------------------------------------------------------------- survey answers


def _survey_answers() -> dict[tuple, tuple]:
    from webapp.models import SurveyInvitation, SurveyResponse

    rows = _db.session.execute(
        select(Event.slug, User.email, SurveyInvitation.round, SurveyInvitation.sent_at,
               SurveyInvitation.reminded_at, SurveyInvitation.answered_at,
               SurveyResponse.satisfaction, SurveyResponse.b2b_meetings, SurveyResponse.leads,
               SurveyResponse.comment)
        .join(SurveyInvitation.registration).join(Registration.event).join(Registration.user)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id))
    return {tuple(row[:3]): tuple(row[3:]) for row in rows}


def test_survey_answers_only_for_the_programmes_delegates_who_attended(db):
    from webapp.models import SurveyInvitation, SurveyResponse

    demo.load(FROZEN_NOW)
    # Every approved delegate of a past mission was checked in; the programme's are asked.
    programme = [e for e in past_missions(FROZEN_NOW) if e.ends_at.year in (2018, 2019)]
    attended = _db.session.scalars(
        select(Registration).join(Attendance, Attendance.registration_id == Registration.id)
        .where(Registration.event_id.in_([e.id for e in programme]),
               Registration.status == S.APPROVED,
               Registration.role == EventRole.DELEGATE)).unique().all()
    assert attended
    answers = _survey_answers()
    assert {(slug, email) for slug, email, _ in answers} == {
        (r.event.slug, r.user.email) for r in attended}
    assert len(answers) == 2 * len(attended)  # both rounds are past
    scores = [a[3] for a in answers.values() if a[3] is not None]
    assert set(scores) <= {1, 2, 3, 4, 5} and len(scores) < len(answers)
    assert 3.8 <= sum(scores) / len(scores) <= 4.5

    again = dump_tables()
    demo.load(FROZEN_NOW)
    assert dump_tables() == again
    # The same answers when built afresh: each comes from its own seeded generator.
    _db.session.execute(SurveyResponse.__table__.delete())
    _db.session.execute(SurveyInvitation.__table__.delete())
    demo.load(FROZEN_NOW)
    assert _survey_answers() == answers



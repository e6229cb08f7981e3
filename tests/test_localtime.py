"""Local times with their zone (webapp/localtime.py)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import at
from webapp import localtime


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize(("instant", "zone", "expected"), [
    (at(2019, 7, 9, 1, 0), "Asia/Singapore", "Tue 9 Jul 2019, 09:00 (Singapore, UTC+8)"),
    (at(2019, 10, 14, 13, 30), "America/New_York", "Mon 14 Oct 2019, 09:30 (New York, UTC-4)"),
    (at(2019, 11, 4, 14, 0), "America/New_York", "Mon 4 Nov 2019, 09:00 (New York, UTC-5)"),
    (at(2019, 11, 19, 8, 0), "Europe/Madrid", "Tue 19 Nov 2019, 09:00 (Madrid, UTC+1)"),
    (at(2019, 3, 1, 4, 30), "Asia/Kolkata", "Fri 1 Mar 2019, 10:00 (Kolkata, UTC+5:30)"),
    (at(2019, 3, 1, 4, 30), "UTC", "Fri 1 Mar 2019, 04:30 (UTC+0)"),
])
def test_instant_is_shown_in_the_zone_with_city_and_offset(instant, zone, expected):
    assert localtime.format_instant(instant, zone) == expected


def test_span_on_one_local_day_names_the_day_once():
    text = localtime.format_span(at(2019, 7, 9, 1), at(2019, 7, 9, 10), "Asia/Singapore")
    assert text == "Tue 9 Jul 2019, 09:00 – 18:00 (Singapore, UTC+8)"


def test_span_over_midnight_utc_stays_on_the_local_day():
    # 16:00-23:30 UTC is the next local day in Singapore, one day.
    text = localtime.format_span(at(2019, 7, 8, 16), at(2019, 7, 8, 23, 30), "Asia/Singapore")
    assert text == "Tue 9 Jul 2019, 00:00 – 07:30 (Singapore, UTC+8)"


def test_span_over_several_days_names_both():
    text = localtime.format_span(at(2019, 6, 24, 1), at(2019, 6, 28, 10), "Asia/Singapore")
    assert text == "Mon 24 Jun 2019, 09:00 – Fri 28 Jun 2019, 18:00 (Singapore, UTC+8)"


def test_all_day_dates():
    assert localtime.format_days(date(2019, 11, 19), date(2019, 11, 21)) == (
        "Tue 19 Nov 2019 – Thu 21 Nov 2019")
    assert localtime.format_days(date(2019, 11, 19), date(2019, 11, 19)) == "Tue 19 Nov 2019"

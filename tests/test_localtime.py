"""Local times with their zone (webapp/localtime.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask_babel import force_locale

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
    (at(2019, 3, 1, 4, 30), "UTC", "Fri 1 Mar 2019, 04:30 (UTC)"),
    (at(2019, 3, 1, 4, 30), "Etc/UTC", "Fri 1 Mar 2019, 04:30 (UTC)"),
    (at(2019, 3, 1, 4, 30), "Etc/GMT+5", "Thu 28 Feb 2019, 23:30 (UTC-5)"),
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


# --------------------------------------------------------------------------- the reader's zone


@pytest.mark.parametrize(("instant", "zone", "expected"), [
    # Named as English readers know the zone: English's own abbreviation (EDT), else the
    # zone's (CET, BST, IST), else its long name (Singapore has only "+08").
    (at(2024, 1, 15, 13, 5), "Europe/Copenhagen",
     "Mon 15 Jan 2024, 14:05 (CET)"),
    (at(2024, 7, 15, 12, 5), "Europe/Copenhagen",
     "Mon 15 Jul 2024, 14:05 (CEST)"),
    (at(2024, 7, 15, 13, 5), "America/New_York", "Mon 15 Jul 2024, 09:05 (EDT)"),
    (at(2024, 1, 15, 14, 5), "America/New_York", "Mon 15 Jan 2024, 09:05 (EST)"),
    (at(2024, 1, 15, 9, 5), "Europe/London", "Mon 15 Jan 2024, 09:05 (GMT)"),
    (at(2024, 7, 15, 8, 5), "Europe/London", "Mon 15 Jul 2024, 09:05 (BST)"),
    (at(2024, 7, 15, 1, 5), "Asia/Singapore", "Mon 15 Jul 2024, 09:05 (Singapore Standard Time)"),
    (at(2024, 7, 15, 9, 5), "UTC", "Mon 15 Jul 2024, 09:05 (UTC)"),
    # English has only an offset ("GMT+05:30") for it; the zone says IST.
    (at(2024, 7, 15, 3, 35), "Asia/Kolkata", "Mon 15 Jul 2024, 09:05 (IST)"),
])
def test_a_timestamp_names_the_readers_zone_as_people_know_it(instant, zone, expected):
    assert localtime.format_timestamp(instant, zone) == expected


def test_a_danish_reader_sees_cet_and_cest(app):
    with app.test_request_context(), force_locale("da"):
        assert localtime.zone_name("Europe/Copenhagen", at(2024, 1, 15, 12)) == "CET"
        assert localtime.zone_name("Europe/Copenhagen", at(2024, 7, 15, 12)) == "CEST"


@pytest.mark.parametrize("zone", ["Europe/Copenhagen", "Europe/Paris", "America/New_York",
                                  "Asia/Singapore", "Asia/Kolkata", "Australia/Sydney",
                                  "Europe/London", "America/Sao_Paulo"])
@pytest.mark.parametrize("month", [1, 7])
def test_no_zone_with_a_name_is_named_by_a_bare_offset(zone, month):
    name = localtime.zone_name(zone, at(2024, month, 15, 12))
    assert not re.fullmatch(r"(UTC|GMT)?[+-]\d{1,2}(:?\d\d)?", name), name
    assert name != "UTC" and any(c.isalpha() for c in name), name


# --------------------------------------------------------------------------- the viewer's time


def test_a_single_event_time_in_the_viewers_zone_says_its_date():
    text = localtime.viewer_span(at(2024, 5, 4, 1), None, "Asia/Singapore", "America/New_York")
    assert text == "21:00 on Fri 3 May your time (EDT)"


def test_a_range_on_one_viewer_day_says_the_date_once():
    text = localtime.viewer_span(at(2024, 5, 4, 1), at(2024, 5, 4, 4), "Asia/Singapore",
                                 "Europe/Copenhagen")
    assert text == "03:00 – 06:00 on Sat 4 May your time (CEST)"


def test_a_range_over_the_viewers_midnight_dates_both_ends():
    text = localtime.viewer_span(at(2019, 7, 9, 1), at(2019, 7, 9, 4), "Asia/Singapore",
                                 "America/New_York")
    assert text == "21:00 on Mon 8 Jul – 00:00 on Tue 9 Jul your time (EDT)"


def test_the_date_is_said_even_on_the_events_own_day():
    # Singapore 18:00 is 12:00 in Copenhagen on the same day: the date still tells the
    # reader which day their 12:00 is.
    text = localtime.viewer_span(at(2024, 5, 4, 10), None, "Asia/Singapore",
                                 "Europe/Copenhagen")
    assert text == "12:00 on Sat 4 May your time (CEST)"


@pytest.mark.parametrize("viewer", [None, "", "Asia/Singapore", "Asia/Kuala_Lumpur",
                                    "Mars/Olympus_Mons", "America"])
def test_no_second_time_when_the_clock_reads_the_same_or_the_zone_is_unknown(viewer):
    assert localtime.viewer_span(at(2024, 5, 4, 1), at(2024, 5, 4, 4), "Asia/Singapore",
                                 viewer) == ""


def test_the_second_time_follows_each_ends_offset_across_a_clock_change():
    # Copenhagen's clocks go forward at 01:00 UTC on 31 March 2024: the range ends an hour
    # later on the viewer's clock than it started, relative to the event's.
    text = localtime.viewer_span(at(2024, 3, 31, 0, 30), at(2024, 3, 31, 1, 30),
                                 "Asia/Singapore", "Europe/Copenhagen")
    assert text == "01:30 – 03:30 on Sun 31 Mar your time (CET)"

"""Timestamps: every shape in the samples, years for logs without one (across New Year), zones."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import (
    UTC,
    find_timestamp,
    iso_utc,
    parse_since,
    parse_zone,
    time_of_day_before,
)

REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "line,expected",
    [
        ("<28>Nov 20 16:58:04 re0-gw2.fin1 rpd[3167]: x", "2026-11-20T16:58:04Z"),
        ("Jul  5 05:52:44  vmx01 rpd[1848]: x", "2026-07-05T05:52:44Z"),
        ("<28>1 2020-05-22T14:59:09.250-03:00 host app - - x", "2020-05-22T17:59:09Z"),
        ("<4>2020-03-31T08:41:59+00:00 vmx01 /kernel: x", "2020-03-31T08:41:59Z"),
        ("2022/03/23 10:15:19 BGP: [Event] x", "2022-03-23T10:15:19Z"),
        ("2026-11-22 18:51:38.500 <WARN> BGP: x", "2026-11-22T18:51:38Z"),
        ("*May 12 2020 13:35:15.181 UTC: %TCP-6-BADAUTH: x", "2020-05-12T13:35:15Z"),
        (".Jul 10 15:58:56.590 EDT: %SEC-6-IPACCESSLOGP: x", "2026-07-10T19:58:56Z"),
        ("Jun 26 16:44:58.802 CEST: %FMANFP-6-IPACCESSLOGP: x", "2026-06-26T14:44:58Z"),
        ("<187>883282: MAJDA702 RP/0/RP0/CPU0:2021 Feb 13 10:25:44.652 UTC: tcp[141]: x", "2021-02-13T10:25:44Z"),
        ("Nov  3 21:02:34.678657 BGP SEND x", "2026-11-03T21:02:34Z"),
        # the day after the reference is still this year (clock skew slack); later is last year
        ("Nov 23 10:00:00 r1 x", "2026-11-23T10:00:00Z"),
        ("Dec 24 10:00:00 r1 x", "2025-12-24T10:00:00Z"),
    ],
)
def test_find_timestamp(line, expected):
    assert iso_utc(find_timestamp(line, UTC, REF)) == expected


def test_new_year():
    january = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    assert iso_utc(find_timestamp("Dec 31 23:59:58 r1 rpd[1]: x", UTC, january)) == "2026-12-31T23:59:58Z"
    assert iso_utc(find_timestamp("Jan  1 00:00:02 r1 rpd[1]: x", UTC, january)) == "2027-01-01T00:00:02Z"


def test_leap_day_without_year_goes_to_the_last_leap_year():
    assert iso_utc(find_timestamp("Feb 29 10:00:00 r1 x", UTC, REF)) == "2024-02-29T10:00:00Z"


def test_default_zone_applies_to_logs_without_one():
    amsterdam = parse_zone("Europe/Amsterdam")
    assert iso_utc(find_timestamp("Nov 20 16:58:04 r1 x", amsterdam, REF)) == "2026-11-20T15:58:04Z"
    assert iso_utc(find_timestamp("Jul 20 16:58:04 r1 x", amsterdam, REF)) == "2026-07-20T14:58:04Z"
    assert iso_utc(find_timestamp("Jul 20 16:58:04 r1 x", parse_zone("-05:00"), REF)) == "2026-07-20T21:58:04Z"
    # an ambiguous abbreviation (CST) falls back to the default zone
    assert iso_utc(find_timestamp("Jul 20 16:58:04.1 CST: %X", amsterdam, REF)) == "2026-07-20T14:58:04Z"


@pytest.mark.parametrize(
    "line", ["no time here", "7:04: %LINEPROTO-5-UPDOWN: x", "Feb 30 10:00:00 r1 x", "2026-13-45 99:99:99 garbage"]
)
def test_lines_without_a_usable_time(line):
    assert find_timestamp(line, UTC, REF) is None


def test_parse_since():
    assert parse_since("24h", REF) == REF - timedelta(hours=24)
    assert parse_since("7d", REF) == REF - timedelta(days=7)
    assert parse_since("2w", REF) == REF - timedelta(days=14)
    assert parse_since("2026-11-01T00:00:00Z", REF) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T02:00:00+02:00", REF) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01", REF) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since(None, REF) is None
    with pytest.raises(ValueError, match="24h"):
        parse_since("yesterday", REF)


def test_parse_zone_errors():
    with pytest.raises(ValueError, match="IANA"):
        parse_zone("Mars/Olympus")
    assert parse_zone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)


def test_time_of_day_before():
    assert iso_utc(time_of_day_before("10:28:22", UTC, REF)) == "2026-11-22T10:28:22Z"
    assert iso_utc(time_of_day_before("13:28:22", UTC, REF)) == "2026-11-21T13:28:22Z"
    shifted = timezone(timedelta(hours=2))
    assert iso_utc(time_of_day_before("13:28:22", shifted, REF)) == "2026-11-22T11:28:22Z"

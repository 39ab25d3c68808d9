# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamps in router logs: find them, complete them (year, zone) and turn them into UTC.

Router logs carry half a dozen timestamp shapes, several without a year or a zone. The stdlib
has no parser for "Nov  3 21:02:34" with a sensible year, so this file is ours: a year is chosen
so that the time is not in the future of the reference (the file's last write or the moment the
log was fetched), which also gets lines from December right when read in January.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # Python < 3.9: only UTC and fixed offsets can be named
    ZoneInfo = None
    ZoneInfoNotFoundError = KeyError

UTC = timezone.utc

MONTHS = {m: i + 1 for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))}

# Zone abbreviations seen on Cisco clocks that mean one thing only. CST, IST and BST are left
# out on purpose: each names several zones, so the `timezone` option decides for those.
ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9,
    "AEST": 10, "AEDT": 11, "ACST": 9.5, "AWST": 8, "NZST": 12, "NZDT": 13, "SGT": 8, "HKT": 8,
}

_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"\d{1,2}:\d{2}:\d{2}(?:\.\d{1,9})?"
TIMESTAMP = re.compile(
    # ISO 8601 / RFC 5424 / RFC 3339 and BIRD's "2026-11-22 18:51:38.500"
    r"(?P<iso>(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})[T ](?P<it>" + _TIME + r")"
    r"(?P<izone>Z|[+-]\d{2}:?\d{2}| [A-Z]{2,5}(?=,|$))?)"
    # FRR: "2026/11/22 18:51:38.500"
    r"|(?P<frr>(?P<fy>\d{4})/(?P<fm>\d{2})/(?P<fd>\d{2}) (?P<ft>" + _TIME + r"))"
    # IOS-XR: "2021 Feb 13 10:25:44.652 UTC:"
    r"|(?P<xr>(?P<xy>\d{4}) (?P<xm>" + _MON + r") +(?P<xd>\d{1,2}) (?P<xt>" + _TIME + r")"
    r"(?: (?P<xzone>[A-Za-z]{1,5}))?(?=:))"
    # BSD syslog and IOS: "Nov  3 21:02:34", "Jul 10 15:58:56.590 EDT:", "May 12 2020 13:35:15.181 UTC:"
    r"|(?P<bsd>(?P<bm>" + _MON + r") +(?P<bd>\d{1,2})(?: (?P<by>\d{4}))? (?P<bt>" + _TIME + r")"
    r"(?: (?P<bzone>[A-Za-z]{1,5})(?=:))?)"
)


def parse_zone(name):
    """Return a tzinfo for an IANA name ("Europe/Amsterdam"), "UTC" or a fixed offset ("+02:00")."""
    if name in (None, "", "UTC", "utc", "Z"):
        return UTC
    offset = re.match(r"^([+-])(\d{2}):?(\d{2})$", name)
    if offset:
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return timezone(timedelta(minutes=-minutes if offset.group(1) == "-" else minutes))
    if ZoneInfo is None:
        raise ValueError("time zone %r needs Python 3.9 or later; use UTC or an offset such as +02:00" % name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone %r: use an IANA name such as Europe/Amsterdam, UTC, or an "
                         "offset such as +02:00" % name)


def _time_parts(text):
    hms, dummy, fraction = text.partition(".")
    hour, minute, second = (int(x) for x in hms.split(":"))
    micro = int((fraction + "000000")[:6]) if fraction else 0
    return hour, minute, second, micro


def _zone_of(token, default_zone):
    if not token:
        return default_zone
    if token == "Z":
        return UTC
    if token[0] in "+-":
        return parse_zone(token)
    hours = ABBREVIATIONS.get(token.upper())
    if hours is None:
        return default_zone
    return timezone(timedelta(minutes=int(hours * 60)))


def _with_inferred_year(month, day, hms, zone, reference):
    """The latest year in which this day and time is not after the reference (1 day of slack for clocks)."""
    hour, minute, second, micro = hms
    limit = reference + timedelta(days=1)
    for year in range(reference.year + 1, reference.year - 5, -1):
        try:
            candidate = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
        except ValueError:  # 29 February outside a leap year
            continue
        if candidate <= limit:
            return candidate
    return None


def find_timestamp(line, default_zone, reference):
    """Return the first timestamp in the line as an aware UTC datetime, or None when it has none.

    `reference` is an aware datetime no line can be later than (file mtime or fetch time); it
    supplies the year of timestamps that have none.
    """
    match = TIMESTAMP.search(line)
    if match is None:
        return None
    group = match.group
    try:
        if group("iso"):
            stamp = datetime(int(group("iy")), int(group("im")), int(group("id")),
                             *_time_parts(group("it")), tzinfo=_zone_of((group("izone") or "").strip(), default_zone))
        elif group("frr"):
            stamp = datetime(int(group("fy")), int(group("fm")), int(group("fd")),
                             *_time_parts(group("ft")), tzinfo=default_zone)
        elif group("xr"):
            stamp = datetime(int(group("xy")), MONTHS[group("xm")], int(group("xd")),
                             *_time_parts(group("xt")), tzinfo=_zone_of(group("xzone"), default_zone))
        elif group("by"):
            stamp = datetime(int(group("by")), MONTHS[group("bm")], int(group("bd")),
                             *_time_parts(group("bt")), tzinfo=_zone_of(group("bzone"), default_zone))
        else:
            stamp = _with_inferred_year(MONTHS[group("bm")], int(group("bd")), _time_parts(group("bt")),
                                        _zone_of(group("bzone"), default_zone), reference)
            if stamp is None:
                return None
    except ValueError:  # 25:61:00, 31 June, ...: a garbled line, not a time
        return None
    return stamp.astimezone(UTC)


def time_of_day_before(hms_text, default_zone, reference):
    """A bare "HH:MM:SS" (JunOS `show firewall log`) as the latest such moment not after the reference."""
    hour, minute, second, micro = _time_parts(hms_text)
    local_ref = reference.astimezone(default_zone)
    stamp = local_ref.replace(hour=hour, minute=minute, second=second, microsecond=micro)
    if stamp > local_ref + timedelta(minutes=5):
        stamp -= timedelta(days=1)
    return stamp.astimezone(UTC)


def parse_since(text, now):
    """`since` as an aware UTC datetime: "30m", "24h", "7d", "2w", or an ISO 8601 date or time."""
    if text is None or text == "":
        return None
    relative = re.match(r"^\s*(\d+)\s*([smhdw])\s*$", str(text))
    if relative:
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[relative.group(2)]
        return now - timedelta(seconds=int(relative.group(1)) * seconds)
    iso = str(text).strip()
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError("since=%r is not understood: use a duration such as 24h, 7d or 2w, or an "
                         "ISO 8601 time such as 2026-11-01T00:00:00Z" % (text,))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def iso_utc(stamp):
    """ISO 8601 in UTC with a Z, to the second: how every time leaves peerwarden."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

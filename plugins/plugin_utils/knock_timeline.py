# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Knocks over time: log_events' per-hour (or per-day) sightings summed into a bounded row of bars.

The column width is the smallest of 1, 3, 6 hours, 1 day, 1 week, 2, 4, 8 ... weeks that keeps the
chart at MAX_BARS bars or fewer; buckets count from midnight UTC of the first sighting's day, and
empty buckets are kept (a gap in the knocks is information). Sightings without a time (in `count`
but in no hour) are counted apart so the page can say they are not in the chart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timedelta

MAX_BARS = 96
_HOUR_KEY = "%Y-%m-%dT%H:%M:%SZ"
_DAY_KEY = "%Y-%m-%d"


def timeline(events):
    """{"bars": [{"start", "label", "count"}], "unit": text, "untimed": sightings without a time,
    "peak": the largest column}; no bars when no event has a time."""
    sightings = {}  # datetime (naive UTC) -> count
    untimed = 0
    daily = False
    for number, event in enumerate(events):
        series, key_format = _series(number, event)
        daily = daily or key_format == _DAY_KEY
        counted = 0
        for key, count in series.items():
            stamp = _parse(number, key, key_format)
            sightings[stamp] = sightings.get(stamp, 0) + int(count)
            counted += int(count)
        untimed += max(int(event["count"]) - counted, 0)
    if not sightings:
        return {"bars": [], "unit": None, "untimed": untimed, "peak": 0}
    origin = min(sightings).replace(hour=0)
    span_hours = int((max(sightings) - origin).total_seconds() // 3600) + (24 if daily else 1)
    step = _step(span_hours, daily)
    counts = [0] * ((span_hours - 1) // step + 1)
    for stamp, count in sightings.items():
        counts[int((stamp - origin).total_seconds() // 3600) // step] += count
    bars = [{"start": origin + timedelta(hours=index * step), "count": count} for index, count in enumerate(counts)]
    for column in bars:
        column["label"] = _label(column["start"], step)
        column["start"] = column["start"].strftime(_HOUR_KEY)
    return {"bars": bars, "unit": _unit(step), "untimed": untimed, "peak": max(counts)}


def _series(number, event):
    if event.get("per_hour") is not None:
        series, key_format = event["per_hour"], _HOUR_KEY
    elif event.get("per_day") is not None:
        series, key_format = event["per_day"], _DAY_KEY
    else:  # an event from before per_hour existed: all of its sightings are without a time
        return {}, None
    if not isinstance(series, dict):
        raise TypeError("event %d: per_hour/per_day must be a dict of time -> count, got %r" % (number, series))
    return series, key_format


def _parse(number, key, key_format):
    try:
        return datetime.strptime(key, key_format)
    except (TypeError, ValueError):
        raise ValueError("event %d: %r is not a time in the form %s" % (number, key, key_format.replace("%", "")))


def _step(span_hours, daily):
    steps = [24, 168] if daily else [1, 3, 6, 24, 168]
    while span_hours > steps[-1] * MAX_BARS:
        steps.append(steps[-1] * 2)
    return next(step for step in steps if -(-span_hours // step) <= MAX_BARS)


def _unit(step):
    if step < 24:
        return "hour" if step == 1 else "%d hours" % step
    if step == 24:
        return "day"
    return "week" if step == 168 else "%d weeks" % (step // 168)


def _label(start, step):
    if step < 24:
        return start.strftime("%Y-%m-%d %H:00") + " UTC"
    if step == 24:
        return start.strftime(_DAY_KEY)
    return "%s to %s" % (start.strftime(_DAY_KEY), (start + timedelta(hours=step - 24)).strftime(_DAY_KEY))

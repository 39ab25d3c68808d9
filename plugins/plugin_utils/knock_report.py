# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn log_events' events from many routers into one report: grouped, as CSV, as tables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

CSV_COLUMNS = ("address", "kind", "count", "first_seen", "last_seen", "routers", "interfaces", "ports", "peer_as",
               "sample")
EVENT_KEYS = ("router", "address", "kind", "count", "first_seen", "last_seen")


def summarize(events):
    """One entry per (address, kind) across routers, most persistent first (count, then address)."""
    if not isinstance(events, (list, tuple)):
        raise TypeError("expected the list of events that log_events returns, got %s" % type(events).__name__)
    groups = {}
    for number, event in enumerate(events):
        if not isinstance(event, dict) or any(key not in event for key in EVENT_KEYS):
            raise TypeError("event %d is not a log_events event (it needs %s): %r"
                            % (number, ", ".join(EVENT_KEYS), event))
        key = (event["address"], event["kind"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"address": event["address"], "kind": event["kind"], "count": 0,
                                   "first_seen": event["first_seen"], "last_seen": event["last_seen"],
                                   "routers": [], "interfaces": [], "ports": [], "sample": event.get("sample")}
        group["count"] += int(event["count"])
        group["first_seen"] = min(group["first_seen"], event["first_seen"])  # ISO 8601 UTC sorts as text
        group["last_seen"] = max(group["last_seen"], event["last_seen"])
        _add(group["routers"], event["router"])
        _add(group["interfaces"], event.get("interface"))
        for port in event.get("ports") or ():
            _add(group["ports"], port)
        if event.get("peer_as") is not None:
            group["peer_as"] = event["peer_as"]
    for group in groups.values():
        group["routers"].sort()
        group["interfaces"].sort()
        group["ports"].sort()
    return sorted(groups.values(), key=lambda g: (-g["count"], g["address"], g["kind"]))


def _add(values, value):
    if value is not None and value not in values:
        values.append(value)


def as_csv(summary):
    """CSV text with a header; list fields joined with spaces."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in summary:
        writer.writerow([" ".join(str(v) for v in group.get(c) or ()) if isinstance(group.get(c), list)
                         else ("" if group.get(c) is None else group.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def as_table(summary):
    """Fixed-width lines for a terminal: address, kind, count, first/last seen, routers."""
    header = ("ADDRESS", "KIND", "COUNT", "FIRST SEEN", "LAST SEEN", "ROUTERS")
    rows = [(g["address"], g["kind"], str(g["count"]), g["first_seen"], g["last_seen"], ",".join(g["routers"]))
            for g in summary]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header] + rows]
    if not rows:
        lines.append("(nobody knocked)")
    return lines


def peers_table(peers):
    """resolve_peers' groups as text: a line per network with whom to write to, then its addresses."""
    lines = []
    for group in peers:
        title = "AS%s %s" % (group["asn"], group["name"]) if group["asn"] is not None else "Unknown networks"
        contacts = ", ".join(group.get("contacts") or ())
        reach = " (%s: %s)" % (group["contact_role"], contacts) if contacts else (" (no contact)" if group["asn"] else "")
        lines.append("%s%s" % (title, reach))
        for record in group["addresses"]:
            kinds = ", ".join("%s x%d" % (kind, count) for kind, count in sorted(record["kinds"].items()))
            where = record.get("exchange") or "-"
            lines.append("  %s  %s  %s  %s" % (record["address"], kinds, where, ",".join(record["routers"])))
    return lines or ["(nobody knocked)"]


NOT_UNDERSTOOD_COLUMNS = ("router", "source", "count", "sample")
_SAMPLE_WIDTH = 160


def not_understood(scans):
    """What the scans saw but could not read, per router and source, most first.

    `scans`: {router: its log_events result} (routers that could not be read left out). Each entry:
    router, source (file or command), count, samples (up to five lines as they were).
    """
    if not isinstance(scans, dict):
        raise TypeError("expected {router: log_events result}, got %s" % type(scans).__name__)
    entries = []
    for router, result in scans.items():
        if not isinstance(result, dict) or "stats" not in result:
            raise TypeError("the scan of %s is not a log_events result: %r" % (router, result))
        per_source = [source for source in result.get("sources") or () if source.get("not_understood")]
        for source in per_source:
            entries.append({"router": router, "source": source.get("name"), "count": int(source["not_understood"]),
                            "samples": list(source.get("not_understood_samples") or ())})
        stats = result["stats"]
        if not per_source and stats.get("not_understood"):  # a result without counts per source
            entries.append({"router": router, "source": None, "count": int(stats["not_understood"]),
                            "samples": list(stats.get("not_understood_samples") or ())})
    return sorted(entries, key=lambda e: (-e["count"], e["router"], e["source"] or ""))


def not_understood_csv(entries):
    """CSV text with a header: one line per sample (router, source, count of the source, sample)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NOT_UNDERSTOOD_COLUMNS)
    for entry in _entries(entries):
        for sample in entry["samples"] or [""]:
            writer.writerow([entry["router"], entry["source"] or "", entry["count"], sample])
    return out.getvalue()


def not_understood_table(entries):
    """Lines for a terminal: the total, then each router and source with its count and samples."""
    entries = _entries(entries)
    total = sum(entry["count"] for entry in entries)
    if not total:
        return ["Not understood: none (every line with a watched message was read)"]
    lines = ["NOT UNDERSTOOD: %d line%s with a watched message could not be read (docs/log_events.md says what "
             "to do):" % (total, "" if total == 1 else "s")]
    for entry in entries:
        lines.append("  %s  %s  %d" % (entry["router"], entry["source"] or "-", entry["count"]))
        for sample in entry["samples"]:
            lines.append("    " + (sample if len(sample) <= _SAMPLE_WIDTH else sample[:_SAMPLE_WIDTH - 3] + "..."))
    return lines


def _entries(entries):
    if not isinstance(entries, (list, tuple)) or any(
            not isinstance(entry, dict) or not {"router", "count", "samples"} <= set(entry) for entry in entries):
        raise TypeError("expected the list that peerwarden.bgp.not_understood returns, got %r" % (entries,))
    return entries

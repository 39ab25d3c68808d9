"""The report filters: grouping across routers, CSV that survives commas and quotes, the table."""

import csv
import io

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.peerwarden.bgp.plugins.filter.knocks import FilterModule
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_report import (
    as_csv,
    as_table,
    not_understood,
    not_understood_csv,
    not_understood_table,
    summarize,
)


def event(
    router,
    address,
    kind="unconfigured_neighbor",
    count=1,
    first="2026-11-20T01:00:00Z",
    last="2026-11-20T02:00:00Z",
    **more,
):
    record = {
        "router": router,
        "address": address,
        "kind": kind,
        "count": count,
        "first_seen": first,
        "last_seen": last,
        "interface": None,
        "ports": [],
        "sample": 'line, with "quotes"',
    }
    record.update(more)
    return record


def test_groups_across_routers():
    summary = summarize(
        [
            event("r2", "192.0.2.1", count=2, first="2026-11-19T00:00:00Z", ports=[40000], interface="et-0/0/0.100"),
            event("r1", "192.0.2.1", count=3, last="2026-11-21T00:00:00Z", ports=[40001, 40000]),
            event("r1", "192.0.2.1", kind="md5_mismatch"),
            event("r1", "2001:db8::9", count=9, kind="peer_as_mismatch", peer_as=64512),
        ]
    )
    assert [(g["address"], g["kind"], g["count"]) for g in summary] == [
        ("2001:db8::9", "peer_as_mismatch", 9),
        ("192.0.2.1", "unconfigured_neighbor", 5),
        ("192.0.2.1", "md5_mismatch", 1),
    ]
    grouped = summary[1]
    assert grouped["routers"] == ["r1", "r2"]
    assert grouped["first_seen"] == "2026-11-19T00:00:00Z" and grouped["last_seen"] == "2026-11-21T00:00:00Z"
    assert grouped["ports"] == [40000, 40001] and grouped["interfaces"] == ["et-0/0/0.100"]
    assert summary[0]["peer_as"] == 64512


def test_csv_round_trips():
    summary = summarize([event("r1", "192.0.2.1", ports=[1, 2]), event("r2", "192.0.2.1")])
    rows = list(csv.DictReader(io.StringIO(as_csv(summary))))
    assert rows == [
        {
            "address": "192.0.2.1",
            "kind": "unconfigured_neighbor",
            "count": "2",
            "first_seen": "2026-11-20T01:00:00Z",
            "last_seen": "2026-11-20T02:00:00Z",
            "routers": "r1 r2",
            "interfaces": "",
            "ports": "1 2",
            "peer_as": "",
            "sample": 'line, with "quotes"',
        }
    ]


def test_table():
    lines = as_table(summarize([event("r1", "192.0.2.1")]))
    assert lines[0].split() == ["ADDRESS", "KIND", "COUNT", "FIRST", "SEEN", "LAST", "SEEN", "ROUTERS"]
    assert lines[1].split() == [
        "192.0.2.1",
        "unconfigured_neighbor",
        "1",
        "2026-11-20T01:00:00Z",
        "2026-11-20T02:00:00Z",
        "r1",
    ]
    assert as_table([])[-1] == "(nobody knocked)"


def test_filters_name_themselves_in_errors():
    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="peerwarden.bgp.summarize_knocks: expected the list"):
        filters["summarize_knocks"]("not a list")
    with pytest.raises(AnsibleFilterError, match=r"summarize_knocks: event 0 is not a log_events event"):
        filters["summarize_knocks"]([{"address": "192.0.2.1"}])


def test_notifications_csv():
    result = {
        "sent": [
            {
                "asn": 64500,
                "name": "Example Net",
                "to": ["a@example.net", "b@example.net"],
                "message_id": "<pw.1@x>",
                "reason": "sent",
            }
        ],
        "failed_messages": [{"asn": 64501, "name": "Other, Inc.", "reason": "554 spam", "permanent": True}],
        "skipped_peers": [{"asn": None, "name": "unknown", "address": "192.0.2.9", "reason": "no source"}],
        "resolved": [{"asn": 64502, "exchange": "Example-IX", "last_seen": "2026-11-01T00:00:00Z"}],
    }
    rows = list(csv.reader(io.StringIO(FilterModule().filters()["notifications_csv"](result))))
    assert rows == [
        ["outcome", "asn", "name", "to", "message_id", "reason"],
        ["sent", "64500", "Example Net", "a@example.net b@example.net", "<pw.1@x>", "sent"],
        ["failed", "64501", "Other, Inc.", "", "", "554 spam"],
        ["skipped", "192.0.2.9", "unknown", "", "", "no source"],
        ["resolved", "64502", "Example-IX", "", "", ""],
    ]
    with pytest.raises(AnsibleFilterError, match="notifications_csv: expected the result"):
        FilterModule().filters()["notifications_csv"]([])


# --- what was not understood -------------------------------------------------------------------


def scan_result(*sources, stats_count=None):
    total = sum(source.get("not_understood", 0) for source in sources)
    return {
        "events": [],
        "sources": list(sources),
        "stats": {"not_understood": total if stats_count is None else stats_count, "not_understood_samples": []},
    }


def test_not_understood_per_router_and_source_most_first():
    scans = {
        "r1": scan_result(
            {"name": "/var/log/a.log", "not_understood": 2, "not_understood_samples": ["x, 1", 'y "q"']},
            {"name": "/var/log/b.log", "not_understood": 0, "not_understood_samples": []},
        ),
        "r2": scan_result({"name": "show logging", "not_understood": 7, "not_understood_samples": ["z" * 300]}),
        "r3": scan_result({"name": "show log messages", "not_understood": 0, "not_understood_samples": []}),
    }
    entries = not_understood(scans)
    assert [(e["router"], e["source"], e["count"]) for e in entries] == [
        ("r2", "show logging", 7),
        ("r1", "/var/log/a.log", 2),
    ]
    rows = list(csv.reader(io.StringIO(not_understood_csv(entries))))
    assert rows == [
        ["router", "source", "count", "sample"],
        ["r2", "show logging", "7", "z" * 300],
        ["r1", "/var/log/a.log", "2", "x, 1"],
        ["r1", "/var/log/a.log", "2", 'y "q"'],
    ]
    table = not_understood_table(entries)
    assert table[0].startswith("NOT UNDERSTOOD: 9 lines with a watched message could not be read")
    assert "  r2  show logging  7" in table and "    " + "z" * 157 + "..." in table


def test_not_understood_from_a_result_without_counts_per_source():
    result = scan_result({"name": "/var/log/a.log", "lines_read": 3}, stats_count=1)
    result["stats"]["not_understood_samples"] = ["cut"]
    assert not_understood({"r1": result}) == [{"router": "r1", "source": None, "count": 1, "samples": ["cut"]}]


def test_nothing_not_understood_is_said_too():
    assert not_understood({}) == []
    assert not_understood_table([]) == ["Not understood: none (every line with a watched message was read)"]
    assert not_understood_csv([]) == "router,source,count,sample\n"


def test_not_understood_filters_name_themselves_on_bad_input():
    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="peerwarden.bgp.not_understood: expected"):
        filters["not_understood"](["not", "a", "dict"])
    with pytest.raises(AnsibleFilterError, match="peerwarden.bgp.not_understood: the scan of r1"):
        filters["not_understood"]({"r1": "failed"})
    with pytest.raises(AnsibleFilterError, match="peerwarden.bgp.not_understood_table: expected"):
        filters["not_understood_table"]([{"router": "r1"}])

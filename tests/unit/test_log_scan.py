"""The streaming scan: aggregation per (router, address, kind), selection, repeats, chunk edges, stats."""

import io
from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs import scan as log_scan
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection

REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
JUNOS = (
    "Nov 2{d} 0{h}:00:00  edge1 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: {a}+{p}"
)
BIRD = "2026-11-2{d} 0{h}:00:00.000 <WARN> BGP: Unexpected connect from unknown address {a} (port {p})"
NOISE = "Nov 21 00:00:00  edge1 mib2d[1260]: SNMP_TRAP_LINK_DOWN: ifIndex 745 subtype 179"


def scan(text, selection=None, router=None, platform="auto"):
    scanner = LogScanner(selection or Selection(), UTC, platform)
    scanner.scan_stream(io.BytesIO(text.encode()), REF, router=router, fallback_router="loghost")
    return scanner.events(REF), scanner.stats


def test_aggregates_per_router_address_kind():
    text = (
        "\n".join(
            [
                JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001),
                NOISE,
                JUNOS.format(d=1, h=3, a="192.0.2.55", p=50002),
                JUNOS.format(d=0, h=2, a="192.0.2.55", p=50003),  # earlier, later in the file
                JUNOS.format(d=1, h=4, a="2001:db8::55", p=50004),
            ]
        )
        + "\n"
    )
    events, stats = scan(text)
    assert [(e["router"], e["address"], e["count"]) for e in events] == [
        ("edge1", "192.0.2.55", 3),
        ("edge1", "2001:db8::55", 1),
    ]
    first = events[0]
    assert first["first_seen"] == "2026-11-20T02:00:00Z" and first["last_seen"] == "2026-11-21T03:00:00Z"
    assert first["ports"] == [50001, 50002, 50003]
    assert first["kind"] == "unconfigured_neighbor" and first["platform"] == "junos"
    assert first["sample"] == JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001)
    assert stats["lines_read"] == 5
    assert stats["matched"]["unconfigured_neighbor"] == 4


def test_router_name_comes_from_the_option_then_the_syslog_header_then_the_fallback():
    text = JUNOS.format(d=1, h=1, a="192.0.2.1", p=1) + "\n" + BIRD.format(d=1, h=1, a="192.0.2.2", p=2) + "\n"
    events = scan(text)[0]
    assert {(e["router"], e["address"]) for e in events} == {("edge1", "192.0.2.1"), ("loghost", "192.0.2.2")}
    events = scan(text, router="r9")[0]
    assert {e["router"] for e in events} == {"r9"}


def test_bsd_and_rsyslog_repeats_are_counted():
    text = (
        "\n".join(
            [
                JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001),
                "Nov 21 01:00:05  edge1 last message repeated 4 times",
                NOISE,
                "Nov 21 01:00:09  edge1 last message repeated 9 times",  # repeats the noise: not ours
                "Nov 21 05:00:00 rs1 bird[77]: message repeated 6 times: [ BGP: Unexpected connect from unknown "
                "address 198.51.100.4 (port 4000)]",
            ]
        )
        + "\n"
    )
    events = scan(text)[0]
    counts = {e["address"]: e["count"] for e in events}
    assert counts == {"192.0.2.55": 5, "198.51.100.4": 6}


def test_chunk_boundaries_lose_nothing(monkeypatch):
    monkeypatch.setattr(log_scan, "CHUNK_SIZE", 37)  # cuts through lines, keywords and repeats
    lines = []
    for i in range(50):
        lines.append(JUNOS.format(d=1, h=i % 10, a="192.0.2.%d" % (i % 7), p=40000 + i))
        if i % 5 == 0:
            lines.append("Nov 21 01:00:05  edge1 last message repeated 2 times")
        lines.append(NOISE)
        if i % 3 == 0:
            lines.append("Nov 21 01:00:05  edge1 last message repeated 5 times")  # repeats the noise
    events, stats = scan("\n".join(lines))  # and no newline at the end
    assert sum(e["count"] for e in events) == 50 + 10 * 2
    assert stats["lines_read"] == len(lines)


def test_selection_since_lans_exclusions_and_kinds():
    text = (
        "\n".join(
            [
                BIRD.format(d=1, h=1, a="192.0.2.1", p=1),
                BIRD.format(d=0, h=1, a="192.0.2.2", p=1),  # before since
                BIRD.format(d=1, h=1, a="198.51.100.3", p=1),  # outside the LAN
                BIRD.format(d=1, h=1, a="192.0.2.4", p=1),  # excluded
                BIRD.format(d=1, h=1, a="2001:db8:1::5", p=1),
                "Mar  9 18:48:53  vrr2 kernel: tcp_auth_ok: Packet from 192.0.2.6:60042 wrong MD5 digest",
            ]
        )
        + "\n"
    )
    selection = Selection(
        kinds=["unconfigured_neighbor"],
        since=datetime(2026, 11, 21, tzinfo=UTC),
        peering_lans=["192.0.2.0/24", "2001:db8:1::/64"],
        exclude_addresses=["192.0.2.4"],
    )
    events, stats = scan(text, selection)
    assert [e["address"] for e in events] == ["192.0.2.1", "2001:db8:1::5"]
    assert stats["skipped"] == {
        "kind_not_selected": 0,
        "before_since": 1,
        "outside_peering_lans": 1,
        "excluded_address": 1,
    }
    # tcp_auth_ok is not searched for at all when only unconfigured_neighbor is wanted
    assert stats["matched"]["md5_mismatch"] == 0


def test_garbage_truncated_and_binary_lines_are_counted_not_fatal():
    blob = (
        b"\x00\xff\xfe garbage \x80\x81\n"
        b"Nov 21 01:00:00  edge1 rpd[1]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 19\n"
        + b"x" * 100000
        + b"BADAUTH (179)"
        + b"\n"
        + b"\xc3\x28 2026-11-21 01:00:00.000 <WARN> BGP: Unexpected connect from unknown address 192.0.2.9 (port 5)\n"
        + b"Nov 21 01:00:00  edge1 rpd[1]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 2001:db8"
    )
    scanner = LogScanner(Selection(), UTC)
    scanner.scan_stream(io.BytesIO(blob), REF)
    events = scanner.events(REF)
    assert [(e["address"], e["count"]) for e in events] == [("192.0.2.9", 1)]
    assert scanner.stats["lines_read"] == 5
    assert scanner.stats["not_understood"] == 3
    assert len(scanner.stats["not_understood_samples"]) == 3
    assert all(len(s) <= 500 for s in scanner.stats["not_understood_samples"])


def test_lines_without_time_are_kept_and_counted():
    events, stats = scan(
        "bird: BGP: Unexpected connect from unknown address 10.250.12.180 (port 60008)\n",
        Selection(since=datetime(2026, 11, 21, tzinfo=UTC)),
    )
    assert events[0]["first_seen"] == "2026-11-22T12:00:00Z"
    assert stats["without_timestamp"] == 1


def test_empty_input():
    events, stats = scan("")
    assert events == [] and stats["lines_read"] == 0


def test_bad_selection_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown kinds bogus"):
        Selection(kinds=["bogus"])
    with pytest.raises(ValueError, match="peering_lans: '192.0.2.0/33'"):
        Selection(peering_lans=["192.0.2.0/33"])


def test_last_message_repeated_moves_last_seen_not_only_the_count():
    text = (
        JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001)
        + "\nNov 21 06:30:00  edge1 last message repeated 4 times\n"
        + BIRD.format(d=1, h=2, a="192.0.2.56", p=1)
        + "\n"
    )
    events = {e["address"]: e for e in scan(text)[0]}
    junos = events["192.0.2.55"]
    assert junos["count"] == 5
    assert (junos["first_seen"], junos["last_seen"]) == ("2026-11-21T01:00:00Z", "2026-11-21T06:30:00Z")


def test_last_message_repeated_at_a_chunk_edge_moves_last_seen(monkeypatch):
    line = JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001) + "\n"
    monkeypatch.setattr(log_scan, "CHUNK_SIZE", len(line))  # the repeat line comes in the next chunk
    events = scan(line + "Nov 21 06:30:00  edge1 last message repeated 2 times\n")[0]
    assert events[0]["count"] == 3 and events[0]["last_seen"] == "2026-11-21T06:30:00Z"


def test_sightings_per_hour_for_the_report_chart():
    text = (
        "\n".join(
            [
                JUNOS.format(d=1, h=1, a="192.0.2.55", p=50001),
                "Nov 21 01:59:59  edge1 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured "
                "neighbor: 192.0.2.55+50002",
                JUNOS.format(d=1, h=3, a="192.0.2.55", p=50003),
                "Nov 21 06:30:00  edge1 last message repeated 4 times",  # counted at its own hour
                "rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.55+50004",
            ]
        )
        + "\n"
    )
    event = scan(text, router="edge1")[0][0]
    assert event["count"] == 8
    assert event["per_hour"] == {"2026-11-21T01:00:00Z": 2, "2026-11-21T03:00:00Z": 1, "2026-11-21T06:00:00Z": 4}
    assert "per_day" not in event  # the line without a time is in the count only


def test_sightings_per_day_when_an_event_spans_too_many_hours(monkeypatch):
    monkeypatch.setattr(log_scan, "MAX_HOURS", 2)
    text = "".join(JUNOS.format(d=d, h=h, a="192.0.2.55", p=1) + "\n" for d, h in ((0, 1), (0, 2), (1, 1)))
    event = scan(text)[0][0]
    assert event["per_day"] == {"2026-11-20": 2, "2026-11-21": 1} and "per_hour" not in event

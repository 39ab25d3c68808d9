"""report.html (the filter knocks_html): what the page says per network, router and address, the chart
over time, bounded tables, no markup from logs, nothing loaded or linked from anywhere, and clear errors.

The page is parsed with lxml.html (lxml comes with ncclient, a runtime requirement)."""

import re
from datetime import datetime, timedelta

import lxml.html
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.peerwarden.bgp.plugins.filter.knocks import FilterModule
from ansible_collections.peerwarden.bgp.plugins.plugin_utils import knock_timeline
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_html import report_html
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_report import summarize

XSS = '<script>document.title="owned"</script><img src=x onerror=alert(1)>'


def event(router, address, count, per_hour, kind="unconfigured_neighbor", sample="a log line", **more):
    hours = sorted(per_hour)
    record = {
        "router": router,
        "address": address,
        "kind": kind,
        "count": count,
        "first_seen": hours[0] if hours else "2026-11-20T00:00:00Z",
        "last_seen": hours[-1] if hours else "2026-11-20T00:00:00Z",
        "interface": None,
        "ports": [],
        "sample": sample,
        "per_hour": per_hour,
    }
    record.update(more)
    return record


def peer(asn, name, addresses, routers, contacts=()):
    return {
        "asn": asn,
        "name": name,
        "contacts": list(contacts),
        "contact_role": "Policy" if contacts else None,
        "count": sum(count for dummy, count, dummy2 in addresses),
        "exchanges": ["Example-IX"],
        "routers": routers,
        "first_seen": "2026-11-20T08:00:00Z",
        "last_seen": "2026-11-20T10:00:00Z",
        "addresses": [
            {"address": address, "kinds": {kind: count}, "count": count, "routers": routers}
            for address, count, kind in addresses
        ],
    }


def report(events, peers=(), not_understood=(), routers_read=None, routers_failed=None):
    return {
        "knocks": summarize(events),
        "events": events,
        "peers": list(peers),
        "not_understood": list(not_understood),
        "routers_read": sorted({e["router"] for e in events}) if routers_read is None else routers_read,
        "routers_failed": routers_failed or {},
    }


def page(data, **options):
    return lxml.html.document_fromstring(report_html(data, **options))


def rows(document, section):
    """The cell texts of each row of the table after the heading with this id."""
    table = document.xpath('//h2[@id="%s"]/following-sibling::table[1]' % section)[0]
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("td|th")] for row in table.xpath(".//tr")]


def text(document):
    return " ".join(document.text_content().split())


EVENTS = [
    event("edge1", "192.0.2.66", 7, {"2026-11-20T08:00:00Z": 5, "2026-11-20T10:00:00Z": 2}),
    event("rs1", "192.0.2.66", 2, {"2026-11-20T08:00:00Z": 2}),
    event("edge2", "2001:db8:eeee::66", 3, {"2026-11-20T09:00:00Z": 3}, kind="firewall_drop_bgp"),
    event("edge1", "192.0.2.88", 1, {"2026-11-20T10:00:00Z": 1}, kind="peer_as_mismatch", peer_as=64512),
]
PEERS = [
    peer(64500, "Example Net", [("192.0.2.66", 9, "unconfigured_neighbor")], ["edge1", "rs1"], ["peering@example.net"]),
    peer(64504, "Firewall Net", [("2001:db8:eeee::66", 3, "firewall_drop_bgp")], ["edge2"]),
    peer(None, "unknown", [("192.0.2.88", 1, "peer_as_mismatch")], ["edge1"]),
]


def test_the_page_has_the_knocks_per_network_router_and_address():
    document = page(report(EVENTS, PEERS, routers_read=["edge1", "edge2", "quiet1", "rs1"]))
    assert "13 knocks from 3 addresses, 2026-11-20T08:00:00Z to 2026-11-20T10:00:00Z (UTC); 4 routers read" in (
        text(document)
    )
    networks = rows(document, "networks")
    assert networks[0][0] == "Network"
    assert [row[:4] for row in networks[1:]] == [
        ["AS64500 Example Net", "9", "unconfigured_neighbor 9", "192.0.2.66"],
        ["AS64504 Firewall Net", "3", "firewall_drop_bgp 3", "2001:db8:eeee::66"],
        ["not named (in no IX-F export or PeeringDB)", "1", "peer_as_mismatch 1", "192.0.2.88"],
    ]
    assert networks[1][6] == "Policy: peering@example.net" and networks[2][6] == "no contact"
    assert [row[:4] for row in rows(document, "routers")[1:]] == [
        ["edge1", "8", "2", "unconfigured_neighbor 7, peer_as_mismatch 1"],
        ["edge2", "3", "1", "firewall_drop_bgp 3"],
        ["rs1", "2", "1", "unconfigured_neighbor 2"],
        ["quiet1", "0", "0", "nothing found"],  # read, and nothing found: still listed
    ]
    addresses = rows(document, "addresses")[1:]
    assert [row[:5] for row in addresses] == [
        ["192.0.2.66", "unconfigured_neighbor", "9", "AS64500 Example Net", "edge1, rs1"],
        ["2001:db8:eeee::66", "firewall_drop_bgp", "3", "AS64504 Firewall Net", "edge2"],
        ["192.0.2.88", "peer_as_mismatch (AS64512)", "1", "not named", "edge1"],
    ]
    assert "None: every line with a watched message was read." in text(document)


def test_the_chart_has_a_bar_per_hour_with_heights_to_scale():
    document = page(report(EVENTS))
    bars = document.xpath("//svg/rect")
    assert [column.xpath("string(title)") for column in bars] == [
        "2026-11-20 %02d:00 UTC: %d" % (hour, count)
        for hour, count in [(h, 0) for h in range(8)] + [(8, 7), (9, 3), (10, 3)]
    ]
    heights = [float(column.get("height")) for column in bars]
    assert heights[8] == 140 and heights[9] == heights[10] == 60 and set(heights[:8]) == {0}
    assert "Knocks per hour (UTC), 11 bars; the highest is 7." in text(document)


@pytest.mark.parametrize(
    "span_hours, unit, bars",
    [
        (96, "hour", 96),
        (97, "3 hours", 33),
        (24 * 30, "day", 30),
        (24 * 200, "week", 29),
        (24 * 1200, "2 weeks", 86),
        (24 * 2400, "4 weeks", 86),
    ],
)
def test_the_chart_stays_bounded_over_long_spans(span_hours, unit, bars):
    first = "2026-01-01T00:00:00Z"
    last = (datetime(2026, 1, 1) + timedelta(hours=span_hours - 1)).strftime("%Y-%m-%dT%H:00:00Z")
    line = knock_timeline.timeline([event("r1", "192.0.2.1", 2, {first: 1, last: 1})])
    assert (line["unit"], len(line["bars"])) == (unit, bars)
    assert len(line["bars"]) <= knock_timeline.MAX_BARS
    assert sum(column["count"] for column in line["bars"]) == 2 and line["bars"][-1]["count"] == 1


def test_per_day_sightings_and_sightings_without_a_time():
    events = [
        event("r1", "192.0.2.1", 5, {"2026-11-20T08:00:00Z": 2}),  # 3 of 5 from lines without a time
        dict(event("r1", "192.0.2.2", 4, {}), per_hour=None, per_day={"2026-11-21": 4}),
    ]
    line = knock_timeline.timeline(events)
    assert [(column["label"], column["count"]) for column in line["bars"]] == [("2026-11-20", 2), ("2026-11-21", 4)]
    assert line["untimed"] == 3
    assert "3 knock(s) came from lines without a time and are not in the chart" in text(page(report(events)))


def test_a_log_line_with_markup_renders_as_text():
    events = [event("edge1" + XSS, "192.0.2.1", 1, {"2026-11-20T08:00:00Z": 1}, sample="rpd: " + XSS)]
    entries = [{"router": "edge1", "source": "/var/log/" + XSS, "count": 1, "samples": ["%BGP-3-X: " + XSS]}]
    html = report_html(report(events, not_understood=entries, routers_failed={"edge9": XSS}))
    document = lxml.html.document_fromstring(html)
    assert document.xpath("//script | //img | //*[@onerror]") == []
    assert "<script" not in html and "&lt;script&gt;" in html
    # the router's name (router and address tables), the sample, the source, the not understood line, the why
    assert text(document).count(XSS) == 6
    assert rows(document, "not-understood")[1] == ["edge1", "/var/log/" + XSS, "1", "%BGP-3-X: " + XSS]


def test_nothing_is_loaded_or_linked_from_anywhere():
    document = page(report(EVENTS, PEERS))
    assert document.xpath("//script | //link | //img | //iframe | //object | //embed | //@src | //@href") == []
    html = report_html(report(EVENTS, PEERS))
    assert not re.search(r"(?:src|href)\s*=|https?:|url\(", html, re.I)
    csp = document.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'"]


def test_zero_knocks_says_so():
    document = page(report([], routers_read=["edge1"]))
    body = text(document)
    assert "Nobody knocked: no unsolicited BGP connection attempt was found (1 router read)." in body
    assert "No knocks, so no chart." in body and document.xpath("//svg") == []
    assert rows(document, "routers")[1] == ["edge1", "0", "0", "nothing found", "", ""]


def test_knocks_without_ixp_data_say_the_networks_were_not_named():
    body = text(page(report(EVENTS)))
    assert "The networks were not named: no IX-F export or PeeringDB was given" in body


def test_many_knocks_are_bounded_with_and_k_more():
    events = [
        event("r%03d" % (n % 40), "10.0.%d.%d" % (n // 250, n % 250), n + 1, {"2026-11-20T08:00:00Z": n + 1})
        for n in range(300)
    ]
    peers = [
        peer(64600 + n, "Net %d" % n, [("10.0.0.%d" % n, n + 1, "unconfigured_neighbor")], ["r1"]) for n in range(60)
    ]
    peers.sort(key=lambda group: -group["count"])
    entries = [{"router": "r%d" % n, "source": "log", "count": 30 - n, "samples": ["x"]} for n in range(30)]
    document = page(report(events, peers, entries, routers_failed={"down%d" % n: "timeout" for n in range(12)}), top=10)
    addresses = rows(document, "addresses")
    assert len(addresses) == 1 + 10 + 1
    assert addresses[1][:3] == ["10.0.1.49", "unconfigured_neighbor", "300"]
    rest = sum(range(1, 291))  # the 290 smallest counts are 1..290
    assert addresses[-1] == ["and 290 more addresses and kinds (%d knocks)" % rest]
    assert rows(document, "networks")[-1] == ["and 50 more networks (%d knocks)" % sum(range(1, 51))]
    per_router = {"r%03d" % r: sum(n + 1 for n in range(r, 300, 40)) for r in range(40)}
    ranked = sorted(per_router.items(), key=lambda item: (-item[1], item[0]))
    assert [row[:2] for row in rows(document, "routers")[1:11]] == [[name, str(count)] for name, count in ranked[:10]]
    assert rows(document, "routers")[-1] == ["and 30 more routers (%d knocks)" % sum(c for dummy, c in ranked[10:])]
    assert rows(document, "not-understood")[-1] == ["and 20 more sources (%d lines)" % sum(range(1, 21))]
    assert "12 router(s) could not be read" in text(document)
    bars = document.xpath("//svg/rect")  # from midnight to 08:00, all at 08:00
    assert len(bars) == 9 and bars[-1].xpath("string(title)") == "2026-11-20 08:00 UTC: %d" % sum(range(1, 301))


def test_bad_input_is_refused_by_name():
    knocks_html = FilterModule().filters()["knocks_html"]
    with pytest.raises(AnsibleFilterError, match="knocks_html: .*not known: knock"):
        knocks_html(dict(report(EVENTS), knock=[]))
    with pytest.raises(AnsibleFilterError, match="knocks_html: .*missing: events"):
        knocks_html({"knocks": [], "not_understood": []})
    for top in (0, "ten", 2.5, True):
        with pytest.raises(AnsibleFilterError, match="top must be a whole number"):
            knocks_html(report(EVENTS), top=top)
    assert len(rows(lxml.html.document_fromstring(knocks_html(report(EVENTS), top="1")), "addresses")) == 1 + 1 + 1
    with pytest.raises(AnsibleFilterError, match="knocks_html: expected the report dict"):
        knocks_html([])
    with pytest.raises(AnsibleFilterError, match="event 0: 'yesterday' is not a time"):
        knocks_html(report([event("r1", "192.0.2.1", 1, {"yesterday": 1})]))

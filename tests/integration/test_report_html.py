"""report.html as a browser shows it: `make demo`'s scan (plus one router whose log has lines the scan
cannot read) writes report.html, headless Chromium renders it, and the rendered page has the demo's
networks, routers and counts (checked against knocks.json of the same run), the chart, and the lines
not understood, as text: a log line with markup runs nothing. The screenshot's path is printed."""

import json
import os
import re

import lxml.html
import yaml

from lab.browser import render, require_chromium
from playbook_runner import ROOT, run_playbook

DEMO = os.path.join(ROOT, "demo")
# Not understood on purpose. The first is a real JunOS line whose address its publisher redacted
# (StephenWakely/syslog-loose tests/tests.rs, fn logical_system_juniper_routers; also in
# tests/unit/fixtures/log_samples.txt); the second is a BIRD line shaped by whoever can send it a packet.
REDACTED = (
    "<28>1 2020-05-22T14:59:09.250-03:00 OX-XXX-MX204 OX-XXX-CONTEUDO:rpd 6589 - - bgp_listen_accept: "
    "%DAEMON-4: Connection attempt from unconfigured neighbor: 2001:XXX::219:166+57284"
)
MARKUP = (
    "Nov 21 07:10:00 rs2 bird[77]: BGP: Unexpected connect from unknown address "
    '<script>document.title="owned";document.body.innerHTML=""</script> (port 1)'
)


def demo_inventory(tmp_path):
    """The demo's inventory, its paths made absolute, with a router edge3 whose log the scan cannot read."""
    with open(os.path.join(DEMO, "inventory.yml"), encoding="utf-8") as handle:
        text = handle.read().replace("{{ inventory_dir }}", DEMO)
    inventory = yaml.safe_load(text)
    log = tmp_path / "edge3.log"
    log.write_text(REDACTED + "\n" + MARKUP + "\n", encoding="utf-8")
    inventory["all"]["children"]["routers"]["hosts"]["edge3"] = {"peerwarden_log_paths": [str(log)]}
    return inventory


def cells(document, section):
    table = document.xpath('//h2[@id="%s"]/following-sibling::table[1]' % section)[0]
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("td")] for row in table.xpath(".//tr")[1:]]


def test_report_html_renders_in_chromium_with_the_demo_knocks(tmp_path):
    require_chromium()
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", demo_inventory(tmp_path), str(tmp_path))
    assert code == 0, output
    page = tmp_path / "report" / "report.html"
    assert "/report.html" in output  # the printed summary names it
    screenshot = tmp_path / "report.png"
    dom = render(page, screenshot)
    print("report.html screenshot: %s" % screenshot)
    with open(screenshot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20000  # a page with tables and a chart, not a blank one

    document = lxml.html.document_fromstring(dom)
    assert document.xpath("string(//title)") == "peerwarden: who knocks on TCP/179"  # the sample's script did not run
    assert document.xpath("//body//script") == []
    text = " ".join(document.text_content().split())

    total = sum(k["count"] for k in report["knocks"])
    assert total == 19  # the demo's knocks (tests/integration/test_demo.py has them one by one)
    assert "%d knocks from 8 addresses" % total in text and "4 routers read" in text

    networks = {row[0]: row[1] for row in cells(document, "networks")}
    assert networks == {
        ("AS%s %s" % (g["asn"], g["name"]) if g["asn"] else "not named (in no IX-F export or PeeringDB)"): str(
            g["count"]
        )
        for g in report["peers"]
    }
    assert networks["AS64500 Example Net"] == "10" and networks["AS64504 Firewall Net"] == "4"

    per_router = {}
    for event in report["events"]:
        per_router[event["router"]] = per_router.get(event["router"], 0) + event["count"]
    assert per_router == {"edge1": 13, "edge2": 4, "rs1": 2}
    routers = {row[0]: (row[1], row[3]) for row in cells(document, "routers")}
    assert {name: int(count) for name, (count, dummy) in routers.items()} == dict(per_router, edge3=0)
    assert routers["edge3"][1] == "nothing found"

    addresses = {(row[0], row[1].split(" ")[0]): row[2] for row in cells(document, "addresses")}
    assert addresses == {(k["address"], k["kind"]): str(k["count"]) for k in report["knocks"]}

    bars = [title.text_content() for title in document.xpath("//svg/rect/title")]
    assert sum(int(re.search(r": (\d+)$", column).group(1)) for column in bars) == total  # every demo line has a time
    assert bars[0].startswith("2026-11-20 ") and "Knocks per hour (UTC)" in text

    not_understood = cells(document, "not-understood")
    assert [row[:3] for row in not_understood] == [["edge3", str(tmp_path / "edge3.log"), "2"]]
    assert [
        " ".join(pre.text_content().split())
        for pre in document.xpath('//h2[@id="not-understood"]/following-sibling::table[1]//pre')
    ] == [
        " ".join(REDACTED.split()),
        " ".join(MARKUP.split()),
    ]
    assert "2 line(s) with a watched message were not understood" in text
    assert json.dumps(report["not_understood"][0]["samples"]) == json.dumps([REDACTED, MARKUP])

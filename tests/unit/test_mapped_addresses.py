"""IPv4-mapped IPv6 (::ffff:a.b.c.d) in log lines: every real sample finding with an IPv4 address,
its address written as a dual-stack socket logs it, gives the same finding under the IPv4 form
(patterns.finding() passes every address through common.addresses.address_and_zone)."""

import io
import re

import pytest
from unit.test_log_samples import ENTRIES, REF

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import Finding, classify
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection

V4_FINDINGS = [e for e in ENTRIES if "kind" in e and ":" not in e["address"]]


def mapped(entry):
    """The line with the finding's address (not a router's or our own) written ::ffff:a.b.c.d."""
    address = re.escape(entry["address"])
    return re.sub(r"(?<![\d.:])%s(?![\d])" % address, "::ffff:" + entry["address"], entry["line"])


@pytest.mark.parametrize("entry", V4_FINDINGS, ids=lambda e: e["line"][:60])
def test_a_mapped_address_in_a_sample_finding_is_the_ipv4_address(entry):
    line = mapped(entry)
    assert line != entry["line"]
    result = classify(line)
    finding = result[0] if result else None
    assert isinstance(finding, Finding), line
    assert (finding.kind, finding.address, finding.port) == (entry["kind"], entry["address"], entry["port"])
    scanner = LogScanner(Selection(), UTC)
    scanner.scan_stream(io.BytesIO(line.encode("utf-8") + b"\n"), REF, fallback_router="LOGHOST")
    assert [e["address"] for e in scanner.events(REF)] == [entry["address"]]


def test_every_message_class_is_among_the_mapped_samples():
    kinds = set()
    for entry in V4_FINDINGS:
        result = classify(mapped(entry))
        if result and isinstance(result[0], Finding) and result[0].address == entry["address"]:
            kinds.add(entry["kind"])
    assert (
        kinds
        == {e["kind"] for e in V4_FINDINGS}
        >= {
            "unconfigured_neighbor",
            "md5_mismatch",
            "peer_as_mismatch",
            "firewall_drop_bgp",
            "md5_unexpected",
        }
    )

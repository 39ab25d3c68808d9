"""The real sample lines of log_samples.txt, each classified as log_samples_expected.yml says.

The rule: every sample line is listed in the expected file, either as a finding (kind, address,
port, interface, peer AS, and the router its header names) or as a known non-finding (no watched
message, not BGP, not understood). A line in neither fails the test: no silent fall-through.
"""

import io
import os
from datetime import datetime

import pytest
import yaml

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import NOT_BGP, Finding, classify
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection

HERE = os.path.join(os.path.dirname(__file__), "fixtures")
REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NON_FINDINGS = ("no_message", "not_bgp", "not_understood")
FINDING_KEYS = {"line", "kind", "address", "port", "interface", "peer_as", "router", "local"}


def sample_lines():
    with open(os.path.join(HERE, "log_samples.txt"), encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            yield number, line[len("SYNTHESIZED: ") :] if line.startswith("SYNTHESIZED: ") else line


with open(os.path.join(HERE, "log_samples_expected.yml"), encoding="utf-8") as _handle:
    ENTRIES = yaml.safe_load(_handle)
EXPECTED = {item["line"]: item for item in ENTRIES}
SAMPLES = list(sample_lines())


def test_the_expected_file_lists_every_sample_line_once_and_nothing_else():
    lines = {line for number, line in SAMPLES}
    unlisted = ["%d: %s" % (number, line) for number, line in SAMPLES if line not in EXPECTED]
    assert not unlisted, "add these lines to log_samples_expected.yml as a finding or a non-finding:\n" + "\n".join(
        unlisted
    )
    assert len(ENTRIES) == len(EXPECTED), "a line is listed twice in log_samples_expected.yml"
    assert set(EXPECTED) <= lines, "log_samples_expected.yml lists lines that are not samples"


def test_every_entry_is_a_finding_or_a_known_non_finding():
    for entry in ENTRIES:
        if "none" in entry:
            assert set(entry) == {"line", "none"} and entry["none"] in NON_FINDINGS, entry
        else:
            assert {"line", "kind", "address", "port", "router"} <= set(entry) <= FINDING_KEYS, entry


def test_the_samples_hold_real_findings_of_every_kind_in_both_families():
    findings = [entry for entry in ENTRIES if "kind" in entry]
    assert len(findings) == 43
    families = {(entry["kind"], ":" in entry["address"]) for entry in findings}
    assert families >= {
        ("unconfigured_neighbor", False),
        ("unconfigured_neighbor", True),
        ("md5_mismatch", False),
        ("md5_mismatch", True),
        ("firewall_drop_bgp", False),
        ("firewall_drop_bgp", True),
        ("peer_as_mismatch", False),
        ("peer_as_mismatch", True),
        ("md5_unexpected", False),
    }


@pytest.mark.parametrize("number,line", SAMPLES, ids=lambda v: str(v) if isinstance(v, int) else "")
def test_sample_line(number, line):
    expected = EXPECTED.get(line)
    if expected is None:
        pytest.fail("line %d is not in log_samples_expected.yml: %s" % (number, line))
    result = classify(line)
    finding = result[0] if result else None
    if "none" in expected:
        actual = "no_message" if result is None else "not_bgp" if finding is NOT_BGP else "not_understood"
        assert not isinstance(finding, Finding), "line %d must not be a finding: %s" % (number, line)
        assert actual == expected["none"], "line %d: %s" % (number, line)
        return
    assert isinstance(finding, Finding), "line %d must be a %s finding" % (number, expected["kind"])
    assert finding.kind == expected["kind"]
    assert finding.address == expected["address"]
    assert finding.port == expected["port"]
    assert finding.interface == expected.get("interface")
    assert finding.peer_as == expected.get("peer_as")
    assert finding.local == expected.get("local")


@pytest.mark.parametrize("entry", [e for e in ENTRIES if "kind" in e], ids=lambda e: e["address"])
def test_sample_finding_read_from_a_log_hosts_file_is_filed_under_its_router(entry):
    scanner = LogScanner(Selection(), UTC)
    scanner.scan_stream(io.BytesIO(entry["line"].encode("utf-8") + b"\n"), REF, fallback_router="LOGHOST")
    events = scanner.events(REF)
    assert [(e["kind"], e["address"]) for e in events] == [(entry["kind"], entry["address"])]
    assert events[0]["router"] == (entry["router"] or "LOGHOST")


def test_the_whole_samples_file_scanned_at_once():
    """All samples as one file: exactly the listed findings, and not_understood exactly the listed ones."""
    text = "\n".join(line for number, line in SAMPLES) + "\n"
    scanner = LogScanner(Selection(), UTC)
    scanner.scan_stream(io.BytesIO(text.encode("utf-8")), REF, fallback_router="LOGHOST")
    expected_findings = sum(1 for number, line in SAMPLES if "kind" in EXPECTED[line])
    assert sum(scanner.stats["matched"].values()) == expected_findings
    expected_not_understood = sum(1 for number, line in SAMPLES if EXPECTED[line].get("none") == "not_understood")
    assert scanner.stats["not_understood"] == expected_not_understood


def test_the_negative_samples_by_name():
    """The traps named in the samples file, spelled out so a regression says which one broke."""
    traps = [
        "Jul 14 08:00:01  juniper-vc0 chassism[1165]: IFCM: no handler for command subtype 179",
        "Feb 11 15:33:41 10.0.4.10 rpd[1402]: bgp_listen_accept: accept(0.0.0.0+179): Too many open files in system",
        "*Oct 28 06:48:06.389: %TCP-6-BADAUTH: No MD5 digest from 10.5.0.1(646) to 10.8.0.1(16178) tableid - 0",
        "<87>Jul  5 05:52:44  vmx01 rpd[1848]: bgp_read_message:2764: NOTIFICATION received from 1.2.3.4 "
        "(External AS 1234): code 6 (Cease) subcode 5 (Connection Rejected)",
        "123: May  3 05:15:25.217 UTC: %SEC-6-IPACCESSLOGP: list 199 permitted tcp 10.0.40.16(3059) -> "
        "10.0.4.101(1060), 2 packets",
        "%BGP-3-NOTIFICATION: received from neighbor 10.1.12.2 2/2 (peer in wrong AS)",
    ]
    for line in traps:
        result = classify(line)
        assert result is None or not isinstance(result[0], Finding), line

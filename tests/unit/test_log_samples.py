"""Every real sample line is classified as its group in log_samples.txt says, with the right address
and port; the [NEG] and [FRAME] lines and the quoted format strings yield nothing."""

import os

import pytest
import yaml

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import Finding, classify

HERE = os.path.join(os.path.dirname(__file__), "fixtures")


def sample_lines():
    with open(os.path.join(HERE, "log_samples.txt"), encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            yield number, line[len("SYNTHESIZED: ") :] if line.startswith("SYNTHESIZED: ") else line


with open(os.path.join(HERE, "log_samples_expected.yml"), encoding="utf-8") as _handle:
    EXPECTED = {item["line"]: item for item in yaml.safe_load(_handle)}


def test_every_expected_line_is_in_the_samples():
    lines = {line for number, line in sample_lines()}
    assert set(EXPECTED) <= lines
    assert len(EXPECTED) == 29


@pytest.mark.parametrize("number,line", list(sample_lines()), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_sample_line(number, line):
    result = classify(line)
    finding = result[0] if result else None
    expected = EXPECTED.get(line)
    if expected is None:
        assert not isinstance(finding, Finding), "line %d must not be a finding: %s" % (number, line)
        return
    assert isinstance(finding, Finding), "line %d must be a %s finding" % (number, expected["kind"])
    assert finding.kind == expected["kind"]
    assert finding.address == expected["address"]
    assert finding.port == expected["port"]
    assert finding.interface == expected.get("interface")
    assert finding.peer_as == expected.get("peer_as")


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
    ]
    for line in traps:
        result = classify(line)
        assert result is None or not isinstance(result[0], Finding), line

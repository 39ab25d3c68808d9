"""Property tests (hypothesis): the replay readers and the conversion never raise on arbitrary or
mutated files; whatever they cannot read is counted in the findings or reported as truncation."""

import io
import json
import os
import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peerwarden_runner.codec import NegotiatedContext
from peerwarden_runner.codec import constants as c
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.json_read import read_json_lines
from peerwarden_runner.replay.mrt_read import read_mrt
from peerwarden_runner.replay.updates import ReplayUpdates

FIXTURES = os.path.join(os.path.dirname(__file__), "mrt_fixtures")
SESSION = NegotiatedContext(families=frozenset({c.IPV4_UNICAST, c.IPV6_UNICAST}))
SAMPLES = {}
for name in ("quagga_bgp", "quagga_rib", "bird6-mrtdump_rib", "openbgpd_rib_table-v2"):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        SAMPLES[name] = handle.read()


def replay_all(read, data):
    """Read and convert every record, for every sender the file names; the findings."""
    findings = Findings()
    read_records = list(read(io.BytesIO(data), findings))
    for sender in {record.sender for record in read_records}:
        updates = ReplayUpdates(sender, SESSION, "127.0.0.23", 65020, True, "self", findings)
        for dummy in updates.batches(iter(read_records)):
            pass
    return read_records, findings


def record_ends(data):
    """The offsets where an MRT record of `data` ends, as its headers' length fields say (0 included)."""
    position, ends = 0, {0}
    while position + 12 <= len(data):
        position += 12 + struct.unpack_from(">I", data, position + 8)[0]
        ends.add(position)
    return ends


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_mutated_mrt_files_are_read_or_reported(name, data):
    original = bytearray(SAMPLES[name])
    for dummy in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    read_records, findings = replay_all(read_mrt, bytes(original[:cut]))
    if cut < len(original) and not read_records and cut not in record_ends(bytes(original)):
        assert findings  # a file cut inside a record says so somewhere (one cut after a peer index table is whole)
    if cut == 0:
        assert not read_records and not findings


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_octets_never_raise(data):
    replay_all(read_mrt, data)
    replay_all(read_json_lines, data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.dictionaries(
                st.sampled_from(["type", "raw", "nlri", "attributes", "direction", "time"]),
                st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.text(max_size=20), max_size=3)),
                max_size=5,
            ),
        ),
        max_size=8,
    )
)
@example([{"type": "", "raw": ""}])  # from_json gave no octets: once an IndexError, now a finding
def test_arbitrary_json_lines_never_raise(lines):
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    read_records, findings = replay_all(read_json_lines, text.encode("utf-8"))
    if lines == [{"type": "", "raw": ""}]:
        assert not read_records and findings.counts == {
            "a  record that does not encode (the BGP message has no marker)": 1
        }

"""The replay readers (peerwarden_runner.replay): real MRT files from route collectors, BIRD, Quagga
and OpenBGPD read as bgpdump reads them; the runner's own MRT and JSON-lines archives read back;
compressed, truncated and corrupt files reported with offsets."""

import bz2
import gzip
import ipaddress
import lzma
import os
import struct

import pytest

from mrt_oracle import HAVE_BGPDUMP, bgpdump_lines, our_lines
from peerwarden_runner.codec import KEEPALIVE_MESSAGE, decode_update
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.update import decode_section
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.records import MessageRecord, RibRecord, StateRecord
from peerwarden_runner.replay.source import ReplayError, records, scan
from peerwarden_runner.replay.updates import RIB_CONTEXT
from peerwarden_runner.stages.archive import ArchiveStage
from stage_helpers import announce
from test_mrt import EXPECTED_V4, run_session

FIXTURES = os.path.join(os.path.dirname(__file__), "mrt_fixtures")
SAMPLES = sorted(name for name in os.listdir(FIXTURES) if not name.endswith(".md"))
needs_bgpdump = pytest.mark.skipif(not HAVE_BGPDUMP, reason="bgpdump (Debian package) not installed")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


V4 = {TO_ROUTER: ("127.0.0.33", "127.0.0.32"), TO_PEER: ("127.0.0.32", "127.0.0.33")}


@needs_bgpdump
@pytest.mark.parametrize("name", SAMPLES)
def test_a_public_sample_reads_as_bgpdump_reads_it(name):
    path = os.path.join(FIXTURES, name)
    findings = Findings()
    ours = our_lines(path, findings)
    assert ours == bgpdump_lines(path)
    assert len(ours) > 5
    if name == "openbgpd_rib_table-v2":  # its two VPN entries: counted with their offsets, as bgpdump skips them
        assert findings.lines() == ["2 x RIB_GENERIC of AFI 1 SAFI 128 (not read) (at offsets 1953, 2053)"]
    else:
        assert not findings, findings.lines()


def test_a_route_collector_rib_dump_names_its_peers():
    found = scan(os.path.join(FIXTURES, "bview.64k_stream_overflow.gz"))
    assert found.format == "mrt" and found.records == 23 and sum(found.senders.values()) == 23
    assert found.senders["193.0.0.56"] == 1 and len(found.senders) == 23
    with pytest.raises(ReplayError, match=r"routes from 23 senders: .*choose one"):
        found.choose()
    assert found.choose("193.0.0.56") == "193.0.0.56"
    with pytest.raises(ReplayError, match=r"no routes from 192.0.2.99 \(senders with routes: "):
        found.choose("192.0.2.99")


def test_rib_entries_carry_the_next_hop_of_the_abbreviated_mp_reach():
    rib = [r for r in records(os.path.join(FIXTURES, "bview.64k_stream_overflow.gz"), Findings())]
    first = rib[0]
    assert isinstance(first, RibRecord) and first.sender == "193.0.0.56" and first.sender_as == 3333
    assert str(first.prefix) == "2001:579:1040::/46"
    assert first.next_hop == ipaddress.IPv6Address("::ffff:193.0.0.56")  # as bgpdump prints it
    attributes = decode_section(first.attributes, RIB_CONTEXT)
    assert c.MP_REACH_NLRI not in attributes and str(attributes[c.AS_PATH].value) == "3333 2914 22773"


@needs_bgpdump
@pytest.mark.parametrize("compress", [False, True])
def test_the_runners_own_mrt_archive_reads_as_bgpdump_reads_it(tmp_path, compress):
    run_session(tmp_path, V4, compress=compress)
    (name,) = os.listdir(tmp_path)
    path = tmp_path / name
    findings = Findings()
    ours = our_lines(path, findings)
    assert ours == bgpdump_lines(path) and not findings
    assert len(ours) == len(EXPECTED_V4)
    found = scan(path)
    assert dict(found.senders) == {"127.0.0.33": 2, "127.0.0.32": 1}  # the IPv4 and IPv6 UPDATEs, the withdrawal


def test_the_runners_own_records_in_detail(tmp_path):
    run_session(tmp_path, V4)
    (name,) = os.listdir(tmp_path)
    read = list(records(tmp_path / name, Findings()))
    kinds = [type(record).__name__ for record in read]
    assert kinds.count("StateRecord") == 4 and kinds.count("MessageRecord") == 7
    states = [(r.sender, r.sender_as, r.old, r.new) for r in read if isinstance(r, StateRecord)]
    assert states[0] == ("127.0.0.33", 4200000001, 5, 6)
    update = next(r for r in read if isinstance(r, MessageRecord) and r.message[18] == c.UPDATE)
    assert update.sender == "127.0.0.33" and update.ctx.four_octet_as
    assert [str(p) for p in decode_update(update.message, update.ctx).announced()] == ["10.0.0.0/8", "10.1.0.0/16"]
    assert read[0].offset == 0 and read[1].offset > 0 and read[0].time > 1.7e9


def json_archive(directory):
    """A proxied session through the JSON-lines archive stage."""
    from stage_helpers import open_session

    stage = ArchiveStage(str(directory), compress=False, session_name="edge1")
    pipeline = Pipeline({}, [stage])
    state = open_session(pipeline, peer_as=4200000001, router_as=65000, endpoints=V4)
    pipeline.process(state, TO_ROUTER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
    pipeline.process(state, TO_PEER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.0.0/8"], path=(4200000001, 64500)))
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["2001:db8::/32"], path=(4200000001, 64501)))
    pipeline.end_session(state)
    pipeline.close()
    (name,) = os.listdir(directory)
    return directory / name


def test_the_json_lines_archive_reads_back_with_its_directions(tmp_path):
    path = json_archive(tmp_path)
    findings = Findings()
    read = list(records(path, findings))
    assert not findings and all(isinstance(record, MessageRecord) for record in read)
    assert [r.message[18] for r in read] == [c.OPEN, c.OPEN, c.KEEPALIVE, c.KEEPALIVE, c.UPDATE, c.UPDATE]
    updates = [r for r in read if r.message[18] == c.UPDATE]
    assert {r.sender for r in updates} == {TO_ROUTER} and updates[0].ctx.four_octet_as
    assert [str(p) for p in decode_update(updates[1].message, updates[1].ctx).announced()] == ["2001:db8::/32"]
    found = scan(path)
    assert found.format == "json" and found.choose() == TO_ROUTER


def test_json_lines_not_understood_are_counted_and_a_cut_last_line_is_truncation(tmp_path):
    good = json_archive(tmp_path / "a").read_bytes()
    lines = good.splitlines(keepends=True)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(lines[0] + b"not json\n" + b'{"no": "type"}\n' + lines[1] + lines[4][:40])
    findings = Findings()
    read = list(records(damaged, findings))
    assert len(read) == 2
    offset = len(lines[0])
    assert findings.counts == {"a line that is not JSON": 1, 'a JSON line that is not a message object (no "type")': 1}
    assert findings.offsets["a line that is not JSON"] == [offset]
    cut = offset + len(b"not json\n" + b'{"no": "type"}\n') + len(lines[1])
    assert findings.truncated.startswith("truncated at offset %d: the last line is cut short" % cut)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open])
def test_compressed_files_are_told_by_their_magic_not_their_name(tmp_path, opener):
    source = os.path.join(FIXTURES, "quagga_rib")
    with open(source, "rb") as handle:
        data = handle.read()
    target = tmp_path / "no-suffix"
    with opener(target, "wb") as handle:
        handle.write(data)
    assert our_lines(target) == our_lines(source) and len(our_lines(source)) == 9


def test_a_file_cut_inside_a_record_is_reported_with_the_offset(tmp_path):
    data = fixture("quagga_bgp")
    complete = list(records(os.path.join(FIXTURES, "quagga_bgp"), Findings()))
    last = complete[-1].offset
    cut = tmp_path / "cut"
    cut.write_bytes(data[: last + 20])
    findings = Findings()
    read = list(records(cut, findings))
    assert len(read) == len(complete) - 1
    assert findings.truncated == "truncated at offset %d: a record of %d octets, 8 present" % (
        last,
        struct.unpack(">I", data[last + 8 : last + 12])[0],
    )
    header_cut = tmp_path / "header-cut"
    header_cut.write_bytes(data[: last + 5])
    findings = Findings()
    assert len(list(records(header_cut, findings))) == len(complete) - 1
    assert findings.truncated == "truncated at offset %d: 5 octets of a 12-octet record header" % last


def test_a_cut_gzip_stream_is_reported(tmp_path):
    data = fixture("updates.20100722.2015.gz")
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    findings = Findings()
    read = list(records(cut, findings))
    assert 100 < len(read) < 5654
    assert findings.truncated is not None and "the compressed data ends or is corrupt" in findings.truncated


def test_unknown_and_malformed_records_are_counted_and_reading_goes_on(tmp_path):
    data = fixture("quagga_bgp")
    complete = list(records(os.path.join(FIXTURES, "quagga_bgp"), Findings()))
    ospf = struct.pack(">IHHI", 1486802163, 11, 0, 3) + b"abc"  # an OSPFv2 record
    first = complete[1].offset
    broken = bytearray(data[first:])
    message = next(r for r in complete if isinstance(r, MessageRecord))
    body_length = struct.unpack(">I", data[message.offset + 8 : message.offset + 12])[0]
    marker_at = message.offset - first + 12 + body_length - len(message.message)
    broken[marker_at] = 0  # the BGP marker of the first message
    damaged = tmp_path / "damaged"
    damaged.write_bytes(data[:first] + ospf + bytes(broken))
    findings = Findings()
    read = list(records(damaged, findings))
    assert len(read) == len(complete) - 1
    assert findings.counts == {
        "MRT type OSPFv2 subtype 0 (not read)": 1,
        "malformed BGP4MP record (the BGP message has no marker)": 1,
    }
    assert findings.offsets["MRT type OSPFv2 subtype 0 (not read)"] == [first]
    assert findings.offsets["malformed BGP4MP record (the BGP message has no marker)"] == [message.offset + len(ospf)]
    assert findings.truncated is None


def test_a_file_without_routes_is_refused(tmp_path):
    empty = tmp_path / "empty.mrt"
    empty.write_bytes(b"")
    with pytest.raises(ReplayError, match="no UPDATE or RIB entry with routes in 0 record"):
        scan(empty).choose()

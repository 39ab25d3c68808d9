"""Fuzz (hypothesis) of the RTR PDU parser, versions 0-2: random octets and mutated valid PDUs into
split_pdus and decode_pdu never raise anything but RtrPduError, whose code is a known Error Report
code and whose `pdu` is what was decoded; what decodes encodes back to the same octets (for the
PDUs this module encodes).

    PEERWARDEN_RTR_FUZZ_EXAMPLES=20000 PYTHONPATH=src python -m pytest tests/test_rpki_rtr_pdu_fuzz.py
"""

import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerwarden_runner.rpki import Vrp, rtr_pdu
from peerwarden_runner.rpki.rtr_pdu import AspaPdu, ErrorCode, PrefixPdu, RtrPduError, encode_aspa, encode_prefix

# per test: 500 in the suite (about 2 s); PEERWARDEN_RTR_FUZZ_EXAMPLES=20000 for a long run
EXAMPLES = int(os.environ.get("PEERWARDEN_RTR_FUZZ_EXAMPLES", "500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
versions = st.integers(0, 2)
asns = st.integers(0, 0xFFFFFFFF)


@st.composite
def vrps(draw):
    family = draw(st.sampled_from((4, 6)))
    bits = 32 if family == 4 else 128
    length = draw(st.integers(0, bits))
    network = draw(st.integers(0, 2**bits - 1)) >> (bits - length) << (bits - length)
    return Vrp(family, network, length, draw(st.integers(length, bits)), draw(asns))


def valid_pdus():
    """Every PDU type, in every version that has it, with random fields."""
    serial = st.integers(0, 0xFFFFFFFF)
    session = st.integers(0, 0xFFFF)
    vrp = vrps()
    return st.one_of(
        st.builds(rtr_pdu.encode_serial_notify, versions, session, serial),
        st.builds(rtr_pdu.encode_serial_query, versions, session, serial),
        st.builds(rtr_pdu.encode_reset_query, versions),
        st.builds(rtr_pdu.encode_cache_response, versions, session),
        st.builds(encode_prefix, versions, vrp, st.booleans()),
        st.builds(rtr_pdu.encode_end_of_data, versions, session, serial, serial, serial, serial),
        st.builds(rtr_pdu.encode_cache_reset, versions),
        st.builds(
            rtr_pdu.encode_error_report, versions, st.integers(0, 13), st.binary(max_size=40), st.text(max_size=20)
        ),
        st.builds(encode_aspa, st.just(2), asns, st.lists(asns, max_size=8), st.booleans()),
    )


@st.composite
def mutated(draw):
    """A valid PDU with a few octets changed, cut, inserted or its length field lying."""
    pdu = bytearray(draw(valid_pdus()))
    for dummy in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "length", "type", "version"]))
        if action == "flip" and pdu:
            index = draw(st.integers(0, len(pdu) - 1))
            pdu[index] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut" and pdu:
            del pdu[draw(st.integers(0, len(pdu) - 1)) :]
        elif action == "insert":
            index = draw(st.integers(0, len(pdu)))
            pdu[index:index] = draw(st.binary(min_size=1, max_size=8))
        elif action == "length" and len(pdu) >= 8:
            pdu[4:8] = struct.pack("!I", draw(st.one_of(st.integers(0, 80), st.integers(0, 0xFFFFFFFF))))
        elif action == "type" and len(pdu) >= 2:
            pdu[1] = draw(st.integers(0, 255))
        elif action == "version" and pdu:
            pdu[0] = draw(st.integers(0, 255))
    return bytes(pdu)


def parse(data):
    """What the session does with octets from a cache: frame, then decode each PDU."""
    decoded = []
    buffer = bytearray(data)
    try:
        pdus = rtr_pdu.split_pdus(buffer)
    except RtrPduError as error:
        assert error.code == ErrorCode.CORRUPT_DATA and len(error.pdu) == 8
        return decoded
    assert sum(map(len, pdus)) + len(buffer) == len(data)  # nothing lost, nothing made up
    for pdu in pdus:
        try:
            decoded.append((bytes(pdu), rtr_pdu.decode_pdu(pdu)))
        except RtrPduError as error:
            assert error.code in set(ErrorCode) and error.pdu == pdu and str(error)
    return decoded


def reencoded(raw, pdu):
    """The PDU encoded again, when it is a Prefix or ASPA PDU whose reserved bits and zero octets are
    clean (they are not kept); else None."""
    if isinstance(pdu, AspaPdu) and not (raw[2] & 0xFE or raw[3]):
        return encode_aspa(pdu.version, pdu.customer, pdu.providers, pdu.announce)
    if isinstance(pdu, PrefixPdu) and not (raw[2] or raw[3] or raw[8] & 0xFE or raw[11]):
        return encode_prefix(pdu.version, pdu.vrp, pdu.announce)
    return None


@FUZZ
@given(st.binary(max_size=300))
def test_random_octets_raise_only_the_parsers_error(data):
    parse(data)


@FUZZ
@given(st.lists(st.one_of(valid_pdus(), mutated()), min_size=1, max_size=6))
def test_mutated_pdus_raise_only_the_parsers_error_and_what_decodes_encodes_back(pdus):
    for raw, pdu in parse(b"".join(pdus)):
        again = reencoded(raw, pdu)
        assert again is None or again == raw


@FUZZ
@given(versions, st.integers(0, 255), st.binary(max_size=64))
def test_any_type_in_any_version_with_a_right_length_field_raises_only_the_parsers_error(version, kind, body):
    parse(struct.pack("!BBHI", version, kind, 0, 8 + len(body)) + body)

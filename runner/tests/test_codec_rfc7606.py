"""RFC 7606 error handling: each case of the table in codec.error_handling, with the expected action."""

import dataclasses

import pytest

import codec_fixtures as fx
from codec_contexts import FOUR, TWO
from peerwarden_runner.codec import ErrorAction, Prefix, decode_update
from peerwarden_runner.codec import constants as c

NONE = ErrorAction.NONE
DISCARD = ErrorAction.ATTRIBUTE_DISCARD
WITHDRAW = ErrorAction.TREAT_AS_WITHDRAW
DISABLE = ErrorAction.AFI_SAFI_DISABLE
RESET = ErrorAction.SESSION_RESET

ORIGIN = "40 01 01 00"
AS_PATH = "40 02 06 02 01 0000fbf4"
AS_PATH_2 = "40 02 04 02 01 fbf4"
NEXT_HOP = "40 03 04 c0000201"
BASE = " ".join((ORIGIN, AS_PATH, NEXT_HOP))
NLRI = "18 cb0071"
MP_REACH_V6 = "80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8"


def decode(attributes, nlri=NLRI, withdrawn="", ctx=FOUR, **options):
    raw = fx.update(withdrawn, attributes, nlri)
    fx.decode_cached(raw, ctx, **options)  # the same verdict when attribute sections are cached
    return decode_update(raw, ctx, **options)


def check(update, action, subcode=None):
    assert update.error_action == action, update.errors
    if action != NONE:
        assert update.reason and update.error.reason
        assert all(error.reason for error in update.errors)
    if subcode is not None:
        assert (update.error.code, update.error.subcode) == (3, subcode)
    if action >= WITHDRAW:
        assert update.routes() == []
    return update


def test_valid_base():
    update = check(decode(BASE), NONE)
    assert len(update.routes()) == 1


# ---- RFC 7606 §7: per attribute ----


@pytest.mark.parametrize("origin, subcode", [("40 01 02 0000", 5), ("40 01 01 03", 6), ("40 01 00", 5)])
def test_origin_malformed_is_treat_as_withdraw(origin, subcode):
    update = check(decode(" ".join((origin, AS_PATH, NEXT_HOP))), WITHDRAW, subcode)
    assert update.withdrawals() == [Prefix.parse("203.0.113.0/24")]


@pytest.mark.parametrize(
    "as_path",
    [
        "40 02 06 05 01 0000fbf4",  # unknown segment type
        "40 02 02 02 00",  # segment of length zero
        "40 02 06 02 02 0000fbf4",  # segment overruns the attribute
        "40 02 07 02 01 0000fbf4 02",  # one octet left after the last segment
        "40 02 05 02 01 0000fb",  # 4-octet AS cut short
    ],
)
def test_as_path_malformed_is_treat_as_withdraw(as_path):
    check(decode(" ".join((ORIGIN, as_path, NEXT_HOP))), WITHDRAW, 11)


def test_empty_as_path_is_valid():
    check(decode(" ".join((ORIGIN, "40 02 00", NEXT_HOP))), NONE)


def test_as_path_width_follows_the_session():
    check(decode(" ".join((ORIGIN, AS_PATH_2, NEXT_HOP)), ctx=TWO), NONE)
    check(decode(" ".join((ORIGIN, AS_PATH_2, NEXT_HOP)), ctx=FOUR), WITHDRAW, 11)


@pytest.mark.parametrize(
    "attribute",
    [
        "40 03 05 c000020100",  # NEXT_HOP length 5
        "40 03 00",  # NEXT_HOP length 0
        "80 04 03 000001",  # MED length 3
        "40 05 02 0001",  # LOCAL_PREF length 2
        "80 09 03 c00002",  # ORIGINATOR_ID length 3
    ],
)
def test_fixed_length_attributes_are_treat_as_withdraw(attribute):
    next_hop = "" if attribute.startswith("40 03") else NEXT_HOP
    check(decode(" ".join((ORIGIN, AS_PATH, next_hop, attribute))), WITHDRAW, 5)


@pytest.mark.parametrize(
    "attribute, name",
    [
        ("c0 08 06 fbf40001 0000", "COMMUNITIES"),
        ("c0 08 00", "COMMUNITIES"),
        ("80 0a 05 c000020300", "CLUSTER_LIST"),
        ("80 0a 00", "CLUSTER_LIST"),
        ("c0 10 04 0002fbf4", "EXTENDED_COMMUNITIES"),
        ("c0 20 08 0000fbf400000001", "LARGE_COMMUNITY"),
        ("c0 23 03 00fbf4", "ONLY_TO_CUSTOMER"),
    ],
)
def test_list_attributes_of_a_wrong_length_are_treat_as_withdraw(attribute, name):
    update = check(decode(BASE + " " + attribute), WITHDRAW)
    assert name in update.reason


def test_atomic_aggregate_with_a_value_is_discarded():
    update = check(decode(BASE + " 40 06 01 00"), DISCARD, 5)
    assert update.attribute(c.ATOMIC_AGGREGATE) is None
    routes = update.routes()
    assert len(routes) == 1 and c.ATOMIC_AGGREGATE not in routes[0].attributes


@pytest.mark.parametrize(
    "aggregator, ctx",
    [
        ("c0 07 07 0000fbf4 c00002", FOUR),
        ("c0 07 08 0000fbf4 c0000201", TWO),
        ("c0 07 06 fbf4 c0000201", FOUR),
    ],
)
def test_aggregator_of_a_wrong_length_is_discarded(aggregator, ctx):
    as_path = AS_PATH_2 if ctx is TWO else AS_PATH
    update = check(decode(" ".join((ORIGIN, as_path, NEXT_HOP, aggregator)), ctx=ctx), DISCARD, 5)
    assert update.aggregator is None and len(update.routes()) == 1


def test_as4_path_malformed_is_discarded():
    base = " ".join((ORIGIN, AS_PATH_2, NEXT_HOP))
    update = check(decode(base + " c0 11 05 02 01 fa56ea", ctx=TWO), DISCARD)
    assert update.as4_path is None and update.origin_as() == 64500
    check(decode(base + " c0 11 06 02 00 fa56ea01", ctx=TWO), DISCARD)  # segment length zero
    check(decode(base + " c0 12 06 fa56 c0000201", ctx=TWO), DISCARD)  # AS4_AGGREGATOR length 6


def test_as4_attributes_between_four_octet_speakers_are_discarded():
    update = check(decode(BASE + " c0 11 06 02 01 fa56ea01"), DISCARD)
    assert update.as4_path is None and update.origin_as() == 64500


# ---- RFC 7606 §3: flags, duplicates, unknown, missing ----


@pytest.mark.parametrize(
    "attribute, action",
    [
        ("c0 01 01 00", WITHDRAW),  # ORIGIN (well-known) marked optional
        ("00 01 01 00", WITHDRAW),  # ORIGIN without the Transitive bit
    ],
)
def test_flags_conflict_on_well_known(attribute, action):
    check(decode(" ".join((attribute, AS_PATH, NEXT_HOP))), action, 4)


@pytest.mark.parametrize(
    "attribute, action",
    [
        ("40 04 04 0000000a", WITHDRAW),  # MED (optional non-transitive) marked well-known
        ("c0 04 04 0000000a", WITHDRAW),  # MED marked transitive
        ("80 08 04 fbf40001", WITHDRAW),  # COMMUNITIES without Transitive
        ("80 07 08 0000fbf4 c0000201", DISCARD),  # AGGREGATOR: the attribute-discard type (RFC 7606 §7.7)
        ("40 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8", RESET),  # MP_REACH (§5.3)
    ],
)
def test_flags_conflict_on_optional(attribute, action):
    update = check(decode(BASE + " " + attribute), action)
    assert update.error.subcode == 4


def test_partial_and_extended_length_bits_are_not_conflicts():
    check(decode(BASE + " e0 08 04 fbf40001 d0 20 000c 0000fbf4 00000001 00000002"), NONE)


def test_duplicate_attribute_keeps_the_first():
    update = check(decode(BASE + " 80 04 04 0000000a 80 04 04 00000014"), DISCARD, 1)
    assert update.med == 10 and len(update.routes()) == 1
    assert len(update.attributes) == 5  # both kept for a bit-exact re-encoding
    assert update.encode() == fx.update("", BASE + " 80 04 04 0000000a 80 04 04 00000014", NLRI)


def test_duplicate_unknown_attribute_keeps_the_first():
    update = check(decode(BASE + " c0 63 01 01 c0 63 01 02"), DISCARD)
    assert update.attribute(99).data == b"\x01"


@pytest.mark.parametrize("attribute", [MP_REACH_V6, "80 0f 03 0002 01"])
def test_duplicate_mp_attributes_reset_the_session(attribute):
    check(decode(" ".join((ORIGIN, AS_PATH, attribute, attribute)), nlri=""), RESET, 1)


def test_unrecognized_well_known_resets_the_session():
    update = check(decode(BASE + " 40 63 01 00"), RESET, 2)
    assert update.error.data == bytes.fromhex("40630100")


def test_unrecognized_optional_is_fine():
    update = check(decode(BASE + " 80 63 01 00"), NONE)
    assert update.attribute(99) is not None


@pytest.mark.parametrize(
    "attributes, missing",
    [
        (" ".join((AS_PATH, NEXT_HOP)), c.ORIGIN),
        (" ".join((ORIGIN, NEXT_HOP)), c.AS_PATH),
        (" ".join((ORIGIN, AS_PATH)), c.NEXT_HOP),
        ("", c.ORIGIN),
    ],
)
def test_missing_mandatory_attribute_is_treat_as_withdraw(attributes, missing):
    update = check(decode(attributes), WITHDRAW, 3)
    assert update.error.data == bytes((missing,))
    assert update.withdrawals() == [Prefix.parse("203.0.113.0/24")]


def test_next_hop_not_needed_for_mp_only():
    check(decode(" ".join((ORIGIN, AS_PATH, MP_REACH_V6)), nlri=""), NONE)
    check(decode(MP_REACH_V6, nlri=""), WITHDRAW, 3)  # but ORIGIN and AS_PATH are


def test_withdraw_only_needs_no_attribute():
    update = check(decode("", nlri="", withdrawn="18 c63364"), NONE)
    assert update.withdrawals() == [Prefix.parse("198.51.100.0/24")]


def test_no_nlri_after_errors_has_nothing_to_withdraw():
    update = check(decode("40 01 01 07 " + AS_PATH, nlri="", withdrawn="18 c63364"), WITHDRAW, 6)
    assert update.withdrawals() == [Prefix.parse("198.51.100.0/24")]  # only the real withdrawals
    assert "nothing to withdraw" in update.reason


# ---- MP_REACH / MP_UNREACH (RFC 7606 §7.11, §7.12, §5.3) ----


@pytest.mark.parametrize(
    "attribute, family",
    [
        ("80 0e 04 0002 01 00", None),  # length < 5
        ("80 0e 0b 0002 01 05 20010db800 00 20 20010db8", (2, 1)),  # next hop length 5 for IPv6
        ("80 0e 09 0002 01 10 20010db800", (2, 1)),  # next hop overruns
        ("80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 81 20010db8", (2, 1)),  # prefix length 129
        ("80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 40 20010db8", (2, 1)),  # prefix runs past the end
        ("80 0f 02 0002", None),  # MP_UNREACH length < 3
        ("80 0f 05 0002 01 21 20", (2, 1)),  # MP_UNREACH prefix runs past the end
        ("80 0f 04 0001 01 21", (1, 1)),  # MP_UNREACH IPv4 /33
    ],
)
def test_malformed_mp_attributes(attribute, family):
    update = check(decode(" ".join((ORIGIN, AS_PATH, attribute)), nlri=""), RESET, 9)
    assert update.withdrawals() == [] and update.routes() == []
    disabled = decode(" ".join((ORIGIN, AS_PATH, attribute)), nlri="", afi_safi_disable=True)
    if family is None:
        assert disabled.error_action == RESET  # no family to disable
    else:
        assert disabled.error_action == DISABLE and disabled.error.family == family


# ---- RFC 7606 §4: attribute lengths against the attribute section ----


def test_attribute_overrunning_the_section_is_treat_as_withdraw():
    update = check(decode(BASE + " c0 08 20 fbf40001"), WITHDRAW, 5)
    assert update.nlri == (Prefix.parse("203.0.113.0/24"),)  # NLRI located by the total length
    assert update.withdrawals() == [Prefix.parse("203.0.113.0/24")]


def test_mp_reach_overrunning_the_section_resets():
    check(decode(" ".join((ORIGIN, AS_PATH, "80 0e 40 0002 01 10")), nlri=""), RESET)


@pytest.mark.parametrize("tail", ["c0", "c0 08", "d0 08 00"])
def test_attribute_header_underrun_is_treat_as_withdraw(tail):
    check(decode(BASE + " " + tail), WITHDRAW, 1)


def test_zero_length_known_attribute_is_malformed():
    check(decode(BASE + " 80 04 00"), WITHDRAW, 5)
    check(decode(BASE + " c0 07 00"), DISCARD, 5)


# ---- fields and lengths (RFC 4271 §6.3, RFC 7606 §5.3) ----


def test_total_attribute_length_overrun_resets():
    raw = bytearray(fx.update("", BASE, NLRI))
    raw[21:23] = (200).to_bytes(2, "big")
    check(decode_update(bytes(raw), FOUR), RESET, 1)


def test_withdrawn_length_overrun_resets():
    raw = bytearray(fx.update("18 c63364", BASE, NLRI))
    raw[19:21] = (300).to_bytes(2, "big")
    check(decode_update(bytes(raw), FOUR), RESET, 1)


@pytest.mark.parametrize("withdrawn, nlri", [("", "21 cb007100 00"), ("", "18 cb00"), ("19 c633", NLRI)])
def test_unparseable_nlri_or_withdrawn_field_resets(withdrawn, nlri):
    check(decode(BASE, nlri=nlri, withdrawn=withdrawn), RESET, 10)


@pytest.mark.parametrize("raw", [b"", b"\xff" * 19, fx.KEEPALIVE, fx.update()[:-1], fx.update() + b"\x00"])
def test_not_an_update_never_raises(raw):
    update = decode_update(raw, FOUR)
    assert update.error_action == RESET and update.error.code == 1


# ---- several errors, session facts ----


def test_strongest_action_wins():
    update = decode(BASE + " 40 06 01 00 80 04 03 000001")  # discard + withdraw
    assert update.error_action == WITHDRAW and len(update.errors) == 2
    update = decode(BASE + " 40 06 01 00 40 63 01 00")  # discard + reset
    assert update.error_action == RESET


def test_external_peer_discards():
    ctx = dataclasses.replace(FOUR, ebgp=True)
    update = check(decode(BASE + " 40 05 04 00000064 80 09 04 c0000202 80 0a 04 c0000203", ctx=ctx), DISCARD)
    assert update.local_pref is None and update.originator_id is None and update.cluster_list == ()
    assert len(update.errors) == 3 and len(update.routes()) == 1
    check(decode(BASE + " 40 05 04 00000064"), NONE)  # the same from an internal peer


def test_error_action_labels():
    assert [action.label for action in ErrorAction] == [
        "none",
        "attribute-discard",
        "treat-as-withdraw",
        "afi/safi-disable",
        "session-reset",
    ]

"""Property tests (hypothesis): valid UPDATE/OPEN round trips, and no crash on arbitrary or mutated octets."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerwarden_runner import codec
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import Attribute

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAMILIES = [(1, 1), (2, 1)]
KNOWN = set(range(0, 41)) | {128}  # codes left out of the random unknown attributes


@st.composite
def contexts(draw):
    return codec.NegotiatedContext(
        four_octet_as=draw(st.booleans()),
        add_path_receive=frozenset(draw(st.sets(st.sampled_from(FAMILIES)))),
        extended_message=draw(st.booleans()),
    )


@st.composite
def prefixes(draw, afi, ctx, safi=1):
    bits = 32 if afi == 1 else 128
    length = draw(st.integers(0, bits))
    packed = draw(st.binary(min_size=(length + 7) // 8, max_size=(length + 7) // 8))  # host bits included
    path_id = draw(st.integers(0, 2**32 - 1)) if (afi, safi) in ctx.add_path_receive else None
    return codec.Prefix(afi, safi, length, packed, path_id)


def asns(ctx):
    return st.integers(0, 2**32 - 1 if ctx.four_octet_as else 2**16 - 1)


@st.composite
def as_paths(draw, ctx, four_octet=None):
    numbers = st.integers(0, 2**32 - 1) if four_octet else asns(ctx)
    kinds = st.sampled_from([1, 2]) if four_octet else st.sampled_from([1, 2, 3, 4])
    segments = draw(
        st.lists(
            st.tuples(kinds, st.lists(numbers, min_size=1, max_size=8)), max_size=4, min_size=1 if four_octet else 0
        )
    )
    return codec.AsPath(tuple(codec.AsPathSegment(kind, tuple(values)) for kind, values in segments))


ipv4 = st.integers(0, 2**32 - 1).map(lambda n: n.to_bytes(4, "big"))
ipv6 = st.binary(min_size=16, max_size=16)


@st.composite
def updates(draw):
    """(ctx, raw) of a well-formed UPDATE built with the encoders."""
    ctx = draw(contexts())
    nlri = draw(st.lists(prefixes(1, ctx), max_size=20))
    withdrawn = draw(st.lists(prefixes(1, ctx), max_size=20))
    attributes = []
    mp_family = draw(st.sampled_from([None, (1, 1), (2, 1)]))
    announcing = bool(nlri) or mp_family is not None
    if announcing or draw(st.booleans()):
        attributes.append(codec.make_attribute(c.ORIGIN, draw(st.integers(0, 2)), ctx))
        attributes.append(codec.make_attribute(c.AS_PATH, draw(as_paths(ctx)), ctx))
    if nlri or draw(st.booleans()):
        attributes.append(codec.make_attribute(c.NEXT_HOP, draw(ipv4), ctx))
    optional = {
        c.MULTI_EXIT_DISC: st.integers(0, 2**32 - 1),
        c.LOCAL_PREF: st.integers(0, 2**32 - 1),
        c.ATOMIC_AGGREGATE: st.just(True),
        c.AGGREGATOR: st.tuples(asns(ctx), ipv4),
        c.COMMUNITIES: st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=10).map(tuple),
        c.ORIGINATOR_ID: ipv4,
        c.CLUSTER_LIST: st.lists(ipv4, min_size=1, max_size=4).map(tuple),
        c.EXTENDED_COMMUNITIES: st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=5).map(tuple),
        c.LARGE_COMMUNITY: st.lists(st.tuples(*[st.integers(0, 2**32 - 1)] * 3), min_size=1, max_size=5).map(tuple),
        c.ONLY_TO_CUSTOMER: st.integers(0, 2**32 - 1),
    }
    if not ctx.four_octet_as:
        optional[c.AS4_PATH] = as_paths(ctx, four_octet=True)
        optional[c.AS4_AGGREGATOR] = st.tuples(st.integers(0, 2**32 - 1), ipv4)
    for code in draw(st.sets(st.sampled_from(sorted(optional)))):
        value = draw(optional[code])
        if code in (c.AGGREGATOR, c.AS4_AGGREGATOR):
            import ipaddress

            value = (value[0], ipaddress.IPv4Address(value[1]))
        attributes.append(codec.make_attribute(code, value, ctx))
    if mp_family is not None:
        afi = mp_family[0]
        hop_length = draw(st.sampled_from([4, 16, 32] if afi == 1 else [16, 32]))
        hops = draw(st.binary(min_size=hop_length, max_size=hop_length))
        attributes.append(codec.mp_reach_attribute(afi, 1, hops, draw(st.lists(prefixes(afi, ctx), max_size=10)), ctx))
    if draw(st.booleans()):
        afi = draw(st.sampled_from([1, 2]))
        attributes.append(codec.mp_unreach_attribute(afi, 1, draw(st.lists(prefixes(afi, ctx), max_size=10)), ctx))
    for dummy in range(draw(st.integers(0, 2))):
        code = draw(st.integers(1, 255).filter(lambda n: n not in KNOWN and n not in {a.code for a in attributes}))
        flags = 0x80 | draw(st.sampled_from([0x00, 0x40, 0x60])) | draw(st.sampled_from([0, 0x10]))
        attributes.append(codec.unknown_attribute(flags, code, draw(st.binary(max_size=40))))
    for attribute in attributes:
        if draw(st.integers(0, 9)) == 0:
            attribute.flags |= c.FLAG_EXTENDED_LENGTH  # a sender's non-canonical choice
    attributes = draw(st.permutations(attributes))
    return ctx, codec.encode_update(withdrawn, attributes, nlri, ctx)


@SETTINGS
@given(updates())
def test_valid_updates_round_trip(case):
    ctx, raw = case
    update = codec.decode_update(raw, ctx)
    assert update.error_action == codec.ErrorAction.NONE, update.errors
    assert update.encode() == raw
    record = json.loads(json.dumps(codec.to_json(raw, ctx)))
    assert "lossy" not in record
    assert codec.from_json(record, ctx) == raw
    del record["raw"]
    assert codec.from_json(record, ctx) == raw
    update.routes()
    update.withdrawals()
    update.origin_as()


@st.composite
def opens(draw):
    builders = [
        st.tuples(st.integers(0, 65535), st.integers(0, 255)).map(lambda f: codec.Capability.multiprotocol(*f)),
        st.just(codec.Capability.route_refresh()),
        st.just(codec.Capability.extended_message()),
        st.just(codec.Capability.enhanced_route_refresh()),
        st.dictionaries(st.sampled_from(FAMILIES), st.integers(1, 3), min_size=1).map(codec.Capability.add_path),
        st.binary(max_size=30).map(codec.Capability.graceful_restart),
        st.tuples(st.integers(128, 255), st.binary(max_size=40)).map(lambda t: codec.Capability(*t)),
    ]
    capabilities = draw(st.lists(st.one_of(builders), max_size=12))
    return codec.encode_open(
        draw(st.integers(1, 2**32 - 1)),
        draw(st.integers(0, 65535)),
        draw(ipv4),
        capabilities,
        add_four_octet_as=draw(st.booleans()),
    )


@SETTINGS
@given(opens())
def test_valid_opens_round_trip(raw):
    message = codec.decode_open(raw)
    assert message.encode() == raw
    record = json.loads(json.dumps(codec.to_json(raw)))
    del record["raw"]
    assert codec.from_json(record) == raw


@SETTINGS
@given(st.binary(max_size=19))
def test_parse_header_raises_only_framing_errors(data):
    try:
        codec.parse_header(data)
    except codec.FramingError:
        pass


@SETTINGS
@given(st.sampled_from([1, 2, 3, 4, 5]), st.binary(max_size=200), st.booleans())
def test_arbitrary_bodies(kind, body, lie):
    length = 19 + len(body) + (7 if lie else 0)
    raw = b"\xff" * 16 + (length % 65536).to_bytes(2, "big") + bytes((kind,)) + body
    update = codec.decode_update(raw, codec.NegotiatedContext())
    codec.to_json(raw)
    try:
        codec.decode_message(raw)
    except codec.CodecError:
        pass
    assert isinstance(update.error_action, codec.ErrorAction)


@st.composite
def mutated_updates(draw):
    ctx, raw = draw(updates())
    data = bytearray(raw)
    for dummy in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "truncate", "insert", "length", "byte"]))
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif how == "truncate":
            del data[position:]
        elif how == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif how == "byte":
            data[position] = draw(st.integers(0, 255))
        elif len(data) > 22:
            field = draw(st.sampled_from([16, 19, 21]))
            data[field : field + 2] = draw(st.integers(0, 65535)).to_bytes(2, "big")
    if draw(st.booleans()) and len(data) >= 19:
        data[16:18] = len(data).to_bytes(2, "big")  # keep framing consistent, lie inside
    return ctx, bytes(data)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_updates())
def test_mutated_updates_never_raise(case):
    ctx, raw = case
    update = codec.decode_update(raw, ctx)
    update.routes()
    update.withdrawals()
    update.origin_as()
    record = codec.to_json(raw, ctx)
    if "lossy" not in record and record["type"] == "update":
        assert codec.from_json(record, ctx) == raw
    try:
        codec.parse_header(raw[:19])
    except codec.FramingError:
        pass


def test_attribute_equality_and_repr():
    first = codec.make_attribute(c.MULTI_EXIT_DISC, 5)
    assert first == Attribute(0x80, 4, b"\x00\x00\x00\x05") and "med" in repr(first)

"""The quick look at RIB keys that re-validation uses agrees with the one-prefix-at-a-time test
(rpki affected_filter) for every family, length, path id and SAFI: it never turns a touched route away."""

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from peerwarden_runner.codec import Prefix
from peerwarden_runner.codec import constants as c
from peerwarden_runner.route_keys import route_key
from peerwarden_runner.rpki import affected_filter, make_vrp, nlri_int_prefix
from peerwarden_runner.stages.rpki_touched import TouchedKeys

# addresses near each other, so that changes and routes often share their first octets
IPV4_BASES = (0x0A000000, 0x0A010000, 0x0A0100F0, 0xC0000200, 0x00000000)
IPV6_BASES = (0x20010DB8 << 96, 0x20010DB8_00010000 << 64, 0x2A000000 << 96, 0)


def network(version, base, noise, length):
    bits = 32 if version == 4 else 128
    address = (base ^ noise) & ((1 << bits) - 1)
    mask = ((1 << length) - 1) << (bits - length)
    return address & mask


@st.composite
def prefixes(draw):
    version = draw(st.sampled_from((4, 6)))
    bits = 32 if version == 4 else 128
    length = draw(st.integers(0, bits))
    base = draw(st.sampled_from(IPV4_BASES if version == 4 else IPV6_BASES))
    noise = draw(st.integers(0, (1 << draw(st.integers(0, bits))) - 1))
    address = network(version, base, noise, length)
    text = "%s/%d" % ((ipaddress.IPv6Address if version == 6 else ipaddress.IPv4Address)(address), length)
    return version, text


@st.composite
def vrps(draw):
    version, text = draw(prefixes())
    length = int(text.rsplit("/", 1)[1])
    return make_vrp(text, draw(st.integers(length, 32 if version == 4 else 128)), 64500)


@st.composite
def routes(draw):
    dummy, text = draw(prefixes())
    return Prefix.parse(
        text, safi=draw(st.sampled_from((c.SAFI_UNICAST, c.SAFI_MULTICAST))), path_id=draw(st.sampled_from((None, 7)))
    )


def touched(keys_filter, prefix):
    key = route_key(prefix)
    return bool(keys_filter.candidates([key])) and keys_filter.route(key) is not None


@settings(max_examples=400, deadline=None)
@given(st.lists(vrps(), max_size=6), st.lists(routes(), min_size=1, max_size=20))
def test_the_keys_touched_are_the_routes_a_changed_vrp_covers(changed, route_list):
    keys_filter, reference = TouchedKeys(changed), affected_filter(changed)
    for prefix in route_list:
        assert touched(keys_filter, prefix) == reference(nlri_int_prefix(prefix)), (changed, prefix)


def test_a_short_vrp_covers_every_first_octet_below_it():
    keys_filter = TouchedKeys([make_vrp("8.0.0.0/6", 24, 64500), make_vrp("2000::/3", 48, 64500)])
    for text in ("8.1.0.0/16", "11.255.255.0/24", "8.0.0.0/7", "2001:db8::/32", "3fff::/16", "2000::/4"):
        assert touched(keys_filter, Prefix.parse(text)), text
    for text in ("12.0.0.0/8", "7.255.0.0/16", "4000::/16", "0.0.0.0/0", "::/0"):
        assert not touched(keys_filter, Prefix.parse(text)), text


def test_a_vrp_for_the_default_route_touches_every_route():
    keys_filter = TouchedKeys([make_vrp("0.0.0.0/0", 32, 64500), make_vrp("::/0", 128, 64500)])
    for text in ("0.0.0.0/0", "10.0.0.0/8", "192.0.2.1/32", "::/0", "8000::/1", "2001:db8::1/128"):
        assert touched(keys_filter, Prefix.parse(text)), text


def test_no_change_touches_nothing():
    keys_filter = TouchedKeys([])
    assert keys_filter.candidates([route_key(Prefix.parse(text)) for text in ("10.0.0.0/8", "2001:db8::/32")]) == []
    assert not touched(keys_filter, Prefix.parse("0.0.0.0/0"))

"""One canonical form of an address for parsers, lookups, stores and reports."""

import ipaddress
import random

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import (
    address_and_zone,
    address_number,
    canonical_address,
)


def test_agrees_with_ipaddress_except_for_ipv4_mapped():
    rnd = random.Random(7)
    samples = [
        "2001:db8::",
        "::",
        "::1",
        "2001:db8:0:0:1:0:0:1",
        "2001:db8:0:1:1:1:1:1",
        "::192.0.2.1",
        "FE80::1",
        "192.0.2.1",
        "2001:DB8::A",
        "2001:0DB8::0001",
    ]
    for dummy in range(2000):
        groups = [rnd.choice(["0", "0", "0", "%x" % rnd.randint(0, 0xFFFF)]) for dummy in range(8)]
        samples.append(":".join(groups))
    for text in samples:
        parsed = ipaddress.ip_address(text)
        expected = str(parsed.ipv4_mapped or parsed) if parsed.version == 6 else str(parsed)
        assert canonical_address(text) == expected, text


@pytest.mark.parametrize(
    "text", ["::ffff:192.0.2.1", "::FFFF:192.0.2.1", "::ffff:c000:201", "0:0:0:0:0:ffff:c000:0201"]
)
def test_ipv4_mapped_ipv6_is_the_ipv4_address(text):
    # dual-stack sockets log IPv4 peers this way; IX-F and PeeringDB list them as IPv4
    assert canonical_address(text) == "192.0.2.1"


def test_zone_is_split_off():
    assert address_and_zone("fe80::1%eth0") == ("fe80::1", "eth0")
    assert address_and_zone("FE80::0001%ae0.100") == ("fe80::1", "ae0.100")
    assert canonical_address("fe80::1%eth0") == "fe80::1"
    assert address_and_zone(" 192.0.2.1 ") == ("192.0.2.1", None)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        None,
        " ",
        "192.0.2",
        "2001:db8::g",
        "1.2.3.4.5",
        "nonsense",
        "192.0.2.1/24",
        "192.168.001.1",
        "::ffff:192.0.2",
        "%eth0",
    ],
)
def test_not_an_address(bad):
    assert canonical_address(bad) is None
    assert address_and_zone(bad) == (None, None)


@pytest.mark.parametrize(
    "text", ["192.0.2.1", "::ffff:192.0.2.1", "::FFFF:c000:201", "2001:db8::1", "fe80::1%eth0", "x", "", None]
)
def test_address_number_reads_as_canonical_address_does(text):
    """The integer form (for prefix arithmetic) and the text form agree, IPv4-mapped included."""
    canonical = canonical_address(text)
    if canonical is None:
        assert address_number(text) is None
    else:
        address = ipaddress.ip_address(canonical)
        assert address_number(text) == (address.version, int(address))

"""Hand-built BGP messages for the codec tests.

The octets are written out by hand from the RFC layouts (not produced by the codec's encoders) so
that decoding is checked against an independent reading of the RFCs.  Only the two length fields
of an UPDATE and the header are computed, by `update()` and `message()`, to keep the fixtures
readable.
"""

import struct

MARKER = "ff" * 16


def h(text):
    """bytes from hex written with spaces, newlines and '#' comments."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return bytes.fromhex("".join("".join(lines).split()))


def message(kind, body):
    return bytes.fromhex(MARKER) + struct.pack(">HB", 19 + len(body), kind) + body


def update(withdrawn="", attributes="", nlri=""):
    """An UPDATE from hex of its three fields."""
    withdrawn, attributes, nlri = h(withdrawn), h(attributes), h(nlri)
    body = struct.pack(">H", len(withdrawn)) + withdrawn + struct.pack(">H", len(attributes)) + attributes + nlri
    return message(2, body)


# A real-world-like OPEN of a 4-octet AS router (AS 4200000001): IPv4 and IPv6 unicast, route
# refresh (old Cisco code too), enhanced route refresh, ADD-PATH both ways for both families,
# graceful restart (restart time 120 s, IPv4 unicast forwarding preserved), extended messages and
# the FQDN capability, all in one Capabilities parameter, as FRR and most current routers send.
OPEN_4OCTET = h("""
    ffffffffffffffffffffffffffffffff 0058 01    # header: length 88, OPEN
    04                                          # version 4
    5ba0                                        # My AS = AS_TRANS (23456)
    00b4                                        # hold time 180
    c0000201                                    # BGP identifier 192.0.2.1
    3b                                          # optional parameters length 59
    02 39                                       # parameter: capabilities, 57 octets
       01 04 0001 00 01                         # multiprotocol IPv4 unicast
       01 04 0002 00 01                         # multiprotocol IPv6 unicast
       80 00                                    # route refresh (Cisco pre-standard code)
       02 00                                    # route refresh
       46 00                                    # enhanced route refresh
       41 04 fa56ea01                           # 4-octet AS 4200000001
       45 08 0001 01 03 0002 01 03              # ADD-PATH IPv4/IPv6 unicast send+receive
       40 06 4078 0001 01 80                    # graceful restart: R flag, 120 s, IPv4 unicast F bit
       06 00                                    # extended message
       49 0b 06 726f75746572 03 6e6574         # FQDN "router" "net"
""")

# An older 2-octet AS speaker (AS 64500) putting each capability in its own parameter (Cisco IOS style).
OPEN_2OCTET_SPLIT = h("""
    ffffffffffffffffffffffffffffffff 002d 01    # length 45
    04 fbf4 005a 0a000001                       # version 4, AS 64500, hold 90, id 10.0.0.1
    10                                          # optional parameters length 16
    02 06 01 04 0001 00 01                      # multiprotocol IPv4 unicast
    02 02 02 00                                 # route refresh
    02 02 80 00                                 # route refresh (Cisco)
""")

# A 4-octet AS UPDATE using every attribute type the codec decodes for IPv4 unicast, plus one
# unknown optional transitive attribute with the Partial bit set.
UPDATE_IPV4_ALL = update(
    withdrawn="18 c63364",  # 198.51.100.0/24
    attributes="""
        40 01 01 00                                     # ORIGIN IGP
        40 02 0e 02 03 0000fbf4 0000fbf5 fa56ea01       # AS_PATH sequence 64500 64501 4200000001
        40 03 04 c0000201                               # NEXT_HOP 192.0.2.1
        80 04 04 0000000a                               # MED 10
        40 05 04 00000064                               # LOCAL_PREF 100
        40 06 00                                        # ATOMIC_AGGREGATE
        c0 07 08 0000fbf4 c0000201                      # AGGREGATOR 64500 192.0.2.1
        c0 08 08 fbf40001 ffffff01                      # COMMUNITIES 64500:1 no-export
        80 09 04 c0000202                               # ORIGINATOR_ID 192.0.2.2
        80 0a 08 c0000203 c0000204                      # CLUSTER_LIST 192.0.2.3 192.0.2.4
        c0 10 08 0002fbf4 00000001                      # EXTENDED_COMMUNITIES target:64500:1
        c0 20 0c 0000fbf4 00000001 00000002             # LARGE_COMMUNITY 64500:1:2
        e0 63 03 010203                                 # type 99, optional transitive partial
    """,
    nlri="18 cb0071   10 0a01   20 c0000280",  # 203.0.113.0/24 10.1.0.0/16 192.0.2.128/32
)

# IPv6 announcement with global + link-local next hop, and an IPv6 withdrawal, 4-octet AS.
UPDATE_IPV6 = update(
    attributes="""
    90 0e 0035                                          # MP_REACH_NLRI, extended length, 53 octets
       0002 01 20                                       # AFI 2, SAFI 1, next hop length 32
       20010db8000000000000000000000001                 # 2001:db8::1
       fe800000000000000000000000000001                 # fe80::1
       00                                               # reserved
       30 20010db80001                                  # 2001:db8:1::/48
       40 20010db800020000                              # 2001:db8:2::/64
    80 0f 08 0002 01 20 20010db8                        # MP_UNREACH_NLRI 2001:db8::/32 (note: 3+5 octets)
    40 01 01 02                                         # ORIGIN incomplete
    40 02 06 02 01 0000fbf4                             # AS_PATH 64500
"""
)

# ADD-PATH for IPv4 unicast: path ids in the withdrawn and NLRI fields.
UPDATE_ADD_PATH = update(
    withdrawn="00000001 18 c63364",  # path 1: 198.51.100.0/24
    attributes="40 01 01 00  40 02 06 02 01 0000fbf4  40 03 04 c0000201",
    nlri="00000001 18 cb0071   00000002 18 cb0071",  # paths 1 and 2 of 203.0.113.0/24
)

# From a 2-octet AS speaker: AS_TRANS in AS_PATH and AGGREGATOR, real numbers in AS4_PATH/AS4_AGGREGATOR.
UPDATE_AS4 = update(
    attributes="""
    40 01 01 00
    40 02 0a 02 04 fbf4 5ba0 5ba0 fbf5                  # AS_PATH 64500 23456 23456 64501
    40 03 04 c0000201
    c0 07 06 5ba0 c0000201                              # AGGREGATOR AS_TRANS 192.0.2.1
    c0 11 0e 02 03 fa56ea01 fa56ea02 0000fbf5           # AS4_PATH 4200000001 4200000002 64501
    c0 12 08 fa56ea02 c0000201                          # AS4_AGGREGATOR 4200000002 192.0.2.1
""",
    nlri="18 cb0071",
)

# VPNv4 (SAFI 128) is carried opaque: next hop with its route distinguisher, labelled NLRI.
UPDATE_VPNV4 = update(
    attributes="""
    80 0e 20 0001 80 0c 0000000000000000 c0000201 00    # AFI 1 SAFI 128, RD 0:0 + 192.0.2.1, reserved
       70 000641 0000fbf400000001 0a0000                # label 100, RD 64500:1, 10.0.0.0/24 (112 bits)
    40 01 01 00  40 02 06 02 01 0000fbf4
"""
)

# IPv4 NLRI with an IPv6 next hop (RFC 8950).
UPDATE_IPV4_V6_NEXT_HOP = update(
    attributes="""
    80 0e 19 0001 01 10 20010db8000000000000000000000001 00 18 cb0071
    40 01 01 00  40 02 06 02 01 0000fbf4
"""
)

END_OF_RIB_IPV4 = update()
END_OF_RIB_IPV6 = update(attributes="80 0f 03 0002 01")

KEEPALIVE = h(MARKER + "0013 04")
NOTIFICATION_SHUTDOWN = h(MARKER + "0025 03 06 02 0f 6d61696e74656e616e6365 20e29883")  # "maintenance ☃"
ROUTE_REFRESH_IPV6 = h(MARKER + "0017 05 0002 00 01")
ROUTE_REFRESH_BEGIN = h(MARKER + "0017 05 0001 01 01")


def decoded_facts(update):
    """Everything a decoded UPDATE tells, to compare two decodings of the same octets (with and
    without an AttributeBlocks cache)."""
    return (
        update.error_action,
        update.errors,
        update.reason,
        [(a.flags, a.code, a.data, a.value) for a in update.attributes],
        [(code, a.flags, a.data, a.value) for code, a in update.effective.items()],
        update.withdrawn,
        update.nlri,
        update.withdrawals(),
        update.origin_as(),
        update.end_of_rib(),
        [
            (r.prefix, r.next_hop, [(code, a.data, a.value) for code, a in r.attributes.items()])
            for r in update.routes()
        ],
    )


def decode_cached(raw, ctx, **options):
    """The facts of `raw` decoded with a fresh AttributeBlocks three times (decoded, then kept, then
    taken from it), each checked equal to a decoding without it; the last Update."""
    from peerwarden_runner.codec import decode_update
    from peerwarden_runner.codec.attribute_blocks import AttributeBlocks

    plain = decoded_facts(decode_update(raw, ctx, **options))
    blocks = AttributeBlocks()
    for dummy in range(3):
        update = decode_update(raw, ctx, blocks=blocks, **options)
        assert decoded_facts(update) == plain
    return update

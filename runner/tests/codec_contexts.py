"""The negotiated sessions the codec tests decode and encode with, one definition for all of them, and the
hand-built UPDATE fixtures with the session each is decoded in."""

import codec_fixtures as fx
from peerwarden_runner.codec import NegotiatedContext

FOUR = NegotiatedContext()  # four-octet AS numbers (the default)
TWO = NegotiatedContext(four_octet_as=False)
ADD_PATH = NegotiatedContext(add_path_receive=frozenset({(1, 1), (2, 1)}))  # IPv4 and IPv6 unicast

UPDATES = [
    (fx.UPDATE_IPV4_ALL, FOUR),
    (fx.UPDATE_IPV6, FOUR),
    (fx.UPDATE_ADD_PATH, ADD_PATH),
    (fx.UPDATE_AS4, TWO),
    (fx.UPDATE_VPNV4, FOUR),
    (fx.UPDATE_IPV4_V6_NEXT_HOP, FOUR),
    (fx.END_OF_RIB_IPV4, FOUR),
    (fx.END_OF_RIB_IPV6, FOUR),
]

"""The negotiated sessions the codec tests decode and encode with, one definition for all of them."""

from peerwarden_runner.codec import NegotiatedContext

FOUR = NegotiatedContext()  # four-octet AS numbers (the default)
TWO = NegotiatedContext(four_octet_as=False)
ADD_PATH = NegotiatedContext(add_path_receive=frozenset({(1, 1), (2, 1)}))  # IPv4 and IPv6 unicast

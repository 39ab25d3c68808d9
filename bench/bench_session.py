"""What the benches of the runner's pipeline share: the runner's package importable from a checkout
(`runner/src` is put on sys.path when it is not installed), a Sink for the session, and the OPENs
that set a session up.  Import this module before any peerwarden_runner one (its name sorts
before it, so isort keeps it there)."""

import os
import sys

try:
    import peerwarden_runner  # noqa: F401  # pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runner", "src"))
from peerwarden_runner.codec import Capability, encode_open
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER


class Sink:
    """Stands in for the proxy's session: what stages send on their own is counted, not written."""

    def __init__(self):
        self.sent = 0

    def send(self, direction, raw):
        self.sent += 1


def open_session(pipeline, sink, peer, router):
    """A session of the pipeline past its OPENs: peer and router are (AS, BGP identifier), both
    speaking IPv4 and IPv6 unicast with four-octet ASNs."""
    (peer_as, peer_id), (router_as, router_id) = peer, router
    state = pipeline.new_session(sink)
    capabilities = [
        Capability.multiprotocol(c.AFI_IPV4, c.SAFI_UNICAST),
        Capability.multiprotocol(c.AFI_IPV6, 1),
        Capability.four_octet_as(peer_as),
    ]
    pipeline.process(state, TO_ROUTER, c.OPEN, encode_open(peer_as, 90, peer_id, capabilities))
    pipeline.process(
        state,
        TO_PEER,
        c.OPEN,
        encode_open(router_as, 90, router_id, capabilities[:2] + [Capability.four_octet_as(router_as)]),
    )
    return state

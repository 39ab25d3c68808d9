"""Route origin validation inline: invalid routes do not reach the receiver; when the VRPs change,
routes already passed are validated again and withdrawn, and routes held back are announced.

(bgpipe keeps VRPs forever and never looks back at routes it passed; RFC 8210 expiry is the RTR
client's job, re-validation is this stage's.)
"""
import logging

from peerwarden_runner.codec import constants as c
from peerwarden_runner.routes import encode_routes
from peerwarden_runner.rpki import RouteValidity, affected_filter
from peerwarden_runner.stages import Stage

LOG = logging.getLogger("peerwarden_runner.rpki")


_FAMILIES = {c.AFI_IPV4: (4, 32, 4), c.AFI_IPV6: (6, 128, 16)}


def rpki_prefix(prefix):
    """The codec's Prefix as the (version, network int with host bits zero, length) the VRP table
    takes, or None for a family RPKI does not cover."""
    family = _FAMILIES.get(prefix.afi)
    if family is None:
        return None
    version, bits, width = family
    host = bits - prefix.length
    return version, int.from_bytes(prefix.packed.ljust(width, b"\0"), "big") >> host << host, prefix.length


class RpkiStage(Stage):
    name = "rpki"

    def __init__(self, table, metrics=None):
        self.table, self.metrics = table, metrics
        # the table's integer fast paths: a full table is a million routes (bench/proxy_fulltable.py)
        self.validators = {4: table.validate_ipv4, 6: table.validate_ipv6}
        self.sessions = {}

    def _validity(self, key, origin):
        return self.validators[key[0]](key[1], key[2], origin)

    def session_started(self, state):
        self.sessions[id(state)] = state

    def session_ended(self, state):
        self.sessions.pop(id(state), None)

    def update(self, state, direction, change):
        state.memory.setdefault(("rpki-directions",), set()).add(direction)
        origin = change.origin
        for route in change.routes:
            prefix = route.prefix
            key = rpki_prefix(prefix)
            if key is None:
                continue
            validity = self._validity(key, origin)
            if self.metrics:
                self.metrics.validated(validity)
            if validity == RouteValidity.INVALID:
                change.hold(route, self.name, "invalid (origin AS%s)" % origin)
                LOG.info("rpki: %s from AS%s is invalid: not sent", prefix, origin)

    def vrps_changed(self, diff):
        """Validate again the routes the change touches, in every session; send what follows."""
        if self.metrics:
            self.metrics.vrps.set(len(self.table))
        if not diff:
            return 0
        touched = affected_filter(diff.changed())
        affected = 0
        for state in list(self.sessions.values()):
            for direction in state.memory.get(("rpki-directions",), ()):
                rib = state.memory.get(("rib", direction))
                if rib is None:
                    continue
                announce, withdraw = [], []
                for prefix, (route, held, origin) in list(rib.routes.items()):
                    key = rpki_prefix(prefix)
                    if key is None or not touched(key):
                        continue
                    invalid = self._validity(key, origin) == RouteValidity.INVALID
                    if held is None and invalid:
                        rib.routes[prefix] = (route, "rpki: invalid after a VRP change", origin)
                        withdraw.append(prefix)
                    elif held is not None and held.startswith("rpki:") and not invalid:
                        rib.routes[prefix] = (route, None, origin)
                        announce.append(route)
                affected += len(announce) + len(withdraw)
                if announce or withdraw:
                    LOG.info("rpki: VRPs changed: %d route(s) announced again, %d withdrawn", len(announce),
                             len(withdraw))
                    for raw in encode_routes(announce, withdraw, state.contexts[direction]):
                        state.session.send(direction, raw)
        return affected

"""Route origin validation inline: invalid routes do not reach the receiver; when the VRPs change,
routes already passed are validated again and withdrawn, and routes held back are announced.

(bgpipe keeps VRPs forever and never looks back at routes it passed; RFC 8210 expiry is the RTR
client's job, re-validation is this stage's.)

Every UPDATE's verdicts are left on the RouteChange (`validity`, one per route, None for a family
RPKI does not cover). A session that only watches (the speaker's monitor, `watch_only`) is told
each re-validated route's state through `revalidated` and is never sent anything.
"""
import logging
from collections import Counter

from peerwarden_runner.codec import constants as c
from peerwarden_runner.route_keys import key_prefix
from peerwarden_runner.routes import encode_routes
from peerwarden_runner.rpki import RouteValidity, affected_filter
from peerwarden_runner.stages import Stage

LOG = logging.getLogger("peerwarden_runner.rpki")

INVALID = RouteValidity.INVALID
_VERSIONS = {c.AFI_IPV4: (4, 32), c.AFI_IPV6: (6, 128)}
# a prefix's packed octets as an int, host bits zero: `int.from_bytes(packed) >> _DROP[length] << lift`, where
# _DROP drops the bits past the length in the last octet and lift = address bits - length
_DROP = tuple(((length + 7) // 8) * 8 - length for length in range(129))


def rpki_prefix(prefix):
    """The codec's Prefix as the (version, network int with host bits zero, length) the VRP table
    takes, or None for a family RPKI does not cover."""
    version = _VERSIONS.get(prefix.afi)
    if version is None:
        return None
    length = prefix.length
    return version[0], int.from_bytes(prefix.packed, "big") >> _DROP[length] << version[1] - length, length


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
        validate_ipv4, validate_ipv6 = self.table.validate_ipv4, self.table.validate_ipv6
        from_bytes, drop = int.from_bytes, _DROP
        states = []
        for route in change.routes:
            afi, dummy, length, packed, dummy = route[0]
            if afi == c.AFI_IPV4:
                validity = validate_ipv4(from_bytes(packed, "big") >> drop[length] << 32 - length, length, origin)
            elif afi == c.AFI_IPV6:
                validity = validate_ipv6(from_bytes(packed, "big") >> drop[length] << 128 - length, length, origin)
            else:
                states.append(None)
                continue
            states.append(validity)
            if validity is INVALID:
                change.hold(route, self.name, "invalid (origin AS%s)" % origin)
                LOG.info("rpki: %s from AS%s is invalid: held back", route[0], origin)
        change.validity = states
        if self.metrics and states:
            for validity, count in Counter(states).items():
                if validity is not None:
                    self.metrics.validated(validity, count)

    def vrps_changed(self, diff):
        """Validate again the routes the change touches, in every session; send what follows."""
        if self.metrics:
            self.metrics.vrps.set(len(self.table))
        if not diff:
            return 0
        touched = affected_filter(diff.changed())
        affected = 0
        for state in list(self.sessions.values()):
            watch_only = getattr(state.session, "watch_only", False)
            for direction in state.memory.get(("rpki-directions",), ()):
                rib = state.memory.get(("rib", direction))
                if rib is None:
                    continue
                announce, withdraw, states = [], [], {}
                for key, (dummy, dummy, origin) in list(rib.paths.items()):
                    prefix = key_prefix(key)
                    route = rpki_prefix(prefix)
                    if route is None or not touched(route):
                        continue
                    validity = self._validity(route, origin)
                    if watch_only:
                        states[key] = validity
                    invalid = validity == INVALID
                    held = rib.holds.get(key)
                    if held is None and invalid:
                        rib.holds[key] = "rpki: invalid after a VRP change"
                        withdraw.append(prefix)
                    elif held is not None and held.startswith("rpki:") and not invalid:
                        del rib.holds[key]
                        announce.append(rib.route(key))
                affected += len(announce) + len(withdraw)
                if watch_only:  # a monitor records the new states; nothing goes to its router
                    state.session.revalidated(direction, states)
                    continue
                if announce or withdraw:
                    LOG.info("rpki: VRPs changed: %d route(s) announced again, %d withdrawn", len(announce),
                             len(withdraw))
                    for raw in encode_routes(announce, withdraw, state.contexts[direction]):
                        state.session.send(direction, raw)
        return affected

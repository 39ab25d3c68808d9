"""What route stages work on: one UPDATE as routes announced and prefixes withdrawn, and the
per-direction memory of what the receiver holds (Adj-RIB-Out) and what a stage holds back.

A stage that refuses a route calls `hold(route, stage, reason)`. The route is not announced, and
if the receiver had it from an earlier UPDATE it is withdrawn, so that a refused route is never
left stale at the receiver (bgpipe drops silently; we withdraw). Held routes are kept with their
attributes, so that a stage that changes its mind (a VRP change) can announce them again.
"""
import logging
from collections import defaultdict

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import (
    ErrorAction, decode_update, encode_update, encode_withdraw, mp_reach_attribute)

LOG = logging.getLogger("peerwarden_runner.routes")


class Rib:
    """Per session and direction: prefix -> (route, held, origin AS): held is None when the
    receiver has the route, else "stage: reason" for a route a stage holds back."""

    def __init__(self):
        self.routes = {}

    def sent(self):
        return sum(1 for entry in self.routes.values() if entry[1] is None)

    def held(self):
        return sum(1 for entry in self.routes.values() if entry[1] is not None)


class RouteChange:
    """One UPDATE in flight; `encode()` gives the messages to write on."""

    def __init__(self, raw, ctx, update, rib, metrics=None):
        self.raw, self.ctx, self.update, self.rib, self.metrics = raw, ctx, update, rib, metrics
        self.routes = update.routes()
        self.withdrawn = update.withdrawals()
        self.origin = update.origin_as() if self.routes else None
        self.changed = update.error_action != ErrorAction.NONE
        self.refused = {}

    @classmethod
    def from_update(cls, raw, ctx, rib, metrics=None):
        update = decode_update(raw, ctx)
        if update.error_action != ErrorAction.NONE:
            LOG.warning("UPDATE: RFC 7606 %s: %s", update.error_action.label, update.reason)
        return cls(raw, ctx, update, rib, metrics)

    def hold(self, route, stage, reason):
        self.refused[route.prefix] = "%s: %s" % (stage, reason)
        self.changed = True
        if self.metrics is not None:
            self.metrics.route_held(stage)

    def encode(self):
        """Record the outcome in the RIB and return the messages: the original bytes when nothing
        changed, else withdrawals and announcements rebuilt from the routes."""
        routes = self.rib.routes
        for prefix in self.withdrawn:
            routes.pop(prefix, None)
        announce, withdraw = [], list(self.withdrawn)
        for route in self.routes:
            held = self.refused.get(route.prefix)
            previous = routes.get(route.prefix)
            routes[route.prefix] = (route, held, self.origin)
            if held is None:
                announce.append(route)
            elif previous is not None and previous[1] is None:
                withdraw.append(route.prefix)  # the receiver has an older version: take it back
        if not self.changed:
            return [self.raw]
        return encode_routes(announce, withdraw, self.ctx)


def encode_routes(announce, withdraw, ctx):
    """UPDATE messages for routes (grouped by their shared attributes and next hop) and withdrawals."""
    messages = encode_withdraw(withdraw, ctx) if withdraw else []
    groups = defaultdict(list)
    for route in announce:
        groups[(id(route.attributes), route.next_hop, route.prefix.afi, route.prefix.safi)].append(route)
    for (dummy, next_hop, afi, safi), members in groups.items():
        attributes = [a for code, a in sorted(members[0].attributes.items())]
        prefixes = [route.prefix for route in members]
        # small enough for a 4096-octet message even with ADD-PATH ids and long IPv6 prefixes
        for chunk in _chunks(prefixes, 400 if afi == c.AFI_IPV4 else 150):
            if (afi, safi) == c.IPV4_UNICAST:
                messages.append(encode_update(attributes=attributes, nlri=chunk, ctx=ctx))
            else:
                reach = mp_reach_attribute(afi, safi, next_hop, chunk, ctx=ctx)
                messages.append(encode_update(attributes=_with(attributes, reach), ctx=ctx))
    return messages


def _with(attributes, reach):
    ordered = [a for a in attributes if a.code < reach.code] + [reach] + [a for a in attributes if a.code > reach.code]
    return ordered


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]

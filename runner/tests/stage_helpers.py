"""A pipeline session with both OPENs crossed, and UPDATEs built from prefixes, for the stage tests."""

from peerwarden_runner.codec import (
    DEFAULT_CONTEXT,
    AsPath,
    Capability,
    Prefix,
    decode_update,
    encode_open,
    encode_update,
    make_attribute,
    mp_reach_attribute,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, SessionReset

CAPABILITIES = [Capability.multiprotocol(c.AFI_IPV4, c.SAFI_UNICAST), Capability.multiprotocol(c.AFI_IPV6, 1)]


class Sink:
    """Stands in for the proxy's session: keeps what stages send on their own."""

    def __init__(self):
        self.sent = []
        self.shutdowns = []

    def send(self, direction, raw):
        self.sent.append((direction, raw))

    async def shutdown(self, text):
        self.shutdowns.append(text)


def open_session(pipeline, peer_as=65001, router_as=65000, endpoints=None, capabilities=CAPABILITIES):
    """A session as the proxy starts one: the peer's OPEN towards the router, the router's back."""
    state = pipeline.new_session(Sink(), endpoints)
    pipeline.process(state, TO_ROUTER, c.OPEN, encode_open(peer_as, 90, "192.0.2.1", capabilities))
    pipeline.process(state, TO_PEER, c.OPEN, encode_open(router_as, 90, "192.0.2.2", capabilities))
    return state


def announce(prefixes, path=(65001, 64500), communities=(), large=(), ctx=None):
    """One UPDATE announcing IPv4 prefixes (NLRI) or IPv6 ones (MP_REACH_NLRI) with shared attributes."""
    attributes = [
        make_attribute(c.ORIGIN, "igp"),
        make_attribute(c.AS_PATH, AsPath.sequence(*path), ctx or DEFAULT_CONTEXT),
    ]
    prefixes = [Prefix.parse(p) for p in prefixes]
    ipv6 = [p for p in prefixes if p.afi == c.AFI_IPV6]
    if ipv6:
        attributes.append(mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::1", ipv6))
    else:
        attributes.append(make_attribute(c.NEXT_HOP, "192.0.2.1"))
    if communities:
        attributes.append(make_attribute(c.COMMUNITIES, list(communities)))
    if large:
        attributes.append(make_attribute(c.LARGE_COMMUNITY, list(large)))
    attributes.sort(key=lambda a: a.code)
    return encode_update(attributes=attributes, nlri=[p for p in prefixes if p.afi == c.AFI_IPV4], ctx=ctx)


def announced(messages, ctx=None):
    """prefix text -> (communities, large communities) of every route the messages announce."""
    routes = {}
    for raw in messages:
        for route in decode_update(raw, ctx).routes():
            attributes = route.attributes
            communities = attributes[c.COMMUNITIES].value if c.COMMUNITIES in attributes else ()
            large = attributes[c.LARGE_COMMUNITY].value if c.LARGE_COMMUNITY in attributes else ()
            routes[str(route.prefix)] = (tuple(communities), tuple(large))
    return routes


def withdrawn(messages, ctx=None):
    return sorted(str(p) for raw in messages for p in decode_update(raw, ctx).withdrawals())


async def process_each(pipeline, state, direction, updates, pause=0.0):
    """What process_async returns for each UPDATE in turn (the SessionReset it raised, for one that reset)."""
    import asyncio

    results = []
    for update in updates:
        try:
            results.append(await pipeline.process_async(state, direction, c.UPDATE, update))
        except SessionReset as reset:
            results.append(reset)
        await asyncio.sleep(pause)  # lets a program's restart back-off pass
    return results

"""What route stages work on: one UPDATE as routes announced and prefixes withdrawn, and the
per-direction memory of what the receiver holds (Adj-RIB-Out) and what a stage holds back.

A stage that refuses a route calls `hold(route, stage, reason)`. The route is not announced, and
if the receiver had it from an earlier UPDATE it is withdrawn, so that a refused route is never
left stale at the receiver (bgpipe drops silently; we withdraw). Held routes are kept with their
attributes, so that a stage that changes its mind (a VRP change) can announce them again.

A full table is a million routes: the RIB keeps one dict entry per route (a bytes key, see
route_keys, and the attributes shared by the routes of the UPDATE), and an UPDATE no stage
refused is recorded by one C-level dict update per run of routes.
"""

from collections import defaultdict
from itertools import repeat
from typing import NamedTuple

from peerwarden_runner.codec import (
    ErrorAction,
    Route,
    Update,
    decode_update,
    encode_update,
    encode_withdraw,
    mp_reach_attribute,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.fast_update import ScannedUpdate, SectionAttributes, section_hop_and_origin
from peerwarden_runner.route_keys import key_prefix, route_key, run_keys

_new = tuple.__new__  # skips NamedTuple's Python-level __new__: one per UPDATE, and small UPDATEs are many


class RouteAttributes(NamedTuple):
    """What the routes of one run of an UPDATE share (one object per run, not per route)."""

    attributes: object
    next_hop: object
    origin: object


class Rib:
    """Per session and direction: `paths` maps the key (route_keys) of every route known, sent or
    held, to its RouteAttributes, or, for a route of an UPDATE the fast path scanned, to the octets
    of its attribute section alone (the next hop and origin are read from them again: `entry`);
    `holds` maps the key of a route a stage holds back to "stage: reason". Keys are bytes and the
    attributes are shared, so a route costs one dict entry and its key (and, when every prefix has
    attributes of its own, their octets), and the garbage collector has nothing per route to walk."""

    def __init__(self, ctx=None):
        """`ctx`: the direction's context, to decode the attributes kept as octets (ScannedChange)."""
        self.paths = {}
        self.holds = {}
        self.ctx = ctx

    def sent(self):
        return len(self.paths) - len(self.holds)

    def held(self):
        return len(self.holds)

    def entry(self, key):
        """The RouteAttributes of a key, None when the RIB does not know it."""
        kept = self.paths.get(key)
        if kept.__class__ is bytes:  # a scanned section's octets
            next_hop, origin = section_hop_and_origin(kept)
            return _new(RouteAttributes, (kept, next_hop, origin))
        return kept

    def route(self, key, decoded=None):
        """The Route of a key (to announce it again). `decoded`: a dict kept across calls, so that routes
        that shared an attribute section share its decoded form again (and go out in one UPDATE)."""
        attributes, next_hop, dummy = self.entry(key)
        if isinstance(attributes, bytes):  # an attribute section kept as its octets (ScannedChange)
            if decoded is None:
                attributes = SectionAttributes(attributes, self.ctx)
            else:
                section = decoded.get(attributes)
                if section is None:
                    section = decoded[attributes] = SectionAttributes(attributes, self.ctx)
                attributes = section
        return Route(key_prefix(key), next_hop, attributes)


class RouteChange:
    """One UPDATE in flight; `encode()` gives the messages to write on.

    Stages read `routes` (Route tuples), `withdrawn` (Prefixes) and `origin` (the origin AS of
    every route of the UPDATE); `keys` and `withdrawn_keys` are their route keys, in the same order.
    `refused` maps a held prefix to its "stage: reason"; `validity` is set by the rpki stage.
    """

    def __init__(self, raw, ctx, update, rib, metrics=None):
        self.raw, self.ctx, self.update, self.rib, self.metrics = raw, ctx, update, rib, metrics
        self.runs = update.route_runs()
        new = tuple.__new__  # skip NamedTuple's Python-level __new__: a full table is a million routes
        self.routes = [
            new(Route, (prefix, next_hop, shared)) for next_hop, shared, prefixes in self.runs for prefix in prefixes
        ]
        self.withdrawn = update.withdrawals()
        self.origin = update.origin_as() if self.routes else None
        self.changed = update.error_action != ErrorAction.NONE
        self.refused = {}
        self.validity = None  # the rpki stage's verdicts, one per route (stages/rpki.py)
        self._keys = self._withdrawn_keys = None

    @classmethod
    def from_update(cls, raw, ctx, rib, metrics=None, blocks=None):
        """`blocks`: the direction's AttributeBlocks (attribute sections decoded before)."""
        update = decode_update(raw, ctx, blocks=blocks)  # an RFC 7606 error is logged by the pipeline, per session
        return cls(raw, ctx, update, rib, metrics)

    @property
    def keys(self):
        if self._keys is None:
            self._keys = [key for dummy, dummy, prefixes in self.runs for key in run_keys(prefixes)]
        return self._keys

    @property
    def withdrawn_keys(self):
        if self._withdrawn_keys is None:
            self._withdrawn_keys = [route_key(prefix) for prefix in self.withdrawn]
        return self._withdrawn_keys

    @staticmethod
    def _kept(shared):
        """What the RIB keeps of a run's shared attributes."""
        return shared

    def full_as_path(self):
        """The AS path to reason about (Update.full_as_path)."""
        return self.update.full_as_path()

    def hold(self, route, stage, reason):
        self.refused[route.prefix] = "%s: %s" % (stage, reason)
        self.changed = True
        if self.metrics is not None:
            self.metrics.route_held(stage)

    def _forget_withdrawn(self, paths, holds):
        for key in self.withdrawn_keys:
            if paths.pop(key, None) is not None and holds:
                holds.pop(key, None)

    def record(self):
        """Record the outcome in the RIB without making messages (WATCH mode: nothing is written on)."""
        paths, holds, refused = self.rib.paths, self.rib.holds, self.refused
        self._forget_withdrawn(paths, holds)
        keys, start = self.keys, 0
        for next_hop, shared, prefixes in self.runs:
            run = keys[start : start + len(prefixes)]
            start += len(prefixes)
            paths.update(zip(run, repeat(self._kept_entry(next_hop, shared))))
            if refused or holds:
                for key, prefix in zip(run, prefixes):
                    reason = refused.get(prefix)
                    if reason is None:
                        holds.pop(key, None)
                    else:
                        holds[key] = reason

    def encode(self):
        """Record the outcome in the RIB and return the messages: the original bytes when nothing
        changed, else withdrawals and announcements rebuilt from the routes."""
        paths, holds = self.rib.paths, self.rib.holds
        if self.withdrawn:
            self._forget_withdrawn(paths, holds)
        if self.refused:
            return self._encode_refusals(paths, holds)
        keys, runs = self.keys, self.runs
        if len(runs) == 1:  # one attribute set: every scanned UPDATE, most decoded ones
            next_hop, shared, dummy = runs[0]
            _record_run(paths, holds, keys, self._kept_entry(next_hop, shared))
        else:
            start = 0
            for next_hop, shared, prefixes in runs:
                run = keys[start : start + len(prefixes)]
                start += len(prefixes)
                _record_run(paths, holds, run, self._kept_entry(next_hop, shared))
        if not self.changed:
            return [self.raw]
        return encode_routes(self.routes, self.withdrawn, self.ctx)

    def _kept_entry(self, next_hop, shared):
        """What the RIB keeps for the routes of a run."""
        return _new(RouteAttributes, (self._kept(shared), next_hop, self.origin))

    def _encode_refusals(self, paths, holds):
        """encode() when a stage held routes back: route by route, taking back what the receiver had."""
        refused = self.refused
        announce, withdraw = [], list(self.withdrawn)
        keys, position = self.keys, 0
        for next_hop, shared, prefixes in self.runs:
            attributes = self._kept_entry(next_hop, shared)
            for prefix in prefixes:
                key = keys[position]
                route = self.routes[position]
                position += 1
                reason = refused.get(prefix)
                sent_before = key in paths and key not in holds
                paths[key] = attributes
                if reason is None:
                    holds.pop(key, None)
                    announce.append(route)
                else:
                    holds[key] = reason
                    if sent_before:
                        withdraw.append(prefix)  # the receiver has an older version: take it back
        return encode_routes(announce, withdraw, self.ctx)


class ScannedChange(RouteChange):
    """The RouteChange of an UPDATE that codec.fast_update scanned (a common shape, found clean): the
    routes share the lazy SectionAttributes, and `update`, the full decode, is made only when a
    stage asks for it (a filter or alert stage reading the AS path)."""

    def __init__(self, raw, ctx, scanned: ScannedUpdate, rib, metrics=None):
        self.raw, self.ctx, self.rib, self.metrics = raw, ctx, rib, metrics
        self._update: Update | None = None
        nlri = scanned.nlri
        if nlri:
            next_hop, shared = scanned.next_hop, scanned.attributes
            self.runs = [(next_hop, shared, nlri)]
            self.routes = [_new(Route, (prefix, next_hop, shared)) for prefix in nlri]
            self.origin = scanned.origin
        else:
            self.runs, self.routes, self.origin = [], [], None
        self.withdrawn = scanned.withdrawn
        self.changed = False
        self.refused = {}
        self.validity = None
        self._keys = self._withdrawn_keys = None

    @property
    def update(self):
        if self._update is None:
            self._update = decode_update(self.raw, self.ctx)
        return self._update

    @update.setter
    def update(self, value):
        self._update = value

    @staticmethod
    def _kept(shared):
        """The RIB keeps the section's octets (decoded again if a route is announced again): a full
        table of routes with attributes of their own is a million of them."""
        return shared.raw

    def _kept_entry(self, next_hop, shared):
        """The section's octets alone: the next hop and origin are in them (Rib.entry reads them again)."""
        return shared.raw

    def full_as_path(self):
        """AS_PATH alone: fast_update takes only 4-octet sessions without AS4_PATH, where it is the full path."""
        if self._update is not None:
            return self._update.full_as_path()
        attribute = self.runs[0][1].get(c.AS_PATH) if self.runs else None
        if attribute is None:
            return self.update.full_as_path()
        return attribute.value


def _record_run(paths, holds, keys, kept):
    """The RIB entries of a run of keys that share what the RIB keeps, none of them held any more."""
    if len(keys) == 1:  # one prefix per UPDATE: most of a real table
        paths[keys[0]] = kept
    else:
        paths.update(zip(keys, repeat(kept)))  # a C loop
    if holds:
        for key in keys:
            holds.pop(key, None)


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
        yield items[start : start + size]

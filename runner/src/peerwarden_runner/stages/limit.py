"""Prefix limits that a Kirin-style flood cannot slip under: per session, per origin AS, per
address block, and prefix length bounds. The excess is refused (and withdrawn if the receiver had
an older version), never dropped in silence; optionally the session ends with Cease 6/1."""
import logging
from collections import Counter

from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.stages import Stage

LOG = logging.getLogger("peerwarden_runner.limit")


class LimitStage(Stage):
    name = "limit"

    def __init__(self, max_prefixes=None, max_per_origin=None, max_per_block=None, max_length=(24, 48),
                 min_length=(8, 16), cease=False):
        self.max_prefixes, self.max_per_origin, self.max_per_block = max_prefixes, max_per_origin, max_per_block
        self.max_length, self.min_length, self.cease = max_length, min_length, cease

    def _memory(self, state, direction):
        return state.memory.setdefault(("limit", direction), {"counted": {}, "total": Counter(), "origin": Counter(),
                                                                "block": Counter()})

    def update(self, state, direction, change):
        memory = self._memory(state, direction)
        for prefix in change.withdrawn:
            self._forget(memory, prefix)
        overflow = None
        for route in change.routes:
            prefix = route.prefix
            self._forget(memory, prefix)
            if prefix in change.refused:
                continue
            reason = self._refusal(memory, prefix, change.origin)
            if reason:
                change.hold(route, self.name, reason)
                overflow = overflow or reason
                continue
            block = self._block(prefix)
            memory["counted"][prefix] = (change.origin, block)
            memory["total"][prefix.afi] += 1
            memory["origin"][change.origin] += 1
            if block is not None:
                memory["block"][block] += 1
        if overflow:
            LOG.warning("limit: %s", overflow)
            if self.cease and "over" in overflow:
                raise SessionReset(6, 1, b"", "limit: %s; Cease / Maximum Number of Prefixes Reached" % overflow)

    def _refusal(self, memory, prefix, origin):
        family = 0 if prefix.afi == c.AFI_IPV4 else 1
        if prefix.length > self.max_length[family]:
            return "%s is longer than /%d" % (prefix, self.max_length[family])
        if prefix.length < self.min_length[family]:
            return "%s is shorter than /%d" % (prefix, self.min_length[family])
        if self.max_prefixes and memory["total"][prefix.afi] >= self.max_prefixes:
            return "session over max_prefixes %d" % self.max_prefixes
        if self.max_per_origin and memory["origin"][origin] >= self.max_per_origin:
            return "origin AS%s over max_per_origin %d" % (origin, self.max_per_origin)
        block = self._block(prefix)
        if block is not None and memory["block"][block] >= self.max_per_block[0]:
            return "block %s over max_per_block %d" % (block, self.max_per_block[0])
        return None

    def _block(self, prefix):
        """The IPv4 block of max_per_block's length holding the prefix (None for IPv6 or no limit)."""
        if not self.max_per_block or prefix.afi != c.AFI_IPV4 or prefix.length < self.max_per_block[1]:
            return None
        network = int.from_bytes(prefix.packed.ljust(4, b"\0"), "big")
        bits = 32 - self.max_per_block[1]
        return "%d.%d.%d.%d/%d" % (*((network >> bits << bits).to_bytes(4, "big")), self.max_per_block[1])

    @staticmethod
    def _forget(memory, prefix):
        counted = memory["counted"].pop(prefix, None)
        if counted is not None:
            origin, block = counted
            memory["total"][prefix.afi] -= 1
            memory["origin"][origin] -= 1
            if block is not None:
                memory["block"][block] -= 1

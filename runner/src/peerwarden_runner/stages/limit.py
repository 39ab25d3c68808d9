"""Prefix limits that a Kirin-style flood cannot slip under: per session, per origin AS, per
address block (IPv4: max_per_block, IPv6: max_per_block_ipv6, each COUNT/LENGTH), and prefix
length bounds. The excess is refused (and withdrawn if the receiver had
an older version), never dropped in silence; optionally the session ends with Cease 6/1."""

import ipaddress
import logging
from collections import Counter
from logging import WARNING
from typing import Any

from peerwarden_runner.codec import constants as c
from peerwarden_runner.log_summary import DECISIONS, session_name
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.schema import boolean, integer, obj, string
from peerwarden_runner.stages.base import Stage

LOG = logging.getLogger("peerwarden_runner.limit")
_ABSENT = object()
_WIDTH = {c.AFI_IPV4: (32, 4), c.AFI_IPV6: (128, 16)}
_IPV6_BLOCKS = 1 << 128  # an IPv6 block's key is its bits plus this, so it never equals an IPv4 block's


class LimitMemory:
    """Per session and direction: the origin AS of every counted route by route key (route_keys; the
    origin object is shared by the routes of an UPDATE), and the counts per family, origin and block."""

    __slots__ = ("counted", "total", "origin", "block")

    def __init__(self) -> None:
        self.counted: dict[bytes, object] = {}
        self.total: Counter[int] = Counter()
        self.origin: Counter[object] = Counter()
        self.block: Counter[int] = Counter()


def pair(text, what):
    """ "24/48" -> (24, 48): an IPv4 and an IPv6 value."""
    first, _, second = str(text).partition("/")
    if not first.isdigit() or not second.isdigit():
        raise ValueError("%s must look like 24/48 (IPv4/IPv6), not %r" % (what, text))
    return int(first), int(second)


def _block_limit(value, key, family, bits, problem):
    """(COUNT, LENGTH) of a block limit of one family, None when not given or wrong (reported)."""
    if value is None:
        return None
    try:
        count, length = pair(value, "%s (COUNT/LENGTH)" % key.rpartition(".")[2])
    except ValueError as error:
        problem(key, str(error))
        return None
    if not 1 <= length <= bits or count < 1:
        problem(key, "expected COUNT/LENGTH with COUNT >= 1 and an %s LENGTH 1-%d, got %r" % (family, bits, value))
        return None
    return count, length


class LimitStage(Stage):
    """Route stage, one per direction that lists it; holds routes back and may end the session, so
    never on a speaker's monitor."""

    name = "limit"
    watch_refusal = (
        "limit holds routes back from a receiver and can end the session with a Cease; a monitor has no "
        "receiver and must never write to its router"
    )

    @classmethod
    def schema(cls):
        lengths = string(r"^[0-9]+/[0-9]+$", "IPv4/IPv6 prefix lengths, like 24/48")
        return obj(
            {
                "max_prefixes": integer(1),
                "max_per_origin": integer(1),
                "max_per_block": string(r"^[0-9]+/[0-9]+$", "COUNT/LENGTH (IPv4), like 64/16"),
                "max_per_block_ipv6": string(r"^[0-9]+/[0-9]+$", "COUNT/LENGTH (IPv6), like 64/32"),
                "max_length": lengths,
                "min_length": lengths,
                "cease": boolean(),
            }
        )

    @classmethod
    def check(cls, section, problem):
        if section is None:
            return None
        if not isinstance(section, dict):
            problem("limit", "expected a mapping")
            return None
        limit: dict[str, Any] = {"cease": bool(section.get("cease", False))}
        for field in ("max_prefixes", "max_per_origin"):
            value = section.get(field)
            if value is not None and (not isinstance(value, int) or value < 1):
                problem("limit." + field, "expected a positive number, got %r" % (value,))
            limit[field] = value
        for field, default in (("max_length", "24/48"), ("min_length", "8/16")):
            try:
                limit[field] = pair(section.get(field, default), field)
            except ValueError as error:
                problem("limit." + field, str(error))
                continue
            if limit[field][0] > 32 or limit[field][1] > 128:
                problem("limit." + field, "%s is not a prefix length (IPv4 0-32 / IPv6 0-128)" % (section.get(field),))
        if all(isinstance(limit.get(f), tuple) for f in ("max_length", "min_length")) and any(
            low > high for low, high in zip(limit["min_length"], limit["max_length"])
        ):
            problem(
                "limit.min_length",
                "min_length %s is longer than max_length %s: no prefix would pass"
                % ("%d/%d" % limit["min_length"], "%d/%d" % limit["max_length"]),
            )
        for field, family, bits in (("max_per_block", "IPv4", 32), ("max_per_block_ipv6", "IPv6", 128)):
            limit[field] = _block_limit(section.get(field), "limit." + field, family, bits, problem)
        return limit

    @classmethod
    def build(cls, section, context):
        return cls(**section)

    def __init__(
        self,
        max_prefixes=None,
        max_per_origin=None,
        max_per_block=None,
        max_length=(24, 48),
        min_length=(8, 16),
        cease=False,
        max_per_block_ipv6=None,
    ):
        self.max_prefixes, self.max_per_origin = max_prefixes, max_per_origin
        # (COUNT, LENGTH) by family: the block limits given
        self.blocks = {
            afi: limit
            for afi, limit in ((c.AFI_IPV4, max_per_block), (c.AFI_IPV6, max_per_block_ipv6))
            if limit is not None
        }
        self.max_length, self.min_length, self.cease = max_length, min_length, cease

    def _memory(self, state, direction):
        memory = state.memory.get(("limit", direction))
        if memory is None:
            memory = state.memory[("limit", direction)] = LimitMemory()
        return memory

    def update(self, state, direction, change):
        memory = self._memory(state, direction)
        counted = memory.counted
        pop = counted.pop
        for key, prefix in zip(change.withdrawn_keys, change.withdrawn):
            previous = pop(key, _ABSENT)
            if previous is not _ABSENT:
                self._uncount(memory, prefix, previous)
        routes, keys = change.routes, change.keys
        for key, route in zip(keys, routes):  # a new version replaces the counted one
            previous = pop(key, _ABSENT)
            if previous is not _ABSENT:
                self._uncount(memory, route[0], previous)
        origin, refused, overflow, blocks = change.origin, change.refused, None, self.blocks
        total, block_counts = memory.total, memory.block
        origin_count = memory.origin[origin]
        max_prefixes, max_per_origin = self.max_prefixes or 0, self.max_per_origin or 0
        (max_ipv4, max_ipv6), (min_ipv4, min_ipv6) = self.max_length, self.min_length
        for key, route in zip(keys, routes):
            prefix = route[0]
            if key in counted or refused and prefix in refused:
                continue  # the same prefix twice in the UPDATE, or a stage before this one held it
            afi, length = prefix[0], prefix[2]
            ipv4 = afi == c.AFI_IPV4
            reason = None
            if length > (max_ipv4 if ipv4 else max_ipv6):
                kind, reason = "too long", "%s is longer than /%d" % (prefix, max_ipv4 if ipv4 else max_ipv6)
            elif length < (min_ipv4 if ipv4 else min_ipv6):
                kind, reason = "too short", "%s is shorter than /%d" % (prefix, min_ipv4 if ipv4 else min_ipv6)
            elif max_prefixes and total[afi] >= max_prefixes:
                kind, reason = "max_prefixes", "session over max_prefixes %d" % max_prefixes
            elif max_per_origin and origin_count >= max_per_origin:
                kind, reason = "max_per_origin", "origin AS%s over max_per_origin %d" % (origin, max_per_origin)
            block = self._block(prefix) if blocks else None
            if reason is None and block is not None and block_counts[block] >= blocks[afi][0]:
                kind = "max_per_block" if ipv4 else "max_per_block_ipv6"
                reason = "block %s over %s %d" % (self._block_text(afi, block), kind, blocks[afi][0])
            if reason:
                change.hold(route, self.name, reason)
                overflow = overflow or reason
                # counted, one WARNING line per interval and reason (log_summary); each route at DEBUG
                DECISIONS.record(
                    LOG, session_name(state), self.name, "held back: " + kind, "%s: %s", prefix, reason, level=WARNING
                )
                continue
            counted[key] = origin
            total[afi] += 1
            origin_count += 1
            if block is not None:
                block_counts[block] += 1
        memory.origin[origin] = origin_count
        if overflow:
            if self.cease and "over" in overflow:
                raise SessionReset(6, 1, b"", "limit: %s; Cease / Maximum Number of Prefixes Reached" % overflow)

    def _block(self, prefix):
        """The block of its family's block limit holding the prefix, as the int of its first LENGTH bits
        (plus _IPV6_BLOCKS for IPv6); None for a family without a limit or a prefix shorter than LENGTH."""
        limit = self.blocks.get(prefix.afi)
        if limit is None or prefix.length < limit[1]:
            return None
        bits, width = _WIDTH[prefix.afi]
        block = int.from_bytes(prefix.packed.ljust(width, b"\0"), "big") >> bits - limit[1]
        return block if prefix.afi == c.AFI_IPV4 else block + _IPV6_BLOCKS

    def _block_text(self, afi, block):
        length = self.blocks[afi][1]
        if afi == c.AFI_IPV4:
            return "%s/%d" % (ipaddress.IPv4Address(block << 32 - length), length)
        return "%s/%d" % (ipaddress.IPv6Address(block - _IPV6_BLOCKS << 128 - length), length)

    def _uncount(self, memory, prefix, origin):
        memory.total[prefix.afi] -= 1
        memory.origin[origin] -= 1
        block = self._block(prefix)
        if block is not None:
            memory.block[block] -= 1

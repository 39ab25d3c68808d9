"""Prefix limits that a Kirin-style flood cannot slip under: per session, per origin AS, per
address block, and prefix length bounds. The excess is refused (and withdrawn if the receiver had
an older version), never dropped in silence; optionally the session ends with Cease 6/1."""

import logging
from collections import Counter
from typing import Any

from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.schema import boolean, integer, obj, string
from peerwarden_runner.stages.base import Stage

LOG = logging.getLogger("peerwarden_runner.limit")
_ABSENT = object()


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
                "max_per_block": string(r"^[0-9]+/[0-9]+$", "COUNT/LENGTH, like 64/16"),
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
        block = section.get("max_per_block")
        limit["max_per_block"] = None
        if block is not None:
            try:
                limit["max_per_block"] = pair(block, "max_per_block (COUNT/LENGTH)")
            except ValueError as error:
                problem("limit.max_per_block", str(error))
            else:
                if not 1 <= limit["max_per_block"][1] <= 32 or limit["max_per_block"][0] < 1:
                    problem(
                        "limit.max_per_block",
                        "expected COUNT/LENGTH with COUNT >= 1 and an IPv4 LENGTH 1-32, got %r" % (block,),
                    )
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
    ):
        self.max_prefixes, self.max_per_origin, self.max_per_block = max_prefixes, max_per_origin, max_per_block
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
        origin, refused, overflow = change.origin, change.refused, None
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
                reason = "%s is longer than /%d" % (prefix, max_ipv4 if ipv4 else max_ipv6)
            elif length < (min_ipv4 if ipv4 else min_ipv6):
                reason = "%s is shorter than /%d" % (prefix, min_ipv4 if ipv4 else min_ipv6)
            elif max_prefixes and total[afi] >= max_prefixes:
                reason = "session over max_prefixes %d" % max_prefixes
            elif max_per_origin and origin_count >= max_per_origin:
                reason = "origin AS%s over max_per_origin %d" % (origin, max_per_origin)
            block = self._block(prefix) if self.max_per_block else None
            if reason is None and block is not None and block_counts[block] >= self.max_per_block[0]:
                reason = "block %s over max_per_block %d" % (self._block_text(block), self.max_per_block[0])
            if reason:
                change.hold(route, self.name, reason)
                overflow = overflow or reason
                continue
            counted[key] = origin
            total[afi] += 1
            origin_count += 1
            if block is not None:
                block_counts[block] += 1
        memory.origin[origin] = origin_count
        if overflow:
            LOG.warning("limit: %s", overflow)
            if self.cease and "over" in overflow:
                raise SessionReset(6, 1, b"", "limit: %s; Cease / Maximum Number of Prefixes Reached" % overflow)

    def _block(self, prefix):
        """The IPv4 block of max_per_block's length holding the prefix, as the int of its first
        max_per_block[1] bits (None for IPv6, a shorter prefix or no limit)."""
        if not self.max_per_block or prefix.afi != c.AFI_IPV4 or prefix.length < self.max_per_block[1]:
            return None
        return int.from_bytes(prefix.packed.ljust(4, b"\0"), "big") >> 32 - self.max_per_block[1]

    def _block_text(self, block):
        length = self.max_per_block[1]
        return "%d.%d.%d.%d/%d" % (*(block << 32 - length).to_bytes(4, "big"), length)

    def _uncount(self, memory, prefix, origin):
        memory.total[prefix.afi] -= 1
        memory.origin[origin] -= 1
        block = self._block(prefix)
        if block is not None:
            memory.block[block] -= 1

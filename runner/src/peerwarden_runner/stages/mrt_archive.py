"""The MRT archive watcher: every message as it was written on, as BGP4MP_ET records (mrt.py) in
rotating files, with a state change record when a direction reaches Established and when the
session ends. The peer of a record is the message's sender (its AS from its OPEN, its address
from its socket), the local side its receiver; the AS of a side whose OPEN has not crossed yet is 0."""

import time

from peerwarden_runner.archive import FlushSoon, MrtArchive
from peerwarden_runner.codec import constants as c
from peerwarden_runner.directions import other
from peerwarden_runner.mrt import ESTABLISHED, IDLE, OPEN_CONFIRM, message_prefix, state_change_record
from peerwarden_runner.stages.base import Watcher


class MrtArchiveStage(Watcher):
    name = "archive-mrt"

    def __init__(
        self,
        directory,
        rotate_bytes=256 * 1024 * 1024,
        rotate_seconds=3600,
        compress=True,
        session_name="session",
        clock=time.time,
    ):
        self.archive = MrtArchive(
            directory, prefix=session_name, max_bytes=rotate_bytes, max_seconds=rotate_seconds, compress=compress
        )
        self.clock = clock
        self.soon = FlushSoon(self.archive.flush)

    @staticmethod
    def _sides(state, direction) -> tuple[int, int, str | None, str | None]:
        """(sender AS, receiver AS, sender address, receiver address) of a direction."""
        sender, receiver = state.opens.get(direction), state.opens.get(other(direction))
        sender_ip, receiver_ip = state.endpoints.get(direction, (None, None))
        return (sender.asn if sender else 0, receiver.asn if receiver else 0, sender_ip, receiver_ip)

    def crossed(self, state, direction, raw):
        now = self.clock()
        ctx = state.contexts.get(direction)
        sender, receiver = state.opens.get(direction), state.opens.get(other(direction))
        cached = state.memory.get(("mrt-prefix", direction))
        if cached is None or cached[0] is not ctx or cached[1] is not sender or cached[2] is not receiver:
            # what every record of the direction shares, made again only when an OPEN or the context changed
            four_octet = ctx.four_octet_as if ctx is not None else True
            add_path = bool(ctx is not None and ctx.add_path_receive)
            sides = self._sides(state, direction)
            cached = (ctx, sender, receiver, sides, message_prefix(*sides, four_octet=four_octet, add_path=add_path))
            state.memory[("mrt-prefix", direction)] = cached
        sides = cached[3]
        self.archive.write(cached[4].record(now, raw))
        self.soon.wrote()
        if raw[18] == c.KEEPALIVE and ctx is not None:
            established = state.memory.setdefault(("mrt-established",), set())
            if direction not in established:
                # the receiver, in OpenConfirm, takes the sender's KEEPALIVE: Established (RFC 4271 §8.2.2)
                established.add(direction)
                self.archive.write(state_change_record(now, OPEN_CONFIRM, ESTABLISHED, *sides))

    def session_ended(self, state):
        now = self.clock()
        for direction in sorted(state.memory.get(("mrt-established",), ())):
            self.archive.write(state_change_record(now, ESTABLISHED, IDLE, *self._sides(state, direction)))
        self.archive.flush()

    def close(self):
        self.soon.cancel()
        self.archive.close()

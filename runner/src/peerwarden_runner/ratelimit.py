"""Log lines that a flood cannot multiply: at most one line per key (a source address) per interval,
the lines held back counted and reported with the next one. The keys remembered are bounded too:
beyond `max_keys` distinct keys in one interval, the others share one line."""

import logging
import time
from collections.abc import Callable

OTHERS = "<other sources>"


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.interval, self.max_keys, self.clock = logger, interval, max_keys, clock
        self.seen: dict[str, list[float]] = {}  # key -> [time of the last line, lines held back since]

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log `message % args` unless `key` was logged less than `interval` ago; True when logged."""
        now = self.clock()
        if key not in self.seen and len(self.seen) >= self.max_keys:
            self._forget(now)
            if len(self.seen) >= self.max_keys:
                key, message, args = (
                    OTHERS,
                    "%s (and more: over %d sources this interval)",
                    (
                        message % args,
                        self.max_keys,
                    ),
                )
        entry = self.seen.get(key)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            return False
        held = int(entry[1]) if entry is not None else 0
        self.seen[key] = [now, 0]
        if held:
            message, args = message + " (%d more like it in the last %d s)", (*args, held, int(self.interval))
        self.logger.log(level, message, *args)
        return True

    def _forget(self, now: float) -> None:
        for key in [key for key, (last, held) in self.seen.items() if now - last >= self.interval]:
            del self.seen[key]

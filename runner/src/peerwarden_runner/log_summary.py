"""Per-route decisions, counted: the one way the runner logs what it does to routes and messages.

A stage that holds back, drops, changes or warns about one route (or one UPDATE, one output line)
calls `record`. At DEBUG that route gets a line of its own at once. At INFO (and above) the routes
are counted per session, stage and reason, and one line per interval says how many, over how long,
with a few examples:

    bird1: rpki: 184211 route(s) held back: invalid origin in 10.0 s (e.g. 192.0.2.0/24 from AS64500; ...)

A full table that a stage refuses is a million routes: a line per route would be a million lines, a
line per interval is a handful. The interval is 10 s: a full table takes half a minute or more to
arrive, so it is summed up in a few lines per reason, and 10 s is well within a BGP hold time, so a
summary still arrives while the session it speaks of is young. What is counted is never lost: the
counts of a session are written when it ends (`flush`), and on close. The JSON log format carries
session, stage, reason, count, unit, seconds and examples as fields of their own (log_format.py).

Reasons are a short fixed text per kind of decision ("held back: invalid origin"); what varies from
route to route (the prefix, the origin AS, the path) belongs in the example, or a million reasons
would make a million lines. Beyond MAX_KEYS open counts at once, new reasons share one count per
session and stage ("other reasons"), so memory stays bounded whatever a peer sends.

Connections refused (ratelimit.py) are another thing: events per source address, where the first from a
source is written at once and only repeats are counted.

(Our own: the standard library logs and filters, it does not count; a few dozen lines.)
"""

import asyncio
import logging
import time
from collections.abc import Callable

INTERVAL = 10.0  # seconds: see above
EXAMPLES = 3  # examples per line
EXAMPLE_CHARACTERS = 300  # an example longer than this (a path of 1,000 ASes) is cut, and says so
MAX_KEYS = 1024  # (session, stage, reason) counted at once
OTHER_REASONS = "other reasons"


class _Count:
    """One (session, stage, reason) in its interval: `until` when it ends, `room` for more examples, and
    whether its routes get DEBUG lines (looked up once per interval: the level is the runner's setting)."""

    __slots__ = ("since", "until", "count", "examples", "room", "debug", "logger", "level", "unit")

    def __init__(self, since, until, room, logger, level, unit):
        self.since, self.until, self.count, self.examples, self.room = since, until, 0, [], room
        self.debug = logger.isEnabledFor(logging.DEBUG)
        self.logger, self.level, self.unit = logger, level, unit


class DecisionLog:
    def __init__(
        self,
        interval: float = INTERVAL,
        examples: int = EXAMPLES,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval, self.examples, self.max_keys, self.clock = interval, examples, max_keys, clock
        self.counts: dict[tuple[str, str, str], _Count] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def record(
        self,
        logger: logging.Logger,
        session: str,
        stage: str,
        reason: str,
        example: str,
        *args: object,
        count: int = 1,
        level: int = logging.INFO,
        unit: str = "route(s)",
    ) -> None:
        """`count` routes (or `unit`s) of `session` that `stage` decided for `reason`; `example % args`
        names one of them (a prefix and what matters about it), formatted only when it is written."""
        entry = self.counts.get((session, stage, reason))
        # the common case, a full table refused: counted in a few attribute reads (bench/pipeline_profile.py)
        if entry is not None and not entry.debug and not entry.room and self.clock() < entry.until:
            entry.count += count
            return
        if not args:  # a text of its own: never read as a format
            example, args = "%s", (example,)
        key, now, own = (session, stage, reason), self.clock(), (example, args)
        if entry is None:
            if len(self.counts) >= self.max_keys:
                key = (session, stage, OTHER_REASONS)
                entry = self.counts.get(key)
                example, args = "%s: " + example, (reason, *args)
            if entry is None:
                entry = self.counts[key] = _Count(now, now + self.interval, self.examples, logger, level, unit)
                self._arm(now)
        elif now >= entry.until:
            self._write(key, entry, now)
            entry = self.counts[key] = _Count(now, now + self.interval, self.examples, logger, level, unit)
        if entry.debug:
            logger.debug("%s: %s: %s: " + own[0], session, stage, reason, *own[1])
        entry.count += count
        if entry.room:
            entry.room -= 1
            entry.examples.append((example, args))

    def flush(self, session: str | None = None) -> None:
        """Write the counts of `session` (every session's when None) now, whatever their age."""
        now = self.clock()
        for key in [key for key in self.counts if session is None or key[0] == session]:
            self._write(key, self.counts.pop(key), now)

    def due(self) -> None:
        """Write the counts whose interval is over (the timer calls this; so may a caller without a loop)."""
        now = self.clock()
        for key in [key for key, entry in self.counts.items() if now >= entry.until]:
            self._write(key, self.counts.pop(key), now)

    def _write(self, key, entry, now):
        session, stage, reason = key
        examples = [_shortened(example % args) for example, args in entry.examples]
        entry.logger.log(
            entry.level,
            "%s: %s: %d %s %s in %.1f s (e.g. %s)",
            session,
            stage,
            entry.count,
            entry.unit,
            reason,
            now - entry.since,
            "; ".join(examples),
            extra={
                "fields": {
                    "session": session,
                    "stage": stage,
                    "reason": reason,
                    "count": entry.count,
                    "unit": entry.unit,
                    "seconds": round(now - entry.since, 3),
                    "examples": examples,
                }
            },
        )

    def _arm(self, now):
        """A timer for the oldest count, in the running event loop if there is one (else the next record,
        `due` or `flush` writes it)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is not None and self._timer_loop is loop:
            return
        first = min(entry.until for entry in self.counts.values())
        self._timer, self._timer_loop = loop.call_later(max(0.0, first - now), self._tick), loop

    def _tick(self):
        self._timer = self._timer_loop = None
        self.due()
        if self.counts:
            self._arm(self.clock())


def _shortened(text):
    if len(text) <= EXAMPLE_CHARACTERS:
        return text
    return "%s... (%d characters)" % (text[:EXAMPLE_CHARACTERS], len(text))


DECISIONS = DecisionLog()  # the runner's one summariser: DECISIONS.record(...), DECISIONS.flush(session)


def session_name(state) -> str:
    """The name a pipeline session's lines carry (a proxy session's name; "session" for the others)."""
    return getattr(state.session, "name", None) or "session"

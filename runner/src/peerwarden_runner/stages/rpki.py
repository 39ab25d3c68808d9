"""Route origin validation inline: invalid routes do not reach the receiver; when the VRPs change,
routes already passed are validated again and withdrawn, and routes held back are announced.

(bgpipe keeps VRPs forever and never looks back at routes it passed; RFC 8210 expiry is the RTR
client's job, re-validation is this stage's.)

Every UPDATE's verdicts are left on the RouteChange (`validity`, one per route, None for a family
RPKI does not cover). A session that only watches (the speaker's monitor, `watch_only`) is told
each re-validated route's state through `revalidated` and is never sent anything.

Re-validation looks at every route of every session (a full table is a million): in the runner it
runs in the background (`schedule`), a slice of routes at a time, so BGP messages keep moving. Each
slice reads a route's current state and the current VRPs, and sends what follows at once, so an
UPDATE that arrives meanwhile (validated on arrival against the same VRPs) is never undone.
"""

import asyncio
import gc
import logging
from collections import Counter

from peerwarden_runner.codec import constants as c
from peerwarden_runner.log_summary import DECISIONS, session_name
from peerwarden_runner.routes import encode_routes
from peerwarden_runner.rpki import RouteValidity, VrpDiff, VrpTable
from peerwarden_runner.rpki.prefix import DROP
from peerwarden_runner.schema import address, duration, duration_value, integer, list_of, obj, port, string
from peerwarden_runner.stages.base import Scope, Stage
from peerwarden_runner.stages.rpki_touched import TouchedKeys

LOG = logging.getLogger("peerwarden_runner.rpki")

INVALID = RouteValidity.INVALID
# between two turns of the event loop: SLICE routes looked at (well under a millisecond when the change does
# not touch them), of which at most SLICE // 8 validated again (a few milliseconds)
SLICE = 4096
RTR_ASPAS = "rpki.rtr_aspas"  # BuildContext.shared key: the RTR client's AspaTable
FIRST_SYNC_WAIT = 30  # seconds the runner waits for a first RTR sync before relaying
__all__ = ["RpkiStage"]


class RpkiStage(Stage):
    """Route stage, one for the runner (the VRPs are shared by every session); watches on a monitor."""

    name = "rpki"
    scope = Scope.RUNNER
    watch_ok = True

    @classmethod
    def schema(cls):
        cache = obj(
            {"host": address(), "port": port(), "preference": integer(1), "version": integer(0, 2)}, required=["host"]
        )
        return obj(
            {
                "file": string(expected="a VRP JSON file"),
                "caches": list_of(cache, expected="a list of {host, port, preference}"),
                "expire": duration_value(),
                "max_backoff": duration_value(),
            },
            expected="'file: PATH' (a VRP JSON file) and/or 'caches: [{host, port, preference}]'",
        )

    @classmethod
    def check(cls, section, problem):
        if section is None:
            return None
        if not isinstance(section, dict) or not (section.get("file") or section.get("caches")):
            problem("rpki", "expected 'file: PATH' (a VRP JSON file) or 'caches: [{host, port, preference}]'")
            return None
        caches = []
        for index, cache in enumerate(section.get("caches") or []):
            try:
                caches.append(
                    {
                        "host": str(cache["host"]),
                        "port": int(cache.get("port", 3323)),
                        "preference": int(cache.get("preference", index + 1)),
                        "version": cache.get("version"),  # the highest to ask in; None: 2
                    }
                )
            except (KeyError, TypeError, ValueError):
                problem("rpki.caches[%d]" % index, "expected {host: ADDRESS, port: NUMBER, preference: NUMBER}")
        return {
            "file": section.get("file"),
            "caches": sorted(caches, key=lambda c: c["preference"]),
            "expire": int(duration(section.get("expire", 7200))),
            "max_backoff": duration(section.get("max_backoff", 60)),
        }

    @classmethod
    def build(cls, section, context):
        return cls(VrpTable(), context.metrics, sources=section, shared=context.shared)

    def __init__(self, table, metrics=None, sources=None, shared=None):
        """`sources`: the checked rpki section (a file, RTR caches or both), for `start`; `shared`: where
        the RTR client's ASPAs are left for the aspa stage (RTR_ASPAS)."""
        self.table, self.metrics, self.sources = table, metrics, sources
        self.shared = shared if shared is not None else {}
        # the table's integer fast paths: a full table is a million routes (bench/proxy_fulltable.py)
        self.validators = {4: table.validate_ipv4, 6: table.validate_ipv6}
        self.sessions = {}
        self.slice_size = SLICE
        self._pending, self._worker = set(), None

    async def start(self):
        """Load the VRPs (a file, RTR caches, or both: their union); the tasks that keep them current."""
        section = self.sources
        if not section:
            return []
        tasks = []
        if section.get("file") and section.get("caches"):
            from peerwarden_runner.rpki.vrp_union import VrpUnion

            union = VrpUnion(self.table, on_change=self.schedule)
            file_table, rtr_table, on_change = union.source("file"), union.source("rtr"), None
        else:
            file_table = rtr_table = self.table

            # re-validation runs in the background, in slices: a full table takes a second to look through
            def on_change(added, removed):
                self.schedule(VrpDiff(added, removed))

        if section.get("file"):
            from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher

            watcher = VrpFileWatcher(section["file"], file_table, poll_interval=1.0, on_change=on_change)
            await watcher.load()  # a missing or broken file at start is an error, not an empty table
            tasks.append(watcher.start())
        if section.get("caches"):
            from peerwarden_runner.rpki.aspa_table import AspaTable
            from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers
            from peerwarden_runner.scrape_metrics import RtrStateCollector

            caches = [
                RtrCache(cache["host"], cache["port"], cache["preference"], cache.get("version"))
                for cache in section["caches"]
            ]
            # the ASPAs of RTR v2 caches: kept whether or not an aspa stage uses them (a withdrawal must
            # match an announcement), there for the aspa stage to take (rtr: true)
            aspas = self.shared[RTR_ASPAS] = AspaTable()
            client = RtrClient(
                caches,
                rtr_table,
                aspas=aspas,
                on_change=on_change,
                timers=RtrTimers(expire=section["expire"]),
                max_backoff=section.get("max_backoff", 60),
            )
            if self.metrics is not None:
                self.metrics.registry.register(RtrStateCollector(client))
            tasks.append(client.start())
            try:  # sessions start with VRPs, or invalid routes would pass as not-found until the first sync
                await client.wait_synced(FIRST_SYNC_WAIT)
            except TimeoutError:
                LOG.warning(
                    "no RTR cache synced within %d s; relaying anyway: routes are not-found until one does, "
                    "then validated again",
                    FIRST_SYNC_WAIT,
                )
        # the VRP tables are a million and a half long-lived objects: a full collection would walk them
        # for a second, again and again while a full table of routes comes in
        gc.collect()
        gc.freeze()
        return tasks

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
        from_bytes, drop = int.from_bytes, DROP
        states: list[RouteValidity | None] = []
        name = None
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
                # counted, one INFO line per interval (a mismatched VRP set refuses a whole table); each at DEBUG
                name = name or session_name(state)
                DECISIONS.record(LOG, name, self.name, "held back: invalid origin", "%s from AS%s", route[0], origin)
        change.validity = states
        if self.metrics and states:
            if len(states) == 1:  # one prefix per UPDATE: most of a real table
                if states[0] is not None:
                    self.metrics.validated(states[0], 1)
            else:
                for validity, count in Counter(states).items():
                    if validity is not None:
                        self.metrics.validated(validity, count)

    def vrps_changed(self, diff):
        """Validate again the routes the change touches, in every session, all at once; send what follows.
        The number of routes announced again or withdrawn. (Outside an event loop: tests, fuzzers; the
        runner uses `schedule`.)"""
        touched = self._touched(diff)
        if touched is None:
            return 0
        affected = 0
        for state, direction, rib in self._ribs():
            counts = self._revalidate(state, direction, rib, touched, touched.candidates(list(rib.paths)))
            affected += counts[0] + counts[1]
        return affected

    def schedule(self, diff):
        """Re-validate in the background, a slice at a time; returns at once. A change that comes while
        one runs is taken up after it (routes it touches that the running one has not reached yet are
        validated against the newest VRPs anyway)."""
        self._count_vrps()
        if not diff:
            return
        self._pending.update(diff.changed())
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    def revalidating(self):
        """True while a re-validation runs or waits."""
        return self._worker is not None and not self._worker.done()

    async def wait_revalidated(self):
        """Until no re-validation is running or waiting."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    async def revalidate(self, diff):
        """`vrps_changed`, a slice of SLICE routes at a time, letting the event loop run between slices."""
        touched = self._touched(diff)
        if touched is None:
            return 0
        affected = 0
        for state, direction, rib in self._ribs():
            counts = [0, 0]
            for candidates in self._slices(rib, touched):
                if self.sessions.get(id(state)) is not state:
                    break  # the session ended meanwhile
                found = self._revalidate(state, direction, rib, touched, candidates)
                counts[0] += found[0]
                counts[1] += found[1]
                await asyncio.sleep(0)
            affected += counts[0] + counts[1]
        return affected

    def _slices(self, rib, touched):
        """The RIB's keys a change may touch, a slice at a time (one, maybe empty, per SLICE keys looked at)."""
        keys = list(rib.paths)  # routes that come later are validated on arrival, against the same VRPs
        step = max(1, self.slice_size // 8)
        for start in range(0, len(keys), self.slice_size):
            candidates = touched.candidates(keys[start : start + self.slice_size])
            yield candidates[:step]
            for first in range(step, len(candidates), step):
                yield candidates[first : first + step]

    async def _work(self):
        while self._pending:
            changed, self._pending = self._pending, set()
            try:
                await self.revalidate(VrpDiff(frozenset(changed), frozenset()))
            except Exception:  # noqa: BLE001  (a bug here must not stop later re-validations)
                LOG.exception("rpki: re-validation failed")

    def close(self):
        if self._worker is not None:
            self._worker.cancel()

    def _touched(self, diff):
        """What a VRP change touches (None when nothing changed); the VRP count is updated either way."""
        self._count_vrps()
        return TouchedKeys(diff.changed()) if diff else None

    def _count_vrps(self):
        if self.metrics:
            self.metrics.vrps.set(len(self.table))

    def _ribs(self):
        """(state, direction, RIB) of every direction this stage validates, in every session."""
        for state in list(self.sessions.values()):
            for direction in list(state.memory.get(("rpki-directions",), ())):
                rib = state.memory.get(("rib", direction))
                if rib is not None:
                    yield state, direction, rib

    def _revalidate(self, state, direction, rib, touched, keys):
        """Validate again the routes of `keys` the change touches, as they are now; send what follows.
        (announced again, withdrawn)."""
        announce, withdraw, states = [], [], {}
        validities: Counter[RouteValidity] = Counter()
        holds, route_of = rib.holds, touched.route
        watch_only = getattr(state.session, "watch_only", False)
        record, name = DECISIONS.record, session_name(state)  # counted, one INFO line per interval; each at DEBUG
        for key in keys:
            entry = rib.entry(key)
            if entry is None:
                continue  # withdrawn meanwhile
            found = route_of(key)
            if found is None:
                continue
            prefix, route = found
            validity = self._validity(route, entry.origin)
            validities[validity] += 1
            if watch_only:
                states[key] = validity
            invalid = validity == INVALID
            held = holds.get(key)
            if held is None and invalid:
                holds[key] = "rpki: invalid after a VRP change"
                withdraw.append(prefix)
                record(
                    LOG, name, self.name, "held back: invalid after a VRP change", "%s from AS%s", prefix, entry.origin
                )
            elif held is not None and held.startswith("rpki:") and not invalid:
                del holds[key]
                announce.append(rib.route(key))
                record(LOG, name, self.name, "released: no longer invalid after a VRP change", "%s", prefix)
        if self.metrics:  # a re-validation is a validation, a withdrawal a route held back
            for validity, count in validities.items():
                self.metrics.validated(validity, count)
            for _prefix in withdraw:
                self.metrics.route_held(self.name)
        if watch_only:  # a monitor records the new states; nothing goes to its router
            if states:
                state.session.revalidated(direction, states)
        elif announce or withdraw:
            for raw in encode_routes(announce, withdraw, state.contexts[direction]):
                state.session.send(direction, raw)
        return len(announce), len(withdraw)

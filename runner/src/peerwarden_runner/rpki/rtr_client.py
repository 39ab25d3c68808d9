"""RTR client: keeps a VrpTable (and, in version 2, an AspaTable) in step with RPKI caches
(draft-ietf-sidrops-8210bis-27, falling back to RFC 8210 and RFC 6810).

What this adds to a single session (rtr_session):
  - several caches by preference (RFC 8210 §10: lower preference value = more preferred):
    connect to the most preferred that answers, fail over to the next, and come back to a more
    preferred one when it is reachable again;
  - the timers of §6: Refresh (poll), Retry (after a failure; with exponential back-off from
    `min_backoff` up to it, and never beyond `max_backoff`, 60 s by default) and Expire: when no
    sync has succeeded for that long, the cache's
    data is dropped and the consumer told, because stale VRPs can make valid routes invalid;
  - version negotiation (8210bis-27 §7): version 2 first (or the cache's configured `version`); a
    cache that refuses it with Unsupported Protocol Version is asked again, at once, in the
    version its Error Report names, and remembered so;
  - state for metrics: connected, cache, version, session id, serial, last sync, VRP count.

The table changes only at End of Data, in one synchronous step, and `on_change(added, removed)`
is called after each change (also when data expires or a cache switch replaced it). The ASPAs
change in the same step and tell their own `aspas.on_change(customers)`; they go with the VRPs
(flushed, expired, replaced together).
"""

import asyncio
import dataclasses
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from peerwarden_runner.rpki.aspa_table import AspaTable
from peerwarden_runner.rpki.background import Background
from peerwarden_runner.rpki.rtr_pdu import EndOfData
from peerwarden_runner.rpki.rtr_session import RtrSession, RtrSessionEnded, RtrVersionFallback
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff
from peerwarden_runner.rpki.vrp_table import VrpStore, VrpTable

LOG = logging.getLogger("peerwarden_runner.rpki.rtr")

HIGHEST_VERSION = 2
# RFC 8210 §6: allowed ranges of the intervals a cache sends in End of Data
REFRESH_RANGE = (1, 86400)
RETRY_RANGE = (1, 7200)
EXPIRE_RANGE = (600, 172800)

ChangeCallback = Callable[[frozenset[Vrp], frozenset[Vrp]], Any]
ExpireCallback = Callable[[], Any]


@dataclass(frozen=True)
class RtrCache:
    """One cache to connect to; `preference`: lower is more preferred (RFC 8210 §10); `version`: the
    highest protocol version to ask it in (None: the client's), e.g. 1 for a cache whose version 2
    is an older draft's (StayRTR 0.5 sends the ASPA PDU of 8210bis-10)."""

    host: str
    port: int = 323
    preference: int = 0
    version: int | None = None

    @property
    def label(self) -> str:
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)


@dataclass
class RtrTimers:
    """RFC 8210 §6 intervals in seconds (defaults: the RFC's recommended values)."""

    refresh: float = 3600.0
    retry: float = 600.0
    expire: float = 7200.0


@dataclass
class RtrClientState:
    """A snapshot for metrics and status pages. `cache`: of the current (or last) session;
    `data_cache`: whose VRPs the table holds; `last_sync`: epoch seconds of the last End of Data."""

    connected: bool = False
    cache: str | None = None
    data_cache: str | None = None
    protocol_version: int | None = None
    session_id: int | None = None
    serial: int | None = None
    last_sync: float | None = None
    vrps: int = 0
    aspas: int = 0
    syncs: int = 0
    connections: int = 0
    errors: int = 0
    last_error: str | None = None
    expired: bool = False
    refresh: float = 0.0
    retry: float = 0.0
    expire: float = 0.0


class RtrClient(Background):
    """Keeps `table` equal to the VRPs of the best reachable cache among `caches`.

    `timers`: initial intervals; with `use_cache_timers` the ones a version 1 or 2 cache sends in End
    of Data replace them (clamped to RFC 8210 §6 ranges). `on_change(added, removed)` and
    `on_expire()` may be plain functions or coroutine functions. A cache may also be given as
    a (host, port) or (host, port, preference) tuple.
    """

    def __init__(
        self,
        caches: Iterable[RtrCache | tuple[Any, ...]],
        table: VrpStore | None = None,
        *,
        aspas: AspaTable | None = None,
        on_change: ChangeCallback | None = None,
        on_expire: ExpireCallback | None = None,
        timers: RtrTimers | None = None,
        use_cache_timers: bool = True,
        highest_version: int = HIGHEST_VERSION,
        connect_timeout: float = 10.0,
        response_timeout: float = 60.0,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
    ):
        self.caches: list[RtrCache] = sorted(
            (cache if isinstance(cache, RtrCache) else RtrCache(*cache) for cache in caches),
            key=lambda cache: cache.preference,
        )
        if not self.caches:
            raise ValueError("an RTR client needs at least one cache")
        self.table: VrpStore = table if table is not None else VrpTable()
        self.aspas = aspas if aspas is not None else AspaTable()
        self.on_change = on_change
        self.on_expire = on_expire
        self.timers = dataclasses.replace(timers) if timers is not None else RtrTimers()
        self.use_cache_timers = use_cache_timers
        self.highest_version = highest_version
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max(max_backoff, min_backoff)
        self._versions: dict[RtrCache, int] = {}
        self._data_cache: RtrCache | None = None  # whose data the table holds
        self._session_ids: dict[RtrCache, tuple[int, int]] = {}  # cache -> (session id, serial)
        self._state = RtrClientState()
        self._last_sync_monotonic: float | None = None
        self._synced = asyncio.Event()
        self._sync_happened = asyncio.Event()
        self._session_task: asyncio.Task[None] | None = None

    # -- public ---------------------------------------------------------------------------------------

    @property
    def state(self) -> RtrClientState:
        state = dataclasses.replace(self._state)
        state.vrps = len(self.table)
        state.aspas = len(self.aspas)
        state.refresh, state.retry, state.expire = self.timers.refresh, self.timers.retry, self.timers.expire
        state.data_cache = self._data_cache.label if self._data_cache else None
        return state

    def task_name(self) -> str:
        return "rtr-client"

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Return once a first sync has completed (TimeoutError after `timeout` seconds)."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    async def run(self) -> None:
        """Connect, sync and stay in sync until cancelled."""
        watchdog = asyncio.create_task(self._expire_watchdog(), name="rtr-expire")
        failed_rounds = 0
        try:
            while True:
                if await self._one_round():
                    failed_rounds = 0
                    await asyncio.sleep(self.min_backoff * random.uniform(0.5, 1.0))  # no tight loop
                    continue
                failed_rounds += 1
                # the cache's Retry, but never more than max_backoff: a cache back after a restart is
                # tried within a minute, not the ten minutes RFC 8210's default Retry would allow
                delay = min(self.timers.retry, self.max_backoff, self.min_backoff * 2 ** min(failed_rounds - 1, 30))
                delay *= random.uniform(0.9, 1.1)  # caches restarted together are not hit together
                LOG.info("no RTR cache reachable; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
        finally:
            watchdog.cancel()
            self._state.connected = False

    # -- sessions -------------------------------------------------------------------------------------

    async def _one_round(self) -> bool:
        """Try the caches in preference order; True when some session synced at least once."""
        for cache in self.caches:
            while True:
                try:
                    return await self._session_with(cache)
                except RtrVersionFallback as fallback:
                    LOG.info("%s; retrying with version %d", fallback, fallback.version)
                    self._versions[cache] = fallback.version
                    continue  # same cache, lower version, at once
                except (TimeoutError, OSError, RtrSessionEnded) as error:
                    self._note_error(cache, error)
                    break  # next cache
                except Exception as error:  # noqa: BLE001 - a bug must not stop RPKI for good
                    LOG.exception("%s: unexpected failure", cache.label)
                    self._note_error(cache, error)
                    break
        return False

    async def _session_with(self, cache: RtrCache) -> bool:
        """Run one session. Returns True when it ended after at least one sync (or was ended on
        purpose: expiry, a preferred cache came back); raises when it failed before syncing."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(cache.host, cache.port), self.connect_timeout)
        self._state.connections += 1
        known = self._session_ids.get(cache) if self._data_cache == cache else None
        syncs_before = self._state.syncs
        session = RtrSession(
            reader,
            writer,
            table=self.table,
            aspas=self.aspas,
            version=self._versions.get(cache, self.highest_version if cache.version is None else cache.version),
            session_id=known[0] if known else None,
            serial=known[1] if known else None,
            on_end_of_data=lambda diff, end: self._end_of_data(cache, session, diff, end),
            refresh_interval=lambda: self.timers.refresh,
            retry_interval=lambda: self.timers.retry,
            response_timeout=self.response_timeout,
            label=cache.label,
        )
        self._state.connected, self._state.cache = True, cache.label
        self._state.protocol_version = session.version
        LOG.info(
            "%s: connected (version %d, %s)", cache.label, session.version, "serial %d" % known[1] if known else "reset"
        )
        session_task = self._session_task = asyncio.create_task(session.run(), name="rtr-session %s" % cache.label)
        waiting = {session_task}
        if any(other.preference < cache.preference for other in self.caches):
            waiting.add(asyncio.create_task(self._wait_for_preferred(cache), name="rtr-fail-back"))
        try:
            done, dummy_pending = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel_all(waiting)
            self._session_task = None
            self._state.connected = False
        if session_task not in done:
            LOG.info("%s: a more preferred cache is reachable again; switching (RFC 8210 §10)", cache.label)
            return True
        if session_task.cancelled():
            return True  # ended by the expiry watchdog: start over with a reset
        error = session_task.exception() or RtrSessionEnded("%s: session ended" % cache.label)
        if isinstance(error, RtrSessionEnded):
            await self._session_ended(cache, error)
        if self._state.syncs == syncs_before:
            raise error
        self._note_error(cache, error)
        return True

    async def _session_ended(self, cache: RtrCache, ended: RtrSessionEnded) -> None:
        if ended.reset:
            self._session_ids.pop(cache, None)
        if ended.flush and self._data_cache == cache:
            LOG.warning("%s: flushing its %d VRPs (RFC 8210 §5.1)", cache.label, len(self.table))
            await self._drop_data_and_tell()

    async def _wait_for_preferred(self, current: RtrCache) -> None:
        """Return when a cache preferred to `current` accepts a connection (checked every Retry
        Interval): the session with `current` is then ended in its favour (RFC 8210 §10)."""
        preferred = [cache for cache in self.caches if cache.preference < current.preference]
        while True:
            await asyncio.sleep(self.timers.retry)
            for cache in preferred:
                try:
                    dummy_reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(cache.host, cache.port), self.connect_timeout
                    )
                except (TimeoutError, OSError):
                    continue
                writer.close()
                return

    def _end_of_data(self, cache: RtrCache, session: RtrSession, diff: VrpDiff, end: EndOfData) -> Awaitable[None]:
        if self.use_cache_timers and end.refresh is not None and end.retry is not None and end.expire is not None:
            self.timers = RtrTimers(
                _clamp(end.refresh, REFRESH_RANGE), _clamp(end.retry, RETRY_RANGE), _clamp(end.expire, EXPIRE_RANGE)
            )
        self._data_cache = cache
        assert session.session_id is not None and session.serial is not None  # an End of Data set them
        self._session_ids[cache] = (session.session_id, session.serial)
        self._last_sync_monotonic = asyncio.get_running_loop().time()
        state = self._state
        state.last_sync = time.time()
        state.syncs += 1
        state.expired = False
        state.session_id, state.serial, state.protocol_version = session.session_id, session.serial, session.version
        self._synced.set()
        self._sync_happened.set()
        return self._tell(diff)

    # -- expiry ---------------------------------------------------------------------------------------

    async def _expire_watchdog(self) -> None:
        """RFC 8210 §6 Expire Interval: drop the data when no sync succeeded for that long."""
        loop = asyncio.get_running_loop()
        while True:
            self._sync_happened.clear()
            if self._last_sync_monotonic is None or self._state.expired:
                await self._sync_happened.wait()
                continue
            remaining = self._last_sync_monotonic + self.timers.expire - loop.time()
            if remaining > 0:
                try:
                    await asyncio.wait_for(self._sync_happened.wait(), remaining)
                except TimeoutError:
                    pass
                continue
            await self._expire()

    async def _expire(self) -> None:
        LOG.warning(
            "no successful RTR sync for %.0f s: dropping %d VRPs (RFC 8210 §6 Expire Interval)",
            self.timers.expire,
            len(self.table),
        )
        self._state.expired = True
        if self._session_task is not None:
            self._session_task.cancel()  # its data is gone: the next session must reset
        await self._drop_data_and_tell()
        if self.on_expire is not None:
            await _call(self.on_expire)

    def _drop_data(self) -> VrpDiff:
        self._session_ids.clear()
        self._data_cache = None
        self._state.session_id = self._state.serial = None
        self.aspas.clear()
        return self.table.clear()

    async def _drop_data_and_tell(self) -> None:
        await self._tell(self._drop_data())

    async def _tell(self, diff: VrpDiff) -> None:
        if diff and self.on_change is not None:
            await _call(self.on_change, diff.added, diff.removed)

    def _note_error(self, cache: RtrCache, error: BaseException) -> None:
        self._state.errors += 1
        self._state.last_error = "%s: %s" % (cache.label, error) if cache.label not in str(error) else str(error)
        LOG.warning("RTR %s", self._state.last_error)


async def _cancel_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel and reap tasks (their own outcome no longer matters)."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001
            pass


async def _call(callback: Callable[..., Any], *args: Any) -> None:
    """Call a consumer callback (plain or coroutine function); its errors are logged, not raised:
    a failing consumer must not take the RTR client down."""
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:  # noqa: BLE001
        LOG.exception("RTR consumer callback %r failed", callback)


def _clamp(value: float, allowed: tuple[int, int]) -> float:
    return float(min(max(value, allowed[0]), allowed[1]))

"""Keeping a VrpTable in step with a VRP JSON file that another program rewrites.

Polls the file's (mtime, size, inode) every `poll_interval` seconds: cheap, portable, and works
whether the writer rewrites in place or renames a new file over the old one (what rpki-client
does). Reading and parsing 800,000 entries takes seconds, so it runs in a worker thread; the
table is then changed in the event loop, in one synchronous step, by the difference to what the
file held before. A file that cannot be read or parsed leaves the table as it was (stale data
beats none), is reported, and is retried when it changes again.
"""

import asyncio
import inspect
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from peerwarden_runner.rpki.background import Background
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff
from peerwarden_runner.rpki.vrp_file import PathLike, VrpFileContents, VrpFileError, load_vrp_file
from peerwarden_runner.rpki.vrp_table import VrpStore

LOG = logging.getLogger("peerwarden_runner.rpki.vrp_file")

SMALL_CHANGE = 4096  # VRPs; larger changes are built aside (VrpTable.replace_all_async)

ChangeCallback = Callable[[frozenset[Vrp], frozenset[Vrp]], Any]
ErrorCallback = Callable[[VrpFileError], Any]
FileSignature = tuple[int, int, int]


def file_signature(path: str) -> FileSignature | None:
    """(mtime in ns, size, inode), or None when the file is missing."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


class PolledFile(Background):
    """A file polled for changes: `load()` (raises VrpFileError) when its signature changed; a file that
    cannot be used is logged, counted and retried once it changes again, what was loaded before kept."""

    path: str
    poll_interval: float
    log: logging.Logger = LOG
    errors = 0
    last_error: VrpFileError | None = None
    on_error: ErrorCallback | None = None
    _signature: FileSignature | None = None

    async def load(self) -> Any:
        raise NotImplementedError

    def kept(self) -> str:
        """What stays in use when the file cannot be (for the log line)."""
        raise NotImplementedError

    async def poll_once(self) -> Any:
        """Reload if the file changed since the last attempt: what `load` returned, or None (unchanged or bad)."""
        if file_signature(self.path) == self._signature:
            return None
        try:
            return await self.load()
        except VrpFileError as error:
            self.errors += 1
            self.last_error = error
            self.log.error("%s; keeping %s", error, self.kept())
            if self.on_error is not None:
                await _maybe_await(self.on_error(error))
            return None

    async def run(self) -> None:
        """Poll forever (until cancelled)."""
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_interval)


class VrpFileWatcher(PolledFile):
    """Loads `path` into `table` and reloads it whenever the file changes.

    `on_change(added, removed)` is called after each change to the table (sync or async);
    `on_error(error)` when the file cannot be used. Use `await load()` once (raises), then
    `await run()` (or `start()`/`stop()`) to keep polling.
    """

    def __init__(
        self,
        path: PathLike,
        table: VrpStore,
        on_change: ChangeCallback | None = None,
        *,
        poll_interval: float = 5.0,
        on_error: ErrorCallback | None = None,
    ):
        self.path = os.fspath(path)
        self.table = table
        self.on_change = on_change
        self.on_error = on_error
        self.poll_interval = poll_interval
        self.loads = 0
        self.errors = 0
        self.last_load: float | None = None
        self.last_error = None
        self.last_contents: VrpFileContents | None = None
        self._loaded: frozenset[Vrp] | None = None
        self._signature = None

    async def load(self) -> VrpDiff:
        """Read the file now and apply it; raises VrpFileError (the table is then unchanged)."""
        signature = file_signature(self.path)
        self._signature = signature  # even on error: retry only once the file changes
        if signature is None:
            raise VrpFileError(self.path, "no such file")
        contents, added, removed = await asyncio.to_thread(_load_and_compare, self.path, self._loaded)
        if self._loaded is None or len(added) + len(removed) > SMALL_CHANGE:
            diff = await self.table.replace_all_async(contents.vrps)  # built aside, loop keeps running
        else:
            diff = self.table.apply(added=added, removed=removed)
        self._loaded = contents.vrps
        self.last_contents = contents
        self.loads += 1
        self.last_load = time.time()
        self.last_error = None
        LOG.info(
            "%s: %d VRPs (%d entries, %d expired, %d duplicates): +%d -%d",
            self.path,
            len(contents.vrps),
            contents.entries,
            contents.expired,
            contents.duplicates,
            len(diff.added),
            len(diff.removed),
        )
        if diff and self.on_change is not None:
            await _maybe_await(self.on_change(diff.added, diff.removed))
        return diff

    def kept(self) -> str:
        return "the %d VRPs loaded before" % len(self.table)

    def task_name(self) -> str:
        return "vrp-file %s" % self.path


def _load_and_compare(
    path: str, previous: frozenset[Vrp] | None
) -> tuple[VrpFileContents, frozenset[Vrp], frozenset[Vrp]]:
    """In a worker thread: the file's contents, and what was added and removed since `previous`
    (frozensets, so comparing them off the event loop is safe)."""
    contents = load_vrp_file(path)
    if previous is None:
        return contents, contents.vrps, frozenset()
    return contents, contents.vrps - previous, previous - contents.vrps


async def watch_vrp_file(
    path: PathLike,
    table: VrpStore,
    on_change: ChangeCallback | None = None,
    poll_interval: float = 5.0,
    on_error: ErrorCallback | None = None,
) -> None:
    """Coroutine: keep `table` equal to the VRP file at `path`, forever (cancel to stop)."""
    await VrpFileWatcher(path, table, on_change, poll_interval=poll_interval, on_error=on_error).run()


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result

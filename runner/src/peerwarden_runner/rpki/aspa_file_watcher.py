"""Keeping an ASPA set in step with a JSON file another program (rpki-client) rewrites: the same
polling as the VRP file (vrp_file_watcher: mtime, size and inode every `poll_interval` seconds, the
file parsed in a worker thread, a bad file reported and the set kept as it was)."""

import asyncio
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

from peerwarden_runner.rpki.aspa_file import load_aspa_file
from peerwarden_runner.rpki.vrp_file import PathLike, VrpFileError
from peerwarden_runner.rpki.vrp_file_watcher import PolledFile, file_signature

LOG = logging.getLogger("peerwarden_runner.rpki.aspa_file")

AspaChange = Callable[[frozenset[int]], Any]  # the customer ASes whose ASPA came, went or changed


class AspaFileWatcher(PolledFile):
    """`aspas` is the file's set (customer -> providers), replaced whole on each change (readers on the
    event loop never see half of one); `on_change(customers)` after each change. `await load()` once
    (raises VrpFileError), then `start()` to keep polling."""

    def __init__(self, path: PathLike, on_change: AspaChange | None = None, *, poll_interval: float = 5.0):
        self.path = os.fspath(path)
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.log = LOG
        self.aspas: dict[int, frozenset[int]] = {}
        self.loads = 0

    async def load(self) -> frozenset[int]:
        """Read the file now and use it; the customers whose ASPA changed."""
        self._signature = file_signature(self.path)  # even on error: retried only once the file changes
        if self._signature is None:
            raise VrpFileError(self.path, "no such file")
        contents = await asyncio.to_thread(load_aspa_file, self.path)
        before, after = self.aspas, contents.aspas
        changed = frozenset(
            customer for customer in before.keys() | after.keys() if before.get(customer) != after.get(customer)
        )
        self.aspas, self.last_error = after, None
        self.loads += 1
        LOG.info(
            "%s: %d ASPAs (%d entries, %d expired): %d customer(s) changed",
            self.path,
            len(after),
            contents.entries,
            contents.expired,
            len(changed),
        )
        if changed and self.on_change is not None:
            result = self.on_change(changed)
            if inspect.isawaitable(result):
                await result
        return changed

    def kept(self) -> str:
        return "the %d ASPAs loaded before" % len(self.aspas)

    def task_name(self) -> str:
        return "aspa-file %s" % self.path

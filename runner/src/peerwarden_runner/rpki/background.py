"""A loop that keeps VRPs current in the background (the file watcher's, the RTR client's): started
once, stopped by cancelling it."""

import asyncio


class Background:
    """`start()` runs `run()` as a task (again only once it has ended); `stop()` cancels it and waits."""

    _task: asyncio.Task[None] | None = None

    def task_name(self) -> str:
        return type(self).__name__

    async def run(self) -> None:
        raise NotImplementedError

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=self.task_name())
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

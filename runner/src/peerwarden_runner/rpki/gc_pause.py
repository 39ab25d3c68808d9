"""Keeping CPython's cyclic garbage collector out of the way of bulk loads.

A million VRPs are a million GC-tracked objects (Vrp is a tuple subclass, which CPython never
untracks). While a load keeps allocating, the collector keeps deciding that its oldest
generation grew enough for a full collection, and each one walks the whole heap: about a
second of stalled event loop, several times per load. Bulk loads create no reference cycles,
so the automatic collector is paused for their duration and only the young generations are
collected at step boundaries (cheap: they hold what the last step allocated).

Pausing is re-entrant across components: whoever disabled the collector enables it again;
one that found it disabled leaves it so.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused(paused: bool = True) -> Iterator[None]:
    """Pause automatic collections for the `with` block (when `paused`)."""
    pause = GcPause()
    if paused:
        pause.pause()
    try:
        yield
    finally:
        pause.resume()


class GcPause:
    """A pause that spans several steps of an asyncio task (pause ... resume)."""

    def __init__(self) -> None:
        self._disabled_here = False

    @property
    def active(self) -> bool:
        return self._disabled_here

    def pause(self) -> None:
        if not self._disabled_here and gc.isenabled():
            gc.disable()
            self._disabled_here = True

    def resume(self) -> None:
        if self._disabled_here:
            self._disabled_here = False
            gc.enable()


def collect_young() -> None:
    """Collect generations 0 and 1 (what the paused collector would have done by now)."""
    gc.collect(1)

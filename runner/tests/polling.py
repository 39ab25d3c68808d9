"""Waiting in the runner's tests: one `until` for every polling loop, one `free_port`."""

import asyncio
import socket


async def until(predicate, timeout=5.0, what=None, interval=0.02):
    """Poll `predicate` until it holds; AssertionError after `timeout` seconds (naming `what` if given)."""
    for _attempt in range(max(1, int(timeout / interval))):
        if predicate():
            return
        await asyncio.sleep(interval)
    if predicate():
        return
    raise AssertionError("timed out waiting for %s" % what if what else "condition not reached in %s s" % timeout)


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]

"""The `workers:` key: how many processes relay the sessions, and which sessions each runs.

    workers: 2        # or auto (one per core, os.cpu_count()); default 1: one process, as before

Sessions go to workers round-robin in the order of the `sessions:` list (session 0 to worker 0,
session 1 to worker 1, ...); the speakers run in worker 0. More workers than sessions is clamped to
the number of sessions (a warning says so when the number was given, not for auto)."""

import hashlib
import os

from peerwarden_runner import schema as s

#: a limit that catches a typo (workers: 200 for 20) before it starts hundreds of processes
MOST = 256


def schema():
    return {
        "anyOf": [s.integer(1, MOST), s.enum("auto")],
        s.EXPECTED: "a number of worker processes from 1 to %d, or auto (one per core)" % MOST,
    }


def check(value, sessions, warnings):
    """The number of workers that will run: `value` as the schema accepted it (absent: 1), at most one
    per session (at least one)."""
    if value is None:
        return 1
    wanted = (os.cpu_count() or 1) if value == "auto" else value
    count = max(1, min(wanted, len(sessions)))
    if value != "auto" and count < wanted:
        warnings.append("workers: %d, but only %d session(s): %d worker(s) run" % (wanted, len(sessions), count))
    return count


def assign(sessions, count):
    """The sessions of each of `count` workers: round-robin in configuration order."""
    return [sessions[worker::count] for worker in range(count)]


def share(settings, worker):
    """The settings one worker runs: its sessions, and the speakers for worker 0 only."""
    mine = dict(settings)
    mine["sessions"] = assign(settings["sessions"], settings["workers"])[worker]
    mine["speakers"] = settings["speakers"] if worker == 0 else []
    mine["workers"] = 1
    return mine


def digest(path):
    """The SHA-256 of the configuration file: a worker started again runs only the file its parent checked."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()

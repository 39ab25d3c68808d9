"""The speaker's replay (`--replay FILE`, `replay:` in a speaker's configuration): once the session
is Established, the routes of one sender in an archive (an MRT file, ours or a route collector's,
or the JSON-lines archive) are sent to the router, at the recorded pace or as fast as the session
takes them, then End-of-RIB; each new session replays the file again from its start.

The file is scanned when the configuration is checked: the sender is chosen there (the only one
with routes, or `from:`), and a file without routes or with several senders and none chosen is
refused before anything starts. What the reader did not understand is logged with offsets."""

import asyncio
import logging
import os
import time

from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.source import ReplayError, records, scan
from peerwarden_runner.replay.updates import ReplayUpdates

LOG = logging.getLogger("peerwarden_runner.speaker")
SPEEDS = ("max", "recorded")
NEXT_HOPS = ("self", "keep")
KEYS = ("file", "from", "speed", "next_hop")
PROGRESS_SECONDS = 10.0
SENT_COUNTS = ("routes announced", "routes withdrawn")


def replay_schema():
    """The `replay:` part of a speaker's JSON Schema."""
    from peerwarden_runner import schema as s

    return s.obj(
        {
            "file": s.string(),
            "from": s.string(expected="the sender's address (MRT) or direction (JSON lines)"),
            "speed": s.enum(*SPEEDS),
            "next_hop": s.enum(*NEXT_HOPS),
        },
        required=["file"],
    )


def check_replay(value, field, report):
    """The normalised `replay:` (with the chosen sender and the scan), or None; problems through report."""
    if value is None:
        return None
    if not isinstance(value, dict):
        report(field, "expected {file: PATH, from: SENDER, speed: max|recorded, next_hop: self|keep}")
        return None
    for name in sorted(set(value) - set(KEYS)):
        report("%s.%s" % (field, name), "unknown key (expected one of %s)" % ", ".join(KEYS))
    settings = {"speed": value.get("speed", "max"), "next_hop": value.get("next_hop", "self")}
    for name, allowed in (("speed", SPEEDS), ("next_hop", NEXT_HOPS)):
        if settings[name] not in allowed:
            report("%s.%s" % (field, name), "%r (expected one of %s)" % (settings[name], ", ".join(allowed)))
    path = value.get("file")
    if not isinstance(path, str) or not path:
        report(field + ".file", "missing (expected the archive file to replay)")
        return None
    settings["file"] = os.path.abspath(path)
    try:
        settings["scan"] = found = scan(settings["file"])
        wanted = value.get("from")
        settings["from"] = found.choose(None if wanted is None else str(wanted))
    except OSError as error:
        report(field + ".file", "cannot read %s: %s" % (path, error.strerror or error))
        return None
    except ReplayError as error:
        report(field + ".from" if "from" in value else field + ".file", str(error))
        return None
    return settings


class Replay:
    def __init__(self, settings, name):
        self.settings, self.name = settings, name
        self.task: asyncio.Task | None = None
        self.runs = 0
        self.progress = {"state": "waiting for Established", "updates_sent": 0}
        found = settings["scan"]
        LOG.info(
            "%s: replay %s (%s): %d record(s), %d with routes from %s, speed %s, next hop %s",
            name,
            settings["file"],
            found.format,
            found.records,
            found.senders[settings["from"]],
            settings["from"],
            settings["speed"],
            settings["next_hop"],
        )
        for line in found.findings.lines():
            LOG.warning("%s: replay %s: not understood: %s", name, settings["file"], line)

    def start(self, session, local, asn, ebgp, end_of_rib):
        """Replay into `session` (Established), then call end_of_rib(session)."""
        self.stop()
        self.task = asyncio.create_task(self._run(session, local, asn, ebgp, end_of_rib))

    def stop(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None

    def status(self):
        return {"file": self.settings["file"], "from": self.settings["from"], "runs": self.runs, **self.progress}

    async def _run(self, session, local, asn, ebgp, end_of_rib):
        settings, name = self.settings, self.name
        self.runs += 1
        findings = Findings()
        updates = ReplayUpdates(settings["from"], session.ctx_out, local, asn, ebgp, settings["next_hop"], findings)
        loop = asyncio.get_running_loop()
        started = last_log = loop.time()
        first = None
        sent = 0
        self.progress = {"state": "replaying", "updates_sent": 0}
        try:
            for when, messages in updates.batches(records(settings["file"], findings)):
                if settings["speed"] == "recorded":
                    first = when if first is None else first
                    delay = (when - first) - (loop.time() - started)
                    if delay > 0:
                        await asyncio.sleep(delay)
                for raw in messages:
                    session.send(raw)
                sent += len(messages)
                self.progress["updates_sent"] = sent
                try:
                    await session.writer.drain()  # as fast as the session takes them
                except ConnectionError:
                    return  # the session ends; the speaker logs why
                await asyncio.sleep(0)  # the session's own reads and keepalives between batches
                if loop.time() - last_log >= PROGRESS_SECONDS:
                    last_log = loop.time()
                    LOG.info(
                        "%s: replay: %d UPDATE(s) sent, %d route(s) announced so far",
                        name,
                        sent,
                        updates.counts["routes announced"],
                    )
        except OSError as error:  # the file went away or became unreadable after the check
            LOG.error("%s: replay stopped: cannot read %s: %s", name, settings["file"], error.strerror or error)
            self.progress["state"] = "failed: %s" % (error.strerror or error)
            end_of_rib(session)  # what was sent is all there will be
            return
        end_of_rib(session)
        seconds = loop.time() - started
        self.progress = {"state": "done", "updates_sent": sent, "seconds": round(seconds, 3), "at": time.time()}
        self.progress.update(updates.counts)
        LOG.info(
            "%s: replay done in %.1f s: %d UPDATE(s), %d route(s) announced, %d withdrawn; End-of-RIB sent%s",
            name,
            seconds,
            sent,
            updates.counts["routes announced"],
            updates.counts["routes withdrawn"],
            _not_sent(updates.counts),
        )
        for line in findings.lines():
            LOG.warning("%s: replay %s: not understood: %s", name, settings["file"], line)


def _not_sent(counts):
    """ "; not sent: 5 keepalive messages, 1999 records of other senders", or ""."""
    others = ["%d %s" % (count, what) for what, count in sorted(counts.items()) if what not in SENT_COUNTS]
    return "; not sent: " + ", ".join(others) if others else ""

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stream log text through the message catalogue and aggregate findings into events.

The scan is built for files of any size: raw bytes are read in chunks, the message keywords are
located in the raw bytes (keyword_search.py: one pass for all of them, or bytes.find per keyword;
only about one line in a thousand is a candidate), and only the candidate lines are decoded and parsed. Memory holds one chunk plus one record per
(router, address, kind).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import (
    KINDS, NOT_BGP, REPEATED_AFTER, REPEATED_INSIDE, messages_for)
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, find_timestamp, iso_utc
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.header import syslog_host
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.keyword_search import keyword_search

CHUNK_SIZE = 1 << 22
MAX_PORTS = 16
MAX_SAMPLES = 5
MAX_HOURS = 24 * 31  # an event seen in more distinct hours than this reports its sightings per day

__all__ = ["LogScanner", "Selection", "syslog_host"]


class Selection:
    """What the user asked to keep: kinds, a start time, peering LANs, exclusions."""

    def __init__(self, kinds=KINDS, since=None, peering_lans=(), exclude_addresses=()):
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError("unknown kinds %s: choose from %s" % (", ".join(unknown), ", ".join(KINDS)))
        self.kinds = frozenset(kinds)
        self.since = since
        self.peering_lans = [self._network(p, "peering_lans") for p in peering_lans]
        self.excluded = [self._network(p, "exclude_addresses") for p in exclude_addresses]

    @staticmethod
    def _network(text, option):
        try:
            return ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            raise ValueError("%s: %r is not an IP address or prefix (e.g. 192.0.2.0/24, 2001:db8::/64)"
                             % (option, text))

    def reason_to_skip(self, finding, stamp):
        """None to keep the finding, else the stats key that says why it was left out."""
        if finding.kind not in self.kinds:
            return "kind_not_selected"
        if self.since is not None and stamp is not None and stamp < self.since:
            return "before_since"
        address = ipaddress.ip_address(finding.address)
        if self.peering_lans and not any(address in lan for lan in self.peering_lans if lan.version == address.version):
            return "outside_peering_lans"
        if any(address in net for net in self.excluded if net.version == address.version):
            return "excluded_address"
        return None


class Event:
    """All sightings of one (router, address, kind)."""

    __slots__ = ("router", "address", "kind", "platform", "count", "first", "last", "interface", "ports",
                 "peer_as", "sample", "hours", "locals")

    def __init__(self, router, finding, platform, stamp, line):
        self.router, self.address, self.kind = router, finding.address, finding.kind
        self.platform = platform
        self.count = 0
        self.first = self.last = stamp
        self.interface = None
        self.ports = set()
        self.peer_as = None
        self.sample = line
        self.locals = set()
        self.hours = {}  # hour (a UTC datetime on the hour) -> sightings: the report's chart over time

    def _at(self, stamp, times):
        hour = stamp.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        self.hours[hour] = self.hours.get(hour, 0) + times

    def add(self, finding, stamp, times):
        self.count += times
        if stamp is not None:
            self._at(stamp, times)
            self.first = stamp if self.first is None else min(self.first, stamp)
            self.last = stamp if self.last is None else max(self.last, stamp)
        if finding.interface:
            self.interface = finding.interface
        if finding.port is not None and len(self.ports) < MAX_PORTS:
            self.ports.add(finding.port)
        if finding.peer_as is not None:
            self.peer_as = finding.peer_as
        if finding.local is not None and len(self.locals) < MAX_PORTS:
            self.locals.add(finding.local)

    def repeated(self, times, stamp):
        """`times` more sightings, counted at the repeat line's time (or the last sighting's)."""
        self.count += times
        if stamp is not None or self.last is not None:
            self._at(stamp or self.last, times)
        if stamp is not None:
            self.last = stamp if self.last is None else max(self.last, stamp)

    def as_dict(self, fallback_time):
        record = {
            "router": self.router, "address": self.address, "kind": self.kind, "platform": self.platform,
            "count": self.count,
            "first_seen": iso_utc(self.first or fallback_time), "last_seen": iso_utc(self.last or fallback_time),
            "interface": self.interface, "ports": sorted(self.ports), "sample": self.sample,
            "local_addresses": sorted(self.locals),
        }
        if self.peer_as is not None:
            record["peer_as"] = self.peer_as
        if len(self.hours) <= MAX_HOURS:
            record["per_hour"] = {hour.strftime("%Y-%m-%dT%H:00:00Z"): n for hour, n in sorted(self.hours.items())}
        else:
            days = {}
            for hour, n in self.hours.items():
                day = hour.strftime("%Y-%m-%d")
                days[day] = days.get(day, 0) + n
            record["per_day"] = dict(sorted(days.items()))
        return record


class LogScanner:
    """Feed it log text from any number of sources; read `events()` and `stats` at the end."""

    def __init__(self, selection, zone, platform="auto", one_pass=True):
        self.selection = selection
        self.zone = zone
        self.platform = platform
        self.messages = messages_for(platform, selection.kinds)
        self.search = keyword_search(self.messages, one_pass)
        self._events = {}
        self.stats = {
            "lines_read": 0,
            "matched": dict.fromkeys(KINDS, 0),
            "not_bgp": 0,
            "not_understood": 0,
            "not_understood_samples": [],
            "skipped": {"kind_not_selected": 0, "before_since": 0, "outside_peering_lans": 0,
                        "excluded_address": 0},
            "without_timestamp": 0,
        }
        self._source_samples = []

    # -- sources -----------------------------------------------------------------------------------

    def begin_source(self):
        """Start counting for one source (a file, a command's output); pass the result to end_source()."""
        self._source_samples = []
        return self.stats["lines_read"], self.stats["not_understood"]

    def end_source(self, source, before):
        """The source's dict with its lines read and what was not understood in it (count, samples)."""
        source["lines_read"] = self.stats["lines_read"] - before[0]
        source["not_understood"] = self.stats["not_understood"] - before[1]
        source["not_understood_samples"] = self._source_samples
        return source

    # -- input -------------------------------------------------------------------------------------

    def scan_stream(self, stream, reference, router=None, fallback_router="unknown", chunk_size=None):
        """Scan a binary file object in chunks.

        `reference`: no line is later than this (file mtime, fetch time); it completes years.
        `router`: the name for every finding (a device's inventory name); without it, each line's
        syslog host is used, else `fallback_router` (a log host's file mixing many routers).
        `chunk_size`: bytes per read; smaller for compressed files, whose read() loses its whole
        chunk when the file turns out to be cut short.

        One buffer is reused for the whole stream and searched in place (start/end offsets rather
        than slices): fresh multi-megabyte buffers cost more in page faults and copies than the
        keyword search itself.
        """
        source = (router, fallback_router)
        size = chunk_size or CHUNK_SIZE
        buffer = bytearray(size)
        readinto = getattr(stream, "readinto", None)
        kept = 0  # bytes of an unfinished line at the start of the buffer
        pending = None
        while True:
            if kept == len(buffer):  # one very long line: make room and keep reading until it ends
                buffer.extend(bytes(size))
            if readinto is not None:
                with memoryview(buffer) as view:
                    count = readinto(view[kept:])
            else:
                data = stream.read(len(buffer) - kept)
                count = len(data)
                buffer[kept:kept + count] = data
            if not count:
                break
            end = kept + count
            cut = buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:
                kept = end
                continue
            pending = self._scan_buffer(buffer, cut, source, reference, pending)
            kept = end - cut
            buffer[:kept] = buffer[cut:end]
        if kept:
            self._scan_buffer(bytes(buffer[:kept]) + b"\n", kept + 1, source, reference, pending)

    def scan_text(self, text, reference, router=None, fallback_router="unknown"):
        """Scan text already in memory (CLI output)."""
        data = text.encode("utf-8", "surrogateescape") + b"\n"
        self._scan_buffer(data, len(data), (router, fallback_router), reference, None)

    # -- engine ------------------------------------------------------------------------------------

    def _scan_buffer(self, buffer, end, source, reference, pending):
        """Scan the whole lines in buffer[:end]. `pending` is the event the previous buffer's last
        line counted for, so a "last message repeated" at the start of this buffer can add to it.
        Returns the same for the next."""
        self.stats["lines_read"] += buffer.count(b"\n", 0, end)
        hits = self.search.candidates(buffer, end)
        if pending is not None and 0 not in hits:
            self._repeat_after(buffer, 0, pending, reference)
        pending = None
        for start in sorted(hits):
            line_end, message = hits[start]
            event = self._line(bytes(buffer[start:line_end]), message, source, reference)
            pending = None
            if event is not None:
                if line_end + 1 < end:
                    self._repeat_after(buffer, line_end + 1, event, reference)
                else:
                    pending = event
        return pending

    def _repeat_after(self, buffer, start, event, reference):
        """A BSD "last message repeated N times" right after a finding: N more sightings, the last
        of them at the repeat line's time (syslogd writes it when the run of repeats ends)."""
        end = buffer.find(b"\n", start)
        line = buffer[start:end]
        if b"last message repeated" in line:
            text = line.decode("utf-8", "replace")
            match = REPEATED_AFTER.search(text)
            if match:
                event.repeated(int(match.group(1)), find_timestamp(text, self.zone, reference))

    def _line(self, raw, message, source, reference):
        if message.anchor is not message.keyword:
            if message.keyword not in raw:  # the port mark in some other line
                return None
        elif message.port_mark is not None and message.port_mark not in raw:
            self.stats["not_bgp"] += 1
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r")
        repeated = REPEATED_INSIDE.search(line)
        return self.account(message.parse(line), message.platform, line, source, reference,
                            int(repeated.group(1)) if repeated else 1)

    def account(self, finding, platform, line, source, reference, times=1, stamp=None):
        """Count one parsed line (a Finding, NOT_BGP, or None when not understood) and keep it if
        selected; the event it counted for, or None. Table parsers (JunOS `show firewall log`) that
        know the time better than the line pass `stamp`."""
        if finding is None:
            self._not_understood(line)
            return None
        if finding is NOT_BGP:
            self.stats["not_bgp"] += 1
            return None
        self.stats["matched"][finding.kind] += 1
        if stamp is None:
            stamp = find_timestamp(line, self.zone, reference)
        if stamp is None:
            self.stats["without_timestamp"] += 1
        skip = self.selection.reason_to_skip(finding, stamp)
        if skip is not None:
            self.stats["skipped"][skip] += 1
            return None
        return self.record(finding, platform, stamp, line, source, times)

    def record(self, finding, platform, stamp, line, source, times):
        """Add a sighting to its event; `source` is (router, fallback_router), see scan_stream()."""
        router = source[0] or syslog_host(line) or source[1]
        key = (router, finding.address, finding.kind)
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = Event(router, finding, platform, stamp, line)
        event.add(finding, stamp, times)
        return event

    def _not_understood(self, line):
        self.stats["not_understood"] += 1
        if len(self.stats["not_understood_samples"]) < MAX_SAMPLES:
            self.stats["not_understood_samples"].append(line[:500])
        if len(self._source_samples) < MAX_SAMPLES:
            self._source_samples.append(line[:500])

    # -- output ------------------------------------------------------------------------------------

    def events(self, fallback_time):
        """Events sorted by router, kind, then address; `fallback_time` stands in for lines without a time."""
        ordered = sorted(self._events.values(), key=lambda e: (e.router, e.kind, e.address))
        return [event.as_dict(fallback_time) for event in ordered]

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""log_events from arguments to result: pick the sources, scan them, shape the answer.

Shared by the module (`source: file`, on the log host) and the action plugin (`source: device`,
on the controller, where netmiko is installed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import gzip
import os
import zlib
from datetime import datetime

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import KINDS
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, iso_utc, parse_since, parse_zone
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import LOGS
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

GZIP_MAGIC = b"\x1f\x8b"
GZIP_CHUNK = 1 << 16


def run_log_events(params, now=None):
    """Scan what `params` (the module's options) name; returns events, stats and sources.

    Raises ValueError for bad options, OSError for unreadable files and DeviceError for routers
    that cannot be read: each message says what to fix.
    """
    now = now or datetime.now(UTC)
    selection = Selection(kinds=params.get("kinds") or KINDS, since=parse_since(params.get("since"), now),
                          peering_lans=params.get("peering_lans") or (),
                          exclude_addresses=params.get("exclude_addresses") or ())
    zone = parse_zone(params.get("timezone") or "UTC")
    if params.get("source", "device") == "file":
        platform = params.get("platform") or "auto"
        if platform != "auto":
            platform = driver_for(platform).name
        scanner = LogScanner(selection, zone, platform)
        sources = _scan_files(scanner, params, now)
    else:
        driver = driver_for(params.get("platform"), LOGS)
        scanner = LogScanner(selection, zone, driver.name)
        sources = _scan_device(scanner, params, driver, now)
    warnings = ["%s: %s" % (source["name"], source["error"]) for source in sources if source.get("error")]
    return {"events": scanner.events(now), "stats": scanner.stats, "sources": sources, "warnings": warnings}


def _scan_files(scanner, params, now):
    paths = _expand(params.get("path") or [])
    router, fallback = params.get("router"), params.get("inventory_hostname") or "unknown"
    sources = []
    for path in paths:
        before = scanner.stats["lines_read"]
        reference = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        source = {"name": path, "last_modified": iso_utc(reference)}
        try:
            compressed = _is_gzip(path)
            with gzip.open(path, "rb") if compressed else open(path, "rb") as stream:
                scanner.scan_stream(stream, min(reference, now), router=router, fallback_router=fallback,
                                    chunk_size=GZIP_CHUNK if compressed else None)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            # A .gz still being written or cut short: what could be read counts, the rest is reported.
            source["error"] = "compressed data is damaged or cut short (%s): only what came before was read" % error
        source["lines_read"] = scanner.stats["lines_read"] - before
        sources.append(source)
    return sources


def _expand(patterns):
    if not patterns:
        raise ValueError("source=file needs path: a list of log files (plain or .gz; globs allowed)")
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise ValueError("path: no file matches %r" % pattern)
        for path in matches:
            if os.path.isdir(path):
                raise ValueError("path: %s is a directory; name the log files in it (e.g. %s/*.log)" % (path, path))
            if not os.path.exists(path):
                raise ValueError("path: %s does not exist: check the path (and the host it is on)" % path)
            if not os.access(path, os.R_OK):
                raise ValueError("path: %s is not readable by this user: use become, or give the user read access"
                                 % path)
            paths.append(path)
    return paths


def _is_gzip(path):
    """Told by the first bytes, not the name: rotated logs are not always named .gz."""
    with open(path, "rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def _scan_device(scanner, params, driver, now):
    device = Device(params)
    router = params.get("router") or params.get("inventory_hostname") or device.host
    source = (router, router)
    sources = []
    for capture in driver.logs(device, params):
        before = scanner.stats["lines_read"]
        if capture.parse is not None:
            entries = 0
            for finding, stamp, line in capture.parse(capture.text, scanner.zone, now):
                scanner.account(finding, driver.name, line, source, now, stamp=stamp)
                entries += 1
            scanner.stats["lines_read"] += entries
        elif capture.stream is not None:
            scanner.scan_stream(capture.stream, now, router=router, fallback_router=router)
        else:
            scanner.scan_text(capture.text, now, router=router, fallback_router=router)
        sources.append({"name": capture.name, "lines_read": scanner.stats["lines_read"] - before})
    return sources


__all__ = ["run_log_events"]

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ixp_data from options to dataset: read each source (fresh cache, network, file, or the last
good cache when a refresh fails), then merge them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from datetime import datetime
from urllib.error import HTTPError, URLError

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_export import read_ixf
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.cache import SourceCache
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.dataset import build_dataset
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, iso_utc
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import (
    DEFAULT_URL, FetchError, PeeringDB, fetch_objects, read_dump_dir, select_exchanges)


def is_url(text):
    return str(text).lower().startswith(("http://", "https://"))


def _json(body):
    """An IX-F export's JSON; a UTF-8 BOM in front (some exports and editors write one) is not an error."""
    return json.loads(body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff"))


def run_ixp_data(params, fetch, check_mode=False, now=None):
    """Returns {"dataset", "warnings", "rejected_contacts", "sources"}; FetchError when a source
    has neither an answer nor a cached copy (the message says which and why)."""
    now = now or datetime.now(UTC)
    cache = SourceCache(params.get("cache_dir") or "~/.cache/peerwarden")
    reader = _SourceReader(cache, params.get("cache_ttl", 86400), params.get("offline", False), check_mode)
    warnings, exports = [], []
    for source in params.get("ixf") or ():
        if is_url(source):
            document = reader.read(source, lambda url=source: _json(fetch(url, {"Accept": "application/json"})))
        else:
            document = reader.read_file(source)
        export, tolerated = read_ixf(document, source)
        warnings.extend(tolerated)
        exports.append(export)
    peeringdb = None
    settings = params.get("peeringdb")
    if settings:
        if settings.get("dump_dir"):
            peeringdb = select_exchanges(read_dump_dir(settings["dump_dir"]), settings.get("ix_ids"),
                                         settings.get("ix_names"), "PeeringDB dump %s" % settings["dump_dir"])
            reader.sources.append({"name": settings["dump_dir"], "from": "file"})
        else:
            url = settings.get("url") or DEFAULT_URL
            client = PeeringDB(fetch, url, settings.get("api_key"), page_size=settings.get("page_size") or 250)
            scope = settings.get("ix_ids") or settings.get("ix_names") or "all"
            # what an anonymous client sees differs from what a key sees: cached apart
            who = "with key" if settings.get("api_key") else "anonymous"
            peeringdb = reader.read("%s %s %s" % (url, json.dumps(scope, sort_keys=True), who), lambda: fetch_objects(
                client, ix_ids=settings.get("ix_ids"), ix_names=settings.get("ix_names")))
    if not exports and peeringdb is None:
        raise FetchError("no source given: set ixf (IX-F export URLs or files) and/or peeringdb")
    dataset, merged, rejected = build_dataset(exports, peeringdb, params.get("prefer") or "ixf", iso_utc(now))
    warnings.extend(reader.warnings)
    warnings.extend(merged)
    if rejected:
        warnings.append("%d contact(s) rejected as unsafe or invalid: see rejected_contacts" % len(rejected))
    return {"dataset": dataset, "warnings": warnings, "rejected_contacts": rejected, "sources": reader.sources}


class _SourceReader:
    """Fresh cache first, then the network, then a stale cache with a warning."""

    def __init__(self, cache, ttl, offline, check_mode):
        self.cache, self.ttl, self.offline, self.check_mode = cache, ttl, offline, check_mode
        self.warnings, self.sources = [], []

    def read(self, name, fetch):
        cached, age = self.cache.load(name)
        if cached is not None and (self.offline or age < self.ttl):
            self.sources.append({"name": name, "from": "cache", "age_seconds": int(age)})
            return cached
        if self.offline:
            raise FetchError("%s: offline and not in the cache (%s): run once online, or give files"
                             % (name, self.cache.directory))
        try:
            payload = fetch()
        except (FetchError, HTTPError, URLError, ValueError, OSError) as error:
            if getattr(error, "permanent", False):
                raise
            if cached is None:
                raise FetchError("%s: %s, and there is no cached copy to fall back on" % (name, _why(error)))
            self.warnings.append("%s: refresh failed (%s); using the cached copy from %d s ago"
                                 % (name, _why(error), age))
            self.sources.append({"name": name, "from": "stale cache", "age_seconds": int(age)})
            return cached
        if not self.check_mode:
            self.cache.save(name, payload)
        self.sources.append({"name": name, "from": "network"})
        return payload

    def read_file(self, path):
        try:
            with open(path, "rb") as handle:
                document = json.loads(handle.read().decode("utf-8-sig"))  # an editor's BOM is not an error
        except (IOError, OSError) as error:
            raise FetchError("IX-F file %s: %s" % (path, error.strerror or error))
        except ValueError as error:
            raise FetchError("IX-F file %s is not JSON: %s" % (path, error))
        self.sources.append({"name": path, "from": "file"})
        return document


def _why(error):
    if isinstance(error, HTTPError):
        return "HTTP %s %s" % (error.code, error.reason)
    if isinstance(error, ValueError) and not isinstance(error, FetchError):
        return "invalid JSON"
    return str(getattr(error, "reason", None) or error)

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PeeringDB: the six object types peerwarden needs, from the REST API or from dump files.

Written on the stdlib (through a fetch function, Ansible's open_url in the module) because the
PeeringDB client on PyPI (peeringdb-py) pulls in Django for a local database we do not need.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import json
import os
import socket
import time

from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

OBJECT_TYPES = ("ix", "ixlan", "ixpfx", "netixlan", "net", "poc")
DEFAULT_URL = "https://www.peeringdb.com/api"
BATCH = 100          # ids per __in filter, to keep URLs short
MAX_RETRY_AFTER = 60  # seconds; a longer Retry-After is not waited for in a play
KNOWN_SHOWN = 20     # exchanges named in the error for an unknown ix_ids / ix_names entry


def _pause(seconds):
    time.sleep(seconds)


class FetchError(Exception):
    """A source could not be read; the message names it and says why. `permanent` errors (a wrong
    key, a bad filter) are the user's to fix: no cached copy should hide them."""

    def __init__(self, message, permanent=False):
        super(FetchError, self).__init__(message)
        self.permanent = permanent


class PeeringDB:
    """A small client: paginated list requests with retries on 429 (Retry-After), 5xx and timeouts."""

    def __init__(self, fetch, url=DEFAULT_URL, api_key=None, page_size=250, retries=3, sleep=None):
        self.fetch, self.url, self.api_key = fetch, url.rstrip("/"), api_key
        self.page_size, self.retries, self.sleep = page_size, retries, sleep or _pause

    def list(self, object_type, **filters):
        """Every record of a type that matches the filters, page by page until an empty page (a
        short page does not prove the end: a server may cap the page size below what was asked)."""
        records = []
        while True:
            query = dict(filters, limit=self.page_size, skip=len(records), depth=0)
            page = self._get("%s/%s?%s" % (self.url, object_type, urlencode(sorted(query.items()))))
            if not page:
                return records
            records.extend(page)

    def list_in(self, object_type, field, values):
        """Records whose `field` is one of `values`, asked for in batches."""
        values = sorted(set(values))
        records = []
        for start in range(0, len(values), BATCH):
            batch = ",".join(str(v) for v in values[start:start + BATCH])
            records.extend(self.list(object_type, **{field + "__in": batch}))
        return records

    def _get(self, url):
        headers = {"Accept": "application/json", "User-Agent": "peerwarden"}
        if self.api_key:
            headers["Authorization"] = "Api-Key %s" % self.api_key
        problem = None
        for attempt in range(self.retries + 1):
            try:
                body = self.fetch(url, headers)
            except HTTPError as error:
                problem = "HTTP %s %s" % (error.code, error.reason)
                if error.code == 429:
                    wait = _retry_after(error.headers.get("Retry-After") if error.headers else None)
                    if wait is None or wait > MAX_RETRY_AFTER:
                        raise FetchError("PeeringDB %s: %s, Retry-After %s" % (url, problem, wait))
                    self.sleep(wait)
                    continue
                if error.code >= 500:
                    self.sleep(2 ** attempt)
                    continue
                raise FetchError("PeeringDB %s: %s%s%s" % (url, problem, _error_text(error), _advice(error.code)),
                                 permanent=True)
            except (URLError, socket.timeout, OSError) as error:
                problem = "%s" % (getattr(error, "reason", None) or error)
                self.sleep(2 ** attempt)
                continue
            try:
                data = json.loads(body)["data"]
            except (ValueError, KeyError, TypeError):
                raise FetchError("PeeringDB %s: the answer is not a PeeringDB list response (invalid JSON or no "
                                 "'data')" % url)
            if not isinstance(data, list):
                raise FetchError("PeeringDB %s: 'data' is not a list" % url)
            return data
        raise FetchError("PeeringDB %s: %s (after %d tries)" % (url, problem, self.retries + 1))


def _advice(code):
    if code in (401, 403):
        return " (check peeringdb.api_key)"
    if code == 400:
        return " (check ix_ids / ix_names)"
    return ""


def _retry_after(value):
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return None


def _error_text(error):
    try:
        text = json.loads(error.read().decode("utf-8", "replace"))["meta"]["error"]
        return ": %s" % text
    except Exception:  # pylint: disable=broad-except  # the error body is a courtesy, never required
        return ""


def fetch_objects(client, ix_ids=None, ix_names=None):
    """The objects of the exchanges asked for (all of PeeringDB when none are named)."""
    if ix_ids:
        exchanges = client.list_in("ix", "id", ix_ids)
    elif ix_names:
        exchanges = client.list_in("ix", "name", ix_names)
    else:
        return {object_type: client.list(object_type) for object_type in OBJECT_TYPES}
    check_named(exchanges, ix_ids, ix_names, "PeeringDB")
    ixlans = client.list_in("ixlan", "ix_id", [ix["id"] for ix in exchanges])
    ixlan_ids = [ixlan["id"] for ixlan in ixlans]
    netixlans = client.list_in("netixlan", "ixlan_id", ixlan_ids)
    net_ids = [netixlan["net_id"] for netixlan in netixlans]
    return {
        "ix": exchanges, "ixlan": ixlans, "ixpfx": client.list_in("ixpfx", "ixlan_id", ixlan_ids),
        "netixlan": netixlans, "net": client.list_in("net", "id", net_ids),
        "poc": client.list_in("poc", "net_id", net_ids),
    }


def check_named(found, ix_ids, ix_names, where, known=None):
    """Every id in ix_ids (or, without ids, every name in ix_names) must be among the `found`
    exchanges, else FetchError (permanent: the user's to fix) naming the missing ones, with the
    closest names (did you mean) and the known ones when `known` (every exchange there is) is given."""
    if ix_ids:
        missing = sorted(set(ix_ids) - {ix.get("id") for ix in found})
        what = "no exchange with id %s" % ", ".join(str(m) for m in missing)
        hints = ["%s (%s)" % (ix.get("id"), ix.get("name")) for ix in known or ()]
    else:
        missing = sorted(set(ix_names or ()) - {ix.get("name") for ix in found})
        what = "no exchange named %s" % ", ".join(repr(m) for m in missing)
        names = sorted(str(ix.get("name")) for ix in known or ())
        unasked = [name for name in names if name not in ix_names]  # no name that was asked for is a hint
        close = [c for m in missing for c in _close(m, unasked)]
        what += " (did you mean %s?)" % ", ".join(repr(c) for c in close) if close else ""
        hints = [repr(name) for name in names]
    if not missing:
        return
    option = "ix_ids" if ix_ids else "ix_names (names are exact, as on the exchange's PeeringDB page)"
    text = "%s has %s: check %s" % (where, what, option)
    if known is not None:
        text += "; it knows %d: %s%s" % (len(hints), ", ".join(hints[:KNOWN_SHOWN]),
                                         ", ..." if len(hints) > KNOWN_SHOWN else "")
    raise FetchError(text, permanent=True)


def _close(name, names):
    """Names that differ from `name` in case only, else the close spellings (difflib)."""
    same = [n for n in names if n.lower() == name.lower()]
    return same or difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def select_exchanges(objects, ix_ids=None, ix_names=None, where="PeeringDB dump"):
    """From a whole dump, the objects of the exchanges named, as fetch_objects asks the API for
    them (ix_ids first, else ix_names); every object when none are named."""
    if not ix_ids and not ix_names:
        return objects
    every = objects.get("ix", [])
    exchanges = [ix for ix in every if (ix.get("id") in ix_ids if ix_ids else ix.get("name") in ix_names)]
    check_named(exchanges, ix_ids, ix_names, where, known=every)
    ix_set = {ix["id"] for ix in exchanges}
    ixlans = [ixlan for ixlan in objects.get("ixlan", ()) if ixlan.get("ix_id") in ix_set]
    ixlan_ids = {ixlan.get("id") for ixlan in ixlans}
    netixlans = [n for n in objects.get("netixlan", ()) if n.get("ixlan_id") in ixlan_ids or n.get("ix_id") in ix_set]
    net_ids = {n.get("net_id") for n in netixlans}
    return {
        "ix": exchanges, "ixlan": ixlans,
        "ixpfx": [p for p in objects.get("ixpfx", ()) if p.get("ixlan_id") in ixlan_ids],
        "netixlan": netixlans, "net": [n for n in objects.get("net", ()) if n.get("id") in net_ids],
        "poc": [p for p in objects.get("poc", ()) if p.get("net_id") in net_ids],
    }


def expand_embedded(objects):
    """Lift the sets a depth=2 answer embeds (net.netixlan_set, net.poc_set, ix.ixlan_set) into
    their own lists, so a saved `net?depth=2` response reads like the separate lists."""
    objects = {object_type: list(records) for object_type, records in objects.items()}
    for net in objects.get("net", ()):
        for child, object_type in (("netixlan_set", "netixlan"), ("poc_set", "poc")):
            for record in net.get(child) or ():
                if isinstance(record, dict):
                    objects.setdefault(object_type, []).append(dict(record, net_id=net.get("id")))
    for ix in objects.get("ix", ()):
        for record in ix.get("ixlan_set") or ():
            if isinstance(record, dict):
                objects.setdefault("ixlan", []).append(dict(record, ix_id=ix.get("id")))
    return objects


def read_dump_dir(path):
    """One file per type (ix.json ... poc.json), each a list response as the API gives it."""
    objects = {}
    for object_type in OBJECT_TYPES:
        file_name = os.path.join(path, object_type + ".json")
        try:
            with open(file_name, "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))["data"]
        except (IOError, OSError) as error:
            raise FetchError("PeeringDB dump %s: %s (dump_dir needs %s)"
                             % (file_name, error.strerror or error, ", ".join(t + ".json" for t in OBJECT_TYPES)))
        except (ValueError, KeyError, TypeError):
            raise FetchError("PeeringDB dump %s is not a list response ({\"data\": [...]})" % file_name)
        if not isinstance(data, list):
            raise FetchError("PeeringDB dump %s: 'data' is not a list" % file_name)
        objects[object_type] = data
    return expand_embedded(objects)

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk cache of what each source last answered, written atomically (temp file + rename), so
a run that is killed mid-write never leaves a half file, and a failed refresh keeps the last good."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import tempfile
import time


class SourceCache:
    def __init__(self, directory):
        self.directory = os.path.expanduser(directory)

    def _path(self, source):
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
        return os.path.join(self.directory, "source-%s.json" % digest)

    def load(self, source):
        """(payload, age in seconds) of the last good answer of `source`, or (None, None)."""
        path = self._path(source)
        try:
            with open(path, "rb") as handle:
                record = json.loads(handle.read().decode("utf-8"))
            return record["payload"], max(0.0, time.time() - float(record["saved"]))
        except (IOError, OSError, ValueError, KeyError, TypeError):
            return None, None

    def save(self, source, payload):
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, 0o700)
        handle, temporary = tempfile.mkstemp(prefix=".source-", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(json.dumps({"source": source, "saved": time.time(), "payload": payload},
                                     separators=(",", ":")).encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self._path(source))
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""notify_peers' result as a report: who was written to, held back, failed or resolved."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

NOTIFICATION_COLUMNS = ("outcome", "asn", "name", "to", "message_id", "reason")


def notifications_csv(result):
    """notify_peers' result as CSV: one line per network sent to, held back, failed or resolved."""
    if not isinstance(result, dict):
        raise TypeError("expected the result that notify_peers returns (registered), got %s" % type(result).__name__)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NOTIFICATION_COLUMNS)
    for outcome, key in (("sent", "sent"), ("failed", "failed_messages"), ("skipped", "skipped_peers"),
                         ("resolved", "resolved")):
        for entry in result.get(key) or ():
            writer.writerow([outcome, entry.get("asn") if entry.get("asn") is not None else entry.get("address"),
                             entry.get("name") or entry.get("exchange") or "", " ".join(entry.get("to") or ()),
                             entry.get("message_id") or "", entry.get("reason") or ""])
    return out.getvalue()

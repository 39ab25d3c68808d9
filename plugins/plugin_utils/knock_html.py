# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan report as one self-contained HTML page (report.html beside knocks.json and knocks.csv).

The page is rendered from templates/knocks_report.html.j2 in Jinja2's immutable sandbox with
autoescaping: everything in it that came from a log (samples, router names, interface names) or
from PeeringDB is text, never markup. It has no script and nothing it loads from elsewhere (a
Content-Security-Policy says so to the browser too): styles inline, the chart inline SVG.
Tables are bounded: the top N rows, then one "and K more" row with what the rest add up to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_timeline import timeline

try:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:  # pragma: no cover - jinja2 comes with ansible-core
    ImmutableSandboxedEnvironment = None

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "knocks_report.html.j2")
REQUIRED_KEYS = ("knocks", "events", "not_understood")
OPTIONAL_KEYS = ("peers", "routers_read", "routers_failed")
MAX_ADDRESSES_PER_NETWORK = 6
CHART = {"width": 720, "height": 140}
_compiled = []


def report_html(report, top=25):
    """The page for the dict knocks.json is written from (knocks, events, not_understood; peers,
    routers_read, routers_failed when there); `top`: rows per table before "and K more"."""
    if not isinstance(report, dict):
        raise TypeError("expected the report dict that knocks.json is written from, got %s" % type(report).__name__)
    missing = [key for key in REQUIRED_KEYS if key not in report]
    unknown = sorted(set(report) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if missing or unknown:
        raise ValueError("the report needs %s (and may have %s); %s" % (
            ", ".join(REQUIRED_KEYS), ", ".join(OPTIONAL_KEYS),
            "missing: " + ", ".join(missing) if missing else "not known: " + ", ".join(unknown)))
    if isinstance(top, str) and top.strip().isdigit():  # -e peerwarden_report_top=50 gives text
        top = int(top)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError("top must be a whole number of rows, 1 or more, got %r" % (top,))
    knocks, events = _list(report, "knocks"), _list(report, "events")
    peers, entries = _list(report, "peers"), _list(report, "not_understood")
    failed = report.get("routers_failed") or {}
    if not isinstance(failed, dict):
        raise TypeError("routers_failed must be a dict of router -> why, got %s" % type(failed).__name__)
    networks_of = {record["address"]: group for group in peers for record in group["addresses"]}
    page = {
        "total": sum(int(k["count"]) for k in knocks),
        "addresses": len({k["address"] for k in knocks}),
        "first_seen": min((k["first_seen"] for k in knocks), default=None),
        "last_seen": max((k["last_seen"] for k in knocks), default=None),
        "routers_read": len(report.get("routers_read") or ()),
        "named": bool(peers),
        "networks": _bounded([_network(group) for group in peers], top, "count"),
        "routers": _bounded(_routers(events, report.get("routers_read") or ()), top, "count"),
        "knocks": _bounded([_knock(k, networks_of.get(k["address"])) for k in knocks], top, "count"),
        "failed": _bounded([{"router": r, "why": str(w)} for r, w in sorted(failed.items())], top, None),
        "not_understood": _bounded(entries, top, "count"),
        "not_understood_total": sum(int(e["count"]) for e in entries),
        "chart": _chart(timeline(events)),
    }
    return _template().render(**page)


def _list(report, key):
    value = report.get(key) or []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        raise TypeError("%s must be a list of dicts (as knocks.json has it), got %r" % (key, value))
    return value


def _bounded(rows, top, count_key):
    """The first `top` rows and what the others add up to."""
    rest = rows[top:]
    return {"rows": rows[:top], "more": len(rest), "more_count": sum(int(r[count_key]) for r in rest) if count_key else 0}


def _kinds_text(kinds):
    return ", ".join("%s %d" % (kind, count) for kind, count in sorted(kinds.items(), key=lambda i: (-i[1], i[0])))


def _network(group):
    kinds = {}
    for record in group["addresses"]:
        for kind, count in record["kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + int(count)
    addresses = [record["address"] for record in group["addresses"]]
    return {
        "asn": group["asn"], "name": group.get("name"), "count": int(group["count"]), "kinds": _kinds_text(kinds),
        "addresses": addresses[:MAX_ADDRESSES_PER_NETWORK], "more_addresses": len(addresses[MAX_ADDRESSES_PER_NETWORK:]),
        "exchanges": ", ".join(group.get("exchanges") or ()), "routers": ", ".join(group.get("routers") or ()),
        "contacts": ", ".join(group.get("contacts") or ()), "contact_role": group.get("contact_role"),
        "first_seen": group.get("first_seen"), "last_seen": group.get("last_seen"),
    }


def _routers(events, routers_read):
    rows = {router: _router_row(router) for router in routers_read}  # read, and nothing found: a row of 0
    for event in events:
        row = rows.get(event["router"]) or rows.setdefault(event["router"], _router_row(event["router"]))
        row["count"] += int(event["count"])
        row["addresses"].add(event["address"])
        row["kinds"][event["kind"]] = row["kinds"].get(event["kind"], 0) + int(event["count"])
        row["first_seen"] = min(filter(None, (row["first_seen"], event["first_seen"])))
        row["last_seen"] = max(filter(None, (row["last_seen"], event["last_seen"])))
    for row in rows.values():
        row["addresses"], row["kinds"] = len(row["addresses"]), _kinds_text(row["kinds"])
    return sorted(rows.values(), key=lambda r: (-r["count"], r["router"]))


def _router_row(router):
    return {"router": router, "count": 0, "addresses": set(), "kinds": {}, "first_seen": None, "last_seen": None}


def _knock(knock, group):
    network = None
    if group is not None:
        network = "AS%s %s" % (group["asn"], group.get("name") or "") if group["asn"] is not None else "not named"
    return dict(knock, network=network, routers=", ".join(knock.get("routers") or ()),
                ports=", ".join(str(p) for p in knock.get("ports") or ()))


def _chart(line):
    """Bar geometry for the inline SVG (the template only draws)."""
    bars, width, height = line["bars"], CHART["width"], CHART["height"]
    slot = width / len(bars) if bars else 0
    for index, column in enumerate(bars):
        column["height"] = round(height * column["count"] / line["peak"], 1) if line["peak"] else 0
        column["x"], column["y"] = round(index * slot, 1), round(height - column["height"], 1)
        column["width"] = round(max(slot - 1, 1), 1)
    return dict(line, width=width, height=height)


def _template():
    if ImmutableSandboxedEnvironment is None:  # pragma: no cover
        raise ValueError("jinja2 is needed to write report.html")
    if not _compiled:
        environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=True, trim_blocks=True,
                                                    lstrip_blocks=True)
        with open(TEMPLATE, encoding="utf-8") as handle:
            _compiled.append(environment.from_string(handle.read()))
    return _compiled[0]

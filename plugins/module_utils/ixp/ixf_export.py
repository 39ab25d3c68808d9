# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IX-F Member Export (schema 0.6, 0.7, 1.0): who has which address on an exchange's LANs.

Exports in the field carry known quirks (IXP Manager's nested vlan_list and missing timestamp,
vendor extension keys, members without connections, addresses outside the LAN prefix). They
are read anyway; every quirk tolerated is said in the warnings, and what the schema still
objects to after that is listed too rather than thrown away with the rest of the file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_schema import SCHEMA

try:
    from jsonschema import Draft4Validator
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - depends on the controller
    HAS_JSONSCHEMA = False

KNOWN_VERSIONS = ("0.6", "0.7", "1.0")
MEMBER_FIELDS = ("name", "url", "peering_policy", "peering_policy_url")
FAMILIES = (("ipv4", "max_prefix4"), ("ipv6", "max_prefix6"))
MAX_SCHEMA_WARNINGS = 10


class IxfData:
    """What one export says: exchanges (with LAN prefixes), address entries and member names."""

    def __init__(self, name):
        self.name = name
        self.exchanges = {}   # key -> {"name", "ixf_id", "peeringdb_id", "lans": {vlan_id: {"name", "prefixes"}}}
        self.addresses = []   # (address, asn, exchange key, lan name, {"max_prefix", "as_macro"})
        self.members = {}     # asn -> MEMBER_FIELDS, "contact_email" (list), "as_macro", "max_prefix4"/"6"


def read_ixf(document, name):
    """Parse one export (already decoded JSON); returns (IxfData, warnings). ValueError if it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("member_list"), list):
        raise ValueError("%s is not an IX-F Member Export: it has no member_list" % name)
    document = copy.deepcopy(document)
    warnings = []
    version = str(document.get("version", ""))
    if version not in KNOWN_VERSIONS:
        warnings.append("%s: schema version %r is not one of %s; read as 1.0" % (name, version, ", ".join(KNOWN_VERSIONS)))
    if "timestamp" not in document:
        warnings.append("%s: no timestamp (an IXP Manager quirk); tolerated" % name)
        document["timestamp"] = "1970-01-01T00:00:00Z"
    _flatten_vlan_lists(document, name, warnings)
    _note_extensions(document, name, warnings)
    warnings.extend(_schema_warnings(document, name))
    return _extract(document, name, warnings), warnings


def _flatten_vlan_lists(document, name, warnings):
    nested = 0
    for member in document["member_list"]:
        for connection in _list(member, "connection_list"):
            vlans = _list(connection, "vlan_list")
            if any(isinstance(vlan, list) for vlan in vlans):
                nested += 1
                connection["vlan_list"] = [item for vlan in vlans for item in (vlan if isinstance(vlan, list) else [vlan])]
    if nested:
        warnings.append("%s: vlan_list nested in a list in %d connection(s) (an IXP Manager quirk); flattened" % (name, nested))


def _note_extensions(document, name, warnings):
    """Keys the schema does not define (vendor extensions) are ignored, and said so once per kind."""
    extra = set()
    properties = SCHEMA["properties"]
    member_properties = properties["member_list"]["items"]["properties"]
    extra.update("top level: %s" % key for key in document if key not in properties)
    for member in document["member_list"]:
        if isinstance(member, dict):
            extra.update("member: %s" % key for key in member if key not in member_properties)
    if extra:
        warnings.append("%s: ignored vendor extension keys (%s)" % (name, ", ".join(sorted(extra))))


def _schema_warnings(document, name):
    if not HAS_JSONSCHEMA:
        return ["%s: jsonschema is not installed, the export was not validated (pip install jsonschema)" % name]
    errors = sorted(Draft4Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.absolute_path))
    warnings = ["%s: schema: %s: %s" % (name, "/".join(str(p) for p in error.absolute_path) or "(top)", error.message)
                for error in errors[:MAX_SCHEMA_WARNINGS]]
    if len(errors) > MAX_SCHEMA_WARNINGS:
        warnings.append("%s: schema: %d more problems" % (name, len(errors) - MAX_SCHEMA_WARNINGS))
    return warnings


def _list(container, key):
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def exchange_key(ixp, source_name):
    """Exchanges that name their PeeringDB id share PeeringDB's key, so both sources meet."""
    if isinstance(ixp.get("peeringdb_id"), int):
        return "ix:%d" % ixp["peeringdb_id"]
    return "ixf:%s:%s" % (source_name, ixp.get("ixp_id"))


def _extract(document, name, warnings):
    data = IxfData(name)
    by_ixp_id = {}
    for ixp in _list(document, "ixp_list"):
        if not isinstance(ixp, dict):
            continue
        key = exchange_key(ixp, name)
        by_ixp_id[ixp.get("ixp_id")] = key
        lans = {}
        for vlan in _list(ixp, "vlan"):
            prefixes = [p for p in (_prefix(vlan.get("ipv4")), _prefix(vlan.get("ipv6"))) if p]
            lans[vlan.get("id")] = {"name": vlan.get("name") or "vlan %s" % vlan.get("id"), "prefixes": prefixes}
        data.exchanges[key] = {"name": ixp.get("shortname") or ixp.get("name") or key, "ixf_id": ixp.get("ixf_id"),
                               "peeringdb_id": ixp.get("peeringdb_id"), "lans": lans}
    empty = outside = 0
    for member in document["member_list"]:
        asn = member.get("asnum") if isinstance(member, dict) else None
        if not isinstance(asn, int) or asn <= 0:
            warnings.append("%s: a member without a valid asnum was skipped: %r" % (name, member)[:300])
            continue
        record = data.members[asn] = dict((field, _text(member.get(field))) for field in MEMBER_FIELDS)
        record.update(contact_email=_emails(member.get("contact_email")), as_macro=None,
                      max_prefix4=None, max_prefix6=None)
        connections = _list(member, "connection_list")
        if not connections:
            empty += 1
        for connection in connections:
            key = by_ixp_id.get(connection.get("ixp_id")) if isinstance(connection, dict) else None
            if key is None:
                warnings.append("%s: AS%d has a connection to unknown ixp_id %r; skipped"
                                % (name, asn, connection.get("ixp_id") if isinstance(connection, dict) else None))
                continue
            lans = data.exchanges[key]["lans"]
            for vlan in _list(connection, "vlan_list"):
                lan = lans.get(vlan.get("vlan_id")) if isinstance(vlan, dict) else None
                for family, network_field in FAMILIES:
                    entry = vlan.get(family) if isinstance(vlan, dict) else None
                    address = canonical_address(entry.get("address")) if isinstance(entry, dict) else None
                    if address is None:
                        continue
                    if lan and lan["prefixes"] and not _inside(address, lan["prefixes"]):
                        outside += 1
                    session = {"max_prefix": _count(entry.get("max_prefix")), "as_macro": _text(entry.get("as_macro"))}
                    # the member's own figure per family: the largest of its sessions (they rarely differ)
                    if session["max_prefix"] and session["max_prefix"] > (record[network_field] or 0):
                        record[network_field] = session["max_prefix"]
                    record["as_macro"] = record["as_macro"] or session["as_macro"]
                    data.addresses.append((address, asn, key, lan["name"] if lan else None, session))
    if empty:
        warnings.append("%s: %d member(s) with an empty connection_list" % (name, empty))
    if outside:
        warnings.append("%s: %d address(es) outside their LAN's prefix; kept" % (name, outside))
    return data


def _prefix(family):
    if not isinstance(family, dict) or family.get("prefix") is None:
        return None
    try:
        return str(ipaddress.ip_network("%s/%s" % (family["prefix"], family.get("mask_length")), strict=False))
    except ValueError:
        return None


def _inside(address, prefixes):
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in (ipaddress.ip_network(p) for p in prefixes) if network.version == ip.version)


def _text(value):
    """A non-empty string as given (trimmed), else None: the schema warnings already name a wrong type."""
    return (value.strip() or None) if isinstance(value, str) else None


def _count(value):
    """A max_prefix: a positive integer (bool is not one), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _emails(value):
    """contact_email as a list of strings; a lone string (a common slip) is taken as a list of one."""
    if isinstance(value, str):
        value = [value]
    return [item.strip() for item in value if isinstance(item, str) and item.strip()] if isinstance(value, list) else []

"""The JSON form of BGP messages: what the archive stores and the API speaks.

One JSON object per message (also described in runner/docs/json.md).
`to_json(message, ctx, direction=None, peer=None, time=None)` makes
it; `from_json(obj, ctx)` turns it back into octets.  For every message the codec accepts,
``from_json(to_json(m, ctx), ctx) == m.raw``: the fields alone rebuild the exact octets (attribute
order, flags and parameter layout are recorded when they differ from the canonical choice), and
`raw` carries the octets themselves, used instead of the fields when the object says "lossy".
A record the given context cannot encode as written (path ids vs ADD-PATH, 4-octet AS numbers in
a 2-octet session) raises JsonFormError instead of silently giving other octets.

Common keys::

    "type":      "open" | "update" | "notification" | "keepalive" | "route_refresh"
    "time":      as given to to_json (seconds since the epoch, typically), omitted when None
    "direction": as given, omitted when None           "peer": as given, omitted when None
    "raw":       hex of the whole message, header included
    "lossy":     true when the fields cannot rebuild the octets (a malformed message);
                 from_json then returns "raw"
    "error":     for a message with problems: {"action", "reason", "code", "subcode", "data",
                 "findings": ["<action>: <reason>", ...]}

UPDATE::

    {"type": "update",
     "withdrawn": ["198.51.100.0/24", ...],
     "attributes": {
        "origin": "igp" | "egp" | "incomplete",
        "as_path": [["sequence", [64500, 64501]], ["set", [64502, 64503]]],
                   (segment names: sequence, set, confed_sequence, confed_set)
        "next_hop": "192.0.2.1",
        "med": 10, "local_pref": 100, "otc": 64500,
        "atomic_aggregate": true,
        "aggregator": {"asn": 64500, "address": "192.0.2.1"},      (also "as4_aggregator")
        "communities": ["64500:1", "65535:65281"],
        "originator_id": "192.0.2.1", "cluster_list": ["192.0.2.2"],
        "mp_reach": {"afi": 2, "safi": 1, "next_hop": ["2001:db8::1", "fe80::1"],
                     "nlri": ["2001:db8:1::/48"]},
                    (a family other than IPv4/IPv6 unicast/multicast: "next_hop_raw" and
                     "nlri_raw" in hex instead; "reserved": n when the reserved octet is not 0)
        "mp_unreach": {"afi": 2, "safi": 1, "withdrawn": ["2001:db8:2::/48"]},
                      ("withdrawn_raw" in hex for other families)
        "ext_communities": ["target:64500:1", "target-ip:192.0.2.1:7", "target4:4200000000:1",
                            "origin:64500:2", "raw:0303000000000001"],
        "as4_path": [["sequence", [4200000000]]],
        "large_communities": ["64500:1:2"],
        "unknown": [{"flags": 192, "type": 99, "value": "<hex>"}],
        "malformed": [...]}               (lossy records only: malformed or repeated attributes,
                                           in the "unknown" layout)
     "nlri": ["203.0.113.0/24", ...],
     "attribute_order": [14, 1, 2, 5]     only when the wire order is not ascending by type code
     "attribute_flags": {"med": 144}      only for flags differing from the RFC's (e.g. Extended
                                          Length set on a short value)
     "origin_as": 64501                   derived (RFC 6811 origin; null for an AS_SET), ignored by from_json
     "end_of_rib": {"afi": 1, "safi": 1}  derived, only on an End-of-RIB marker
     "raw": "..."}

A prefix is "address/length" (the address as sent, host bits included); with ADD-PATH for its
family it is {"prefix": "198.51.100.0/24", "path_id": 1}.  The path attribute values are the
decoded values of the negotiated session: decode and encode with the context the session's
OPENs negotiated (2- or 4-octet AS numbers, ADD-PATH).

OPEN::

    {"type": "open", "version": 4, "my_as": 23456, "asn": 4200000001, "hold_time": 90,
     "bgp_id": "192.0.2.1",
     "capabilities": [
        {"code": 1, "name": "multiprotocol", "afi": 1, "safi": 1},
        {"code": 2, "name": "route_refresh"},
        {"code": 65, "name": "four_octet_as", "asn": 4200000001},
        {"code": 69, "name": "add_path", "families": [{"afi": 1, "safi": 1, "mode": "both"}]},
        {"code": 64, "name": "graceful_restart", "value": "<hex>", "restart_time": 120, ...},
        {"code": 200, "value": "<hex>"}],
     "parameter_layout": [3, {"type": 1, "value": "<hex>"}, 2]   only when not one Capabilities
                         parameter holding all capabilities: an int n is a Capabilities parameter
                         with the next n capabilities, an object any other parameter
     "extended_parameters": true                                 only when RFC 9072 encoding is used
     "raw": "..."}

"asn" is derived (from the 4-octet AS capability); from_json uses "my_as".  A capability with a
"value" is rebuilt from it; others from their fields (graceful restart, FQDN and unknown codes
always carry "value"; their other keys are informational).

NOTIFICATION: {"type": "notification", "code": 6, "subcode": 2, "name": "Cease / Administrative
Shutdown", "data": "<hex>", "shutdown_message": "maintenance"} (name and shutdown_message derived).
KEEPALIVE: {"type": "keepalive"}.
ROUTE_REFRESH: {"type": "route_refresh", "afi": 1, "safi": 1, "subtype": 0, "orf": "<hex>"} ("orf"
only when present).
"""

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.aspath import AsPath
from peerwarden_runner.codec.attributes import (
    ATTRIBUTE_CODES,
    ATTRIBUTE_NAMES,
    ATTRIBUTE_SPECS,
    Aggregator,
    Attribute,
    make_attribute,
    unknown_attribute,
)
from peerwarden_runner.codec.capabilities import CAPABILITY_CODES, Capability
from peerwarden_runner.codec.communities import (
    community_from_text,
    community_to_text,
    extended_from_text,
    extended_to_text,
    large_from_text,
    large_to_text,
)
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext
from peerwarden_runner.codec.errors import CodecError
from peerwarden_runner.codec.framing import message_octets
from peerwarden_runner.codec.keepalive import KEEPALIVE_MESSAGE
from peerwarden_runner.codec.message import decode_message
from peerwarden_runner.codec.mp_nlri import MpReach, MpUnreach, next_hop_octets
from peerwarden_runner.codec.notification import Notification, encode_notification
from peerwarden_runner.codec.open_message import Open, OptionalParameter
from peerwarden_runner.codec.open_message import _encode as encode_open_fields
from peerwarden_runner.codec.prefix import Prefix, prefix_texts
from peerwarden_runner.codec.route_refresh import RouteRefresh, encode_route_refresh
from peerwarden_runner.codec.update import Update
from peerwarden_runner.codec.update_encode import encode_update

__all__ = ["to_json", "from_json", "update_fields", "attributes_to_json", "attributes_from_json", "JsonFormError"]

_ORIGIN_CODES = {name: code for code, name in c.ORIGIN_NAMES.items()}
_ADD_PATH_MODES = {name: code for code, name in c.ADD_PATH_MODE_NAMES.items()}
_TYPE_CODES: dict[Any, int] = {name: code for code, name in c.MESSAGE_TYPE_NAMES.items()}
Record = dict[str, Any]  # a message's JSON object
ValueCodec = Callable[[Any, NegotiatedContext], Any]  # an attribute value to JSON, or back


# ---------------------------------------------------------------- entry points


class JsonFormError(ValueError):
    """A record that the session's context cannot encode as written (from_json refuses it rather
    than send something else): path ids with ADD-PATH off or missing with it on, 4-octet AS numbers
    in AS_PATH or AGGREGATOR of a 2-octet session."""


def to_json(
    message: c.Octets | c.Framed,
    ctx: NegotiatedContext | None = None,
    direction: str | None = None,
    peer: str | None = None,
    time: float | None = None,
    decoded: Any = None,
) -> Record:
    """The JSON object (a dict) of one message: a Message, or the octets of one (`decoded`: the
    message as decode_message gave it with `ctx`, when the caller has it already)."""
    raw = message_octets(message)
    ctx = ctx or getattr(message, "ctx", None) or DEFAULT_CONTEXT
    kind = raw[18] if len(raw) > 18 else 0
    record: Record = {"type": c.MESSAGE_TYPE_NAMES.get(kind, kind)}
    if time is not None:
        record["time"] = time
    if direction is not None:
        record["direction"] = direction
    if peer is not None:
        record["peer"] = peer
    try:
        if decoded is None:
            decoded = decode_message(raw, ctx)
    except CodecError as error:
        record["lossy"] = True
        record["error"] = {
            "action": "session-reset",
            "reason": error.reason,
            "code": error.code,
            "subcode": error.subcode,
            "data": error.data.hex(),
        }
    else:
        _FIELDS[kind](decoded, ctx, record)
    record["raw"] = raw.hex()
    return record


def from_json(obj: Mapping[str, Any], ctx: NegotiatedContext | None = None) -> bytes:
    """The message octets of a JSON object made by to_json (or written by hand without "raw")."""
    if obj.get("lossy"):
        return bytes.fromhex(obj["raw"])
    ctx = ctx or DEFAULT_CONTEXT
    name = obj.get("type")
    kind = _TYPE_CODES.get(name, name)
    builder = _BUILDERS.get(kind)
    if builder is None:
        return bytes.fromhex(obj["raw"])
    return builder(obj, ctx)


# ---------------------------------------------------------------- prefixes


def _prefix_to_json(prefix: Prefix) -> str | dict[str, Any]:
    if prefix.path_id is None:
        return str(prefix)
    return {"prefix": str(prefix), "path_id": prefix.path_id}


def _prefixes_to_json(prefixes: Sequence[Prefix]) -> list[Any]:
    if any(prefix.path_id is not None for prefix in prefixes):
        return [_prefix_to_json(prefix) for prefix in prefixes]
    return prefix_texts(prefixes)  # the bulk of an archive: one C call per prefix


def _prefix_from_json(item: str | Mapping[str, Any], safi: int = c.SAFI_UNICAST) -> Prefix:
    if isinstance(item, dict):
        return Prefix.parse(item["prefix"], safi, item.get("path_id"))
    return Prefix.parse(item, safi)


# ---------------------------------------------------------------- attribute values


def _aggregator_to_json(value: Aggregator, ctx: NegotiatedContext) -> dict[str, Any]:
    return {"asn": value.asn, "address": str(value.address)}


def _mp_reach_to_json(value: MpReach, ctx: NegotiatedContext) -> dict[str, Any]:
    item: dict[str, Any]
    if value.family in c.PREFIX_FAMILIES:
        item = {
            "afi": value.afi,
            "safi": value.safi,
            "next_hop": [str(hop) for hop in value.next_hops],
            "nlri": _prefixes_to_json(value.nlri),
        }
    else:
        item = {
            "afi": value.afi,
            "safi": value.safi,
            "next_hop_raw": value.next_hop_data.hex(),
            "nlri_raw": value.opaque_nlri.hex(),
        }
    if value.reserved:
        item["reserved"] = value.reserved
    return item


def _mp_reach_from_json(item: Mapping[str, Any], ctx: NegotiatedContext) -> MpReach:
    afi, safi = item["afi"], item["safi"]
    if "next_hop_raw" in item:
        return MpReach(
            afi,
            safi,
            bytes.fromhex(item["next_hop_raw"]),
            (),
            bytes.fromhex(item.get("nlri_raw", "")),
            item.get("reserved", 0),
        )
    return MpReach(
        afi,
        safi,
        next_hop_octets(item["next_hop"]),
        tuple(_prefix_from_json(prefix, safi) for prefix in item.get("nlri", ())),
        b"",
        item.get("reserved", 0),
    )


def _mp_unreach_to_json(value: MpUnreach, ctx: NegotiatedContext) -> dict[str, Any]:
    if value.family in c.PREFIX_FAMILIES:
        return {"afi": value.afi, "safi": value.safi, "withdrawn": _prefixes_to_json(value.withdrawn)}
    return {"afi": value.afi, "safi": value.safi, "withdrawn_raw": value.opaque_nlri.hex()}


def _mp_unreach_from_json(item: Mapping[str, Any], ctx: NegotiatedContext) -> MpUnreach:
    afi, safi = item["afi"], item["safi"]
    if "withdrawn_raw" in item:
        return MpUnreach(afi, safi, (), bytes.fromhex(item["withdrawn_raw"]))
    return MpUnreach(afi, safi, tuple(_prefix_from_json(prefix, safi) for prefix in item.get("withdrawn", ())))


def _aggregator_from_json(item: Mapping[str, Any], ctx: NegotiatedContext) -> Aggregator:
    return Aggregator(int(item["asn"]), ipaddress.IPv4Address(item["address"]))


# type code -> (value -> JSON, JSON -> value for make_attribute)
_VALUE_JSON: dict[int, tuple[ValueCodec, ValueCodec]] = {
    c.ORIGIN: (lambda v, ctx: c.ORIGIN_NAMES[v], lambda j, ctx: _ORIGIN_CODES[j] if isinstance(j, str) else int(j)),
    c.AS_PATH: (lambda v, ctx: v.to_list(), lambda j, ctx: AsPath.from_list(j)),
    c.NEXT_HOP: (lambda v, ctx: str(v), lambda j, ctx: ipaddress.IPv4Address(j)),
    c.MULTI_EXIT_DISC: (lambda v, ctx: v, lambda j, ctx: int(j)),
    c.LOCAL_PREF: (lambda v, ctx: v, lambda j, ctx: int(j)),
    c.ATOMIC_AGGREGATE: (lambda v, ctx: True, lambda j, ctx: True),
    c.AGGREGATOR: (_aggregator_to_json, _aggregator_from_json),
    c.COMMUNITIES: (
        lambda v, ctx: [community_to_text(x) for x in v],
        lambda j, ctx: tuple(community_from_text(x) for x in j),
    ),
    c.ORIGINATOR_ID: (lambda v, ctx: str(v), lambda j, ctx: ipaddress.IPv4Address(j)),
    c.CLUSTER_LIST: (lambda v, ctx: [str(x) for x in v], lambda j, ctx: tuple(ipaddress.IPv4Address(x) for x in j)),
    c.MP_REACH_NLRI: (_mp_reach_to_json, _mp_reach_from_json),
    c.MP_UNREACH_NLRI: (_mp_unreach_to_json, _mp_unreach_from_json),
    c.EXTENDED_COMMUNITIES: (
        lambda v, ctx: [extended_to_text(x) for x in v],
        lambda j, ctx: tuple(extended_from_text(x) for x in j),
    ),
    c.AS4_PATH: (lambda v, ctx: v.to_list(), lambda j, ctx: AsPath.from_list(j)),
    c.AS4_AGGREGATOR: (_aggregator_to_json, _aggregator_from_json),
    c.LARGE_COMMUNITY: (
        lambda v, ctx: [large_to_text(x) for x in v],
        lambda j, ctx: tuple(large_from_text(x) for x in j),
    ),
    c.ONLY_TO_CUSTOMER: (lambda v, ctx: v, lambda j, ctx: int(j)),
}


def _canonical_flags(code: int, data: bytes) -> int:
    return ATTRIBUTE_SPECS[code].flags | (c.FLAG_EXTENDED_LENGTH if len(data) > 255 else 0)


def attributes_to_json(
    attributes: Iterable[Attribute], ctx: NegotiatedContext
) -> tuple[dict[str, Any], dict[str, int], bool]:
    """(attributes dict, attribute_flags dict, lossless) for a sequence of Attributes.

    Not lossless when an attribute is malformed (no decoded value) or a type appears twice: the
    dict cannot hold those, and such attributes are listed under "malformed" for inspection.
    """
    result: dict[str, Any] = {}
    flags: dict[str, int] = {}
    lossless = True
    for attribute in attributes:
        code = attribute.code
        name = ATTRIBUTE_NAMES.get(code)
        if name is None:
            result.setdefault("unknown", []).append(
                {"flags": attribute.flags, "type": code, "value": attribute.data.hex()}
            )
            continue
        if attribute.value is None or name in result:
            lossless = False
            result.setdefault("malformed", []).append(
                {"flags": attribute.flags, "type": code, "value": attribute.data.hex()}
            )
            continue
        result[name] = _VALUE_JSON[code][0](attribute.value, ctx)
        if attribute.flags != _canonical_flags(code, attribute.data):
            flags[name] = attribute.flags
    return result, flags, lossless


def attributes_from_json(
    items: Mapping[str, Any],
    ctx: NegotiatedContext,
    flags: Mapping[str, int] | None = None,
    order: Sequence[int] | None = None,
) -> list[Attribute]:
    """Attributes from the JSON dict (with its attribute_flags and attribute_order companions)."""
    flags = flags or {}
    attributes: list[Attribute] = []
    for name, item in items.items():
        if name == "unknown":
            attributes.extend(unknown_attribute(u["flags"], u["type"], bytes.fromhex(u["value"])) for u in item)
            continue
        if name == "malformed":
            raise ValueError('an attribute list with malformed attributes can only be rebuilt from "raw"')
        code = ATTRIBUTE_CODES[name]
        attributes.append(make_attribute(code, _VALUE_JSON[code][1](item, ctx), ctx, flags.get(name), decode=False))
    if order:
        position = {code: index for index, code in enumerate(order)}
        attributes.sort(key=lambda attribute: position.get(attribute.code, 256 + attribute.code))
    else:
        attributes.sort(key=lambda attribute: attribute.code)
    return attributes


# ---------------------------------------------------------------- per message type


def update_fields(update: Update, ctx: NegotiatedContext, record: Record) -> None:
    """Fill `record` with the UPDATE keys (see the module docstring)."""
    record["withdrawn"] = _prefixes_to_json(update.withdrawn)
    attributes, flags, lossless = attributes_to_json(update.attributes, ctx)
    record["attributes"] = attributes
    record["nlri"] = _prefixes_to_json(update.nlri)
    codes = [attribute.code for attribute in update.attributes]
    if codes != sorted(codes):
        record["attribute_order"] = codes
    if flags:
        record["attribute_flags"] = flags
    if update.as_path is not None:
        record["origin_as"] = update.origin_as()
    end_of_rib = update.end_of_rib()
    if end_of_rib is not None:
        record["end_of_rib"] = {"afi": end_of_rib[0], "safi": end_of_rib[1]}
    if update.errors:
        decisive = update.error
        assert decisive is not None  # there are errors
        record["error"] = {
            "action": decisive.action.label,
            "reason": update.reason,
            "code": decisive.code,
            "subcode": decisive.subcode,
            "data": decisive.data.hex(),
            "findings": [str(error) for error in update.errors],
        }
        lossless = False
    if not lossless:
        record["lossy"] = True


def _check_fits(obj: Mapping[str, Any], ctx: NegotiatedContext) -> None:
    """JsonFormError unless `ctx` encodes the record's prefixes and AS numbers exactly as written."""
    attributes = obj.get("attributes", {})
    runs: list[tuple[Any, str, Any]] = [
        (c.IPV4_UNICAST, "withdrawn", obj.get("withdrawn", ())),
        (c.IPV4_UNICAST, "nlri", obj.get("nlri", ())),
    ]
    for name, key in (("mp_reach", "nlri"), ("mp_unreach", "withdrawn")):
        item = attributes.get(name)
        if isinstance(item, Mapping):
            runs.append(((item.get("afi"), item.get("safi")), "%s.%s" % (name, key), item.get(key, ())))
    for family, where, prefixes in runs:
        wanted = family in ctx.add_path_receive
        for prefix in prefixes:
            if (isinstance(prefix, Mapping) and "path_id" in prefix) != wanted:
                raise JsonFormError(
                    "%s: %s %s a path_id, but ADD-PATH is %s for AFI %s SAFI %s on this session"
                    % (where, prefix, "lacks" if wanted else "has", "on" if wanted else "off", *family)
                )
    if not ctx.four_octet_as:
        numbers = [asn for segment in attributes.get("as_path", ()) for asn in segment[1]]
        numbers += [attributes["aggregator"]["asn"]] if "aggregator" in attributes else []
        wide = [asn for asn in numbers if asn > 0xFFFF]
        if wide:
            raise JsonFormError(
                "AS %d does not fit the 2-octet AS numbers of this session: put AS_TRANS (23456) in as_path "
                "and aggregator, the real numbers in as4_path and as4_aggregator (RFC 6793)" % wide[0]
            )


def _update_from_json(obj: Mapping[str, Any], ctx: NegotiatedContext) -> bytes:
    _check_fits(obj, ctx)
    attributes = attributes_from_json(
        obj.get("attributes", {}), ctx, obj.get("attribute_flags"), obj.get("attribute_order")
    )
    return encode_update(
        [_prefix_from_json(p) for p in obj.get("withdrawn", ())],
        attributes,
        [_prefix_from_json(p) for p in obj.get("nlri", ())],
        ctx,
        check_size=False,
    )


def _capability_fields(capability: Capability) -> dict[str, Any]:
    item: dict[str, Any] = {"code": capability.code}
    if capability.code in _CAPABILITY_NAME_KEYS:
        item["name"] = capability.name
    family = capability.family
    if family is not None:
        item["afi"], item["safi"] = family
    elif capability.asn is not None:
        item["asn"] = capability.asn
    elif capability.add_path_modes is not None:
        item["families"] = [
            {"afi": afi, "safi": safi, "mode": c.ADD_PATH_MODE_NAMES.get(mode, mode)}
            for (afi, safi), mode in capability.add_path_modes.items()
        ]
    elif capability.graceful_restart_info is not None:
        item.update(capability.graceful_restart_info)
        item["families"] = [{"afi": afi, "safi": safi, "flags": flags} for afi, safi, flags in item["families"]]
    elif capability.fqdn_info is not None:
        item["hostname"], item["domain"] = capability.fqdn_info
    if _capability_from_json(dict(item)) != capability:
        item["value"] = capability.value.hex()
    return item


_CAPABILITY_NAME_KEYS = frozenset(CAPABILITY_CODES.values())
_INFORMATIONAL_ONLY = frozenset({c.CAP_GRACEFUL_RESTART, c.CAP_FQDN})


def _capability_from_json(item: Mapping[str, Any]) -> Capability | None:
    code = item.get("code")
    if code is None:
        code = CAPABILITY_CODES[item["name"]]
    if "value" in item:
        return Capability(code, bytes.fromhex(item["value"]))
    if code in _INFORMATIONAL_ONLY:
        return None  # cannot be rebuilt from the informational keys
    if code == c.CAP_MULTIPROTOCOL and "afi" in item:
        return Capability.multiprotocol(item["afi"], item["safi"])
    if code == c.CAP_FOUR_OCTET_AS and "asn" in item:
        return Capability.four_octet_as(item["asn"])
    if code == c.CAP_ADD_PATH and "families" in item:
        return Capability.add_path(
            {(f["afi"], f["safi"]): _ADD_PATH_MODES.get(f["mode"], f["mode"]) for f in item["families"]}
        )
    return Capability(code, b"")


def _open_fields(message: Open, ctx: NegotiatedContext, record: Record) -> None:
    record.update(
        {
            "version": message.version,
            "my_as": message.my_as,
            "asn": message.asn,
            "hold_time": message.hold_time,
            "bgp_id": str(message.bgp_id),
        }
    )
    record["capabilities"] = [_capability_fields(capability) for capability in message.capabilities]
    layout: list[Any] = []
    for parameter in message.parameters:
        if parameter.type == c.PARAM_CAPABILITIES:
            layout.append(len(parameter.capabilities))
        else:
            layout.append({"type": parameter.type, "value": parameter.value.hex()})
    canonical = [len(record["capabilities"])] if record["capabilities"] else []
    if layout != canonical:
        record["parameter_layout"] = layout
    if message.extended_parameters:
        record["extended_parameters"] = True


def _open_from_json(obj: Mapping[str, Any], ctx: NegotiatedContext) -> bytes:
    # None for a capability its informational keys cannot rebuild (to_json then wrote its "value")
    capabilities: list[Any] = [_capability_from_json(item) for item in obj.get("capabilities", ())]
    layout = obj.get("parameter_layout")
    if layout is None:
        layout = [len(capabilities)] if capabilities else []
    parameters: list[OptionalParameter] = []
    position = 0
    for entry in layout:
        if isinstance(entry, dict):
            parameters.append(OptionalParameter(entry["type"], bytes.fromhex(entry["value"])))
        else:
            parameters.append(OptionalParameter.of_capabilities(capabilities[position : position + entry]))
            position += entry
    extended = obj.get("extended_parameters", False)
    if not extended and sum(len(p.value) + 2 for p in parameters) > 255:
        extended = True
    my_as = obj.get("my_as")
    if my_as is None:
        my_as = obj["asn"] if obj["asn"] <= 0xFFFF else c.AS_TRANS
    return encode_open_fields(
        obj.get("version", c.BGP_VERSION), my_as, obj["hold_time"], obj["bgp_id"], parameters, extended
    )


def _notification_fields(message: Notification, ctx: NegotiatedContext, record: Record) -> None:
    record.update({"code": message.code, "subcode": message.subcode, "name": message.name, "data": message.data.hex()})
    text = message.shutdown_message
    if text is not None:
        record["shutdown_message"] = text


def _route_refresh_fields(message: RouteRefresh, ctx: NegotiatedContext, record: Record) -> None:
    record.update({"afi": message.afi, "safi": message.safi, "subtype": message.subtype})
    if message.orf:
        record["orf"] = message.orf.hex()


_FIELDS: dict[int, Callable[[Any, NegotiatedContext, Record], None]] = {
    c.OPEN: _open_fields,
    c.UPDATE: update_fields,
    c.NOTIFICATION: _notification_fields,
    c.KEEPALIVE: lambda message, ctx, record: None,
    c.ROUTE_REFRESH: _route_refresh_fields,
}
_BUILDERS: dict[Any, Callable[[Mapping[str, Any], NegotiatedContext], bytes]] = {
    c.OPEN: _open_from_json,
    c.UPDATE: _update_from_json,
    c.NOTIFICATION: lambda obj, ctx: encode_notification(
        obj["code"], obj["subcode"], bytes.fromhex(obj.get("data", "")), max_length=c.MAX_EXTENDED_MESSAGE_LEN
    ),
    c.KEEPALIVE: lambda obj, ctx: KEEPALIVE_MESSAGE,
    c.ROUTE_REFRESH: lambda obj, ctx: encode_route_refresh(
        obj["afi"], obj["safi"], obj.get("subtype", 0), bytes.fromhex(obj.get("orf", ""))
    ),
}

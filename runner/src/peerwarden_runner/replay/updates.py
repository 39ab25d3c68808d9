"""The chosen sender's routes as UPDATEs for our session: the recorded UPDATEs decoded with the
recorded session's context, RIB entries grouped by their attributes, and both encoded again for
ours (`encode_routes`: our AS width, ADD-PATH and message size) with

* the next hop ours (`next_hop="self"`, the default: the router must resolve it; an IPv6 route on
  a session over IPv4 gets the IPv4-mapped local address) or as recorded (`"keep"`);
* on eBGP our AS first in the AS path unless it is first already (routers enforce the first AS,
  and replaying with the recorded sender's AS keeps the paths as they were), and LOCAL_PREF,
  ORIGINATOR_ID and CLUSTER_LIST left out (RFC 4271 §5.1.5, RFC 4456 §8);
* AS4_PATH merged into AS_PATH and AS4_AGGREGATOR into AGGREGATOR from a 2-octet recording;
* path ids dropped unless our session does ADD-PATH for the family (the last path recorded wins).

Everything not sent is counted in `counts` (other senders, other message types, End-of-RIB
markers, families the session lacks, malformed UPDATEs and attribute sections)."""

import ipaddress
from collections import Counter
from types import MappingProxyType

from peerwarden_runner.codec import AsPath, ErrorAction, NegotiatedContext, Route, decode_update, make_attribute
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.aspath import AsPathSegment, merge_as4_path
from peerwarden_runner.codec.mp_nlri import Address
from peerwarden_runner.codec.update import decode_section
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.records import MessageRecord, RibRecord
from peerwarden_runner.replay.source import END_OF_RIB_MAX
from peerwarden_runner.routes import encode_routes

EBGP_DROPPED = (c.LOCAL_PREF, c.ORIGINATOR_ID, c.CLUSTER_LIST)
BATCH = 2000  # RIB entries per batch of UPDATEs
CACHE = 50000  # attribute sets kept made between batches
RIB_CONTEXT = NegotiatedContext(four_octet_as=True)  # TABLE_DUMP_V2 attributes: 4-octet AS (RFC 6396 §4.3.4)


class ReplayUpdates:
    def __init__(self, sender, ctx_out, local_address, local_asn, ebgp, next_hop="self", findings=None):
        self.sender, self.ctx_out, self.local_asn, self.ebgp = sender, ctx_out, local_asn, ebgp
        self.keep_next_hop = next_hop == "keep"
        local = ipaddress.ip_address(local_address)
        mapped = local if local.version == 6 else ipaddress.IPv6Address("::ffff:%s" % local)
        self.own_hops: dict[int, Address | None] = {4: local if local.version == 4 else None, 6: mapped}
        self.findings = findings if findings is not None else Findings()
        self.counts: Counter[str] = Counter()  # what was sent and what was not, by kind
        self.sections: dict[tuple, object] = {}  # (section, AFI, next hop) -> decoded attributes (RIB entries)
        self.next_hops: dict[object, object] = {}  # next hop -> its NEXT_HOP attribute
        self.made: dict[tuple, tuple] = {}  # (id of recorded attributes, ...) -> (them, ours)

    def batches(self, records):
        """(time, [UPDATE octets]) in file order: one per recorded UPDATE, one per BATCH RIB entries
        (or per dump time)."""
        pending: list[Route] = []
        pending_time = None
        for record in records:
            if pending and (not isinstance(record, RibRecord) or record.time != pending_time or len(pending) >= BATCH):
                yield pending_time, self._encode(pending, [])
                pending = []
            if record.sender != self.sender:
                self.counts["records of other senders"] += 1
            elif isinstance(record, RibRecord):
                route = self._rib_route(record)
                if route is not None:
                    pending.append(route)
                    pending_time = record.time
            elif isinstance(record, MessageRecord):
                messages = self._message(record)
                if messages:
                    yield record.time, messages
            else:
                self.counts["state changes"] += 1
        if pending:
            yield pending_time, self._encode(pending, [])

    # ---- recorded UPDATEs ----

    def _message(self, record):
        raw = record.message
        if raw[18] != c.UPDATE:
            self.counts["%s messages" % c.MESSAGE_TYPE_NAMES.get(raw[18], "type %d" % raw[18])] += 1
            return []
        update = decode_update(raw, record.ctx)
        if len(raw) <= END_OF_RIB_MAX and update.end_of_rib() is not None:
            self.counts["End-of-RIB markers (ours is sent at the end)"] += 1
            return []
        if update.error_action != ErrorAction.NONE:
            what = "UPDATE with RFC 7606 %s (%s)" % (update.error_action.label, update.reason)
            self.findings.note(what, record.offset)
            if update.error_action >= ErrorAction.AFI_SAFI_DISABLE:
                return []
        routes = []
        for next_hop, shared, prefixes in update.route_runs():
            routes += [route for route in (self._route(p, next_hop, shared, record.ctx) for p in prefixes) if route]
        return self._encode(routes, update.withdrawals())

    # ---- RIB entries ----

    def _rib_route(self, record):
        key = (record.attributes, record.prefix.afi, record.next_hop)
        attributes = self.sections.get(key)
        if attributes is None:
            if len(self.sections) >= CACHE:
                self.sections.clear()
            decoded = decode_section(record.attributes, RIB_CONTEXT)
            if len(decoded) != _count_attributes(record.attributes):
                what = "a RIB entry with malformed or repeated attributes (sent without them)"
                self.findings.note(what, record.offset)
            attributes = self.sections[key] = MappingProxyType(decoded)
        return self._route(record.prefix, record.next_hop, attributes, RIB_CONTEXT)

    # ---- both ----

    def _route(self, prefix, next_hop, attributes, ctx_in):
        family = prefix.family
        if family not in self.ctx_out.families:
            self.counts["routes of a family the session did not negotiate (%d/%d)" % family] += 1
            return None
        version = 6 if prefix.afi == c.AFI_IPV6 else 4
        hop = next_hop if self.keep_next_hop else self.own_hops[version]
        if hop is None:
            self.counts["routes without a next hop to send (IPv4 on a session over IPv6)"] += 1
            return None
        if prefix.path_id is not None and family not in self.ctx_out.add_path_receive:
            prefix = prefix.with_path_id(None)
        return Route(prefix, hop, self._attributes(attributes, ctx_in, version, hop))

    def _attributes(self, attributes, ctx_in, version, hop):
        """Our attributes for a recorded set: made once per set, next hop and family (so that the routes
        that shared them share ours, and encode_routes puts them in one UPDATE)."""
        memo = self.made
        key = (id(attributes), ctx_in, version, hop)
        known = memo.get(key)
        if known is not None and known[0] is attributes:
            return known[1]
        if len(memo) >= CACHE:
            memo.clear()
        ours = dict(attributes)
        path = ours[c.AS_PATH].value if c.AS_PATH in ours else AsPath()
        if not ctx_in.four_octet_as and c.AS4_PATH in ours:
            path = merge_as4_path(path, ours[c.AS4_PATH].value)
        if not ctx_in.four_octet_as and c.AGGREGATOR in ours:
            aggregator = ours[c.AS4_AGGREGATOR].value if c.AS4_AGGREGATOR in ours else ours[c.AGGREGATOR].value
            ours[c.AGGREGATOR] = make_attribute(c.AGGREGATOR, aggregator, self.ctx_out)
        if self.ctx_out.four_octet_as:
            ours.pop(c.AS4_PATH, None)
            ours.pop(c.AS4_AGGREGATOR, None)
        if self.ebgp:
            for code in EBGP_DROPPED:
                ours.pop(code, None)
            path = _first(path, self.local_asn)
        ours[c.AS_PATH] = make_attribute(c.AS_PATH, path, self.ctx_out)
        ours.setdefault(c.ORIGIN, make_attribute(c.ORIGIN, c.ORIGIN_INCOMPLETE, self.ctx_out))
        if version == 4:
            ours[c.NEXT_HOP] = self._next_hop_attribute(hop)
        else:
            ours.pop(c.NEXT_HOP, None)
        made = MappingProxyType(ours)
        memo[key] = (attributes, made)
        return made

    def _next_hop_attribute(self, hop):
        attribute = self.next_hops.get(hop)
        if attribute is None:
            if len(self.next_hops) >= CACHE:
                self.next_hops.clear()
            attribute = self.next_hops[hop] = make_attribute(c.NEXT_HOP, hop, self.ctx_out)
        return attribute

    def _encode(self, routes, withdrawn):
        families = self.ctx_out.families
        kept = []
        for prefix in withdrawn:
            if prefix.family not in families:
                self.counts["withdrawals of a family the session did not negotiate (%d/%d)" % prefix.family] += 1
                continue
            if prefix.path_id is not None and prefix.family not in self.ctx_out.add_path_receive:
                prefix = prefix.with_path_id(None)
            kept.append(prefix)
        self.counts["routes announced"] += len(routes)
        self.counts["routes withdrawn"] += len(kept)
        return encode_routes(routes, kept, self.ctx_out) if routes or kept else []


def _first(path, asn):
    """The AS path with `asn` first (prepended to the leading AS_SEQUENCE, or a new one)."""
    segments = path.segments
    if segments and segments[0].kind == c.AS_SEQUENCE:
        if segments[0].asns and segments[0].asns[0] == asn:
            return path
        return AsPath((AsPathSegment(c.AS_SEQUENCE, (asn, *segments[0].asns)),) + segments[1:])
    return AsPath((AsPathSegment(c.AS_SEQUENCE, (asn,)),) + segments)


def _count_attributes(section):
    count, at = 0, 0
    while at + 3 <= len(section):
        extended = section[at] & c.FLAG_EXTENDED_LENGTH
        size = int.from_bytes(section[at + 2 : at + 4], "big") if extended else section[at + 2]
        at += (4 if extended else 3) + size
        count += 1
    return count

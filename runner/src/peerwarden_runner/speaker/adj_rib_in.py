"""What the router sent us (RFC 4271 §3.2 Adj-RIB-In): each route with its attributes and when it came,
emptied when the session ends; shown in the JSON form by GET /routes/received."""

import time

from peerwarden_runner.codec.fast_update import SectionAttributes
from peerwarden_runner.codec.json_form import attributes_to_json
from peerwarden_runner.route_keys import key_prefix, route_key, run_keys

_SECTIONS_LIMIT = 1 << 10  # recent enough for the UPDATEs one attribute set is split into


class AdjRibIn:
    """route key (route_keys) -> (next hop, attributes, origin AS, when), the tuple shared by every
    route of one run of one UPDATE: a full table from a router costs a dict entry, a bytes key and
    its share of the tuple per route, not a Route and a Prefix object each. An UPDATE the fast scan
    read keeps its attribute section as its octets (interned: UPDATEs that carry the same section
    share one), decoded again only for GET /routes/received; `when` is read once per batch (what
    one read from the socket brought), so the routes of a batch share one float."""

    def __init__(self, clock=time.time):
        self.routes = {}
        self.clock = clock
        self.ctx = None  # the session's context, to decode a kept section
        self.now = None  # the batch's `when`, read at its first route
        self.sections = {}  # recent sections' octets -> the one object kept for them

    def __len__(self):
        return len(self.routes)

    def _when(self):
        now = self.now
        if now is None:
            now = self.now = self.clock()
        return now

    def batch_done(self):
        """The routes of the next batch get a new `when`."""
        self.now = None

    def apply(self, update):
        """Take an UPDATE's withdrawals (RFC 7606 treat-as-withdraw included) and routes; (announced, withdrawn)."""
        withdrawn = update.withdrawals()
        for prefix in withdrawn:
            self.routes.pop(route_key(prefix), None)
        announced = 0
        runs = update.route_runs()
        if runs:
            self.ctx = update.ctx
            received, origin = self._when(), update.origin_as()
            for next_hop, attributes, prefixes in runs:
                shared = (next_hop, attributes, origin, received)
                self.routes.update(dict.fromkeys(run_keys(prefixes), shared))
                announced += len(prefixes)
        return announced, len(withdrawn)

    def apply_scanned(self, scanned, ctx):
        """apply() for an UPDATE the fast scan read (codec/fast_update.py): one run, the section kept as octets."""
        routes = self.routes
        for prefix in scanned.withdrawn:
            routes.pop(route_key(prefix), None)
        nlri = scanned.nlri
        if nlri:
            self.ctx = ctx
            section = scanned.attributes.raw
            sections = self.sections
            kept = sections.get(section)
            if kept is None:
                if len(sections) >= _SECTIONS_LIMIT:
                    sections.clear()
                kept = sections[section] = section
            now = self.now
            if now is None:
                now = self.now = self.clock()
            shared = (scanned.next_hop, kept, scanned.origin, now)
            if len(nlri) == 1:
                routes[route_key(nlri[0])] = shared
            else:
                routes.update(dict.fromkeys(run_keys(nlri), shared))
        return len(nlri), len(scanned.withdrawn)

    def clear(self):
        self.routes.clear()
        self.sections.clear()

    def to_json(self, notes=None, select=None):
        """Every route (or those whose prefix `select` accepts), sorted by prefix text: {"prefix", "next_hop",
        "attributes", "origin_as", "received"}, plus what `notes(prefix)` gives (a monitor's "rpki" and "held")."""
        records = []
        attributes_json: dict[int, dict] = {}  # the JSON of one shared attribute set is made once
        for key, shared in self.routes.items():
            prefix = key_prefix(key)
            if select is not None and not select(prefix):
                continue
            next_hop, attributes, origin, received = shared
            text = attributes_json.get(id(attributes))
            if text is None:
                ctx = self.ctx
                assert ctx is not None  # set with the first route
                decoded = SectionAttributes(attributes, ctx) if isinstance(attributes, bytes) else attributes
                text = attributes_json[id(attributes)] = attributes_to_json(decoded.values(), ctx)[0]
            record = {
                "prefix": str(prefix),
                "next_hop": str(next_hop) if next_hop is not None else None,
                "attributes": text,
                "origin_as": origin,
                "received": received,
            }
            if prefix.path_id is not None:
                record["path_id"] = prefix.path_id
            if notes is not None:
                record.update(notes(prefix))
            records.append(record)
        return sorted(records, key=lambda record: (":" in record["prefix"], record["prefix"]))

"""What the router sent us (RFC 4271 §3.2 Adj-RIB-In): each route with its attributes and when it came,
emptied when the session ends; shown in the JSON form by GET /routes/received."""

import time

from peerwarden_runner.codec.json_form import attributes_to_json
from peerwarden_runner.route_keys import key_prefix, route_key, run_keys


class AdjRibIn:
    """route key (route_keys) -> (next hop, attributes, origin AS, when, context), the tuple shared by
    every route of one run of one UPDATE: a full table from a router costs a dict entry and a bytes
    key per route, not a Route and a Prefix object each."""

    def __init__(self, clock=time.time):
        self.routes = {}
        self.clock = clock

    def __len__(self):
        return len(self.routes)

    def apply(self, update):
        """Take an UPDATE's withdrawals (RFC 7606 treat-as-withdraw included) and routes; (announced, withdrawn)."""
        withdrawn = update.withdrawals()
        for prefix in withdrawn:
            self.routes.pop(route_key(prefix), None)
        announced = 0
        runs = update.route_runs()
        if runs:
            received, origin = self.clock(), update.origin_as()
            for next_hop, attributes, prefixes in runs:
                shared = (next_hop, attributes, origin, received, update.ctx)
                self.routes.update(dict.fromkeys(run_keys(prefixes), shared))
                announced += len(prefixes)
        return announced, len(withdrawn)

    def apply_scanned(self, scanned, ctx):
        """apply() for an UPDATE the fast scan read (codec/fast_update.py): one run, attributes left undecoded."""
        routes = self.routes
        for prefix in scanned.withdrawn:
            routes.pop(route_key(prefix), None)
        nlri = scanned.nlri
        if nlri:
            shared = (scanned.next_hop, scanned.attributes, scanned.origin, self.clock(), ctx)
            if len(nlri) == 1:
                routes[route_key(nlri[0])] = shared
            else:
                routes.update(dict.fromkeys(run_keys(nlri), shared))
        return len(nlri), len(scanned.withdrawn)

    def clear(self):
        self.routes.clear()

    def to_json(self, notes=None, select=None):
        """Every route (or those whose prefix `select` accepts), sorted by prefix text: {"prefix", "next_hop",
        "attributes", "origin_as", "received"}, plus what `notes(prefix)` gives (a monitor's "rpki" and "held")."""
        records, attributes_json = [], {}  # the JSON of one shared attribute set is made once
        for key, shared in self.routes.items():
            prefix = key_prefix(key)
            if select is not None and not select(prefix):
                continue
            next_hop, attributes, origin, received, ctx = shared
            if id(shared) not in attributes_json:
                attributes_json[id(shared)] = attributes_to_json(attributes.values(), ctx)[0]
            record = {
                "prefix": str(prefix),
                "next_hop": str(next_hop) if next_hop is not None else None,
                "attributes": attributes_json[id(shared)],
                "origin_as": origin,
                "received": received,
            }
            if prefix.path_id is not None:
                record["path_id"] = prefix.path_id
            if notes is not None:
                record.update(notes(prefix))
            records.append(record)
        return sorted(records, key=lambda record: (":" in record["prefix"], record["prefix"]))

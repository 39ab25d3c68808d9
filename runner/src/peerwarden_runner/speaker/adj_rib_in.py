"""What the router sent us (RFC 4271 §3.2 Adj-RIB-In): prefix -> the route and when it came,
emptied when the session ends; shown in the JSON form by GET /routes/received."""
import time

from peerwarden_runner.codec.json_form import attributes_to_json


class AdjRibIn:
    def __init__(self, clock=time.time):
        self.routes = {}
        self.clock = clock

    def __len__(self):
        return len(self.routes)

    def apply(self, update):
        """Take an UPDATE's withdrawals (RFC 7606 treat-as-withdraw included) and routes; (announced, withdrawn)."""
        withdrawn = update.withdrawals()
        for prefix in withdrawn:
            self.routes.pop(prefix, None)
        routes = update.routes()
        if routes:
            received = self.clock()
            origin = update.origin_as()
            for route in routes:
                self.routes[route.prefix] = (route, origin, received, update.ctx)
        return len(routes), len(withdrawn)

    def clear(self):
        self.routes.clear()

    def to_json(self, notes=None, select=None):
        """Every route (or those whose prefix `select` accepts), sorted by prefix text: {"prefix", "next_hop",
        "attributes", "origin_as", "received"}, plus what `notes(prefix)` gives (a monitor's "rpki" and "held")."""
        records = []
        for prefix, (route, origin, received, ctx) in self.routes.items():
            if select is not None and not select(prefix):
                continue
            attributes = attributes_to_json(route.attributes.values(), ctx)[0]
            record = {"prefix": str(prefix), "next_hop": str(route.next_hop) if route.next_hop is not None else None,
                      "attributes": attributes, "origin_as": origin, "received": received}
            if prefix.path_id is not None:
                record["path_id"] = prefix.path_id
            if notes is not None:
                record.update(notes(prefix))
            records.append(record)
        return sorted(records, key=lambda record: (":" in record["prefix"], record["prefix"]))

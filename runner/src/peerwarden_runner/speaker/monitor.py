"""The speaker as a monitor: the route stages of its `stages:` list (rpki, alert, filter) see every
UPDATE the router sends, in the pipeline's WATCH mode, and their verdicts are kept per received
route (RPKI state, "held by" reason) for GET /routes/received and the metrics. Nothing is ever
written to the router: a VRP change only updates what is recorded."""

import logging
from collections import Counter

from peerwarden_runner.directions import RECEIVED, SENT
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.route_keys import route_key
from peerwarden_runner.rpki.route_validity import RouteValidity

LOG = logging.getLogger("peerwarden_runner.speaker")
RPKI_STATES = tuple(state.value for state in RouteValidity)


class Monitor:
    """One speaker's watch session. It is the pipeline session's `session` too: `watch_only` tells
    the rpki stage to call `revalidated` after a VRP change instead of sending anything."""

    watch_only = True

    def __init__(self, stages, metrics=None):
        """`stages`: the route stage objects, in order; `metrics`: counts routes held (sessions and
        messages are counted by the speaker's own watchers)."""
        self.names = [stage.name for stage in stages]
        self.pipeline = Pipeline({RECEIVED: list(stages)})
        self.pipeline.metrics = metrics
        self.state = None
        self.validity = {}  # route key -> RouteValidity, for the received routes RPKI covers
        self.counts: Counter[RouteValidity] = Counter()  # RouteValidity -> routes received now

    def started(self, our_open, peer_open, ctx_in, ctx_out):
        """The session reached Established: a new watch session with both OPENs (alert reads them)."""
        self.ended()
        state = self.state = self.pipeline.new_session(self)
        state.opens = {RECEIVED: peer_open, SENT: our_open}
        state.contexts = {RECEIVED: ctx_in, SENT: ctx_out}

    def received(self, update):
        """The stages' verdicts on one received UPDATE (decoded once, by the session)."""
        if self.state is None:
            return None
        change = self.pipeline.watch_update(self.state, RECEIVED, update)
        for key in change.withdrawn_keys:
            self._record(key, None)
        if change.validity is not None:
            for key, validity in zip(change.keys, change.validity):
                self._record(key, validity)
        return change

    def revalidated(self, direction, states):
        """The rpki stage after a VRP change: route key -> its state now."""
        for key, validity in states.items():
            self._record(key, validity)
        LOG.info("monitor: VRPs changed: %d received route(s) validated again", len(states))

    def send(self, direction, raw):
        """A stage's own message (a proxy would write it on): a monitor writes nothing to its router."""
        LOG.debug("monitor: a %d-octet message from a stage not sent (watch only)", len(raw))

    def _record(self, key, validity):
        before = self.validity.pop(key, None)
        if before is not None:
            self.counts[before] -= 1
        if validity is not None:
            self.validity[key] = validity
            self.counts[validity] += 1

    def ended(self):
        if self.state is not None:
            self.pipeline.end_session(self.state)
            self.state = None
        self.validity.clear()
        self.counts.clear()

    async def aclose(self):
        self.ended()
        await self.pipeline.aclose()

    # ---- for the API and the metrics ----

    @property
    def holds(self):
        rib = self.state.memory.get(("rib", RECEIVED)) if self.state is not None else None
        return rib.holds if rib is not None else {}

    def notes(self, prefix):
        """The fields a received route gets in GET /routes/received: "rpki" and "held" (when known)."""
        key = route_key(prefix)
        fields = {}
        validity = self.validity.get(key)
        if validity is not None:
            fields["rpki"] = str(validity)
        held = self.holds.get(key)
        if held is not None:
            fields["held"] = held
        return fields

    def status(self):
        return {
            "stages": self.names,
            "rpki": {str(state): count for state, count in self.counts.items() if count},
            "held": len(self.holds),
        }

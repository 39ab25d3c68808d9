"""Prometheus metrics (on 127.0.0.1 by default): sessions, messages per direction and type, routes
held back per stage, filter rule matches, what exec stages did to messages, RPKI validation states,
VRPs loaded, alerts raised (and alert deliveries that failed or were dropped)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily

from peerwarden_runner import schema as s
from peerwarden_runner.addresses import address_port
from peerwarden_runner.codec import constants as c
from peerwarden_runner.stages.base import Scope, Watcher

TYPE_NAMES = {
    c.OPEN: "open",
    c.UPDATE: "update",
    c.NOTIFICATION: "notification",
    c.KEEPALIVE: "keepalive",
    c.ROUTE_REFRESH: "route_refresh",
}


class _PlainChild:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def inc(self, amount=1):
        self.value += amount


class PlainCounter:
    """A labelled counter for what is counted per message: `labels(...).inc()` is one addition to a
    Python int (prometheus_client's takes a lock and costs microseconds), read when scraped."""

    def __init__(self, name, documentation, labelnames, registry):
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.children = {}
        registry.register(self)

    def labels(self, *values):
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = _PlainChild()
        return child

    def describe(self):
        return [CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self):
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self.children.items()):
            family.add_metric(values, child.value)
        return [family]


class Metrics(Watcher):
    """The `metrics:` section's stage: one for the runner, a watcher of every session, and what the
    other stages count with."""

    name = "metrics"
    scope = Scope.RUNNER

    @classmethod
    def schema(cls):
        return s.obj({"listen": s.address_port()})

    @classmethod
    def check(cls, section, problem):
        if section is None:
            return {"listen": ("127.0.0.1", 9179)}
        try:
            return {"listen": address_port(section.get("listen", "127.0.0.1:9179"), 9179)}
        except ValueError as error:
            problem("metrics.listen", str(error))
            return None

    @classmethod
    def build(cls, section, context):
        metrics = cls()
        if section:
            metrics.serve(*section["listen"])
        return metrics

    def __init__(self, registry=None):
        self.registry = registry or CollectorRegistry()
        self.sessions = Gauge("peerwarden_sessions", "BGP sessions relayed now", registry=self.registry)
        self.messages = PlainCounter(
            "peerwarden_messages", "Messages written on", ["direction", "type"], registry=self.registry
        )
        self.held = Counter("peerwarden_routes_held", "Routes a stage held back", ["stage"], registry=self.registry)
        self.validations = PlainCounter(
            "peerwarden_rpki_validations", "Route origin validations", ["state"], registry=self.registry
        )
        self.rules = Counter(
            "peerwarden_filter_matches",
            "Routes a filter rule matched",
            ["filter", "rule", "action"],
            registry=self.registry,
        )
        self.exec_outcomes = Counter(
            "peerwarden_exec_messages",
            "Messages an exec stage dropped, changed, or failed on, and copies it dropped",
            ["stage", "outcome"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "peerwarden_alerts", "Alerts raised (hijacks, leaks, ...)", ["kind", "session"], registry=self.registry
        )
        self.alert_errors = Counter(
            "peerwarden_alert_errors", "Alert detectors or sinks that failed", ["where"], registry=self.registry
        )
        self.alerts_dropped = Counter(
            "peerwarden_alerts_dropped", "Alerts a sink could not take (queue full)", ["sink"], registry=self.registry
        )
        self.connections = Counter(
            "peerwarden_connections",
            "Connections to a session's listener: accepted, or refused and why",
            ["session", "outcome"],
            registry=self.registry,
        )
        self.aspa_validations = PlainCounter(
            "peerwarden_aspa_validations", "AS path verifications with ASPA", ["state"], registry=self.registry
        )
        self.vrps = Gauge("peerwarden_rpki_vrps", "VRPs loaded", registry=self.registry)
        # label children bound once (labels() costs microseconds, and it would be paid per message)
        self._message_children = {}
        self._held_children = {}
        self._validation_children = {}

    def serve(self, address, port):
        start_http_server(port, addr=address, registry=self.registry)

    def session_started(self, state):
        self.sessions.inc()

    def session_ended(self, state):
        self.sessions.dec()

    def crossed(self, state, direction, raw):
        key = (direction, raw[18])
        child = self._message_children.get(key)
        if child is None:
            child = self._message_children[key] = self.messages.labels(direction, TYPE_NAMES.get(raw[18], "unknown"))
        child.inc()

    def connection(self, session, outcome):
        self.connections.labels(session, outcome).inc()

    def route_held(self, stage):
        child = self._held_children.get(stage)
        if child is None:
            child = self._held_children[stage] = self.held.labels(stage)
        child.inc()

    def rule_matched(self, stage, rule, action, count=1):
        """`stage`: the filter as sessions list it ("filter", "filter:NAME")."""
        self.rules.labels(stage, rule, action).inc(count)

    def exec_outcome(self, stage, outcome, count=1):
        self.exec_outcomes.labels(stage, outcome).inc(count)

    def validated(self, state, count=1):
        child = self._validation_children.get(state)
        if child is None:
            child = self._validation_children[state] = self.validations.labels(str(state))
        child.inc(count)

    def aspa_validated(self, state, count=1):
        self.aspa_validations.labels(str(state)).inc(count)

    def alerted(self, kind, session):
        self.alerts.labels(kind, session).inc()

    def alert_error(self, where):
        self.alert_errors.labels(where).inc()

    def alert_dropped(self, sink, count=1):
        self.alerts_dropped.labels(sink).inc(count)

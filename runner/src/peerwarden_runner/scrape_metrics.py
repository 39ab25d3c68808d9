"""Metrics read at scrape time rather than counted per message: the RTR client's state, and the
routes each session's receivers hold or have held back. Nothing is paid on the forwarding path."""

import time

from prometheus_client.core import GaugeMetricFamily


class RtrStateCollector:
    """peerwarden_rtr_* from RtrClient.state: connected, serial, seconds since the last sync, expiry,
    errors, protocol version, ASPAs held."""

    def __init__(self, client):
        self.client = client

    def collect(self):
        state = self.client.state
        cache = state.cache or ""
        connected = GaugeMetricFamily("peerwarden_rtr_connected", "1 while an RTR session is up", labels=["cache"])
        connected.add_metric([cache], 1.0 if state.connected else 0.0)
        serial = GaugeMetricFamily("peerwarden_rtr_serial", "Serial of the VRP data in use", labels=["cache"])
        serial.add_metric([state.data_cache or ""], float(state.serial or 0))
        age = GaugeMetricFamily("peerwarden_rtr_sync_age_seconds", "Seconds since the last End of Data")
        age.add_metric([], time.time() - state.last_sync if state.last_sync else float("nan"))
        expired = GaugeMetricFamily("peerwarden_rtr_expired", "1 when the VRPs expired (RFC 8210 expire interval)")
        expired.add_metric([], 1.0 if state.expired else 0.0)
        errors = GaugeMetricFamily("peerwarden_rtr_errors", "RTR errors since start")
        errors.add_metric([], float(state.errors))
        version = GaugeMetricFamily("peerwarden_rtr_protocol_version", "RTR version of the session (2: with ASPA)")
        version.add_metric([], float(state.protocol_version) if state.protocol_version is not None else float("nan"))
        aspas = GaugeMetricFamily("peerwarden_rtr_aspas", "Customer ASes with an ASPA from the RTR cache (version 2)")
        aspas.add_metric([], float(state.aspas))
        return [connected, serial, age, expired, errors, version, aspas]


class RoutesCollector:
    """peerwarden_routes{session, direction, state="sent"|"held"}: what each receiver holds now and
    what stages hold back from it."""

    def __init__(self):
        self.pipelines = []

    def watch(self, name, pipeline):
        self.pipelines.append((name, pipeline))

    def collect(self):
        routes = GaugeMetricFamily(
            "peerwarden_routes",
            "Routes per session and direction: sent to the receiver or held back by a stage",
            labels=["session", "direction", "state"],
        )
        for name, pipeline in self.pipelines:
            for state in list(pipeline.sessions):
                for key, rib in list(state.memory.items()):
                    if key[0] == "rib":
                        routes.add_metric([name, key[1], "sent"], float(rib.sent()))
                        routes.add_metric([name, key[1], "held"], float(rib.held()))
        return [routes]

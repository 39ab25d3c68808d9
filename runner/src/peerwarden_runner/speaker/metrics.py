"""Prometheus gauges of the speakers (session state, routes announced and received, and for a
monitor the received routes per RPKI state and held by a stage), read from the speakers when
scraped, on the runner's registry (stages/metrics.py); messages are counted there."""

from prometheus_client.core import GaugeMetricFamily

from peerwarden_runner.speaker.monitor import RPKI_STATES

STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")


class SpeakerCollector:
    def __init__(self, speakers):
        self.speakers = speakers

    def collect(self):
        state = GaugeMetricFamily(
            "peerwarden_speaker_state", "1 for the session's current state", labels=["speaker", "state"]
        )
        announced = GaugeMetricFamily(
            "peerwarden_speaker_routes_announced", "Routes we want announced", labels=["speaker"]
        )
        received = GaugeMetricFamily(
            "peerwarden_speaker_routes_received", "Routes in the Adj-RIB-In", labels=["speaker"]
        )
        established = GaugeMetricFamily(
            "peerwarden_speaker_sessions_established", "Times the session reached Established", labels=["speaker"]
        )
        rpki = GaugeMetricFamily(
            "peerwarden_speaker_routes_rpki",
            "Received routes per RPKI state (speakers with the rpki stage)",
            labels=["speaker", "state"],
        )
        held = GaugeMetricFamily(
            "peerwarden_speaker_routes_held",
            "Received routes a watch-only stage holds (would drop)",
            labels=["speaker"],
        )
        for speaker in self.speakers:
            name = speaker.settings.name
            for candidate in STATES:
                state.add_metric([name, candidate], 1.0 if speaker.state == candidate else 0.0)
            announced.add_metric([name], len(speaker.desired))
            received.add_metric([name], len(speaker.received))
            established.add_metric([name], speaker.counters["sessions_established"])
            monitor = speaker.monitor
            if monitor is not None:
                if "rpki" in monitor.names:
                    counts = monitor.status()["rpki"]
                    for candidate in RPKI_STATES:
                        rpki.add_metric([name, candidate], counts.get(candidate, 0))
                held.add_metric([name], len(monitor.holds))
        return [state, announced, received, established, rpki, held]

"""Prometheus gauges of the speakers (session state, routes announced and received), read from the
speakers when scraped, on the runner's registry (stages/metrics.py); messages are counted there."""
from prometheus_client.core import GaugeMetricFamily

STATES = ("Idle", "Connect", "OpenSent", "OpenConfirm", "Established")


class SpeakerCollector:
    def __init__(self, speakers):
        self.speakers = speakers

    def collect(self):
        state = GaugeMetricFamily("peerwarden_speaker_state", "1 for the session's current state",
                                  labels=["speaker", "state"])
        announced = GaugeMetricFamily("peerwarden_speaker_routes_announced", "Routes we want announced",
                                      labels=["speaker"])
        received = GaugeMetricFamily("peerwarden_speaker_routes_received", "Routes in the Adj-RIB-In",
                                     labels=["speaker"])
        established = GaugeMetricFamily("peerwarden_speaker_sessions_established",
                                        "Times the session reached Established", labels=["speaker"])
        for speaker in self.speakers:
            name = speaker.settings.name
            for candidate in STATES:
                state.add_metric([name, candidate], 1.0 if speaker.state == candidate else 0.0)
            announced.add_metric([name], len(speaker.desired))
            received.add_metric([name], len(speaker.received))
            established.add_metric([name], speaker.counters["sessions_established"])
        return [state, announced, received, established]

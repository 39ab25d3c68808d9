"""Every worker's metrics on the one configured address: the parent scrapes each worker's registry
(served on a loopback port of its own) and merges the families. prometheus-client's multiprocess mode
cannot carry the runner's own collectors (the routes per session, the RTR state are computed at
scrape time, not stored in its files), so the parent merges the text it already knows how to parse.

Merging: a counter's series are summed over the workers (each counts its own sessions); a gauge's
series with the same labels are taken from the first worker that has them (the RTR state, the VRP
count: each worker holds the same VRPs), except the gauges in SUMMED (sessions relayed now); the
series of one session or speaker come from the one worker that runs it. The parent adds
peerwarden_worker_up and peerwarden_worker_restarts, per worker."""

import logging
import urllib.request

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

LOG = logging.getLogger("peerwarden_runner.workers")

#: gauges that count something per worker: their sum is the runner's
SUMMED = frozenset({"peerwarden_sessions"})
SCRAPE_TIMEOUT = 5.0


def merge(texts):
    """The metric families of several workers' exposition texts (in worker order), merged."""
    families: dict[str, Metric] = {}
    values: dict[str, dict] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                values[family.name] = {}
            series = values[family.name]
            summed = family.type in ("counter", "histogram", "summary") or family.name in SUMMED
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in series:
                    series[key] = sample
                elif sample.name.endswith("_created"):  # the earliest start of a summed counter
                    series[key] = series[key]._replace(value=min(series[key].value, sample.value))
                elif summed:
                    series[key] = series[key]._replace(value=series[key].value + sample.value)
    for name, family in families.items():
        family.samples = list(values[name].values())
    return list(families.values())


class WorkersCollector:
    """A collector for the parent's registry: the merged metrics of the workers that run now."""

    def __init__(self, count):
        self.ports: list[int | None] = [None] * count  # a worker's metrics port while it runs
        self.restarts = [0] * count

    def collect(self):
        texts = []
        up = GaugeMetricFamily("peerwarden_worker_up", "1 while the worker runs and answers", labels=["worker"])
        for worker, port in enumerate(self.ports):
            text = self._scrape(worker, port) if port else None
            up.add_metric([str(worker)], 1 if text is not None else 0)
            if text is not None:
                texts.append(text)
        yield from merge(texts)
        yield up
        restarts = CounterMetricFamily(
            "peerwarden_worker_restarts", "Times the worker was started again after it ended", labels=["worker"]
        )
        for worker, count in enumerate(self.restarts):
            restarts.add_metric([str(worker)], count)
        yield restarts

    @staticmethod
    def _scrape(worker, port):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=SCRAPE_TIMEOUT) as answer:
                return answer.read().decode("utf-8")
        except (OSError, ValueError) as error:
            LOG.warning("worker %d: metrics not read from 127.0.0.1:%d: %s", worker, port, error)
            return None

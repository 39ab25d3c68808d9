"""The parent's metrics with workers: the families of every worker's registry merged into one
exposition; counters summed, a session's series once (from the worker that runs it), the runner-wide
gauges from the first worker, the sessions gauge summed; a worker that does not answer is
peerwarden_worker_up 0, not an error."""

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.workers.merge import WorkersCollector, merge
from polling import free_port


def worker_metrics(session, relayed):
    metrics = Metrics()
    metrics.sessions.inc()
    metrics.vrps.set(1000)
    metrics.connections.labels(session, "accepted").inc()
    metrics.messages.labels("to-router", "update").inc(relayed)
    return metrics


def exposed(families):
    registry = CollectorRegistry()

    class Fixed:
        def collect(self):
            return families

    registry.register(Fixed())
    return generate_latest(registry).decode()


def samples(text):
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in found, "a series twice: %r" % (key,)
            found[key] = sample.value
    return found


def test_counters_summed_sessions_once_runner_gauges_from_the_first():
    texts = [generate_latest(worker_metrics(name, count).registry).decode() for name, count in (("a", 7), ("b", 5))]
    merged = samples(exposed(merge(texts)))
    assert merged[("peerwarden_messages_total", (("direction", "to-router"), ("type", "update")))] == 12
    assert merged[("peerwarden_connections_total", (("outcome", "accepted"), ("session", "a")))] == 1
    assert merged[("peerwarden_connections_total", (("outcome", "accepted"), ("session", "b")))] == 1
    assert merged[("peerwarden_sessions", ())] == 2  # relayed now: the sum
    assert merged[("peerwarden_rpki_vrps", ())] == 1000  # the same VRPs in each worker: not 2000


def test_the_collector_scrapes_each_worker_and_says_which_answer():
    first = worker_metrics("a", 3)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=first.registry)
    try:
        collector = WorkersCollector(3)
        collector.ports = [server.server_port, free_port(), None]  # one answers, one refuses, one not started
        collector.restarts[1] = 2
        merged = samples(exposed(list(collector.collect())))
    finally:
        server.shutdown()
        thread.join(5)
    assert merged[("peerwarden_connections_total", (("outcome", "accepted"), ("session", "a")))] == 1
    assert [merged[("peerwarden_worker_up", (("worker", str(worker)),))] for worker in range(3)] == [1, 0, 0]
    assert merged[("peerwarden_worker_restarts_total", (("worker", "1"),))] == 2

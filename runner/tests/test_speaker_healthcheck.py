"""Health checks: rise successes in a row announce, fall failures in a row withdraw; a timeout, a
non-zero exit and a program that does not exist are failures."""

import asyncio
import logging
import sys

from peerwarden_runner.speaker.healthcheck import HealthCheck, HealthCheckSettings
from peerwarden_runner.speaker.route_spec import parse_route

ROUTE = parse_route("203.0.113.10/32", local="127.0.0.23")


def check(command, rise=2, fall=3, timeout=2.0):
    changes = []
    settings = HealthCheckSettings(
        "web", tuple(command), (ROUTE,), interval=0.01, timeout=timeout, rise=rise, fall=fall
    )
    return HealthCheck(settings, lambda check, state: changes.append(state)), changes


def test_rise_and_fall_need_results_in_a_row(caplog):
    caplog.set_level(logging.INFO)
    health, changes = check(["true"])
    for result in (True, False, True, True, True, False, False, True, False, False, False, False):
        health.observe(result)
    assert changes == ["up", "down"]
    assert "healthcheck web: up -> down" in caplog.text and "withdrawing 203.0.113.10/32" in caplog.text


def test_failures_from_the_start_report_down_once():
    health, changes = check(["false"], fall=2)
    for dummy in range(5):
        health.observe(False)
    assert changes == ["down"] and health.status()["state"] == "down"


def test_probe_results(tmp_path):
    flag = tmp_path / "healthy"

    async def probes():
        exists, exists_result = check(["test", "-e", str(flag)])[0], None
        missing = await exists.probe()
        flag.touch()
        present = await exists.probe()
        exists_result = exists.last_result
        slow = check([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)[0]
        timed_out = await slow.probe()
        absent = check(["/nonexistent/peerwarden-check"])[0]
        not_found = await absent.probe()
        return missing, present, exists_result, timed_out, slow.last_result, not_found, absent.last_result

    missing, present, exists_result, timed_out, slow_result, not_found, absent_result = asyncio.run(probes())
    assert (missing, present, exists_result) == (False, True, "exit status 0")
    assert timed_out is False and slow_result == "timed out after 0.3 s"
    assert not_found is False and absent_result.startswith("cannot run /nonexistent/peerwarden-check")


def test_run_loop_announces_after_rise(tmp_path):
    async def scenario():
        health, changes = check(["true"], rise=3)
        task = asyncio.create_task(health.run())
        while not changes:
            await asyncio.sleep(0.01)
        task.cancel()
        return changes, health.successes

    changes, successes = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert changes == ["up"] and successes >= 3

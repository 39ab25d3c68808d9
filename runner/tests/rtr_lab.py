"""A real StayRTR cache on 127.0.0.1 for RTR client tests (pytest fixture `stayrtr`).

StayRTR serves the VRPs of a JSON file it re-reads every second (-refresh 1) and sends Serial
Notify to its clients when they change, which is what the client tests need from a real cache.
It is always started with -cache (a local file: its default downloads from the Internet) and
-metrics.addr on loopback (its default listens on all interfaces), and -checktime=false (the
test file has no build time). Stopped by PID in the fixture's teardown.

    def test_something(stayrtr):          # import the fixture: from rtr_lab import stayrtr
        stayrtr.write_vrps([("192.0.2.0/24", 24, 65001)])
        cache = stayrtr.cache()           # an RtrCache for the client
"""

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable

import pytest

from peerwarden_runner.rpki.rtr_client import RtrCache
from polling import free_port

STAYRTR = "stayrtr"
START_TIMEOUT = 10.0

VrpSpec = tuple[str, int, int]  # (prefix, maxLength, asn)


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class StayRtrLab:
    """One StayRTR process serving `vrp_file` on 127.0.0.1:`port`."""

    def __init__(self, directory: str, refresh: int = 1, start_timeout: float = START_TIMEOUT):
        self.directory = directory
        self.start_timeout = start_timeout
        self.vrp_file = os.path.join(directory, "vrps.json")
        self.log_file = os.path.join(directory, "stayrtr.log")
        self.refresh = refresh
        self.port = 0
        self.metrics_port = 0
        self.process: subprocess.Popen | None = None

    def write_vrps(self, vrps: Iterable[VrpSpec], aspas: dict[int, list[int]] | None = None) -> None:
        """Replace the served VRPs (atomically: StayRTR never reads a half-written file), and the
        ASPAs (customer -> providers) in the form StayRTR 0.5 reads ("provider_authorizations"; it
        ignores rpki-client's "aspas") and serves as 8210bis-10 ASPA PDUs."""
        document: dict[str, object] = {
            "metadata": {
                "generated": int(time.time()),
                "buildtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            "roas": [
                {"prefix": prefix, "maxLength": max_length, "asn": "AS%d" % asn, "ta": "test"}
                for prefix, max_length, asn in vrps
            ],
        }
        if aspas:
            entries = [{"customer_asid": customer, "providers": providers} for customer, providers in aspas.items()]
            document["provider_authorizations"] = {"ipv4": entries, "ipv6": []}
        staging = self.vrp_file + ".new"
        with open(staging, "w", encoding="utf-8") as staged:
            json.dump(document, staged)
        os.replace(staging, self.vrp_file)

    def start(self) -> None:
        """Start StayRTR on free loopback ports and wait until it accepts connections."""
        for dummy_attempt in range(3):  # a free port can be taken between probe and bind
            self.port, self.metrics_port = free_port(), free_port()
            command = [
                STAYRTR,
                "-bind",
                "127.0.0.1:%d" % self.port,
                "-cache",
                self.vrp_file,
                "-checktime=false",
                "-metrics.addr",
                "127.0.0.1:%d" % self.metrics_port,
                "-refresh",
                str(self.refresh),
            ]
            with open(self.log_file, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                if port_accepts(self.port):
                    return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("stayrtr did not start; its log:\n" + self.log())

    def stop(self) -> None:
        """Stop the process started here (by its PID), if it runs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def cache(self, preference: int = 0) -> RtrCache:
        return RtrCache("127.0.0.1", self.port, preference)

    def log(self) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as log:
                return log.read()
        except OSError:
            return ""


INITIAL_VRPS: list[VrpSpec] = [
    ("192.0.2.0/24", 24, 65001),
    ("198.51.100.0/22", 24, 65002),
    ("2001:db8::/32", 48, 65003),
]


@pytest.fixture
def stayrtr(tmp_path):
    """A running StayRTR serving INITIAL_VRPS; stopped (and its port freed) after the test."""
    if shutil.which(STAYRTR) is None:
        pytest.skip("stayrtr is not installed (apt-get install stayrtr)")
    lab = StayRtrLab(str(tmp_path))
    lab.write_vrps(INITIAL_VRPS)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()

"""The runner's aspa stage between two real routers, on loopback:
BIRD (AS65001, our customer) -> peerwarden-runner (run -c) -> FRR (AS65000).

BIRD originates three prefixes behind three ASes (documentation ASes, RFC 5398). The ASPA file, in
rpki-client's JSON form, says 64500's provider is 65001 (valid path), 64502's provider is 64499 (so
65001 64502 is a leak: held back) and nothing about 64501 (unknown: passes). Then the file is
rewritten: 64502 names 65001 and 64500 names 64499, and FRR gets 192.0.2.0/24 and loses 203.0.113.0/24.
The same once more with the ASPAs from an RTR version 2 cache instead of the file.
"""

import contextlib
import json
import os

import pytest
from integration.rtr_v2_cache import ScriptedRtrCache
from integration.runner_process import running_runner

from lab.daemons import wait_for

pytestmark = pytest.mark.lab
BIRD, FRR, LISTEN, FROM = "127.0.0.111", "127.0.0.110", "127.0.0.112", "127.0.0.113"
ORIGINS = {"192.0.2.0/24": 64502, "203.0.113.0/24": 64500, "198.51.100.0/24": 64501}


def static_routes():
    lines = ["  route %s blackhole { bgp_path.prepend(%d); };" % item for item in ORIGINS.items()]
    return "protocol static originated {\n  ipv4;\n%s\n}\n" % "\n".join(lines)


def write_aspas(path, providers):
    """As rpki-client writes its JSON output (output-json.c): a new file renamed over the old one."""
    entries = [
        {"customer_asid": customer, "expires": 4102444800, "providers": listed} for customer, listed in providers
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"metadata": {}, "roas": [], "aspas": entries}))
    os.replace(temporary, path)


def frr_routes(frr):
    return sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {}))


@contextlib.contextmanager
def aspa_lab(make_frr_router, make_bird_router, tmp_path, sections):
    """BIRD -> runner (the aspa stage, configured by `sections`) -> FRR, with BIRD's routes on their
    way: (FRR, the runner's log)."""
    config_file = tmp_path / "runner.yml"
    session = {
        "name": "lab-aspa",
        "listen": LISTEN + ":179",
        "connect": FRR + ":179",
        "connect_from": FROM,
        "role": "customer",
        "to_router": ["aspa"],
    }
    config_file.write_text(json.dumps({"sessions": [session], **sections}))  # JSON is YAML
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001)
    log = tmp_path / "runner.log"
    with running_runner(config_file, log):
        make_bird_router(address=BIRD, asn=65001, neighbor=LISTEN, neighbor_asn=65000, extra_config=static_routes())
        yield frr, log


def leak_held_then_followed(frr, log, change):
    """FRR has the valid and the unknown route, not the leak; after `change()` (64502 names 65001,
    64500 names 64499) it has the released route and not the one now invalid."""
    wait_for(
        lambda: frr_routes(frr) == ["198.51.100.0/24", "203.0.113.0/24"],
        what="FRR to hold the valid and the unknown route, not the leak",
    )
    # counted: the line comes when its 10 s interval is over (runner/src/peerwarden_runner/log_summary.py)
    wait_for(
        lambda: "aspa: 1 route(s) held back: invalid path in " in log.read_text(),
        what="the aspa summary line",
        timeout=30,
    )
    assert "(e.g. 192.0.2.0/24 path " in log.read_text()
    change()
    wait_for(
        lambda: frr_routes(frr) == ["192.0.2.0/24", "198.51.100.0/24"],
        what="FRR to get the released route and lose the one now invalid",
    )
    wait_for(
        lambda: (
            "aspa: 1 route(s) released: no longer invalid after an ASPA change in " in log.read_text()
            and "aspa: 1 route(s) held back: invalid after an ASPA change in " in log.read_text()
        ),
        what="the aspa summary lines of the change",
        timeout=30,
    )
    path = json.loads(frr.vtysh("show bgp ipv4 unicast 192.0.2.0/24 json"))["paths"][0]["aspath"]["string"]
    assert path == "65001 64502"


BEFORE = [(65001, [65000]), (64500, [65001]), (64502, [64499])]
AFTER = [(65001, [65000]), (64500, [64499]), (64502, [65001])]


def test_aspa_holds_a_leak_passes_the_rest_and_follows_the_file(make_frr_router, make_bird_router, tmp_path):
    aspas = tmp_path / "rpki-client.json"
    write_aspas(aspas, BEFORE)
    with aspa_lab(make_frr_router, make_bird_router, tmp_path, {"aspa": {"file": str(aspas)}}) as (frr, log):
        leak_held_then_followed(frr, log, lambda: write_aspas(aspas, AFTER))


def test_aspa_over_rtr_version_2_holds_a_leak_and_follows_the_cache(make_frr_router, make_bird_router, tmp_path):
    """The same through RTR: the ASPAs come from an RTR version 2 cache (draft-ietf-sidrops-8210bis-27,
    scripted: rtr_v2_cache) and change with an incremental update after its Serial Notify."""
    with ScriptedRtrCache(dict(BEFORE)) as cache:
        sections = {"aspa": {"rtr": True}, "rpki": {"caches": [{"host": "127.0.0.1", "port": cache.port}]}}
        with aspa_lab(make_frr_router, make_bird_router, tmp_path, sections) as (frr, log):
            leak_held_then_followed(frr, log, lambda: cache.publish(dict(AFTER)))
            text = log.read_text()
    assert "connected (version 2, reset)" in text and "3 ASPAs (3 customer(s) changed)" in text
    assert "3 ASPAs (2 customer(s) changed)" in text  # the incremental update: 64500 and 64502

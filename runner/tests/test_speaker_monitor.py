"""The speaker as a monitor, against a scripted router on 127.0.0.86: received routes (IPv4 and IPv6)
validated, the invalid ones listed by the API and counted in the metrics, a filter's drop shown as
held, a VRP change validating them again without one message to the router, a hijack received
raising an alert in the alert file; `check` refusing the stages that could write to the router."""

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from peerwarden_runner import config
from peerwarden_runner.codec import Capability, decode_open, decode_update, encode_open, encode_update
from peerwarden_runner.codec import constants as c
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.speaker.api import make_app
from peerwarden_runner.speaker.metrics import SpeakerCollector
from peerwarden_runner.speaker.monitor import Monitor
from peerwarden_runner.speaker.route_spec import parse_route
from peerwarden_runner.stages.alert import AlertStage
from peerwarden_runner.stages.alert_config import check_alert
from peerwarden_runner.stages.alert_sinks import AlertSinks
from peerwarden_runner.stages.filter import FilterStage, check_filter
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.rpki import RpkiStage
from polling import until
from speaker_lab import LOCAL_ASN, PEER_ASN, ScriptedPeer, make_speaker, run
from stage_helpers import announce

ROUTER, SPEAKER = "127.0.0.86", "127.0.0.87"
OURS = "10.88.0.0/16"  # our space (origin LOCAL_ASN): the router's route for it from PEER_ASN is a hijack


def checked(checker, section):
    problems = []
    result = checker(section, lambda key, text: problems.append("%s: %s" % (key, text)))
    assert problems == []
    return result


async def establish(connection):
    """The router's side of the OPEN exchange, with 4-octet AS numbers."""
    decode_open((await connection.read()).raw)
    capabilities = [Capability.multiprotocol(*family) for family in (c.IPV4_UNICAST, c.IPV6_UNICAST)]
    connection.send(encode_open(PEER_ASN, 30, ROUTER, capabilities + [Capability.four_octet_as(PEER_ASN)]))
    connection.send(c.MARKER + b"\x00\x13\x04")
    assert (await connection.read()).type == c.KEEPALIVE


class Lab:
    """A monitoring speaker (rpki, filter, alert) and its VRPs, metrics and alert file."""

    def __init__(self, tmp_path):
        self.table = VrpTable(
            [
                make_vrp("10.86.0.0/16", 24, PEER_ASN),
                make_vrp("10.87.0.0/16", None, 64999),
                make_vrp("2001:db8:86::/48", None, PEER_ASN),
            ]
        )
        self.metrics = Metrics()
        self.rpki = RpkiStage(self.table, self.metrics)
        alert = checked(
            check_alert,
            {"prefixes": [{"prefix": OURS, "origins": [LOCAL_ASN]}], "file": str(tmp_path / "alerts.jsonl")},
        )
        self.alert_file = tmp_path / "alerts.jsonl"
        drop = checked(
            check_filter, {"rules": [{"name": "no-doc", "match": {"prefix": ["192.0.2.0/24 le 32"]}, "action": "drop"}]}
        )
        stages = [
            self.rpki,
            FilterStage(drop, self.metrics),
            AlertStage(alert, AlertSinks(alert, self.metrics), "mon", None, self.metrics),
        ]
        self.monitor = Monitor(stages, self.metrics)

    def speaker(self, port):
        speaker = make_speaker(port, watchers=[self.metrics], local=SPEAKER, peer=ROUTER, monitor=self.monitor)
        self.metrics.registry.register(SpeakerCollector([speaker]))
        return speaker

    def sample(self, name, **labels):
        return self.metrics.registry.get_sample_value(name, labels)


def by_prefix(routes):
    return {route["prefix"]: route for route in routes}


def test_received_routes_are_validated_listed_and_validated_again_without_a_word_to_the_router(tmp_path):
    lab = Lab(tmp_path)
    step = asyncio.Queue()

    async def script(connection):
        await establish(connection)
        assert await connection.updates_until_end_of_rib() == []  # the speaker announces nothing
        connection.send(announce(["10.86.1.0/24", "10.87.0.0/16", "192.0.2.0/24"], path=(PEER_ASN,)))
        connection.send(announce(["2001:db8:86::/48", "2001:db8:87::/48"], path=(PEER_ASN, 64999)))
        connection.send(announce([OURS], path=(PEER_ASN,)))
        await step.get()
        connection.send(encode_update(withdrawn=["10.86.1.0/24"]))
        # the next UPDATE to reach the router is the one the test announces: the monitor's stages
        # sent nothing in between, neither for the invalid routes nor after the VRP change
        return decode_update((await connection.read_until(c.UPDATE)).raw)

    async def api_get(speaker, path):
        async with TestClient(TestServer(make_app(speaker, None), host=SPEAKER)) as client:
            response = await client.get(path)
            return response.status, await response.json()

    async def scenario():
        async with ScriptedPeer(script, address=ROUTER, speaker=SPEAKER) as peer:
            speaker = lab.speaker(peer.port)
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.counters["updates_received"] == 3)
            seen = {
                "first": by_prefix((await api_get(speaker, "/routes/received"))[1]["routes"]),
                "invalid": (await api_get(speaker, "/routes/received?rpki=invalid"))[1]["routes"],
                "bad query": await api_get(speaker, "/routes/received?rpki=bogus"),
                "metrics": {
                    state: lab.sample("peerwarden_speaker_routes_rpki", speaker="test", state=state)
                    for state in ("valid", "invalid", "notfound")
                },
                "validations": lab.sample("peerwarden_rpki_validations_total", state="invalid"),
                "held": lab.sample("peerwarden_speaker_routes_held", speaker="test"),
            }
            # the VRPs change: 10.87.0.0/16 becomes valid, 10.86.1.0/24 invalid (its VRP now names AS64999)
            diff = lab.table.apply(
                added=[make_vrp("10.87.0.0/16", None, PEER_ASN), make_vrp("10.86.0.0/16", 24, 64999)],
                removed=[make_vrp("10.87.0.0/16", None, 64999), make_vrp("10.86.0.0/16", 24, PEER_ASN)],
            )
            lab.rpki.vrps_changed(diff)
            seen["after"] = by_prefix(speaker.received.to_json(lab.monitor.notes))
            seen["status"] = speaker.status()["monitor"]
            step.put_nowait("withdraw")
            await until(lambda: len(speaker.received) == 5)
            seen["withdrawn"] = dict(lab.monitor.status()["rpki"])
            speaker.announce([parse_route("10.20.0.0/24", local=SPEAKER)])
            seen["at the router"] = await peer.result()
            await speaker.stop()
            await task
            return seen

    seen = run(scenario)
    first = seen["first"]
    assert {prefix: route.get("rpki") for prefix, route in first.items()} == {
        "10.86.1.0/24": "valid",
        "10.87.0.0/16": "invalid",
        "192.0.2.0/24": "notfound",
        OURS: "notfound",
        "2001:db8:86::/48": "invalid",
        "2001:db8:87::/48": "notfound",
    }  # 2001:db8:86::/48 has origin 64999
    assert first["10.87.0.0/16"]["held"] == "rpki: invalid (origin AS%d)" % PEER_ASN
    assert first["192.0.2.0/24"]["held"] == "filter: rule no-doc"
    assert "held" not in first["10.86.1.0/24"] and first["10.86.1.0/24"]["origin_as"] == PEER_ASN
    assert [route["prefix"] for route in seen["invalid"]] == ["10.87.0.0/16", "2001:db8:86::/48"]
    assert seen["bad query"][0] == 400 and "expected one of valid, invalid, notfound" in seen["bad query"][1]["error"]
    assert seen["metrics"] == {"valid": 1.0, "invalid": 2.0, "notfound": 3.0}
    assert seen["validations"] == 2.0 and seen["held"] == 3.0
    after = seen["after"]
    assert after["10.87.0.0/16"]["rpki"] == "valid" and "held" not in after["10.87.0.0/16"]
    assert after["10.86.1.0/24"]["rpki"] == "invalid"
    assert after["10.86.1.0/24"]["held"] == "rpki: invalid after a VRP change"
    assert seen["status"] == {
        "stages": ["rpki", "filter", "alert"],
        "held": 3,
        "rpki": {"valid": 1, "invalid": 2, "notfound": 3},
    }
    assert seen["withdrawn"] == {"valid": 1, "invalid": 1, "notfound": 3}
    update = seen["at the router"]
    assert [str(route.prefix) for route in update.routes()] == ["10.20.0.0/24"] and update.withdrawals() == []
    # the hijack of our space, received by the speaker, is in the alert file once
    alerts = [json.loads(line) for line in lab.alert_file.read_text().splitlines()]
    assert [(a["kind"], a["prefix"], a["origin"], a["session"], a["direction"]) for a in alerts] == [
        ("origin-hijack", OURS, PEER_ASN, "mon", "received")
    ]
    assert lab.sample("peerwarden_alerts_total", kind="origin-hijack", session="mon") == 1.0


def test_a_new_session_starts_with_empty_records(tmp_path):
    lab = Lab(tmp_path)

    async def script(connection):
        await establish(connection)
        connection.send(announce(["10.87.0.0/16"], path=(PEER_ASN,)))
        await connection.updates_until_end_of_rib()
        return "sent"  # the connection closes: the session ends

    async def scenario():
        async with ScriptedPeer(script, address=ROUTER, speaker=SPEAKER) as peer:
            speaker = lab.speaker(peer.port)
            task = asyncio.create_task(speaker.run())
            await peer.result()
            await until(lambda: speaker.state != "Established")
            status = speaker.status()["monitor"]
            held = lab.sample("peerwarden_speaker_routes_held", speaker="test")
            await speaker.stop()
            await task
            return status, held, lab.rpki.sessions

    status, held, sessions = run(scenario)
    assert status == {"stages": ["rpki", "filter", "alert"], "rpki": {}, "held": 0} and held == 0.0
    assert sessions == {}  # the rpki stage forgot the ended watch session


BASE = {
    "rpki": {"file": "/nonexistent/vrps.json"},
    "limit": {},
    "exec": {"program": ["cat"]},
    "alert": {"prefixes": [{"prefix": OURS, "origins": [LOCAL_ASN]}]},
    "filter": {"rules": [{"name": "no-doc", "match": {"prefix": ["192.0.2.0/24"]}, "action": "drop"}]},
}
SPEAKER_ENTRY = {"local": SPEAKER, "peer": ROUTER, "asn": LOCAL_ASN, "peer_asn": PEER_ASN, "api": False}


def problems_of(speaker_changes, document_changes=None, drop=()):
    document = dict(BASE, **(document_changes or {}), speakers=[dict(SPEAKER_ENTRY, **speaker_changes)])
    for key in drop:
        del document[key]
    try:
        return config.check(document, "runner.yml")
    except config.ConfigError as error:
        return str(error)


@pytest.mark.parametrize(
    "changes, document_changes, drop, expected",
    [
        (
            {"stages": ["limit"]},
            None,
            (),
            "runner.yml: speakers[0].stages: 'limit' cannot run on a speaker: limit holds "
            "routes back from a receiver and can end the session with a Cease",
        ),
        ({"stages": ["rpki", "exec"]}, None, (), "'exec' cannot run on a speaker: exec rewrites messages on their way"),
        (
            {"stages": ["filter"]},
            {
                "filter": {
                    "rules": [
                        {
                            "name": "customers",
                            "match": {"origin": 64500},
                            "action": "tag",
                            "tag": {"community": ["65000:100"]},
                        }
                    ]
                }
            },
            (),
            "speakers[0].stages: the filter has tag rules (customers): a speaker's stages only watch",
        ),
        (
            {"stages": ["archive"]},
            None,
            (),
            "speakers[0].stages: unknown stage 'archive' (expected rpki, filter, alert)",
        ),
        ({"stages": ["rpki"]}, None, ("rpki",), "uses the stage 'rpki', which has no top-level 'rpki:' section"),
        ({"stages": "rpki"}, None, (), "speakers[0].stages: expected a list of stage names, got 'rpki'"),
        ({"stages": ["rpki", "rpki"]}, None, (), "speakers[0].stages: 'rpki' is listed more than once"),
        (
            {"stages": ["alert"]},
            {"alert": {"prefixes": []}},
            (),
            "speakers[0].stages: uses the alert stage but it has nothing to watch for here",
        ),
        ({"role": "upstream"}, None, (), "speakers[0].role: expected one of"),
        (
            {"local": SPEAKER + ":1790"},
            None,
            (),
            "speakers[0].local: '127.0.0.87:1790' has a port: a port on local is only for passive: true",
        ),
        (
            {"local": "127.0.0.87:99999", "passive": True},
            None,
            (),
            "speakers[0].local: '127.0.0.87:99999' is not ADDRESS[:PORT] (port 99999 out of range)",
        ),
        (
            {"passive": "yes"},
            None,
            (),
            "speakers[0].passive: expected true or false (YAML 1.1 yes/no/on/off are not booleans here), got 'yes'",
        ),
    ],
)
def test_check_refuses_stages_a_monitor_cannot_run(changes, document_changes, drop, expected):
    assert expected in problems_of(changes, document_changes, drop)


def test_check_accepts_a_passive_monitor():
    settings = problems_of(
        {"stages": ["rpki", "filter", "alert"], "role": "peer", "passive": True, "local": SPEAKER + ":1790"}
    )
    assert isinstance(settings, dict), settings
    entry = settings["speakers"][0]
    assert (entry["stages"], entry["role"], entry["passive"], entry["local"], entry["local_port"]) == (
        ["rpki", "filter", "alert"],
        "peer",
        True,
        SPEAKER,
        1790,
    )
    assert problems_of({"passive": True})["speakers"][0]["local_port"] == 179

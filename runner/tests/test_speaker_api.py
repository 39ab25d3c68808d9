"""The speaker's HTTP API: the token guards every change, every field is checked (400 says what is
wrong and what is expected), a request is all or nothing, big bodies are refused."""

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from peerwarden_runner.speaker.api import make_app
from speaker_lab import make_speaker

TOKEN = "t0ken-for-tests"
GOOD = {"Authorization": "Bearer " + TOKEN}


def call(requests, token=TOKEN, speaker=None):
    """Run `requests(client)` against an API over an idle speaker (local 127.0.0.23, eBGP); its result."""
    speaker = speaker or make_speaker(179)

    async def scenario():
        async with TestClient(TestServer(make_app(speaker, token), host="127.0.0.24")) as client:
            return await requests(client)

    return asyncio.run(scenario())


async def answer(response):
    return response.status, await response.json()


def test_announce_list_and_withdraw():
    async def requests(client):
        posted = await answer(
            await client.post(
                "/routes",
                json=[
                    {
                        "prefix": "192.0.2.0/24",
                        "communities": ["65000:1", "no-export"],
                        "large_communities": ["65000:1:2"],
                        "as_path": [64500],
                        "med": 10,
                        "origin": "incomplete",
                    },
                    {"prefix": "2001:db8::/48", "next_hop": "2001:db8::1"},
                ],
                headers=GOOD,
            )
        )
        listed = await answer(await client.get("/routes/announced"))
        status = await answer(await client.get("/status"))
        withdrawn = await answer(await client.delete("/routes", json={"prefix": "192.0.2.0/24"}, headers=GOOD))
        again = await answer(await client.delete("/routes?prefix=192.0.2.0/24", headers=GOOD))
        left = await answer(await client.get("/routes/announced"))
        return posted, listed, status, withdrawn, again, left

    posted, listed, status, withdrawn, again, left = call(requests)
    assert posted[0] == 200 and posted[1]["state"] == "Idle"
    assert listed[1]["routes"][0] == {
        "prefix": "192.0.2.0/24",
        "next_hop": "127.0.0.23",
        "as_path": [64500],
        "origin": "incomplete",
        "med": 10,
        "communities": ["65000:1", "no-export"],
        "large_communities": ["65000:1:2"],
        "source": "api",
    }
    assert listed[1]["routes"][1]["next_hop"] == "2001:db8::1"
    assert status[1]["routes"] == {"announced": 2, "received": 0} and status[1]["state"] == "Idle"
    assert withdrawn == (200, {"withdrawn": ["192.0.2.0/24"], "not_announced": [], "state": "Idle"})
    assert again[0] == 404 and "not announced: 192.0.2.0/24" in again[1]["error"]
    assert [route["prefix"] for route in left[1]["routes"]] == ["2001:db8::/48"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": "Basic " + TOKEN},
        {"Authorization": "Bearer " + TOKEN + "x"},
    ],
)
def test_changes_without_the_token_are_refused(headers):
    speaker = make_speaker(179)

    async def requests(client):
        post = await answer(await client.post("/routes", json={"prefix": "192.0.2.0/24"}, headers=headers))
        delete = await answer(await client.delete("/routes", json={"prefix": "192.0.2.0/24"}, headers=headers))
        return post, delete

    post, delete = call(requests, speaker=speaker)
    assert post[0] == delete[0] == 401
    assert "expected the header Authorization: Bearer <token>" in post[1]["error"]
    assert speaker.desired == {}


def test_without_a_configured_token_the_api_is_read_only():
    async def requests(client):
        return (
            await answer(await client.post("/routes", json={"prefix": "192.0.2.0/24"}, headers=GOOD)),
            await answer(await client.get("/routes/received")),
        )

    refused, received = call(requests, token=None)
    assert refused[0] == 403 and "PEERWARDEN_API_TOKEN" in refused[1]["error"]
    assert received == (200, {"routes": []})


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"prefix": "10.0.0.1/8"},
            "route.prefix: 10.0.0.1/8 has host bits set (expected the network address: 10.0.0.0/8)",
        ),
        (
            {"prefix": "10.0.0.0/33"},
            "route.prefix: '10.0.0.0/33' has no valid prefix length (expected /0 to /32 for IPv4)",
        ),
        ({"prefix": "10.0.0.0"}, "has no valid prefix length"),
        ({"prefix": "2001:db8::/129"}, "expected /0 to /128 for IPv6"),
        ({"prefix": "10.0.0.300/24"}, "'10.0.0.300' is not an IPv4 or IPv6 address"),
        ({"prefix": 10}, "route.prefix: expected a string like 192.0.2.0/24, got int"),
        ({}, "route.prefix: missing"),
        ({"prefix": "10.0.0.0/8", "as_path": [4294967296]}, "route.as_path[0]: 4294967296 is not an integer from 1 to"),
        ({"prefix": "10.0.0.0/8", "as_path": [0]}, "route.as_path[0]: 0 is not an integer from 1"),
        ({"prefix": "10.0.0.0/8", "as_path": "65000"}, "route.as_path: expected a list of AS numbers"),
        ({"prefix": "10.0.0.0/8", "communities": ["65536:1"]}, "route.communities[0]: '65536:1' is not a community"),
        ({"prefix": "10.0.0.0/8", "communities": ["65000"]}, 'expected "ASN:VALUE", both 0-65535'),
        ({"prefix": "10.0.0.0/8", "communities": "65000:1"}, "route.communities: expected a list, got str"),
        ({"prefix": "10.0.0.0/8", "large_communities": ["1:2"]}, "route.large_communities[0]: '1:2' is not a large"),
        ({"prefix": "10.0.0.0/8", "large_communities": ["1:2:4294967296"]}, "each 0-4294967295"),
        (
            {"prefix": "10.0.0.0/8", "next_hop": "2001:db8::1"},
            "route.next_hop: 2001:db8::1 is IPv6 but the prefix 10.0.0.0/8 is IPv4 (expected an IPv4 next hop)",
        ),
        ({"prefix": "2001:db8::/32", "next_hop": "192.0.2.1"}, "expected an IPv6 next hop"),
        ({"prefix": "10.0.0.0/8", "next_hop": "0.0.0.0"}, "cannot be a next hop (expected a unicast address)"),
        ({"prefix": "10.0.0.0/8", "origin": "bgp"}, "route.origin: 'bgp' is not an origin (expected one of igp, egp"),
        ({"prefix": "10.0.0.0/8", "med": -1}, "route.med: -1 is not an integer from 0 to 4294967295"),
        ({"prefix": "10.0.0.0/8", "med": True}, "route.med: True is not an integer"),
        ({"prefix": "10.0.0.0/8", "local_pref": 200}, "LOCAL_PREF is not sent to an external peer"),
        (
            {"prefix": "10.0.0.0/8", "nexthop": "192.0.2.1"},
            "route.nexthop: unknown key (expected one of prefix, next_hop",
        ),
        ([{"prefix": "10.0.0.0/8"}, {"prefix": "10.1.0.1/16"}], "route[1].prefix: 10.1.0.1/16 has host bits set"),
        ([], "an empty list (expected at least one route)"),
        ("10.0.0.0/8", "route: expected an object like"),
        ({"prefix": "0.0.0.0/0"}, "route.prefix: 0.0.0.0/0 is a default route: the API does not announce one"),
        ({"prefix": "::/0"}, "is a default route"),
    ],
)
def test_bad_routes_get_400_and_change_nothing(body, expected):
    speaker = make_speaker(179)

    async def requests(client):
        return await answer(await client.post("/routes", data=json.dumps(body), headers=GOOD))

    status, error = call(requests, speaker=speaker)
    assert status == 400 and expected in error["error"], error
    assert speaker.desired == {}  # all or nothing


def test_not_json_too_big_and_unknown_paths():
    async def requests(client):
        return (
            await answer(await client.post("/routes", data=b"{prefix:", headers=GOOD)),
            await answer(await client.post("/routes", data=b"[" + b" " * 1100000 + b"]", headers=GOOD)),
            await answer(await client.post("/routes", data=b"[" * 30000 + b"]" * 30000, headers=GOOD)),
            await answer(await client.delete("/routes", json={"prefix": "10.0.0.0/8", "x": 1}, headers=GOOD)),
            await answer(await client.get("/nowhere")),
            await answer(await client.put("/routes", json={}, headers=GOOD)),
        )

    not_json, too_big, too_deep, extra_key, unknown, method = call(requests)
    assert not_json[0] == 400 and "the body is not JSON" in not_json[1]["error"]
    assert too_big[0] == 413 and "at most 1048576" in too_big[1]["error"]
    assert too_deep[0] == 400 and "nests 33 levels deep (expected at most 32)" in too_deep[1]["error"]
    assert extra_key[0] == 400 and 'expected {"prefix": "192.0.2.0/24"}' in extra_key[1]["error"]
    assert unknown[0] == 404 and "GET /nowhere" in unknown[1]["error"]
    assert method[0] == 405


def received_update(prefixes):
    """A decoded UPDATE from the router announcing `prefixes` (IPv4 as NLRI, IPv6 in MP_REACH)."""
    from peerwarden_runner.codec import (
        DEFAULT_CONTEXT,
        AsPath,
        Prefix,
        decode_update,
        encode_update,
        make_attribute,
        mp_reach_attribute,
    )
    from peerwarden_runner.codec import constants as c

    parsed = [Prefix.parse(p) for p in prefixes]
    attributes = [make_attribute(c.ORIGIN, "igp"), make_attribute(c.AS_PATH, AsPath.sequence(65021, 64500))]
    ipv6 = [p for p in parsed if p.afi == c.AFI_IPV6]
    if ipv6:
        attributes.append(mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::1", ipv6))
    else:
        attributes.append(make_attribute(c.NEXT_HOP, "192.0.2.1"))
    attributes.sort(key=lambda attribute: attribute.code)
    raw = encode_update(attributes=attributes, nlri=[p for p in parsed if p.afi == c.AFI_IPV4])
    return decode_update(raw, DEFAULT_CONTEXT)


def test_received_routes_by_covering_prefix():
    speaker = make_speaker(179)
    speaker.received.apply(received_update(["10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16", "192.0.2.0/24"]))
    speaker.received.apply(received_update(["2001:db8:1::/48", "2001:db9::/32"]))

    async def requests(client):
        return [
            await answer(await client.get("/routes/received", params={"prefix": query}))
            for query in ("10.1.0.0/16", "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "10.1.0.1/16", "not-a-net")
        ]

    inside16, inside8, inside6, everything4, host_bits, garbage = call(requests, speaker=speaker)
    assert [r["prefix"] for r in inside16[1]["routes"]] == ["10.1.0.0/16", "10.1.2.0/24"]
    assert [r["prefix"] for r in inside8[1]["routes"]] == ["10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16"]
    assert [r["prefix"] for r in inside6[1]["routes"]] == ["2001:db8:1::/48"]
    assert len(everything4[1]["routes"]) == 4  # IPv4 only: an IPv6 route is never inside an IPv4 network
    assert host_bits[0] == garbage[0] == 400 and "expected a network such as" in host_bits[1]["error"]

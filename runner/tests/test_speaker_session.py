"""The speaker's BGP session against a scripted peer: OPEN and capabilities, Established and the
routes sent, UPDATEs received (RFC 7606 included), the hold timer, bad OPENs, Cease on stop,
reconnects, TCP-MD5 and GTSM."""

import asyncio
import io
import ipaddress
import json
import socket

import pytest

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update, encode_notification, encode_update, make_attribute, unknown_attribute
from peerwarden_runner.gtsm import IP_MINTTL
from peerwarden_runner.speaker.json_printer import JsonPrinter
from peerwarden_runner.speaker.route_spec import parse_route
from peerwarden_runner.transport import connect
from polling import until
from speaker_lab import LOCAL, LOCAL_ASN, PEER, PEER_ASN, ScriptedPeer, make_speaker, peer_open, run

ROUTE_ATTRIBUTES = [
    make_attribute("origin", "igp"),
    make_attribute("as_path", [["sequence", [PEER_ASN, 64510]]]),
    make_attribute("next_hop", PEER),
]


def test_open_capabilities_and_routes_sent_on_established():
    async def script(connection):
        speaker_open = await connection.establish(hold_time=30)
        return speaker_open, await connection.updates_until_end_of_rib()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, hold_time=60)
            speaker.announce(
                [
                    parse_route("192.0.2.0/24", local=LOCAL),
                    parse_route({"prefix": "2001:db8:20::/48", "med": 5}, local=LOCAL),
                ],
                "config",
            )
            task = asyncio.create_task(speaker.run())
            speaker_open, updates = await peer.result()
            await until(lambda: speaker.state == "Established")
            status = speaker.status()
            await speaker.stop()
            await task
            return speaker_open, updates, status

    speaker_open, updates, status = run(scenario)
    assert speaker_open.asn == LOCAL_ASN and speaker_open.hold_time == 60 and str(speaker_open.bgp_id) == LOCAL
    assert speaker_open.families == {c.IPV4_UNICAST, c.IPV6_UNICAST}
    assert speaker_open.four_octet_as and speaker_open.route_refresh
    routes = {str(route.prefix): route for update in updates for route in update.routes()}
    assert sorted(routes) == ["192.0.2.0/24", "2001:db8:20::/48"]
    assert str(routes["192.0.2.0/24"].next_hop) == LOCAL
    assert routes["2001:db8:20::/48"].next_hop.ipv4_mapped == ipaddress.IPv4Address(LOCAL)  # on an IPv4 session
    v6 = [update for update in updates if update.mp_reach][0]
    assert v6.as_path.asns() == [LOCAL_ASN] and v6.med == 5 and v6.local_pref is None  # eBGP: our AS, no LOCAL_PREF
    assert status["state"] == "Established" and status["hold_time"] == 30  # the smaller of 60 and 30


def test_received_updates_fill_the_adj_rib_in_and_the_printout(caplog):
    printed = io.StringIO()

    async def script(connection):
        await connection.establish()
        connection.send(encode_update(attributes=ROUTE_ATTRIBUTES, nlri=["198.51.100.0/24", "203.0.113.0/24"]))
        connection.send(encode_update(withdrawn=["203.0.113.0/24"]))
        # RFC 7606: an undefined ORIGIN makes the UPDATE treat-as-withdraw, the session stays up
        bad_origin = [unknown_attribute(0x40, c.ORIGIN, b"\x07")] + ROUTE_ATTRIBUTES[1:]
        connection.send(encode_update(attributes=ROUTE_ATTRIBUTES, nlri=["192.0.2.0/24"]))
        connection.send(encode_update(attributes=bad_origin, nlri=["192.0.2.0/24"]))
        return await connection.notification()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, watchers=[JsonPrinter("test-%s", printed)])
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.counters["updates_received"] == 4)
            received = speaker.received.to_json()
            await speaker.stop()
            notification = await peer.result()
            await task
            return received, notification

    received, notification = run(scenario)
    assert [route["prefix"] for route in received] == ["198.51.100.0/24"]
    assert received[0]["attributes"]["as_path"] == [["sequence", [PEER_ASN, 64510]]]
    assert received[0]["origin_as"] == 64510 and received[0]["next_hop"] == PEER
    # counted (log_summary), written when the session ended
    assert ": RFC 7606: 1 UPDATE(s) treat-as-withdraw in " in caplog.text
    assert "(e.g. ORIGIN value 7 undefined)" in caplog.text
    assert (notification.code, notification.subcode) == (6, 2)
    assert notification.shutdown_message == "maintenance, back at 14:00"
    every = [json.loads(line) for line in printed.getvalue().splitlines()]  # --stdout: both directions
    lines = [line for line in every if line["direction"] == "received" and line["type"] != "keepalive"]
    assert [line["type"] for line in lines] == ["open", "update", "update", "update", "update"]
    sent = [line["type"] for line in every if line["direction"] == "sent"]
    assert sent[0] == "open" and "keepalive" in sent and sent[-1] == "notification"
    assert any(line["type"] == "keepalive" for line in every if line["direction"] == "received")
    assert lines[1]["nlri"] == ["198.51.100.0/24", "203.0.113.0/24"] and lines[2]["withdrawn"] == ["203.0.113.0/24"]
    assert lines[4]["error"]["action"] == "treat-as-withdraw"
    assert {line["peer"] for line in every} == {"test-%s"}  # a "%" in the name is text in every line


def notified(script):
    """(the NOTIFICATION the speaker sent to a peer running `script`, the speaker's last error)."""

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            task = asyncio.create_task(speaker.run())
            notification = await peer.result()
            await until(lambda: speaker.last_error is not None)
            await speaker.stop()
            await task
            return notification, speaker.last_error

    return run(scenario)


def test_session_reset_update_is_answered_with_its_notification():
    async def script(connection):
        await connection.establish()
        # Total Path Attribute Length 200 with nothing after it: the UPDATE cannot be parsed (RFC 7606 §4)
        connection.send(c.MARKER + b"\x00\x17\x02\x00\x00\x00\xc8")
        return await connection.notification()

    notification, reason = notified(script)
    assert (notification.code, notification.subcode) == (3, 1)
    assert "Total Path Attribute Length 200 overruns the message" in reason


def test_messages_before_a_bad_header_in_the_same_read_are_taken_first():
    """Established, the speaker reads what the socket has at once and cuts it into messages: those in
    front of a bad header are handled (printed, counted) before the NOTIFICATION for the header."""
    printed = io.StringIO()

    async def script(connection):
        await connection.establish()
        good = [encode_update(attributes=ROUTE_ATTRIBUTES, nlri=["198.51.100.%d/32" % i]) for i in range(3)]
        connection.send(b"".join(good) + b"\x00" * 19)  # one write: the marker of the last is not all ones
        return await connection.notification()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, watchers=[JsonPrinter("test", printed)])
            task = asyncio.create_task(speaker.run())
            notification = await peer.result()
            await until(lambda: speaker.last_error is not None)
            await speaker.stop()
            await task
            return notification, speaker.last_error, speaker.counters["updates_received"]

    notification, reason, updates = run(scenario)
    assert (notification.code, notification.subcode) == (c.ERR_HEADER, c.HEADER_CONNECTION_NOT_SYNCHRONIZED)
    assert "bad message header: marker is not all ones" in reason and updates == 3
    lines = [json.loads(line) for line in printed.getvalue().splitlines()]
    received = [line["nlri"] for line in lines if line["direction"] == "received" and line["type"] == "update"]
    assert received == [["198.51.100.%d/32" % i] for i in range(3)]
    assert [line["type"] for line in lines if line["direction"] == "sent"][-1] == "notification"


def test_the_hold_timer_restarts_with_every_message(caplog):
    """One timer for the session, not one per read: a peer that speaks every second keeps a 3 s hold
    time alive past several hold times; the session ends by the peer's Cease, not by the timer."""

    async def script(connection):
        await connection.establish(hold_time=3)
        for dummy in range(5):  # 5 s: past the hold time, kept alive by each message
            await asyncio.sleep(1)
            connection.send(c.MARKER + b"\x00\x13\x04")
        connection.send(encode_notification(c.ERR_CEASE, c.CEASE_ADMINISTRATIVE_SHUTDOWN))
        await asyncio.sleep(0.5)

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            task = asyncio.create_task(speaker.run())
            await peer.result(timeout=30)  # the script takes ~6 s; more on a loaded machine
            await until(lambda: speaker.last_error is not None)
            await speaker.stop()
            await task

    run(scenario)
    assert "NOTIFICATION 6/2 (Cease / Administrative Shutdown) from the peer in Established" in caplog.text
    assert "hold timer expired" not in caplog.text


def test_hold_timer_expiry_sends_4_0_and_reconnects():
    async def script(connection):
        await connection.establish(hold_time=3)
        keepalives = 0
        while True:  # silent: never send anything again
            message = await connection.read(timeout=10)
            if message.type == c.KEEPALIVE:
                keepalives += 1
            elif message.type == c.NOTIFICATION:
                return keepalives, message.raw[19:21]

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, hold_time=90)
            task = asyncio.create_task(speaker.run())
            keepalives, error = await peer.result()
            await until(lambda: peer.connections == 2)  # and it came back
            reason = speaker.status()["last_error"]
            await speaker.stop()
            await task
            return keepalives, error, reason

    keepalives, error, reason = run(scenario)
    assert error == b"\x04\x00"
    assert keepalives >= 2  # one every hold/3 = 1 s while waiting 3 s
    assert "hold timer expired: nothing from the peer in 3 s" in reason


@pytest.mark.parametrize(
    "open_fields, code, expected",
    [
        ({"asn": 64999}, (2, 2), "peer AS 64999, expected 65022"),
        ({"hold_time": 2}, (2, 6), "hold time 2"),
        ({"version": 3}, (2, 1), "BGP version 3"),
    ],
)
def test_bad_open_gets_its_notification(open_fields, code, expected):
    async def script(connection):
        await connection.read()
        connection.send(peer_open(**open_fields))
        return await connection.notification()

    notification, reason = notified(script)
    assert (notification.code, notification.subcode) == code
    assert expected in reason


def test_keepalive_instead_of_open_is_an_fsm_error():
    async def script(connection):
        await connection.read()
        connection.send(c.MARKER + b"\x00\x13\x04")
        return await connection.notification()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            task = asyncio.create_task(speaker.run())
            notification = await peer.result()
            await speaker.stop()
            await task
            return notification

    notification = run(scenario)
    assert (notification.code, notification.subcode) == (5, 1)


def test_changes_are_sent_at_once_and_route_refresh_sends_all_again():
    async def script(connection):
        await connection.establish(asn=LOCAL_ASN, families=(c.IPV4_UNICAST,))
        await connection.updates_until_end_of_rib(families=1)
        announced = decode(await connection.read_until(c.UPDATE))
        withdrawn = decode(await connection.read_until(c.UPDATE))
        connection.send(c.MARKER + b"\x00\x17\x05\x00\x01\x00\x01")  # ROUTE-REFRESH IPv4 unicast
        again = decode(await connection.read_until(c.UPDATE))
        return announced, withdrawn, again

    def decode(message):
        return decode_update(message.raw)

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, peer_asn=LOCAL_ASN)  # iBGP this time
            speaker.announce([parse_route("10.0.0.0/8", local=LOCAL)], "config")
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.state == "Established")
            speaker.announce([parse_route({"prefix": "10.1.0.0/16", "local_pref": 200}, local=LOCAL)], "api")
            speaker.announce([parse_route("2001:db8::/32", local=LOCAL)], "api")  # IPv6 not negotiated: kept
            assert speaker.withdraw(["10.1.0.0/16"]) == ["10.1.0.0/16"]
            result = await peer.result()
            await speaker.stop()
            await task
            return result

    announced, withdrawn, again = run(scenario)
    assert [str(p) for p in announced.nlri] == ["10.1.0.0/16"] and announced.local_pref == 200
    assert announced.as_path.asns() == []  # iBGP: no AS added
    assert [str(p) for p in withdrawn.withdrawn] == ["10.1.0.0/16"]
    assert [str(p) for p in again.nlri] == ["10.0.0.0/8"] and again.local_pref == 100


def test_tcp_md5_session_needs_the_key():
    async def script(connection):
        await connection.establish()
        return "established"

    async def scenario():
        async with ScriptedPeer(script, md5="s3cret") as peer:
            without = make_speaker(peer.port)
            task = asyncio.create_task(without.run())
            await asyncio.sleep(1)
            refused = peer.connections
            await without.stop()
            await task
            signed = make_speaker(peer.port, md5="s3cret")
            task = asyncio.create_task(signed.run())
            result = await peer.result()
            await signed.stop()
            await task
            return refused, result

    refused, result = run(scenario)
    assert refused == 0 and result == "established"


def test_gtsm_sends_ttl_255_and_refuses_less():
    async def attempt(server_ttl):
        listener = socket.socket()
        listener.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, server_ttl)
        listener.bind((PEER, 0))
        server = await asyncio.start_server(lambda r, w: w.close(), sock=listener)
        try:
            reader, writer = await connect(LOCAL, PEER, listener.getsockname()[1], gtsm=True, timeout=1)
        except TimeoutError:
            return None
        finally:
            server.close()
        sock = writer.get_extra_info("socket")
        options = (sock.getsockopt(socket.IPPROTO_IP, socket.IP_TTL), sock.getsockopt(socket.IPPROTO_IP, IP_MINTTL))
        writer.close()
        return options

    async def scenario():
        return await attempt(255), await attempt(64)

    # a peer that sends with TTL 255 is reached; one whose packets arrive with less is not (RFC 5082 §3)
    assert run(scenario) == ((255, 255), None)


def test_connection_refused_is_retried_with_backoff(caplog):
    async def scenario():
        probe = socket.socket()
        probe.bind((PEER, 0))
        port = probe.getsockname()[1]
        probe.close()  # nothing listens there
        speaker = make_speaker(port)
        task = asyncio.create_task(speaker.run())
        await until(lambda: speaker.counters["connect_attempts"] >= 3)
        await speaker.stop()
        await task
        return speaker

    speaker = run(scenario)
    assert "cannot connect to 127.0.0.22 port" in caplog.text and "reconnecting in" in caplog.text
    assert speaker.state == "Idle"


def test_extended_messages_only_when_both_sides_advertised_them():
    """RFC 8654: the peer advertises extended messages, the speaker does not; a withdrawal of 2,000
    routes in one call goes out in messages of at most 4,096 octets (FRR answers longer ones with 1/2)."""
    from peerwarden_runner.codec import Capability, encode_open

    prefixes = ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(2000)]  # 8,000 octets withdrawn

    async def script(connection):
        await connection.read()  # the speaker's OPEN
        capabilities = [Capability.multiprotocol(*c.IPV4_UNICAST), Capability.extended_message()]
        connection.send(encode_open(PEER_ASN, 30, PEER, capabilities))
        connection.send(c.MARKER + b"\x00\x13\x04")
        lengths, withdrawn = [], 0
        while withdrawn < len(prefixes):
            message = await connection.read_until(c.UPDATE)
            lengths.append(len(message.raw))
            withdrawn += len(decode_update(message.raw).withdrawn)
        return lengths

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            speaker.announce([parse_route(prefix, local=LOCAL) for prefix in prefixes], "config")
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.state == "Established")
            limit = speaker.session.ctx_out.max_message_length
            speaker.withdraw(prefixes)
            lengths = await peer.result()
            await speaker.stop()
            await task
            return lengths, limit

    lengths, limit = run(scenario)
    assert limit == 4096 and lengths and max(lengths) <= 4096

"""The websocket tunnel between two runners: a session crosses it both ways; a wrong or missing token,
a missing or foreign client certificate, plain ws, an oversized message and a second tunnel are
refused; the BGP legs close when the tunnel does; attempts back off up to a cap."""

import asyncio
import logging

import aiohttp
import pytest

from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec.open_message import encode_open
from peerwarden_runner.proxy import CONNECTION_REJECTED
from peerwarden_runner.ratelimit import RateLimitedLog
from peerwarden_runner.tunnel import server, tls
from peerwarden_runner.tunnel.client import TunnelConnector, TunnelRefused
from peerwarden_runner.tunnel.server import TunnelListener
from polling import until
from test_proxy_security import OPEN, Router
from tunnel_lab import TOKEN, Certificates, Cuttable, EndingRouter, connector, runner_a, runner_b, with_runner_b

ROUTER_OPEN = encode_open(65000, 90, "127.0.0.2")


@pytest.fixture
def certs(tmp_path):
    return Certificates(tmp_path)


async def open_session(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(OPEN + KEEPALIVE_MESSAGE)
    return reader, writer


def test_a_session_crosses_the_tunnel_both_ways_and_ends_when_the_tunnel_does(certs, caplog):
    async def scenario():
        router = Router()
        b, b_port = await runner_b(await router.start(), certs.server_context())
        a, a_port = await runner_a(connector(b_port, certs.client_context()))
        reader, writer = await open_session(a_port)
        from_router = await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN) + 19), 5)
        await until(lambda: len(router.received) == 2)
        writer.write(KEEPALIVE_MESSAGE)
        await until(lambda: len(router.received) == 3)
        await b.stop()  # runner B goes away: the tunnel closes, and with it the peer's leg at A
        rest = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        await a.stop()
        router.close()
        return from_router, router.received, rest

    with caplog.at_level(logging.INFO):
        from_router, received, rest = asyncio.run(scenario())
    assert from_router == ROUTER_OPEN + KEEPALIVE_MESSAGE
    assert received[:3] == [OPEN, KEEPALIVE_MESSAGE, KEEPALIVE_MESSAGE] and received[3][19:21] == b"\x06\x02"
    assert rest[18] == 3 and rest[19:21] == b"\x06\x02"  # B's Cease / Administrative Shutdown crossed, then EOF
    assert TOKEN not in caplog.text


def test_a_tunnel_cut_under_a_live_session_closes_both_bgp_legs(certs):
    """No half-sessions: the peer's leg at A and the router's leg at B close when the tunnel drops."""

    async def scenario():
        router = EndingRouter()
        b, b_port = await runner_b(await router.start(), certs.server_context())
        cuttable = Cuttable(b_port)
        a, a_port = await runner_a(connector(await cuttable.start(), certs.client_context()))
        reader, writer = await open_session(a_port)
        await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN) + 19), 5)
        await until(lambda: len(router.received) == 2)
        cuttable.cut()
        rest = await asyncio.wait_for(reader.read(), 5)  # A closes the peer's leg
        await until(lambda: router.ended == 1, what="B to close the router's leg")
        writer.close()
        await a.stop()
        await b.stop()
        cuttable.close()
        router.close()
        return rest, router.received, router.connections

    rest, received, connections = asyncio.run(scenario())
    assert rest == b"" and received == [OPEN, KEEPALIVE_MESSAGE] and connections == 1


@pytest.mark.parametrize(("token", "status"), [("wrong-token", "401"), (None, "401")])
def test_a_wrong_or_missing_token_is_refused_before_the_router_is_reached(certs, caplog, monkeypatch, token, status):
    monkeypatch.setattr(server, "REFUSALS", RateLimitedLog(server.LOG))  # each case logs its first refusal

    async def scenario():
        router = Router()
        b, b_port = await runner_b(await router.start(), certs.server_context())
        a, a_port = await runner_a(connector(b_port, certs.client_context(with_cert=True), token=token, attempts=2))
        reader, writer = await open_session(a_port)
        answer = await asyncio.wait_for(reader.read(), 10)  # A gives up: Cease / Connection Rejected
        writer.close()
        await a.stop()
        await b.stop()
        router.close()
        return answer, router.connections

    with caplog.at_level(logging.INFO):
        answer, connections = asyncio.run(scenario())
    assert answer == CONNECTION_REJECTED and connections == 0
    assert "refused (HTTP %s): wrong or missing bearer token" % status in caplog.text
    assert "wrong-token" not in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("client", ["none", "foreign", "own"])
def test_a_client_certificate_from_the_ca_is_required(certs, tmp_path, caplog, monkeypatch, client):
    foreign = Certificates(tmp_path, "other")
    monkeypatch.setattr(tls, "REFUSALS", RateLimitedLog(tls.LOG))

    async def body(b_port, router):
        context = {
            "none": certs.client_context(),
            "foreign": foreign.client_context(with_cert=True),
            "own": certs.client_context(with_cert=True),
        }[client]
        if client == "foreign":  # trusts B's CA, shows a certificate of another CA
            context.load_verify_locations(str(certs.ca_file))
        try:
            reader, writer = await connector(b_port, context, token=None).connect()
        except TunnelRefused as error:
            return str(error)
        writer.write(OPEN)
        outcome = await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN)), 5)
        writer.close()
        return outcome

    with caplog.at_level(logging.INFO):
        outcome, connections = with_runner_b(body, certs.server_context(client_ca=True), token=None)
    if client == "own":
        assert outcome == ROUTER_OPEN and connections == 1
        assert "TLS handshake refused" not in caplog.text
    else:
        assert isinstance(outcome, str) and connections == 0
        reason = {"none": "PEER_DID_NOT_RETURN_A_CERTIFICATE", "foreign": "CERTIFICATE_VERIFY_FAILED"}[client]
        assert "tunnel: TLS handshake refused: [SSL: %s]" % reason in caplog.text


def refused_by_b(server_context, client_context, match, peer=None):
    """The router's connection count after runner B refused a tunnel (TunnelRefused matching `match`)."""

    async def body(b_port, router):
        with pytest.raises(TunnelRefused, match=match):
            await connector(b_port, client_context).connect()

    return with_runner_b(body, server_context, peer=peer)[1]


def test_the_listener_certificate_must_be_trusted(certs, tmp_path):
    other = Certificates(tmp_path, "other")
    assert refused_by_b(certs.server_context(), other.client_context(), "certificate") == 0


def test_plain_ws_is_refused_unless_loopback_and_allowed(certs):
    with pytest.raises(ValueError, match="ws://"):
        TunnelConnector("ws://127.0.0.1:8179/", None, token=TOKEN)
    with pytest.raises(ValueError, match="ws://"):
        TunnelConnector("ws://192.0.2.1:8179/", None, token=TOKEN, allow_plain=True)
    with pytest.raises(ValueError, match="loopback"):
        TunnelListener("192.0.2.1", 8179, None, token=TOKEN)
    with pytest.raises(ValueError, match="admit anyone"):
        TunnelListener("127.0.0.1", 8179, certs.server_context(), token=None)

    async def body(b_port, router):  # a wss client reaching a plain listener fails; plain on loopback works
        with pytest.raises(TunnelRefused):
            await connector(b_port, certs.client_context()).connect()
        reader, writer = await connector(b_port, None, scheme="ws", allow_plain=True).connect()
        writer.write(OPEN)
        answer = await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN)), 5)
        writer.close()
        return answer

    assert with_runner_b(body, None) == (ROUTER_OPEN, 1)


@pytest.mark.parametrize(
    ("send", "answer", "logged"),
    [
        # over the limit: aiohttp drops the connection at once (the client sees 1006, no close frame)
        (b"\xff" * 65536, aiohttp.WSCloseCode.ABNORMAL_CLOSURE, "b: tunnel closed: Message size 65536 exceeds limit"),
        ("OPEN", aiohttp.WSCloseCode.UNSUPPORTED_DATA, "b: a text message on the tunnel"),
        # at the limit the message crosses, and runner B's relay frames it: a header of type 255 is
        # Message Header Error / Bad Message Type (1/3), answered through the tunnel
        (b"\xff" * 65535, b"\x03\x01\x03", "b: bad OPEN from 127.0.0.1"),
    ],
)
def test_what_crosses_the_tunnel_is_bounded_and_binary(certs, caplog, send, answer, logged):
    async def body(b_port, router):
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(
                "wss://127.0.0.1:%d/" % b_port,
                ssl=certs.client_context(),
                headers={"Authorization": "Bearer " + TOKEN},
            )
            await (ws.send_bytes(send) if isinstance(send, bytes) else ws.send_str(send))
            message = await asyncio.wait_for(ws.receive(), 5)
            got = message.data[18:21] if message.type == aiohttp.WSMsgType.BINARY else ws.close_code
            await ws.close()
        return got

    with caplog.at_level(logging.INFO):
        assert with_runner_b(body, certs.server_context()) == (answer, 0)
    assert logged in caplog.text


def test_a_second_tunnel_for_the_session_is_refused(certs, caplog):
    async def body(b_port, router):
        reader, writer = await connector(b_port, certs.client_context()).connect()
        writer.write(OPEN)
        await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN)), 5)
        with pytest.raises(TunnelRefused, match="409"):
            await connector(b_port, certs.client_context()).connect()
        writer.write(KEEPALIVE_MESSAGE)  # the first tunnel still relays
        await until(lambda: len(router.received) == 2)
        writer.close()

    with caplog.at_level(logging.INFO):
        assert with_runner_b(body, certs.server_context())[1] == 1
    assert "refused (HTTP 409): a tunnel for this session is already open" in caplog.text


def test_connections_on_their_way_to_a_websocket_are_capped_and_timed_out(certs, caplog, monkeypatch):
    monkeypatch.setattr(server, "UPGRADE_TIMEOUT", 1.0)
    monkeypatch.setattr(server, "REFUSALS", RateLimitedLog(server.LOG))

    async def body(b_port, router):
        async def silent():  # TLS done, then not one octet of HTTP
            reader, writer = await asyncio.open_connection("127.0.0.1", b_port, ssl=certs.client_context())
            return reader, writer

        held = [await silent() for dummy in range(server.MAX_WAITING)]
        extra_reader, extra_writer = await silent()
        extra = await asyncio.wait_for(extra_reader.read(), 2)  # closed at once: the cap is reached
        ends = await asyncio.wait_for(asyncio.gather(*(reader.read() for reader, dummy in held)), 5)
        for dummy, writer in held + [(extra_reader, extra_writer)]:
            writer.close()
        reader, writer = await connector(b_port, certs.client_context()).connect()  # a real tunnel still gets in
        writer.write(OPEN)
        answer = await asyncio.wait_for(reader.readexactly(len(ROUTER_OPEN)), 5)
        writer.close()
        return extra, ends, answer

    with caplog.at_level(logging.INFO):
        (extra, ends, answer), connections = with_runner_b(body, certs.server_context())
    assert extra == b"" and ends == [b""] * server.MAX_WAITING  # each silent one closed after the timeout
    assert answer == ROUTER_OPEN and connections == 1
    assert "connections already on their way to a websocket" in caplog.text
    assert "closed: no websocket within 1 s" in caplog.text


def test_the_peer_address_rule_holds_for_the_tunnel(certs):
    assert refused_by_b(certs.server_context(), certs.client_context(), "403", peer="127.0.0.9") == 0


def test_attempts_back_off_up_to_the_cap_and_start_again_after_a_tunnel_opened(certs):
    tunnel = connector(1, certs.client_context(), backoff_max=4, attempts=6)
    first = tunnel.delays()
    assert len(first) == 5
    for delay, base in zip(first, (0.5, 1, 2, 4, 4), strict=True):
        assert base <= delay <= base * 1.25
    assert all(4 <= delay <= 5 for delay in tunnel.delays())  # still capped on the next peer's attempts

    async def body(b_port, router):
        tunnel.url = tunnel.url.with_port(b_port)
        reader, writer = await tunnel.connect()
        writer.close()

    assert with_runner_b(body, certs.server_context())[1] == 0  # no OPEN was sent: no router leg
    assert 0.5 <= tunnel.delays()[0] <= 0.625

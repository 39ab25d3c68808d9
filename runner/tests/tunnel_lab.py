"""Two runners' proxies joined by a websocket tunnel, in one event loop, with certificates made here
(trustme): the peer connects to proxy A, A opens the tunnel to B, B connects to a stand-in router."""

import asyncio

import trustme

from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import Proxy
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.tunnel.client import TunnelConnector
from peerwarden_runner.tunnel.server import TunnelListener
from peerwarden_runner.tunnel.tls import client_context, server_context
from test_proxy_security import Router

TOKEN = "s3cret-tunnel-token"


class Certificates:
    """A CA, the listener's certificate for 127.0.0.1 and a client certificate, as files in `directory`."""

    def __init__(self, directory, name="ca"):
        self.ca = trustme.CA()
        self.ca_file = directory / ("%s.pem" % name)
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.server = self._issue(directory, "%s-server" % name, "127.0.0.1")
        self.client = self._issue(directory, "%s-client" % name, "runner-a.example")

    def _issue(self, directory, stem, identity):
        issued = self.ca.issue_cert(identity)
        cert, key = directory / ("%s.pem" % stem), directory / ("%s.key" % stem)
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        return str(cert), str(key)

    def server_context(self, client_ca=False):
        return server_context(*self.server, str(self.ca_file) if client_ca else None)

    def client_context(self, with_cert=False):
        return client_context(str(self.ca_file), *(self.client if with_cert else (None, None)))


async def runner_b(router, ssl_context, token=TOKEN, peer=None):
    """(proxy B, its tunnel port): the tunnel listener in front of `router` (HOST, PORT)."""
    metrics = Metrics()
    listener = TunnelListener("127.0.0.1", 0, ssl_context, token=token, peer=peer, name="b")
    proxy = Proxy(("127.0.0.1", 0), router, Pipeline(metrics=metrics), metrics=metrics, listener=listener, name="b")
    server = await proxy.start()
    return proxy, server.sockets[0].getsockname()[1]


def connector(port, ssl_context, token=TOKEN, scheme="wss", **options):
    return TunnelConnector("%s://127.0.0.1:%d/bgp" % (scheme, port), ssl_context, token=token, name="a", **options)


async def runner_a(tunnel, peer=None):
    """(proxy A, its BGP port): listens to the peer, relays over `tunnel` (a TunnelConnector)."""
    metrics = Metrics()
    proxy = Proxy(
        ("127.0.0.1", 0), tunnel.address, Pipeline(metrics=metrics), metrics=metrics, connector=tunnel, peer=peer
    )
    server = await proxy.start()
    return proxy, server.sockets[0].getsockname()[1]


def with_runner_b(body, server_context, **options):
    """(body(b_port, router)'s result, the router's connection count): body run against runner B in
    front of a stand-in router, both stopped afterwards."""

    async def scenario():
        router = Router()
        b, b_port = await runner_b(await router.start(), server_context, **options)
        try:
            return await body(b_port, router), router.connections
        finally:
            await b.stop()
            router.close()

    return asyncio.run(scenario())


class Cuttable:
    """A TCP forwarder between runner A and runner B whose connections the test can cut (abort): the
    tunnel dropping under a live session, as a network failure would."""

    def __init__(self, port):
        self.port, self.transports, self.server = port, [], None

    async def start(self):
        self.server = await asyncio.start_server(self._accepted, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _accepted(self, reader, writer):
        far_reader, far_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.transports += [writer.transport, far_writer.transport]
        await asyncio.gather(_copy(reader, far_writer), _copy(far_reader, writer), return_exceptions=True)

    def cut(self):
        for transport in self.transports:
            transport.abort()

    def close(self):
        self.cut()
        self.server.close()


async def _copy(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


class EndingRouter(Router):
    """The stand-in router, counting the connections that ended (the runner closed them)."""

    ended = 0

    async def accepted(self, reader, writer):
        await super().accepted(reader, writer)
        self.ended += 1

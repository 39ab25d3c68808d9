"""A websocket as an asyncio stream pair, so the proxy relays over it exactly as over TCP.

The tunnel carries the BGP byte stream: every chunk the relay writes (in practice one BGP message per
write) goes out as one binary websocket message of at most MAX_MESSAGE octets; what arrives is fed to
the relay as a stream, and the relay on the far side frames it again with its own checks (the 4096 or
65535 octet limit each session negotiated). A text message is a protocol error (close 1003); on a
message over MAX_MESSAGE aiohttp drops the connection (the sender sees 1006) and the listener logs why.

Why a socketpair rather than a hand-made StreamReader/StreamWriter look-alike: the relay gets real
asyncio streams (write, drain, close, abort, flow control) and the kernel's socket buffers bound the
memory per direction.
"""

import asyncio
import logging
import socket

from aiohttp import WSCloseCode, WSMsgType

LOG = logging.getLogger("peerwarden_runner.tunnel")
MAX_MESSAGE = 65535  # the largest BGP message (RFC 8654): the largest websocket message sent or accepted
RECEIVE_LIMIT = MAX_MESSAGE + 1  # aiohttp's max_msg_size refuses a message of that size or more
# No websocket heartbeat: while the relay waits for a slow router, aiohttp stops reading the tunnel
# (its flow control), a PONG is not read either, and the heartbeat would cut a healthy session. A dead
# tunnel is found by BGP itself: the KEEPALIVEs cross it, and the routers' hold timers end the session.
HEARTBEAT = None


async def open_stream(ws, name, closing=None):
    """(reader, writer, pump task) of a stream over the websocket `ws` (client or server side).
    The pump ends when either side closes: the websocket is closed, then the stream (the relay sees
    the end of its input), then `closing()` is awaited if given (the client's HTTP session)."""
    mine, theirs = socket.socketpair()
    mine.setblocking(False)
    try:
        reader, writer = await asyncio.open_connection(sock=theirs)
    except BaseException:
        mine.close()
        theirs.close()
        raise
    return reader, writer, asyncio.create_task(_pump(ws, mine, name, closing))


async def _pump(ws, sock, name, closing):
    tasks = [asyncio.create_task(_from_websocket(ws, sock, name)), asyncio.create_task(_to_websocket(ws, sock))]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        code = next((task.result() for task in done if task is tasks[0] and not task.exception()), None)
        for task in done:
            if task.exception() is not None and not isinstance(task.exception(), ConnectionError):
                LOG.error("%s: tunnel pump failed: %r", name, task.exception(), exc_info=task.exception())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if not ws.closed:
            await ws.close(code=code or WSCloseCode.OK)
        sock.close()
        if closing is not None:
            await closing()


async def _from_websocket(ws, sock, name):
    """Websocket -> stream until the websocket ends; the close code to send (None: a normal end)."""
    loop = asyncio.get_running_loop()
    while True:
        message = await ws.receive()
        if message.type == WSMsgType.BINARY:
            await loop.sock_sendall(sock, message.data)
        elif message.type == WSMsgType.TEXT:
            LOG.warning("%s: a text message on the tunnel (only binary BGP is carried); closing it", name)
            return WSCloseCode.UNSUPPORTED_DATA
        elif message.type == WSMsgType.ERROR:
            LOG.warning("%s: tunnel closed: %s", name, ws.exception() or message.data)
            return None
        else:  # CLOSE, CLOSING, CLOSED
            LOG.info("%s: the far end closed the tunnel (code %s)", name, ws.close_code)
            return None


async def _to_websocket(ws, sock):
    loop = asyncio.get_running_loop()
    while True:
        data = await loop.sock_recv(sock, MAX_MESSAGE)
        if not data:
            return
        await ws.send_bytes(data)

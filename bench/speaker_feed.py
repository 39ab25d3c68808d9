"""The speaker's received path in one process, for bench/pipeline_profile.py: UPDATEs fed through a
Session in Established (the bytes as one stream, read and cut as from a socket) into a Speaker with
its Adj-RIB-In and, for --print, a JsonPrinter writing to /dev/null. Import bench_session first."""

import asyncio
import dataclasses
import os
import time

from peerwarden_runner.codec import Capability, decode_open, encode_open, negotiate
from peerwarden_runner.directions import RECEIVED, SENT
from peerwarden_runner.pipeline import SessionState
from peerwarden_runner.speaker.json_printer import JsonPrinter
from peerwarden_runner.speaker.session import Session, SessionClosed
from peerwarden_runner.speaker.speaker import Speaker, SpeakerSettings


class NullWriter:
    """The session's socket writer: what it sends (keepalives) goes nowhere."""

    def is_closing(self):
        return False

    def write(self, data):
        pass

    async def drain(self):
        pass

    def close(self):
        pass


def opens(peer_as, our_as):
    capabilities = [Capability.multiprotocol(1, 1), Capability.multiprotocol(2, 1)]
    ours = decode_open(encode_open(our_as, 90, "127.0.0.50", capabilities + [Capability.four_octet_as(our_as)]))
    peer = decode_open(encode_open(peer_as, 90, "127.0.0.51", capabilities + [Capability.four_octet_as(peer_as)]))
    return ours, peer


def feed(messages, printing, peer_as=65001, our_as=65000):
    """(CPU seconds, routes held afterwards) for the session's handling of `messages`."""
    ours, peer = opens(peer_as, our_as)
    settings = SpeakerSettings("bench", "127.0.0.50", "127.0.0.51", 179, our_as, peer_as, "127.0.0.50", passive=True)
    with open(os.devnull, "w") as devnull:
        speaker = Speaker(settings, [JsonPrinter("bench", devnull)] if printing else [])

        async def established():
            reader = asyncio.StreamReader(limit=1 << 20)
            reader.feed_data(b"".join(messages))
            reader.feed_eof()
            session = Session(reader, NullWriter(), speaker.session_settings, speaker)
            session.ctx_in = dataclasses.replace(negotiate(ours, peer), ebgp=peer_as != our_as)
            session.ctx_out = negotiate(peer, ours)
            session.our_open, session.peer_open, session.state = ours, peer, "Established"
            speaker.session, speaker.watch_state = session, SessionState(speaker)
            speaker.watch_state.contexts = {RECEIVED: session.ctx_in, SENT: session.ctx_out}
            for watcher in speaker.watchers:
                watcher.session_started(speaker.watch_state)
            started = time.process_time()
            try:
                await session._established()  # pylint: disable=protected-access
            except SessionClosed:  # the end of the stream
                pass
            return time.process_time() - started

        seconds = asyncio.run(established())
        for watcher in speaker.watchers:
            watcher.close()
    return seconds, len(speaker.received)

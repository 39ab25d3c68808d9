"""The passive speaker (127.0.0.87) waits for its router (127.0.0.86): the configured peer's
connection becomes a session, again after it ends; a stranger (127.0.0.88) is refused and logged;
a second connection while a session is up gets Cease / Connection Rejected; TCP-MD5 and GTSM set
on the listener apply to the accepted connection; IPv6; --passive and a listening port on the
command line."""

import argparse
import asyncio
import socket

import pytest

from peerwarden_runner import config
from peerwarden_runner.addresses import same_address
from peerwarden_runner.backoff import Backoff
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_notification
from peerwarden_runner.gtsm import IP_MINTTL
from peerwarden_runner.speaker.cli import add_parser, speaker_document
from peerwarden_runner.speaker.speaker import Speaker, SpeakerSettings
from peerwarden_runner.tcp_md5 import set_md5
from polling import free_port, until
from speaker_lab import LOCAL_ASN, PEER_ASN, Connection, make_speaker, run

ROUTER, SPEAKER, STRANGER = "127.0.0.86", "127.0.0.87", "127.0.0.88"


async def dial(port, source=ROUTER, md5=None, ttl=None, timeout=5):
    """A Connection from `source` to the passive speaker, as a router opens it."""
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((source, 0))
    if md5:
        set_md5(sock, SPEAKER, md5)
    if ttl:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (SPEAKER, port)), timeout)
    except BaseException:
        sock.close()
        raise
    return Connection(*await asyncio.open_connection(sock=sock))


def passive_speaker(port, **settings):
    return make_speaker(0, local=SPEAKER, peer=ROUTER, passive=True, local_port=port, **settings)


def test_passive_accepts_the_peer_again_and_refuses_others(caplog):
    port = free_port(SPEAKER)

    async def scenario():
        speaker = passive_speaker(port)
        task = asyncio.create_task(speaker.run())
        await until(lambda: speaker.state == "Active")
        # a stranger: closed before a word is said
        stranger = await dial(port, source=STRANGER)
        stranger_got = await asyncio.wait_for(stranger.reader.read(), 5)
        # the router: the speaker sends its OPEN first, the session comes up
        router = await dial(port)
        speaker_open = await router.establish()
        await until(lambda: speaker.state == "Established")
        # the router again while the session is up: Cease / Connection Rejected, the session stays
        second = await dial(port)
        rejected = decode_notification((await second.read()).raw)
        state_after_second = speaker.state
        # the router ends the session: the speaker listens again and takes the next connection
        router.writer.close()
        await until(lambda: speaker.state == "Active")
        again = await dial(port)
        await again.establish()
        await until(lambda: speaker.state == "Established")
        await speaker.stop()
        goodbye = await again.notification()
        await task
        return stranger_got, speaker_open, rejected, state_after_second, goodbye, speaker

    stranger_got, speaker_open, rejected, state_after_second, goodbye, speaker = run(scenario)
    assert stranger_got == b""
    assert "connection from 127.0.0.88 refused: only the peer 127.0.0.86 may connect" in caplog.text
    assert speaker_open.asn == LOCAL_ASN and str(speaker_open.bgp_id) == SPEAKER
    assert (rejected.code, rejected.subcode) == (c.ERR_CEASE, c.CEASE_CONNECTION_REJECTED)
    assert state_after_second == "Established"
    assert "waiting for 127.0.0.86 to connect again" in caplog.text
    assert (goodbye.code, goodbye.subcode) == (6, 2)
    assert speaker.counters["sessions_established"] == 2 and speaker.counters["connections_refused"] == 2
    assert speaker.counters["connect_attempts"] == 0  # passive: it never connects
    assert speaker.state == "Idle" and speaker.status()["passive"] is True


def test_passive_listener_applies_tcp_md5_and_gtsm():
    port = free_port(SPEAKER)

    async def refused(**options):
        try:
            connection = await dial(port, timeout=1, **options)
        except (TimeoutError, OSError):
            return True
        connection.writer.close()
        return False

    async def scenario():
        speaker = passive_speaker(port, md5="s3cret", gtsm=True)
        task = asyncio.create_task(speaker.run())
        await until(lambda: speaker.state == "Active")
        without_key = await refused(ttl=255)
        low_ttl = await refused(md5="s3cret", ttl=64)
        router = await dial(port, md5="s3cret", ttl=255)
        await router.establish(asn=PEER_ASN)
        await until(lambda: speaker.state == "Established")
        accepted = speaker.session.writer.get_extra_info("socket")
        options = (
            accepted.getsockopt(socket.IPPROTO_IP, socket.IP_TTL),
            accepted.getsockopt(socket.IPPROTO_IP, IP_MINTTL),
        )
        await speaker.stop()
        await task
        return without_key, low_ttl, options

    without_key, low_ttl, options = run(scenario)
    assert without_key and low_ttl  # the kernel drops the SYN: no key, or TTL below 255
    assert options == (255, 255)  # the accepted connection inherited GTSM from the listener


def test_passive_speaker_that_cannot_listen_says_why_and_retries(caplog):
    async def scenario():
        with socket.socket() as taken:
            taken.bind((SPEAKER, 0))
            taken.listen()
            speaker = passive_speaker(taken.getsockname()[1])
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.counters["connections_refused"] == 0 and "trying again" in caplog.text)
            await speaker.stop()
            await task
            return speaker

    speaker = run(scenario)
    assert "cannot listen on 127.0.0.87 port" in speaker.last_error and "Address already in use" in speaker.last_error


def test_command_line_passive_with_a_listening_port():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))

    def document(*extra):
        command = ["speaker", "--local", SPEAKER + ":1790", "--peer", ROUTER, "--asn", str(LOCAL_ASN)]
        return speaker_document(parser.parse_args(command + ["--peer-asn", str(PEER_ASN), *extra, "--api", "off"]))

    entry = config.check(document("--passive"), "command line")["speakers"][0]
    assert (entry["passive"], entry["local"], entry["local_port"], entry["peer"]) == (True, SPEAKER, 1790, ROUTER)
    with pytest.raises(config.ConfigError, match="a port on local is only for passive: true"):
        config.check(document(), "command line")


def test_passive_over_ipv6():
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        port = probe.getsockname()[1]

    async def scenario():
        settings = SpeakerSettings("v6", "::1", "::1", 179, LOCAL_ASN, PEER_ASN, SPEAKER, passive=True, local_port=port)
        speaker = Speaker(settings, backoff=Backoff(0.05, 0.2))
        task = asyncio.create_task(speaker.run())
        await until(lambda: speaker.state == "Active")
        router = Connection(*await asyncio.open_connection("::1", port, local_addr=("::1", 0)))
        speaker_open = await router.establish()
        await until(lambda: speaker.state == "Established")
        await speaker.stop()
        await task
        return speaker_open, speaker.counters

    speaker_open, counters = run(scenario)
    assert str(speaker_open.bgp_id) == SPEAKER and counters["connections_accepted"] == 1


@pytest.mark.parametrize(
    "connecting, configured, same",
    [
        ("127.0.0.86", "127.0.0.86", True),
        ("::ffff:127.0.0.86", "127.0.0.86", True),
        ("127.0.0.88", "127.0.0.86", False),
        ("2001:db8::1", "2001:db8:0::1", True),
        ("2001:db8::2", "2001:db8::1", False),
    ],
)
def test_the_peer_is_recognised_by_its_address(connecting, configured, same):
    assert same_address(connecting, configured) is same

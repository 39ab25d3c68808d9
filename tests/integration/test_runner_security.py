"""The runner closed to strangers, between two real routers: BIRD -> peerwarden-runner -> FRR.

A stranger (another 127.0.0.x) that connects to the runner's listener with OPEN + UPDATE gets
nothing from the router and its routes never reach FRR, with and without TCP-MD5; the refusal is
logged (once per source per minute) and counted. A 10,000-connection flood and a slowloris run stay
bounded in count, time and memory, and the real session keeps its routes throughout.
"""

import asyncio
import json
import socket
import subprocess
import time
import urllib.request

import pytest
from integration.test_runner_proxy import RUNNER

from lab.daemons import free_port, wait_for

pytestmark = pytest.mark.lab
# addresses of their own, so that other lab tests can run at the same time
BIRD, FRR, LISTEN, FROM, SPARE = "127.0.0.83", "127.0.0.82", "127.0.0.85", "127.0.0.86", "127.0.0.87"
STRANGERS = ["127.0.0.89", "127.0.1.%d"]
ROUTES = ["203.0.113.0/24", "198.51.100.0/24"]
STRANGER_ROUTE = "10.99.0.0/24"
SECRET = "peerwarden-lab"


def static_routes():
    lines = ["  route %s blackhole { bgp_path.prepend(64500); };" % prefix for prefix in ROUTES]
    return "protocol static originated {\n  ipv4;\n%s\n}\n" % "\n".join(lines)


def frr_prefixes(frr):
    return sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {}))


def frr_peer(frr):
    return json.loads(frr.vtysh("show bgp neighbors %s json" % FROM))[FROM]


def scrape(port):
    return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


@pytest.fixture
def guarded(make_frr_router, make_bird_router, tmp_path):
    """FRR, the runner (a config file: the BIRD session with `peer`, and a spare session with a short
    OPEN timeout), then BIRD; optionally TCP-MD5 on every leg. Yields (frr, bird, runner, log, metrics)."""
    started = []

    def start(md5=False):
        password = " neighbor %s password %s\n" % (FROM, SECRET) if md5 else ""
        frr = make_frr_router(
            address=FRR,
            asn=65000,
            neighbor=FROM,
            neighbor_asn=65001,
            extra_config="router bgp 65000\n%sexit\n" % password,
        )
        metrics = free_port()
        session = {"name": "bird", "listen": LISTEN + ":179", "connect": FRR + ":179", "connect_from": FROM}
        session["peer"] = BIRD
        if md5:
            session["md5"] = SECRET
        spare = {"name": "spare", "listen": SPARE + ":179", "connect": FRR + ":179", "open_timeout": 2}
        config = tmp_path / "runner.yml"
        config.write_text(json.dumps({"sessions": [session, spare], "metrics": {"listen": "127.0.0.1:%d" % metrics}}))
        log = tmp_path / "runner.log"
        runner = subprocess.Popen([RUNNER, "run", "-c", str(config)], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        started.append(runner)
        wait_for(lambda: log.read_text().count("listening on") == 2, what="the runner to listen")
        bird = make_bird_router(
            address=BIRD,
            neighbor=LISTEN,
            extra_config=static_routes(),
            bgp_options='  password "%s";\n' % SECRET if md5 else "",
        )
        wait_for(lambda: frr_prefixes(frr) == sorted(ROUTES), timeout=30, what="BIRD's routes in FRR")
        return frr, bird, runner, log, metrics

    yield start
    for runner in started:
        if runner.poll() is None:
            runner.terminate()
            runner.wait(10)


def stranger_messages():
    from peerwarden_runner.codec import AsPath, encode_open, encode_update, make_attribute
    from peerwarden_runner.codec.keepalive import KEEPALIVE_MESSAGE

    attributes = [
        make_attribute("origin", 0),
        make_attribute("as_path", AsPath.sequence(65001)),
        make_attribute("next_hop", STRANGERS[0]),
    ]
    return (
        encode_open(65001, 90, STRANGERS[0])
        + KEEPALIVE_MESSAGE
        + encode_update(attributes=attributes, nlri=[STRANGER_ROUTE])
    )


def stranger_tries(source, md5=None):
    """Connect from `source`, send OPEN + KEEPALIVE + UPDATE, return what came back (or why nothing did)."""
    from peerwarden_runner.tcp_md5 import set_md5

    with socket.socket() as sock:
        sock.bind((source, 0))
        if md5:
            set_md5(sock, LISTEN, md5)
        sock.settimeout(3)
        try:
            sock.connect((LISTEN, 179))
        except (TimeoutError, OSError) as error:
            return "no handshake (%s)" % type(error).__name__
        try:
            sock.sendall(stranger_messages())
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
            return received
        except ConnectionResetError:
            return received or b""


def assert_real_session_unaffected(frr):
    peer = frr_peer(frr)
    assert peer["bgpState"] == "Established"
    assert peer["connectionsEstablished"] == 1 and peer["connectionsDropped"] == 0
    assert peer["messageStats"]["opensRecv"] == 1
    assert frr_prefixes(frr) == sorted(ROUTES) and STRANGER_ROUTE not in frr_prefixes(frr)


def test_a_stranger_gets_nothing_and_its_routes_never_reach_frr(guarded):
    frr, bird, runner, log, metrics = guarded()
    answers = [stranger_tries(STRANGERS[0]) for dummy in range(3)]
    assert answers == [b"", b"", b""]  # not the router's OPEN, not a NOTIFICATION: a reset
    time.sleep(2)
    assert_real_session_unaffected(frr)
    text = log.read_text()
    assert text.count("connection from %s refused: only the peer %s may connect" % (STRANGERS[0], BIRD)) == 1
    assert 'peerwarden_connections_total{outcome="refused-stranger",session="bird"} 3.0' in scrape(metrics)


def test_with_md5_a_stranger_never_completes_a_handshake(guarded):
    frr, bird, runner, log, metrics = guarded(md5=True)
    assert stranger_tries(STRANGERS[0]).startswith("no handshake")  # unsigned
    assert stranger_tries(STRANGERS[0], SECRET).startswith("no handshake")  # the right key, the wrong address
    time.sleep(2)
    assert_real_session_unaffected(frr)
    assert "refused-stranger" not in scrape(metrics)  # the kernel dropped the SYNs: the runner saw nothing


async def flood(count, sources, concurrency=64):
    """`count` connections to the listener from `sources`, each closed as soon as it is refused;
    (connections made, refused by a reset or a close)."""
    semaphore, outcomes = asyncio.Semaphore(concurrency), {"made": 0, "closed": 0, "failed": 0}

    async def one(index):
        async with semaphore:
            sock = socket.socket()
            sock.setblocking(False)
            sock.bind((sources[index % len(sources)], 0))
            try:
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (LISTEN, 179)), 10)
                outcomes["made"] += 1
                reader, writer = await asyncio.open_connection(sock=sock)
                writer.write(b"\xff" * 16)
                try:
                    await asyncio.wait_for(reader.read(), 10)
                except ConnectionError:
                    pass
                outcomes["closed"] += 1
                writer.close()
            except (OSError, TimeoutError):
                outcomes["failed"] += 1
                sock.close()

    await asyncio.gather(*(one(index) for index in range(count)))
    return outcomes


async def slowloris(count, interval=0.5, duration=6.0):
    """`count` connections to the spare session, each sending one octet of an OPEN every `interval`:
    the seconds each stayed open (None for those still open after `duration`)."""
    from peerwarden_runner.codec import encode_open

    octets = encode_open(65001, 90, BIRD)

    async def one(index):
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(SPARE, 179, local_addr=("127.0.2.%d" % (1 + index), 0))
        except OSError:
            return 0.0
        try:
            for octet in octets:
                if time.monotonic() - started > duration:
                    writer.close()
                    return None
                writer.write(bytes((octet,)))
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(100), interval) == b"":
                        break
                except TimeoutError:
                    continue
                break  # anything read is the runner's answer
        except ConnectionError:
            pass
        writer.close()
        return time.monotonic() - started

    return await asyncio.gather(*(one(index) for index in range(count)))


def test_a_flood_and_a_slowloris_stay_bounded(guarded):
    frr, bird, runner, log, metrics = guarded()
    before = rss_kib(runner.pid)
    started = time.monotonic()
    sources = [STRANGERS[0]] + [STRANGERS[1] % n for n in range(1, 40)]
    outcomes = asyncio.run(flood(10_000, sources))
    flood_seconds = time.monotonic() - started
    collisions = asyncio.run(flood(500, [BIRD]))  # from the peer's own address, while its session is up
    lasted = asyncio.run(slowloris(50))
    after, peak = rss_kib(runner.pid), rss_kib(runner.pid, "VmHWM")
    print(
        "flood: %s in %.1f s; collisions: %s; slowloris lasted %s; RSS %d -> %d KiB, peak %d KiB"
        % (outcomes, flood_seconds, collisions, sorted(lasted, key=lambda s: s or 99)[-3:], before, after, peak)
    )
    assert outcomes["made"] == 10_000 and outcomes["closed"] == 10_000 and flood_seconds < 40
    assert collisions["closed"] == 500
    # slowloris: one connection waits for its OPEN (2 s on the spare session), the others are collisions
    assert all(seconds is not None and seconds < 4 for seconds in lasted)
    assert peak - before < 40 * 1024 and after < 150 * 1024, (before, after, peak)
    scraped = scrape(metrics)
    assert 'peerwarden_connections_total{outcome="refused-stranger",session="bird"} 10000.0' in scraped
    assert 'peerwarden_connections_total{outcome="refused-collision",session="bird"} 500.0' in scraped
    assert 'peerwarden_connections_total{outcome="open-timeout",session="spare"}' in scraped
    assert_real_session_unaffected(frr)
    assert frr_peer(frr)["messageStats"]["opensRecv"] == 1  # never a second router leg
    lines = log.read_text().count("\n")
    assert lines < 200, "%d log lines" % lines  # one line per source per minute

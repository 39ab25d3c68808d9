"""Two runners joined by a websocket tunnel, on loopback: BIRD -> runner A ⇄ wss ⇄ runner B -> FRR.

Runner A listens to BIRD (only BIRD's address may connect) and relays the session over wss to runner B,
which runs the stages (inline RPKI against a VRP file here) and connects to FRR. Certificates are made in the test
(trustme); runner B requires both the bearer token and a client certificate from the test's CA.
"""

import json
import signal
import time

import pytest
import trustme
from integration.runner_process import running_runner, start_runner
from integration.test_runner_proxy import (
    FLOOD,
    NOT_FOUND,
    VALID,
    frr_prefixes,
    static_routes,
    write_roas,
)
from integration.test_runner_speaker import stop_runners

from lab.daemons import free_port, wait_for

pytestmark = pytest.mark.lab
BIRD, A_LISTEN, B_TUNNEL, FRR, B_FROM = "127.0.0.140", "127.0.0.141", "127.0.0.142", "127.0.0.143", "127.0.0.144"
TOKEN = "tunnel-token-made-for-this-test"
# BIRD retries soon after a session drop (its defaults wait minutes)
BIRD_RETRY = "  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;\n"
BULK = ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(5000)]  # a table of some size, BIRD's own AS
# runner B's rpki stage holds the invalid route back (its VRP says AS64500, the route's origin is 64501)
EXPECTED = sorted(VALID + NOT_FOUND + FLOOD + BULK)


def bird_routes():
    bulk = "".join("  route %s blackhole;\n" % prefix for prefix in BULK)
    return static_routes() + "protocol static bulk {\n  ipv4;\n%s}\n" % bulk


def table(frr):
    """Whether FRR holds BIRD's table as runner B's rpki stage lets it through."""
    return frr_prefixes(frr) == EXPECTED


@pytest.fixture
def tunnel_lab(tmp_path, make_frr_router):
    """Certificates, token files and both runners' configurations in tmp_path; FRR started."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    for name, identity in (("b", B_TUNNEL), ("a", "runner-a.example")):
        issued = ca.issue_cert(identity)
        issued.cert_chain_pems[0].write_to_path(str(tmp_path / ("%s.pem" % name)))
        issued.private_key_pem.write_to_path(str(tmp_path / ("%s.key" % name)))
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "wrong-token").write_text("not-the-token\n")
    port, d = free_port(B_TUNNEL), tmp_path
    write_roas(tmp_path / "vrps.json", ("203.0.113.0/24", 24, "AS64500"), ("198.51.100.0/24", 24, "AS64500"))
    (tmp_path / "b.yml").write_text(
        "sessions:\n"
        "  - name: b\n"
        "    peer: 127.0.0.1\n"  # runner A's tunnel comes from loopback's own address
        f"    connect: {FRR}:179\n"
        f"    connect_from: {B_FROM}\n"
        "    to_router: [rpki]\n"
        "    tunnel:\n"
        f"      listen: {B_TUNNEL}:{port}\n"
        f"      cert_file: {d}/b.pem\n"
        f"      key_file: {d}/b.key\n"
        f"      ca_file: {d}/ca.pem\n"
        f"      token_file: {d}/token\n"
        "rpki:\n"
        f"  file: {d}/vrps.json\n"
        f"metrics:\n  listen: {B_TUNNEL}:9179\n"  # not the default 127.0.0.1:9179 other lab tests use
    )

    def runner_a(token="token", client_cert=True):
        path = tmp_path / ("a-%s-%s.yml" % (token, client_cert))
        cert = f"      cert_file: {d}/a.pem\n      key_file: {d}/a.key\n" if client_cert else ""
        path.write_text(
            "sessions:\n"
            "  - name: a\n"
            f"    listen: {A_LISTEN}:179\n"
            f"    peer: {BIRD}\n"
            "    tunnel:\n"
            f"      connect: wss://{B_TUNNEL}:{port}/bgp\n"
            f"      ca_file: {d}/ca.pem\n"
            f"      token_file: {d}/{token}\n"
            f"{cert}"
            "      backoff_max: 2s\n"
            f"metrics:\n  listen: {A_LISTEN}:9179\n"
        )
        return path

    frr = make_frr_router(address=FRR, asn=65000, neighbor=B_FROM, neighbor_asn=65001)
    return frr, tmp_path / "b.yml", runner_a


def frr_state(frr):
    return json.loads(frr.vtysh("show bgp neighbors %s json" % B_FROM)).get(B_FROM, {}).get("bgpState")


def test_a_table_crosses_the_tunnel_and_comes_back_after_runner_b_is_killed(tunnel_lab, make_bird_router, tmp_path):
    frr, b_config, runner_a = tunnel_lab
    started = []
    try:
        started.append(start_runner(b_config, tmp_path / "b1.log"))
        with running_runner(runner_a(), tmp_path / "a.log"):
            make_bird_router(address=BIRD, neighbor=A_LISTEN, extra_config=bird_routes(), bgp_options=BIRD_RETRY)
            bird_started = time.monotonic()
            assert wait_for(lambda: table(frr), what="FRR to hold BIRD's table via the tunnel")
            first_table = time.monotonic()
            assert frr_state(frr) == "Established"
            log_a, log_b = (tmp_path / "a.log").read_text(), (tmp_path / "b1.log").read_text()
            assert "a: tunnel to wss://%s" % B_TUNNEL in log_a and "b: tunnel from 127.0.0.1 open" in log_b
            # the stages ran on B: its rpki summary line, written when its 10 s interval is over (log_summary)
            wait_for(
                lambda: "rpki: 1 route(s) held back: invalid origin in " in (tmp_path / "b1.log").read_text(),
                what="runner B's rpki summary line",
                timeout=30,
            )
            assert "(e.g. 198.51.100.0/24 from AS64501)" in (tmp_path / "b1.log").read_text()
            assert TOKEN not in log_a + log_b
            # runner B dies: the tunnel drops, FRR's and BIRD's sessions with it (no half-session)
            killed = time.monotonic()
            started[0].send_signal(signal.SIGKILL)
            started[0].wait(10)
            wait_for(lambda: frr_state(frr) != "Established", what="FRR to see the session drop")
            wait_for(
                lambda: (
                    "the far end closed the tunnel" in (tmp_path / "a.log").read_text()
                    or "session with %s down" % BIRD in (tmp_path / "a.log").read_text()
                ),
                what="runner A to close BIRD's leg",
            )
            # runner B is back: BIRD reconnects to A, A opens a new tunnel, the table is back in FRR
            dropped = time.monotonic()
            started.append(start_runner(b_config, tmp_path / "b2.log"))
            restarted = time.monotonic()
            assert wait_for(lambda: table(frr), what="the table back after the restart", timeout=60)
            assert frr_state(frr) == "Established"
            print(
                "%d routes in FRR %.1f s after BIRD started; drop seen %.1f s after the kill; table back %.1f s "
                "after the restart"
                % (len(EXPECTED), first_table - bird_started, dropped - killed, time.monotonic() - restarted)
            )
    finally:
        stop_runners(started)


@pytest.mark.parametrize(
    ("token", "client_cert", "refusal"),
    [
        ("wrong-token", True, "refused (HTTP 401): wrong or missing bearer token"),
        ("token", False, "tunnel: TLS handshake refused"),  # no client certificate: no HTTP request reaches B
    ],
)
def test_runner_a_with_a_wrong_token_or_no_certificate_is_refused(
    tunnel_lab, make_bird_router, tmp_path, token, client_cert, refusal
):
    frr, b_config, runner_a = tunnel_lab
    with running_runner(b_config, tmp_path / "b.log"), running_runner(runner_a(token, client_cert), tmp_path / "a.log"):
        make_bird_router(address=BIRD, neighbor=A_LISTEN, extra_config=bird_routes(), bgp_options=BIRD_RETRY)
        wait_for(
            lambda: "telling the peer Cease / Connection Rejected" in (tmp_path / "a.log").read_text(),
            what="runner A to give up on the tunnel and tell BIRD",
            timeout=60,
        )
        log_a, log_b = (tmp_path / "a.log").read_text(), (tmp_path / "b.log").read_text()
        assert ("answered HTTP 401" if client_cert else "Server disconnected") in log_a
        assert refusal in log_b and "not-the-token" not in log_a + log_b
        assert "b: connection from" not in log_b  # the proxy at B never saw a session
        assert frr_state(frr) != "Established" and not frr_prefixes(frr)

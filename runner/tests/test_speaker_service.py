"""The runner process with a proxy session and a speaker in one configuration: one SIGTERM ends both,
the speaker's router gets its Cease with the shutdown message, and the process exits 0."""

import asyncio
import json
import signal
import sys

from speaker_lab import LOCAL, LOCAL_ASN, PEER, PEER_ASN, ScriptedPeer, run

PROXY_LISTEN = "127.0.0.25"


def test_sigterm_stops_proxies_and_speakers_together(tmp_path):
    async def scenario():
        ready = asyncio.Event()

        async def script(connection):
            await connection.establish()
            ready.set()
            return await connection.notification(timeout=15)

        async with ScriptedPeer(script) as peer:
            config = tmp_path / "runner.yml"
            config.write_text(
                json.dumps(
                    {
                        "sessions": [
                            {
                                "name": "relay",
                                "listen": PROXY_LISTEN + ":%d" % (peer.port + 1),
                                "connect": "127.0.0.26:179",
                            }
                        ],
                        "metrics": {"listen": PROXY_LISTEN + ":%d" % (peer.port + 2)},
                        "speakers": [
                            {
                                "name": "edge",
                                "local": LOCAL,
                                "peer": "%s:%d" % (PEER, peer.port),
                                "asn": LOCAL_ASN,
                                "peer_asn": PEER_ASN,
                                "api": False,
                                "shutdown_message": "bye from the test",
                            }
                        ],
                    }
                )
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "peerwarden_runner.cli", "run", "-c", str(config), stderr=asyncio.subprocess.PIPE
            )
            try:
                await asyncio.wait_for(ready.wait(), 15)
                await asyncio.sleep(0.3)  # the proxy's listener is up by now as well
                process.send_signal(signal.SIGTERM)
                notification = await peer.result()
                status = await asyncio.wait_for(process.wait(), 15)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            log = (await process.stderr.read()).decode()
            return notification, status, log

    notification, status, log = run(scenario, timeout=40)
    assert (notification.code, notification.subcode, notification.shutdown_message) == (6, 2, "bye from the test")
    assert status == 0, log
    assert "listening on 127.0.0.25" in log

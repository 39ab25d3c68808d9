"""A crash loses at most a second of archive: both archive forms are on disk within FLUSH_SECONDS of a
message while the session is still up (no flush, no close), and nothing is written before a message comes."""

import asyncio
import os

from peerwarden_runner.archive import FLUSH_SECONDS, read_archive
from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.mrt_archive import MrtArchiveStage
from stage_helpers import announce, open_session


def on_disk(directory):
    return sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))


async def cross_then_wait(stage, directory):
    """Octets on disk after the OPENs, right after one more UPDATE, and FLUSH_SECONDS later."""
    pipeline = Pipeline({}, [stage])
    state = open_session(pipeline, endpoints={TO_ROUTER: ("127.0.0.33", "127.0.0.32")})
    pipeline.process(state, TO_ROUTER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
    await asyncio.sleep(FLUSH_SECONDS + 0.5)
    settled = on_disk(directory)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["203.0.113.0/24"], path=(65001, 64500)))
    at_once = on_disk(directory)
    await asyncio.sleep(FLUSH_SECONDS + 0.5)
    later = on_disk(directory)
    pipeline.close()
    return settled, at_once, later


def test_the_mrt_archive_reaches_the_disk_within_a_second(tmp_path):
    stage = MrtArchiveStage(str(tmp_path), compress=False, session_name="edge1")
    settled, at_once, later = asyncio.run(cross_then_wait(stage, str(tmp_path)))
    assert settled > 0  # the OPENs and the KEEPALIVE, flushed by the timer
    assert at_once == settled  # buffered: no write per message
    assert later > at_once  # the UPDATE, flushed within the second


def test_the_json_archive_reaches_the_disk_within_a_second(tmp_path):
    stage = ArchiveStage(str(tmp_path), compress=False, session_name="edge1")
    settled, dummy, later = asyncio.run(cross_then_wait(stage, str(tmp_path)))
    assert settled > 0 and later > settled
    records = list(read_archive(str(tmp_path)))
    assert [record["type"] for record in records][-2:] == ["keepalive", "update"]
    assert records[-1]["nlri"] == ["203.0.113.0/24"]


def test_a_flush_that_fails_is_logged_and_tried_again(caplog):
    from peerwarden_runner.archive import FlushSoon

    calls = []

    def flush():
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")

    async def twice():
        soon = FlushSoon(flush, seconds=0.05)
        soon.wrote()
        await asyncio.sleep(0.2)
        soon.wrote()
        await asyncio.sleep(0.2)

    asyncio.run(twice())
    assert len(calls) == 2
    assert "archive: cannot write to disk: [Errno 28] No space left on device" in caplog.text

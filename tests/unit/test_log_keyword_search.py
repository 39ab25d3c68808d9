"""The one-pass keyword search (ahocorasick-rs) finds the same candidate lines, for the same messages,
as the per-keyword bytes.find fallback: on every real sample line, on lines holding several
keywords in either order, at buffer edges, and through a whole scan of each platform."""

import io
import os
from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs import keyword_search as ks
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import (
    CATALOGUE,
    KINDS,
    PLATFORMS,
    messages_for,
)
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection

HERE = os.path.join(os.path.dirname(__file__), "fixtures")
REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(ks.ahocorasick_rs is None, reason="ahocorasick-rs is in requirements.txt")


def sample_bytes():
    with open(os.path.join(HERE, "log_samples.txt"), "rb") as handle:
        return handle.read()


def both(messages, data):
    buffer = bytearray(data)
    one = ks.keyword_search(messages).candidates(buffer, len(buffer))
    each = ks.keyword_search(messages, one_pass=False).candidates(buffer, len(buffer))
    return one, each


def test_one_pass_is_what_the_scanner_uses_when_installed():
    assert isinstance(LogScanner(Selection(), UTC).search, ks.OnePassSearch)
    assert isinstance(LogScanner(Selection(), UTC, one_pass=False).search, ks.PerAnchorSearch)


@pytest.mark.parametrize("platform", ("auto",) + PLATFORMS)
def test_same_candidates_on_every_sample_line(platform):
    messages = messages_for(platform, KINDS)
    one, each = both(messages, sample_bytes())
    assert one == each
    assert len(one) > 0


def test_a_line_with_several_keywords_is_for_the_first_message_in_catalogue_order():
    # BADAUTH comes before the ACL's "(179)" anchor in the catalogue; the line lists them the other way round
    line = b"core1 %SEC-6-IPACCESSLOGP: list X denied tcp 192.0.2.1(1234) -> 192.0.2.2(179) BADAUTH\n"
    one, each = both(CATALOGUE, b"noise\n" + line + b"more noise\n")
    assert one == each == {6: (6 + len(line) - 1, next(m for m in CATALOGUE if m.anchor == b"BADAUTH"))}


def test_keywords_at_the_buffer_edges_and_adjacent_lines():
    data = b"(179)\nBADAUTH 179\n\n(179)(179)\nnothing\nBGP: Unexpected connect from unknown address 2001:db8::1\n"
    one, each = both(CATALOGUE, data)
    assert one == each
    assert sorted(one) == [0, 6, 19, 38]


def test_whole_scans_give_the_same_events_and_stats():
    data = sample_bytes()
    results = []
    for one_pass in (True, False):
        scanner = LogScanner(Selection(), UTC, one_pass=one_pass)
        scanner.scan_stream(io.BytesIO(data), REF, fallback_router="log-host", chunk_size=4096)
        results.append((scanner.events(REF), scanner.stats))
    assert results[0] == results[1]
    assert len(results[0][0]) > 10
    assert results[0][1]["lines_read"] == data.count(b"\n")

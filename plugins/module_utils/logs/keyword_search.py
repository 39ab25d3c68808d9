# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the lines of a buffer that hold a catalogue message's anchor, and which message each is for.

With the optional package ahocorasick-rs (Rust's aho-corasick crate: one SIMD-prefiltered pass for
every anchor at once) the search is one pass over the buffer; without it, one bytes.find pass per
anchor. Both give the same candidates: a line holding several anchors is for the first of their
messages in catalogue order (tests/unit/test_log_keyword_search.py compares them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import ahocorasick_rs
except ImportError:  # optional: the per-anchor search below is the fallback
    ahocorasick_rs = None


def keyword_search(messages, one_pass=True):
    """The fastest search available for these catalogue messages (one_pass=False forces the fallback)."""
    if one_pass and ahocorasick_rs is not None and messages:
        return OnePassSearch(messages)
    return PerAnchorSearch(messages)


class PerAnchorSearch:
    """One bytes.find pass per anchor (the fallback without ahocorasick-rs)."""

    name = "bytes.find per keyword"

    def __init__(self, messages):
        self.messages = messages

    def candidates(self, buffer, end):
        """{line start: (line end, message)} for every line of buffer[:end] holding an anchor."""
        hits = {}
        for message in self.messages:
            needle = message.anchor
            position = buffer.find(needle, 0, end)
            while position != -1:
                start = buffer.rfind(b"\n", 0, position) + 1
                line_end = buffer.find(b"\n", position, end)
                hits.setdefault(start, (line_end, message))  # the first message in catalogue order wins
                position = buffer.find(needle, line_end, end)
        return hits


class OnePassSearch:
    """Every anchor in one pass. Leftmost-first matching reports at least one match in any line that
    holds an anchor (anchors never span a newline); the line's message is then chosen in catalogue
    order among the anchors it holds, exactly as the per-anchor search chooses."""

    name = "aho-corasick, one pass"

    def __init__(self, messages):
        self.messages = messages
        self.automaton = ahocorasick_rs.BytesAhoCorasick(
            [m.anchor for m in messages], matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)

    def candidates(self, buffer, end):
        hits = {}
        with memoryview(buffer) as whole:
            with whole[:end] as view:
                matches = self.automaton.find_matches_as_indexes(view)
        for dummy, position, dummy_end in matches:
            start = buffer.rfind(b"\n", 0, position) + 1
            if start in hits:
                continue
            line_end = buffer.find(b"\n", position, end)
            line = buffer[start:line_end]
            message = next(m for m in self.messages if m.anchor in line)
            hits[start] = (line_end, message)
        return hits

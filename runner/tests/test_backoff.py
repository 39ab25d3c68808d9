"""Reconnect delays: doubling from the initial delay to the maximum, stretched by at most the jitter."""

import random

import pytest

from peerwarden_runner.backoff import Backoff


def test_doubles_to_the_maximum_with_bounded_jitter_and_resets():
    backoff = Backoff(1, 60, jitter=0.25, rng=random.Random(7))
    delays = [backoff.next_delay() for dummy in range(9)]
    bases = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert all(base <= delay <= base * 1.25 for base, delay in zip(bases, delays)), delays
    assert len(set(round(delay / base, 6) for base, delay in zip(bases, delays))) > 1  # jitter varies
    backoff.reset()
    assert 1 <= backoff.next_delay() <= 1.25


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="0 < initial <= maximum"):
        Backoff(10, 5)

"""Retry delays (a speaker reconnecting, an exec program restarting): exponential back-off with jitter,
so a router that is down is not hammered and many speakers restarted together do not reconnect in
lock-step."""

import random


class Backoff:
    """1 s, 2 s, 4 s ... up to `maximum`, each delay stretched by up to `jitter` (a fraction) at random;
    `reset()` after a session stayed up starts again from `initial`."""

    def __init__(self, initial=1.0, maximum=60.0, jitter=0.25, rng=None):
        if initial <= 0 or maximum < initial:
            raise ValueError("back-off needs 0 < initial <= maximum, got %r and %r" % (initial, maximum))
        self.initial, self.maximum, self.jitter = initial, maximum, jitter
        self.rng = rng or random.Random()
        self.current = initial

    def next_delay(self):
        """The delay before the next attempt; the one after it doubles."""
        delay = self.current * (1 + self.jitter * self.rng.random())
        self.current = min(self.current * 2, self.maximum)
        return delay

    def reset(self):
        self.current = self.initial

"""The directions a message travels in, in one place.

A proxy relays two: towards the router it protects and towards the peer. A speaker has its own
session's two: what it sent and what it received. Each direction of a session has an opposite,
the other half of the same session (`other`)."""

TO_ROUTER, TO_PEER = "to-router", "to-peer"  # a proxy's (proxy.py)
SENT, RECEIVED = "sent", "received"  # a speaker's (speaker/session.py)
_OTHER = {TO_ROUTER: TO_PEER, TO_PEER: TO_ROUTER, SENT: RECEIVED, RECEIVED: SENT}

__all__ = ["RECEIVED", "SENT", "TO_PEER", "TO_ROUTER", "other"]


def other(direction: str) -> str:
    """The opposite direction of the same session (a proxy's or a speaker's)."""
    return _OTHER[direction]

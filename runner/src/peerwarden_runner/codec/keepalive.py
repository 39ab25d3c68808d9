"""KEEPALIVE messages (RFC 4271 §4.4): the header alone, so a constant."""

from dataclasses import dataclass

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.framing import make_header

__all__ = ["KEEPALIVE_MESSAGE", "Keepalive", "encode_keepalive", "decode_keepalive"]

KEEPALIVE_MESSAGE = make_header(c.HEADER_LEN, c.KEEPALIVE)


@dataclass(frozen=True)
class Keepalive:
    """A KEEPALIVE carries nothing; the class exists so every message type decodes to an object."""

    def encode(self) -> bytes:
        return KEEPALIVE_MESSAGE


def encode_keepalive() -> bytes:
    return KEEPALIVE_MESSAGE


def decode_keepalive(data: c.Octets | c.Framed) -> Keepalive:
    """A Keepalive; framing (`parse_header`) has already checked that the length is exactly 19."""
    return Keepalive()

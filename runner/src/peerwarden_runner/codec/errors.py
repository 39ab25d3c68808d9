"""The codec's exceptions and the RFC 7606 error-handling vocabulary.

Two kinds of failure exist, and they are kept apart on purpose:

* a message that cannot be framed or whose OPEN / ROUTE-REFRESH body is unusable raises a
  `CodecError` subclass carrying the NOTIFICATION (code, subcode, data) that RFC 4271 §6 says to send;
* an UPDATE never raises: RFC 7606 replaced "reset the session on any error" by a graded response,
  so `decode_update` returns the Update together with an `ErrorAction` and the reasons
  (see `error_handling` for the decision table).
"""

from dataclasses import dataclass
from enum import IntEnum


class CodecError(Exception):
    """A message the codec cannot accept, with the NOTIFICATION that reports it to the peer."""

    def __init__(self, code: int, subcode: int, data: bytes | bytearray | memoryview = b"", reason: str = "") -> None:
        self.code = code
        self.subcode = subcode
        self.data = bytes(data)
        self.reason = reason or "NOTIFICATION %d/%d" % (code, subcode)
        super().__init__(self.reason)


class FramingError(CodecError):
    """A bad message header (RFC 4271 §6.1: code 1, subcode 1 marker, 2 length, 3 type)."""


class MessageError(CodecError):
    """A framed OPEN, NOTIFICATION or ROUTE-REFRESH whose body is malformed (RFC 4271 §6.2, RFC 7313 §5)."""


class ErrorAction(IntEnum):
    """RFC 7606 §2 approaches, weakest first, so that the strongest of several is their max() (RFC 7606 §3)."""

    NONE = 0
    ATTRIBUTE_DISCARD = 1
    TREAT_AS_WITHDRAW = 2
    AFI_SAFI_DISABLE = 3
    SESSION_RESET = 4

    @property
    def label(self) -> str:
        """The RFC's own spelling ("treat-as-withdraw"), used in logs and in the JSON form."""
        return self.name.lower().replace("_", "-").replace("afi-safi", "afi/safi")


@dataclass(frozen=True, slots=True)
class UpdateError:
    """One finding in an UPDATE: what to do, why, and the NOTIFICATION RFC 4271 §6.3 would have sent.

    The (code, subcode, data) is filled in for every finding, not only for session resets, because
    a log line "treat-as-withdraw: ORIGIN value 7 (would have been 3/6)" is what an operator
    compares with the router's own log.
    """

    action: ErrorAction
    reason: str
    code: int = 3
    subcode: int = 0
    data: bytes = b""
    attribute: int | None = None
    family: tuple[int, int] | None = None

    def __str__(self) -> str:
        return "%s: %s" % (self.action.label, self.reason)

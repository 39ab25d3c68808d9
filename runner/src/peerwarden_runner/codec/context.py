"""What two OPENs negotiated, as needed to decode and encode the UPDATEs of one direction.

An UPDATE cannot be parsed on its own: AS numbers are 2 or 4 octets (RFC 6793), NLRI may or may
not carry a Path Identifier (RFC 7911), and the size limit is 4096 or 65535 (RFC 8654), all
depending on the capabilities both ends announced.  A `NegotiatedContext` holds those facts for
messages travelling in one direction, from a sender to a receiver; every codec function that
needs them takes one (`ctx`), whether it decodes or encodes a message of that direction.

`negotiate(local_open, remote_open)` gives the context of messages that the side which sent
`local_open` receives from the side which sent `remote_open`.  A speaker uses it for what it reads
and `ctx.reversed()` for what it writes; a transparent proxy between A and B decodes A->B traffic
with `negotiate(open_of_B, open_of_A)`.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peerwarden_runner.codec.constants import (
    ADD_PATH_BOTH,
    ADD_PATH_RECEIVE,
    ADD_PATH_SEND,
    IPV4_UNICAST,
    MAX_EXTENDED_MESSAGE_LEN,
    MAX_MESSAGE_LEN,
    Family,
)

if TYPE_CHECKING:
    from peerwarden_runner.codec.open_message import Open

__all__ = ["NegotiatedContext", "DEFAULT_CONTEXT", "negotiate"]


@dataclass(frozen=True)
class NegotiatedContext:
    """Session facts for one direction of one BGP session (sender -> receiver).

    * `four_octet_as`: both sides announced capability 65 (RFC 6793 §4), so AS_PATH and AGGREGATOR
      carry 4-octet AS numbers.  Defaults to True because every current implementation
      negotiates it; use False for an old 2-octet speaker.
    * `add_path_receive`: families whose NLRI in this direction carry a Path Identifier: the
      receiver announced Receive and the sender Send (RFC 7911 §5).
    * `add_path_send`: the same for the opposite direction; kept so `reversed()` is exact.
    * `extended_message`: messages in this direction may be up to 65535 octets. RFC 8654 §3: "A peer
      which does not advertise this capability MUST NOT send BGP Extended Messages, and BGP Extended
      Messages MUST NOT be sent to it", so `negotiate` sets it only when both sides announced capability 6
      (FRR answers a longer UPDATE from a side that did not with 1/2 Bad Message Length).
    * `extended_message_send`: the same for the opposite direction (equal after `negotiate`; kept apart
      so a context built by hand can describe one direction).
    * `families`: (afi, safi) pairs both sides announced with the Multiprotocol capability, or
      IPv4 unicast when a side announced none (RFC 4760 §8).  Informational: the decoder still
      parses NLRI of other families.
    * `ebgp`: the session is external and not between confederation members.  Only then does
      RFC 7606 §7.5/§7.9/§7.10 ask to discard LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST; the OPENs
      alone cannot tell a confederation peer from an external one, so `negotiate` leaves it False
      and the session owner sets it (dataclasses.replace).
    """

    four_octet_as: bool = True
    add_path_receive: frozenset[Family] = frozenset()
    add_path_send: frozenset[Family] = frozenset()
    extended_message: bool = False
    extended_message_send: bool = False
    families: frozenset[Family] = field(default_factory=lambda: frozenset({IPV4_UNICAST}))
    ebgp: bool = False

    @property
    def max_message_length(self) -> int:
        """The longest message the receiver of this direction accepts (RFC 4271 §4.1, RFC 8654 §4)."""
        return MAX_EXTENDED_MESSAGE_LEN if self.extended_message else MAX_MESSAGE_LEN

    def add_path(self, afi: int, safi: int) -> bool:
        """True when NLRI of this family carry a Path Identifier in this direction."""
        return (afi, safi) in self.add_path_receive

    def reversed(self) -> "NegotiatedContext":
        """The context of the opposite direction of the same session."""
        return dataclasses.replace(
            self,
            add_path_receive=self.add_path_send,
            add_path_send=self.add_path_receive,
            extended_message=self.extended_message_send,
            extended_message_send=self.extended_message,
        )


DEFAULT_CONTEXT = NegotiatedContext()


def negotiate(local_open: "Open", remote_open: "Open") -> NegotiatedContext:
    """The context of UPDATEs the sender of `local_open` receives from the sender of `remote_open`.

    Both arguments are decoded OPENs (`open_message.Open`).
    """
    local_add_path = local_open.add_path_modes
    remote_add_path = remote_open.add_path_modes
    # RFC 7911 §5: path ids flow from a Send side to a Receive side, per family
    receive = frozenset(
        family
        for family, mode in local_add_path.items()
        if mode in (ADD_PATH_RECEIVE, ADD_PATH_BOTH) and remote_add_path.get(family) in (ADD_PATH_SEND, ADD_PATH_BOTH)
    )
    send = frozenset(
        family
        for family, mode in local_add_path.items()
        if mode in (ADD_PATH_SEND, ADD_PATH_BOTH) and remote_add_path.get(family) in (ADD_PATH_RECEIVE, ADD_PATH_BOTH)
    )
    both_extended = local_open.extended_message and remote_open.extended_message  # RFC 8654 §3
    return NegotiatedContext(
        four_octet_as=local_open.four_octet_as and remote_open.four_octet_as,
        add_path_receive=receive,
        add_path_send=send,
        extended_message=both_extended,
        extended_message_send=both_extended,
        families=frozenset(local_open.families & remote_open.families),
    )

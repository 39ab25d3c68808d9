"""The ASes of a direction's sender and receiver, as their OPENs say: what the alert and aspa stages
compare paths with on every UPDATE. `Open.asn` reads the capabilities each time it is asked, which
cost more than the stages' own checks on a one-prefix UPDATE, so the pair is kept in the session's
memory for as long as the OPENs are the same objects (a new session brings new OPENs)."""

from peerwarden_runner.directions import other

__all__ = ["direction_asns"]


def direction_asns(state, direction):
    """(the sender's AS, the receiver's AS) of `direction`; None for a side whose OPEN is not known."""
    sender, receiver = state.opens.get(direction), state.opens.get(other(direction))
    key = ("open-asns", direction)
    kept = state.memory.get(key)
    if kept is None or kept[0] is not sender or kept[1] is not receiver:
        kept = state.memory[key] = (
            sender,
            receiver,
            sender.asn if sender is not None else None,
            receiver.asn if receiver is not None else None,
        )
    return kept[2], kept[3]

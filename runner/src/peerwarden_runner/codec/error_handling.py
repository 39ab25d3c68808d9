"""RFC 7606 "Revised Error Handling for BGP UPDATE Messages": which error draws which action.

RFC 4271 §6.3 resets the session on any malformed UPDATE, taking down every route of the session
for one bad attribute.  RFC 7606 grades the response instead; this module is the single place
where the codec decides, so the table below is the specification of `decode_update`'s
`error_action`.  Every decision carries a human `reason` and the (code, subcode, data) RFC 4271
§6.3 names for the error, which is the NOTIFICATION to send when the action is a session reset.

Actions, weakest first (RFC 7606 §2); with several errors the strongest wins (RFC 7606 §3):

* NONE: nothing wrong.
* ATTRIBUTE_DISCARD: drop the attribute, keep processing the UPDATE.
* TREAT_AS_WITHDRAW: every route the UPDATE announces (NLRI field and MP_REACH_NLRI) is handled as
  withdrawn; withdrawals it carries still apply.  With nothing announced there is nothing to
  withdraw, and the UPDATE amounts to its withdrawals (RFC 7606 §5.2).
* AFI_SAFI_DISABLE: stop using the family for the rest of the session (RFC 4760 §7); chosen only
  when the caller asks for it (`afi_safi_disable=True`) and the family is known, else SESSION_RESET.
* SESSION_RESET: send the NOTIFICATION and close the session.

=======================================================  =====================  ==========  =========================
Error                                                    Action                 NOTIFY      Reference
=======================================================  =====================  ==========  =========================
Message shorter than 23 octets / inconsistent header     SESSION_RESET          1/2         RFC 4271 §6.1
Withdrawn Routes Length overruns the message             SESSION_RESET          3/1         RFC 4271 §6.3
Total Path Attribute Length overruns the message         SESSION_RESET          3/1         RFC 4271 §6.3, 7606 §4
Withdrawn Routes or NLRI field unparseable (prefix       SESSION_RESET          3/10        RFC 7606 §5.3
  length > 32, last prefix runs past the field)
Attribute header: fewer than 3 (4 with Extended Length)  TREAT_AS_WITHDRAW      3/1         RFC 7606 §4
  octets left in the attribute section
Attribute value overruns the attribute section           TREAT_AS_WITHDRAW      3/5         RFC 7606 §4
  ... when the attribute is MP_REACH/MP_UNREACH_NLRI     SESSION_RESET          3/9         RFC 7606 §3, §5.3
Same attribute type twice (not MP_*): keep the first     ATTRIBUTE_DISCARD      3/1         RFC 7606 §3
MP_REACH_NLRI or MP_UNREACH_NLRI twice                   SESSION_RESET          3/1         RFC 7606 §3
Optional/Transitive flags conflict with the type         the type's malformed   3/4         RFC 7606 §3
  (well-known sent as optional, etc.)                    action below
  ... on MP_REACH/MP_UNREACH_NLRI                        SESSION_RESET          3/4         RFC 7606 §5.3
Unrecognized attribute with the Optional bit clear       SESSION_RESET          3/2         RFC 4271 §6.3
  (an unknown "well-known" attribute)
Unrecognized optional attribute                          NONE (passed on)       -           RFC 4271 §5
Zero length (any known type but AS_PATH and              the type's malformed   3/5         RFC 7606 §4
  ATOMIC_AGGREGATE)                                      action below
ORIGIN length != 1 or value not 0/1/2                    TREAT_AS_WITHDRAW      3/5, 3/6    RFC 7606 §7.1
AS_PATH malformed (unknown segment type, segment         TREAT_AS_WITHDRAW      3/11        RFC 7606 §7.2
  overrun, one trailing octet, segment length 0)
NEXT_HOP length != 4                                     TREAT_AS_WITHDRAW      3/5         RFC 7606 §7.3
MULTI_EXIT_DISC length != 4                              TREAT_AS_WITHDRAW      3/5         RFC 7606 §7.4
LOCAL_PREF length != 4                                   TREAT_AS_WITHDRAW      3/5         RFC 7606 §7.5
LOCAL_PREF from an external peer (ctx.ebgp)              ATTRIBUTE_DISCARD      (3/1)       RFC 7606 §7.5
ATOMIC_AGGREGATE length != 0                             ATTRIBUTE_DISCARD      3/5         RFC 7606 §7.6
AGGREGATOR length != 6 (2-octet AS) / 8 (4-octet AS)     ATTRIBUTE_DISCARD      3/5         RFC 7606 §7.7
COMMUNITIES length not a non-zero multiple of 4          TREAT_AS_WITHDRAW      3/9         RFC 7606 §7.8
ORIGINATOR_ID length != 4                                TREAT_AS_WITHDRAW      3/5         RFC 7606 §7.9
CLUSTER_LIST length not a non-zero multiple of 4         TREAT_AS_WITHDRAW      3/9         RFC 7606 §7.10
ORIGINATOR_ID / CLUSTER_LIST from an external peer       ATTRIBUTE_DISCARD      (3/1)       RFC 7606 §7.9, §7.10
MP_REACH_NLRI: length < 5, next hop overruns or has a    SESSION_RESET (or      3/9         RFC 7606 §7.11, §5.3
  length unexpected for the AFI, NLRI unparseable        AFI_SAFI_DISABLE)
MP_UNREACH_NLRI: length < 3, NLRI unparseable            SESSION_RESET (or      3/9         RFC 7606 §7.12, §5.3
                                                         AFI_SAFI_DISABLE)
EXTENDED_COMMUNITIES length not a non-zero multiple of 8 TREAT_AS_WITHDRAW      3/9         RFC 7606 §7.14
AS4_PATH malformed (length odd or < 6, segment errors)   ATTRIBUTE_DISCARD      3/9         RFC 6793 §6
AS4_AGGREGATOR length != 8                               ATTRIBUTE_DISCARD      3/9         RFC 6793 §6
AS4_PATH / AS4_AGGREGATOR between 4-octet speakers       ATTRIBUTE_DISCARD      (3/9)       RFC 6793 §6
LARGE_COMMUNITY length not a non-zero multiple of 12     TREAT_AS_WITHDRAW      3/9         RFC 8092 §6
ONLY_TO_CUSTOMER length != 4                             TREAT_AS_WITHDRAW      3/5         RFC 9234 §5
ORIGIN or AS_PATH missing while routes are announced     TREAT_AS_WITHDRAW      3/3         RFC 7606 §3
  (NLRI field or MP_REACH_NLRI present)
NEXT_HOP missing while the NLRI field is not empty       TREAT_AS_WITHDRAW      3/3         RFC 7606 §3, 4760 §3
=======================================================  =====================  ==========  =========================

NOTIFY in parentheses: RFC 4271 has no NOTIFICATION for the case; the finding carries that
code/subcode for logs only.  A malformed MP_REACH/MP_UNREACH_NLRI with a readable AFI/SAFI gets
AFI_SAFI_DISABLE instead of SESSION_RESET when `decode_update(..., afi_safi_disable=True)`.

Not checked here, because they need more than the message and the negotiated capabilities:
semantic next hop checks (RFC 4271 §6.3), first AS of an eBGP path (RFC 4271 §6.3), a missing
LOCAL_PREF on iBGP, and AFI/SAFI not negotiated (RFC 4760 §7 leaves it to the implementation).
"""

import struct
from collections.abc import Iterable

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.errors import ErrorAction, UpdateError

__all__ = [
    "MALFORMED_ACTION",
    "MAY_BE_EMPTY",
    "strongest",
    "malformed",
    "flags_conflict",
    "duplicate",
    "unrecognized_well_known",
    "missing_mandatory",
    "mp_error",
    "attribute_header_underrun",
    "attribute_overrun",
    "length_field_error",
    "nlri_field_error",
    "header_error",
    "as4_between_new_speakers",
    "external_peer_discard",
]

NONE = ErrorAction.NONE
DISCARD = ErrorAction.ATTRIBUTE_DISCARD
WITHDRAW = ErrorAction.TREAT_AS_WITHDRAW
RESET = ErrorAction.SESSION_RESET

# The action for a malformed value of each known type (the table above, RFC 7606 §7, RFC 6793 §6,
# RFC 8092 §6, RFC 9234 §5).  MP_REACH/MP_UNREACH are handled by mp_error().
MALFORMED_ACTION = {
    c.ORIGIN: WITHDRAW,
    c.AS_PATH: WITHDRAW,
    c.NEXT_HOP: WITHDRAW,
    c.MULTI_EXIT_DISC: WITHDRAW,
    c.LOCAL_PREF: WITHDRAW,
    c.ATOMIC_AGGREGATE: DISCARD,
    c.AGGREGATOR: DISCARD,
    c.COMMUNITIES: WITHDRAW,
    c.ORIGINATOR_ID: WITHDRAW,
    c.CLUSTER_LIST: WITHDRAW,
    c.MP_REACH_NLRI: RESET,
    c.MP_UNREACH_NLRI: RESET,
    c.EXTENDED_COMMUNITIES: WITHDRAW,
    c.AS4_PATH: DISCARD,
    c.AS4_AGGREGATOR: DISCARD,
    c.LARGE_COMMUNITY: WITHDRAW,
    c.ONLY_TO_CUSTOMER: WITHDRAW,
}
# RFC 7606 §4: "only AS_PATH and ATOMIC_AGGREGATE may validly have an attribute length of zero"
MAY_BE_EMPTY = frozenset({c.AS_PATH, c.ATOMIC_AGGREGATE})
_MP_CODES = (c.MP_REACH_NLRI, c.MP_UNREACH_NLRI)


def attribute_tlv(flags: int, code: int, data: bytes) -> bytes:
    """The erroneous attribute as RFC 4271 §6.3 puts it in the NOTIFICATION data (type, length, value)."""
    if flags & c.FLAG_EXTENDED_LENGTH or len(data) > 255:
        return struct.pack(">BBH", flags, code, len(data)) + data
    return struct.pack(">BBB", flags, code, len(data)) + data


def strongest(errors: Iterable[UpdateError]) -> UpdateError | None:
    """The decisive finding (strongest action, first of equals), or None (RFC 7606 §3)."""
    best = None
    for error in errors:
        if best is None or error.action > best.action:
            best = error
    return best


def malformed(flags: int, code: int, data: bytes, reason: str, subcode: int) -> UpdateError:
    """A known attribute whose value is malformed: the type's action from MALFORMED_ACTION."""
    return UpdateError(MALFORMED_ACTION[code], reason, c.ERR_UPDATE, subcode, attribute_tlv(flags, code, data), code)


def flags_conflict(flags: int, code: int, data: bytes, expected: int, afi_safi_disable: bool = False) -> UpdateError:
    """Optional/Transitive bits differ from the type's definition (RFC 7606 §3; §5.3 for MP_*)."""
    reason = "%s flags 0x%02x, expected Optional/Transitive 0x%02x" % (_name(code), flags, expected)
    if code in _MP_CODES:
        return _mp(
            reason,
            c.UPDATE_ATTRIBUTE_FLAGS_ERROR,
            attribute_tlv(flags, code, data),
            code,
            _family_of(data),
            afi_safi_disable,
        )
    return UpdateError(
        MALFORMED_ACTION[code],
        reason,
        c.ERR_UPDATE,
        c.UPDATE_ATTRIBUTE_FLAGS_ERROR,
        attribute_tlv(flags, code, data),
        code,
    )


def duplicate(flags: int, code: int, data: bytes) -> UpdateError:
    """A second attribute of a type already seen (RFC 7606 §3)."""
    if code in _MP_CODES:
        return UpdateError(
            RESET, "%s appears more than once" % _name(code), c.ERR_UPDATE, c.UPDATE_MALFORMED_ATTRIBUTE_LIST, b"", code
        )
    return UpdateError(
        DISCARD,
        "%s appears more than once; the first is kept" % _name(code),
        c.ERR_UPDATE,
        c.UPDATE_MALFORMED_ATTRIBUTE_LIST,
        b"",
        code,
    )


def unrecognized_well_known(flags: int, code: int, data: bytes) -> UpdateError:
    """An unknown type with the Optional bit clear (RFC 4271 §6.3, not relaxed by RFC 7606)."""
    return UpdateError(
        RESET,
        "unrecognized well-known attribute type %d" % code,
        c.ERR_UPDATE,
        c.UPDATE_UNRECOGNIZED_WELL_KNOWN,
        attribute_tlv(flags, code, data),
        code,
    )


def missing_mandatory(code: int) -> UpdateError:
    """A well-known mandatory attribute absent while routes are announced (RFC 7606 §3)."""
    return UpdateError(
        WITHDRAW, "mandatory %s missing" % _name(code), c.ERR_UPDATE, c.UPDATE_MISSING_WELL_KNOWN, bytes((code,)), code
    )


def mp_error(
    flags: int, code: int, data: bytes, reason: str, family: c.Family | None, afi_safi_disable: bool = False
) -> UpdateError:
    """A malformed MP_REACH/MP_UNREACH_NLRI: its NLRI cannot be used (RFC 7606 §7.11, §7.12, §5.3)."""
    return _mp(
        reason, c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR, attribute_tlv(flags, code, data), code, family, afi_safi_disable
    )


def attribute_header_underrun(remaining: int, flags: int | None) -> UpdateError:
    """Fewer octets left than an attribute header needs (RFC 7606 §4, second case)."""
    needed = 4 if flags is not None and flags & c.FLAG_EXTENDED_LENGTH else 3
    return UpdateError(
        WITHDRAW,
        "%d octet(s) left in the attribute section, an attribute header needs %d" % (remaining, needed),
        c.ERR_UPDATE,
        c.UPDATE_MALFORMED_ATTRIBUTE_LIST,
    )


def attribute_overrun(
    flags: int, code: int, declared: int, available: int, afi_safi_disable: bool = False
) -> UpdateError:
    """An attribute length running past the attribute section (RFC 7606 §4, first case).

    The NLRI field is still found from the Total Path Attribute Length, so treat-as-withdraw
    works, unless the overrunning attribute is MP_REACH/MP_UNREACH_NLRI, whose NLRI are then lost
    (RFC 7606 §3: without them treat-as-withdraw is impossible, so the session is reset).
    """
    reason = "%s length %d overruns the attribute section (%d octets left)" % (_name(code), declared, available)
    if code in _MP_CODES:
        return _mp(reason, c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR, b"", code, None, afi_safi_disable)
    return UpdateError(WITHDRAW, reason, c.ERR_UPDATE, c.UPDATE_ATTRIBUTE_LENGTH_ERROR, b"", code)


def length_field_error(reason: str) -> UpdateError:
    """Withdrawn Routes Length or Total Path Attribute Length inconsistent with the message (RFC 4271 §6.3)."""
    return UpdateError(RESET, reason, c.ERR_UPDATE, c.UPDATE_MALFORMED_ATTRIBUTE_LIST)


def nlri_field_error(field_name: str, reason: object) -> UpdateError:
    """The Withdrawn Routes or NLRI field cannot be parsed (RFC 7606 §5.3)."""
    return UpdateError(
        RESET, "%s: %s" % (field_name, reason), c.ERR_UPDATE, c.UPDATE_INVALID_NETWORK_FIELD, family=c.IPV4_UNICAST
    )


def header_error(reason: str, length_field: bytes = b"") -> UpdateError:
    """Not an UPDATE the codec can even frame (RFC 4271 §6.1)."""
    return UpdateError(RESET, reason, c.ERR_HEADER, c.HEADER_BAD_LENGTH, length_field)


def as4_between_new_speakers(code: int) -> UpdateError:
    """AS4_PATH / AS4_AGGREGATOR from a 4-octet speaker: "MUST discard" (RFC 6793 §6)."""
    return _discarded(code, "received from a 4-octet AS speaker", c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR)


def external_peer_discard(code: int) -> UpdateError:
    """LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from an external peer (RFC 7606 §7.5, §7.9, §7.10)."""
    return _discarded(code, "received from an external peer", c.UPDATE_MALFORMED_ATTRIBUTE_LIST)


def _discarded(code: int, why: str, subcode: int) -> UpdateError:
    return UpdateError(DISCARD, "%s %s" % (_name(code), why), c.ERR_UPDATE, subcode, b"", code)


def _mp(
    reason: str, subcode: int, data: bytes, code: int, family: c.Family | None, afi_safi_disable: bool
) -> UpdateError:
    action = ErrorAction.AFI_SAFI_DISABLE if afi_safi_disable and family is not None else RESET
    return UpdateError(action, reason, c.ERR_UPDATE, subcode, data, code, family)


def _family_of(data: bytes) -> c.Family | None:
    if len(data) >= 3:
        return (int.from_bytes(data[:2], "big"), data[2])
    return None


def _name(code: int) -> str:
    return c.ATTRIBUTE_RFC_NAMES.get(code, "attribute type %d" % code)

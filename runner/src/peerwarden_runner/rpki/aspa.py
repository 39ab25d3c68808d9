"""AS_PATH verification with ASPA objects (draft-ietf-sidrops-aspa-verification, §5-§6): pure functions.

An ASPA says which ASes a customer AS (`customer_asid`) authorises as its providers. The hop check
`hop(aspas, customer, provider)` answers:

- PROVIDER: the customer's ASPA lists the provider ("Provider+");
- NOT_PROVIDER: the customer has an ASPA and it does not ("Not Provider+"; AS 0 lists nobody);
- NO_ATTESTATION: the customer has no ASPA.

A path is read neighbour first, origin last (wire order), as BGP sends it; the draft numbers it the
other way (AS(1) the origin, AS(N) the neighbour), which `_ramps` follows. Before the procedures:
an AS_SET anywhere makes the path Invalid, confederation segments are left out (they stay inside a
confederation), and prepends are collapsed (65001 65001 64500 -> 65001 64500).

- Upstream (the route came from a customer, a lateral peer or through a route server, §6.1): the
  whole path must climb customer -> provider: Invalid when one hop is Not Provider+, Unknown when
  one has no attestation, else Valid.
- Downstream (the route came from a provider, §6.2): an up-ramp from the origin and a down-ramp to
  the neighbour must cover the path: Invalid when even their longest possible forms (no
  Not Provider+) do not meet, Unknown when their attested forms (Provider+ only) do not, else Valid.

Before either: the neighbour's AS must be the first AS of the path (§5; a transparent route server
adds none, so not for one), and an eBGP route with an empty path is Invalid.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence

from peerwarden_runner.codec.aspath import AsPath
from peerwarden_runner.codec.constants import AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE, AS_SET

__all__ = [
    "AspaSet",
    "AspaValidity",
    "Hop",
    "SENDER_ROLES",
    "collapse",
    "hop",
    "verify_downstream",
    "verify_path",
    "verify_upstream",
]

AspaSet = Mapping[int, frozenset[int]]  # customer AS -> the providers its ASPA lists


class AspaValidity(enum.StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    INVALID = "invalid"


class Hop(enum.Enum):
    PROVIDER = "provider+"
    NOT_PROVIDER = "not-provider+"
    NO_ATTESTATION = "no-attestation"


# what the sender of a route is to its receiver (RFC 9234 roles): "rs" a route server (transparent:
# its AS is not in the path), "rs-client" a route server's client
SENDER_ROLES = ("customer", "provider", "peer", "rs", "rs-client")


def hop(aspas: AspaSet, customer: int, provider: int) -> Hop:
    providers = aspas.get(customer)
    if providers is None:
        return Hop.NO_ATTESTATION
    return Hop.PROVIDER if provider in providers else Hop.NOT_PROVIDER


def collapse(asns: Iterable[int]) -> tuple[int, ...]:
    """Prepends collapsed: each run of the same AS once."""
    collapsed: list[int] = []
    for asn in asns:
        if not collapsed or collapsed[-1] != asn:
            collapsed.append(asn)
    return tuple(collapsed)


def _ramps(path: Sequence[int], aspas: AspaSet) -> tuple[int, int, int, int]:
    """(max_up_ramp, min_up_ramp, max_down_ramp, min_down_ramp) of a collapsed path, neighbour first
    (§6.2: the longest runs from the origin up, and from the neighbour down, of hops that are not
    Not Provider+ (max) or are Provider+ (min))."""
    max_up, min_up = _ramp(path[::-1], aspas)  # AS(1) .. AS(N) as the draft numbers them
    max_down, min_down = _ramp(path, aspas)  # counted from AS(N): AS(j) must be a provider of AS(j+1)
    return max_up, min_up, max_down, min_down


def _ramp(ases: Sequence[int], aspas: AspaSet) -> tuple[int, int]:
    """(max ramp, min ramp) from ases[0] on: each AS's ASPA must list the next AS (not Not Provider+ for
    the max, Provider+ for the min); `hop` inlined and both in one walk, as a route stage runs this per UPDATE."""
    count, get = len(ases), aspas.get
    longest = attested = 1
    growing = True  # every hop so far Provider+: the min ramp still grows
    while longest < count:
        providers = get(ases[longest - 1])
        if providers is None:
            growing = False
        elif ases[longest] not in providers:
            break
        elif growing:
            attested += 1
        longest += 1
    return longest, attested


def verify_upstream(path: Sequence[int], aspas: AspaSet) -> AspaValidity:
    """§6.1 on a collapsed path without sets, neighbour first."""
    if len(path) <= 1:
        return AspaValidity.VALID
    max_up, min_up = _ramp(path[::-1], aspas)
    if max_up < len(path):
        return AspaValidity.INVALID
    if min_up < len(path):
        return AspaValidity.UNKNOWN
    return AspaValidity.VALID


def verify_downstream(path: Sequence[int], aspas: AspaSet) -> AspaValidity:
    """§6.2 on a collapsed path without sets, neighbour first."""
    count = len(path)
    if count <= 2:
        return AspaValidity.VALID
    max_up, min_up, max_down, min_down = _ramps(path, aspas)
    if max_up + max_down < count:
        return AspaValidity.INVALID
    if min_up + min_down < count:
        return AspaValidity.UNKNOWN
    return AspaValidity.VALID


def verify_path(
    as_path: AsPath | None, aspas: AspaSet, sender_role: str, neighbor_as: int | None
) -> tuple[AspaValidity, str]:
    """(the outcome, why) for a route received over eBGP from a sender that is `sender_role` to us
    (SENDER_ROLES) with AS `neighbor_as` (None: not known, the first-hop check is left out)."""
    if sender_role not in SENDER_ROLES:
        raise ValueError("unknown sender role %r (expected one of %s)" % (sender_role, ", ".join(SENDER_ROLES)))
    segments = as_path.segments if as_path is not None else ()
    if len(segments) == 1 and segments[0][0] == AS_SEQUENCE:  # most paths: one sequence, often without prepends
        members = segments[0][1]
        path = members if len(set(members)) == len(members) else collapse(members)
    else:
        asns: list[int] = []
        for kind, members in segments:
            if kind == AS_SET:
                return AspaValidity.INVALID, "the path has an AS_SET"
            if kind not in (AS_CONFED_SEQUENCE, AS_CONFED_SET):
                asns.extend(members)
        path = collapse(asns)
    if not path:
        return AspaValidity.INVALID, "an empty AS path over eBGP"
    if sender_role != "rs" and neighbor_as is not None and path[0] != neighbor_as:
        return AspaValidity.INVALID, "the path starts with AS%d, not the neighbour AS%d" % (path[0], neighbor_as)
    if sender_role == "provider":
        return verify_downstream(path, aspas), "downstream"
    return verify_upstream(path, aspas), "upstream"

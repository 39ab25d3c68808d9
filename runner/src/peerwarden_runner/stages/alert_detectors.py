"""What the alert stage looks for: hijacks of our own space (per route) and route leaks, first-AS
mismatches and our AS inside a path (per UPDATE: the routes of an UPDATE share their path).

Each detector answers Findings; the stage turns them into alerts (one per route and kind).
"""

from typing import NamedTuple

from peerwarden_runner.codec.constants import AS_SEQUENCE, AS_SET
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER

ROLES = ("peer", "customer", "provider", "rs")
# whom a route must not come from (towards the router) or go to (towards the peer) with a
# transit-free AS after its first hop: RFC 7908 type 1, a provider's or peer's route passed on
LEAK_ROLES = {TO_ROUTER: frozenset(("peer", "rs", "customer")), TO_PEER: frozenset(("peer", "rs", "provider"))}


class Finding(NamedTuple):
    """One thing wrong with a route: its kind, a sentence, and fields for the alert record."""

    kind: str
    detail: str
    fields: dict


def space_findings(found, prefix, origin, less_specifics=True):
    """Hijacks of our space, from what OwnSpace.match `found` for the route's prefix: an origin not
    listed ("origin-hijack", for the prefix itself, a more-specific or, with `less_specifics`, a
    less-specific covering ours) or a more-specific beyond max_length from a listed origin ("more-specific")."""
    if found is None:
        return ()
    where, entries = found
    if where == "inside":
        allowed = [entry for entry in entries if origin in entry.origins]
        if any(prefix.length <= entry.max_length for entry in allowed):
            return ()
        entry = (allowed or entries)[-1]  # the most specific that says something about this route
        relation = "exact" if entry.length == prefix.length else "more-specific"
        fields = {
            "owned": entry.text,
            "relation": relation,
            "expected": sorted(entry.origins),
            "max_length": entry.max_length,
        }
        if allowed:
            return (
                Finding(
                    "more-specific",
                    "%s is longer than /%d, the max_length of our %s" % (prefix, entry.max_length, entry.text),
                    fields,
                ),
            )
        return (
            Finding(
                "origin-hijack",
                "%s (%s of our %s) from AS%s, expected %s"
                % (prefix, relation, entry.text, origin, _as_list(entry.origins)),
                fields,
            ),
        )
    if not less_specifics or any(origin in entry.origins for entry in entries):
        return ()
    entry = entries[0]
    return (
        Finding(
            "origin-hijack",
            "%s covers our %s and comes from AS%s, expected %s" % (prefix, entry.text, origin, _as_list(entry.origins)),
            {
                "owned": entry.text,
                "relation": "less-specific",
                "expected": sorted(entry.origins),
                "max_length": entry.max_length,
            },
        ),
    )


def path_findings(path, origin, direction, role, sender_as, receiver_as, transit_free, own_asns):
    """The UPDATE's path checks: "leak" (a transit-free AS after the first hop, on a session whose
    role says there should be none), "first-as" (the first AS is not the eBGP sender's, except
    from a transparent route server) and "path-manipulation" (our AS in the path, not as origin).
    `sender_as`, `receiver_as`: the ASes of the OPENs of the direction's sender and receiver."""
    if path is None:
        return []
    findings = []
    segments = path.segments
    flat = [asn for kind, asns in segments if kind in (AS_SEQUENCE, AS_SET) for asn in asns]
    ebgp = sender_as is not None and sender_as != receiver_as
    if role and ebgp and not (direction == TO_ROUTER and role == "rs"):
        kind, asns = segments[0] if segments else (None, ())
        first = asns[0] if kind == AS_SEQUENCE and asns else None
        if first != sender_as:
            findings.append(
                Finding(
                    "first-as",
                    "the path starts with AS%s, not with the sender's AS%s" % (first, sender_as),
                    {"first_as": first, "expected": [sender_as]},
                )
            )
    if role in LEAK_ROLES.get(direction, ()) and flat and transit_free:
        via = next((asn for asn in _after_first_hop(flat) if asn in transit_free), None)
        if via is not None:
            towards = "from a %s" % role if direction == TO_ROUTER else "to a %s" % role
            findings.append(
                Finding(
                    "leak",
                    "the path crosses transit-free AS%d after the first hop, %s" % (via, towards),
                    {"via": via, "role": role},
                )
            )
    if own_asns and flat:
        inner = flat
        if sender_as in own_asns:  # our router's own routes start with our AS
            inner = _after_first_hop(inner) if inner[0] == sender_as else inner
        end = len(inner)
        while end and inner[end - 1] == origin:
            end -= 1
        ours = next((asn for asn in inner[:end] if asn in own_asns), None)
        if ours is not None:
            findings.append(
                Finding(
                    "path-manipulation",
                    "our AS%d is in the path, not as its origin (AS%s)" % (ours, origin),
                    {"our_as": ours},
                )
            )
    return findings


def _after_first_hop(flat):
    """The path past its first AS and that AS's prepends."""
    position = 1
    while position < len(flat) and flat[position] == flat[0]:
        position += 1
    return flat[position:]


def _as_list(asns):
    return " or ".join("AS%d" % asn for asn in sorted(asns)) or "none"

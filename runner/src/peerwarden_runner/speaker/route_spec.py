"""A route the speaker is asked to announce (by the API, the configuration or the command line):
every field checked before anything is sent, with an error that names the field, says what is
wrong and what is expected."""

import ipaddress
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from peerwarden_runner.codec import Prefix, Route
from peerwarden_runner.codec.communities import WELL_KNOWN_COMMUNITIES
from peerwarden_runner.codec.json_form import attributes_from_json

FIELDS = ("prefix", "next_hop", "as_path", "origin", "med", "local_pref", "communities", "large_communities")
ORIGINS = ("igp", "egp", "incomplete")
MAX_U32 = 0xFFFFFFFF
MAX_AS_PATH = 64
MAX_COMMUNITIES = 256
_COMMUNITY = re.compile(r"^(\d{1,5}):(\d{1,5})$")
_LARGE_COMMUNITY = re.compile(r"^(\d{1,10}):(\d{1,10}):(\d{1,10})$")


class RouteError(ValueError):
    """One field of one route is wrong: str() is "field: what is wrong (expected ...)"."""

    def __init__(self, field, message):
        super().__init__("%s: %s" % (field, message))
        self.field, self.message = field, message


@dataclass(frozen=True)
class RouteSpec:
    """A checked route: `prefix` and `next_hop` as canonical text, the rest as given (or defaults)."""

    prefix: str
    next_hop: str
    as_path: tuple = ()
    origin: str = "igp"
    med: int | None = None
    local_pref: int | None = None
    communities: tuple = ()
    large_communities: tuple = ()

    @property
    def version(self):
        return 6 if ":" in self.prefix else 4

    def to_json(self):
        """The same shape the API takes, so what GET /routes/announced shows can be POSTed back."""
        record = {
            "prefix": self.prefix,
            "next_hop": self.next_hop,
            "as_path": list(self.as_path),
            "origin": self.origin,
        }
        for name in ("med", "local_pref"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        for name in ("communities", "large_communities"):
            if getattr(self, name):
                record[name] = list(getattr(self, name))
        return record

    def route(self, ctx, local_asn, ebgp):
        """The codec Route to encode for a session: our AS first on eBGP (RFC 4271 §5.1.2), LOCAL_PREF
        on iBGP only (§5.1.5, 100 unless given)."""
        path = ([local_asn] if ebgp else []) + list(self.as_path)
        attributes: dict[str, Any] = {"origin": self.origin, "as_path": [["sequence", path]] if path else []}
        if self.version == 4:
            attributes["next_hop"] = self.next_hop
        if self.med is not None:
            attributes["med"] = self.med
        if not ebgp:
            attributes["local_pref"] = 100 if self.local_pref is None else self.local_pref
        if self.communities:
            attributes["communities"] = list(self.communities)
        if self.large_communities:
            attributes["large_communities"] = list(self.large_communities)
        built = attributes_from_json(attributes, ctx)
        return Route(
            Prefix.parse(self.prefix),
            ipaddress.ip_address(self.next_hop),
            MappingProxyType({attribute.code: attribute for attribute in built}),
        )


def parse_route(item, where="route", local=None, ebgp=False):
    """A RouteSpec from the API's JSON object (or a bare prefix string, from the command line and the
    configuration). `local` is our session address, the default next hop; `ebgp` refuses local_pref."""
    if isinstance(item, str):
        item = {"prefix": item}
    if not isinstance(item, dict):
        raise RouteError(where, 'expected an object like {"prefix": "192.0.2.0/24"}, got %s' % _kind(item))
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise RouteError("%s.%s" % (where, unknown[0]), "unknown key (expected one of %s)" % ", ".join(FIELDS))
    if "prefix" not in item:
        raise RouteError(where + ".prefix", "missing (expected a prefix like 192.0.2.0/24 or 2001:db8::/48)")
    network = _network(item["prefix"], where + ".prefix")
    fields = {"prefix": str(network), "next_hop": _next_hop(item.get("next_hop"), network, local, where + ".next_hop")}
    if "as_path" in item:
        fields["as_path"] = _as_path(item["as_path"], where + ".as_path")
    if "origin" in item:
        if item["origin"] not in ORIGINS:
            raise RouteError(
                where + ".origin", "%r is not an origin (expected one of %s)" % (item["origin"], ", ".join(ORIGINS))
            )
        fields["origin"] = item["origin"]
    for name in ("med", "local_pref"):
        if item.get(name) is not None:
            fields[name] = _u32(item[name], "%s.%s" % (where, name))
    if ebgp and "local_pref" in fields:
        raise RouteError(
            where + ".local_pref",
            "LOCAL_PREF is not sent to an external peer (RFC 4271 §5.1.5); "
            "expected no local_pref on this eBGP session (use med)",
        )
    if "communities" in item:
        fields["communities"] = tuple(
            _community(text, "%s.communities[%d]" % (where, index))
            for index, text in enumerate(_list(item["communities"], where + ".communities"))
        )
    if "large_communities" in item:
        key = where + ".large_communities"
        fields["large_communities"] = tuple(
            _large_community(text, "%s[%d]" % (key, index))
            for index, text in enumerate(_list(item["large_communities"], key))
        )
    return RouteSpec(**fields)


def parse_prefix(text, where="prefix"):
    """The canonical text of a prefix given to withdraw, checked like an announced one."""
    return str(_network(text, where))


def _kind(value):
    return "null" if value is None else type(value).__name__


def _network(text, field):
    if not isinstance(text, str):
        raise RouteError(field, "expected a string like 192.0.2.0/24, got %s" % _kind(text))
    address, slash, length = text.partition("/")
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        raise RouteError(
            field, "%r is not an IPv4 or IPv6 address (expected e.g. 192.0.2.0/24 or 2001:db8::/48)" % address
        ) from None
    bits = 32 if version == 4 else 128
    if not slash or not length.isdigit() or not 0 <= int(length) <= bits:
        raise RouteError(field, "%r has no valid prefix length (expected /0 to /%d for IPv%d)" % (text, bits, version))
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        network = ipaddress.ip_network(text, strict=False)
        raise RouteError(field, "%s has host bits set (expected the network address: %s)" % (text, network)) from None


def _next_hop(text, network, local, field):
    if text is None:
        if local is None:
            raise RouteError(field, "missing (expected the next hop address)")
        local = ipaddress.ip_address(local)
        if local.version == network.version:
            return str(local)
        if network.version == 6:
            return str(ipaddress.IPv6Address("::ffff:" + str(local)))  # an IPv4-mapped next hop (RFC 4291 §2.5.5.2)
        raise RouteError(
            field, "an IPv4 prefix on a session over IPv6 has no default next hop (expected an IPv4 next_hop)"
        )
    if not isinstance(text, str):
        raise RouteError(field, "expected an address string, got %s" % _kind(text))
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise RouteError(
            field, "%r is not an IP address (expected an IPv%d address)" % (text, network.version)
        ) from None
    if address.version != network.version:
        raise RouteError(
            field,
            "%s is IPv%d but the prefix %s is IPv%d (expected an IPv%d next hop)"
            % (text, address.version, network, network.version, network.version),
        )
    if address.is_unspecified or address.is_multicast:
        raise RouteError(field, "%s cannot be a next hop (expected a unicast address)" % text)
    return str(address)


def _list(value, field):
    if not isinstance(value, list):
        raise RouteError(field, "expected a list, got %s" % _kind(value))
    if len(value) > MAX_COMMUNITIES:
        raise RouteError(field, "%d entries (expected at most %d)" % (len(value), MAX_COMMUNITIES))
    return value


def _u32(value, field, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_U32:
        raise RouteError(field, "%r is not an integer from %d to %d" % (value, low, MAX_U32))
    return value


def _as_path(value, field):
    if not isinstance(value, list):
        raise RouteError(field, "expected a list of AS numbers like [64500, 64501], got %s" % _kind(value))
    if len(value) > MAX_AS_PATH:
        raise RouteError(field, "%d AS numbers (expected at most %d)" % (len(value), MAX_AS_PATH))
    # AS 0 never appears in a path (RFC 7607)
    return tuple(_u32(asn, "%s[%d]" % (field, index), low=1) for index, asn in enumerate(value))


def _community(text, field):
    if isinstance(text, str) and text.lower() in WELL_KNOWN_COMMUNITIES:
        return text.lower()
    match = _COMMUNITY.match(text) if isinstance(text, str) else None
    if not match or not all(int(part) <= 0xFFFF for part in match.groups()):
        raise RouteError(
            field,
            '%r is not a community (expected "ASN:VALUE", both 0-65535, like "65000:1", or '
            "one of %s)" % (text, ", ".join(WELL_KNOWN_COMMUNITIES)),
        )
    return "%d:%d" % tuple(int(part) for part in match.groups())


def _large_community(text, field):
    match = _LARGE_COMMUNITY.match(text) if isinstance(text, str) else None
    if not match or not all(int(part) <= MAX_U32 for part in match.groups()):
        raise RouteError(
            field,
            '%r is not a large community (expected "GLOBAL:LOCAL1:LOCAL2", each 0-4294967295, '
            'like "65000:1:2")' % (text,),
        )
    return "%d:%d:%d" % tuple(int(part) for part in match.groups())

"""AS_PATH and AS4_PATH (RFC 4271 §4.3/§5.1.2, RFC 5065 §3, RFC 6793 §4.2.3) and the origin AS.

Parsing returns segments as tuples of ints.  Whether an AS number is 2 or 4 octets is not in the
attribute but in the session (`ctx.four_octet_as`), and AS4_PATH is always 4 octets.
"""

import struct
from collections.abc import Iterable
from typing import NamedTuple

from peerwarden_runner.codec.constants import (
    AS_CONFED_SEQUENCE,
    AS_CONFED_SET,
    AS_SEQUENCE,
    AS_SET,
    AS_TRANS,
    SEGMENT_NAMES,
    Octets,
)

__all__ = ["AsPathSegment", "AsPath", "AsPathError", "decode_as_path", "encode_as_path", "merge_as4_path"]

_CONFED = (AS_CONFED_SEQUENCE, AS_CONFED_SET)
_SEGMENT_BY_NAME = {name: kind for kind, name in SEGMENT_NAMES.items()}
# one Struct per (width, count) would be a cache; struct's own format cache does that job
_FORMAT = {2: ">%dH", 4: ">%dI"}


class AsPathError(ValueError):
    """An AS_PATH that RFC 7606 §7.2 (or RFC 6793 §6 for AS4_PATH) calls malformed."""


class AsPathSegment(NamedTuple):
    """One path segment: its type (AS_SET=1, AS_SEQUENCE=2, AS_CONFED_SEQUENCE=3, AS_CONFED_SET=4)."""

    kind: int
    asns: tuple[int, ...]

    @property
    def name(self) -> str:
        return SEGMENT_NAMES.get(self.kind, str(self.kind))


class AsPath(NamedTuple):
    """A parsed AS path: a tuple of segments, in wire order (the neighbor's AS first)."""

    segments: tuple[AsPathSegment, ...] = ()

    @classmethod
    def sequence(cls, *asns: int) -> "AsPath":
        """The common case: one AS_SEQUENCE."""
        return cls((AsPathSegment(AS_SEQUENCE, tuple(asns)),)) if asns else cls(())

    @classmethod
    def from_list(cls, items: Iterable[tuple[str | int, Iterable[int | str]]]) -> "AsPath":
        """From the JSON form: [["sequence", [64500, 64501]], ["set", [1, 2]], ...]."""
        segments = []
        for name, asns in items:
            kind = _SEGMENT_BY_NAME[name] if isinstance(name, str) else int(name)
            segments.append(AsPathSegment(kind, tuple(int(asn) for asn in asns)))
        return cls(tuple(segments))

    def to_list(self) -> list[list[object]]:
        return [[segment.name, list(segment.asns)] for segment in self.segments]

    @property
    def length(self) -> int:
        """Path length for route selection: a set counts 1, confederation segments 0 (RFC 4271 §9.1.2.2,
        RFC 5065 §5.3)."""
        total = 0
        for kind, asns in self.segments:
            if kind == AS_SEQUENCE:
                total += len(asns)
            elif kind == AS_SET:
                total += 1
        return total

    def asns(self) -> list[int]:
        """Every AS number in order, segments flattened (for loop checks and filters)."""
        return [asn for dummy, asns in self.segments for asn in asns]

    def origin_as(self, local_as: int | None = None) -> int | None:
        """The route's origin AS as RFC 6811 §2 defines it, for route origin validation.

        The rightmost AS of a final AS_SEQUENCE; None ("NONE") when the path ends with an AS_SET;
        `local_as` when the path is empty or ends with a confederation segment (a route from
        inside our own AS or confederation).
        """
        if not self.segments:
            return local_as
        kind, asns = self.segments[-1]
        if kind == AS_SEQUENCE:
            return asns[-1]
        if kind == AS_SET:
            return None
        return local_as

    def __str__(self) -> str:
        parts = []
        for kind, asns in self.segments:
            text = " ".join(str(asn) for asn in asns)
            if kind == AS_SEQUENCE:
                parts.append(text)
            elif kind == AS_SET:
                parts.append("{%s}" % text)
            elif kind == AS_CONFED_SEQUENCE:
                parts.append("(%s)" % text)
            else:
                parts.append("[%s]" % text)
        return " ".join(parts)


def decode_as_path(data: Octets, width: int) -> AsPath:
    """Parse AS_PATH (width 2 or 4 octets per AS) into an AsPath, or raise AsPathError.

    RFC 7606 §7.2: malformed on an unknown segment type, a segment overrunning the attribute, a
    single trailing octet, or a segment with length zero.
    """
    segments: list[AsPathSegment] = []
    position = 0
    end = len(data)
    number_format = _FORMAT[width]
    while position < end:
        if position + 2 > end:
            raise AsPathError("one octet left after the last segment at offset %d" % position)
        kind = data[position]
        count = data[position + 1]
        if kind not in SEGMENT_NAMES:
            raise AsPathError("unknown segment type %d at offset %d" % (kind, position))
        if count == 0:
            raise AsPathError("segment of length zero at offset %d" % position)
        start = position + 2
        position = start + count * width
        if position > end:
            raise AsPathError(
                "segment of %d AS numbers at offset %d overruns the attribute (%d octets)" % (count, start - 2, end)
            )
        segments.append(AsPathSegment(kind, struct.unpack_from(number_format % count, data, start)))
    return AsPath(tuple(segments))


def decode_as4_path(data: Octets) -> AsPath:
    """Parse AS4_PATH; RFC 6793 §6 adds "length not a multiple of two or less than 6" to the AS_PATH rules."""
    if len(data) < 6 or len(data) % 2:
        raise AsPathError("AS4_PATH length %d is not an even number of at least 6" % len(data))
    return decode_as_path(data, 4)


def encode_as_path(path: AsPath, width: int) -> bytes:
    """Wire form of an AsPath; a segment longer than 255 AS numbers is split (RFC 4271 §4.3 limit).

    With width 2, AS numbers above 65535 become AS_TRANS (RFC 6793 §4.2.2); the caller adds
    AS4_PATH when it matters.
    """
    parts = []
    number_format = _FORMAT[width]
    for kind, segment_asns in path.segments:
        asns = segment_asns if width != 2 else tuple([asn if asn <= 0xFFFF else AS_TRANS for asn in segment_asns])
        for start in range(0, len(asns), 255):
            chunk = asns[start : start + 255]
            parts.append(bytes((kind, len(chunk))) + struct.pack(number_format % len(chunk), *chunk))
    return b"".join(parts)


def merge_as4_path(as_path: AsPath, as4_path: AsPath) -> AsPath:
    """The AS path of a route learned from a 2-octet speaker, per RFC 6793 §4.2.3.

    If AS_PATH has fewer AS numbers than AS4_PATH, AS4_PATH is ignored.  Otherwise the leading
    AS numbers of AS_PATH (as many as it has more than AS4_PATH) are put in front of AS4_PATH;
    confederation segments are not counted and are never in AS4_PATH (RFC 6793 §6), so those
    leading AS_PATH keeps are carried over as they are.
    """
    as4_segments = tuple(segment for segment in as4_path.segments if segment.kind not in _CONFED)
    as4 = AsPath(as4_segments)
    surplus = as_path.length - as4.length
    if surplus < 0:
        return as_path
    leading = []
    for segment in as_path.segments:
        kind, asns = segment
        if kind in _CONFED:
            # leading, or adjacent to a segment taken: either way it is taken (RFC 6793 §4.2.3)
            leading.append(segment)
            continue
        if surplus <= 0:
            break
        if kind == AS_SET:
            leading.append(segment)
            surplus -= 1
        elif len(asns) <= surplus:
            leading.append(segment)
            surplus -= len(asns)
        else:
            leading.append(AsPathSegment(kind, asns[:surplus]))
            surplus = 0
    if leading and as4_segments and leading[-1].kind == AS_SEQUENCE and as4_segments[0].kind == AS_SEQUENCE:
        # a sequence cut in two by the merge is one sequence again
        joined = AsPathSegment(AS_SEQUENCE, leading[-1].asns + as4_segments[0].asns)
        return AsPath(tuple(leading[:-1]) + (joined,) + as4_segments[1:])
    return AsPath(tuple(leading) + as4_segments)

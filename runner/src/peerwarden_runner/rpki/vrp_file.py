"""Reading VRPs from the JSON that rpki-client, StayRTR and Routinator write.

    {"metadata": {...}, "roas": [{"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS65001",
                                  "ta": "ripe", "expires": 1700000000}, ...]}

"asn" may be a number or "AS65001" (rpki-client writes the latter, some tools the former);
a missing "maxLength" means the prefix length (RFC 6482 §3.3); an entry whose "expires" lies in
the past is skipped (its ROA is no longer valid: rpki-client keeps it in the file until the next
run). Other keys are ignored. Errors name the file, the entry index and the field, because an
operator has to find one bad line among 800,000.
"""

import json
import os
import time
from dataclasses import dataclass
from typing import Union

from peerwarden_runner.rpki.prefix import parse_prefix
from peerwarden_runner.rpki.vrp import MAX_ASN, Vrp

PathLike = Union[str, "os.PathLike[str]"]


class VrpFileError(ValueError):
    """A VRP file that cannot be used: says where (file, entry index, field) and what is wrong."""

    def __init__(
        self, source: str, message: str, index: int | None = None, field: str | None = None, entries: str = "roas"
    ):
        self.source = source
        self.index = index
        self.field = field
        self.reason = message
        where = source
        if index is not None:
            where += ": %s[%d]" % (entries, index)
            if field is not None:
                where += ".%s" % field
        super().__init__("%s: %s" % (where, message))


@dataclass(frozen=True)
class VrpFileContents:
    """The VRPs of one file, and what was left out (for logs and metrics)."""

    vrps: frozenset[Vrp]
    entries: int
    expired: int
    duplicates: int


def parse_asn(value: object) -> int:
    """65001, "AS65001", "as65001" or "65001" -> 65001; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError('must be a number or "AS<number>", not %r' % (value,))
    if isinstance(value, int):
        asn = value
    elif isinstance(value, str):
        digits = value[2:] if value[:2].upper() == "AS" else value
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError('%r is not an AS number (like 65001 or "AS65001")' % (value,))
        asn = int(digits)
    else:
        raise ValueError('must be a number or "AS<number>", not %s' % type(value).__name__)
    if not 0 <= asn <= MAX_ASN:
        raise ValueError("%d is outside 0..%d" % (asn, MAX_ASN))
    return asn


def parse_vrp_document(document: object, source: str = "<vrps>", now: float | None = None) -> VrpFileContents:
    """Check and convert an already decoded JSON document (see the module doc for the format)."""
    if not isinstance(document, dict):
        raise VrpFileError(
            source, 'the top level must be a JSON object with a "roas" list, not %s' % (type(document).__name__)
        )
    roas = document.get("roas")
    if roas is None:
        raise VrpFileError(source, 'no "roas" list (keys found: %s)' % (", ".join(sorted(document)) or "none"))
    if not isinstance(roas, list):
        raise VrpFileError(source, '"roas" must be a list, not %s' % type(roas).__name__)
    current_time = time.time() if now is None else now
    vrps = set()
    expired = 0
    for index, entry in enumerate(roas):
        vrp = _parse_entry(entry, source, index, current_time)
        if vrp is None:
            expired += 1
        else:
            vrps.add(vrp)
    return VrpFileContents(frozenset(vrps), len(roas), expired, len(roas) - expired - len(vrps))


def _parse_entry(entry: object, source: str, index: int, now: float) -> Vrp | None:
    """One "roas" entry -> Vrp, or None when it has expired."""
    if not isinstance(entry, dict):
        raise VrpFileError(source, "must be an object, not %s" % type(entry).__name__, index)
    prefix_text = entry.get("prefix")
    if prefix_text is None:
        raise VrpFileError(source, "missing", index, "prefix")
    try:
        prefix = parse_prefix(prefix_text)
    except ValueError as error:
        raise VrpFileError(source, str(error), index, "prefix") from None
    if "asn" not in entry:
        raise VrpFileError(source, "missing", index, "asn")
    try:
        asn = parse_asn(entry["asn"])
    except ValueError as error:
        raise VrpFileError(source, str(error), index, "asn") from None
    max_length = entry.get("maxLength", prefix.length)
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise VrpFileError(source, "must be an integer, not %r" % (max_length,), index, "maxLength")
    if not prefix.length <= max_length <= prefix.max_bits:
        raise VrpFileError(
            source,
            "%d is outside %d..%d (the prefix length .. %d)"
            % (max_length, prefix.length, prefix.max_bits, prefix.max_bits),
            index,
            "maxLength",
        )
    if expired(entry, source, index, now):
        return None
    return Vrp(prefix.version, prefix.network, prefix.length, max_length, asn)


def expired(entry: dict[str, object], source: str, index: int, now: float, entries: str = "roas") -> bool:
    """Whether an entry's "expires" (seconds since the epoch, optional) lies before `now`."""
    expires = entry.get("expires")
    if expires is None:
        return False
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise VrpFileError(
            source, "must be a number (seconds since the epoch), not %r" % (expires,), index, "expires", entries
        )
    return expires < now


def parse_vrp_json(text: str | bytes, source: str = "<vrps>", now: float | None = None) -> VrpFileContents:
    """Parse VRP JSON text; JSON syntax errors say line and column."""
    return parse_vrp_document(decode_json(text, source), source, now)


def decode_json(text: str | bytes, source: str) -> object:
    """JSON text -> the document; syntax errors say line and column (VrpFileError)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise VrpFileError(
            source, "not valid JSON: %s at line %d column %d" % (error.msg, error.lineno, error.colno)
        ) from None
    except UnicodeDecodeError as error:
        raise VrpFileError(source, "not UTF-8 text: %s" % error) from None
    return document


def read_bytes(path: PathLike) -> tuple[str, bytes]:
    """(the path as text, the file's octets); VrpFileError when it cannot be read."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as vrp_file:
            return source, vrp_file.read()
    except OSError as error:
        raise VrpFileError(source, "cannot read: %s" % (error.strerror or error)) from None


def load_vrp_file(path: PathLike, now: float | None = None) -> VrpFileContents:
    """Read and parse a VRP JSON file (blocking: from asyncio, run it in a thread)."""
    source, text = read_bytes(path)
    return parse_vrp_json(text, source, now)

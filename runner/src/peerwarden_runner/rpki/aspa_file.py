"""Reading ASPAs from the JSON rpki-client writes (output-json.c), next to its "roas":

    {"metadata": {...}, "roas": [...],
     "aspas": [{"customer_asid": 64496, "expires": 1700000000, "providers": [64497, 64498]}, ...]}

ASes may be numbers or "AS64496" (Routinator writes "customer": "AS64496" and string providers; that
spelling is read too). An entry whose "expires" lies in the past is skipped, like an expired VRP.
Two entries for one customer are merged (their providers together). A customer listed as its own
provider, a missing field or a value that is not an AS refuses the whole file, naming the file, the
entry and the field (rpki/vrp_file.py does the same for VRPs): a half-read ASPA set would make
routes Unknown or Invalid that are not.
"""

import time
from dataclasses import dataclass

from peerwarden_runner.rpki.vrp_file import PathLike, VrpFileError, decode_json, expired, parse_asn, read_bytes

ENTRIES = "aspas"


@dataclass(frozen=True)
class AspaFileContents:
    """customer AS -> its providers, and what was left out (for logs)."""

    aspas: dict[int, frozenset[int]]
    entries: int
    expired: int


def _error(source: str, message: str, index: int | None = None, field: str | None = None) -> VrpFileError:
    return VrpFileError(source, message, index, field, ENTRIES)


def parse_aspa_document(document: object, source: str = "<aspas>", now: float | None = None) -> AspaFileContents:
    if not isinstance(document, dict):
        raise _error(
            source, 'the top level must be a JSON object with an "aspas" list, not %s' % type(document).__name__
        )
    entries = document.get(ENTRIES)
    if entries is None:
        raise _error(
            source,
            'no "aspas" list (keys found: %s; rpki-client leaves it out when run with -A)'
            % (", ".join(sorted(document)) or "none"),
        )
    if not isinstance(entries, list):
        raise _error(source, '"aspas" must be a list, not %s' % type(entries).__name__)
    current_time = time.time() if now is None else now
    aspas: dict[int, frozenset[int]] = {}
    skipped = 0
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _error(source, "must be an object, not %s" % type(entry).__name__, index)
        field = "customer_asid" if "customer_asid" in entry or "customer" not in entry else "customer"
        if field not in entry:
            raise _error(source, "missing", index, field)
        try:
            customer = parse_asn(entry[field])
        except ValueError as error:
            raise _error(source, str(error), index, field) from None
        providers = entry.get("providers")
        if not isinstance(providers, list):
            raise _error(source, "missing" if providers is None else "must be a list of AS numbers", index, "providers")
        listed = set()
        for position, value in enumerate(providers):
            try:
                listed.add(parse_asn(value))
            except ValueError as error:
                raise _error(source, str(error), index, "providers[%d]" % position) from None
        if customer in listed:
            raise _error(source, "AS%d lists itself as its own provider" % customer, index, "providers")
        if expired(entry, source, index, current_time, ENTRIES):
            skipped += 1
            continue
        aspas[customer] = aspas.get(customer, frozenset()) | listed
    return AspaFileContents(aspas, len(entries), skipped)


def load_aspa_file(path: PathLike, now: float | None = None) -> AspaFileContents:
    """Read and parse an ASPA JSON file (blocking: from asyncio, run it in a thread)."""
    source, text = read_bytes(path)
    return parse_aspa_document(decode_json(text, source), source, now)

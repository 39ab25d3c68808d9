"""An archive file as a source of records (MRT or JSON lines, told apart by the first octet), and
the scan that runs before a replay starts: who sent routes in the file, how many, and what was
not understood, so that the sender to replay is chosen (or refused) before any session opens."""

import dataclasses
from collections import Counter

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.json_read import read_json_lines
from peerwarden_runner.replay.mrt_read import read_mrt
from peerwarden_runner.replay.opener import open_archive
from peerwarden_runner.replay.records import MessageRecord, RibRecord

END_OF_RIB_MAX = 30  # octets: an End-of-RIB marker is 23 (IPv4) or 30 (MP_UNREACH_NLRI) long


class ReplayError(ValueError):
    """The file cannot be replayed as asked (no routes, several senders and none chosen, ...)."""


def file_format(path):
    """ "json" when the decompressed file starts with "{" (after blanks), else "mrt"."""
    with open_archive(path) as handle:
        try:
            head = handle.read(64).lstrip()
        except (EOFError, OSError):
            return "mrt"  # the reader reports the damage
    return "json" if head.startswith(b"{") else "mrt"


def records(path, findings: Findings, kind=None):
    """Every record of the file, in file order (the file is closed at the end)."""
    reader = read_json_lines if (kind or file_format(path)) == "json" else read_mrt
    with open_archive(path) as handle:
        yield from reader(handle, findings)


def carries_routes(record):
    """True for a RIB entry and an UPDATE that is not an End-of-RIB marker."""
    if isinstance(record, RibRecord):
        return True
    if not isinstance(record, MessageRecord) or record.message[18] != c.UPDATE:
        return False
    return len(record.message) > END_OF_RIB_MAX or decode_update(record.message, record.ctx).end_of_rib() is None


@dataclasses.dataclass
class Scan:
    path: str
    format: str
    senders: Counter  # sender -> UPDATEs (or RIB entries) with routes
    records: int
    findings: Findings
    first: float | None = None
    last: float | None = None

    def choose(self, wanted=None):
        """The sender to replay: `wanted` when it sent routes, the only sender when there is one."""
        listed = ", ".join("%s (%d)" % item for item in self.senders.most_common(10))
        if wanted is not None:
            if wanted not in self.senders:
                raise ReplayError(
                    "%s: no routes from %s (senders with routes: %s)" % (self.path, wanted, listed or "none")
                )
            return wanted
        if not self.senders:
            raise ReplayError("%s: no UPDATE or RIB entry with routes in %d record(s)" % (self.path, self.records))
        if len(self.senders) > 1:
            raise ReplayError(
                "%s: routes from %d senders: %s%s; choose one (--replay-from, or from: under replay:)"
                % (self.path, len(self.senders), listed, " ..." if len(self.senders) > 10 else "")
            )
        return next(iter(self.senders))


def scan(path):
    """A Scan of the whole file (OSError when it cannot be opened)."""
    findings = Findings()
    kind = file_format(path)
    senders: Counter[str] = Counter()
    count, first, last = 0, None, None
    for record in records(path, findings, kind):
        count += 1
        if first is None:
            first = record.time
        last = record.time
        if carries_routes(record):
            senders[record.sender] += 1
    return Scan(path, kind, senders, count, findings, first, last)

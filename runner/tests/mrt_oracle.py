"""What bgpdump -m prints and what the replay readers read, in one comparable form: one tuple per
route or state change (kind, sender, sender AS, prefix, path id, AS path, origin). Next hops are
left out: bgpdump prints the IPv4 NEXT_HOP of IPv6 RIB entries where the files have one. Two of
bgpdump's habits are taken into account: a route without ORIGIN is printed INCOMPLETE, and its IPv6
text may compress a single zero group (RFC 5952 says not to), so addresses go through ipaddress."""

import ipaddress
import shutil
import subprocess

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update
from peerwarden_runner.codec.update import decode_section
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.records import MessageRecord, RibRecord, StateRecord
from peerwarden_runner.replay.source import records
from peerwarden_runner.replay.updates import RIB_CONTEXT

HAVE_BGPDUMP = shutil.which("bgpdump") is not None
ORIGINS = {0: "IGP", 1: "EGP", 2: "INCOMPLETE"}


def bgpdump_lines(path):
    output = subprocess.run(
        ["bgpdump", "-q", "-m", str(path)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    lines = []
    for line in output.splitlines():
        fields = line.split("|")
        kind, event, rest = fields[0], fields[2], fields[3:]
        rest[0] = str(ipaddress.ip_address(rest[0]))
        if event == "STATE":
            lines.append(("STATE", rest[0], int(rest[1]), rest[2], rest[3]))
            continue
        path_id = None
        if kind.endswith("_AP"):
            path_id = int(rest.pop(3))
        if event == "W":
            lines.append(("W", rest[0], int(rest[1]), rest[2], path_id, "", ""))
        else:
            lines.append((event, rest[0], int(rest[1]), rest[2], path_id, rest[3], rest[4]))
    return lines


def path_text(path):
    if path is None:
        return ""
    parts = []
    for segment in path.segments:
        text = " ".join(str(asn) for asn in segment.asns)
        parts.append(text if segment.kind == c.AS_SEQUENCE else "{%s}" % text.replace(" ", ","))
    return " ".join(parts)


def our_lines(path, findings=None):
    """The readers' records in bgpdump's terms."""
    findings = findings if findings is not None else Findings()
    lines = []
    for record in records(path, findings):
        if isinstance(record, StateRecord):
            lines.append(("STATE", record.sender, record.sender_as, str(record.old), str(record.new)))
        elif isinstance(record, RibRecord):
            attributes = decode_section(record.attributes, RIB_CONTEXT)
            origin = ORIGINS[attributes[c.ORIGIN].value] if c.ORIGIN in attributes else "INCOMPLETE"
            as_path = path_text(attributes[c.AS_PATH].value) if c.AS_PATH in attributes else ""
            prefix = record.prefix
            lines.append(("B", record.sender, record.sender_as, str(prefix.network), prefix.path_id, as_path, origin))
        elif isinstance(record, MessageRecord) and record.message[18] == c.UPDATE:
            update = decode_update(record.message, record.ctx)
            sender = (record.sender, record.sender_as)
            for prefix in update.withdrawals():
                lines.append(("W", *sender, str(prefix.network), prefix.path_id, "", ""))
            as_path = path_text(update.full_as_path())
            origin = ORIGINS.get(update.get(c.ORIGIN), "INCOMPLETE")
            for route in update.routes():
                prefix = route.prefix
                lines.append(("A", *sender, str(prefix.network), prefix.path_id, as_path, origin))
    return lines

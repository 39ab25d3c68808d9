# Written by the peerwarden.bgp.rtr_cache role: changes made here are overwritten.
"""Checks for the RTR cache (StayRTR), standard library only.

  rtr_cache_check.py vrps FILE [--min-vrps N] [--max-age SECONDS]
      Read a VRP JSON file (StayRTR's or rpki-client's -j format) the way StayRTR would serve it and
      refuse it, with where it is wrong, if StayRTR would skip or refuse any of it: a file that is not
      JSON, no "roas" list, a prefix, maxLength or asn that is not one (StayRTR logs and drops such an
      entry and serves the rest), fewer than N VRPs, a missing or older buildtime (with --max-age).

  rtr_cache_check.py rtr ADDRESS:PORT [--min-vrps N] [--wait SECONDS] [--timeout SECONDS]
      Ask the cache for its VRPs as a router does (RTR version 1, RFC 8210: a Reset Query, then
      prefix PDUs until End of Data) and count them; retry until --wait has passed.

Exit 0 with one line on stdout when all is well, 1 with the reasons on stderr otherwise, 2 on bad usage.
"""
import argparse
import datetime
import ipaddress
import json
import socket
import struct
import sys
import time

MAX_ERRORS = 10
RESET_QUERY, CACHE_RESPONSE, IPV4_PREFIX, IPV6_PREFIX, END_OF_DATA, CACHE_RESET, ERROR_REPORT = 2, 3, 4, 6, 7, 8, 10
ERROR_CODES = {0: "Corrupt Data", 1: "Internal Error", 2: "No Data Available", 3: "Invalid Request",
               4: "Unsupported Protocol Version", 5: "Unsupported PDU Type", 6: "Withdrawal of Unknown Record",
               7: "Duplicate Announcement Received", 8: "Unexpected Protocol Version"}


class Refused(Exception):
    """The check failed; the message says why."""


def parse_asn(value):
    """An AS number from 65001 or "AS65001" (as StayRTR reads them), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value[:2].upper() == "AS" and value[2:].isdigit():
        number = int(value[2:])
    else:
        return None
    return number if 0 <= number < 2 ** 32 else None


def roa_errors(index, roa):
    """What is wrong with one entry of "roas", as 'roas[i].field: message' lines."""
    where = "roas[%d]" % index
    if not isinstance(roa, dict):
        return ["%s: %r is not an object with prefix, maxLength and asn" % (where, roa)]
    errors, network = [], None
    prefix = roa.get("prefix")
    if not isinstance(prefix, str) or "/" not in prefix:
        errors.append("%s.prefix: %r is not a prefix (like 203.0.113.0/24)" % (where, prefix))
    else:
        try:
            network = ipaddress.ip_network(prefix, strict=True)
        except ValueError as error:
            errors.append("%s.prefix: %r is not a prefix: %s" % (where, prefix, error))
    length = roa.get("maxLength")
    if isinstance(length, bool) or not isinstance(length, int):
        errors.append("%s.maxLength: %r is not a number" % (where, length))
    elif network is not None and not network.prefixlen <= length <= network.max_prefixlen:
        errors.append("%s.maxLength: %d is not between the prefix length %d and %d"
                      % (where, length, network.prefixlen, network.max_prefixlen))
    elif network is not None and network.prefixlen == 0:
        errors.append("%s.prefix: %s has length 0 (StayRTR drops it)" % (where, prefix))
    if parse_asn(roa.get("asn")) is None:
        errors.append("%s.asn: %r is not an AS number (like 65001 or \"AS65001\")" % (where, roa.get("asn")))
    return errors


def buildtime(document):
    """The file's build time (rpki-client's metadata.generated or metadata.buildtime), or None."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return None
    if isinstance(metadata.get("generated"), int):
        return datetime.datetime.fromtimestamp(metadata["generated"], datetime.timezone.utc)
    try:
        return datetime.datetime.strptime(metadata.get("buildtime", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def check_vrps(path, min_vrps, max_age):
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, UnicodeDecodeError) as error:
        raise Refused("%s: cannot be read: %s" % (path, error)) from None
    except ValueError as error:
        raise Refused("%s: not JSON: %s" % (path, error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("roas"), list):
        raise Refused('%s: no "roas" list (expected {"roas": [{"prefix": ..., "maxLength": ..., "asn": ...}]})'
                      % path)
    errors = []
    for index, roa in enumerate(document["roas"]):
        errors += roa_errors(index, roa)
    if errors:
        shown = ["%s: %s" % (path, error) for error in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            shown.append("%s: and %d more" % (path, len(errors) - MAX_ERRORS))
        raise Refused("\n".join(shown))
    count = len(document["roas"])
    if count < min_vrps:
        raise Refused("%s: %d VRP(s), fewer than the %d required" % (path, count, min_vrps))
    if max_age is not None:
        built = buildtime(document)
        if built is None:
            raise Refused("%s: no metadata.buildtime (StayRTR with -checktime refuses the file)" % path)
        age = (datetime.datetime.now(datetime.timezone.utc) - built).total_seconds()
        if age > max_age:
            raise Refused("%s: built %s, %d s ago, older than %d s (StayRTR with -checktime refuses it)"
                          % (path, built.strftime("%Y-%m-%dT%H:%M:%SZ"), age, max_age))
    ipv6 = sum(1 for roa in document["roas"] if ":" in roa["prefix"])
    return "%s: ok (%d VRPs: %d IPv4, %d IPv6)" % (path, count, count - ipv6, ipv6)


def split_address(text):
    """(host, port) from ADDRESS:PORT or [IPV6]:PORT; a wildcard is asked on loopback."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not host:
        raise Refused("%s is not ADDRESS:PORT" % text)
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), int(port)


def read_exactly(connection, size):
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise Refused("the cache closed the connection")
        data += chunk
    return data


def ask_rtr(host, port, timeout):
    """One Reset Query: (IPv4 count, IPv6 count, session, serial)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.settimeout(timeout)
        connection.sendall(struct.pack("!BBHI", 1, RESET_QUERY, 0, 8))
        ipv4 = ipv6 = 0
        session = None
        while True:
            version, kind, field, length = struct.unpack("!BBHI", read_exactly(connection, 8))
            if length < 8 or length > 1 << 20:
                raise Refused("a PDU of length %d: not an RTR cache?" % length)
            body = read_exactly(connection, length - 8)
            if kind == ERROR_REPORT:
                text = ""
                if len(body) >= 4:
                    skip = struct.unpack("!I", body[:4])[0]
                    if len(body) >= 8 + skip:
                        text = body[8 + skip:].decode("utf-8", "replace")
                raise Refused("the cache answered Error Report %s%s" % (
                    ERROR_CODES.get(field, field), ": " + text if text else ""))
            if kind == CACHE_RESPONSE:
                session = field
            elif kind == IPV4_PREFIX and body[0] & 1:
                ipv4 += 1
            elif kind == IPV6_PREFIX and body[0] & 1:
                ipv6 += 1
            elif kind == CACHE_RESET:
                raise Refused("the cache answered Cache Reset to a Reset Query")
            elif kind == END_OF_DATA:
                return ipv4, ipv6, session, struct.unpack("!I", body[:4])[0], version


def check_rtr(address, min_vrps, wait, timeout):
    host, port = split_address(address)
    deadline = time.monotonic() + wait
    while True:
        try:
            ipv4, ipv6, session, serial, version = ask_rtr(host, port, timeout)
            if ipv4 + ipv6 >= min_vrps:
                return ("%s: ok (%d VRPs: %d IPv4, %d IPv6; RTR version %d, session %s, serial %d)"
                        % (address, ipv4 + ipv6, ipv4, ipv6, version, session, serial))
            reason = "%d VRP(s) served, fewer than the %d required" % (ipv4 + ipv6, min_vrps)
        except ConnectionRefusedError:
            reason = "connection refused: nothing listens there (is the service running?)"
        except socket.timeout:
            reason = "no answer within %s s" % timeout
        except OSError as error:
            reason = "cannot connect: %s" % (error.strerror or error)
        except Refused as error:
            reason = str(error)
        if time.monotonic() >= deadline:
            raise Refused("%s: %s (waited %s s)" % (address, reason, wait))
        time.sleep(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    vrps = commands.add_parser("vrps", help="check a VRP JSON file")
    vrps.add_argument("file")
    vrps.add_argument("--min-vrps", type=int, default=1)
    vrps.add_argument("--max-age", type=int, default=None)
    rtr = commands.add_parser("rtr", help="ask an RTR cache for its VRPs")
    rtr.add_argument("address")
    rtr.add_argument("--min-vrps", type=int, default=1)
    rtr.add_argument("--wait", type=float, default=0)
    rtr.add_argument("--timeout", type=float, default=10)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "vrps":
            print(check_vrps(arguments.file, arguments.min_vrps, arguments.max_age))
        else:
            print(check_rtr(arguments.address, arguments.min_vrps, arguments.wait, arguments.timeout))
    except Refused as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

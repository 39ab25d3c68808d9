#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_events
short_description: Find who knocks on TCP/179 in router logs (unsolicited BGP, MD5, firewall drops)
version_added: 0.1.0
description:
  - Reads the logs of JunOS, Cisco IOS/IOS-XE/IOS-XR, FRRouting and BIRD routers, from the router
    itself (O(source=device)) or from syslog files on a log host (O(source=file)), and reports every
    address that tried to open a BGP session it should not have.
  - Kinds of findings. V(unconfigured_neighbor) is JunOS C(bgp_listen_accept), BIRD C(Unexpected connect
    from unknown address) and FRR C(connection rejected ... not configured).
    V(md5_unexpected) is JunOS C(tcp_auth_ok ... unexpectedly has MD5|AUTH digest), a neighbour that is
    not configured but signs with a password. V(md5_mismatch) is JunOS C(wrong)/C(missing) and Cisco
    C(BADAUTH) on port 179, a configured neighbour with the wrong key, which is a different problem.
    V(firewall_drop_bgp) is a JunOS C(PFE_FW_SYSLOG_*) line or C(show firewall log detail) entry, or a
    Cisco C(IPACCESSLOGP)/C(IPV6_ACL ... ACCESSLOGP)/C(FMANFP) line (plain or C(log-input)), dropping TCP
    with port 179 on either side. V(peer_as_mismatch) is JunOS C(bgp_pp_recv ... bad peer AS number) or
    Cisco C(%BGP-3-NOTIFICATION) C(sent to neighbor ... 2/2 (peer in wrong AS)).
  - With O(source=device) the router is read from the controller with netmiko (SSH CLI) and paramiko
    (SFTP); the connection options come from the inventory and from AWX credentials as described in
    docs/connecting.md. For O(source=file), O(platform) defaults to V(auto), which recognises each line's
    platform by itself; naming one makes the scan look only for that platform's messages.
  - JunOS runs C(show log <file>) for each of O(log_files) and C(show firewall log detail). IOS runs
    C(show logging) and splits its buffer into one record per message. FRR reads the log files that C(show logging) names (or
    O(log_files)) over SFTP. BIRD reads O(log_files) over SFTP.
  - With O(source=file) the module runs on the host of the play (a log host, or the controller with
    a local connection) and streams each file of O(path), plain or compressed, of any size.
  - Read-only; it never changes anything on a router or a host.
author:
  - peerwarden contributors (@peerwarden)
requirements:
  - netmiko and paramiko on the controller for O(source=device)
  - optional, where the scan runs, ahocorasick-rs (all keywords in one pass, about twice as fast on large files)
extends_documentation_fragment:
  - peerwarden.bgp._attributes
  - peerwarden.bgp._connection
attributes:
  check_mode:
    support: full
    description: Reading logs is the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  action:
    support: full
    description: An action plugin runs the module; with O(source=device) it reads the router from the controller.
  platform:
    support: full
    platforms: [junos, ios, frr, frr_host, bird, posix]
    description:
      - With O(source=device), routers running Juniper JunOS, Cisco IOS and IOS-XE (C(cisco.ios.ios)), FRR (vtysh)
        and BIRD (log file over SFTP), and FRR routers' Linux hosts (C(peerwarden.bgp.frr_host), syslog files over
        SFTP, where the drops of the P(peerwarden.bgp.bgp_filter#module) guard are), read over SSH from the controller.
      - With O(source=file), syslog files on the POSIX host of the play (a log host or the controller).
options:
  source:
    description: Read the router (V(device)) or syslog files on the host (V(file)).
    type: str
    choices: [device, file]
    default: device
  path:
    description:
      - Syslog files to read with O(source=file), plain or compressed with gzip, xz, bzip2 or zstd (told
        by their first bytes, not their names; zstd needs the Python package zstandard where the module
        runs). A binary file, or a zstd file without zstandard, is a warning naming the file and is not
        read. Shell globs are expanded. Lines of any platform may be mixed in one file.
    type: list
    elements: path
  log_files:
    description:
      - JunOS, the names of log files as in C(show log <name>). The default is V(messages). Add the file
        where a firewall C(syslog) action writes, for example V(fw-bgp).
      - FRR and BIRD, the absolute paths of the log files on the router, read over SFTP. For FRR the
        default is the files C(show logging) names. For BIRD it is V(/var/log/bird.log).
      - FRR hosts (C(peerwarden.bgp.frr_host)), the syslog files over SFTP; the default is V(/var/log/kern.log),
        where the kernel logs the guard's drops. With the guard's C(log_group), the file ulogd2 writes.
    type: list
    elements: str
  firewall_log:
    description: JunOS, also read C(show firewall log detail), the buffer of filter C(log) actions.
    type: bool
    default: true
  kinds:
    description: Which kinds of findings to report.
    type: list
    elements: str
    choices: [unconfigured_neighbor, md5_unexpected, md5_mismatch, firewall_drop_bgp, peer_as_mismatch]
    default: [unconfigured_neighbor, md5_unexpected, md5_mismatch, firewall_drop_bgp, peer_as_mismatch]
  since:
    description:
      - Ignore lines older than this, either a duration back from now (V(30m), V(24h), V(7d), V(2w)) or an
        ISO 8601 date or time (V(2026-11-01) or V(2026-11-01T00:00:00Z)).
      - Logs without a year get the latest year that does not put the line in the future of the
        file's last change (or of the moment it was fetched), so December lines read in January
        are right.
    type: str
  peering_lans:
    description: Keep only sources inside these prefixes (the IXP peering LANs, IPv4 and IPv6).
    type: list
    elements: str
    default: []
  exclude_addresses:
    description: Addresses or prefixes never to report (your own routers, a route server you know).
    type: list
    elements: str
    default: []
  timezone:
    description:
      - The time zone of log timestamps that carry none, as an IANA name (V(Europe/Amsterdam)), V(UTC)
        or an offset (V(+02:00)). Timestamps with an offset or an unambiguous abbreviation (V(CEST),
        V(EDT)) use their own.
    type: str
    default: UTC
  router:
    description:
      - The router name for the findings. With O(source=device) the default is the inventory name.
        With O(source=file) the default is the host named in each syslog line's header, and for lines
        without one (FRR or BIRD file logs) the inventory name.
    type: str
notes:
  - Cisco IOS logs nothing for a connection from an unconfigured address (it answers with a RST). Log
    such attempts with an ACL entry such as C(deny tcp <lan> any eq bgp log) on the peering interface.
  - FRR logs rejected connections only with C(debug bgp neighbor-events) and a log file at level debugging.
  - An address is reported once per router and kind, with counts; C(last message repeated N times) after
    a finding and rsyslog's C(message repeated N times) add to the count.
seealso:
  - name: scan_unsolicited playbook
    description: Runs this module over an inventory and writes JSON and CSV reports.
    link: https://github.com/peerwarden/peerwarden/blob/main/docs/scan_unsolicited.md
"""

EXAMPLES = r"""
- name: Read every router of the inventory
  peerwarden.bgp.log_events:
    since: 7d
    peering_lans: [192.0.2.0/24, "2001:db8:ffff::/64"]
  register: knocks

- name: Read the central syslog server's files (run on the log host)
  peerwarden.bgp.log_events:
    source: file
    path:
      - /var/log/routers/*.log
      - /var/log/routers/*.log.1.gz
    timezone: Europe/Amsterdam
    kinds: [unconfigured_neighbor, md5_unexpected, firewall_drop_bgp]

- name: A JunOS router whose BGP firewall term logs to the file fw-bgp
  peerwarden.bgp.log_events:
    log_files: [messages, fw-bgp]
"""

RETURN = r"""
events:
  description: One item per router, address and kind, sorted by router, kind and address.
  returned: always
  type: list
  elements: dict
  contains:
    router:
      description: The router the finding came from.
      type: str
      sample: edge1
    address:
      description: The remote address in canonical text form.
      type: str
      sample: "2001:db8::55"
    kind:
      description: The kind of finding.
      type: str
      sample: unconfigured_neighbor
    platform:
      description: The platform whose message it was.
      type: str
      sample: junos
    count:
      description: How many log messages reported it.
      type: int
      sample: 12
    first_seen:
      description: Earliest time, ISO 8601 UTC.
      type: str
      sample: "2026-11-20T16:58:04Z"
    last_seen:
      description: Latest time, ISO 8601 UTC.
      type: str
      sample: "2026-11-22T08:01:00Z"
    interface:
      description: The interface the packets came in on, when the log says.
      type: str
      sample: et-0/0/0.100
    ports:
      description: The remote TCP ports seen (at most 16); 179 when the remote answered from its BGP port.
      type: list
      elements: int
      sample: [51528]
    local_addresses:
      description:
        - Our addresses the knocks were for, when the log lines name the destination (firewall drops, the
          guard's netfilter drops, C(%TCP-6-BADAUTH)); at most 16. Empty for lines that do not say.
      type: list
      elements: str
      sample: [198.51.100.1]
    peer_as:
      description: For V(peer_as_mismatch), the AS the peer claimed.
      type: int
      returned: when known
      sample: 64500
    sample:
      description: One original log line.
      type: str
    per_hour:
      description:
        - Sightings per hour, keyed by the hour's start (ISO 8601 UTC); hours without sightings are left
          out. A C(last message repeated N times) line counts its N at its own time.
        - Sightings whose line has no time are in C(count) but in no hour.
      type: dict
      returned: when the event was seen in at most 744 (31 x 24) distinct hours
      sample: {"2026-11-20T16:00:00Z": 3, "2026-11-22T08:00:00Z": 9}
    per_day:
      description: Sightings per UTC day (V(2026-11-20)), instead of C(per_hour) for an event seen in more hours.
      type: dict
      returned: when the event was seen in more than 744 distinct hours
      sample: {"2026-11-20": 40, "2026-11-21": 48}
stats:
  description: What was read and what became of it.
  returned: always
  type: dict
  contains:
    lines_read:
      description: Lines read from all sources.
      type: int
    matched:
      description: Lines that parsed as a finding, per kind, before the selection options.
      type: dict
    not_bgp:
      description: Lines of a watched message type about something else, such as LDP, another port or an accepted packet.
      type: int
    not_understood:
      description: Lines with a watched keyword that could not be parsed, because truncated, garbled or an unknown variant.
      type: int
    not_understood_samples:
      description: Up to five of them, to report a new variant.
      type: list
      elements: str
    skipped:
      description: Findings left out, per reason (V(kind_not_selected), V(before_since), V(outside_peering_lans), V(excluded_address)).
      type: dict
    without_timestamp:
      description: Findings whose line had no usable time; they are kept and dated at the time of reading.
      type: int
sources:
  description:
    - What was read, each with its C(name) (file path or command), C(lines_read), C(not_understood) (the
      count in this source) and C(not_understood_samples) (up to five); files also with C(last_modified),
      C(compression) when compressed, and C(error) when the file could not be read whole.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.report import exit_with_report
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.options import ARGUMENT_SPEC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.run import run_log_events


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    exit_with_report(module, lambda: run_log_events(module.params), (ValueError, DeviceError, OSError))


if __name__ == "__main__":
    main()

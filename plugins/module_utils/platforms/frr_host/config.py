# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TCP/179 guard on a Linux FRR host, over an SSH login to the host's shell (netmiko `linux`).

The login runs `vtysh -c` (to read the neighbours FRR has configured and the BGP sessions) and `nft`
(root: ansible_become with the sudo method, which netmiko's `sudo -s` enters, as other platforms enter
enable mode). The session:

- reads our tables (`nft list table inet peerwarden...`) and FRR's running config when it opens;
- refuses to load if our table changed since (someone else is changing it: LockHeld);
- writes the nft script to a private temporary file, checks it with `nft -c -f` (a refusal changes
  nothing and quotes nft), then loads it with `nft -f`: one transaction that replaces our table only;
- post-checks: our table as planned, and every BGP neighbour Established before still is;
- otherwise loads the saved listing of our table back (or deletes the table when there was none) and
  compares the listing with the saved one: a restore that does not compare equal raises DeviceError.

The table is live and not written to /etc/nftables.conf: a reboot drops it (docs/push.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import json
import re
import time

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import (
    CommandRefused, ConfigRefused, DeviceError, LockHeld)
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import RestoringSession
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config as frr
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host import guard as nft

#: the tables this platform reads: ours all start so (guard.table_name of any name we render)
OURS = "peerwarden"
RC = "peerwarden-rc="
#: base64 characters per line typed into the shell (a terminal takes at most 4095 in one line)
CHUNK = 768
WIDTH = 4000
ONLY_GUARD = ("platform frr_host configures the TCP/179 guard only (bgp_filter); rpki_config and prefix_limits "
              "on FRR go through vtysh: use platform frr for them")


class HostSession(RestoringSession):
    """One change of our nftables table on one host; see the module docstring."""

    def __init__(self, driver, device, options):
        self.driver, self.device = driver, device
        self.check_mode = bool(options.get("check_mode"))
        wait = options.get("post_check_wait")
        self.post_check_wait = float(60 if wait is None else wait)
        self.cli = None
        self.saved = {}
        self.frr_config = None
        self.script = None
        self.after = None
        self.touched = False
        self.confirmed = False
        self.deadline = None
        self.restored = None

    # -- the way in (RestoringSession opens, calls checkpoint(), and restore() when left unconfirmed)
    def checkpoint(self):
        self.saved = self._tables()
        self.frr_config = frr.config_text(self.shell("vtysh -c 'show running-config'"))

    def open_cli(self):
        """The login, with a terminal wide enough that the shell echoes a chunk of the nft file on one line
        (netmiko finds the echo of each command; a line wrapped by the terminal is not found)."""
        RestoringSession.open_cli(self)
        self.shell("stty cols %d" % WIDTH)

    def shell(self, command):
        """What a shell command printed (stdout and stderr); CommandRefused quoting the host when it exits
        non-zero or the host refuses it (not root, no such command, sudo asking a password)."""
        output = self.cli.run("%s 2>&1; echo %s$?" % (command, RC))
        match = re.search(r"%s(\d+)\s*$" % re.escape(RC), output)
        if match is None:
            raise DeviceError("%s: no exit status after %r (is the login a POSIX shell?): %s"
                              % (self.device.where(), command, output.strip()[:300]))
        text = output[:match.start()].rstrip("\n")
        if match.group(1) != "0":
            refusal = self.driver.refusal(text)
            hint = " " + self.driver.refusal_hint(self.device) if refusal else ""
            raise CommandRefused("%s: %r failed (exit %s): %s%s"
                                 % (self.device.where(), command, match.group(1), text.strip() or "no output", hint))
        return text

    def _tables(self):
        """{name: listing} of our inet tables."""
        names = re.findall(r"^table inet (%s\S*)\s*$" % OURS, self.shell("nft list tables inet"), re.M)
        return dict((name, self._listing(name)) for name in names)

    def _listing(self, table):
        names = re.findall(r"^table inet (\S+)\s*$", self.shell("nft list tables inet"), re.M)
        if table not in names:
            return None
        return self.shell("nft list table inet %s" % table).strip("\n") + "\n"

    # -- the steps
    def running(self):
        return json.dumps({"frr": self.frr_config, "nft_tables": self.saved}, sort_keys=True)

    def baseline(self):
        return {"established": self._established()}

    def _established(self):
        return frr.established(self.shell("vtysh -c 'show bgp summary json'"), self.device.where())

    def load(self, lines):
        self.script = lines
        if self.check_mode:
            return
        table = lines.table
        now = self._listing(table)
        if now != self.saved.get(table):
            raise LockHeld("%s: nft table inet %s changed since it was read at the start of this change: someone "
                           "else is changing it; it was not touched" % (self.device.where(), table))
        self._nft_file(list(lines), refuse_as_config=True)
        self.after = self._listing(table)

    def _nft_file(self, lines, refuse_as_config=False):
        """lines into a private temporary file on the host, checked with `nft -c -f`, then loaded with `nft -f`."""
        data = base64.b64encode(("\n".join(lines) + "\n").encode("utf-8")).decode("ascii")
        self.shell('umask 077 && PW_NFT=$(mktemp) && rm -f "$PW_NFT.b64"')
        try:
            for start in range(0, len(data), CHUNK):
                self.shell('printf %%s %s >> "$PW_NFT.b64"' % data[start:start + CHUNK])
            self.shell('base64 -d "$PW_NFT.b64" > "$PW_NFT"')
            try:
                self.shell('nft -c -f "$PW_NFT"')
            except CommandRefused as error:
                if refuse_as_config:
                    raise ConfigRefused("nft -c refused the guard; nothing was loaded: %s" % error)
                raise
            self.touched = True
            self.shell('nft -f "$PW_NFT"')
        finally:
            try:
                self.shell('rm -f "$PW_NFT" "$PW_NFT.b64"')
            except DeviceError:  # gone: the file is the host's temporary file, private to the login
                pass

    def diff(self):
        table = self.script.table
        before = nft.gather(self.saved.get(table))
        after = self.script.guard if self.check_mode else nft.gather(self.after)
        return nft.diff(before, after)

    def commit(self, confirm_minutes, comment):
        """Live since load(); the timer is ours, as on FRR: confirmed within confirm_minutes or restored.
        nft keeps no commit log: the comment stays in the task's result."""
        self.deadline = time.monotonic() + confirm_minutes * 60
        self.comment = comment

    def problems(self, baseline, expect):
        problems = []
        table = self.script.table
        have = nft.gather(self._listing(table))
        if have != self.script.guard:
            problems.append("nft table inet %s is not as loaded:\n%s" % (table, nft.diff(self.script.guard, have)))
        return problems + frr.down_since(baseline, self._established())

    def confirm(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeviceError("the confirm timer ran out before the post-check finished: the change is not kept")
        self.confirmed = True

    # -- going back
    def restore(self):
        table = self.script.table
        saved = self.saved.get(table)
        try:
            try:
                current = self._listing(table)
            except DeviceError:
                self.close_cli()
                self.open_cli()  # the session broke: a new one
                current = self._listing(table)
            if current == saved:
                return "nothing was left changed: nft table inet %s is as it was" % table
            lines = ["table inet %s" % table, "delete table inet %s" % table]
            self._nft_file(lines + (saved.rstrip("\n").split("\n") if saved else []))
            after = self._listing(table)
        except DeviceError as error:
            raise DeviceError("the restore of nft table inet %s failed: %s; the host may be left changed" % (table, error))
        if after != saved:
            raise DeviceError("the restore of nft table inet %s did not compare equal; the host may be left changed. "
                              "Now:\n%s" % (table, after or "(no table)"))
        return ("restored nft table inet %s as it was before the change (verified identical)" % table if saved
                else "removed nft table inet %s, which the change had created (verified)" % table)


class Script(list):
    """The nft lines plan() returns, with the table they replace and the guard they load (None: removed)."""

    def __init__(self, table, guard, lines):
        list.__init__(self, lines)
        self.table, self.guard = table, guard


def session(driver, device, options):
    return HostSession(driver, device, options)


def _neighbors(frr_config, intent):
    """The addresses of the neighbours FRR has configured (peer-groups and unnumbered neighbours have none)."""
    configured = frr.bgp_neighbors(frr.parse(frr_config))
    addresses = [name for name, entry in configured.items() if not entry["is_group"] and frr._family_of(name)]
    unnumbered = sorted(name for name, entry in configured.items() if not entry["is_group"] and not frr._family_of(name))
    if unnumbered and any(":" in lan and nft.UNNUMBERED_LAN.overlaps(ipaddress.ip_network(lan))
                          for lan in intent["peering_lans"]):
        raise ValueError("peering_lans: %s holds link-local addresses, and neighbours %s are configured by interface "
                         "(no address to permit): leave fe80::/10 out of peering_lans"
                         % ([lan for lan in intent["peering_lans"] if ":" in lan], unnumbered))
    return addresses


def plan(feature, intent, running, state):
    if feature != "guard":
        raise ValueError(ONLY_GUARD)
    have = json.loads(running)
    table = nft.table_name(intent)
    current = nft.gather(have["nft_tables"].get(table))
    want = nft.wanted(intent, _neighbors(have["frr"], intent)) if state == "present" else None
    lines = nft.plan(table, current, want)
    return (Script(table, want, lines) if lines else []), {}


def render(feature, intent):
    if feature != "guard":
        raise ValueError(ONLY_GUARD)
    return nft.script(nft.table_name(intent), nft.wanted(intent, []))


def gather(feature, running):
    if feature != "guard":
        raise ValueError(ONLY_GUARD)
    have = json.loads(running)
    configured = frr.bgp_neighbors(frr.parse(have["frr"]))
    return {"tables": dict((name, nft.gather(listing)) for name, listing in sorted(have["nft_tables"].items())),
            "bgp_neighbors": sorted(name for name, entry in configured.items() if not entry["is_group"])}

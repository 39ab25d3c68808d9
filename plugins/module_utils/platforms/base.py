# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a platform driver is: what it can do, how its CLI refuses, and what it reads.

Modules never branch on the OS: they ask the registry for the driver of ansible_network_os and
call what it declares. A driver owns the parsing of its own captures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import ENABLE_HINT

#: What a driver can do; modules check before they ask.
LOGS = "logs"
CONFIG = "config"


class Capture(namedtuple("Capture", "name text stream parse")):
    """A named piece of what a router said.

    Log text (`text`) or an open binary stream (`stream`) goes to the line scanner; a table
    with a shape of its own comes with `parse(text, zone, now)`, the driver's parser, which yields
    (Finding | NOT_BGP | None, timestamp, line) per entry.
    """

    __slots__ = ()

    @classmethod
    def log_text(cls, name, text):
        return cls(name, text, None, None)

    @classmethod
    def log_stream(cls, name, stream):
        return cls(name, None, stream, None)

    @classmethod
    def table(cls, name, text, parse):
        return cls(name, text, None, parse)


class Driver:
    """One platform. Subclasses set the class attributes and implement what they declare."""

    name = None
    network_os = ()              # ansible_network_os values that select this driver
    cli_type = None              # netmiko device_type of the CLI, None if the platform has none
    capabilities = frozenset()   # LOGS, CONFIG
    refusals = ()                # compiled patterns: how the CLI says no, on one of the first lines

    def logs(self, device, options):
        """Yield Captures of the router's logs."""
        raise NotImplementedError("%s reads no logs" % self.name)

    def refusal(self, output):
        """The router's words when output is a refusal, else None (only the first lines count:
        a log buffer may quote such words in its messages)."""
        lines = [line.strip() for line in (output or "").splitlines() if line.strip()][:3]
        for line in lines:
            for pattern in self.refusals:
                if pattern.search(line):
                    return line
        return None

    def refusal_hint(self, device):
        return "Check that the login may run it"


class IosLikeDriver(Driver):
    """The refusals of Cisco IOS and of CLIs shaped like it (FRR's vtysh)."""

    refusals = (
        re.compile(r"^% ?Invalid input detected"),
        re.compile(r"^% ?(Command )?[Aa]uthorization failed"),
        re.compile(r"^Command authorization failed"),
        re.compile(r"^% ?(Unknown|Incomplete|Ambiguous) command"),
        re.compile(r"^% ?Command incomplete"),
        re.compile(r"^% ?Permission denied"),
    )

    def refusal_hint(self, device):
        if device.enable:
            return ("Enable mode was entered: the login's privilege or AAA command authorization does not allow "
                    "it; ask for a role that may run it")
        return "The login may be at user EXEC level: %s" % ENABLE_HINT

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
import time
from collections import namedtuple

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import ENABLE_HINT

#: What a driver can do; modules check before they ask.
LOGS = "logs"
CONFIG = "config"

#: What the config modules configure: rpki_config, prefix_limits, bgp_filter.
FEATURES = ("rpki", "limits", "guard")


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

    #: the platform's logs.py: collect(device, driver, options) yields Captures (for LOGS)
    log_reader = None
    #: the platform's config.py (for CONFIG): session(driver, device, options) -> ConfigSession, and
    #: plan(feature, intent, running, state), render(feature, intent), gather(feature, running)
    config_module = None
    #: ansible_become_method values that enter the privileged mode (device.enable)
    become_methods = ("enable", "ansible.netcommon.enable")
    #: bgp_filter options beyond the common ones that this platform understands (others refuse them)
    guard_options = ()

    def logs(self, device, options):
        """Yield Captures of the router's logs."""
        return self.log_reader.collect(device, self, options)

    def config(self, device, options):
        """A ConfigSession on the router (a context manager), for drivers that declare CONFIG.

        options: confirm_timeout, comment, lock_timeout, post_check_wait (config/apply.py APPLY_OPTIONS), check_mode."""
        return self.config_module.session(self, device, options)

    # What the config modules ask of a CONFIG driver; feature is one of FEATURES, intent a dict from
    # config/intents.py, running the text ConfigSession.running() returned.

    def plan(self, feature, intent, running, state):
        """(lines to load, expect) that take running to intent (state present) or remove what the
        collection configured (state absent); ([], expect) when nothing is to change. expect is what
        post_check() looks for afterwards (e.g. {"rtr_caches": [addresses]})."""
        return self.config_module.plan(feature, intent, running, state)

    def render(self, feature, intent):
        """The complete configuration for intent, with no device (state rendered)."""
        return self.config_module.render(feature, intent)

    def gather(self, feature, running):
        """What the router has now for feature, structured in the intent's vocabulary (state gathered)."""
        return self.config_module.gather(feature, running)

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


class ConfigSession:
    """One change to one router's configuration, made safely; a context manager.

    __enter__ opens the way in, takes the platform's lock (waiting up to options["lock_timeout"] seconds;
    a router someone else is changing is not touched: LockHeld) and saves what is needed to go back
    (JunOS: a private candidate; IOS: an archive checkpoint; FRR: a copy of the running config).
    __exit__ without a confirm() leaves the router exactly as it was before: discard the candidate, let
    the revert timer run out or replace with the checkpoint, restore the copy, and verify that.

    The apply sequence (config/apply.py) calls, in order: running(), baseline(), load(), diff(),
    commit(), post_check(), confirm(). Each may raise DeviceError; the sequence names the step.
    """

    #: the steps, in order, as the task reports them when one fails
    STEPS = ("connect", "lock", "running", "baseline", "load", "diff", "commit", "post_check", "confirm")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def running(self):
        """The parts of the running (committed) configuration this change can touch, as text."""
        raise NotImplementedError

    def baseline(self):
        """What the post-check compares with: e.g. the BGP neighbours Established before the change."""
        return {}

    def load(self, lines):
        """Put the change into the candidate (or apply it under the revert timer); syntax errors raise."""
        raise NotImplementedError

    def diff(self):
        """The router's own diff of the change (JunOS show | compare, IOS archive differences, FRR text)."""
        raise NotImplementedError

    def commit(self, confirm_minutes, comment):
        """Make the change active so that it reverts by itself unless confirmed within confirm_minutes."""
        raise NotImplementedError

    #: seconds post_check() waits for the router to settle (options["post_check_wait"])
    post_check_wait = 60.0

    def post_check(self, baseline, expect):
        """Problems seen after the commit (a list of strings; empty when all is well), asked again until
        there are none or post_check_wait seconds have passed: an RTR session needs a moment to come up."""
        deadline = time.monotonic() + self.post_check_wait
        while True:
            problems = self.problems(baseline, expect)
            if not problems or time.monotonic() >= deadline:
                return problems
            time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def problems(self, baseline, expect):
        """What is wrong now (the RTR session down, a neighbour no longer Established ...)."""
        return []

    def confirm(self):
        """Keep the change (confirm the commit, stop the revert timer, write memory)."""
        raise NotImplementedError


class RestoringSession(ConfigSession):
    """A session on a CLI with no candidate and no commit confirmed (FRR's vtysh, a Linux host's nft): it saves
    what it needs when it opens (checkpoint()) and, left without confirm() after it touched the router, puts
    that back (restore(), which returns what it did and raises DeviceError when it could not). Subclasses set
    self.touched once the router may differ, self.confirmed in confirm()."""

    cli = None
    touched = False
    confirmed = False
    restored = None

    def __enter__(self):
        self.open_cli()
        try:
            self.checkpoint()
        except BaseException:
            self.close_cli()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self.touched and not self.confirmed:
                try:
                    self.restored = self.restore()
                except DeviceError as error:
                    if exc is not None:
                        raise DeviceError("%s; then %s" % (exc, error))
                    raise
        finally:
            self.close_cli()
        return False

    def open_cli(self):
        self.cli = self.device.cli(self.driver).__enter__()

    def close_cli(self):
        if self.cli is not None:
            self.cli.__exit__(None, None, None)
            self.cli = None

    def checkpoint(self):
        raise NotImplementedError

    def restore(self):
        raise NotImplementedError

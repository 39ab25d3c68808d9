# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRRouting: vtysh over SSH (netmiko cisco_ios) finds the log file, SFTP reads it.

bgpd logs "connection rejected ... not configured" only with `debug bgp neighbor-events` and a
log level of debugging; `show logging` tells where the file is, unless log_files says.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture

_LOG_FILE = re.compile(r"File logging:\s+level \S+, filename (\S+)")


def collect(device, driver, options):
    paths = options.get("log_files")
    if not paths:
        with device.cli(driver) as session:
            shown = session.run("show logging")
        paths = sorted(set(_LOG_FILE.findall(shown)))
        if not paths:
            raise ValueError("%s: FRR logs to no file ('show logging' names none). Configure "
                             "'log file /var/log/frr/bgpd.log debugging' and 'debug bgp neighbor-events', "
                             "or set log_files" % device.host)
    for path, stream in device.read_files(paths):
        yield Capture.log_stream(path, stream)

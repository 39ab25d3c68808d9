# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An FRR host: its syslog files over SFTP. The guard's drops are kernel lines (rsyslog's kern.log and syslog on
Debian) or, with log_group, the file ulogd2's LOGEMU writes (its default /var/log/ulog/syslogemu.log)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture

DEFAULT_LOG_FILES = ["/var/log/kern.log"]


def collect(device, driver, options):
    for path, stream in device.read_files(options.get("log_files") or DEFAULT_LOG_FILES):
        yield Capture.log_stream(path, stream)

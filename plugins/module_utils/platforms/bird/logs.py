# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD: its log file over SFTP (BIRD always logs "Unexpected connect from unknown address")."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture

DEFAULT_LOG_FILES = ["/var/log/bird.log"]


def collect(device, driver, options):
    for path, stream in device.read_files(options.get("log_files") or DEFAULT_LOG_FILES):
        yield Capture.log_stream(path, stream)

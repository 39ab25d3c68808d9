# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What can go wrong on the way in to a router; every message says what is wrong and what to do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class DeviceError(Exception):
    """A router could not be reached, logged in to or read."""


class HostKeyError(DeviceError):
    """The router's SSH host key is unknown or has changed, and host key checking is on."""


class CommandRefused(DeviceError):
    """The router answered a command with a refusal (privilege, authorization, unknown command).

    Never read as an empty answer: a refused `show logging` is not a quiet night."""


class LockHeld(DeviceError):
    """Someone else is changing the router's configuration; it was not touched."""


class ConfigRefused(DeviceError):
    """The router refused the change (syntax, commit check); it was left as it was."""

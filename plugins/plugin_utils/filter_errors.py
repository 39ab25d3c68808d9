# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every peerwarden filter reports bad arguments: an AnsibleFilterError that names the filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def named_filter(name, function):
    """`function` as the filter peerwarden.bgp.<name>: its argument errors name the filter."""
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise AnsibleFilterError("peerwarden.bgp.%s: %s" % (name, error))
    return wrapper

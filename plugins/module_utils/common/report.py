# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of a read-only module: run it, turn the listed errors into fail_json, warn, exit unchanged."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def exit_with_report(module, run, errors):
    """Call run(); a listed error fails the module, the result's "warnings" become module warnings."""
    try:
        result = run()
    except errors as error:
        module.fail_json(msg=str(error))
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(changed=False, **result)

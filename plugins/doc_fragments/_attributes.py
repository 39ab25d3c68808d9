# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action group attribute every module of the collection shares, documented once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
attributes:
  action_group:
    support: full
    membership:
      - peerwarden.bgp.bgp
    description: Use C(group/peerwarden.bgp.bgp) in C(module_defaults) to set defaults for this module and the
      other modules of the collection's C(bgp) action group.
"""

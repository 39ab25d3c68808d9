# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options, attributes and results of every config module's safe apply (config/apply.py), documented once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
requirements:
  - ncclient (JunOS) or netmiko (IOS, FRR) on the controller, for the platforms the module supports
attributes:
  check_mode:
    support: full
    description: Loads nothing on the router; the diff is what would change. The running config stays byte-identical.
  diff_mode:
    support: full
    description:
      - The router's own diff (JunOS C(show | compare), IOS C(show archive config differences), FRR the text diff
        of the running config).
  action:
    support: full
    description: An action plugin runs the module; the router is reached from the controller.
  platform:
    support: full
    platforms: [junos, ios, frr]
    description:
      - Juniper JunOS over NETCONF, Cisco IOS and IOS-XE over SSH (C(cisco.ios.ios)), FRR over SSH into vtysh.
options:
  state:
    description:
      - V(present) configures the router as the options say; V(absent) removes what this module configured.
      - V(rendered) returns the configuration text for the options with no device and no connection (reviews, CI).
      - V(gathered) returns what the router has now, structured; it changes nothing.
    type: str
    choices: [present, absent, rendered, gathered]
    default: present
  confirm_timeout:
    description:
      - Minutes the change stays unconfirmed. JunOS C(commit confirmed), IOS C(configure terminal revert timer).
        FRR has no commit confirmed, there the timer is peerwarden's own, run on the controller (see docs/push.md).
      - The change is kept only when the post-checks passed within this time.
    type: int
    default: 5
  comment:
    description: The commit comment (JunOS commit log, IOS archive); name the playbook run. FRR keeps no commit log.
    type: str
  lock_timeout:
    description: Seconds to wait for the configuration lock; a router someone else is changing is not touched.
    type: int
    default: 60
  post_check_wait:
    description:
      - Seconds the post-checks wait for the router to settle (the RTR session to come up, the BGP neighbours to
        be Established again) before the change counts as failed and is put back. Within O(confirm_timeout).
    type: int
    default: 60
notes:
  - Every value is checked before any router is touched; an error names the option and the value.
  - "Return values every config module shares besides RV(commands): C(platform), the driver used (always);
    C(steps), the steps of the safe apply done (open, running, baseline, load, diff, commit, post_check, confirm;
    with V(present) or V(absent)); C(diff), the router's own diff as C(prepared) (when something changed);
    C(rendered), the configuration text made with no device (V(rendered)); C(gathered), what the router has now,
    structured (V(gathered)); and when the apply fails, C(step), the step that failed, and C(restored), what was
    done to put the router back."
"""

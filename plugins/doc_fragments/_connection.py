# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every module that reads or changes a router, documented once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  platform:
    description:
      - The router's platform, V(junos), V(ios), V(frr) or V(bird), or an C(ansible_network_os) value such as
        V(junipernetworks.junos.junos), V(cisco.ios.ios) or V(frr.frr.frr). Default C(ansible_network_os).
    type: str
  host:
    description: Address of the router. Default C(ansible_host), else the inventory name.
    type: str
  port:
    description: SSH port of the router. Default C(ansible_port), else 22.
    type: int
  username:
    description:
      - Login user. Default C(ansible_user), else the play's remote user (C(-u), an AWX Machine credential),
        else C(ANSIBLE_NET_USERNAME) (an AWX Network credential).
    type: str
  password:
    description:
      - Login password. Default C(ansible_password) or C(ansible_ssh_pass), else the password answered at the
        C(--ask-pass) prompt (an AWX Machine credential), else C(ANSIBLE_NET_PASSWORD).
    type: str
  ssh_key_file:
    description:
      - Private key file. Default C(ansible_ssh_private_key_file), else C(--private-key), else
        C(ANSIBLE_NET_SSH_KEYFILE). Keys held by an ssh-agent (C(SSH_AUTH_SOCK), as AWX loads a Machine
        credential's key) are tried too, see O(allow_agent).
    type: path
  allow_agent:
    description: Offer the keys of the ssh-agent named by C(SSH_AUTH_SOCK).
    type: bool
    default: true
  enable:
    description:
      - Enter enable mode (Cisco IOS) before running commands. Default true when C(ansible_become) is true
        with C(ansible_become_method=enable), or when C(ANSIBLE_NET_AUTHORIZE) is true.
    type: bool
    default: false
  enable_password:
    description:
      - The enable secret. Default C(ansible_become_password), else the password answered at the
        C(--ask-become-pass) prompt, else C(ANSIBLE_NET_AUTH_PASS).
    type: str
  host_key_checking:
    description:
      - Check the router's SSH host key against O(known_hosts_file); an unknown or changed key fails the task
        with its fingerprint. Default C(ansible_host_key_checking), else Ansible's C(host_key_checking)
        setting (C(ANSIBLE_HOST_KEY_CHECKING), C(ansible.cfg)), which is on unless turned off.
    type: bool
    default: true
  known_hosts_file:
    description: The known_hosts file to check host keys against. Default C(~/.ssh/known_hosts).
    type: path
  proxy_command:
    description:
      - A command whose standard input and output reach the router's SSH port, for a bastion; C(%h), C(%p)
        and C(%r) are the router's address, port and user. Default the C(ProxyCommand) or C(ProxyJump) (or
        C(-J)) in C(ansible_ssh_common_args) or C(ansible_ssh_extra_args), made with the system's ssh client.
    type: str
  timeout:
    description: Seconds to wait for the router to connect or to answer one command (commands get four times this).
    type: int
    default: 30
  inventory_hostname:
    description: Set by the action plugin, the inventory name used as the default router name.
    type: str
notes:
  - The router is reached from the controller, whatever C(ansible_connection) says (V(local),
    V(ansible.netcommon.network_cli) and V(ansible.netcommon.netconf) inventories all work); no persistent
    connection is opened. See docs/connecting.md for where each option comes from.
  - A command the router refuses (C(% Invalid input), C(% Authorization failed), JunOS C(error:) or
    C(unknown command)) fails the task with the router's words; it is never read as an empty answer.
"""

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host key checking as Ansible does it: on by default, against the user's known_hosts file.

paramiko's own policies either accept any key (netmiko's default) or refuse with a message that
names no key; this one refuses with the key's SHA256 fingerprint and how to accept it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import HostKeyError

try:
    import paramiko
    _Policy = paramiko.MissingHostKeyPolicy
except ImportError:  # pragma: no cover - depends on the controller; device.session says what to install
    _Policy = object

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


def fingerprint(key):
    """OpenSSH's form: SHA256:<base64 of the key blob's digest, unpadded>."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def known_hosts_path(option):
    return os.path.expanduser(option or DEFAULT_KNOWN_HOSTS)


def host_entry(host, port):
    """How known_hosts names a host: plain on port 22, [host]:port elsewhere."""
    return host if int(port) == 22 else "[%s]:%d" % (host, int(port))


class RefuseUnknownKey(_Policy):
    """Called by paramiko when the known_hosts it loaded has no key for the host."""

    def __init__(self, known_hosts):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        raise HostKeyError(
            "the SSH host key of %s is not known (%s key %s) and host key checking is on. Check the "
            "fingerprint with the router's console (e.g. 'show crypto key mypubkey' on IOS, 'show system "
            "ssh-host-key' ... or 'ssh-keygen -lf' of the key file), then add it: ssh-keyscan -p PORT HOST >> %s. "
            "Or turn checking off for this host (ansible_host_key_checking: false, or ANSIBLE_HOST_KEY_CHECKING=False)"
            % (hostname, key.get_name(), fingerprint(key), self.known_hosts))


class AcceptAnyKey(_Policy):
    """Host key checking turned off by the user: accept, remember nothing."""

    def missing_host_key(self, client, hostname, key):
        return None


def changed_key_error(error, known_hosts):
    """The message for paramiko's BadHostKeyException: the key the router offers differs from known_hosts."""
    return HostKeyError(
        "the SSH host key of %s has CHANGED: it offers %s key %s, %s holds %s. Someone may be intercepting the "
        "connection, or the router was replaced or re-keyed. If you know why, remove the old entry "
        "(ssh-keygen -R HOST -f %s) and accept the new key"
        % (error.hostname, error.key.get_name(), fingerprint(error.key), known_hosts,
           fingerprint(error.expected_key), known_hosts))


def configure(client, checking, known_hosts_option):
    """Load known_hosts into a paramiko SSHClient and set the policy; returns the file's path."""
    path = known_hosts_path(known_hosts_option)
    if not checking:
        client.set_missing_host_key_policy(AcceptAnyKey())
        return path
    if os.path.isfile(path):
        client.load_host_keys(path)
    client.set_missing_host_key_policy(RefuseUnknownKey(path))
    return path

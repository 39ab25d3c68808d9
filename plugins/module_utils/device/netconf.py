# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NETCONF way in (JunOS): ncclient ``manager.connect`` with ``device_params={"name": "junos"}``.

The same connection options as the CLI (device/session.py): host, port (830 when the user gave
none, the IANA NETCONF-over-SSH port; JunOS also answers on 22 with `system services netconf ssh`
... or the `netconf` subsystem on the SSH port), user name, password, key file, agent, a bastion
(proxy_command as the socket) and host key checking against the user's known_hosts.

Host keys: ncclient only checks against ~/.ssh/known_hosts and reports an MD5 fingerprint. Here
the key is read first in a short SSH handshake (no credentials are sent), checked against
known_hosts_file with the messages of device/host_keys.py (SHA256 fingerprint, how to accept it,
a changed key named as such), and ncclient is then told to accept that key and no other
(hostkey_b64).

Every failure is a DeviceError that says what to fix; every RPC error quotes the router.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket

from ansible_collections.peerwarden.bgp.plugins.module_utils.device import bastion, host_keys
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError, HostKeyError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import CREDENTIAL_HINT

try:
    import paramiko
    from ncclient import manager
    from ncclient.operations.errors import OperationError, TimeoutExpiredError
    from ncclient.operations.rpc import RPCError
    from ncclient.transport.errors import AuthenticationError, SSHError, TransportError
    from ncclient.xml_ import to_ele
    HAS_NCCLIENT = True
    NCCLIENT_IMPORT_ERROR = None
except ImportError as error:  # pragma: no cover - depends on the controller
    HAS_NCCLIENT = False
    NCCLIENT_IMPORT_ERROR = error

NETCONF_PORT = 830
NETCONF_HINT = ("check that NETCONF over SSH is on (JunOS: set system services netconf ssh) and that the port is "
                "right (ansible_port; 830 when none is set)")


class NetconfFailed(DeviceError):
    """An RPC failed: .rpc names it, .router_said quotes the router (None when the session was lost)."""

    def __init__(self, message, rpc, router_said=None, lost=False):
        DeviceError.__init__(self, message)
        self.rpc, self.router_said, self.lost = rpc, router_said, lost


def netconf_port(device):
    return device.port if getattr(device, "port_given", True) else NETCONF_PORT


def where(device):
    return "%s@%s:%d" % (device.username, device.host, netconf_port(device))


def _sock(device, port):
    if not device.proxy_command:
        return None
    command = bastion.expand(device.proxy_command, device.host, port, device.username)
    try:
        return paramiko.ProxyCommand(command)
    except (OSError, paramiko.SSHException) as error:
        raise DeviceError("the bastion command for %s could not start (%s): %s" % (where(device), command, error))


def _open_socket(device, port):
    sock = _sock(device, port)
    if sock is not None:
        return sock
    try:
        return socket.create_connection((device.host, port), timeout=device.timeout)
    except (socket.error, OSError) as error:
        raise DeviceError("cannot reach %s for NETCONF: %s. %s" % (where(device), error, NETCONF_HINT))


def _known_keys(known_hosts, host, port):
    """{key type: key} known for host:port (OpenSSH names it [host]:port off port 22)."""
    keys = paramiko.HostKeys()
    if os.path.isfile(known_hosts):
        try:
            keys.load(known_hosts)
        except (IOError, paramiko.SSHException) as error:
            raise DeviceError("cannot read known_hosts %s: %s" % (known_hosts, error))
    found = {}
    for name in (host_keys.host_entry(host, port), host):
        entry = keys.lookup(name)
        if entry:
            for kind in entry.keys():
                found.setdefault(kind, entry[kind])
        if found:
            break
    return found


def check_host_key(device, port):
    """The router's host key (base64), checked against known_hosts; HostKeyError when unknown or changed."""
    known_hosts = host_keys.known_hosts_path(device.known_hosts_file)
    known = _known_keys(known_hosts, device.host, port)
    sock = _open_socket(device, port)
    transport = paramiko.Transport(sock)
    try:
        if known:
            transport._preferred_keys = list(known)  # ask for the key type we know, as OpenSSH does
        try:
            transport.start_client(timeout=device.timeout)
        except (paramiko.SSHException, EOFError, socket.error) as error:
            raise DeviceError("SSH handshake with %s failed: %s. %s" % (where(device), error, NETCONF_HINT))
        key = transport.get_remote_server_key()
    finally:
        transport.close()
    expected = known.get(key.get_name())
    if expected is not None and expected.asbytes() == key.asbytes():
        return key.get_base64()
    if expected is not None or known:
        old = expected if expected is not None else next(iter(known.values()))
        raise host_keys.changed_key_error(paramiko.BadHostKeyException(device.host, key, old), known_hosts)
    return host_keys.RefuseUnknownKey(known_hosts).missing_host_key(None, device.host, key)


def connect(device):
    """An ncclient Manager (junos handler) on the router; DeviceError/HostKeyError saying what to fix."""
    if not HAS_NCCLIENT:
        raise DeviceError("ncclient is needed on the controller to change JunOS over NETCONF (pip install "
                          "ncclient): %s" % NCCLIENT_IMPORT_ERROR)
    port = netconf_port(device)
    params = dict(host=device.host, port=port, username=device.username, password=device.password,
                  key_filename=device.ssh_key_file, allow_agent=device.allow_agent,
                  look_for_keys=bool(device.ssh_key_file), timeout=device.timeout,
                  device_params={"name": "junos"}, manager_params={"timeout": device.timeout * 4})
    if device.host_key_checking:
        params.update(hostkey_verify=True, hostkey_b64=check_host_key(device, port))
    else:
        params.update(hostkey_verify=False)
    sock = _sock(device, port)
    if sock is not None:
        params["sock"] = sock
    try:
        return manager.connect(**params)
    except HostKeyError:
        raise
    except AuthenticationError:
        raise DeviceError("authentication failed for %s (NETCONF): %s" % (where(device), CREDENTIAL_HINT))
    except SSHError as error:
        if "Unknown host key" in str(error):
            raise HostKeyError("the SSH host key of %s changed between two connections (%s): someone may be "
                               "intercepting them; check it before trying again" % (where(device), error))
        raise DeviceError("NETCONF session to %s failed: %s. %s" % (where(device), _first_line(error), NETCONF_HINT))
    except (TransportError, socket.error, EOFError, paramiko.SSHException) as error:
        raise DeviceError("NETCONF session to %s failed: %s. %s"
                          % (where(device), _first_line(error) or type(error).__name__, NETCONF_HINT))


def call(device, rpc_name, function, *args, **kwargs):
    """Run one ncclient call; NetconfFailed quoting the router (rpc-error) or saying the session was lost."""
    try:
        return function(*args, **kwargs)
    except RPCError as error:
        said = router_words(error)
        raise NetconfFailed("%s refused <%s>: %s" % (where(device), rpc_name, said), rpc_name, said)
    except TimeoutExpiredError as error:
        raise NetconfFailed("%s did not answer <%s> in time (%s): the NETCONF session is given up"
                            % (where(device), rpc_name, _first_line(error)), rpc_name, lost=True)
    except (TransportError, OperationError, socket.error, EOFError) as error:
        raise NetconfFailed("the NETCONF session to %s was lost during <%s> (%s)"
                            % (where(device), rpc_name, _first_line(error) or type(error).__name__), rpc_name, lost=True)


def rpc(device, connection, xml, rpc_name=None):
    """A raw RPC given as XML text (e.g. '<get-bgp-summary-information/>')."""
    name = rpc_name or xml.strip().lstrip("<").split(">")[0].split()[0].rstrip("/")
    return call(device, name, connection.rpc, to_ele(xml))


def router_words(error):
    """What the router said in an rpc-error, on one line (the message, the path and bad element if any)."""
    message = " ".join((getattr(error, "message", None) or str(error) or "").split())
    info = getattr(error, "info", None) or ""
    extra = []
    for tag in ("bad-element", "error-path"):
        if tag in info:
            start = info.find("<%s>" % tag)
            end = info.find("</%s>" % tag)
            if start >= 0 and end > start:
                extra.append("%s: %s" % (tag, info[start + len(tag) + 2:end].strip()))
    path = getattr(error, "path", None)
    if path and path.strip():
        extra.append("path: %s" % path.strip())
    return message + (" (%s)" % ", ".join(extra) if extra else "")


def close(connection):
    """Say goodbye if the router is still there; a lost session is not an error here."""
    if connection is None:
        return
    try:
        connection.close_session()
    except Exception:  # a router that went away cannot be said goodbye to
        pass


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else ""

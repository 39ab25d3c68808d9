# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching a router: netmiko for the CLI, paramiko SFTP for log files, errors that say what to fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

try:
    import paramiko
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
    HAS_NETMIKO = True
    NETMIKO_IMPORT_ERROR = None
except ImportError as error:  # pragma: no cover - depends on the controller
    HAS_NETMIKO = False
    NETMIKO_IMPORT_ERROR = error


class DeviceError(Exception):
    """A router could not be read; the message says what is wrong and what to check."""


class Device:
    """Where and how to log in to one router (from the inventory, through the action plugin)."""

    def __init__(self, host, port=22, username=None, password=None, ssh_key_file=None, timeout=30):
        if not host:
            raise DeviceError("no address to connect to: set ansible_host (or the host option)")
        if not username:
            raise DeviceError("no user name for %s: set ansible_user (or the username option)" % host)
        self.host, self.port, self.username = host, int(port or 22), username
        self.password, self.ssh_key_file, self.timeout = password, ssh_key_file, int(timeout)

    def where(self):
        return "%s@%s:%d" % (self.username, self.host, self.port)

    def _require_libraries(self):
        if not HAS_NETMIKO:
            raise DeviceError("netmiko and paramiko are needed on the controller to read routers "
                              "(pip install netmiko): %s" % NETMIKO_IMPORT_ERROR)

    def cli(self, device_type):
        """A netmiko session (a context manager); login problems become DeviceError."""
        self._require_libraries()
        params = {
            "device_type": device_type, "host": self.host, "port": self.port, "username": self.username,
            "password": self.password or "", "conn_timeout": self.timeout, "auth_timeout": self.timeout,
            "banner_timeout": self.timeout, "read_timeout_override": self.timeout * 4,
        }
        if self.ssh_key_file:
            params.update(use_keys=True, key_file=self.ssh_key_file)
        try:
            return ConnectHandler(**params)
        except NetmikoAuthenticationException:
            raise DeviceError("authentication failed for %s: check ansible_user and ansible_password "
                              "(or ansible_ssh_private_key_file)" % self.where())
        except NetmikoTimeoutException as error:
            raise DeviceError("cannot reach %s: %s. Check ansible_host/ansible_port, that SSH is enabled "
                              "on the router and that no filter blocks it" % (self.where(), _first_line(error)))
        except ReadTimeout as error:
            raise DeviceError("%s accepted the login but its CLI did not answer (%s): is it the platform "
                              "ansible_network_os says?" % (self.where(), _first_line(error)))
        except (socket.error, EOFError, paramiko.SSHException, ValueError) as error:
            raise DeviceError("SSH session to %s failed: %s" % (self.where(), _first_line(error) or type(error).__name__))

    def read_files(self, paths):
        """Yield (path, binary stream) for each file over SFTP; a missing file is a DeviceError."""
        self._require_libraries()
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # as netmiko does for the CLI
        try:
            client.connect(self.host, port=self.port, username=self.username, password=self.password,
                           key_filename=self.ssh_key_file, timeout=self.timeout, auth_timeout=self.timeout,
                           banner_timeout=self.timeout, look_for_keys=bool(self.ssh_key_file),
                           allow_agent=False)
        except paramiko.AuthenticationException:
            raise DeviceError("authentication failed for %s (SFTP): check ansible_user and ansible_password "
                              "(or ansible_ssh_private_key_file)" % self.where())
        except (socket.error, paramiko.SSHException, EOFError) as error:
            raise DeviceError("cannot reach %s for SFTP: %s" % (self.where(), _first_line(error) or type(error).__name__))
        try:
            sftp = client.open_sftp()
            for path in paths:
                try:
                    handle = sftp.open(path, "rb")
                except IOError as error:
                    raise DeviceError("cannot read %s on %s over SFTP: %s. Check log_files and that %s may "
                                      "read it" % (path, self.host, error.strerror or error, self.username))
                with handle:
                    handle.prefetch()
                    yield path, handle
        finally:
            client.close()


def send(session, command, device):
    """Run one CLI command; a router that stops answering becomes a DeviceError."""
    try:
        return session.send_command(command, read_timeout=device.timeout * 4)
    except (ReadTimeout, OSError, EOFError) as error:
        raise DeviceError("%s did not answer %r: %s" % (device.where(), command, _first_line(error)))


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else ""

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way in to a router: netmiko for the CLI, paramiko SFTP for log files.

Credentials, enable mode, host keys and a bastion come from the connection options (see
device/options.py); every failure becomes a DeviceError that says what is wrong and what to set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket
import time

from ansible_collections.peerwarden.bgp.plugins.module_utils.device import bastion, host_keys
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import (
    CommandRefused, ConfigRefused, DeviceError, HostKeyError)

try:
    import paramiko
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
    HAS_NETMIKO = True
    NETMIKO_IMPORT_ERROR = None
except ImportError as error:  # pragma: no cover - depends on the controller
    HAS_NETMIKO = False
    NETMIKO_IMPORT_ERROR = error

#: How an IOS-like CLI refuses a configuration line: a line of its answer starting with %
#: (% Invalid input, % Incomplete command, % Specify remote-as ..., a platform's own refusal).
CONFIG_REFUSED = re.compile(r"^\s*%")

CREDENTIAL_HINT = ("check the user name (ansible_user, or the Machine/Network credential) and the password "
                   "(ansible_password, --ask-pass) or key (ansible_ssh_private_key_file, ssh-agent)")
#: What IOS answers to enable and to the secret: a password prompt, or a prompt (> still user level, # enabled).
ENABLE_ANSWER = r"[Pp]assword:\s*$|[>#]\s*$"
ENABLE_ASKS = re.compile(r"(?i)ssword:\s*$")
ENABLE_HINT = ("set ansible_become: true, ansible_become_method: enable and ansible_become_password "
               "(or ANSIBLE_NET_AUTHORIZE=1 and ANSIBLE_NET_AUTH_PASS)")


class Device:
    """Where and how to log in to one router: the connection options, validated."""

    def __init__(self, params):
        self.host = params.get("host")
        self.username = params.get("username")
        if not self.host:
            raise DeviceError("no address to connect to: set ansible_host (or the host option)")
        if not self.username:
            raise DeviceError("no user name for %s: set ansible_user, a Machine credential (-u) or "
                              "ANSIBLE_NET_USERNAME" % self.host)
        self.port = int(params.get("port") or 22)
        #: whether the user set the port: a NETCONF session uses 830 when not (device/netconf.py)
        self.port_given = bool(params.get("port"))
        self.password = params.get("password")
        self.ssh_key_file = params.get("ssh_key_file")
        self.allow_agent = params.get("allow_agent", True) is not False
        self.enable = bool(params.get("enable"))
        self.enable_password = params.get("enable_password")
        self.host_key_checking = params.get("host_key_checking", True) is not False
        self.known_hosts_file = params.get("known_hosts_file")
        self.proxy_command = params.get("proxy_command")
        self.timeout = int(params.get("timeout") or 30)

    def where(self):
        return "%s@%s:%d" % (self.username, self.host, self.port)

    def _require_libraries(self):
        if not HAS_NETMIKO:
            raise DeviceError("netmiko and paramiko are needed on the controller to reach routers "
                              "(pip install netmiko): %s" % NETMIKO_IMPORT_ERROR)

    def _sock(self):
        if not self.proxy_command:
            return None
        command = bastion.expand(self.proxy_command, self.host, self.port, self.username)
        try:
            return paramiko.ProxyCommand(command)
        except (OSError, paramiko.SSHException) as error:
            raise DeviceError("the bastion command for %s could not start (%s): %s" % (self.where(), command, error))

    def cli(self, driver):
        """A CliSession with the router's CLI as the driver speaks it (netmiko device type, refusals)."""
        self._require_libraries()
        return CliSession(self, driver)

    def read_files(self, paths):
        """Yield (path, binary stream) for each file over SFTP; a missing file is a DeviceError."""
        self._require_libraries()
        client = paramiko.SSHClient()
        known_hosts = host_keys.configure(client, self.host_key_checking, self.known_hosts_file)
        try:
            client.connect(self.host, port=self.port, username=self.username, password=self.password,
                           key_filename=self.ssh_key_file, timeout=self.timeout, auth_timeout=self.timeout,
                           banner_timeout=self.timeout, look_for_keys=bool(self.ssh_key_file),
                           allow_agent=self.allow_agent, sock=self._sock())
        except paramiko.BadHostKeyException as error:
            raise host_keys.changed_key_error(error, known_hosts)
        except paramiko.AuthenticationException:
            raise DeviceError("authentication failed for %s (SFTP): %s" % (self.where(), CREDENTIAL_HINT))
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


class CliSession:
    """A netmiko session as a context manager: run() returns what the router printed, or raises
    CommandRefused when the router refused (never an empty answer), DeviceError when it went away."""

    def __init__(self, device, driver):
        self.device, self.driver = device, driver
        self.connection = None

    def __enter__(self):
        device = self.device
        params = {
            "device_type": self.driver.cli_type, "host": device.host, "port": device.port,
            "username": device.username, "password": device.password or "", "secret": device.enable_password or "",
            "conn_timeout": device.timeout, "auth_timeout": device.timeout, "banner_timeout": device.timeout,
            "read_timeout_override": device.timeout * 4, "allow_agent": device.allow_agent,
            "system_host_keys": False, "sock": device._sock(), "auto_connect": False,
        }
        if device.ssh_key_file:
            params.update(use_keys=True, key_file=device.ssh_key_file)
        known_hosts = host_keys.known_hosts_path(device.known_hosts_file)
        if device.host_key_checking:
            params.update(alt_host_keys=True, alt_key_file=known_hosts, ssh_strict=True)
        try:
            connection = ConnectHandler(**params)
            connection.key_policy = (host_keys.RefuseUnknownKey(known_hosts) if device.host_key_checking
                                     else host_keys.AcceptAnyKey())
            connection._open()
        except HostKeyError:
            raise
        except NetmikoAuthenticationException:
            raise DeviceError("authentication failed for %s: %s" % (device.where(), CREDENTIAL_HINT))
        except NetmikoTimeoutException as error:
            cause = error.__context__
            if isinstance(cause, paramiko.BadHostKeyException):
                raise host_keys.changed_key_error(cause, known_hosts)
            raise DeviceError("cannot reach %s: %s. Check ansible_host/ansible_port, that SSH is enabled "
                              "on the router and that no filter blocks it" % (device.where(), _first_line(error)))
        except ReadTimeout as error:
            raise DeviceError("%s accepted the login but its CLI did not answer (%s): is it the platform "
                              "ansible_network_os says?" % (device.where(), _first_line(error)))
        except paramiko.BadHostKeyException as error:
            raise host_keys.changed_key_error(error, known_hosts)
        except (socket.error, EOFError, paramiko.SSHException, ValueError) as error:
            raise DeviceError("SSH session to %s failed: %s" % (device.where(), _first_line(error) or type(error).__name__))
        self.connection = connection
        try:
            if device.enable:
                self._enable()
        except BaseException:
            self._abort()  # the CLI may sit at "Password:": no goodbye, which would wait out the read timeout
            raise
        return self

    def _abort(self):
        try:
            self.connection.paramiko_cleanup()
        except Exception:  # closing what may already be closed
            pass
        self.connection = None

    def _enable(self):
        """Enter enable mode, or fail at once with the router's words. netmiko's enable() waits for the
        prompt after the secret, so a wrong one (IOS asks "Password:" again) costs its read timeout twice."""
        connection = self.connection
        if connection.check_enable_mode():
            return
        override, connection.read_timeout_override = connection.read_timeout_override, None
        try:
            connection.write_channel(connection.normalize_cmd("enable"))
            answer = connection.read_until_pattern(pattern=ENABLE_ANSWER, read_timeout=self.device.timeout)
            if ENABLE_ASKS.search(answer):
                connection.write_channel(connection.normalize_cmd(self.device.enable_password or ""))
                answer = connection.read_until_pattern(pattern=ENABLE_ANSWER, read_timeout=self.device.timeout)
        except ReadTimeout as error:
            raise DeviceError("%s did not answer enable: %s. %s" % (self.device.where(), _first_line(error), ENABLE_HINT))
        finally:
            connection.read_timeout_override = override
        said = [line.strip() for line in answer.splitlines() if line.strip()]
        if ENABLE_ASKS.search(answer) or not said or not said[-1].endswith("#"):
            words = "; ".join(line for line in said if line.startswith("%")) or "it asked for the secret again"
            raise DeviceError("%s refused enable mode (%s). Check ansible_become_password (or ANSIBLE_NET_AUTH_PASS)"
                              % (self.device.where(), words))

    def __exit__(self, *exc_info):
        if self.connection is not None:
            try:
                self.connection.disconnect()
            except (OSError, EOFError, Exception):  # a router that went away cannot be said goodbye to
                pass
            self.connection = None

    def run(self, command):
        """What the router printed for one command; CommandRefused if it refused."""
        try:
            output = self.connection.send_command(command, read_timeout=self.device.timeout * 4)
        except (ReadTimeout, OSError, EOFError) as error:
            raise DeviceError("%s did not answer %r: %s" % (self.device.where(), command, _first_line(error)))
        refusal = self.driver.refusal(output)
        if refusal:
            raise CommandRefused("%s refused %r: %s%s %s" % (self.device.where(), command, refusal,
                                                             "" if refusal.endswith(".") else ".",
                                                             self.driver.refusal_hint(self.device)))
        return output

    def exchange(self, line, timeout=None):
        """Send one line and read up to the next prompt, in any mode (r1#, r1(config-router)#);
        returns what the router printed between the echo and the prompt, without refusal checks.

        Unlike netmiko's send_command it is not tied to one prompt, and a connection that went away
        is a DeviceError at once (a read on a closed paramiko channel would wait out its timeout)."""
        connection = self.connection
        prompt = re.compile(r"^%s(?:\([\w.-]+\))?[#>]\s*$" % re.escape(connection.base_prompt), re.M)
        try:
            connection.write_channel(connection.normalize_cmd(line))
        except (OSError, EOFError) as error:
            raise DeviceError("%s closed the connection before %r: %s" % (self.device.where(), line, _first_line(error)))
        deadline = time.monotonic() + (timeout or self.device.timeout * 4)
        text = ""
        while True:
            try:
                chunk = connection.read_channel()
            except (OSError, EOFError) as error:
                raise DeviceError("%s closed the connection at %r: %s" % (self.device.where(), line, _first_line(error)))
            if chunk:
                text += chunk.replace("\r", "")
                ends = [match for match in prompt.finditer(text) if not text[match.end():].strip()]
                if ends:
                    break
                continue
            channel = connection.remote_conn
            transport = channel.get_transport() if hasattr(channel, "get_transport") else None
            if getattr(channel, "closed", False) or (transport is not None and not transport.is_active()):
                raise DeviceError("%s closed the connection at %r" % (self.device.where(), line))
            if time.monotonic() > deadline:
                raise DeviceError("%s did not answer %r" % (self.device.where(), line))
            time.sleep(0.01)
        lines = text[:ends[-1].start()].split("\n")
        if lines and lines[0].strip() == line.strip():
            lines = lines[1:]
        return "\n".join(lines).strip("\n")

    def configure(self, lines, refused=CONFIG_REFUSED):
        """Send configuration lines one at a time in the configuration mode the session is in, and
        stop at the first one the router refuses: ConfigRefused naming the line and quoting the
        router (its .line and .words say which). Returns what the router printed for each line."""
        outputs = []
        for line in lines:
            output = self.exchange(line)
            words = [entry.strip() for entry in output.splitlines() if refused.search(entry)]
            if words:
                error = ConfigRefused("%s refused %r: %s" % (self.device.where(), line, " ".join(words)))
                error.line, error.words = line, " ".join(words)
                raise error
            outputs.append(output)
        return outputs


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else ""

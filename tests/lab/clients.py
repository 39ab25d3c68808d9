"""The clients lab tests drive the doubles with: netmiko, a raw paramiko shell, ncclient, and a
poll that waits for a condition (a rollback timer, a dropped session)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import paramiko
from ncclient import manager
from netmiko import ConnectHandler

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from lab.cli_doubles import CliDouble

DEVICE_TYPES = {"junos": "juniper_junos", "ios": "cisco_ios"}


def lab_device(endpoint: object, **params: object) -> Device:
    """The collection's Device for a lab endpoint (a double or an sshd: host, port, username, password),
    host keys unchecked, no ssh-agent; params override or add connection options."""
    options: dict[str, object] = {
        "host": endpoint.host,  # type: ignore[attr-defined]
        "port": endpoint.port,  # type: ignore[attr-defined]
        "username": endpoint.username,  # type: ignore[attr-defined]
        "password": endpoint.password,  # type: ignore[attr-defined]
        "host_key_checking": False,
        "allow_agent": False,
        "timeout": 10,
    }
    options.update(params)
    return Device(options)


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def netmiko_connect(double: CliDouble, **options: object) -> ConnectHandler:
    """netmiko logged in to a CLI double, with the device type of its platform."""
    return ConnectHandler(
        device_type=DEVICE_TYPES[double.platform],
        host=double.host,
        port=double.port,
        username=double.username,
        password=double.password,
        **options,
    )


@contextlib.contextmanager
def raw_shell(double: CliDouble) -> Iterator[paramiko.Channel]:
    """A vt100 shell channel on a CLI double, unprocessed (netmiko would hide the echo and the CRs)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        double.host,
        double.port,
        username=double.username,
        password=double.password,
        look_for_keys=False,
        allow_agent=False,
    )
    try:
        channel = client.invoke_shell(term="vt100", width=511, height=1000)
        channel.settimeout(5)
        yield channel
    finally:
        client.close()


def netconf_connect(double, **options):
    """ncclient with the junos handler, as the config push connects."""
    return manager.connect(
        host=double.host,
        port=double.port,
        username=double.username,
        password=double.password,
        hostkey_verify=False,
        device_params={"name": "junos"},
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        **options,
    )

# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching routers through a bastion, as network users set it for cisco.ios: ProxyCommand or
ProxyJump in ansible_ssh_common_args / ansible_ssh_extra_args.

The hop itself is made by the system's ssh client (its agent, keys and known_hosts), and paramiko
talks to the router through it (paramiko.ProxyCommand as the socket).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex


def proxy_command_from_ssh_args(*arg_strings):
    """The ProxyCommand that ssh arguments ask for (ProxyJump and -J turned into one), or None."""
    words = []
    for text in arg_strings:
        if text:
            words.extend(shlex.split(text))
    command = jump = None
    options = []
    index = 0
    while index < len(words):
        word = words[index]
        value = None
        if word in ("-o", "-J") and index + 1 < len(words):
            value = words[index + 1]
            index += 1
        elif word.startswith("-o") or word.startswith("-J"):
            value = word[2:]
        index += 1
        if value is None:
            continue
        if word.startswith("-J"):
            jump = value
            continue
        key, sep, setting = value.partition("=")
        if not sep:
            key, dummy, setting = value.partition(" ")
        if key.strip().lower() == "proxycommand":
            command = setting.strip()
        elif key.strip().lower() == "proxyjump":
            jump = setting.strip()
        else:
            options.append(value)
    if command:
        return command
    if jump and jump.lower() != "none":
        return jump_command(jump, options)
    return None


def jump_command(jump, options=()):
    """ssh -W through the last hop of a ProxyJump list ([user@]host[:port],...), earlier hops with -J."""
    hops = [hop.strip() for hop in jump.split(",") if hop.strip()]
    last = hops[-1]
    user, at, hostport = last.rpartition("@")
    host, port = hostport, None
    if hostport.startswith("["):
        host, dummy, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    command = ["ssh", "-W", "%h:%p"]
    for option in options:
        command.extend(["-o", option])
    if len(hops) > 1:
        command.extend(["-J", ",".join(hops[:-1])])
    if port:
        command.extend(["-p", port])
    command.append((user + "@" if at else "") + host)
    return " ".join(shlex.quote(word) if word != "%h:%p" else word for word in command)


def expand(command, host, port, user):
    """ssh's tokens in a ProxyCommand: %h host, %p port, %r user, %% a percent sign."""
    out, index = [], 0
    while index < len(command):
        char = command[index]
        if char == "%" and index + 1 < len(command):
            token = command[index + 1]
            out.append({"h": str(host), "p": str(port), "r": str(user or ""), "%": "%"}.get(token, char + token))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)

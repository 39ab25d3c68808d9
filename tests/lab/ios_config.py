"""Configuration mode of the IOS test double: a running-config model, archive, confirmed change.

``IosConfigCli`` extends the exec CLI of ``cli_doubles.IosCli`` with what a config push meets
on a real IOS / IOS-XE router (sources and how sure each fact is: fixtures/ios_config.md):

* ``configure terminal`` (``r1(config)#``) and the submodes the collection uses, each with its
  real prompt: ``router bgp N`` (config-router), ``address-family ...`` (config-router-af),
  ``ip access-list extended|standard NAME`` (config-ext-nacl / config-std-nacl),
  ``ipv6 access-list NAME`` (config-ipv6-acl), ``route-map NAME permit|deny SEQ``
  (config-route-map), ``interface X`` (config-if), ``archive`` (config-archive) and its
  ``log config`` (config-archive-log-cfg).  As on IOS, a command that is not valid in the
  submode but is in an enclosing mode leaves the submode and runs there.
* The running config is a tree of lines (one space of indent per level).  Lines are added,
  replaced (``neighbor X remote-as``, ``hostname``, ``path`` ... keep one value) or removed
  with ``no``.  Unknown commands get the caret and ``% Invalid input detected at '^'
  marker.``; BGP neighbour options before ``remote-as`` get ``% Specify remote-as or
  peer-group commands first``.
* ``show running-config [| section RE | include RE]``, ``write memory``, ``archive config``,
  ``show archive``, ``show archive config differences [A [B]]`` (contextual diff),
  ``configure terminal revert timer N`` + ``configure confirm`` (rolls back by itself when
  the timer runs out), ``configure replace FILE [force]``, ``show ip bgp summary``,
  ``show bgp ipv6 unicast summary`` and ``show ip bgp rpki servers`` (from the BGP lines of the
  running config).

What is *not* modelled: IOS's own ordering of sections (new top-level blocks are appended at
the end, and ``!`` separators are normalised: one after each block), abbreviations
(``conf t``), ``?`` help, defaults hidden from the running config, the syslog lines IOS
would print on a console.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.cli_doubles import IosCli, _Route, _split_words, _Word

# --- running-config tree ---------------------------------------------------------------------


@dataclass
class Node:
    """One configuration line and the lines under it."""

    text: str
    block: bool = False  # a submode line (router bgp, route-map, interface ...)
    children: list[Node] = field(default_factory=list)

    def copy(self) -> Node:
        return Node(self.text, self.block, [child.copy() for child in self.children])


#: Submodes: the pattern of the line that enters them (in the parent mode), the prompt suffix
#: IOS shows, and the parent mode.
_SUBMODES: list[tuple[str, str, str]] = [
    # (parent mode, line pattern, mode)
    ("config", r"router bgp \d+(\.\d+)?", "config-router"),
    ("config", r"ip access-list extended \S+", "config-ext-nacl"),
    ("config", r"ip access-list standard \S+", "config-std-nacl"),
    ("config", r"ipv6 access-list \S+", "config-ipv6-acl"),
    ("config", r"route-map \S+( (permit|deny))?( \d+)?", "config-route-map"),
    ("config", r"interface \S+( \S+)?", "config-if"),
    ("config", r"archive", "config-archive"),
    ("config", r"line (vty|con|aux) \d+( \d+)?", "config-line"),
    ("config-router", r"address-family (ipv4|ipv6)( unicast| multicast)?( vrf \S+)?", "config-router-af"),
    ("config-archive", r"log config", "config-archive-log-cfg"),
]

#: Simple (leaf) commands each mode knows, as full-line regexes.  A simplified but honest
#: subset: what the collection pushes plus common neighbours of it.
_LEAVES: dict[str, list[str]] = {
    "config": [
        r"hostname \S+",
        r"ip prefix-list \S+ (seq \d+ )?(permit|deny) \S+( (ge|le) \d+)*",
        r"ip prefix-list \S+ description .+",
        r"ipv6 prefix-list \S+ (seq \d+ )?(permit|deny) \S+( (ge|le) \d+)*",
        r"ip route .+",
        r"ipv6 route .+",
        r"ip as-path access-list \d+ (permit|deny) .+",
        r"ip community-list .+",
        r"access-list \d+ .+",
        r"logging .+",
        r"service .+",
        r"ntp .+",
        r"snmp-server .+",
        r"username .+",
        r"enable (secret|password) .+",
        r"ip domain[- ]name \S+",
        r"ip cef",
        r"ipv6 unicast-routing",
        r"ipv6 cef",
        r"configuration mode exclusive( auto| manual)?",
        r"aaa .+",
        r"version .+",
        r"ip ssh .+",
        r"boot-(start|end)-marker",
        r"ip bgp-community new-format",
    ],
    "config-router": [
        r"bgp .+",
        r"neighbor \S+ .+",
        r"network .+",
        r"redistribute .+",
        r"timers .+",
        r"maximum-paths .+",
        r"default-information .+",
        r"no bgp default ipv4-unicast",
    ],
    "config-router-af": [
        r"neighbor \S+ .+",
        r"network .+",
        r"redistribute .+",
        r"maximum-paths .+",
        r"aggregate-address .+",
        r"bgp .+",
    ],
    "config-ext-nacl": [r"(\d+ )?(permit|deny) .+", r"remark .+"],
    "config-std-nacl": [r"(\d+ )?(permit|deny) .+", r"remark .+"],
    "config-ipv6-acl": [r"(sequence \d+ )?(permit|deny) .+", r"remark .+"],
    "config-route-map": [r"match .+", r"set .+", r"description .+", r"continue( \d+)?"],
    "config-if": [
        r"description .+",
        r"ip (address|access-group|mtu|verify|ospf|pim|helper-address|vrf) .+",
        r"ipv6 (address|traffic-filter|enable|nd|mtu)( .+)?",
        r"shutdown",
        r"mtu \d+",
        r"bandwidth \d+",
        r"speed .+",
        r"duplex .+",
        r"negotiation .+",
    ],
    "config-archive": [r"path \S+", r"maximum \d+", r"write-memory", r"time-period \d+"],
    "config-archive-log-cfg": [r"logging enable", r"logging size \d+", r"notify syslog.*", r"hidekeys"],
    "config-line": [r".+"],
}

#: Lines that keep one value: a new one replaces the old.  Pattern -> what identifies "the same
#: setting" (the match's group 1).
_SINGLE_VALUED = [
    r"(hostname) ",
    r"(ip prefix-list \S+ seq \d+) ",
    r"(ipv6 prefix-list \S+ seq \d+) ",
    r"(neighbor \S+ remote-as) ",
    r"(neighbor \S+ description) ",
    r"(neighbor \S+ password) ",
    r"(neighbor \S+ maximum-prefix) ",
    r"(neighbor \S+ update-source) ",
    r"(neighbor \S+ (?:route-map|prefix-list|filter-list) )\S+ (?:in|out)$",
    r"(bgp router-id) ",
    r"(bgp rpki server tcp \S+) ",
    r"(description) ",
    r"(ip address) (?!.*secondary)",
    r"(mtu) ",
    r"(path) ",
    r"(maximum) ",
    r"(set local-preference) ",
    r"(set community) ",
    r"(logging size) ",
]


def _setting_key(text: str) -> str | None:
    for pattern in _SINGLE_VALUED:
        match = re.match(pattern, text)
        if match:
            # the direction is part of the key of route-map/prefix-list/filter-list lines
            if text.endswith((" in", " out")) and "route-map" in pattern:
                return match.group(1) + text.rsplit(" ", 1)[1]
            return match.group(1)
    return None


def _acl_entry(text: str) -> str:
    """IOS pads the action of IPv4 ACL entries to six columns: `` permit tcp``, `` deny   tcp``."""
    match = re.fullmatch(r"(permit|deny)\s+(.*)", text)
    return f"{match.group(1):<6} {match.group(2)}" if match else text


def parse_config(text: str) -> list[Node]:
    """Parse running-config text into a tree.  ``!`` lines, ``end``, ``exit-address-family``
    and the ``Building configuration`` header are dropped (rendering puts them back)."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.strip() in ("!", "end", "exit-address-family"):
            continue
        if raw.startswith(("Building configuration", "Current configuration")):
            continue
        depth = len(raw) - len(raw.lstrip(" "))
        node = Node(raw.strip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parent = stack[-1][1]
            parent.block = True
            parent.children.append(node)
        else:
            roots.append(node)
        stack.append((depth, node))
    # submode lines without children are still blocks (an empty route-map entry, archive ...)
    for node in _walk(roots):
        if _submode_of(node.text) is not None:
            node.block = True
    return roots


def _walk(nodes: Iterable[Node]) -> Iterable[Node]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


def _submode_of(text: str, parent: str | None = None) -> str | None:
    for parent_mode, pattern, mode in _SUBMODES:
        if (parent is None or parent == parent_mode) and re.fullmatch(pattern, text):
            return mode
    return None


def render_config(roots: Sequence[Node]) -> str:
    """The configuration as ``show running-config`` prints it after its header: one space of
    indent per level, ``!`` after each block, `` exit-address-family`` closing each
    address family, ``end`` last."""
    out = ["!\n"]
    for node in roots:
        if node.block and out[-1] != "!\n":
            out.append("!\n")
        out.extend(_render_node(node, 0))
        if node.block:
            out.append("!\n")
    if out[-1] != "!\n":
        out.append("!\n")
    out.append("end\n")
    return "".join(out)


def _render_node(node: Node, depth: int) -> list[str]:
    lines = [" " * depth + node.text + "\n"]
    for child in node.children:
        if child.text.startswith("address-family "):
            lines.append(" " * (depth + 1) + "!\n")
            lines.extend(_render_node(child, depth + 1))
            lines.append(" " * (depth + 1) + "exit-address-family\n")
        else:
            lines.extend(_render_node(child, depth + 1))
    return lines


def contextual_diff(old: Sequence[Node], new: Sequence[Node]) -> str:
    """``show archive config differences``: lines only in ``new`` with ``+``, lines only in
    ``old`` with ``-``, each under its parent lines (shown without a sign); additions first.
    Indentation is put before the sign, as IOS does (`` +neighbor ...``)."""
    added = _diff_lines(old, new, "+", 0)
    removed = _diff_lines(new, old, "-", 0)
    if not added and not removed:
        return "!Contextual Config Diffs:\n!No changes were found\n"
    return "!Contextual Config Diffs:\n" + "".join(added + removed)


def _diff_lines(base: Sequence[Node], other: Sequence[Node], sign: str, depth: int) -> list[str]:
    by_text = {node.text: node for node in base}
    lines: list[str] = []
    for node in other:
        twin = by_text.get(node.text)
        if twin is None:
            lines.extend(_signed(node, sign, depth))
        elif node.children or twin.children:
            inner = _diff_lines(twin.children, node.children, sign, depth + 1)
            if inner:
                lines.append(" " * depth + node.text + "\n")
                lines.extend(inner)
    return lines


def _signed(node: Node, sign: str, depth: int) -> list[str]:
    lines = [" " * depth + sign + node.text + "\n"]
    for child in node.children:
        lines.extend(_signed(child, sign, depth + 1))
    return lines


# --- the device (state shared by every SSH session of one double) ----------------------------


@dataclass
class ConfigLock:
    """Who holds IOS's exclusive configuration lock (``configuration mode exclusive``)."""

    user: str = "unknown"
    process: int = 88
    terminal: int = 0
    session: object | None = None  # the holding session, None for one held from outside

    def message(self) -> str:
        # Wording of a real IOS refusal (ipnet.xyz write-up, see fixtures/ios_config.md).
        return (
            f"Configuration mode locked exclusively by user '{self.user}' process "
            f"'{self.process}' from terminal '{self.terminal}'. Please try later.\n"
        )


class IosDevice:
    """Running/startup config, archive, confirmed-change timer and lock of one IOS double.

    All of it lives on the double's event loop; tests read it through ``CliDouble``.
    """

    def __init__(
        self,
        hostname: str,
        running_config: str,
        *,
        minute_seconds: float = 60.0,
        config_lock: ConfigLock | None = None,
        reject_config: Mapping[str, str] | None = None,
        bgp_neighbor_states: Mapping[str, str | int] | None = None,
        rpki_server_states: Mapping[str, str] | None = None,
        show_outputs: Mapping[str, str] | None = None,
    ) -> None:
        self.hostname = hostname
        self.running = parse_config(running_config)
        self.startup = [node.copy() for node in self.running]
        self.archive: list[tuple[int, list[Node]]] = []  # (number, config), oldest first
        self.archive_counter = 0
        self.minute_seconds = minute_seconds
        self.lock = config_lock
        self.reject_config = {re.compile(k): v for k, v in (reject_config or {}).items()}
        self.bgp_neighbor_states = dict(bgp_neighbor_states or {})
        self.rpki_server_states = dict(rpki_server_states or {})
        self.show_outputs = dict(show_outputs or {})
        self.revert_handle: asyncio.TimerHandle | None = None
        self.revert_checkpoint: list[Node] | None = None
        self.events: list[str] = []  # "archive cfg-1", "revert timer 5", "rolled back", ...

    # archive --------------------------------------------------------------------------

    def archive_settings(self) -> tuple[str | None, int]:
        path, maximum = None, 10
        for node in self.running:
            if node.text == "archive":
                for child in node.children:
                    if child.text.startswith("path "):
                        path = child.text.split(" ", 1)[1]
                    elif child.text.startswith("maximum "):
                        maximum = int(child.text.split()[1])
        return path, maximum

    def archive_name(self, number: int) -> str:
        path, dummy = self.archive_settings()
        return f"{path}-{number}"

    def save_archive(self) -> str | None:
        path, maximum = self.archive_settings()
        if path is None:
            return None
        self.archive_counter += 1
        self.archive.append((self.archive_counter, [n.copy() for n in self.running]))
        del self.archive[:-maximum]
        self.events.append(f"archive {self.archive_name(self.archive_counter)}")
        return self.archive_name(self.archive_counter)

    def lookup(self, name: str) -> list[Node] | None:
        if name in ("system:running-config", "running-config"):
            return self.running
        if name in ("nvram:startup-config", "startup-config"):
            return self.startup
        for number, config in self.archive:
            if self.archive_name(number) == name:
                return config
        return None

    # confirmed change -------------------------------------------------------------------

    def start_revert_timer(self, minutes: int, checkpoint: list[Node]) -> None:
        self.cancel_revert_timer()
        self.revert_checkpoint = checkpoint
        loop = asyncio.get_running_loop()
        self.revert_handle = loop.call_later(minutes * self.minute_seconds, self._revert)
        self.events.append(f"revert timer {minutes}")

    def cancel_revert_timer(self) -> bool:
        if self.revert_handle is None:
            return False
        self.revert_handle.cancel()
        self.revert_handle = None
        self.revert_checkpoint = None
        return True

    def _revert(self) -> None:
        assert self.revert_checkpoint is not None
        self.running = [n.copy() for n in self.revert_checkpoint]
        self.revert_handle = None
        self.revert_checkpoint = None
        self.events.append("rolled back")


# --- the CLI ---------------------------------------------------------------------------------


class IosConfigCli(IosCli):
    """IOS exec + configuration mode over one shared ``IosDevice``."""

    def __init__(self, hostname: str, logging_buffer: str, device: IosDevice, **options: Any) -> None:
        super().__init__(hostname, logging_buffer, **options)
        self.device = device
        self._path: list[tuple[str, Node | None]] = []  # config modes entered, with their node
        self._pending_replace: tuple[str, list[Node]] | None = None
        self._config_routes: list[_Route] = [
            (("configure", "terminal"), self._configure_terminal),
            (("configure", "terminal", "revert", "timer", "<minutes>"), self._configure_revert),
            (("configure", "confirm"), self._configure_confirm),
            (("configure", "replace", "<file>"), lambda f: self._configure_replace(f, False)),
            (("configure", "replace", "<file>", "force"), lambda f: self._configure_replace(f, True)),
            (("show", "running-config"), self._show_running),
            (("write", "memory"), self._write_memory),
            (("write",), self._write_memory),
            (("write", "mem"), self._write_memory),  # netmiko's save_config abbreviates
            (("copy", "running-config", "startup-config"), self._copy_run_start),
            (("archive", "config"), self._archive_config),
            (("show", "archive"), self._show_archive),
            (("show", "archive", "config", "differences"), lambda: self._differences(None, None)),
            (("show", "archive", "config", "differences", "<a>"), lambda a: self._differences(a, None)),
            (("show", "archive", "config", "differences", "<a>", "<b>"), self._differences),
            (("show", "ip", "bgp", "summary"), lambda: self._show_bgp_summary(4)),
            (("show", "bgp", "ipv6", "unicast", "summary"), lambda: self._show_bgp_summary(6)),
            (("show", "ip", "bgp", "rpki", "servers"), self._show_rpki_servers),
            (("show", "bgp", "ipv4", "unicast", "rpki", "servers"), self._show_rpki_servers),
        ]

    def privileged_routes(self) -> list[_Route]:
        return super().privileged_routes() + self._config_routes

    # --- session plumbing ---

    @property
    def in_config(self) -> bool:
        return bool(self._path)

    def _mode(self) -> str:
        return self._path[-1][0] if self._path else ""

    def _prompt(self) -> str:
        if self._path:
            return f"{self._hostname}({self._mode()})#"
        return super()._prompt()

    def close(self) -> None:
        """The session ended: let go of the configuration lock."""
        if self.device.lock is not None and self.device.lock.session is self:
            self.device.lock = None

    def execute(self, line: str):  # type: ignore[override]
        from lab.cli_doubles import Reply

        if self._pending_replace is not None:
            return Reply(self._answer_replace(line))
        if not self._path:
            words = _split_words(line)
            # "show running-config | section X": the pipe is handled here.
            if words and words[0].text == "show" and "|" in line:
                return self._piped_show(line)
            reply = super().execute(line)
            if self._pending_replace is not None:  # the question is the prompt now
                return Reply(reply.text[: -len(self._prompt())])
            return reply
        words = _split_words(line)
        if not words:
            return Reply(self._prompt())
        output = self._config_line(line.strip(), words)
        if self._session_over:
            return Reply("", ends_session=True)
        return Reply(output + self._prompt())

    def _piped_show(self, line: str):
        from lab.cli_doubles import Reply

        command, dummy, filt = line.partition("|")
        inner = super().execute(command.rstrip())
        text = inner.text[: len(inner.text) - len(self._prompt())]
        match = re.fullmatch(r"\s*(section|include|begin|exclude)\s+(.+?)\s*", filt)
        if not match:
            return Reply(self._error(_split_words(line), len(_split_words(command))) + self._prompt())
        how, regex = match.groups()
        pattern = re.compile(regex)
        lines = text.splitlines(keepends=True)
        if how == "include":
            kept = [entry for entry in lines if pattern.search(entry)]
        elif how == "exclude":
            kept = [entry for entry in lines if not pattern.search(entry)]
        elif how == "begin":
            start = next((i for i, entry in enumerate(lines) if pattern.search(entry)), len(lines))
            kept = lines[start:]
        else:  # section: top-level lines and their indented children, when any of them matches
            kept, block = [], []
            for entry in lines + ["\n"]:
                if entry.startswith(" ") and block:
                    block.append(entry)
                    continue
                if block and any(pattern.search(b) for b in block):
                    kept.extend(block)
                block = [entry] if entry.strip() else []
        return Reply("".join(kept) + self._prompt(), is_show=True)

    # --- exec commands ---

    def _configure_terminal(self) -> str:
        lock = self.device.lock
        if lock is not None and lock.session is not self:
            return lock.message()
        self._path = [("config", None)]
        out = "Enter configuration commands, one per line.  End with CNTL/Z.\n"
        if self._exclusive_auto():
            self.device.lock = ConfigLock(user=self._username_for_lock(), session=self)
        return out

    def _username_for_lock(self) -> str:
        return "unknown"

    def _exclusive_auto(self) -> bool:
        return any(
            n.text in ("configuration mode exclusive", "configuration mode exclusive auto") for n in self.device.running
        )

    def _configure_revert(self, minutes: str) -> str:
        if not minutes.isdigit() or not 1 <= int(minutes) <= 120:
            return self._error(_split_words(f"configure terminal revert timer {minutes}"), 4)
        lock = self.device.lock
        if lock is not None and lock.session is not self:
            return lock.message()
        name = self.device.save_archive()
        if name is None:
            return "% Archive path is not configured\n"
        checkpoint = [n.copy() for n in self.device.lookup(name) or []]
        self.device.start_revert_timer(int(minutes), checkpoint)
        out = f"Rollback:Backing up current running config to {name}\n"
        return out + self._configure_terminal()

    def _configure_confirm(self) -> str:
        if self.device.cancel_revert_timer():
            self.device.events.append("confirmed")
        return ""

    def _configure_replace(self, name: str, force: bool) -> str:
        config = self.device.lookup(name)
        if config is None:
            return f"%Error opening {name} (File not found)\n"
        if not force:
            self._pending_replace = (name, config)
            return (
                "This will apply all necessary additions and deletions\n"
                "to replace the current running configuration with the\n"
                "contents of the specified configuration file, which is\n"
                "assumed to be a complete configuration, not a partial\n"
                "configuration. Enter Y if you are sure you want to proceed. ? [no]: "
            )
        return self._do_replace(name, config)

    def _answer_replace(self, typed: str):

        assert self._pending_replace is not None
        name, config = self._pending_replace
        self._pending_replace = None
        if typed.strip().lower() in ("y", "yes"):
            return self._do_replace(name, config) + self._prompt()
        return self._prompt()

    def _do_replace(self, name: str, config: list[Node]) -> str:
        self.device.cancel_revert_timer()
        self.device.running = [n.copy() for n in config]
        self.device.events.append(f"replace {name}")
        return "Total number of passes: 1\nRollback Done\n"

    def _show_running(self) -> str:
        body = render_config(self.device.running)
        return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n" + body

    def _write_memory(self) -> str:
        self.device.startup = [n.copy() for n in self.device.running]
        self.device.events.append("write memory")
        path, dummy = self.device.archive_settings()
        if path is not None and any(
            c.text == "write-memory" for n in self.device.running if n.text == "archive" for c in n.children
        ):
            self.device.save_archive()
        return "Building configuration...\n[OK]\n"

    def _copy_run_start(self) -> str:
        # IOS asks "Destination filename [startup-config]?"; netmiko's save_config uses
        # "write mem" instead, so the prompt is not modelled.
        return self._write_memory()

    def _archive_config(self) -> str:
        if self.device.save_archive() is None:
            return "% Archive path is not configured\n"
        return ""

    def _show_archive(self) -> str:
        path, maximum = self.device.archive_settings()
        if path is None:
            return "Archive feature not enabled\n"
        saved = {number: True for number, dummy in self.device.archive}
        numbers = sorted(saved)
        lines = [
            f"The maximum archive configurations allowed is {maximum}.\n",
            f"There {'is' if len(numbers) == 1 else 'are'} currently {len(numbers)} archive "
            f"configuration{'' if len(numbers) == 1 else 's'} saved.\n",
            f"The next archive file will be named {self.device.archive_name(self.device.archive_counter + 1)}\n",
            " Archive #  Name\n",
        ]
        # IOS lists the slots 1..maximum; slot i holds archive number i modulo the ring.
        by_slot = {((n - 1) % maximum) + 1: n for n in numbers}
        latest = numbers[-1] if numbers else None
        for slot in range(1, maximum + 1):
            number = by_slot.get(slot)
            if number is None:
                lines.append(f"   {slot:<2}\n")
            else:
                recent = " <- Most Recent" if number == latest else ""
                lines.append(f"   {slot:<2}      {self.device.archive_name(number)}{recent}\n")
        return "".join(lines)

    def _differences(self, first: str | None, second: str | None) -> str:
        if first is None:
            old, new = self.device.startup, self.device.running
        else:
            old = self.device.lookup(first)
            new = self.device.running if second is None else self.device.lookup(second)
            if old is None or new is None:
                missing = first if old is None else second
                return f"%Error opening {missing} (File not found)\n"
        return contextual_diff(old, new)

    def _bgp(self) -> Node | None:
        return next((n for n in self.device.running if n.text.startswith("router bgp ")), None)

    def _show_bgp_summary(self, version: int) -> str:
        """`show ip bgp summary` (4) or `show bgp ipv6 unicast summary` (6) of the neighbours the running
        config has, in the state ``bgp_neighbor_states`` gives.  An address longer than the 15-character
        Neighbor column stands alone on its line and the row goes on, indented, on the next, as IOS prints
        it (the form genieparser's iosxe show_bgp parser documents: ``2001:DB8:20:4:6::6`` then
        ``4 400 67 73 66 0 0 01:03:11 5`` under the columns)."""
        command = "show ip bgp summary" if version == 4 else "show bgp ipv6 unicast summary"
        if command in self.device.show_outputs:
            return self.device.show_outputs[command]
        bgp = self._bgp()
        if bgp is None:
            return "% BGP not active\n\n"
        asn = bgp.text.split()[2]
        router_id = "192.0.2.254"
        neighbors: list[tuple[str, str]] = []
        for child in bgp.children:
            match = re.fullmatch(r"neighbor ([0-9A-Fa-f.:]+) remote-as (\S+)", child.text)
            if match and ipaddress.ip_address(match.group(1)).version == version:
                neighbors.append(match.groups())
            elif child.text.startswith("bgp router-id "):
                router_id = child.text.split()[2]
        if not neighbors and version == 6:
            return ""  # IOS prints nothing for a family without neighbours
        lines = [
            f"BGP router identifier {router_id}, local AS number {asn}\n",
            "BGP table version is 1, main routing table version 1\n",
            "\n",
            "Neighbor        V           AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd\n",
        ]
        for address, remote_as in neighbors:
            state = self.device.bgp_neighbor_states.get(address, 0)
            if isinstance(state, int):
                counts, updown, last = "      12      10        1    0    0", "00:05:12", f"{state:>8}"
            else:
                counts, updown, last = "       0       0        1    0    0", "never   ", f" {state}"
            shown = address.upper() if version == 6 else address
            if len(shown) > 15:
                lines.append(f"{shown}\n")
                shown = ""
            lines.append(f"{shown:<15} 4 {remote_as:>10} {counts} {updown}{last}\n")
        return "".join(lines)

    def _show_rpki_servers(self) -> str:
        for key in ("show ip bgp rpki servers", "show bgp ipv4 unicast rpki servers"):
            if key in self.device.show_outputs:
                return self.device.show_outputs[key]
        bgp = self._bgp()
        if bgp is None:
            return "% BGP not active\n\n"
        out = []
        for child in bgp.children:
            match = re.fullmatch(r"bgp rpki server tcp (\S+) port (\d+) refresh (\d+)", child.text)
            if not match:
                continue
            address, port, refresh = match.groups()
            state = self.device.rpki_server_states.get(address, "connected")
            if state == "connected":
                out.append(
                    f"BGP SOVC neighbor is {address}/{port} connected to port {port}\n"
                    f"Flags 64, Refresh time is {refresh}, Serial number is 1, Session ID is 4711\n"
                    "InQ has 0 messages, OutQ has 0 messages, formatted msg 95\n"
                    "Session IO flags 3, Session flags 4008\n"
                    " Neighbor Statistics:\n"
                    "  Prefixes 95\n"
                    "  Connection attempts: 1\n"
                    "  Connection failures: 0\n"
                    "  Errors sent: 0\n"
                    "  Errors received: 0\n\n"
                )
            else:
                out.append(
                    f"BGP SOVC neighbor is {address}/{port} connected to port {port}\n"
                    f"Flags 0, Refresh time is {refresh}, Serial number is 0, Session ID is 0\n"
                    "InQ has 0 messages, OutQ has 0 messages, formatted msg 0\n"
                    "Session IO flags 0, Session flags 4000\n"
                    " Neighbor Statistics:\n"
                    "  Prefixes 0\n"
                    "  Connection attempts: 3\n"
                    "  Connection failures: 3\n"
                    "  Errors sent: 0\n"
                    "  Errors received: 0\n\n"
                )
        return "".join(out)

    # --- configuration mode ---

    def _config_line(self, text: str, words: Sequence[_Word]) -> str:
        if text == "end" or text == "\x1a":
            self._leave_config()
            return ""
        if text in ("exit", "exit-address-family"):
            if text == "exit-address-family" and self._mode() != "config-router-af":
                return self._error(words, 0)
            self._path.pop()
            if not self._path:
                self._leave_config()
            return ""
        if words[0].text == "do":
            return self.run_words(words[1:]) if len(words) > 1 else "% Incomplete command.\n\n"
        for pattern, message in self.device.reject_config.items():
            if pattern.search(text):
                return message if message.endswith("\n") else message + "\n"
        text = re.sub(r"\s+", " ", text)
        negate = text.startswith("no ")
        body = text[3:] if negate else text
        # Try the current mode, then each enclosing one (IOS leaves the submode).
        for depth in range(len(self._path), 0, -1):
            mode, node = self._path[depth - 1]
            outcome = self._apply(mode, node, body, negate, depth)
            if outcome is not None:
                return outcome
        understood = 1 if self._first_word_known(words[1 if negate else 0].text) else 0
        if negate:
            understood += 1
        return self._error(words, min(understood, len(words) - 1) if len(words) > 1 else 0)

    def _leave_config(self) -> None:
        self._path = []
        if self.device.lock is not None and self.device.lock.session is self:
            self.device.lock = None

    def _first_word_known(self, word: str) -> bool:
        patterns = [p for leaves in _LEAVES.values() for p in leaves] + [p for dummy, p, dummy2 in _SUBMODES]
        return any(re.match(re.escape(word) + r"(\b|$)", p) for p in patterns)

    def _children(self, node: Node | None) -> list[Node]:
        return self.device.running if node is None else node.children

    def _apply(self, mode: str, node: Node | None, body: str, negate: bool, depth: int) -> str | None:
        """Apply a line in ``mode``; None when the mode does not know it."""
        submode = _submode_of(body, mode)
        if submode is not None and not negate:
            body = self._normalise_submode_line(submode, body)
        known = submode is not None or any(re.fullmatch(p, body) for p in _LEAVES.get(mode, []))
        if not known and not (negate and self._is_known_prefix(mode, body)):
            return None
        if mode in ("config-router", "config-router-af") and not negate:
            refused = self._neighbor_check(body, depth)
            if refused:
                return refused
        del self._path[depth:]  # leave deeper submodes, as IOS does
        siblings = self._children(node)
        if mode in ("config-ext-nacl", "config-std-nacl"):
            body = _acl_entry(body)
        if negate:
            removed = [c for c in siblings if c.text == body or c.text.startswith(body + " ")]
            for child in removed:
                siblings.remove(child)
            if body.startswith("neighbor ") and mode == "config-router":
                for af in siblings:
                    if af.text.startswith("address-family "):
                        af.children[:] = [
                            c for c in af.children if not (c.text == body or c.text.startswith(body + " "))
                        ]
            if body == "shutdown":
                pass
            return ""
        if mode in ("config-ext-nacl", "config-std-nacl"):
            body = _acl_entry(re.sub(r"^\d+ ", "", body))
        if mode == "config-ipv6-acl":
            body = re.sub(r"^sequence \d+ ", "", body)
        existing = next((c for c in siblings if c.text == body), None)
        if submode is not None:
            if existing is None:
                existing = Node(body, block=True)
                siblings.append(existing)
            self._path.append((submode, existing))
            return ""
        if existing is not None:
            return ""
        key = _setting_key(body)
        if key is not None:
            for index, child in enumerate(siblings):
                if _setting_key(child.text) == key:
                    siblings[index] = Node(body)
                    return ""
        # IOS keeps a block's own lines above its nested submodes (router-level lines above
        # the address families).
        if node is not None:
            first_block = next((i for i, c in enumerate(siblings) if c.block), len(siblings))
            siblings.insert(first_block, Node(body))
        else:
            siblings.append(Node(body))
        return ""

    def _normalise_submode_line(self, submode: str, body: str) -> str:
        if submode == "config-router-af":
            return body.replace(" unicast", "")  # IOS shows "address-family ipv4"
        if submode == "config-route-map":
            parts = body.split()
            if len(parts) == 2:
                parts += ["permit", "10"]
            elif len(parts) == 3:
                parts.append("10")
            return " ".join(parts)
        return body

    def _is_known_prefix(self, mode: str, body: str) -> bool:
        first = body.split(" ", 1)[0]
        return any(p.startswith(re.escape(first)) or p.startswith(first) for p in _LEAVES.get(mode, [])) or any(
            parent == mode and p.startswith(first) for parent, p, dummy in _SUBMODES
        )

    def _neighbor_check(self, body: str, depth: int) -> str | None:
        match = re.fullmatch(r"neighbor (\S+) (\S+).*", body)
        if not match or match.group(2) in ("remote-as", "peer-group"):
            return None
        router = next((n for dummy, n in self._path if n is not None and n.text.startswith("router bgp")), None)
        if router is None:
            return None
        peer = match.group(1)
        declared = any(
            c.text.startswith(f"neighbor {peer} remote-as ")
            or c.text == f"neighbor {peer} peer-group"
            or c.text.startswith(f"neighbor {peer} peer-group ")
            for c in router.children
        )
        if declared:
            return None
        return "% Specify remote-as or peer-group commands first\n"

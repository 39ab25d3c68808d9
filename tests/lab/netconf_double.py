"""A JunOS NETCONF-over-SSH test double, driven by ncclient ``device_params={"name": "junos"}``.

A real NETCONF server (asyncssh, subsystem ``netconf``, RFC 6242 end-of-message framing,
base:1.0 as Junos' default) on 127.0.0.1 that answers the Junos RPCs a config push uses,
with Junos-shaped replies (sources and how sure each is: fixtures/junos_netconf.md):

* hello with :candidate, :confirmed-commit, :validate, :rollback-on-error and the Junos URIs;
* ``<lock>``/``<unlock>`` of the candidate (and PyEZ's ``<lock-configuration/>``) with the
  ``lock-denied`` rpc-error when another session holds it, and the ``configuration database
  modified`` refusal when the shared candidate holds someone else's uncommitted changes;
* ``<open-configuration><private/>`` / ``<close-configuration/>`` (a private candidate);
* ``<load-configuration action="set|merge|replace|override" format="text|xml">`` with
  ``configuration-set`` (set/delete lines), ``configuration-text`` (curly) or
  ``<configuration>`` (XML), applied to a set-line model; a bad line gives the Junos
  ``load-configuration-results`` rpc-error with ``load-error-count``; ``rollback="N"``;
* ``<get-configuration>`` of the candidate or ``database="committed"`` in xml/text/set,
  with a subtree filter, and ``compare="rollback" rollback="N"`` (``show | compare``);
* ``<commit-configuration>`` plain / ``<check/>`` / ``<confirmed/><confirm-timeout>N``
  ``<log>``: a confirmed commit rolls back by itself after N "minutes" unless a plain commit
  confirms it, and at once when the session that made it ends; ``<discard-changes/>``;
* the lock holder's uncommitted candidate changes are discarded at ``<unlock>`` or when its
  session ends; a private copy cannot ``commit confirmed``, nor commit while another session
  holds the lock;
* ``<get-bgp-summary-information/>``, ``<get-validation-session-information/>`` (from the
  committed config) and ``<command>`` (text ``<output>``).

Fault knobs: ``commit_error`` (commit and commit check fail), ``hold_lock()`` (another
session holds the lock), ``modify_shared_candidate()`` (someone else's uncommitted change),
``drop_at_rpc`` (the connection drops when the Nth RPC, or an RPC of that name, arrives).
Assert on ``committed`` / ``committed_set`` / ``candidate_set``, ``rpcs`` (every RPC
received, as XML text) and ``events``.

Not modelled: a schema.  Set lines are stored as given; the curly-text rendering and the
XML conversion are heuristics (keyed containers such as ``group NAME`` are known by name),
good for round trips and diffs of the statements the collection pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import asyncssh
import pytest
from lxml import etree

from lab.ssh_server import SshServerInThread, drop_due

EOM = "]]>]]>"
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
JUNOS_NS = "http://xml.juniper.net/junos/22.4R0/junos"

CAPABILITIES = (
    "urn:ietf:params:netconf:base:1.0",
    "urn:ietf:params:netconf:capability:candidate:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:netconf:capability:validate:1.0",
    "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
    "urn:ietf:params:netconf:capability:url:1.0?scheme=http,ftp,file",
    "urn:ietf:params:xml:ns:netconf:base:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:candidate:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:validate:1.0",
    "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
    "http://xml.juniper.net/netconf/junos/1.0",
    "http://xml.juniper.net/dmi/system/1.0",
)

#: Containers whose first word below them is a name: rendered ``group IXP {`` and
#: ``<group><name>IXP</name>``.
KEYED = {
    "group",
    "neighbor",
    "policy-statement",
    "term",
    "prefix-list",
    "filter",
    "session",
    "unit",
    "interface",
    "community",
    "as-path",
    "route-filter",
    "user",
    "class",
    "file",
    "host",
}
#: Statements that hold one value: ``set ... peer-as 65002`` replaces ``peer-as 65001``.
SINGLE_VALUED = {
    "peer-as",
    "local-as",
    "hold-time",
    "refresh-time",
    "port",
    "preference",
    "local-address",
    "record-lifetime",
    "maximum",
    "description",
    "type",
    "local-preference",
    "metric",
    "host-name",
    "router-id",
    "autonomous-system",
    "max-sessions",
}


class RpcError(Exception):
    """An rpc-error to put in the reply (``inside`` wraps it, e.g. load-configuration-results)."""

    def __init__(
        self,
        message: str,
        *,
        tag: str = "operation-failed",
        kind: str = "protocol",
        path: str | None = None,
        bad_element: str | None = None,
        session_id: int | None = None,
        inside: str | None = None,
        extra: str = "",
    ) -> None:
        super().__init__(message)
        self.message, self.tag, self.kind = message, tag, kind
        self.path, self.bad_element, self.session_id = path, bad_element, session_id
        self.inside, self.extra = inside, extra

    def xml(self) -> str:
        info = ""
        if self.bad_element is not None:
            info += f"<bad-element>{escape(self.bad_element)}</bad-element>"
        if self.session_id is not None:
            info += f"<session-id>{self.session_id}</session-id>"
        error = (
            "<rpc-error>\n"
            f"<error-type>{self.kind}</error-type>\n"
            f"<error-tag>{self.tag}</error-tag>\n"
            "<error-severity>error</error-severity>\n"
            + (f"<error-path>{escape(self.path)}</error-path>\n" if self.path else "")
            + f"<error-message>\n{escape(self.message)}\n</error-message>\n"
            + (f"<error-info>{info}</error-info>\n" if info else "")
            + "</rpc-error>\n"
        )
        if self.inside:
            return f"<{self.inside}>\n{error}{self.extra}</{self.inside}>\n"
        return error


# --- set-line model ----------------------------------------------------------------------------


def split_statement(line: str) -> list[str]:
    """Words of a set line; ``[ a b ]`` and quoted strings stay one word."""
    return re.findall(r'\[[^\]]*\]|"[^"]*"|\S+', line)


def apply_set_lines(config: list[str], lines: Sequence[str]) -> list[str]:
    """Apply ``set``/``delete`` lines; raise RpcError on anything else."""
    config = list(config)
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = split_statement(line)
        verb, path = words[0], words[1:]
        if verb not in ("set", "delete") or not path:
            raise RpcError(
                "syntax error",
                bad_element=words[0] if verb not in ("set", "delete") else line,
                inside="load-configuration-results",
                extra="<load-error-count>1</load-error-count>\n",
            )
        body = " ".join(path)
        if verb == "delete":
            config = [c for c in config if not (c == body or c.startswith(body + " "))]
            continue
        if body in config:
            continue
        if len(path) >= 2 and path[-2] in SINGLE_VALUED:
            prefix = " ".join(path[:-1]) + " "
            config = [c for c in config if not (c.startswith(prefix) and len(split_statement(c)) == len(path))]
        config.append(body)
    return config


def curly_to_set(text: str) -> list[str]:
    """Junos curly text to set lines (``protocols { bgp { group X { peer-as 1; } } }``)."""
    tokens = re.findall(r'\[[^\]]*\]|"[^"]*"|[{};]|[^\s{};]+', re.sub(r"/\*.*?\*/|#[^\n]*", "", text, flags=re.S))
    lines: list[str] = []
    stack: list[list[str]] = [[]]
    current: list[str] = []
    for token in tokens:
        if token == "{":
            stack.append(stack[-1] + current)
            current = []
        elif token == ";":
            if current:
                lines.append("set " + " ".join(stack[-1] + current))
            current = []
        elif token == "}":
            if current:
                raise RpcError(
                    "syntax error",
                    bad_element="}",
                    inside="load-configuration-results",
                    extra="<load-error-count>1</load-error-count>\n",
                )
            if len(stack) == 1:
                raise RpcError(
                    "syntax error",
                    bad_element="}",
                    inside="load-configuration-results",
                    extra="<load-error-count>1</load-error-count>\n",
                )
            parent = stack.pop()
            del parent
        else:
            current.append(token)
    if current or len(stack) != 1:
        raise RpcError(
            "syntax error",
            bad_element=current[-1] if current else "{",
            inside="load-configuration-results",
            extra="<load-error-count>1</load-error-count>\n",
        )
    return lines


def xml_to_set(element: etree._Element, prefix: Sequence[str] = ()) -> list[str]:
    """``<configuration>`` XML to set lines; ``<name>`` children are keys; ``operation="delete"``."""
    return _xml_children(list(element), list(prefix))


def _xml_children(elements: Sequence[etree._Element], prefix: list[str]) -> list[str]:
    lines: list[str] = []
    for child in elements:
        if not isinstance(child.tag, str):
            continue
        tag = etree.QName(child).localname
        path = list(prefix) + [tag]
        name = next((c for c in child if isinstance(c.tag, str) and etree.QName(c).localname == "name"), None)
        if name is not None:
            path.append(name.text or "")
        rest = [c for c in child if isinstance(c.tag, str) and (name is None or etree.QName(c).localname != "name")]
        if child.get("operation") == "delete" or child.get("delete") == "delete":
            lines.append("delete " + " ".join(path))
        elif rest:
            lines.extend(_xml_children(rest, path))
        elif child.text and child.text.strip() and name is None:
            lines.append("set " + " ".join(path + [child.text.strip()]))
        else:
            lines.append("set " + " ".join(path))
    return lines


@dataclass
class _Tree:
    children: dict[str, _Tree]


def _tree(config: Sequence[str]) -> _Tree:
    root = _Tree({})
    for line in config:
        node = root
        for word in split_statement(line):
            node = node.children.setdefault(word, _Tree({}))
    return root


#: Words that always open a block (never flattened into a one-line statement).
CONTAINERS = {
    "system",
    "protocols",
    "policy-options",
    "routing-options",
    "firewall",
    "interfaces",
    "bgp",
    "validation",
    "family",
    "from",
    "then",
    "prefix-limit",
    "accepted-prefix-limit",
    "unicast",
    "inet",
    "inet6",
    "syslog",
    "login",
    "services",
    "netconf",
    "ssh",
    "ospf",
}


def _statements(word: str, node: _Tree) -> list[tuple[str, _Tree | None]]:
    """How a tree node prints: (head, subtree or None for a leaf statement)."""
    if word in KEYED and node.children:
        return [(f"{word} {name}", sub if sub.children else None) for name, sub in node.children.items()]
    if not node.children:
        return [(word, None)]
    if word in CONTAINERS:
        return [(word, node)]
    # a chain of single children down to a leaf is one statement: "teardown 80 idle-timeout 30"
    words, cur = [word], node
    while len(cur.children) == 1:
        ((w, sub),) = cur.children.items()
        if w in KEYED or w in CONTAINERS:
            break
        words.append(w)
        cur = sub
        if not cur.children:
            return [(" ".join(words), None)]
    return [(word, node)]


def render_text(config: Sequence[str]) -> str:
    return "".join(_render(_tree(config), 0))


def _render(node: _Tree, depth: int) -> list[str]:
    out: list[str] = []
    for word, sub in node.children.items():
        for head, inner in _statements(word, sub):
            pad = "    " * depth
            if inner is None:
                out.append(f"{pad}{head};\n")
            else:
                out.append(f"{pad}{head} {{\n")
                out.extend(_render(inner, depth + 1))
                out.append(f"{pad}}}\n")
    return out


def render_xml(config: Sequence[str]) -> str:
    return "<configuration>\n" + "".join(_xml(_tree(config))) + "</configuration>\n"


def _xml(node: _Tree) -> list[str]:
    out: list[str] = []
    for word, sub in node.children.items():
        if word in KEYED and sub.children:
            for name, inner in sub.children.items():
                out.append(f"<{word}>\n<name>{escape(name)}</name>\n" + "".join(_xml(inner)) + f"</{word}>\n")
        elif not sub.children:
            out.append(f"<{word}/>\n")
        elif len(sub.children) == 1 and not next(iter(sub.children.values())).children:
            out.append(f"<{word}>{escape(next(iter(sub.children)))}</{word}>\n")
        else:
            out.append(f"<{word}>\n" + "".join(_xml(sub)) + f"</{word}>\n")
    return out


def compare_text(old: Sequence[str], new: Sequence[str]) -> str:
    """``show | compare``: ``[edit PATH]`` headers, then ``+``/``-`` statements in curly form."""
    out: list[str] = []
    _compare(_tree(old), _tree(new), [], out)
    return "".join(out)


def _compare(old: _Tree, new: _Tree, path: list[str], out: list[str]) -> None:
    header_done = False

    def header() -> None:
        nonlocal header_done
        if not header_done:
            out.append("[edit" + "".join(" " + p for p in path) + "]\n")
            header_done = True

    def emit(sign: str, word: str, node: _Tree) -> None:
        header()
        for head, inner in _statements(word, node):
            lines = [f"{head};\n"] if inner is None else [f"{head} {{\n"] + _render(inner, 1) + ["}\n"]
            out.extend(f"{sign}   {line}" for line in lines)

    # statements only in one side are printed here; shared containers are recursed into
    for word, sub in old.children.items():
        if word not in new.children:
            emit("-", word, sub)
    for word, sub in new.children.items():
        if word not in old.children:
            emit("+", word, sub)
    for word, sub in new.children.items():
        if word in old.children and (sub.children or old.children[word].children):
            twin = old.children[word]
            if word in KEYED:
                for name in sorted(set(twin.children) - set(sub.children), key=list(twin.children).index):
                    header()
                    out.extend(f"-   {text}" for text in _statement_lines(word, name, twin.children[name]))
                for name in sub.children:
                    if name not in twin.children:
                        header()
                        out.extend(f"+   {text}" for text in _statement_lines(word, name, sub.children[name]))
                for name in sub.children:
                    if name in twin.children:
                        _compare(twin.children[name], sub.children[name], path + [word, name], out)
            else:
                old_form, new_form = _statements(word, twin), _statements(word, sub)
                if word not in CONTAINERS and any(inner is None for _head, inner in old_form + new_form):
                    # a statement with a value (import [ A B ], peer-as 65001) changed: Junos shows the old and
                    # the new statement under its parent's [edit] header, not an [edit ... import] of its own
                    if old_form != new_form:
                        emit("-", word, twin)
                        emit("+", word, sub)
                else:
                    _compare(twin, sub, path + [word], out)


def _statement_lines(word: str, name: str, node: _Tree) -> list[str]:
    if not node.children:
        return [f"{word} {name};\n"]
    return [f"{word} {name} {{\n"] + _render(node, 1) + ["}\n"]


# --- the device --------------------------------------------------------------------------------


@dataclass
class _Lock:
    session: object | None  # None: held from outside (hold_lock)
    user: str
    pid: int


class JunosNetconfDevice:
    """Committed config, rollback history, shared candidate, lock, confirmed-commit timer."""

    def __init__(
        self,
        committed: Sequence[str],
        minute_seconds: float,
        commit_error: Mapping[str, str] | None,
        bgp_peer_states: Mapping[str, str],
        rv_session_states: Mapping[str, str],
        rpc_replies: Mapping[str, str],
    ) -> None:
        self.committed = list(committed)
        self.rollbacks: list[list[str]] = [list(committed)]  # rollback 0 first
        self.shared_candidate = list(committed)
        self.shared_candidate_owner: object | None = None  # the session (or user name) that changed it
        self.minute_seconds = minute_seconds
        self.commit_error = dict(commit_error) if commit_error else None
        self.bgp_peer_states = dict(bgp_peer_states)
        self.rv_session_states = dict(rv_session_states)
        self.rpc_replies = dict(rpc_replies)
        self.lock: _Lock | None = None
        self.confirm_handle: asyncio.TimerHandle | None = None
        self.confirm_session: object | None = None  # the session whose confirmed commit is pending
        self.events: list[str] = []

    def release_lock(self, session: object) -> None:
        """The lock holder unlocks or its session ends: "If the NETCONF session ends or the application emits
        the <unlock> tag element before the candidate configuration is committed, all changes made to the
        candidate are discarded" (Juniper, <lock-configuration>; the CLI's configure exclusive: "uncommitted
        changes will be discarded on exit")."""
        if self.lock is None or self.lock.session is not session:
            return
        self.lock = None
        if self.shared_candidate != self.committed:
            self.shared_candidate = list(self.committed)
            self.events.append("uncommitted changes discarded")
        self.shared_candidate_owner = None

    def end_session(self, session: object) -> None:
        """A session ends (close-session, or the connection drops). Juniper "Terminate a NETCONF Session": the
        server "rolls back all uncommitted changes that had been made during the session. If a confirmed commit
        is pending (changes have been committed but not yet confirmed), the NETCONF server restores the
        configuration to its state before the confirmed commit instruction was issued" (RFC 6241 8.4.1 too).
        Without the session ending, the confirm timer still rolls back when it runs out."""
        self.release_lock(session)
        if self.confirm_session is session and self.cancel_confirm_timer():
            self.events.append("session ended with a confirmed commit pending")
            self._roll_back()

    def commit(self, candidate: list[str], comment: str | None) -> None:
        self.committed = list(candidate)
        self.rollbacks.insert(0, list(candidate))
        del self.rollbacks[50:]
        self.events.append("commit" + (f" {comment}" if comment else ""))

    def start_confirm_timer(self, minutes: int) -> None:
        self.cancel_confirm_timer()
        self.confirm_handle = asyncio.get_running_loop().call_later(minutes * self.minute_seconds, self._roll_back)

    def cancel_confirm_timer(self) -> bool:
        if self.confirm_handle is None:
            return False
        self.confirm_handle.cancel()
        self.confirm_handle = None
        self.confirm_session = None
        return True

    def _roll_back(self) -> None:
        # Junos loads rollback 1 and commits it: a new commit with the old contents.
        self.confirm_handle = None
        self.confirm_session = None
        previous = self.rollbacks[1] if len(self.rollbacks) > 1 else []
        self.commit(previous, None)
        self.shared_candidate = list(previous)
        self.events.append("rolled back")


class _Session:
    def __init__(self, device: JunosNetconfDevice, session_id: int, username: str) -> None:
        self.device = device
        self.session_id = session_id
        self.username = username
        self.private: list[str] | None = None

    @property
    def candidate(self) -> list[str]:
        return self.private if self.private is not None else self.device.shared_candidate

    @candidate.setter
    def candidate(self, value: list[str]) -> None:
        if self.private is not None:
            self.private = value
        else:
            self.device.shared_candidate = value
            self.device.shared_candidate_owner = self if value != self.device.committed else None

    def _lock_error(self) -> RpcError:
        lock = self.device.lock
        assert lock is not None
        return RpcError(
            f"configuration database locked by:\n  {lock.user} terminal p0 (pid {lock.pid}) on since "
            "2024-05-02 10:28:22 UTC\n      exclusive [edit]",
            tag="lock-denied",
            session_id=lock.pid,
        )

    def _check_not_locked_by_other(self) -> None:
        lock = self.device.lock
        if lock is not None and lock.session is not self and self.private is None:
            raise self._lock_error()

    # --- RPCs (each returns the reply's inner XML) ---

    def rpc_lock(self, rpc: etree._Element) -> str:
        lock = self.device.lock
        if lock is not None and lock.session is not self:
            raise self._lock_error()
        if self.device.shared_candidate != self.device.committed and self.device.shared_candidate_owner is not self:
            raise RpcError("configuration database modified", tag="lock-denied", session_id=self.session_id)
        self.device.lock = _Lock(self, self.username, self.session_id)
        return "<ok/>"

    rpc_lock_configuration = rpc_lock

    def rpc_unlock(self, rpc: etree._Element) -> str:
        self.device.release_lock(self)
        return "<ok/>"

    rpc_unlock_configuration = rpc_unlock

    def rpc_open_configuration(self, rpc: etree._Element) -> str:
        if rpc.find("{*}private") is not None or rpc.find("private") is not None:
            if self.device.shared_candidate != self.device.committed:
                raise RpcError("shared configuration database modified", tag="operation-failed")
            self.private = list(self.device.committed)
        return ""

    def rpc_close_configuration(self, rpc: etree._Element) -> str:
        self.private = None
        return "<ok/>"

    def rpc_load_configuration(self, rpc: etree._Element) -> str:
        self._check_not_locked_by_other()
        action = rpc.get("action", "merge")
        fmt = rpc.get("format", "xml")
        if rpc.get("rollback") is not None:
            number = int(rpc.get("rollback"))
            if number >= len(self.device.rollbacks):
                raise RpcError(
                    f"rollback {number} does not exist",
                    inside="load-configuration-results",
                    extra="<load-error-count>1</load-error-count>\n",
                )
            self.candidate = list(self.device.rollbacks[number])
            return "<load-configuration-results>\n<load-success/>\n</load-configuration-results>\n"
        child = next((c for c in rpc if isinstance(c.tag, str)), None)
        if child is None:
            raise RpcError("syntax error", bad_element="load-configuration")
        name = etree.QName(child).localname
        if name == "configuration-set":
            lines = (child.text or "").splitlines()
        elif name == "configuration-text":
            lines = curly_to_set(child.text or "")
        elif name == "configuration":
            lines = xml_to_set(child)
        else:
            raise RpcError("syntax error", bad_element=name)
        base = [] if action == "override" else list(self.candidate)
        if action == "replace" and name != "configuration-set":
            # replace: the loaded stanzas replace what is there at their top level paths
            tops = {" ".join(split_statement(text)[1:3]) for text in lines if text.startswith("set ")}
            base = [c for c in base if " ".join(split_statement(c)[:2]) not in tops]
        self.candidate = apply_set_lines(base, lines)
        del fmt
        return "<load-configuration-results>\n<ok/>\n</load-configuration-results>\n"

    def _source(self, rpc: etree._Element) -> list[str]:
        return self.device.committed if rpc.get("database") == "committed" else self.candidate

    def rpc_get_configuration(self, rpc: etree._Element) -> str:
        if rpc.get("compare") == "rollback":
            number = int(rpc.get("rollback", "0"))
            if number >= len(self.device.rollbacks):
                raise RpcError(f"rollback {number} does not exist")
            diff = compare_text(self.device.rollbacks[number], self.candidate)
            return (
                "<configuration-information>\n<configuration-output>\n"
                f"{escape(diff)}</configuration-output>\n</configuration-information>\n"
            )
        config = self._source(rpc)
        filt = rpc.find("{*}configuration")
        if filt is None:
            filt = rpc.find("configuration")
        if filt is not None and len(filt):
            prefixes = [" ".join(split_statement(text)[1:]) for text in xml_to_set(filt)]
            config = [c for c in config if any(c == p or c.startswith(p + " ") for p in prefixes)]
        fmt = rpc.get("format", "xml")
        if fmt == "set":
            body = "".join(f"set {line}\n" for line in config)
            return f"<configuration-set>\n{escape(body)}</configuration-set>\n"
        if fmt == "text":
            return f"<configuration-text>\n{escape(render_text(config))}</configuration-text>\n"
        return render_xml(config)

    def _validate(self) -> None:
        error = self.device.commit_error
        if error:
            raise RpcError(error.get("message", "configuration check-out failed"), path=error.get("path"))

    def rpc_commit_configuration(self, rpc: etree._Element) -> str:
        self._check_not_locked_by_other()
        children = {etree.QName(c).localname: c for c in rpc if isinstance(c.tag, str)}
        self._validate()
        if "check" in children:
            return (
                '<commit-results>\n<routing-engine junos:style="normal">\n<name>re0</name>\n'
                "<commit-check-success/>\n</routing-engine>\n</commit-results>\n"
            )
        if self.private is not None:
            if "confirmed" in children:
                # Junos XML Management Protocol Guide, <commit-configuration>; CLI guide, configure private
                raise RpcError("You cannot perform this commit operation on a private copy of the configuration")
            lock = self.device.lock
            if lock is not None and lock.session is not self:
                # "the commit fails if the regular candidate configuration is locked by another user or
                # application" (Juniper, Commit a Private Copy of the Configuration Using the Junos XML Protocol)
                raise self._lock_error()
        comment = children["log"].text if "log" in children else None
        self.device.commit(self.candidate, comment)
        if self.private is None:
            self.device.shared_candidate_owner = None
        if "confirmed" in children:
            minutes = int(children["confirm-timeout"].text) if "confirm-timeout" in children else 10
            self.device.start_confirm_timer(minutes)
            self.device.confirm_session = self
            self.device.events.append(f"confirmed {minutes}")
        elif self.device.cancel_confirm_timer():
            self.device.events.append("confirmed by commit")
        return (
            '<commit-results>\n<routing-engine junos:style="normal">\n<name>re0</name>\n'
            "<commit-success/>\n</routing-engine>\n</commit-results>\n"
        )

    def rpc_discard_changes(self, rpc: etree._Element) -> str:
        self._check_not_locked_by_other()
        self.candidate = list(self.device.committed)
        return "<ok/>"

    def rpc_get_bgp_summary_information(self, rpc: etree._Element) -> str:
        peers = []
        for line in self.device.committed:
            m = re.fullmatch(r"protocols bgp group (\S+) neighbor (\S+) peer-as (\d+)", line)
            if m:
                peers.append(m.groups())
        rows = []
        for _group, address, asn in peers:
            state = self.device.bgp_peer_states.get(address, "Established")
            rows.append(
                '<bgp-peer junos:style="terse" heading="Peer                     AS      InPkt     OutPkt    OutQ   '
                'Flaps Last Up/Dwn State|#Active/Received/Accepted/Damped...">\n'
                f"<peer-address>{address}</peer-address>\n<peer-as>{asn}</peer-as>\n"
                "<input-messages>12</input-messages>\n<output-messages>10</output-messages>\n"
                "<route-queue-count>0</route-queue-count>\n<flap-count>0</flap-count>\n"
                '<elapsed-time junos:seconds="312">5:12</elapsed-time>\n'
                f'<peer-state junos:format="{state}">{state}</peer-state>\n</bgp-peer>\n'
            )
        down = sum(
            1 for dummy, a, dummy2 in peers if self.device.bgp_peer_states.get(a, "Established") != "Established"
        )
        groups = len({g for g, dummy, dummy2 in peers})
        return (
            '<bgp-information xmlns="http://xml.juniper.net/junos/22.4R0/junos-routing">\n'
            f"<group-count>{groups}</group-count>\n<peer-count>{len(peers)}</peer-count>\n"
            f"<down-peer-count>{down}</down-peer-count>\n" + "".join(rows) + "</bgp-information>\n"
        )

    def rpc_get_validation_session_information(self, rpc: etree._Element) -> str:
        sessions = []
        for line in self.device.committed:
            m = re.fullmatch(r"routing-options validation group \S+ session (\S+)( .*)?", line)
            if m and m.group(1) not in sessions:
                sessions.append(m.group(1))
        rows = []
        for address in sessions:
            state = self.device.rv_session_states.get(address, "Up")
            count = "95" if state == "Up" else "0"
            rows.append(
                f"<rv-session>\n<ip-address>{address}</ip-address>\n<session-state>{state}</session-state>\n"
                f"<session-flaps>0</session-flaps>\n<session-uptime>00:05:12</session-uptime>\n"
                f"<ip-prefix-count>{count}</ip-prefix-count>\n<ip6-prefix-count>0</ip6-prefix-count>\n</rv-session>\n"
            )
        return (
            '<rv-session-information xmlns="http://xml.juniper.net/junos/22.4R0/junos-routing">\n'
            + "".join(rows)
            + "</rv-session-information>\n"
        )

    def rpc_command(self, rpc: etree._Element) -> str:
        text = (rpc.text or "").strip()
        if text == "show version":
            out = "Hostname: r1\nModel: mx204\nJunos: 22.4R3.25\n"
        else:
            raise RpcError("syntax error, expecting <command>", bad_element=text.split(" ")[-1] if text else "")
        return f"<output>\n{escape(out)}</output>\n"


# --- the server --------------------------------------------------------------------------------


class JunosNetconfDouble(SshServerInThread):
    """A NETCONF-over-SSH server on 127.0.0.1 answering like Junos (see the module doc).

    config: the committed configuration as set lines (with or without the ``set `` word).
    minute_seconds: how long a Junos "minute" lasts for confirm-timeout (60; tests: 0.5).
    commit_error: {"message": ..., "path": ...}: commit and commit check fail with it.
    bgp_peer_states / rv_session_states: {address: state} for the post-check RPCs
        (default Established / Up).
    rpc_replies: {rpc name: inner XML} overriding the generated replies of those RPCs.
    drop_at_rpc: an int N (the Nth RPC received, counting every session, 1-based) or an RPC
        name (e.g. "commit-configuration"): the connection is dropped when it arrives, before
        it is applied.  Only once.
    capabilities: the hello's capability URIs (default: Junos' plus :rollback-on-error).
    """

    def __init__(
        self,
        config: Sequence[str] = (),
        *,
        username: str = "netops",
        password: str = "secret",
        minute_seconds: float = 60.0,
        commit_error: Mapping[str, str] | None = None,
        bgp_peer_states: Mapping[str, str] | None = None,
        rv_session_states: Mapping[str, str] | None = None,
        rpc_replies: Mapping[str, str] | None = None,
        drop_at_rpc: int | str | None = None,
        capabilities: Sequence[str] = CAPABILITIES,
    ) -> None:
        super().__init__()
        self.username = username
        self.password = password
        committed = [line[4:] if line.startswith("set ") else line for line in config if line.strip()]
        self.device = JunosNetconfDevice(
            committed, minute_seconds, commit_error, bgp_peer_states or {}, rv_session_states or {}, rpc_replies or {}
        )
        self.drop_at_rpc = drop_at_rpc
        self.dropped_at: str | None = None
        self.capabilities = tuple(capabilities)
        self._rpcs: list[str] = []
        self._next_session_id = 40001

    # --- what tests assert on ---

    @property
    def committed_set(self) -> list[str]:
        """The committed configuration as ``set`` lines (``show configuration | display set``)."""
        return [f"set {line}" for line in self.device.committed]

    @property
    def committed(self) -> str:
        """The committed configuration as curly text."""
        return render_text(self.device.committed)

    @property
    def candidate_set(self) -> list[str]:
        return [f"set {line}" for line in self.device.shared_candidate]

    @property
    def rpcs(self) -> list[str]:
        """Every RPC received (the ``<rpc>`` element as XML text), all sessions, in order."""
        return list(self._rpcs)

    @property
    def rpc_names(self) -> list[str]:
        names = []
        for text in self._rpcs:
            rpc = etree.fromstring(text.encode())
            child = next(c for c in rpc if isinstance(c.tag, str))
            names.append(etree.QName(child).localname)
        return names

    @property
    def events(self) -> list[str]:
        return list(self.device.events)

    # --- knobs while running ---

    def hold_lock(self, user: str = "alice", pid: int = 4711) -> None:
        """Another session (a CLI user) holds the exclusive configuration lock."""
        self._call_in_loop(lambda: setattr(self.device, "lock", _Lock(None, user, pid)))

    def release_lock(self) -> None:
        self._call_in_loop(lambda: setattr(self.device, "lock", None))

    def modify_shared_candidate(self, set_lines: Sequence[str], user: str = "alice") -> None:
        """Someone else changed the shared candidate and did not commit."""

        def change() -> None:
            self.device.shared_candidate = apply_set_lines(self.device.shared_candidate, set_lines)
            self.device.shared_candidate_owner = user

        self._call_in_loop(change)

    def set_commit_error(self, error: Mapping[str, str] | None) -> None:
        self._call_in_loop(lambda: setattr(self.device, "commit_error", dict(error) if error else None))

    # --- lifecycle ---

    thread_name = "netconf-double"

    def listen_options(self) -> dict[str, Any]:
        return {"process_factory": self._run_session, "encoding": None}

    def before_close(self) -> None:
        self.device.cancel_confirm_timer()

    def _hello(self, session_id: int) -> bytes:
        caps = "".join(f"    <capability>{escape(c)}</capability>\n" for c in self.capabilities)
        return (
            f'<hello xmlns="{NC_NS}">\n  <capabilities>\n{caps}  </capabilities>\n'
            f"  <session-id>{session_id}</session-id>\n</hello>\n{EOM}\n"
        ).encode()

    def _drop_now(self, name: str) -> bool:
        return drop_due(self.drop_at_rpc, self.dropped_at, len(self._rpcs), lambda trigger: name == trigger)

    async def _run_session(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        if process.subsystem != "netconf":
            process.stderr.write(b"netconf subsystem only\n")
            process.exit(1)
            return
        session_id = self._next_session_id
        self._next_session_id += 1
        session = _Session(self.device, session_id, process.get_extra_info("username"))
        process.stdout.write(self._hello(session_id))
        buffer = b""
        try:
            while True:
                chunk = await process.stdin.read(65536)
                if not chunk:
                    break
                buffer += chunk
                while EOM.encode() in buffer:
                    message, buffer = buffer.split(EOM.encode(), 1)
                    reply = self._handle(session, message.strip(), process)
                    if reply is None:
                        return
                    process.stdout.write(reply)
        finally:
            self.device.end_session(session)
        process.exit(0)

    def _handle(self, session: _Session, message: bytes, process: asyncssh.SSHServerProcess[bytes]) -> bytes | None:
        if not message:
            return b""
        root = etree.fromstring(message)
        if etree.QName(root).localname == "hello":
            return b""
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in root.attrib.items() if "}" not in k)
        self._rpcs.append(etree.tostring(root).decode())
        operation = next((c for c in root if isinstance(c.tag, str)), None)
        name = etree.QName(operation).localname if operation is not None else ""
        if self._drop_now(name):
            self.dropped_at = name
            process.channel.get_connection().abort()
            return None
        if name == "close-session":
            body = "<ok/>"
            reply = self._wrap(attrs, body)
            process.stdout.write(reply)
            process.exit(0)
            return None
        handler = getattr(session, "rpc_" + name.replace("-", "_"), None)
        try:
            if name in session.device.rpc_replies:  # the test's own reply, in place of the generated one
                body = session.device.rpc_replies[name]
            elif handler is None:
                raise RpcError("syntax error", bad_element=name, tag="operation-not-supported")
            else:
                body = handler(operation)
        except RpcError as error:
            body = error.xml()
        return self._wrap(attrs, body)

    @staticmethod
    def _wrap(attrs: str, body: str) -> bytes:
        # No <?xml ...?> declaration: Junos sends none, and ncclient's junos handler chokes on it.
        return (f'<rpc-reply xmlns="{NC_NS}" xmlns:junos="{JUNOS_NS}"{attrs}>\n{body}</rpc-reply>\n{EOM}\n').encode()


@pytest.fixture
def junos_netconf_double() -> Iterator[Callable[..., JunosNetconfDouble]]:
    """Factory: ``junos_netconf_double(config=[...], minute_seconds=0.5, ...)`` starts a Junos
    NETCONF double and returns it (``.host``, ``.port``, ``.username``, ``.password``);
    every double started is stopped at teardown."""
    with contextlib.ExitStack() as running:

        def start(*args: Any, **settings: Any) -> JunosNetconfDouble:
            return running.enter_context(JunosNetconfDouble(*args, **settings))

        yield start

"""The runner configuration's schema: one JSON Schema (draft 2020-12) for the whole file, checked with
jsonschema before any stage reads its section, and a YAML loader that remembers the line of every
key and item, so that every problem reads "FILE:LINE: key.path: what is wrong".

jsonschema rather than pydantic: it is already installed next to the runner (no new dependency
for the role's wheelhouse), and the schema it checks is plain JSON that `peerwarden-runner schema`
prints and the Ansible role validates its variables against before rendering.

Each stage contributes its own section (`Stage.schema()`, stages/base.py); the sessions, speakers
and runner-wide keys are here. The schema checks structure and types (unknown keys, YAML 1.1
"yes"/"no" strings where a boolean belongs, ports, sizes, durations); the stages' `check` then
checks meaning (files exist, a prefix length fits its family) and normalises.

Types are strict: the loader reads only true/false as booleans (YAML 1.2), so `compress: no` is the
string "no" and refused where a boolean belongs rather than silently true; `max_prefixes: true` is
not a number.
"""

import difflib
import re
from typing import Any

import jsonschema
import yaml

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
EXPECTED = "x-expected"  # the text an error shows for a schema (our own annotation keyword)

# ---- the YAML loader: lines, strict booleans, duplicate keys refused ----


class Mapping(dict):
    """A YAML mapping that knows the line of each key (1-based) and its own."""

    line = 0
    lines: dict[Any, int]


class Sequence(list):
    """A YAML sequence that knows the line of each item and its own."""

    line = 0
    lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only) and line numbers; a key given twice in one
    mapping is an error (PyYAML keeps the last one silently)."""

    yaml_implicit_resolvers: dict[str, Any] = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class DuplicateKey(yaml.MarkedYAMLError):
    pass


def _mapping(loader, node):
    loader.flatten_mapping(node)
    mapping = Mapping()
    mapping.line, mapping.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not %s" % type(key).__name__, key_node.start_mark
            )
        if key in mapping:
            raise DuplicateKey(
                "in a mapping", node.start_mark, "the key %r is given twice" % (key,), key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _sequence(loader, node):
    sequence = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line, sequence.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return sequence


LineLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def load_yaml(text):
    return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader


def line_of(document, path):
    """The line of the key path (a list of keys and indexes, or "a.b[2].c"), as deep as it exists."""
    if isinstance(path, str):
        path = [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", path)]
    line, node = getattr(document, "line", 0), document
    for part in path:
        if isinstance(node, Mapping) and part in node:
            line, node = node.lines.get(part, line), node[part]
        elif isinstance(node, Sequence) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.lines[part], node[part]
        else:
            break
    return line


# ---- sizes and durations ----

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*([kKmMgGtT]i?)?[bB]?\s*$"
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m|h|d)?\s*$"


def size(value):
    """Octets from 1048576, "64MiB" (binary), "1G" or "1GB" (decimal); ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]i?)?[bB]?\s*$", str(value))
    if isinstance(value, bool) or not match:
        raise ValueError("%r is not a size (expected octets, or 64MiB, 1GiB, 1G, 500M)" % (value,))
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def duration(value):
    """Seconds from 90, 1.5, "90s", "10m", "2h", "1d", "500ms"; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$", str(value))
    if isinstance(value, bool) or not match:
        raise ValueError("%r is not a duration (expected seconds, or 90s, 10m, 2h, 1d)" % (value,))
    seconds = float(match.group(1)) * _SECONDS[match.group(2) or "s"]
    return int(seconds) if seconds == int(seconds) else seconds


# ---- schema builders: small, so that each stage's schema reads like its documentation ----


def obj(properties, required=(), expected=None):
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema[EXPECTED] = expected or "a mapping of %s" % ", ".join(properties)
    return schema


def boolean():
    return {"type": "boolean", EXPECTED: "true or false (YAML 1.1 yes/no/on/off are not booleans here)"}


def integer(minimum=None, maximum=None):
    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    schema[EXPECTED] = "a whole number" + (
        " from %s to %s" % (minimum, maximum)
        if minimum is not None and maximum is not None
        else " >= %s" % minimum
        if minimum is not None
        else ""
    )
    return schema


def number(minimum=0, exclusive=True):
    key = "exclusiveMinimum" if exclusive else "minimum"
    return {"type": "number", key: minimum, EXPECTED: "a number %s %s" % (">" if exclusive else ">=", minimum)}


def string(pattern=None, expected="a string", min_length=1):
    schema: dict[str, Any] = {"type": "string", "minLength": min_length, EXPECTED: expected}
    if pattern:
        schema["pattern"] = pattern
    return schema


def enum(*values):
    return {"enum": list(values), EXPECTED: "one of %s" % ", ".join(str(v).lower() for v in values)}


def port():
    return integer(1, 65535)


def asn():
    return {
        "anyOf": [integer(1, 0xFFFFFFFF), string(r"^(AS|as)?[0-9]+$", "an AS number")],
        EXPECTED: "an AS number (64500 or AS64500)",
    }


def address():
    return string(r"^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$", "an IP address")


def address_port():
    return string(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)(:[0-9]+)?$", "ADDRESS[:PORT] (an IP address)")


def size_value():
    return {
        "anyOf": [integer(1), string(SIZE_PATTERN)],
        EXPECTED: "a size: octets, or 64MiB, 1GiB (binary), 500M, 1G (decimal)",
    }


def duration_value():
    return {
        "anyOf": [number(), string(DURATION_PATTERN)],
        EXPECTED: "a duration: seconds, or 500ms, 90s, 10m, 2h, 1d",
    }


def list_of(items, min_items=0, expected=None):
    schema: dict[str, Any] = {"type": "array", "items": items}
    if min_items:
        schema["minItems"] = min_items
    schema[EXPECTED] = expected or "a list"
    return schema


def program():
    return {
        "anyOf": [string(), list_of({"type": ["string", "integer"]}, 1)],
        EXPECTED: "the command as a list: [COMMAND, ARG, ...] (it runs without a shell)",
    }


# ---- checking ----


def keyed_items(value, field, expected, problem):
    """[(field[index], item)] of a list, for the checks that read one item at a time; anything but a list
    is reported as problem(field, expected) and has no items."""
    if not isinstance(value, list):
        problem(field, expected)
        return []
    return [("%s[%d]" % (field, index), item) for index, item in enumerate(value)]


def _key(path):
    text = ""
    for part in path:
        text += "[%d]" % part if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "(top level)"


def _expected(error):
    for schema in (error.schema, *(e.schema for e in error.context or ())):
        if isinstance(schema, dict) and EXPECTED in schema:
            return schema[EXPECTED]
    return None


#: keys renamed in earlier releases -> their names now, for the "did you mean" of an old configuration
RENAMED = {"print": "stdout"}


def problems(document, schema):
    """(line, key path, text) of every schema violation, in document order."""
    found = []
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - set(allowed), key=str):
                close = [RENAMED[extra]] if RENAMED.get(extra) in allowed else []
                close = close or difflib.get_close_matches(str(extra), allowed, n=1, cutoff=0.6)
                hint = "did you mean %r? " % close[0] if close else ""
                found.append(
                    (
                        line_of(document, path + [extra]),
                        _key(path + [extra]),
                        "unknown key (%sexpected one of %s)" % (hint, ", ".join(allowed)),
                    )
                )
            continue
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            wanted = [error.schema.get("properties", {}).get(name, {}).get(EXPECTED) for name in missing]
            text = "missing (expected %s)" % wanted[0] if wanted and wanted[0] else "missing"
            found.append((line_of(document, path), _key(path + missing), text))
            continue
        expected = _expected(error)
        text = "expected %s, got %s" % (expected, _shown(error.instance)) if expected else error.message
        if error.validator == "enum" and isinstance(error.instance, str):
            close = difflib.get_close_matches(error.instance, [str(v) for v in error.validator_value], n=1, cutoff=0.6)
            text += " (did you mean %r?)" % close[0] if close else ""
        found.append((line_of(document, path), _key(path), text))
    unique = []
    for entry in sorted(found, key=lambda entry: (entry[0], entry[1])):
        if entry not in unique:
            unique.append(entry)
    return unique


def _shown(value):
    if isinstance(value, bool):
        return "%s (a boolean)" % str(value).lower()
    if isinstance(value, str):
        return "%r (a string)" % value
    if isinstance(value, (dict, list)):
        return "a %s" % ("mapping" if isinstance(value, dict) else "list")
    if value is None:
        return "nothing"
    return repr(value)

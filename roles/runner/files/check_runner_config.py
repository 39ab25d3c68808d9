"""Check the runner configuration the role would write (read on stdin, rendered with its secrets masked)
against the runner's JSON Schema, on the controller, before anything changes on the host.

    check_runner_config.py --schema runner_schema.json --source RUNNER/src [--extra-keys '["key"]'] < runner.yml

runner_schema.json is what `peerwarden-runner schema` prints (generated with `make runner-schema`; a unit
test keeps it equal); the words come from the runner's own schema module (peerwarden_runner/schema.py,
which needs only PyYAML and jsonschema), read from the runner source shipped in the collection. Each
problem is named by the role variable it comes from: "runner_filter.rules[0].match.medd: unknown key
(did you mean 'med'? ...)". Exit status 0: accepted; 1: refused (the problems on stdout); 2: could not check.
"""

import argparse
import json
import re
import sys

VARIABLES = {
    "sessions": "runner_sessions",
    "speakers": "runner_speakers",
    "rpki": "runner_rpki",
    "aspa": "runner_aspa",
    "limit": "runner_limit",
    "filter": "runner_filter",
    "filters": "runner_filters",
    "exec": "runner_exec",
    "execs": "runner_execs",
    "archive": "runner_archive",
    "metrics": "runner_metrics",
}


def variable_path(key, extra_keys):
    """The runner's key path ("filter.rules[0]") as the role variable's ("runner_filter.rules[0]")."""
    top, rest = re.match(r"^([^.\[]*)(.*)$", key).groups()
    if top in extra_keys or top not in VARIABLES:
        return "runner_config_extra.%s%s" % (top, rest)
    return VARIABLES[top] + rest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--source", required=True, help="the runner's src directory (peerwarden_runner inside)")
    parser.add_argument("--extra-keys", default="[]", help="JSON list of the keys runner_config_extra gives")
    arguments = parser.parse_args(argv)
    sys.path.insert(0, arguments.source)
    try:
        from peerwarden_runner import schema  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        print("cannot check the runner's configuration on the controller: %s (the controller needs jsonschema "
              "and PyYAML, see the collection's requirements.txt)" % error)
        return 2
    try:
        with open(arguments.schema, encoding="utf-8") as handle:
            published = json.load(handle)
        document = schema.load_yaml(sys.stdin.read())
    except (OSError, ValueError, schema.yaml.YAMLError) as error:
        print("cannot check the runner's configuration on the controller: %s" % error)
        return 2
    extra_keys = set(json.loads(arguments.extra_keys))
    found = schema.problems(document, published)
    for dummy, key, text in found:
        print("%s: %s" % (variable_path(key, extra_keys), text))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

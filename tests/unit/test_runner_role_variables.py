"""The runner role's variables are described in three places that must agree: defaults, the argument
specification (which the role enforces) and docs/runner_role.md's table."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "runner")


def load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def documented():
    with open(os.path.join(ROOT, "docs", "runner_role.md"), encoding="utf-8") as handle:
        rows = [line for line in handle if line.startswith("| `runner_")]
    return {name for row in rows for name in re.findall(r"`(runner_\w+)`", row.split("|")[1])}


def test_every_variable_is_specified_and_documented():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load("defaults", "main.yml")
    assert set(defaults) == set(options)
    assert documented() == set(options)


def test_specified_defaults_match_the_role_defaults():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load("defaults", "main.yml")
    for name, option in options.items():
        if "default" in option and "{{" not in str(defaults[name]):
            assert option["default"] == defaults[name], name


def test_the_token_is_never_logged_by_the_argument_check():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert options["runner_api_token"]["no_log"] is True

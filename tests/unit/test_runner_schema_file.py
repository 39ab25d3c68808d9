"""The runner role checks its variables against roles/runner/files/runner_schema.json: it must be what
`peerwarden-runner schema` prints for the runner shipped beside it (`make runner-schema` writes it);
and the role's checker names each problem by the role variable it comes from, in the runner's words."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(ROOT, "roles", "runner", "files")
SOURCE = os.path.join(ROOT, "runner", "src")
SCHEMA = os.path.join(FILES, "runner_schema.json")


def run(argv, stdin=""):
    env = dict(os.environ, PYTHONPATH=SOURCE)  # this tree's runner, not another one installed
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=False, timeout=120)


def test_the_shipped_schema_is_what_the_runner_prints():
    printed = run([sys.executable, "-c", "from peerwarden_runner.cli import main; main(['schema'])"])
    assert printed.returncode == 0, printed.stderr
    with open(SCHEMA, encoding="utf-8") as handle:
        shipped = handle.read()
    assert json.loads(shipped) == json.loads(printed.stdout), "run `make runner-schema` and commit the file"
    assert shipped == printed.stdout


def check(text, extra_keys=()):
    argv = [sys.executable, os.path.join(FILES, "check_runner_config.py"), "--schema", SCHEMA, "--source", SOURCE]
    return run(argv + ["--extra-keys", json.dumps(list(extra_keys))], text)


GOOD = """\
sessions:
- {name: edge, listen: 127.0.0.5:179, connect: 127.0.0.2, role: customer, to_router: [aspa, filter:strict]}
aspa: {file: /var/lib/rpki-client/json}
filters:
  strict: {rules: [{name: long, match: {as_path_length: "11.."}, action: drop}]}
limit: {max_per_block_ipv6: 64/32}
"""


def test_the_checker_accepts_a_good_configuration():
    result = check(GOOD)
    assert (result.returncode, result.stdout) == (0, "")


def test_the_checker_names_the_role_variable_in_the_runner_words():
    text = GOOD.replace("as_path_length", "as_path_lenght") + "compress: no\nmetrics: {listen: 127.0.0.1:9179}\n"
    result = check(text.replace("role: customer", "role: client"), extra_keys=["compress"])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(
            "runner_filters.strict.rules[0].match.as_path_lenght: unknown key (did you mean 'as_path_length'?"
        )
        for line in lines
    ), lines
    assert any(line.startswith("runner_sessions[0].role: expected one of") for line in lines), lines
    assert any(line.startswith("runner_config_extra.compress: unknown key") for line in lines), lines
    assert len(lines) == 3


def test_the_checker_says_when_it_cannot_check():
    result = check(GOOD.replace("sessions:", "sessions: [\n"))
    assert result.returncode == 2 and "cannot check the runner's configuration on the controller" in result.stdout

"""The role peerwarden.bgp.runner on localhost, every path under a temporary root (service manager none):
it installs the runner into a virtualenv from an offline wheelhouse, writes a checked configuration (a
proxied session and a speaker), the API token file and a checked VRP file, and a hardened unit; changes
nothing on a second run, previews changes in check mode, refuses bad configurations and bad VRP files
without touching the deployed ones, never shows a secret. The installed runner, started with the unit's
command line, relays BIRD's routes to FRR (RPKI, a per-origin limit and a filter applied), re-reads a
VRP file the role deploys without a restart, and its speaker peers with another FRR and answers its API
(read without the token, changes only with it).

The wheelhouse is built once per module from this Python's installed packages (runner_wheelhouse.py):
no index is reachable from the tests, and installing ten local wheels takes seconds.
"""

import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import urllib.error
import urllib.request

import pytest
import yaml

from lab.daemons import wait_for, wait_for_log
from playbook_runner import LocalDeployment, system_account
from runner_wheelhouse import WHEELHOUSE_ONLY, build_wheelhouse

pytestmark = pytest.mark.lab

PLAYBOOK = "peerwarden.bgp.deploy_runner"
FRR, BIRD, LISTEN, FROM, METRICS = "127.0.0.71", "127.0.0.73", "127.0.0.75", "127.0.0.76", "127.0.0.74:9179"
SPEAKER, SPEAKER_FRR, API = "127.0.0.70", "127.0.0.72", "127.0.0.70:8179"
PIP_ENV = dict(WHEELHOUSE_ONLY, PYTHONPATH=None)  # the role's pip sees only the wheelhouse
SECRET = "s3cr#t: {not yaml}"
TOKEN, NEW_TOKEN = "tok-5d1e9c#4: {a}", "tok-77b0aa-rotated"
HANDLER = "RUNNING HANDLER [peerwarden.bgp.runner : Restart peerwarden-runner]"

VALID = ["203.0.113.0/24"]  # origin 64500, a VRP says 64500
INVALID = ["198.51.100.0/24"]  # origin 64501, a VRP says 64500
FLOOD = ["100.64.%d.0/24" % i for i in range(15)]  # origin 64503, over max_per_origin 10
FILTERED = ["192.0.2.0/24"]  # origin 64504, dropped by the filter
ROAS = [
    {"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS64500"},
    {"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS64500"},
]


class Deployment(LocalDeployment):
    """One temporary root: the role's paths under it, and ansible-playbook runs against it."""

    PLAYBOOK, GROUP, EXTRA_ENV = PLAYBOOK, "peerwarden_runners", PIP_ENV

    def __init__(self, root, wheel, wheelhouse, account):
        self.root, self.account = root, account
        self.venv = os.path.join(root, "opt", "peerwarden-runner")
        self.config_dir = os.path.join(root, "etc", "peerwarden")
        self.config = os.path.join(self.config_dir, "runner.yml")
        self.state_dir = os.path.join(root, "var", "lib", "peerwarden")
        self.archive = os.path.join(self.state_dir, "archive")
        self.vrps = os.path.join(self.state_dir, "vrps", "vrps.json")
        self.vrp_src = os.path.join(root, "controller", "vrps.json")
        self.token_file = os.path.join(self.config_dir, "api.token")
        self.unit = os.path.join(root, "etc", "systemd", "system", "peerwarden-runner.service")
        self.settings = {
            "runner_install_from": "package",
            "runner_package": wheel,
            "runner_pip_extra_args": ["--no-index", "--find-links", wheelhouse],
            "runner_user": account,
            "runner_group": account,
            "runner_venv": self.venv,
            "runner_config_dir": self.config_dir,
            "runner_state_dir": self.state_dir,
            "runner_unit_dir": os.path.dirname(self.unit),
            "runner_service_manager": "none",
            "runner_sessions": [
                {
                    "name": "edge1",
                    "listen": LISTEN + ":179",
                    "connect": FRR + ":179",
                    "connect_from": FROM,
                    "to_router": ["rpki", "limit", "filter"],
                }
            ],
            "runner_vrp_file_src": self.vrp_src,
            "runner_limit": {"max_per_origin": 10, "max_length": "24/48"},
            "runner_filter": {
                "rules": [{"name": "no-doc", "match": {"prefix": ["192.0.2.0/24 or-longer"]}, "action": "drop"}]
            },
            "runner_exec": {"program": [shutil.which("cat")], "mode": "watch"},  # checked, used by no session
            "runner_archive": {"rotate_seconds": 600, "format": "both"},
            "runner_metrics": {"listen": METRICS},
            "runner_speakers": [
                {
                    "name": "edge2",
                    "local": SPEAKER,
                    "peer": SPEAKER_FRR,
                    "asn": 65020,
                    "peer_asn": 65021,
                    "api": {"listen": API},
                    "announce": ["10.70.0.0/16"],
                    "healthchecks": [
                        {
                            "name": "always",
                            "command": [shutil.which("true")],
                            "interval": 1,
                            "rise": 1,
                            "fall": 1,
                            "announce": [{"prefix": "10.70.1.0/24"}],
                        }
                    ],
                }
            ],
            "runner_api_token": TOKEN,
            "runner_log_format": "json",
        }

    def read_config(self):
        return read_bytes(self.config)

    def aside(self, name):
        """Settings that put this run's configuration and unit beside the deployed ones (which stay as they are)."""
        return {
            "runner_config_file": os.path.join(self.config_dir, name + ".yml"),
            "runner_unit_dir": os.path.join(self.root, "units-" + name),
        }

    def write_vrp_src(self, roas):
        os.makedirs(os.path.dirname(self.vrp_src), exist_ok=True)
        with open(self.vrp_src, "w", encoding="utf-8") as handle:
            json.dump({"roas": roas}, handle)


@pytest.fixture(scope="module")
def account():
    """A system user and group for the runner, made by the role, removed afterwards."""
    yield from system_account("pwrole")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, account):
    """The role's first run on an empty root (with /etc, /opt and /var/lib, as on a host)."""
    root = str(tmp_path_factory.mktemp("runner-role"))
    for folder in ("etc", "opt", os.path.join("var", "lib")):
        os.makedirs(os.path.join(root, folder))
    wheelhouse = os.path.join(root, "wheelhouse")
    os.makedirs(wheelhouse)
    deployed = Deployment(root, build_wheelhouse(wheelhouse), wheelhouse, account)
    deployed.write_vrp_src(ROAS)
    code, output, recap = deployed.run()
    assert code == 0, output
    assert recap["changed"] > 0 and recap["failed"] == 0
    deployed.first_output = output
    with open(deployed.unit, encoding="utf-8") as handle:
        deployed.first_unit = handle.read()
    return deployed


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def mode_and_owner(path):
    info = os.stat(path)
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name


def test_installs_and_writes_files_with_tight_modes_then_a_second_run_changes_nothing(deployment):
    user = deployment.account
    assert pwd.getpwnam(user).pw_shell == "/usr/sbin/nologin" and pwd.getpwnam(user).pw_uid < 1000
    assert mode_and_owner(deployment.config_dir) == (0o750, "root", user)
    assert mode_and_owner(deployment.config) == (0o640, "root", user)
    assert mode_and_owner(deployment.state_dir) == (0o750, "root", user)
    assert mode_and_owner(deployment.archive) == (0o750, user, user)
    assert mode_and_owner(os.path.dirname(deployment.vrps)) == (0o750, "root", user)
    assert mode_and_owner(deployment.vrps) == (0o640, "root", user)
    assert read_bytes(deployment.vrps) == read_bytes(deployment.vrp_src)
    assert mode_and_owner(deployment.token_file) == (0o640, "root", user)
    assert read_bytes(deployment.token_file) == (TOKEN + "\n").encode()
    assert mode_and_owner(deployment.unit) == (0o644, "root", "root")
    # the configuration is the inventory's, in the runner's format, and the installed runner accepts it
    with open(deployment.config, encoding="utf-8") as handle:
        written = yaml.safe_load(handle)
    assert written["sessions"] == deployment.settings["runner_sessions"]
    assert written["rpki"] == {"file": deployment.vrps}
    assert written["limit"] == {"max_per_origin": 10, "max_length": "24/48"}
    assert written["filter"] == deployment.settings["runner_filter"]
    assert written["exec"] == deployment.settings["runner_exec"]
    assert written["archive"] == {"rotate_seconds": 600, "format": "both", "dir": deployment.archive}
    speaker = dict(deployment.settings["runner_speakers"][0], api={"listen": API, "token_file": deployment.token_file})
    assert written["speakers"] == [speaker]
    assert TOKEN not in deployment.read_config().decode() and TOKEN not in deployment.first_output
    command = os.path.join(deployment.venv, "bin", "peerwarden-runner")
    check = subprocess.run(
        [command, "check", "-c", deployment.config],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"]},
        timeout=60,
    )
    assert check.returncode == 0 and "ok (1 session(s), 1 speaker(s))" in check.stdout, check.stderr
    with open(deployment.unit, encoding="utf-8") as handle:
        unit = handle.read()
    assert "ExecStartPre=%s check -c %s\n" % (command, deployment.config) in unit
    assert "ExecStart=%s --log-format json run -c %s\n" % (command, deployment.config) in unit
    assert "ReadWritePaths=%s\n" % deployment.archive in unit and "User=%s\n" % user in unit
    before = deployment.read_config()
    code, output, recap = deployment.run()
    assert code == 0, output
    assert recap["changed"] == 0, output
    assert deployment.read_config() == before


def test_check_mode_shows_the_change_and_changes_nothing(deployment):
    before = deployment.read_config()
    sessions = deployment.settings["runner_sessions"] + [
        {"name": "edge1-v6", "listen": "[2001:db8::10]:179", "connect": "[2001:db8::1]:179"}
    ]
    code, output, recap = deployment.run(
        "--check",
        "--diff",
        extra_vars={"runner_limit": {"max_per_origin": 20, "max_length": "24/48"}, "runner_sessions": sessions},
    )
    assert code == 0, output
    assert "\n-  max_per_origin: 10\n" in output and "\n+  max_per_origin: 20\n" in output
    assert "+  listen: '[2001:db8::10]:179'" in output
    assert recap["changed"] == 1, output  # the configuration only: pip, asked with --dry-run, has nothing to do
    assert deployment.read_config() == before


def test_a_refused_configuration_fails_with_the_checker_message_and_keeps_the_file(deployment):
    """What the schema lets through but the runner's meaning checks refuse: the host's `check` says so."""
    before = deployment.read_config()
    output = deployment.run_refused(
        runner_sessions=[{"name": "edge1", "listen": LISTEN + ":179", "connect": "999.0.0.1:179"}],
        runner_limit={"max_length": "24/129"},
    )
    # the checker's FILE:LINE: key: text, with the role's file name
    assert re.search(
        re.escape(deployment.config) + r":\d+: sessions\[0\]\.connect: '999\.0\.0\.1:179' is not ADDRESS", output
    )
    assert re.search(re.escape(deployment.config) + r":\d+: limit\.max_length: 24/129 is not a prefix length", output)
    assert deployment.read_config() == before


def test_variables_the_runner_schema_refuses_fail_before_anything_is_written(deployment):
    """A typo'd key, a wrong type: refused on the controller against the runner's schema, named by the role
    variable in the runner's words, before the role installs or writes anything."""
    aside = deployment.aside("typo")
    before = deployment.read_config()
    output = deployment.run_refused(
        **aside,
        runner_filter={"rules": [{"name": "x", "match": {"orign": 64500}, "action": "drop"}]},
        runner_limit={"max_prefixs": 10, "cease": "no"},
    )
    assert "runner_filter.rules[0].match.orign: unknown key (did you mean 'origin'?" in output
    assert "runner_limit.max_prefixs: unknown key (did you mean 'max_prefixes'?" in output
    assert "runner_limit.cease: expected true or false" in output
    assert "Check the configuration against the runner's schema" in output
    assert not os.path.exists(aside["runner_config_file"]) and not os.path.exists(aside["runner_unit_dir"])
    assert deployment.read_config() == before


def test_aspa_named_filters_and_execs_and_ipv6_block_limits_are_written(deployment):
    aside = deployment.aside("named")
    session = {
        "name": "aspa1",
        "listen": LISTEN + ":1179",
        "connect": FRR + ":179",
        "peer": BIRD,
        "role": "customer",
        "to_router": ["aspa", "limit", "filter:long", "exec:audit"],
    }
    named = {
        "runner_sessions": [session],
        "runner_aspa": {"file": os.path.join(deployment.state_dir, "aspa.json")},
        "runner_filters": {
            "long": {"rules": [{"name": "long", "match": {"as_path_length": "11.."}, "action": "drop"}]}
        },
        "runner_execs": {"audit": {"program": [shutil.which("cat")], "mode": "watch"}},
        "runner_limit": {"max_per_block": "64/16", "max_per_block_ipv6": "64/32"},
    }
    code, output, dummy = deployment.run(extra_vars=dict(aside, **named))
    assert code == 0, output
    with open(aside["runner_config_file"], encoding="utf-8") as handle:
        written = yaml.safe_load(handle)
    assert written["sessions"] == [session] and written["aspa"] == named["runner_aspa"]
    assert written["filters"] == named["runner_filters"] and written["execs"] == named["runner_execs"]
    assert written["limit"] == named["runner_limit"]


def test_md5_secrets_are_written_but_never_shown(deployment):
    """With a TCP-MD5 secret the configuration task logs nothing and shows no diff; a refused one is
    explained from a copy with the secret masked."""
    aside = deployment.aside("md5")
    other = aside["runner_config_file"]
    session = {"name": "md5", "listen": LISTEN + ":179", "connect": FRR + ":179", "md5": SECRET, "peer": BIRD}
    code, output, recap = deployment.run("--diff", extra_vars=dict(aside, runner_sessions=[session]))
    assert code == 0, output
    assert "s3cr" not in output
    with open(other, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["sessions"] == [session]
    assert mode_and_owner(other) == (0o640, "root", deployment.account)
    written = read_bytes(other)
    refused = dict(session, connect="999.0.0.1:179")  # the host's check refuses it (the schema lets it through)
    code, output, recap = deployment.run(extra_vars=dict(aside, runner_sessions=[refused]))
    assert code == 2, output
    assert "s3cr" not in output
    assert re.search(re.escape(other) + r":\d+: sessions\[0\]\.connect: '999\.0\.0\.1:179' is not ADDRESS", output)
    # refused by the schema on the controller: the secret is not shown either
    code, output, recap = deployment.run(extra_vars=dict(aside, runner_sessions=[dict(session, conect=FRR)]))
    assert code == 2, output
    assert "s3cr" not in output and "runner_sessions[0].conect: unknown key (did you mean 'connect'?" in output
    assert read_bytes(other) == written


def test_the_api_token_is_written_but_never_shown(deployment):
    """A new token, with -vvv and --diff: its file changes and the runner is to restart, and the token is in
    no output. No token: the file is removed, the speakers' API has no token (read-only) and check accepts it."""
    aside = dict(deployment.aside("token"), runner_api_token_file=os.path.join(deployment.config_dir, "token.token"))
    token_file, config = aside["runner_api_token_file"], aside["runner_config_file"]
    code, output, recap = deployment.run("-vvv", "--diff", extra_vars=dict(aside, runner_api_token=NEW_TOKEN))
    assert code == 0, output
    assert "tok-" not in output  # neither the new token nor the deployed one
    assert read_bytes(token_file) == (NEW_TOKEN + "\n").encode()
    assert mode_and_owner(token_file) == (0o640, "root", deployment.account)
    with open(config, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["speakers"][0]["api"] == {"listen": API, "token_file": token_file}
    assert HANDLER in output
    code, output, recap = deployment.run("-v", "--diff", extra_vars=dict(aside, runner_api_token=None))
    assert code == 0, output
    assert "tok-" not in output and not os.path.exists(token_file) and HANDLER in output
    with open(config, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["speakers"][0]["api"] == {"listen": API}
    command = os.path.join(deployment.venv, "bin", "peerwarden-runner")
    check = subprocess.run(
        [command, "check", "-c", config],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"]},
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert read_bytes(deployment.token_file) == (TOKEN + "\n").encode()  # the deployed one was not touched


def test_a_broken_vrp_file_is_refused_and_the_deployed_one_stays(deployment):
    before, config = read_bytes(deployment.vrps), deployment.read_config()
    broken = os.path.join(deployment.root, "controller", "broken.json")
    with open(broken, "w", encoding="utf-8") as handle:
        json.dump({"roas": [ROAS[0], {"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS-SET"}]}, handle)
    output = deployment.run_refused(runner_vrp_file_src=broken)
    assert (
        "%s was not changed: peerwarden-runner check-vrps refused %s: %s: roas[1].asn: 'AS-SET' is not an AS number"
        % (deployment.vrps, broken, broken)
    ) in output
    assert read_bytes(deployment.vrps) == before and deployment.read_config() == config


def test_bad_role_settings_fail_before_anything_changes(deployment):
    before = deployment.read_config()
    code, output, dummy = deployment.run(extra_vars={"runner_service_manager": "upstart", "runner_log_format": "xml"})
    assert code == 2, output
    assert "runner_service_manager must be one of: systemd, none, got: upstart" in output
    assert "runner_log_format must be one of: text, json, got: xml" in output
    code, output, dummy = deployment.run(leave_out=("runner_sessions", "runner_speakers"))
    assert code == 2, output
    assert (
        "nothing to run: give runner_sessions (proxied sessions) or runner_speakers (BGP speakers), or both" in output
    )
    code, output, dummy = deployment.run(extra_vars={"runner_archive": {"dir": "/srv/archive"}})
    assert code == 2, output
    assert "runner_archive.dir is taken from runner_archive_dir" in output
    code, output, dummy = deployment.run(extra_vars={"runner_rpki": {"file": "/srv/vrps.json"}})
    assert code == 2, output
    assert "runner_rpki.file is taken from runner_vrp_file when runner_vrp_file_src is set" in output
    code, output, dummy = deployment.run(extra_vars={"runner_api_token": "tok-two\nlines"})
    assert code == 2, output
    assert "runner_api_token must be one line with no spaces before or after it" in output and "tok-" not in output
    code, output, dummy = deployment.run(extra_vars={"runner_state_dir": "var/lib/peerwarden"})
    assert code == 2, output
    assert (
        "these paths must be absolute: var/lib/peerwarden, var/lib/peerwarden/archive, var/lib/peerwarden/vrps, "
        "var/lib/peerwarden/vrps/vrps.json"
    ) in output
    assert deployment.read_config() == before
    assert not os.path.exists(os.path.join(deployment.root, "work", "var"))


def test_the_unit_passes_systemd_analyze(deployment):
    """systemd-analyze reads unit files without a running systemd: verify (syntax, commands that exist)
    and the offline security review."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (package systemd)")
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=false", deployment.unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stdout + verify.stderr
    review = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", deployment.unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    exposure = float(review.stdout.split("Overall exposure level for peerwarden-runner.service:")[1].split()[0])
    assert exposure < 2.0, review.stdout


def static_routes():
    lines = []
    for prefixes, origin in ((VALID, 64500), (INVALID, 64501), (FLOOD, 64503), (FILTERED, 64504)):
        lines += ["  route %s blackhole { bgp_path.prepend(%d); };" % (prefix, origin) for prefix in prefixes]
    return "protocol static originated {\n  ipv4;\n%s\n}\n" % "\n".join(lines)


def api(method, path, body=None, token=None):
    """(status, decoded JSON) of one call to the deployed speaker's API."""
    request = urllib.request.Request(
        "http://%s%s" % (API, path), method=method, data=None if body is None else json.dumps(body).encode()
    )
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def routes_of(frr):
    return sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {}))


def test_the_installed_runner_relays_speaks_and_rereads_a_deployed_vrp_file(
    deployment, make_frr_router, make_bird_router
):
    """The unit's command line (its own virtualenv, the deployed configuration, JSON logs), as root here:
    BIRD -> the proxy -> FRR with RPKI, limit and filter applied; the speaker peers with a second FRR and
    its API reads without the token and changes only with the deployed one; then the role deploys a VRP
    file that makes a held-back route valid: no restart is asked for and FRR gets the route from the same
    runner process."""
    clean = {"PATH": os.environ["PATH"]}  # no PYTHONPATH: the virtualenv's own copy of the runner runs
    located = subprocess.run(
        [
            os.path.join(deployment.venv, "bin", "python"),
            "-c",
            "import peerwarden_runner; print(peerwarden_runner.__file__)",
        ],
        capture_output=True,
        text=True,
        env=clean,
        check=True,
        timeout=30,
    ).stdout
    assert located.startswith(os.path.join(deployment.venv, "lib"))
    exec_start = next(line for line in deployment.first_unit.splitlines() if line.startswith("ExecStart="))
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001, hostname="r71")
    router = make_frr_router(address=SPEAKER_FRR, asn=65021, neighbor=SPEAKER, neighbor_asn=65020, hostname="r72")
    log = os.path.join(deployment.root, "runner.log")
    with open(log, "w", encoding="utf-8") as output:
        runner = subprocess.Popen(
            shlex.split(exec_start[len("ExecStart=") :]), stdout=output, stderr=subprocess.STDOUT, env=clean
        )
    try:
        wait_for_log(log, "listening on", timeout=30)
        make_bird_router(address=BIRD, asn=65001, neighbor=LISTEN, neighbor_asn=65000, extra_config=static_routes())
        wait_for(
            lambda: len(routes_of(frr)) == 11,
            "FRR to hold the valid route and 10 of the flood",
            show=lambda: routes_of(frr),
        )
        routes = routes_of(frr)
        assert VALID[0] in routes and INVALID[0] not in routes and FILTERED[0] not in routes
        assert len([prefix for prefix in routes if prefix.startswith("100.64.")]) == 10
        archived = os.listdir(deployment.archive)
        assert any(".jsonl" in name for name in archived) and any(".mrt" in name for name in archived), archived
        with open(log, encoding="utf-8") as handle:
            assert all(json.loads(line) for line in handle.read().splitlines()[:3])  # --log-format json
        # the speaker: its configured and health-checked routes reach FRR; the API reads without a token
        wait_for(lambda: api("GET", "/status")[1]["state"] == "Established", "the speaker to be Established")
        assert wait_for(lambda: {"10.70.0.0/16", "10.70.1.0/24"} <= set(routes_of(router)), "the speaker's routes")
        assert api("POST", "/routes", {"prefix": "10.70.9.0/24"})[0] == 401
        assert api("POST", "/routes", {"prefix": "10.70.9.0/24"}, token="tok-wrong")[0] == 401
        status, body = api("POST", "/routes", {"prefix": "10.70.8.0/24"}, token=TOKEN)
        assert status == 200, body
        assert wait_for(lambda: "10.70.8.0/24" in routes_of(router), "FRR to hold the route POSTed with the token")
        assert "10.70.9.0/24" not in routes_of(router)
        # a new VRP file: deployed, nothing notified, re-read by the running runner
        deployment.write_vrp_src(ROAS + [{"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS64501"}])
        code, output, recap = deployment.run()
        assert code == 0, output
        assert recap["changed"] == 1 and HANDLER not in output, output
        assert read_bytes(deployment.vrps) == read_bytes(deployment.vrp_src)
        wait_for(lambda: INVALID[0] in routes_of(frr), "FRR to get the route the new VRPs make valid")
        assert runner.poll() is None
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(15)
        with open(log, encoding="utf-8") as handle:
            print("runner log:\n" + handle.read())  # shown when the test fails

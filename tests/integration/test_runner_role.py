"""The role peerwarden.bgp.runner on localhost, every path under a temporary root (service manager none):
it installs the runner into a virtualenv from an offline wheelhouse, writes a checked configuration and
a hardened unit, changes nothing on a second run, previews changes in check mode, refuses bad
configurations without touching the deployed one, and the installed runner, started with the deployed
configuration, relays BIRD's routes to FRR (RPKI and a per-origin limit applied).

The wheelhouse is built once per module from this Python's installed packages (runner_wheelhouse.py):
no index is reachable from the tests, and installing ten local wheels takes seconds.
"""
import grp
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time

import pytest
import yaml

from lab.daemons import wait_for_log
from playbook_runner import run_playbook
from runner_wheelhouse import build_wheelhouse

pytestmark = pytest.mark.lab

PLAYBOOK = "peerwarden.bgp.deploy_runner"
FRR, BIRD, LISTEN, FROM, METRICS = "127.0.0.42", "127.0.0.43", "127.0.0.45", "127.0.0.46", "127.0.0.44:9179"
# the role's pip sees only the wheelhouse: no pip configuration of this machine, no index
PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": None, "PIP_INDEX_URL": None, "PIP_EXTRA_INDEX_URL": None,
           "PIP_CONSTRAINT": None, "PYTHONPATH": None}
SECRET = "s3cr#t: {not yaml}"

VALID = ["203.0.113.0/24"]                          # origin 64500, a VRP says 64500
INVALID = ["198.51.100.0/24"]                       # origin 64501, a VRP says 64500
FLOOD = ["100.64.%d.0/24" % i for i in range(15)]   # origin 64503, over max_per_origin 10


class Deployment:
    """One temporary root: the role's paths under it, and ansible-playbook runs against it."""

    def __init__(self, root, wheel, wheelhouse, account):
        self.root, self.account = root, account
        self.venv = os.path.join(root, "opt", "peerwarden-runner")
        self.config_dir = os.path.join(root, "etc", "peerwarden")
        self.config = os.path.join(self.config_dir, "runner.yml")
        self.state_dir = os.path.join(root, "var", "lib", "peerwarden")
        self.archive = os.path.join(self.state_dir, "archive")
        self.vrps = os.path.join(self.state_dir, "vrps", "vrps.json")
        self.unit = os.path.join(root, "etc", "systemd", "system", "peerwarden-runner.service")
        self.settings = {
            "runner_package": wheel,
            "runner_pip_extra_args": ["--no-index", "--find-links", wheelhouse],
            "runner_user": account, "runner_group": account,
            "runner_venv": self.venv,
            "runner_config_dir": self.config_dir,
            "runner_state_dir": self.state_dir,
            "runner_unit_dir": os.path.dirname(self.unit),
            "runner_service_manager": "none",
            "runner_sessions": [{"name": "edge1", "listen": LISTEN + ":179", "connect": FRR + ":179",
                                 "connect_from": FROM, "to_router": ["rpki", "limit"]}],
            "runner_rpki": {"file": self.vrps},
            "runner_limit": {"max_per_origin": 10, "max_length": "24/48"},
            "runner_archive": {"rotate_seconds": 600},
            "runner_metrics": {"listen": METRICS},
        }

    def run(self, *options, extra_vars=None, leave_out=()):
        """ansible-playbook with the settings as host variables (less leave_out); return (code, output, recap)."""
        host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "ansible_become": False}
        host.update({name: value for name, value in self.settings.items() if name not in leave_out})
        workdir = os.path.join(self.root, "work")
        os.makedirs(workdir, exist_ok=True)
        code, output, dummy = run_playbook(PLAYBOOK, {"peerwarden_runners": {"hosts": {"localhost": host}}}, workdir,
                                           extra_vars=extra_vars, extra_env=PIP_ENV, options=options, timeout=240)
        recap = {}
        for line in output.splitlines():
            if line.startswith("localhost") and "changed=" in line:
                recap = {key: int(value) for key, value in (word.split("=") for word in line.split()[2:])}
        return code, output, recap

    def read_config(self):
        return read_bytes(self.config)


@pytest.fixture(scope="module")
def account():
    """A system user and group for the runner, made by the role, removed afterwards."""
    name = "pwrole%d" % os.getpid()
    yield name
    subprocess.run(["userdel", name], capture_output=True, check=False)
    subprocess.run(["groupdel", name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, account):
    """The role's first run on an empty root (with /etc, /opt and /var/lib, as on a host)."""
    root = str(tmp_path_factory.mktemp("runner-role"))
    for folder in ("etc", "opt", os.path.join("var", "lib")):
        os.makedirs(os.path.join(root, folder))
    wheelhouse = os.path.join(root, "wheelhouse")
    os.makedirs(wheelhouse)
    deployed = Deployment(root, build_wheelhouse(wheelhouse), wheelhouse, account)
    os.makedirs(os.path.dirname(deployed.vrps))  # the validator's file, as it would write it
    code, output, recap = deployed.run()
    assert code == 0, output
    assert recap["changed"] > 0 and recap["failed"] == 0
    deployed.first_output = output
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
    assert mode_and_owner(deployment.unit) == (0o644, "root", "root")
    # the configuration is the inventory's, in the runner's format, and the installed runner accepts it
    with open(deployment.config, encoding="utf-8") as handle:
        written = yaml.safe_load(handle)
    assert written["sessions"] == deployment.settings["runner_sessions"]
    assert written["limit"] == {"max_per_origin": 10, "max_length": "24/48"}
    assert written["archive"] == {"rotate_seconds": 600, "dir": deployment.archive}
    command = os.path.join(deployment.venv, "bin", "peerwarden-runner")
    check = subprocess.run([command, "check", "-c", deployment.config], capture_output=True, text=True, check=False,
                           env={"PATH": os.environ["PATH"]}, timeout=60)
    assert check.returncode == 0 and "ok (1 session(s), 0 speaker(s))" in check.stdout, check.stderr
    with open(deployment.unit, encoding="utf-8") as handle:
        unit = handle.read()
    assert "ExecStartPre=%s check -c %s\n" % (command, deployment.config) in unit
    assert "ExecStart=%s run -c %s\n" % (command, deployment.config) in unit
    assert "ReadWritePaths=%s\n" % deployment.archive in unit and "User=%s\n" % user in unit
    before = deployment.read_config()
    code, output, recap = deployment.run()
    assert code == 0, output
    assert recap["changed"] == 0, output
    assert deployment.read_config() == before


def test_check_mode_shows_the_change_and_changes_nothing(deployment):
    before = deployment.read_config()
    sessions = deployment.settings["runner_sessions"] + [
        {"name": "edge1-v6", "listen": "[2001:db8::10]:179", "connect": "[2001:db8::1]:179"}]
    code, output, recap = deployment.run("--check", "--diff", extra_vars={
        "runner_limit": {"max_per_origin": 20, "max_length": "24/48"},
        "runner_sessions": sessions})
    assert code == 0, output
    assert "\n-  max_per_origin: 10\n" in output and "\n+  max_per_origin: 20\n" in output
    assert "+  listen: '[2001:db8::10]:179'" in output
    assert recap["changed"] == 1, output  # the configuration only: pip, asked with --dry-run, has nothing to do
    assert deployment.read_config() == before


def test_a_refused_configuration_fails_with_the_checker_message_and_keeps_the_file(deployment):
    before = deployment.read_config()
    code, output, recap = deployment.run(extra_vars={
        "runner_sessions": [{"name": "edge1", "listen": LISTEN + ":179"}],
        "runner_limit": {"max_length": "24"}})
    assert code == 2, output
    assert recap["failed"] == 1 and recap["changed"] == 0, output
    assert "%s: sessions[0].connect: missing (expected ADDRESS:PORT)" % deployment.config in output
    assert "%s: limit.max_length: max_length must look like 24/48 (IPv4/IPv6), not '24'" % deployment.config in output
    assert deployment.read_config() == before


def test_md5_secrets_are_written_but_never_shown(deployment):
    """With a TCP-MD5 secret the configuration task logs nothing and shows no diff; a refused one is
    explained from a copy with the secret masked."""
    other = os.path.join(deployment.config_dir, "md5.yml")
    session = {"name": "md5", "listen": LISTEN + ":179", "connect": FRR + ":179", "md5": SECRET, "peer": BIRD}
    code, output, recap = deployment.run("--diff", extra_vars={"runner_config_file": other,
                                                               "runner_sessions": [session]})
    assert code == 0, output
    assert "s3cr" not in output
    with open(other, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["sessions"] == [session]
    assert mode_and_owner(other) == (0o640, "root", deployment.account)
    written = read_bytes(other)
    refused = dict(session, connect="not-an-address")
    code, output, recap = deployment.run(extra_vars={"runner_config_file": other,
                                                     "runner_sessions": [refused]})
    assert code == 2, output
    assert "s3cr" not in output
    assert "%s: sessions[0].connect: 'not-an-address' is not ADDRESS[:PORT]" % other in output
    assert read_bytes(other) == written


def test_bad_role_settings_fail_before_anything_changes(deployment):
    before = deployment.read_config()
    code, output, dummy = deployment.run(extra_vars={"runner_service_manager": "upstart"},
                                         leave_out=("runner_sessions",))
    assert code == 2, output
    assert "missing required arguments: runner_sessions" in output
    assert "runner_service_manager must be one of: systemd, none, got: upstart" in output
    code, output, dummy = deployment.run(extra_vars={"runner_archive": {"dir": "/srv/archive"}})
    assert code == 2, output
    assert "runner_archive.dir is taken from runner_archive_dir" in output
    code, output, dummy = deployment.run(extra_vars={"runner_state_dir": "var/lib/peerwarden"})
    assert code == 2, output
    assert "these paths must be absolute: var/lib/peerwarden, var/lib/peerwarden/archive, var/lib/peerwarden/vrps" in output
    assert deployment.read_config() == before
    assert not os.path.exists(os.path.join(deployment.root, "work", "var"))


def test_the_unit_passes_systemd_analyze(deployment):
    """systemd-analyze reads unit files without a running systemd: verify (syntax, commands that exist)
    and the offline security review."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (package systemd)")
    verify = subprocess.run(["systemd-analyze", "verify", "--man=false", deployment.unit], capture_output=True,
                            text=True, timeout=60, check=False)
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stdout + verify.stderr
    review = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", deployment.unit],
                            capture_output=True, text=True, timeout=60, check=False)
    exposure = float(review.stdout.split("Overall exposure level for peerwarden-runner.service:")[1].split()[0])
    assert exposure < 2.0, review.stdout


def static_routes():
    lines = []
    for prefixes, origin in ((VALID, 64500), (INVALID, 64501), (FLOOD, 64503)):
        lines += ["  route %s blackhole { bgp_path.prepend(%d); };" % (prefix, origin) for prefix in prefixes]
    return "protocol static originated {\n  ipv4;\n%s\n}\n" % "\n".join(lines)


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting for " + what)


def test_the_installed_runner_relays_bird_routes_to_frr(deployment, make_frr_router, make_bird_router):
    """BIRD -> the installed runner (its own virtualenv, the deployed configuration) -> FRR."""
    with open(deployment.vrps, "w", encoding="utf-8") as handle:
        json.dump({"roas": [{"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS64500"},
                            {"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS64500"}]}, handle)
    python = os.path.join(deployment.venv, "bin", "python")
    clean = {"PATH": os.environ["PATH"]}  # no PYTHONPATH: the virtualenv's own copy of the runner runs
    located = subprocess.run([python, "-c", "import peerwarden_runner; print(peerwarden_runner.__file__)"],
                             capture_output=True, text=True, env=clean, check=True, timeout=30).stdout
    assert located.startswith(os.path.join(deployment.venv, "lib"))
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001)
    log = os.path.join(deployment.root, "runner.log")
    with open(log, "w", encoding="utf-8") as output:
        runner = subprocess.Popen([os.path.join(deployment.venv, "bin", "peerwarden-runner"), "run", "-c",
                                   deployment.config], stdout=output, stderr=subprocess.STDOUT, env=clean)
    try:
        wait_for_log(log, "listening on", timeout=30)
        make_bird_router(address=BIRD, asn=65001, neighbor=LISTEN, neighbor_asn=65000, extra_config=static_routes())

        def frr_routes():
            routes = sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {}))
            return routes if len(routes) == 11 else None

        routes = wait_for(frr_routes, "FRR to hold the valid route and 10 of the flood")
        assert VALID[0] in routes and INVALID[0] not in routes
        assert len([prefix for prefix in routes if prefix.startswith("100.64.")]) == 10
        assert os.listdir(deployment.archive), "the deployed archive directory holds the session's messages"
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(15)

"""AWX credentials reach the routers: log_events run through ansible-runner with a private data directory
laid out as AWX lays it out, against the IOS SSH test double and against FRR over SSH (vtysh).

A Machine credential answered at the password prompt, a key served by ssh-agent, a Network credential
in the environment, enable via become: each reads the log. A refused command fails the task with the
router's words. Host keys are checked unless the user turns checking off.
"""

import base64
import hashlib
import subprocess

import pytest

pytest.importorskip("ansible_runner")

from awx import BECOME_PASSWORD_PROMPT, SSH_PASSWORD_PROMPT, awx_job, task_results  # noqa: E402
from lab.daemons import knock, wait_for_log  # noqa: E402

pytestmark = pytest.mark.lab

PLAYBOOK = """\
- name: Read the routers' logs
  hosts: routers
  gather_facts: false
  tasks:
    - name: Who knocks on TCP/179
      peerwarden.bgp.log_events:
"""
IOS_BUFFER = (
    "022704: Nov 20 10:07:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.6(51000) -> "
    "203.0.113.1(179), 1 packet\n"
)
IOS_FINDING = ("203.0.113.6", "firewall_drop_bgp")


def ios_router(double):
    # what an AWX user writes: no credentials in the inventory, the Machine/Network credential brings them
    return {
        "ansible_host": double.host,
        "ansible_port": double.port,
        "ansible_network_os": "cisco.ios.ios",
        "ansible_connection": "ansible.netcommon.network_cli",
    }


def frr_router(sshd):
    # network_cli would need the frr.frr collection; the module reaches the router from the controller anyway
    return {
        "ansible_host": sshd.host,
        "ansible_port": sshd.port,
        "ansible_network_os": "frr.frr.frr",
        "ansible_connection": "local",
    }


def inventory(hosts):
    return {"all": {"children": {"routers": {"hosts": hosts}}}}


def known_hosts(home, host, port, public_key):
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    with open(ssh / "known_hosts", "a", encoding="utf-8") as handle:
        handle.write("[%s]:%d %s\n" % (host, port, " ".join(public_key.split()[:2])))


def double_key(double):
    return double.host_key_line.split(None, 1)[1]


def fingerprint(public_key):
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@pytest.fixture(scope="module")
def client_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.read_text(), (path.with_suffix(".pub")).read_text()


def network_credential(server, **more):
    """An AWX Network credential: ANSIBLE_NET_* in the job's environment."""
    return {"envvars": dict({"ANSIBLE_NET_USERNAME": server.username, "ANSIBLE_NET_PASSWORD": server.password}, **more)}


def machine_credential(server, *options):
    """An AWX Machine credential with a password: -u USER --ask-pass, the password answered at the prompt."""
    return {
        "cmdline": " ".join(("-u", server.username, "--ask-pass") + options),
        "passwords": {SSH_PASSWORD_PROMPT: server.password},
    }


def job(tmp_path, hosts, trusted=(), name="job", **awx):
    """One AWX job; `trusted` are (host, port, public key) written to the job's ~/.ssh/known_hosts."""
    directory = tmp_path / name
    for host, port, key in trusted:
        known_hosts(directory / "home", host, port, key)
    runner = awx_job(directory, PLAYBOOK, inventory(hosts), **awx)
    results = task_results(runner, "peerwarden.bgp.log_events")
    assert len(results) == len(hosts), runner.stdout.read()
    return runner, results


def findings(result):
    return {(event["address"], event["kind"]) for event in result["events"]}


# --- the IOS SSH test double ------------------------------------------------------------------


@pytest.fixture
def ios(ios_double):
    def start(**options):
        double = ios_double(show_logging=IOS_BUFFER, **options)
        return double, [(double.host, double.port, double_key(double))]

    return start


def read_ios(tmp_path, double, trusted=(), host=None, name="job", **awx):
    """One job reading the IOS double; returns (runner, log_events' result)."""
    runner, (result,) = job(tmp_path, {"ios1": host or ios_router(double)}, trusted, name, **awx)
    return runner, result


def test_ios_machine_credential_answered_at_the_password_prompt(ios, tmp_path):
    double, trusted = ios()
    runner, result = read_ios(tmp_path, double, trusted, **machine_credential(double))
    assert runner.rc == 0, runner.stdout.read()
    assert IOS_FINDING in findings(result)
    assert "show logging" in double.commands


def test_ios_key_served_by_ssh_agent(ios, tmp_path, client_key):
    private, public = client_key
    double, trusted = ios(authorized_key=public, password="not-this-one")
    runner, result = read_ios(tmp_path, double, trusted, cmdline="-u %s" % double.username, ssh_key=private)
    assert runner.rc == 0, runner.stdout.read()
    assert IOS_FINDING in findings(result)


def test_ios_network_credential_in_the_environment(ios, tmp_path):
    double, trusted = ios()
    runner, result = read_ios(tmp_path, double, trusted, **network_credential(double))
    assert runner.rc == 0, runner.stdout.read()
    assert IOS_FINDING in findings(result)


@pytest.mark.parametrize("how", ["become_prompt", "become_variables", "net_authorize"])
def test_ios_enable_mode_then_the_log_is_read(ios, tmp_path, how):
    double, trusted = ios(privilege=1, enable_secret="en-s3cret")
    host = ios_router(double)
    if how == "become_prompt":  # a Machine credential with privilege escalation method enable
        awx = machine_credential(double, "--become", "--become-method", "enable", "--ask-become-pass")
        awx["passwords"][BECOME_PASSWORD_PROMPT] = "en-s3cret"
    elif how == "become_variables":
        host.update(ansible_become=True, ansible_become_method="enable")
        awx = dict(machine_credential(double), extravars={"ansible_become_password": "en-s3cret"})
    else:  # the Network credential's "Authorize" and "Authorize password"
        awx = network_credential(double, ANSIBLE_NET_AUTHORIZE="1", ANSIBLE_NET_AUTH_PASS="en-s3cret")
    runner, result = read_ios(tmp_path, double, trusted, host=host, **awx)
    assert runner.rc == 0, runner.stdout.read()
    assert IOS_FINDING in findings(result)
    assert double.commands.index("enable") < double.commands.index("show logging")


def test_ios_refused_show_logging_fails_with_the_routers_words(ios, tmp_path):
    double, trusted = ios(privilege=1, enable_secret="en-s3cret")
    runner, result = read_ios(tmp_path, double, trusted, **machine_credential(double))
    assert runner.rc != 0
    assert result["failed"] and "events" not in result
    assert "refused 'show logging': % Invalid input detected at '^' marker." in result["msg"]
    assert "ansible_become_method: enable" in result["msg"]


def test_ios_command_authorization_refusal_fails_the_task(ios, tmp_path):
    double, trusted = ios(authorization_denied=[r"^show logging"])
    runner, result = read_ios(tmp_path, double, trusted, **network_credential(double))
    assert runner.rc != 0
    assert result["failed"] and "Command authorization failed." in result["msg"]


def test_ios_wrong_enable_secret_fails_and_says_what_to_check(ios, tmp_path):
    double, trusted = ios(privilege=1, enable_secret="en-s3cret")
    credential = network_credential(double, ANSIBLE_NET_AUTHORIZE="1", ANSIBLE_NET_AUTH_PASS="wrong")
    runner, result = read_ios(tmp_path, double, trusted, **credential)
    assert runner.rc != 0
    assert "refused enable mode" in result["msg"] and "ansible_become_password" in result["msg"]
    assert "show logging" not in double.commands


# --- host keys -----------------------------------------------------------------------------------


def test_unknown_host_key_fails_with_its_fingerprint(ios, tmp_path):
    double, trusted = ios()
    runner, result = read_ios(tmp_path, double, name="unknown", **network_credential(double))
    assert runner.rc != 0
    assert "not known" in result["msg"] and fingerprint(double_key(double)) in result["msg"]
    assert "ssh-keyscan" in result["msg"]
    assert double.commands == []  # the password was never sent to whoever answered
    # the same job with checking turned off, or with the key in known_hosts, reads the log
    for name, trust, host, more in (
        ("off", (), None, {"ANSIBLE_HOST_KEY_CHECKING": "False"}),
        ("known", trusted, None, {}),
        ("var", (), dict(ios_router(double), ansible_host_key_checking=False), {}),
    ):
        runner, result = read_ios(tmp_path, double, trust, host=host, name=name, **network_credential(double, **more))
        assert runner.rc == 0 and IOS_FINDING in findings(result), name


def test_changed_host_key_fails_and_says_so(ios, ios_double, tmp_path):
    double, dummy = ios()
    impostor = ios_double()  # another key
    wrong = [(double.host, double.port, double_key(impostor))]
    runner, result = read_ios(tmp_path, double, wrong, **network_credential(double))
    assert runner.rc != 0
    assert "has CHANGED" in result["msg"] and fingerprint(double_key(double)) in result["msg"]
    assert fingerprint(double_key(impostor)) in result["msg"]
    assert double.commands == []


# --- a bastion -----------------------------------------------------------------------------------


def test_ios_through_a_bastion_with_proxyjump(ios, frr_router, make_vtysh_sshd, tmp_path, client_key):
    private, public = client_key
    bastion = make_vtysh_sshd(frr_router, authorized_key=public)
    key_file = tmp_path / "bastion_key"
    key_file.write_text(private)
    key_file.chmod(0o600)
    double, trusted = ios()
    jump = "%s@%s:%d" % (bastion.username, bastion.host, bastion.port)
    options = "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentityFile=%s"
    host = dict(ios_router(double), ansible_ssh_common_args="-o ProxyJump=%s %s" % (jump, options % key_file))
    runner, result = read_ios(tmp_path, double, trusted, host=host, **network_credential(double))
    assert runner.rc == 0, runner.stdout.read()
    assert IOS_FINDING in findings(result)
    wait_for_log(bastion.log_path, r"Accepted publickey for %s" % bastion.username)


# --- FRR over SSH with vtysh ------------------------------------------------------------------------


@pytest.fixture
def frr(frr_router, make_vtysh_sshd, client_key):
    sshd = make_vtysh_sshd(frr_router, authorized_key=client_key[1])
    knock("127.0.0.9", frr_router.address, frr_router.port, times=2)
    wait_for_log(frr_router.log_path, r"connection rejected.* - not configured", count=2)
    return sshd, [(sshd.host, sshd.port, sshd.host_key)]


FRR_FINDING = ("127.0.0.9", "unconfigured_neighbor")


@pytest.mark.parametrize("how", ["password_prompt", "ssh_agent", "network_credential", "become"])
def test_frr_over_vtysh_with_each_credential(frr, tmp_path, client_key, how):
    sshd, trusted = frr
    awx = machine_credential(sshd)
    if how == "ssh_agent":
        awx = {"cmdline": "-u %s" % sshd.username, "ssh_key": client_key[0]}
    elif how == "network_credential":
        awx = network_credential(sshd)
    elif how == "become":
        awx = machine_credential(sshd, "--become", "--become-method", "enable", "--ask-become-pass")
        awx["passwords"][BECOME_PASSWORD_PROMPT] = "unused-vtysh-enables-without-one"
    runner, (result,) = job(tmp_path, {"frr1": frr_router(sshd)}, trusted, **awx)
    assert runner.rc == 0, runner.stdout.read()
    assert FRR_FINDING in findings(result)


def test_frr_unknown_host_key_fails(frr, tmp_path):
    sshd, dummy = frr
    runner, (result,) = job(tmp_path, {"frr1": frr_router(sshd)}, **network_credential(sshd))
    assert runner.rc != 0
    assert fingerprint(sshd.host_key) in result["msg"]

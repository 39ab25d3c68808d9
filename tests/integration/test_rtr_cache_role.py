"""The role peerwarden.bgp.rtr_cache on localhost, every path under a temporary root (service manager none),
with a local VRP file (no Internet): it masks the packages' own units, installs the checker, deploys a
checked VRP file and writes hardened StayRTR units; changes nothing on a second run, previews changes in
check mode, refuses a bad VRP file without touching the served one, binds loopback by default. StayRTR,
started with the unit's command line as the unit's user, serves the VRPs to real RTR clients (StayRTR's
rtrdump, and FRR's bgpd with -M rpki when the module is installed), picks up a new file without a restart,
and the role's health check passes against it and fails clearly when nothing listens. rpki-client's units
are checked as files, and its command line is run offline (-n, in a network namespace of its own).
"""

import base64
import grp
import json
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile

import pytest

from lab.daemons import free_port, wait_for
from playbook_runner import LocalDeployment

# each test deploys the role with ansible-playbook once or more: minutes on a loaded 2-core machine
pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]

PLAYBOOK = "peerwarden.bgp.deploy_rtr_cache"
CACHE = "127.0.0.91"
ROAS = [
    {"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS64500"},
    {"prefix": "198.51.100.0/24", "maxLength": 25, "asn": 64501},
    {"prefix": "2001:db8::/32", "maxLength": 48, "asn": "AS64502"},
]
MORE = {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS64503"}
STAYRTR, RTRDUMP, RPKI_CLIENT = "/usr/bin/stayrtr", "/usr/bin/rtrdump", "/usr/sbin/rpki-client"
BGPD, VTYSH, RPKI_MODULE = "/usr/lib/frr/bgpd", "/usr/bin/vtysh", "/usr/lib/x86_64-linux-gnu/frr/modules/bgpd_rpki.so"
HANDLER = "RUNNING HANDLER [peerwarden.bgp.rtr_cache : Restart the RTR cache]"


def as_set(roas):
    """VRPs as comparable triples, whatever the AS number's spelling."""
    return {(roa["prefix"], roa["maxLength"], int(str(roa["asn"]).upper().removeprefix("AS"))) for roa in roas}


class Deployment(LocalDeployment):
    """One temporary root: the role's paths under it, and ansible-playbook runs against it."""

    PLAYBOOK, GROUP = PLAYBOOK, "peerwarden_rtr_caches"

    def __init__(self, root):
        self.root = root
        self.unit_dir = os.path.join(root, "etc", "systemd", "system")
        self.vrp_dir = os.path.join(root, "var", "lib", "peerwarden", "rtr-cache")
        self.vrps = os.path.join(self.vrp_dir, "vrps.json")
        self.vrp_src = os.path.join(root, "controller", "vrps.json")
        self.checker = os.path.join(root, "usr", "local", "libexec", "peerwarden", "rtr_cache_check.py")
        self.port, self.metrics = free_port(CACHE), free_port(CACHE)
        self.listen = "%s:%d" % (CACHE, self.port)
        self.unit = os.path.join(self.unit_dir, "peerwarden-rtr-cache.service")
        self.settings = {
            "rtr_cache_listen": [self.listen],
            "rtr_cache_metrics_listen": "%s:%d" % (CACHE, self.metrics),
            "rtr_cache_refresh": 1,
            "rtr_cache_vrp_file": self.vrp_src,
            "rtr_cache_vrp_dir": self.vrp_dir,
            "rtr_cache_check_command": self.checker,
            "rtr_cache_unit_dir": self.unit_dir,
            "rtr_cache_service_manager": "none",
            "rtr_cache_health_check": False,
            "rtr_cache_health_check_wait": 5,
        }

    def aside(self, name):
        """Settings that put this run's units beside the deployed ones (which stay as they are)."""
        return {"rtr_cache_unit_dir": os.path.join(self.root, "units-" + name)}

    def write_vrp_src(self, roas, path=None):
        path = path or self.vrp_src
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"roas": roas}, handle)
        return path


@pytest.fixture(scope="module")
def deployment():
    """The role's first run on an empty root. The root is made with mkdtemp and opened (0755) so that
    StayRTR, started as its unit's user, can reach the served file (pytest's base directory is 0700)."""
    for binary, package in ((STAYRTR, "stayrtr"), (RTRDUMP, "stayrtr")):
        if not os.path.exists(binary):
            pytest.skip("%s is not installed (package %s)" % (binary, package))
    root = tempfile.mkdtemp(prefix="peerwarden-rtr-cache-role-")
    os.chmod(root, 0o755)
    # /etc, /var/lib, /var/cache and /usr/local as on a host (the file module gives the directories it makes
    # on the way the mode and owner of the last one)
    for folder in ("etc", os.path.join("var", "lib"), os.path.join("var", "cache"), os.path.join("usr", "local")):
        os.makedirs(os.path.join(root, folder), mode=0o755)
    deployed = Deployment(root)
    deployed.write_vrp_src(ROAS)
    code, output, recap = deployed.run()
    assert code == 0, output
    assert recap["changed"] > 0 and recap["failed"] == 0
    yield deployed
    shutil.rmtree(root, ignore_errors=True)


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def read_text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def mode_and_owner(path):
    info = os.lstat(path)
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name


def exec_start(unit_path):
    """The unit's ExecStart as argv."""
    line = next(line for line in read_text(unit_path).splitlines() if line.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart=") :])


def unit_value(unit_path, key):
    return [line.split("=", 1)[1] for line in read_text(unit_path).splitlines() if line.startswith(key + "=")]


def as_unit_user(unit_path, argv):
    """argv run as the unit's User= and Group= (setpriv, util-linux), as systemd would."""
    user, group = unit_value(unit_path, "User")[0], unit_value(unit_path, "Group")[0]
    return ["setpriv", "--reuid", user, "--regid", group, "--clear-groups"] + argv


def test_writes_the_files_then_a_second_run_changes_nothing(deployment):
    assert mode_and_owner(deployment.vrp_dir) == (0o750, "root", "_stayrtr")
    assert mode_and_owner(deployment.vrps) == (0o640, "root", "_stayrtr")
    assert read_bytes(deployment.vrps) == read_bytes(deployment.vrp_src)
    assert mode_and_owner(deployment.checker) == (0o755, "root", "root")
    assert mode_and_owner(deployment.unit) == (0o644, "root", "root")
    # the packages' own units are masked (stayrtr.service would listen on :323, all interfaces)
    for name in ("stayrtr.service", "rpki-client.service", "rpki-client.timer"):
        assert os.readlink(os.path.join(deployment.unit_dir, name)) == "/dev/null"
    # a local VRP file: no rpki-client units
    assert sorted(os.listdir(deployment.unit_dir)) == [
        "peerwarden-rtr-cache.service",
        "rpki-client.service",
        "rpki-client.timer",
        "stayrtr.service",
    ]
    assert exec_start(deployment.unit) == [
        STAYRTR,
        "-bind",
        deployment.listen,
        "-metrics.addr",
        "%s:%d" % (CACHE, deployment.metrics),
        "-cache",
        deployment.vrps,
        "-checktime=false",
        "-refresh",
        "1",
    ]
    unit = read_text(deployment.unit)
    assert "User=_stayrtr\n" in unit and "Group=_stayrtr\n" in unit
    # port 3323 and up: no capability at all, in a user namespace
    assert "CapabilityBoundingSet=\n" in unit and "PrivateUsers=yes\n" in unit and "AmbientCapabilities" not in unit
    before = read_bytes(deployment.unit)
    code, output, recap = deployment.run()
    assert code == 0, output
    assert recap["changed"] == 0, output
    assert read_bytes(deployment.unit) == before


def test_check_mode_shows_the_change_and_changes_nothing(deployment):
    before = read_bytes(deployment.vrps)
    changed = deployment.write_vrp_src(ROAS + [MORE], os.path.join(deployment.root, "controller", "more.json"))
    code, output, recap = deployment.run(
        "--check", "--diff", extra_vars={"rtr_cache_vrp_file": changed, "rtr_cache_refresh": 30}
    )
    assert code == 0, output
    assert "-refresh 30" in output and "192.0.2.0/24" in output  # the unit's diff and the file's
    assert recap["changed"] == 2, output  # the VRP file and the unit
    assert read_bytes(deployment.vrps) == before and "-refresh 1\n" in read_text(deployment.unit)


def test_a_bad_vrp_file_is_refused_and_the_served_one_stays(deployment):
    before, unit = read_bytes(deployment.vrps), read_bytes(deployment.unit)
    broken = deployment.write_vrp_src(
        [
            ROAS[0],
            {"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS-SET"},
            {"prefix": "2001:db8::/32", "maxLength": 16, "asn": 64502},
        ],
        os.path.join(deployment.root, "controller", "broken.json"),
    )
    output = deployment.run_refused(rtr_cache_vrp_file=broken)
    assert (
        "%s was not changed: the checker refused %s: %s: roas[1].asn: 'AS-SET' is not an AS number"
        % (deployment.vrps, broken, broken)
    ) in output
    assert "%s: roas[2].maxLength: 16 is not between the prefix length 32 and 128" % broken in output
    # not JSON, an empty list
    for name, content in (("garbage.json", "<html>502 Bad Gateway</html>"), ("empty.json", '{"roas": []}')):
        path = os.path.join(deployment.root, "controller", name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
        code, output, recap = deployment.run(extra_vars={"rtr_cache_vrp_file": path})
        assert code == 2 and recap["changed"] == 0, output
        assert ("not JSON" if name == "garbage.json" else "0 VRP(s), fewer than the 1 required") in output
    assert read_bytes(deployment.vrps) == before and read_bytes(deployment.unit) == unit


def test_the_default_listen_address_is_loopback_and_a_wildcard_is_refused(deployment):
    aside = deployment.aside("defaults")
    code, output, dummy = deployment.run(
        extra_vars=aside, leave_out=("rtr_cache_listen", "rtr_cache_metrics_listen", "rtr_cache_refresh")
    )
    assert code == 0, output
    argv = exec_start(os.path.join(aside["rtr_cache_unit_dir"], "peerwarden-rtr-cache.service"))
    assert argv[:5] == [STAYRTR, "-bind", "127.0.0.1:3323", "-metrics.addr", "127.0.0.1:9847"]
    assert argv[-2:] == ["-refresh", "60"]
    for name, value in (
        ("rtr_cache_listen", [":3323"]),
        ("rtr_cache_listen", ["localhost:3323"]),
        ("rtr_cache_listen", []),
        ("rtr_cache_listen", ["127.0.0.1:3323", "127.0.0.1:3323"]),
    ):
        code, output, dummy = deployment.run(extra_vars=dict(aside, **{name: value}))
        assert code == 2, output
        assert "rtr_cache_listen must list one or more distinct ADDRESS:PORT" in output
    code, output, dummy = deployment.run(extra_vars=dict(aside, rtr_cache_metrics_listen=":9847"))
    assert code == 2 and "StayRTR's metrics endpoint would listen on all interfaces" in output, output
    code, output, dummy = deployment.run(extra_vars=dict(aside, rtr_cache_service_manager="upstart"))
    assert code == 2 and "rtr_cache_service_manager must be one of: systemd, none, got: upstart" in output, output


def test_each_listen_address_gets_a_unit_and_a_dropped_one_is_removed(deployment):
    aside = deployment.aside("two")
    units = aside["rtr_cache_unit_dir"]
    listen = ["127.0.0.1:3323", "[::1]:323"]
    code, output, dummy = deployment.run(extra_vars=dict(aside, rtr_cache_listen=listen))
    assert code == 0, output
    first, second = (
        os.path.join(units, name) for name in ("peerwarden-rtr-cache.service", "peerwarden-rtr-cache-2.service")
    )
    assert exec_start(first)[1:5] == ["-bind", "127.0.0.1:3323", "-metrics.addr", "%s:%d" % (CACHE, deployment.metrics)]
    assert exec_start(second)[1:5] == ["-bind", "[::1]:323", "-metrics.addr", "%s:%d" % (CACHE, deployment.metrics + 1)]
    # port 323 (below 1024): the one capability it needs, and no user namespace
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE\n" in read_text(second)
    assert "PrivateUsers=yes" not in read_text(second)
    assert "AmbientCapabilities" not in read_text(first) and "PrivateUsers=yes\n" in read_text(first)
    code, output, recap = deployment.run(extra_vars=dict(aside, rtr_cache_listen=listen[:1]))
    assert code == 0 and recap["changed"] == 1, output  # the removal only
    assert not os.path.exists(second) and os.path.exists(first)


def tal_key():
    """A fresh RSA public key, base64 DER (openssl), for TALs that are well-formed but lead nowhere."""
    if not shutil.which("openssl"):
        return "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"  # the files are still written; rpki-client is not run
    private = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    public = subprocess.run(
        ["openssl", "pkey", "-pubout", "-outform", "DER"], input=private, capture_output=True, check=True, timeout=60
    ).stdout
    return base64.b64encode(public).decode()


def test_rpki_client_units_and_its_command_line(deployment):
    """rpki-client mode, as files (nothing installed, nothing fetched): the timer, the oneshot service with
    its TALs, and StayRTR serving its JSON output with -checktime; a missing TAL fails the run by name.
    Then the unit's command line runs offline (-n) in a network namespace with no interface, as the unit's
    user: it accepts the arguments and writes the JSON that StayRTR will serve."""
    aside = deployment.aside("rpki-client")
    units = aside["rtr_cache_unit_dir"]
    tals = os.path.join(deployment.root, "tals")
    os.makedirs(tals, exist_ok=True)
    key = tal_key()
    for name in ("ripe", "apnic"):
        with open(os.path.join(tals, name + ".tal"), "w", encoding="utf-8") as handle:
            # a TAL (RFC 8630: a URI, a blank line, a public key) of a trust anchor that does not exist
            handle.write("rsync://rpki.invalid/ta/%s.cer\n\n%s\n" % (name, key))
    cache_dir, output_dir = (os.path.join(deployment.root, "var", name, "rpki-client") for name in ("cache", "lib"))
    settings = dict(
        aside,
        rtr_cache_vrp_file=None,
        rtr_cache_install_packages=False,
        rtr_cache_tal_dir=tals,
        rtr_cache_tals=["ripe", "apnic"],
        rtr_cache_rpki_client_cache_dir=cache_dir,
        rtr_cache_rpki_client_output_dir=output_dir,
        rtr_cache_rpki_client_user="nobody",
        rtr_cache_rpki_client_group="nogroup",
        rtr_cache_rpki_client_interval=900,
    )
    code, output, recap = deployment.run(extra_vars=settings)
    assert code == 0, output
    service = os.path.join(units, "peerwarden-rpki-client.service")
    assert exec_start(service) == [
        RPKI_CLIENT,
        "-j",
        "-s",
        "3600",
        "-d",
        cache_dir,
        "-t",
        tals + "/ripe.tal",
        "-t",
        tals + "/apnic.tal",
        output_dir,
    ]
    assert unit_value(service, "Type") == ["oneshot"] and unit_value(service, "User") == ["nobody"]
    assert unit_value(service, "ReadWritePaths") == ["%s %s" % (cache_dir, output_dir)]
    assert unit_value(os.path.join(units, "peerwarden-rpki-client.timer"), "OnUnitInactiveSec") == ["900"]
    argv = exec_start(service)
    stayrtr = exec_start(os.path.join(units, "peerwarden-rtr-cache.service"))
    assert stayrtr[5:8] == ["-cache", output_dir + "/json", "-checktime=true"]
    assert mode_and_owner(cache_dir) == (0o750, "nobody", "nogroup")
    assert mode_and_owner(output_dir) == (0o755, "nobody", "nogroup")
    code, output, recap = deployment.run(extra_vars=dict(settings, rtr_cache_tals=["ripe", "arin-typo"]))
    assert code == 2, output
    assert "these TAL files are missing: %s/arin-typo.tal" % tals in output
    code, output, recap = deployment.run(extra_vars=dict(settings, rtr_cache_arin_tal_accepted=True))
    assert code == 2 and "rtr_cache_arin_tal_accepted is true but rtr_cache_arin_tal_src is not set" in output
    if not os.path.exists(RPKI_CLIENT) or not shutil.which("unshare") or not shutil.which("openssl"):
        pytest.skip(
            "rpki-client (package rpki-client), unshare or openssl is not installed: its command line was not run"
        )
    offline = subprocess.run(
        ["unshare", "--net"] + as_unit_user(service, argv[:1] + ["-n"] + argv[1:]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    with open(os.path.join(output_dir, "json"), encoding="utf-8") as handle:
        written = json.load(handle)
    assert written["roas"] == [] and written["metadata"]["talfiles"] == [tals + "/ripe.tal", tals + "/apnic.tal"]
    check = subprocess.run(
        [
            "python3",
            deployment.checker,
            "vrps",
            "--min-vrps",
            "0",
            "--max-age",
            "86400",
            os.path.join(output_dir, "json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_rpki_client_units_go_when_a_vrp_file_is_served(deployment):
    aside = deployment.aside("rpki-client")
    service = os.path.join(aside["rtr_cache_unit_dir"], "peerwarden-rpki-client.service")
    if not os.path.exists(service):
        pytest.skip("the rpki-client test before this one wrote no units")
    code, output, recap = deployment.run(extra_vars=aside)
    assert code == 0, output
    assert not os.path.exists(service) and not os.path.exists(service.replace(".service", ".timer"))


def test_the_units_pass_systemd_analyze(deployment):
    """systemd-analyze reads unit files without a running systemd: verify (syntax, commands that exist)
    and the offline security review."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (package systemd)")
    units = [deployment.unit]
    aside = deployment.aside("analyze")
    if os.path.exists(RPKI_CLIENT):  # its package made the user _rpki-client the unit runs as
        code, output, dummy = deployment.run(
            extra_vars=dict(
                aside,
                rtr_cache_vrp_file=None,
                rtr_cache_install_packages=False,
                rtr_cache_tal_dir="/",
                rtr_cache_tals=[],
                rtr_cache_rpki_client_cache_dir=os.path.join(deployment.root, "analyze", "cache"),
                rtr_cache_rpki_client_output_dir=os.path.join(deployment.root, "analyze", "out"),
                rtr_cache_listen=["127.0.0.1:323"],
            )
        )
        assert code == 0, output
        units += [
            os.path.join(aside["rtr_cache_unit_dir"], name)
            for name in (
                "peerwarden-rtr-cache.service",
                "peerwarden-rpki-client.service",
                "peerwarden-rpki-client.timer",
            )
        ]
    for unit in units:
        verify = subprocess.run(
            ["systemd-analyze", "verify", "--man=false", unit], capture_output=True, text=True, timeout=60, check=False
        )
        assert verify.returncode == 0 and verify.stdout + verify.stderr == "", unit + verify.stdout + verify.stderr
        if unit.endswith(".timer"):
            continue
        review = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        name = os.path.basename(unit)
        exposure = float(review.stdout.split("Overall exposure level for %s:" % name)[1].split()[0])
        # StayRTR on a port of 3323 and up runs with no capability in a user namespace: stricter still
        assert exposure < (1.5 if unit == deployment.unit else 2.0), review.stdout


def rtrdump(listen, directory):
    """The VRPs a real RTR client (StayRTR's rtrdump, RTR version 1) receives, as a set (or its error)."""
    path = os.path.join(directory, "dump.json")
    if os.path.exists(path):
        os.unlink(path)
    dump = subprocess.run(
        [RTRDUMP, "-connect", listen, "-rtr.version", "1", "-file", path],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if dump.returncode != 0:  # not listening yet
        return dump.stderr
    with open(path, encoding="utf-8") as handle:
        return as_set(json.load(handle)["roas"])


def start_frr_rpki(cache, port, cleanup_dirs):
    """FRR's bgpd with -M rpki, no BGP session, its RPKI cache the deployed StayRTR: (process, vtysh argv)."""
    run_dir = tempfile.mkdtemp(prefix="peerwarden-frr-rpki-")
    cleanup_dirs.append(run_dir)
    with open(os.path.join(run_dir, "bgpd.conf"), "w", encoding="utf-8") as handle:
        handle.write(
            "hostname rtr-client\nlog file %s/bgpd.log informational\n!\nrpki\n rpki cache %s %d preference 1\n"
            "exit\n!\nrouter bgp 65000\n bgp router-id 127.0.0.92\nexit\n" % (run_dir, cache, port)
        )
    with open(os.path.join(run_dir, "vtysh.conf"), "w", encoding="utf-8") as handle:
        handle.write("hostname rtr-client\nno service integrated-vtysh-config\n")
    uid, gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    for path in (run_dir, os.path.join(run_dir, "bgpd.conf"), os.path.join(run_dir, "vtysh.conf")):
        os.chown(path, uid, gid)
    os.chmod(run_dir, 0o750)
    with open(os.path.join(run_dir, "bgpd.out"), "wb") as out:
        process = subprocess.Popen(
            [
                BGPD,
                "-Z",
                "-u",
                "frr",
                "-g",
                "frr",
                "-M",
                "rpki",
                "-f",
                run_dir + "/bgpd.conf",
                "-i",
                run_dir + "/bgpd.pid",
                "-z",
                run_dir + "/zserv.api",
                "--vty_socket",
                run_dir,
                "-l",
                "127.0.0.92",
                "-p",
                "0",
                "-P",
                "0",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, [VTYSH, "--vty_socket", run_dir, "--config_dir", run_dir]


def frr_prefix_table(vtysh):
    result = subprocess.run(
        vtysh + ["-c", "show rpki prefix-table json"], capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0 or not result.stdout.strip().startswith("{"):
        return None
    table = json.loads(result.stdout)
    return {
        ("%s/%d" % (entry["prefix"], entry["prefixLenMin"]), entry["prefixLenMax"], entry["asn"])
        for entry in table.get("prefixes", [])
    }


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_stayrtr_serves_the_deployed_vrps_to_rtr_clients(deployment):
    """StayRTR started with the unit's command line, as the unit's user: rtrdump (and FRR, with its RPKI
    module) receive exactly the deployed VRPs; the role's health check passes; a new file is deployed
    (no restart notified) and served by the same process; the health check fails clearly on an address
    where nothing listens and when fewer VRPs than required are served."""
    code, output, recap = deployment.run()  # the deployed state, whatever the tests before left
    assert code == 0, output
    log_path = os.path.join(deployment.root, "stayrtr.log")
    dirs = []
    with open(log_path, "w", encoding="utf-8") as log:
        stayrtr = subprocess.Popen(
            as_unit_user(deployment.unit, exec_start(deployment.unit)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    frr = None
    try:
        wait_for(
            lambda: rtrdump(deployment.listen, deployment.root) == as_set(ROAS),
            "rtrdump to receive the deployed VRPs",
            show=lambda: "%s\nStayRTR's log:\n%s" % (rtrdump(deployment.listen, deployment.root), read_text(log_path)),
        )
        if os.path.exists(RPKI_MODULE):
            frr, vtysh = start_frr_rpki(CACHE, deployment.port, dirs)
            wait_for(
                lambda: frr_prefix_table(vtysh) == as_set(ROAS),
                "FRR's RPKI table to hold the deployed VRPs",
                show=lambda: frr_prefix_table(vtysh),
            )
        # the health check, a Reset Query per listen address: passes, changes nothing
        code, output, recap = deployment.run(extra_vars={"rtr_cache_health_check": True})
        assert code == 0 and recap["changed"] == 0, output
        assert "%s: ok (3 VRPs: 2 IPv4, 1 IPv6; RTR version 1" % deployment.listen in output
        # a new file: deployed without a restart, served by the same StayRTR
        deployment.write_vrp_src(ROAS + [MORE])
        code, output, recap = deployment.run(extra_vars={"rtr_cache_health_check": True, "rtr_cache_min_vrps": 4})
        assert code == 0 and recap["changed"] == 1 and HANDLER not in output, output
        assert "%s: ok (4 VRPs" % deployment.listen in output
        assert rtrdump(deployment.listen, deployment.root) == as_set(ROAS + [MORE])
        if frr is not None:
            wait_for(
                lambda: frr_prefix_table(vtysh) == as_set(ROAS + [MORE]),
                "FRR to receive the new VRP",
                show=lambda: frr_prefix_table(vtysh),
            )
        assert stayrtr.poll() is None
        # the health check fails by name: too few VRPs, nothing listening
        code, output, recap = deployment.run(
            extra_vars={"rtr_cache_health_check": True, "rtr_cache_min_vrps": 9, "rtr_cache_health_check_wait": 1}
        )
        assert code == 2, output
        assert (
            "the RTR cache does not serve VRPs: %s: 4 VRP(s) served, fewer than the 9 required" % deployment.listen
            in output
        )
    finally:
        if frr is not None:
            stop(frr)
        stop(stayrtr)
        for directory in dirs:
            shutil.rmtree(directory, ignore_errors=True)
    nothing = "%s:%d" % (CACHE, free_port(CACHE))
    code, output, recap = deployment.run(
        extra_vars={
            "rtr_cache_health_check": True,
            "rtr_cache_health_check_wait": 1,
            "rtr_cache_listen": [nothing],
            "rtr_cache_unit_dir": os.path.join(deployment.root, "units-nothing"),
        }
    )
    assert code == 2, output
    assert (
        "the RTR cache does not serve VRPs: %s: connection refused: nothing listens there "
        "(is the service running?)" % nothing
    ) in output

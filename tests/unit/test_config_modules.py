"""The config module layer with no router: options checked before any device, max-prefix sources, rendered
state, and the FRR config model (plan, idempotency, prediction, restore ops) on captured running configs.

The FRR running config below is shaped as FRR 8.4.4 prints it (`show running-config` of the lab bgpd,
tests/lab/daemons.py make_frr_router with -M rpki): `rpki` block always present, threshold 75 not shown.
"""

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import limits
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError, rpki_intent
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.options import LIMITS_SPEC, RPKI_SPEC
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.options import CONNECTION_OPTIONS
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config as frr
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import FrrDriver

RUNNING = """\
Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname pe1
!
router bgp 65000
 bgp router-id 192.0.2.254
 neighbor 192.0.2.1 remote-as 65001
 neighbor 192.0.2.2 remote-as 65002
 !
 address-family ipv4 unicast
  neighbor 192.0.2.1 route-map IXP-IN in
  neighbor 192.0.2.2 maximum-prefix 50
 exit-address-family
exit
!
route-map IXP-IN permit 10
 set community 65000:100 additive
exit
!
rpki
exit
!
end
"""

DATASET = {
    "addresses": {
        "192.0.2.1": {"asn": 65001, "exchange": "ix1", "lan": "v4"},
        "192.0.2.2": {"asn": 65002, "exchange": "ix1", "lan": "v4"},
        "192.0.2.3": {"asn": 65003, "exchange": "ix1", "lan": "v4", "max_prefix": 77},
        "2001:db8::1": {"asn": 65001, "exchange": "ix1", "lan": "v6"},
    },
    "networks": {
        "65001": {"asn": 65001, "info_prefixes4": 1000, "info_prefixes6": 0},
        "65002": {"asn": 65002, "info_prefixes4": 200, "info_prefixes6": 20},
        "65003": {"asn": 65003, "info_prefixes4": 5},
    },
}


def params(spec, **given):
    """What Ansible hands the module: every option, defaults applied, None when unset."""
    result = {}
    for name, option in spec.items():
        result[name] = option.get("default")
    result.update(platform="frr", state="present")
    result.update(given)
    return result


# --------------------------------------------------------------------------- checked before any device


@pytest.mark.parametrize(
    "given, message",
    [
        ({"caches": [{"address": "192.0.2.300"}]}, "caches[0].address: '192.0.2.300'"),
        ({"caches": [{"address": "192.0.2.10", "port": 0}]}, "caches[0].port: 0"),
        ({"caches": [{"address": "192.0.2.10", "refresh": 100000}]}, "caches[0].refresh: 100000"),
        ({"caches": [{"address": "192.0.2.10", "refresh": 900, "expire": 800}]}, "caches[0].expire: 800"),
        (
            {"caches": [{"address": "192.0.2.10"}], "valid": {"community": "65000:70000"}},
            "valid.community: '65000:70000'",
        ),
        ({"caches": [{"address": "192.0.2.10"}], "neighbors": ["192.0.2.0/24"]}, "neighbors: '192.0.2.0/24'"),
        ({"caches": [{"address": "192.0.2.10"}], "policy": "9BAD"}, "policy: '9BAD'"),
        ({"caches": []}, "caches: [] is empty"),
    ],
)
def test_rpki_values_fail_naming_option_and_value_with_no_device(given, message, monkeypatch):
    touched = []
    monkeypatch.setattr(FrrDriver, "config", lambda *args: touched.append(args))
    with pytest.raises(ValueError) as error:
        run_config("rpki", params(RPKI_SPEC, host="192.0.2.254", username="u", **given))
    assert message in str(error.value)
    assert touched == []


def test_frr_rules_are_checked_with_no_device_too(monkeypatch):
    monkeypatch.setattr(FrrDriver, "config", lambda *args: pytest.fail("a device was touched"))
    caches = [{"address": "192.0.2.10", "refresh": 300}, {"address": "192.0.2.11", "refresh": 600}]
    with pytest.raises(ValueError, match=r"caches\[\]\.refresh: \[300, 600\] differ"):
        run_config("rpki", params(RPKI_SPEC, host="h", username="u", caches=caches))


@pytest.mark.parametrize(
    "given, message",
    [
        ({"neighbors": [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 0}}]}, "neighbors[0].max_prefixes.ipv4: 0"),
        ({"neighbors": [{"address": "192.0.2.1", "asn": 0}]}, "neighbors[0].asn: 0"),
        ({"neighbors": [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 5}, "threshold": 101}]},
         "neighbors[0].threshold: 101"),
        ({"neighbors": [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 5}, "restart_minutes": 0}]},
         "neighbors[0].restart_minutes: 0"),
        ({"neighbors": [{"address": "192.0.2.9"}]}, "neighbors[0].max_prefixes: None: no value given"),
        ({"neighbors": [], "max_length": {"ipv4": 40, "ipv6": 48}}, "max_length.ipv4: 40"),
        ({"neighbors": [], "headroom": -1}, "headroom: -1"),
    ],
)  # fmt: skip
def test_limit_values_fail_naming_option_and_value(given, message):
    with pytest.raises(IntentError) as error:
        run_config("limits", params(LIMITS_SPEC, **given))
    assert message in str(error.value)


def test_secrets_are_no_log():
    assert CONNECTION_OPTIONS["password"]["no_log"] and CONNECTION_OPTIONS["enable_password"]["no_log"]
    assert RPKI_SPEC["password"]["no_log"] and LIMITS_SPEC["enable_password"]["no_log"]


# ----------------------------------------------------------------------------------- max-prefix sources


def resolve(neighbors, **options):
    spec = params(LIMITS_SPEC, neighbors=neighbors, dataset=DATASET, **options)
    return limits.resolve(spec)


def test_explicit_wins_then_ixf_then_peeringdb_with_headroom_and_floor():
    intent, sources = resolve(
        [
            {"address": "192.0.2.1", "max_prefixes": {"ipv4": 7}},  # explicit, although PeeringDB says 1000
            {"address": "192.0.2.3"},  # IX-F max_prefix 77 in the dataset
            {"address": "192.0.2.2"},  # PeeringDB 200 + 10 % = 220
            {"address": "2001:db8::1"},  # PeeringDB info_prefixes6 empty (0): the floor itself
        ],
        floor={"ipv4": 100, "ipv6": 30},
    )
    got = {source["address"]: (source["max_prefixes"], source["source"]) for source in sources}
    assert got["192.0.2.1"] == ({"ipv4": 7, "ipv6": None}, {"ipv4": "explicit", "ipv6": None})
    assert got["192.0.2.3"] == ({"ipv4": 77, "ipv6": None}, {"ipv4": "ixf", "ipv6": None})
    assert got["192.0.2.2"] == ({"ipv4": 220, "ipv6": None}, {"ipv4": "peeringdb", "ipv6": None})
    assert got["2001:db8::1"] == ({"ipv4": None, "ipv6": 30}, {"ipv4": None, "ipv6": "floor"})
    assert [n["max_prefixes"] for n in intent["neighbors"]][2] == {"ipv4": 220, "ipv6": None}


def test_a_small_peeringdb_value_gets_the_floor_not_less():
    dummy, sources = resolve([{"address": "192.0.2.9", "asn": 65003}], headroom=50)
    assert sources[0]["max_prefixes"]["ipv4"] == 100  # 5 * 1.5 = 8, below the floor


def test_disagreements_are_read_from_the_router():
    gathered = FrrDriver().gather("limits", RUNNING)
    found = limits.disagreements(gathered, params(LIMITS_SPEC, dataset=DATASET))
    assert found == [
        {"neighbor": "192.0.2.1", "asn": 65001, "family": "ipv4", "configured": None, "peeringdb": 1000, "kind": "no_limit"},
        {"neighbor": "192.0.2.2", "asn": 65002, "family": "ipv4", "configured": 50, "peeringdb": 200,
         "kind": "below_peeringdb"},
    ]  # fmt: skip


# --------------------------------------------------------------------------------------- rendered


def test_rendered_needs_no_connection_options():
    result = run_config("rpki", params(RPKI_SPEC, state="rendered", caches=[{"address": "192.0.2.10"}]))
    assert result["changed"] is False
    assert result["rendered"].splitlines()[:3] == ["rpki", " rpki cache 192.0.2.10 3323 preference 1", "exit"]
    assert "route-map PEERWARDEN-RPKI deny 10\n match rpki invalid\n" in result["rendered"]


def test_frr_cannot_guard_says_so():
    from ansible_collections.peerwarden.bgp.plugins.module_utils.config.options import FILTER_SPEC

    with pytest.raises(ValueError, match="^platform frr cannot guard: "):
        run_config("guard", params(FILTER_SPEC, state="rendered", interfaces=["eth0"], peering_lans=["192.0.2.0/24"]))


# ------------------------------------------------------------------------------------ the FRR model


def rpki(**given):
    options = {"caches": [{"address": "192.0.2.10", "refresh": 300}], "valid": {"local_preference": 110}}
    options.update(given)
    return rpki_intent(options)


def test_rpki_plan_chains_into_the_old_route_map_and_covers_every_neighbour():
    lines, expect = FrrDriver().plan("rpki", rpki(), RUNNING, "present")
    text = "\n".join(lines)
    assert " rpki polling_period 300\n rpki cache 192.0.2.10 3323 preference 1" in text
    assert (
        "route-map PEERWARDEN-RPKI-IXP-IN permit 30\n match rpki valid\n set local-preference 110\n call IXP-IN" in text
    )
    assert "route-map PEERWARDEN-RPKI permit 30\n match rpki valid\n set local-preference 110\nexit" in text
    assert "  neighbor 192.0.2.1 route-map PEERWARDEN-RPKI-IXP-IN in" in text
    assert "  neighbor 192.0.2.2 route-map PEERWARDEN-RPKI in" in text
    assert text.index("route-map PEERWARDEN-RPKI-IXP-IN deny 10") < text.index("router bgp 65000")  # maps first
    assert expect == {"rtr_caches": [("192.0.2.10", 3323)], "refresh": [("ipv4", "192.0.2.1"), ("ipv4", "192.0.2.2")]}


def applied(running, lines):
    paths = frr.apply_ops(frr.parse(running), lines.ops)
    return frr.render_paths(paths)


def test_a_second_plan_on_the_result_changes_nothing():
    driver = FrrDriver()
    for feature, intent in (("rpki", rpki()), ("limits", limits.resolve(params(LIMITS_SPEC, neighbors=[
            {"address": "192.0.2.2", "max_prefixes": {"ipv4": 500}, "restart_minutes": 30}]))[0])):  # fmt: skip
        lines, dummy = driver.plan(feature, intent, RUNNING, "present")
        assert lines
        after = applied(RUNNING, lines)
        assert driver.plan(feature, intent, after, "present")[0] == []


def test_a_changed_limit_replaces_the_line_with_no_moment_without():
    intent = limits.resolve(params(LIMITS_SPEC, neighbors=[{"address": "192.0.2.2", "max_prefixes": {"ipv4": 500}}]))[0]
    lines, dummy = FrrDriver().plan("limits", intent, RUNNING, "present")
    assert "  neighbor 192.0.2.2 maximum-prefix 500 90" in lines
    assert not any("no neighbor 192.0.2.2 maximum-prefix" in line for line in lines)
    assert "neighbor 192.0.2.2 maximum-prefix 500 90" in applied(RUNNING, lines)
    assert "maximum-prefix 50\n" not in applied(RUNNING, lines)


def test_max_prefix_lines_are_written_as_frr_shows_them():
    line = frr._max_prefix_line
    assert line("x", 10, {"threshold": 75, "on_exceed": "teardown"}) == "neighbor x maximum-prefix 10"
    assert (
        line("x", 10, {"threshold": 80, "on_exceed": "teardown", "restart_minutes": 5})
        == "neighbor x maximum-prefix 10 80 restart 5"
    )
    assert line("x", 5, {"threshold": 90, "on_exceed": "warning"}) == "neighbor x maximum-prefix 5 90 warning-only"


def test_restore_ops_take_the_changed_config_back_exactly():
    lines, dummy = FrrDriver().plan("rpki", rpki(caches=[{"address": "192.0.2.10", "refresh": 30, "expire": 600}]),
                                    RUNNING, "present")  # fmt: skip
    changed = frr.apply_ops(frr.parse(RUNNING), lines.ops)
    ops = frr.inverse_ops(changed, frr.parse(RUNNING))
    assert sorted(frr.apply_ops(changed, ops)) == sorted(frr.parse(RUNNING))
    text = frr.script(ops)
    # the neighbour points back at its old map before ours are removed (never a moment at a missing map)
    assert text.index("  neighbor 192.0.2.1 route-map IXP-IN in") < text.index(
        "no route-map PEERWARDEN-RPKI-IXP-IN deny 10"
    )
    # FRR 8.4's `no rpki expire_interval` leaves 60 behind: the default is set instead, expire before polling
    assert " rpki expire_interval 7200" in text and " rpki polling_period 3600" in text


def test_gather_is_structured():
    gathered = FrrDriver().gather("rpki", RUNNING)
    assert gathered["caches"] == []
    assert gathered["neighbors"][0] == {
        "neighbor": "192.0.2.1", "group": False, "family": "ipv4", "route_map_in": "IXP-IN", "validates": False,
        "continues_into": None, "soft_reconfiguration": False,
    }  # fmt: skip
    assert FrrDriver().gather("limits", RUNNING)["neighbors"][1]["max_prefixes"] == {"ipv4": 50, "ipv6": None}


def test_an_unknown_neighbour_is_refused_in_the_plan():
    with pytest.raises(ValueError, match=r"neighbors: '192.0.2.77' is not a configured BGP neighbour"):
        FrrDriver().plan("rpki", rpki(neighbors=["192.0.2.77"]), RUNNING, "present")


def test_absent_puts_the_old_route_map_back():
    driver = FrrDriver()
    lines, dummy = driver.plan("rpki", rpki(), RUNNING, "present")
    after = applied(RUNNING, lines)
    lines, dummy = driver.plan("rpki", rpki(), after, "absent")
    removed = applied(after, lines)
    assert "neighbor 192.0.2.1 route-map IXP-IN in" in removed
    assert "PEERWARDEN" not in removed and "rpki cache" not in removed

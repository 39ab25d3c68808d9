"""Drive the Junos NETCONF double with ncclient's junos handler, as the config push will."""

from __future__ import annotations

import time

import pytest
from ncclient.operations.rpc import RPCError
from ncclient.xml_ import new_ele, to_ele

from lab.clients import netconf_connect as connect
from lab.clients import wait_until

pytestmark = pytest.mark.lab

BASE = [
    "set system host-name r1",
    "set routing-options autonomous-system 64500",
    "set protocols bgp group IXP-V4 type external",
    "set protocols bgp group IXP-V4 neighbor 192.0.2.1 peer-as 65001",
]

PUSH = [
    "set routing-options validation group RPKI session 192.0.2.10 port 3323",
    "set protocols bgp group IXP-V4 neighbor 192.0.2.2 peer-as 65002",
]


def test_hello_capabilities(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        caps = set(m.server_capabilities)
    assert ":candidate" in str(caps) or "urn:ietf:params:netconf:capability:candidate:1.0" in caps
    for uri in ("candidate", "confirmed-commit", "validate", "rollback-on-error"):
        assert f"urn:ietf:params:netconf:capability:{uri}:1.0" in caps


def test_safe_push_sequence(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=0.3)
    with connect(double) as m:
        m.lock(target="candidate")
        m.load_configuration(action="set", config=PUSH)
        diff = m.compare_configuration(rollback=0).xpath("//configuration-output")[0].text
        m.commit(check=True)
        m.commit(confirmed=True, timeout="120", comment="peerwarden push")
        summary = m.rpc(new_ele("get-bgp-summary-information"))
        sessions = m.rpc(new_ele("get-validation-session-information"))
        m.commit()
        m.unlock(target="candidate")
    assert diff == (
        "\n[edit routing-options]\n"
        "+   validation {\n"
        "+       group RPKI {\n"
        "+           session 192.0.2.10 {\n"
        "+               port 3323;\n"
        "+           }\n"
        "+       }\n"
        "+   }\n"
        "[edit protocols bgp group IXP-V4]\n"
        "+   neighbor 192.0.2.2 {\n"
        "+       peer-as 65002;\n"
        "+   }\n"
    )
    assert [p.text for p in summary.xpath("//bgp-peer/peer-address")] == ["192.0.2.1", "192.0.2.2"]
    assert [s.text for s in summary.xpath("//bgp-peer/peer-state")] == ["Established"] * 2
    assert [s.text for s in sessions.xpath("//rv-session/session-state")] == ["Up"]
    assert double.committed_set == BASE + PUSH
    assert double.device.events == ["commit peerwarden push", "confirmed 2", "commit", "confirmed by commit"]
    time.sleep(1.0)  # the cancelled timer does not fire
    assert double.committed_set == BASE + PUSH
    assert double.rpc_names == [
        "lock",
        "load-configuration",
        "get-configuration",
        "commit-configuration",
        "commit-configuration",
        "get-bgp-summary-information",
        "get-validation-session-information",
        "commit-configuration",
        "unlock",
        "close-session",
    ]
    assert "<confirm-timeout>2</confirm-timeout>" in double.rpcs[4]


def push_confirmed(double, m, minutes):
    """Lock, load PUSH and commit confirmed (rolled back after `minutes` unless confirmed): committed at once."""
    m.lock(target="candidate")
    m.load_configuration(action="set", config=PUSH)
    m.commit(confirmed=True, timeout=minutes)
    assert double.committed_set == BASE + PUSH


def test_unconfirmed_commit_rolls_back_by_itself(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=0.5)
    with connect(double) as m:
        push_confirmed(double, m, minutes="60")
        wait_until(lambda: "rolled back" in double.events, timeout=5)
        assert double.committed_set == BASE
        text = m.get_configuration(format="text").xpath("//configuration-text")[0].text
        assert "192.0.2.2" not in text
        m.unlock(target="candidate")


def test_get_configuration_text_set_xml_and_filter(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        text = m.get_configuration(format="text").xpath("//configuration-text")[0].text
        sets = m.get_configuration(format="set").xpath("//configuration-set")[0].text
        xml = m.get_configuration(
            format="xml", filter=to_ele("<configuration><protocols><bgp/></protocols></configuration>")
        )
        committed = m.rpc(to_ele('<get-configuration database="committed" format="set"/>'))
    assert text == (
        "\nsystem {\n    host-name r1;\n}\nrouting-options {\n    autonomous-system 64500;\n}\n"
        "protocols {\n    bgp {\n        group IXP-V4 {\n            type external;\n"
        "            neighbor 192.0.2.1 {\n                peer-as 65001;\n            }\n"
        "        }\n    }\n}\n"
    )
    assert sets.split("\n")[1:-1] == BASE
    assert xml.xpath("//group/name")[0].text == "IXP-V4"
    assert xml.xpath("//neighbor/peer-as")[0].text == "65001"
    assert not xml.xpath("//system")
    assert committed.xpath("//configuration-set")[0].text.split("\n")[1:-1] == BASE
    assert double.committed == text.lstrip("\n")


def test_load_text_and_xml_round_trip(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.lock(target="candidate")
        m.load_configuration(
            format="text",
            action="merge",
            config=("protocols { bgp { group IXP-V4 { neighbor 192.0.2.3 { peer-as 65003; } } } }"),
        )
        m.load_configuration(
            format="xml",
            action="merge",
            config=to_ele(
                "<policy-options><prefix-list><name>IXP-PEERS-V4</name>"
                "<prefix-list-item><name>192.0.2.1/32</name></prefix-list-item></prefix-list></policy-options>"
            ),
        )
        m.load_configuration(action="set", config=["delete protocols bgp group IXP-V4 neighbor 192.0.2.1"])
        m.commit()
        m.unlock(target="candidate")
    assert double.committed_set == [
        "set system host-name r1",
        "set routing-options autonomous-system 64500",
        "set protocols bgp group IXP-V4 type external",
        "set protocols bgp group IXP-V4 neighbor 192.0.2.3 peer-as 65003",
        "set policy-options prefix-list IXP-PEERS-V4 prefix-list-item 192.0.2.1/32",
    ]


def test_syntax_error_is_an_rpc_error(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.lock(target="candidate")
        with pytest.raises(RPCError) as error:
            m.load_configuration(action="set", config=["sett bogus"])
        assert "syntax error" in error.value.message
        assert error.value.severity == "error"
        m.discard_changes()
        m.unlock(target="candidate")
    assert double.committed_set == BASE


def test_commit_check_error(junos_netconf_double):
    double = junos_netconf_double(
        BASE,
        commit_error={
            "path": "[edit protocols bgp group IXP-V4]",
            "message": "Must define a peer-as for an external group",
        },
    )
    with connect(double) as m:
        m.lock(target="candidate")
        m.load_configuration(action="set", config=PUSH)
        with pytest.raises(RPCError, match="peer-as"):
            m.commit(check=True)
        with pytest.raises(RPCError):
            m.commit()
        m.discard_changes()
        m.unlock(target="candidate")
    assert double.committed_set == BASE


def test_lock_held_by_another_session(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as first, connect(double) as second:
        first.lock(target="candidate")
        with pytest.raises(RPCError) as error:
            second.lock(target="candidate")
        assert error.value.tag == "lock-denied"
        assert "configuration database locked by" in error.value.message
        first.unlock(target="candidate")
        second.lock(target="candidate")
        second.unlock(target="candidate")
    double.hold_lock(user="alice", pid=4711)
    with connect(double) as m, pytest.raises(RPCError, match="alice"):
        m.lock(target="candidate")
    double.release_lock()


def test_modified_shared_candidate_refuses_lock_and_private(junos_netconf_double):
    double = junos_netconf_double(BASE)
    double.modify_shared_candidate(["set system host-name other"])
    with connect(double) as m:
        with pytest.raises(RPCError, match="configuration database modified"):
            m.lock(target="candidate")
        with pytest.raises(RPCError, match="shared configuration database modified"):
            m.rpc(to_ele("<open-configuration><private/></open-configuration>"))


def test_private_candidate(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.rpc(to_ele("<open-configuration><private/></open-configuration>"))
        m.load_configuration(action="set", config=PUSH)
        assert double.candidate_set == BASE  # the shared candidate is untouched
        m.commit()
        m.rpc(new_ele("close-configuration"))
    assert double.committed_set == BASE + PUSH


def test_connection_dropped_at_a_chosen_rpc(junos_netconf_double):
    double = junos_netconf_double(BASE, drop_at_rpc="commit-configuration")
    m = connect(double)
    m.lock(target="candidate")
    m.load_configuration(action="set", config=PUSH)
    with pytest.raises(Exception):
        m.commit()
    assert double.dropped_at == "commit-configuration"
    assert double.committed_set == BASE
    # the dropped session's lock is gone and, as Junos does for a lock holder, its uncommitted changes with it
    wait_until(lambda: "uncommitted changes discarded" in double.events, timeout=5)
    assert double.candidate_set == BASE
    with connect(double) as again:
        again.lock(target="candidate")
        again.unlock(target="candidate")


def test_changes_made_under_the_lock_are_discarded_at_unlock(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.lock(target="candidate")
        m.load_configuration(action="set", config=PUSH)
        m.unlock(target="candidate")
    assert double.candidate_set == BASE and double.committed_set == BASE


def test_uncommitted_changes_without_the_lock_stay_in_the_shared_candidate(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.load_configuration(action="set", config=PUSH)  # plain `configure`: no lock, nothing discarded
    with connect(double) as again, pytest.raises(RPCError, match="configuration database modified"):
        again.lock(target="candidate")


def test_a_session_that_ends_with_a_confirmed_commit_pending_rolls_back_at_once(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=60)
    with connect(double) as m:
        push_confirmed(double, m, minutes="600")
    wait_until(lambda: "rolled back" in double.events, timeout=5)  # not after 10 "minutes": at the session's end
    assert double.committed_set == BASE
    assert double.events[-3:] == ["session ended with a confirmed commit pending", "commit", "rolled back"]


def test_a_private_copy_cannot_commit_confirmed_nor_commit_past_a_lock(junos_netconf_double):
    double = junos_netconf_double(BASE)
    with connect(double) as m:
        m.rpc(to_ele("<open-configuration><private/></open-configuration>"))
        m.load_configuration(action="set", config=PUSH)
        with pytest.raises(RPCError, match="cannot perform this commit operation on a private copy"):
            m.commit(confirmed=True, timeout="60")
        double.hold_lock(user="alice")
        with pytest.raises(RPCError, match="configuration database locked by"):
            m.commit()
        m.commit(check=True)  # a check commits nothing
        double.release_lock()
        m.commit()
        m.rpc(new_ele("close-configuration"))
    assert double.committed_set == BASE + PUSH


def test_compare_shows_a_changed_value_under_its_parent(junos_netconf_double):
    base = ["set protocols bgp group IXP-V4 import [ BOGONS PEER-IN ]"]
    double = junos_netconf_double(base)
    with connect(double) as m:
        m.lock(target="candidate")
        m.load_configuration(
            action="set",
            config=[
                "delete protocols bgp group IXP-V4 import",
                "set protocols bgp group IXP-V4 import [ RPKI BOGONS PEER-IN ]",
            ],
        )
        diff = m.compare_configuration(rollback=0).xpath("//configuration-output")[0].text
        m.unlock(target="candidate")
    assert diff == (
        "\n[edit protocols bgp group IXP-V4]\n-   import [ BOGONS PEER-IN ];\n+   import [ RPKI BOGONS PEER-IN ];\n"
    )


def test_rpc_replies_stand_in_for_the_generated_reply(junos_netconf_double):
    canned = "<bgp-information><peer-count>7</peer-count></bgp-information>\n"
    double = junos_netconf_double(BASE, rpc_replies={"get-bgp-summary-information": canned})
    with connect(double) as m:
        summary = m.rpc(new_ele("get-bgp-summary-information"))
        sessions = m.rpc(new_ele("get-validation-session-information"))
    assert summary.xpath("//peer-count")[0].text == "7"  # the double's own summary counts 1 peer
    assert sessions.xpath("//*[local-name()='rv-session-information']")  # not named: generated as before

"""The routers' configs before a push, one source for the push tests (tests/integration/test_push_junos.py,
test_push_ios.py) and the push fleet of bench/fleet_scan.py: JunOS as set commands, IOS as a running config,
both with an IXP peering LAN, BOGONS/PEER-IN import policies and neighbours 192.0.2.1 and 192.0.2.2.
The JunOS lines follow VENDOR.md §1a (see tests/unit/fixtures/junos/vendor_config.md), the IOS config the
IOS double's show running-config form (tests/lab/ios_config.py)."""

JUNOS_LINES = [
    "set system host-name {host}",
    "set routing-options autonomous-system 64500",
    "set interfaces et-0/0/0 unit 100 family inet address 192.0.2.254/24",
    "set interfaces et-0/0/0 unit 100 family inet6 address 2001:db8:100::254/64",
    "set policy-options policy-statement BOGONS term martians then reject",
    "set policy-options policy-statement PEER-IN term ok then accept",
    "set protocols bgp group IXP-V4 type external",
    "set protocols bgp group IXP-V4 import [ BOGONS PEER-IN ]",
    "set protocols bgp group IXP-V4 neighbor 192.0.2.1 peer-as 65001",
    "set protocols bgp group IXP-V4 neighbor 192.0.2.2 peer-as 65002",
    "set protocols bgp group IXP-V6 type external",
    "set protocols bgp group IXP-V6 family inet6 unicast",
    "set protocols bgp group IXP-V6 neighbor 2001:db8:100::1 peer-as 65001",
]

IOS_TEXT = """\
!
hostname {host}
!
archive
 path flash:archive/cfg
 maximum 14
!
interface GigabitEthernet0/0
 description IXP peering LAN
 ip address 192.0.2.254 255.255.255.0
!
router bgp 64500
 bgp router-id 192.0.2.254
 neighbor 192.0.2.1 remote-as 65001
 neighbor 192.0.2.2 remote-as 65002
 !
 address-family ipv4
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map PEER-IN in
  neighbor 192.0.2.2 activate
 exit-address-family
!
route-map PEER-IN permit 10
 set community 64500:100
!
end
"""


def junos_base(host="r1"):
    """The JunOS router's configuration as set commands."""
    return [line.format(host=host) for line in JUNOS_LINES]


def ios_base(host="r1"):
    """The IOS router's running config."""
    return IOS_TEXT.format(host=host)

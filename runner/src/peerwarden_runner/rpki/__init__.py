"""RPKI route origin validation: VRP table (RFC 6811), VRP JSON files, RTR client (RFC 8210/6810).

Submodules, one concern each:
  prefix           -- IntPrefix, a prefix as (version, int, length); int_prefix; covers / covered_by
  vrp              -- the Vrp tuple and its checks
  route_validity   -- valid / invalid / notfound
  vrp_table        -- VrpTable: the VRP set, validation, serial and change history
  vrp_diff         -- VrpDiff and "which routes does this change affect"
  vrp_prefix_map   -- VRPs by exact prefix (the truth the fast structures are built from)
  origin_summary   -- the packed per-cell summary that makes validation a few int operations
  summary_cells    -- where summaries live: a flat array (IPv4 /24s) or dicts (IPv6)
  summary_level    -- building and rebuilding one level of summaries
  family_lookup    -- what the IPv4 and IPv6 lookups share (changes, slow path)
  ipv4_lookup      -- IPv4 validation in one array read
  ipv6_lookup      -- IPv6 validation over a few levels
  gc_pause         -- keeping the cyclic GC out of bulk loads
  vrp_file         -- reading rpki-client / StayRTR / Routinator JSON
  vrp_file_watcher -- polling a VRP file and applying its changes
  rtr_pdu          -- RTR PDU encoding, framing and decoding (versions 0-2, the ASPA PDU of 8210bis-27)
  rtr_session      -- one RTR transport session with one cache
  rtr_client       -- caches by preference, timers, expiry, reconnects, version negotiation
  aspa             -- ASPA path verification (draft-ietf-sidrops-aspa-verification)
  aspa_file        -- reading rpki-client's ASPA JSON; aspa_file_watcher: polling it
  aspa_table       -- one source's ASPAs (an RTR cache's, a file's), changed in one step
  aspa_union       -- the ASPAs of several sources as one set, for the aspa stage
"""

from peerwarden_runner.rpki.prefix import (
    IntPrefix,
    covered_by,
    int_prefix,
    nlri_int_prefix,
    parse_prefix,
    prefix_covers,
)
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrClientState, RtrTimers
from peerwarden_runner.rpki.vrp import Vrp, make_vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff, affected_filter
from peerwarden_runner.rpki.vrp_file import VrpFileContents, VrpFileError, load_vrp_file, parse_vrp_json
from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher, watch_vrp_file
from peerwarden_runner.rpki.vrp_table import VrpTable

# bench/rpki_validate.py (outside runner/) still names the integer form by its old name
Prefix = IntPrefix

__all__ = [
    "IntPrefix",
    "RouteValidity",
    "RtrCache",
    "RtrClient",
    "RtrClientState",
    "RtrTimers",
    "Vrp",
    "VrpDiff",
    "VrpFileContents",
    "VrpFileError",
    "VrpFileWatcher",
    "VrpTable",
    "affected_filter",
    "int_prefix",
    "nlri_int_prefix",
    "covered_by",
    "load_vrp_file",
    "make_vrp",
    "parse_prefix",
    "parse_vrp_json",
    "prefix_covers",
    "watch_vrp_file",
]

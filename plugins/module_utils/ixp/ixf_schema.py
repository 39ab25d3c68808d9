# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IX-F Member Export JSON Schema 1.0 (euro-ix/json-schemas, ixp-member-list.schema.json,
commit 254afedef1c17413110ad655fce1e1947ab5af54) without its titles and descriptions, kept as
Python so that it travels with the module (module_utils cannot ship data files).

The schema spells out its IPv4 and IPv6 halves twice over (a LAN's prefix, a session's address),
identical but for the address format: here each is written once and made per family."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json


def _family(version, properties):
    """One family's object: `properties`, with the address field (`prefix` or `address`) of its format."""
    properties = copy.deepcopy(properties)
    for field in ("prefix", "address"):
        if field in properties:
            properties[field]["format"] = version
    return {"type": "object", "properties": properties}


LAN_FAMILY = json.loads(r"""
{
 "prefix": {
  "type": "string",
  "format": null
 },
 "mask_length": {
  "type": "integer"
 },
 "looking_glass_urls": {
  "type": "array",
  "items": {
   "type": "string",
   "format": "uri"
  }
 }
}
""")
SESSION_FAMILY = json.loads(r"""
{
 "address": {
  "type": "string",
  "format": null
 },
 "as_macro": {
  "type": "string"
 },
 "max_prefix": {
  "type": "integer"
 },
 "routeserver": {
  "type": "boolean"
 },
 "mac_addresses": {
  "type": "array",
  "items": {
   "type": "string"
  }
 },
 "services": {
  "type": "array",
  "items": {
   "type": "object",
   "properties": {
    "type": {
     "type": "string",
     "enum": [
      "ixroutecollector",
      "ixrouteserver"
     ]
    },
    "os": {
     "type": "string"
    },
    "os_version": {
     "type": "string"
    },
    "daemon": {
     "type": "string"
    },
    "daemon_version": {
     "type": "string"
    }
   }
  }
 }
}
""")
SCHEMA = json.loads(r"""
{
 "$schema": "http://json-schema.org/draft-04/schema#",
 "type": "object",
 "required": [
  "version",
  "timestamp",
  "ixp_list",
  "member_list"
 ],
 "properties": {
  "version": {
   "type": "string"
  },
  "timestamp": {
   "type": "string",
   "format": "date-time"
  },
  "ixp_list": {
   "type": "array",
   "items": {
    "type": "object",
    "required": [
     "ixf_id",
     "ixp_id",
     "shortname"
    ],
    "properties": {
     "ixp_id": {
      "type": "integer"
     },
     "shortname": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "url": {
      "type": "string",
      "format": "uri"
     },
     "stats_api": {
      "type": "string",
      "format": "uri"
     },
     "country": {
      "type": "string"
     },
     "ixf_id": {
      "type": "integer"
     },
     "peeringdb_id": {
      "type": "integer"
     },
     "support_email": {
      "type": "string",
      "format": "email"
     },
     "support_phone": {
      "type": "string"
     },
     "support_contact_hours": {
      "type": "string"
     },
     "emergency_email": {
      "type": "string",
      "format": "email"
     },
     "emergency_phone": {
      "type": "string"
     },
     "emergency_contact_hours": {
      "type": "string"
     },
     "billing_email": {
      "type": "string",
      "format": "email"
     },
     "billing_phone": {
      "type": "string"
     },
     "billing_contact_hours": {
      "type": "string"
     },
     "peering_policy_list": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "switch": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "integer"
        },
        "name": {
         "type": "string"
        },
        "colo": {
         "type": "string"
        },
        "pdb_facility_id": {
         "type": "integer"
        },
        "city": {
         "type": "string"
        },
        "country": {
         "type": "string"
        },
        "manufacturer": {
         "type": "string"
        },
        "model": {
         "type": "string"
        },
        "software": {
         "type": "string"
        }
       }
      }
     },
     "vlan": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "integer"
        },
        "name": {
         "type": "string"
        },
        "ipv4": {},
        "ipv6": {}
       }
      }
     }
    }
   }
  },
  "member_list": {
   "type": "array",
   "items": {
    "type": "object",
    "required": [
     "asnum",
     "connection_list"
    ],
    "properties": {
     "asnum": {
      "type": "integer"
     },
     "member_type": {
      "type": "string",
      "enum": [
       "peering",
       "ixp",
       "other"
      ]
     },
     "name": {
      "type": "string"
     },
     "url": {
      "type": "string",
      "format": "uri"
     },
     "peering_policy": {
      "type": "string"
     },
     "peering_policy_url": {
      "type": "string",
      "format": "uri"
     },
     "member_since": {
      "type": "string",
      "format": "date-time"
     },
     "contact_email": {
      "type": "array",
      "items": {
       "type": "string",
       "format": "email"
      }
     },
     "contact_phone": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "contact_hours": {
      "type": "string"
     },
     "connection_list": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "ixp_id"
       ],
       "properties": {
        "ixp_id": {
         "type": "integer"
        },
        "state": {
         "type": "string"
        },
        "connected_since": {
         "type": "string",
         "format": "date-time"
        },
        "if_list": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "switch_id": {
            "type": "integer"
           },
           "if_speed": {
            "type": "integer"
           },
           "if_type": {
            "type": "string"
           }
          }
         }
        },
        "vlan_list": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "vlan_id": {
            "type": "integer"
           },
           "ipv4": {},
           "ipv6": {}
          }
         }
        }
       }
      }
     }
    }
   }
  }
 }
}
""")
_PROPERTIES = SCHEMA["properties"]
for _family_properties, _template in (
        (_PROPERTIES["ixp_list"]["items"]["properties"]["vlan"]["items"]["properties"], LAN_FAMILY),
        (_PROPERTIES["member_list"]["items"]["properties"]["connection_list"]["items"]["properties"]["vlan_list"]
         ["items"]["properties"], SESSION_FAMILY)):
    for _version in ("ipv4", "ipv6"):
        _family_properties[_version] = _family(_version, _template)

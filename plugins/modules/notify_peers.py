#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: notify_peers
short_description: Email the networks that knock on TCP/179, once, and remember it
version_added: 0.1.0
description:
  - Takes the groups of P(peerwarden.bgp.resolve_peers#filter) and sends each network one message per
    run, to its peering contact, covering every exchange, router and address where it was seen.
  - Remembers in a store (SQLite by default, PostgreSQL with a DSN) what it sent to each network
    and exchange, and when. It does not write again within O(renotify_after) days unless new
    addresses appear. After O(max_notifications) it escalates once to O(escalate_to) or stops. A
    network that has not knocked for O(resolved_after) days is reported as resolved.
  - Nothing is lost and nothing is doubled. The message and its Message-ID are recorded before the
    server is contacted and marked sent after the server accepted it. A message whose send was not
    confirmed (a crash, a server that was down or said 4xx) is sent again on the next run, first,
    with the same Message-ID and bytes. A 5xx refusal is recorded and reported, and not retried.
  - Messages are plain text with an HTML alternative, rendered with Jinja2 in a sandbox. They carry
    a Message-ID, a Date, RFC 2047-encoded names and C(Auto-Submitted) V(auto-generated) (RFC 3834).
  - Run it once, on the controller (C(delegate_to) V(localhost) with C(run_once)).
author:
  - peerwarden contributors (@peerwarden)
attributes:
  check_mode:
    support: full
    description: Renders every message and reports what would be sent (the messages are in the diff); sends nothing and
      changes nothing in the store.
  diff_mode:
    support: full
    description: The messages that would be sent, in full.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (C(delegate_to) V(localhost), C(run_once)); it reaches the SMTP server and
      the notification store (SQLite file or PostgreSQL) from there.
extends_documentation_fragment:
  - peerwarden.bgp._attributes
options:
  peers:
    description: The output of P(peerwarden.bgp.resolve_peers#filter).
    type: list
    elements: dict
    required: true
  our:
    description: Who we are, for the message and its From.
    type: dict
    required: true
    suboptions:
      asn:
        description: Our AS number.
        type: int
        required: true
      name:
        description: Our network's name.
        type: str
        required: true
      contact:
        description: Our peering contact address; the default From.
        type: str
        required: true
      policy_url:
        description: Where our peering policy is.
        type: str
      how_to_reach:
        description: A sentence on how to request a session (a portal, PeeringDB, an address).
        type: str
  from:
    description: The From address. Default O(our.contact).
    type: str
  from_name:
    description: The display name of the From address. Default O(our.name).
    type: str
  reply_to:
    description: A Reply-To address.
    type: str
  cc:
    description: Addresses to copy, in the Cc header.
    type: list
    elements: str
    default: []
  bcc:
    description: Addresses to copy without showing them.
    type: list
    elements: str
    default: []
  redirect_to:
    description:
      - Test mode. Every message goes to this one address instead, and says in its first line and
        in C(X-Peerwarden-Original-To) whom it was meant for. Use it before switching on.
    type: str
  smtp:
    description: The mail server. Give this or O(outbox).
    type: dict
    suboptions:
      host:
        description: Server name or address.
        type: str
        required: true
      port:
        description: Port. Default 587 for V(starttls), 465 for V(tls), 25 for V(none).
        type: int
      security:
        description: V(starttls) upgrades a plain connection, V(tls) is TLS from the start, V(none) is plain (not recommended).
        type: str
        choices: [starttls, tls, none]
        default: starttls
      validate_certs:
        description: Verify the server's certificate.
        type: bool
        default: true
      ca_file:
        description: CA certificates to trust instead of the system's.
        type: path
      username:
        description: Login name.
        type: str
      password:
        description: Login password.
        type: str
      timeout:
        description: Seconds to wait for the server.
        type: int
        default: 30
  outbox:
    description: Write each message as an C(.eml) file into this directory instead of sending it (dry runs, the demo).
    type: path
  store:
    description:
      - An SQLite file, or a PostgreSQL DSN (V(postgresql://user@host/db)) for AWX, where every job starts in a
        fresh container.
      - A DSN may hold a password, so the value is never shown (C(no_log)); prefer a password in C(PGPASSWORD)
        or C(~/.pgpass), which psycopg reads, to one in the DSN.
    type: str
    default: ~/.local/share/peerwarden/notify.sqlite
  renotify_after:
    description: Days before the same network is written to again.
    type: int
    default: 30
  renotify_on_new_addresses:
    description: Write inside O(renotify_after) when the network knocks from addresses it was not told about.
    type: bool
    default: true
  max_notifications:
    description: How many messages a network gets before O(escalate_to) or silence.
    type: int
    default: 3
  escalate_to:
    description: A contact role (V(NOC), V(Technical), ...) to write to once after O(max_notifications); without it, stop.
    type: str
  suppress:
    description: ASNs (V(64500) or V(AS64500)) or addresses never to write to.
    type: list
    elements: str
    default: []
  max_per_run:
    description: Refuse to send more than this many messages in one run, a guard against a bad data day.
    type: int
    default: 20
  resolved_after:
    description: Days without a knock after which a network we wrote to is reported as resolved.
    type: int
    default: 14
  kinds:
    description:
      - Which kinds of findings are worth a message. V(md5_mismatch) (a configured neighbour with the
        wrong key) is left out by default; it is not a stranger to ask to stop.
    type: list
    elements: str
    choices: [unconfigured_neighbor, md5_unexpected, firewall_drop_bgp, peer_as_mismatch, md5_mismatch]
    default: [unconfigured_neighbor, md5_unexpected, firewall_drop_bgp, peer_as_mismatch]
  subject:
    description: A Jinja2 template for the subject (variables as for O(template)).
    type: str
  template:
    description:
      - A Jinja2 template for the plain text (the content, not a path; use the C(file) lookup).
        Variables are C(our), C(peer) (asn, name, exchanges, lans, contacts, contact_role, policy_general,
        policy_url, kinds, count, first_seen, last_seen, addresses with address, exchange, lan, kinds,
        count, first_seen, last_seen, routers), C(kinds), C(previous) (notifications, last_notified),
        C(reminder), C(escalation), C(escalation_role), C(renotify_after_days) and C(describe) (kind to text).
      - With a custom text template and no O(html_template), messages are plain text only.
    type: str
  html_template:
    description: A Jinja2 template for the HTML alternative (autoescaped), with the same variables.
    type: str
"""

EXAMPLES = r"""
- name: Tell the networks that knock
  peerwarden.bgp.notify_peers:
    peers: "{{ events | peerwarden.bgp.resolve_peers(ixp.dataset) }}"
    our:
      asn: 64511
      name: Small ISP
      contact: peering@small-isp.example
      policy_url: https://small-isp.example/peering
      how_to_reach: Request a session at https://small-isp.example/peering or reply to this message.
    smtp:
      host: mail.small-isp.example
      username: peerwarden
      password: "{{ vault_smtp_password }}"
    store: postgresql://peerwarden@db.small-isp.example/peerwarden
    escalate_to: NOC
  delegate_to: localhost
  run_once: true
  register: notified

- name: First weeks - everything to ourselves
  peerwarden.bgp.notify_peers:
    peers: "{{ peers }}"
    our: "{{ our }}"
    outbox: /var/lib/peerwarden/outbox
    redirect_to: noc@small-isp.example
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
sent:
  description: Messages sent (or that would be, in check mode), each with asn, name, to, message_id, subject, escalation, retry.
  returned: always
  type: list
  elements: dict
skipped_peers:
  description:
    - Networks not written to, each with its reason (suppressed, inside renotify window, no contact, over max_per_run, ...).
    - Not called C(skipped), which Ansible would read as the task's own status.
  returned: always
  type: list
  elements: dict
failed_messages:
  description:
    - Messages that failed, each with the reason and whether it is permanent (5xx, unsafe data) or will be retried.
    - Not called C(failed), which Ansible would read as the task's own status.
  returned: always
  type: list
  elements: dict
resolved:
  description: Networks written to that have gone quiet for O(resolved_after) days.
  returned: always
  type: list
  elements: dict
report:
  description: Counts and one readable line per network.
  returned: always
  type: dict
messages:
  description: Paths of the C(.eml) files written to O(outbox).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.render import TemplateProblem
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import DEFAULT_KINDS, run_notify

KIND_CHOICES = list(DEFAULT_KINDS) + ["md5_mismatch"]

ARGUMENT_SPEC = dict(
    peers=dict(type="list", elements="dict", required=True),
    our=dict(type="dict", required=True, options=dict(
        asn=dict(type="int", required=True), name=dict(type="str", required=True),
        contact=dict(type="str", required=True), policy_url=dict(type="str"), how_to_reach=dict(type="str"))),
    reply_to=dict(type="str"),
    cc=dict(type="list", elements="str", default=[]),
    bcc=dict(type="list", elements="str", default=[]),
    redirect_to=dict(type="str"),
    smtp=dict(type="dict", options=dict(
        host=dict(type="str", required=True), port=dict(type="int"),
        security=dict(type="str", choices=["starttls", "tls", "none"], default="starttls"),
        validate_certs=dict(type="bool", default=True), ca_file=dict(type="path"),
        username=dict(type="str"), password=dict(type="str", no_log=True), timeout=dict(type="int", default=30))),
    outbox=dict(type="path"),
    store=dict(type="str", default="~/.local/share/peerwarden/notify.sqlite", no_log=True),
    renotify_after=dict(type="int", default=30),
    renotify_on_new_addresses=dict(type="bool", default=True),
    max_notifications=dict(type="int", default=3),
    escalate_to=dict(type="str"),
    suppress=dict(type="list", elements="str", default=[]),
    max_per_run=dict(type="int", default=20),
    resolved_after=dict(type="int", default=14),
    kinds=dict(type="list", elements="str", choices=KIND_CHOICES, default=list(DEFAULT_KINDS)),
    subject=dict(type="str"),
    template=dict(type="str"),
    html_template=dict(type="str"),
    **{"from": dict(type="str"), "from_name": dict(type="str")}  # "from" is a Python keyword
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("smtp", "outbox")], required_one_of=[("smtp", "outbox")])
    try:
        result = run_notify(module.params, check_mode=module.check_mode)
    except (ValueError, TemplateProblem) as error:
        module.fail_json(msg=str(error))
    previews = result.pop("previews")
    changed = bool(result["sent"] or result["resolved"])
    if module._diff and previews:
        result["diff"] = {"before": "", "after": "\n\n".join(previews), "after_header": "messages to send"}
    fatal = result.pop("fatal")
    if fatal:
        module.fail_json(msg="delivery stopped: %s (unsent messages stay due for the next run)" % fatal,
                         changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()

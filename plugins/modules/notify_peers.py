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
    with the same Message-ID and bytes.
  - Our problems never silence the networks. Our From, Reply-To, Cc, Bcc and O(redirect_to) are
    checked like the recipients' addresses before anything is sent, and a bad one fails the task
    naming the option. A relay that refuses our sender at MAIL FROM, our login (AUTH), or every
    recipient of every message of a run stops the run, keeps every message due for the next run
    (same Message-IDs) and fails the task with what to fix; no network is marked refused.
  - A network's own refusal (its recipients refused with 5xx while the relay accepted other
    messages of the run, or its message refused at DATA) is recorded and not retried for
    O(renotify_after) days. O(retry_refused) tries such networks again now; O(action=forget)
    makes the store forget a network entirely; O(action=suppress) keeps a network quiet for good.
  - One run at a time. A run takes an advisory lock in the store (an C(flock) on the SQLite file's
    C(.lock) file beside it, or C(pg_try_advisory_lock) on PostgreSQL) and waits up to
    O(lock_timeout) seconds for another run to finish, so AWX slices cannot double-email.
  - Messages are plain text with an HTML alternative, rendered with Jinja2 in a sandbox. They carry
    a Message-ID, a Date, RFC 2047-encoded names and C(Auto-Submitted) V(auto-generated) (RFC 3834).
  - Run it once, on the controller (C(delegate_to) V(localhost) with C(run_once)).
author:
  - peerwarden contributors (@peerwarden)
attributes:
  check_mode:
    support: full
    description: Renders every message and reports WOULD SEND per message; sends nothing, opens no SMTP connection
      and changes nothing in the store (an SQLite store is read from an immutable copy; PostgreSQL is rolled back).
  diff_mode:
    support: full
    description: One diff per message that would be sent, its headers and decoded plain text (before empty).
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (C(delegate_to) V(localhost), C(run_once)); it reaches the SMTP server and
      the notification store (SQLite file or PostgreSQL) from there.
extends_documentation_fragment:
  - peerwarden.bgp._attributes
options:
  action:
    description:
      - V(notify) writes to the networks in O(peers).
      - V(suppress) records the O(asns) in the store as never to be written to (a network that asked us
        to stop); V(unsuppress) undoes it.
      - V(forget) deletes everything the store knows of the O(asns) (notifications, refusals, unsent
        messages), so they are treated as new; use it for a network refused by mistake.
    type: str
    choices: [notify, suppress, unsuppress, forget]
    default: notify
  asns:
    description: The AS numbers (V(64500) or V(AS64500)) for O(action=suppress), V(unsuppress) and V(forget).
    type: list
    elements: str
    default: []
  peers:
    description: The output of P(peerwarden.bgp.resolve_peers#filter). Required for O(action=notify).
    type: list
    elements: dict
  our:
    description: Who we are, for the message and its From. Required for O(action=notify).
    type: dict
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
        description: Our peering contact address; the default From. Checked like a recipient's address.
        type: str
        required: true
      routers:
        description:
          - "Our routers' addresses on the peering LANs, as V(address/prefix length) per router name
            (V({edge1: [192.0.2.1/24, 2001:db8:ffff::1/64]}))."
          - A knock's log line names our address for firewall drops; for the other kinds the message
            names the address of the router that is on the same LAN as the knocking address.
        type: dict
      policy_url:
        description: Where our peering policy is.
        type: str
      how_to_reach:
        description: A sentence on how to request a session (a portal, PeeringDB, an address).
        type: str
  from:
    description: The From address. Default O(our.contact). Checked like a recipient's address.
    type: str
  from_name:
    description: The display name of the From address. Default O(our.name).
    type: str
  reply_to:
    description: A Reply-To address. Checked like a recipient's address.
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
  retry_refused:
    description:
      - Write now to networks whose last message was refused for good (5xx), instead of waiting
        O(renotify_after) days; for refusals that were the relay's fault after all.
    type: bool
    default: false
  lock_timeout:
    description: Seconds to wait for another run's lock on the store before failing.
    type: int
    default: 300
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
        count, first_seen, last_seen, routers, our_addresses, peer_as, expected_as and stranger), C(kinds),
        C(strangers) (the addresses we have no session with), C(previous) (notifications, last_notified),
        C(reminder), C(escalation), C(escalation_role), C(renotify_after_days), C(describe) (kind to a short
        text) and C(explain) (kind to the paragraph of the default message).
      - The rendered text is hard-wrapped at 72 columns (a word longer than that, such as a URL, is kept whole).
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

- name: A network asked us to stop - never write to it again
  peerwarden.bgp.notify_peers:
    action: suppress
    asns: [AS64500]
    store: postgresql://peerwarden@db.small-isp.example/peerwarden
  delegate_to: localhost
  run_once: true

- name: Networks refused by mistake (a relay problem since fixed) - start them afresh
  peerwarden.bgp.notify_peers:
    action: forget
    asns: [64501, 64502]
  delegate_to: localhost
  run_once: true

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
  returned: when O(action=notify)
  type: list
  elements: dict
skipped_peers:
  description:
    - Networks not written to, each with its reason (suppressed, inside renotify window, no contact, over max_per_run, ...).
    - Not called C(skipped), which Ansible would read as the task's own status.
  returned: when O(action=notify)
  type: list
  elements: dict
failed_messages:
  description:
    - Messages that failed, each with the reason and whether it is permanent (5xx, unsafe data) or will be retried.
    - Not called C(failed), which Ansible would read as the task's own status.
  returned: when O(action=notify)
  type: list
  elements: dict
resolved:
  description: Networks written to that have gone quiet for O(resolved_after) days.
  returned: when O(action=notify)
  type: list
  elements: dict
report:
  description: Counts and one readable line per network.
  returned: when O(action=notify)
  type: dict
messages:
  description: Paths of the C(.eml) files written to O(outbox).
  returned: when O(action=notify)
  type: list
  elements: str
asns:
  description: For O(action=suppress), V(unsuppress) and V(forget), what was done per AS number.
  returned: when O(action) is not V(notify)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.render import TemplateProblem
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import DEFAULT_KINDS, run_notify, run_store_action

KIND_CHOICES = list(DEFAULT_KINDS) + ["md5_mismatch"]

ARGUMENT_SPEC = dict(
    action=dict(type="str", choices=["notify", "suppress", "unsuppress", "forget"], default="notify"),
    asns=dict(type="list", elements="str", default=[]),
    peers=dict(type="list", elements="dict"),
    our=dict(type="dict", options=dict(
        asn=dict(type="int", required=True), name=dict(type="str", required=True),
        contact=dict(type="str", required=True), policy_url=dict(type="str"), how_to_reach=dict(type="str"),
        routers=dict(type="dict"))),
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
    retry_refused=dict(type="bool", default=False),
    lock_timeout=dict(type="int", default=300),
    resolved_after=dict(type="int", default=14),
    kinds=dict(type="list", elements="str", choices=KIND_CHOICES, default=list(DEFAULT_KINDS)),
    subject=dict(type="str"),
    template=dict(type="str"),
    html_template=dict(type="str"),
    **{"from": dict(type="str"), "from_name": dict(type="str")}  # "from" is a Python keyword
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("smtp", "outbox")],
                           required_if=[("action", "notify", ("peers", "our")),
                                        ("action", "notify", ("smtp", "outbox"), True),
                                        ("action", "suppress", ("asns",)), ("action", "unsuppress", ("asns",)),
                                        ("action", "forget", ("asns",))])
    try:
        if module.params["action"] != "notify":
            module.exit_json(**run_store_action(module.params, check_mode=module.check_mode))
        result = run_notify(module.params, check_mode=module.check_mode)
    except (ValueError, TemplateProblem) as error:
        module.fail_json(msg=str(error))
    previews = result.pop("previews")
    changed = bool(result["sent"] or result["resolved"])
    if module._diff and previews:
        result["diff"] = [{"before": "", "after": preview["text"], "before_header": "(nothing sent)",
                           "after_header": "WOULD SEND %s" % preview["message_id"]} for preview in previews]
    fatal = result.pop("fatal")
    if fatal:
        module.fail_json(msg="delivery stopped: %s (unsent messages stay due for the next run)" % fatal,
                         changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()

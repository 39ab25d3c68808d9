# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rpki_config, prefix_limits and bgp_filter from options to result, the same for every platform.

    state rendered:  the intent -> the driver's lines; no device, no connection options needed
    state gathered:  read the running config (a check-mode session: nothing is changed) -> driver.gather
    state present / absent: config/apply.apply_change with the driver's plan

Every value is checked (config/intents.py, config/limits.py, and the driver's own rules through render())
before any router is touched. The modules never ask which OS it is: the registry's driver for
ansible_network_os must declare CONFIG, and does the rest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents, limits
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import APPLY_OPTIONS, apply_change
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.options import MODULES
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

INTENTS = {"rpki": intents.rpki_intent, "guard": intents.guard_intent}


def clean(value):
    """Ansible's None for every unset suboption dropped, so the intents' defaults apply."""
    if isinstance(value, dict):
        return dict((key, clean(item)) for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def intent_of(feature, options):
    """(intent, extra result): the checked intent of a feature."""
    if feature == "limits":
        intent, sources = limits.resolve(options)
        return intent, {"limits": sources}
    if feature == "guard" and options.get("state") in ("absent", "gathered"):
        options = dict(options, interfaces=options.get("interfaces") or ["-"],
                       peering_lans=options.get("peering_lans") or ["0.0.0.0/0"])
    return INTENTS[feature](options), {}


def run_config(feature, params, check_mode=False):
    """The module's result; ValueError (bad options, a platform that cannot), DeviceError or ApplyFailed."""
    options = clean(dict(params))
    state = options.get("state") or "present"
    driver = driver_for(options.get("platform"), CONFIG)
    intent, extra = intent_of(feature, options)
    if feature == "guard" and intent.get("log_group") is not None and "log_group" not in driver.guard_options:
        raise ValueError("log_group: %r: platform %s logs its drops its own way and takes no NFLOG group"
                         % (intent["log_group"], driver.name))
    if state in ("rendered", "present"):
        lines = list(driver.render(feature, intent))  # the platform's own rules, still with no device
        if state == "rendered":
            return dict(extra, changed=False, rendered="\n".join(lines) + "\n", commands=lines, platform=driver.name)
    device = Device(params)
    apply_options = dict((name, params.get(name)) for name in APPLY_OPTIONS)
    if state == "gathered":
        with driver.config(device, dict(apply_options, check_mode=True)) as session:
            running = session.running()
        gathered = driver.gather(feature, running)
        result = dict(changed=False, gathered=gathered, platform=driver.name)
        if feature == "limits":
            result["disagreements"] = limits.disagreements(gathered, options)
        return result
    found = {}

    def plan(running):
        if feature == "limits":
            found["disagreements"] = limits.disagreements(driver.gather(feature, running), options)
        return driver.plan(feature, intent, running, state)

    outcome = apply_change(driver, device, plan, apply_options, check_mode)
    result = dict(extra, changed=outcome["changed"], commands=outcome["commands"], steps=outcome["steps"],
                  platform=driver.name)
    if outcome["diff"]:
        result["diff"] = {"prepared": outcome["diff"]}
    if feature == "limits":
        result["disagreements"] = found.get("disagreements", [])
    return result


def run_module(module_class, name):
    """A config module's main (module_class is AnsibleModule): its MODULES spec checked, then run_config."""
    feature, argument_spec = MODULES[name]
    module = module_class(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = run_config(feature, module.params, check_mode=module.check_mode)
    except (ValueError, DeviceError, OSError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)

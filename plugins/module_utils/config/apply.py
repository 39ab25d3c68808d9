# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safe apply sequence, the same for every platform and every config module.

    open (connect, lock, checkpoint) -> running -> plan -> baseline -> load -> diff
    -> [check mode: stop here, nothing changed] -> commit (confirmed / revert timer)
    -> post_check -> confirm

The platform's ConfigSession makes each step; leaving the session without confirm() puts the router
back as it was (see platforms/base.py). A failure at any step raises ApplyFailed naming the step, the
router's words, and what the session did to leave the router as before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError

APPLY_OPTIONS = dict(
    confirm_timeout=dict(type="int", default=5),
    comment=dict(type="str"),
    lock_timeout=dict(type="int", default=60),
    post_check_wait=dict(type="int", default=60),
)


class ApplyFailed(DeviceError):
    """A change could not be made; .step says where, .restored what was done to go back."""

    def __init__(self, step, error, restored=None):
        self.step, self.error, self.restored = step, error, restored
        message = "failed at step %s: %s" % (step, error)
        if restored:
            message += " (%s)" % restored
        DeviceError.__init__(self, message)


class PostCheckFailed(DeviceError):
    """After the commit, the router did not look as it should; the change is not confirmed."""


def apply_change(driver, device, plan, options, check_mode):
    """Make the change that plan(running_text) -> (lines, expect) asks for, safely.

    Returns {"changed", "diff", "commands", "steps"}: commands are the lines loaded, steps the steps done.
    """
    steps = []
    step = "open"
    session = driver.config(device, dict(options, check_mode=check_mode))
    try:
        with session:
            steps.append(step)
            step = "running"
            running = session.running()
            steps.append(step)
            lines, expect = plan(running)
            if not lines:
                return dict(changed=False, diff="", commands=[], steps=steps)
            step = "baseline"
            baseline = session.baseline()
            steps.append(step)
            step = "load"
            session.load(lines)
            steps.append(step)
            step = "diff"
            diff = session.diff()
            steps.append(step)
            if not diff.strip():
                return dict(changed=False, diff="", commands=[], steps=steps)
            if check_mode:
                return dict(changed=True, diff=diff, commands=list(lines), steps=steps)
            step = "commit"
            session.commit(options.get("confirm_timeout") or 5, options.get("comment"))
            steps.append(step)
            step = "post_check"
            problems = session.post_check(baseline, expect)
            if problems:
                raise PostCheckFailed("; ".join(problems))
            steps.append(step)
            step = "confirm"
            session.confirm()
            steps.append(step)
            return dict(changed=True, diff=diff, commands=list(lines), steps=steps)
    except DeviceError as error:
        if isinstance(error, ApplyFailed):
            raise
        raise ApplyFailed(step, error, getattr(session, "restored", None))

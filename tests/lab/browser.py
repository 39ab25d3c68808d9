"""Headless Chromium, to see a page as a browser renders it.     Debian package: ``chromium``

``render(page, screenshot)`` loads a local HTML file and returns the DOM after rendering (scripts, if
the page had any, would have run), and saves a PNG screenshot.

Safety: Chromium is given no way off the machine: every host name resolves to nothing, every
request goes through a proxy on a closed loopback port, and its background services (updates,
metrics, safe browsing, sync) are off. Its profile lives in a temporary directory removed afterwards;
the process is run to completion (subprocess.run with a timeout, which kills it on expiry).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_FLAGS = [
    "--headless",
    "--no-sandbox",  # as root (make test runs as root) Chromium refuses its own sandbox
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--hide-scrollbars",
]


def require_chromium() -> str:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian package chromium; make system-packages installs it)")
    return CHROMIUM


def render(page: Path, screenshot: Path, width: int = 1280, height: int = 2400, timeout: float = 90) -> str:
    """The DOM of `page` as Chromium rendered it; a screenshot of the page saved to `screenshot`."""
    binary = require_chromium()
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="peerwarden-chromium-") as profile:
        common = [binary, *_FLAGS, "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height)]
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=False)
        if dom.returncode != 0 or "<html" not in dom.stdout:
            raise AssertionError("chromium --dump-dom failed (%d): %s" % (dom.returncode, dom.stderr[-2000:]))
        shot = subprocess.run(
            [*common, "--screenshot=" + str(screenshot), url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if shot.returncode != 0 or not Path(screenshot).exists():
            raise AssertionError("chromium --screenshot failed (%d): %s" % (shot.returncode, shot.stderr[-2000:]))
    return dom.stdout
